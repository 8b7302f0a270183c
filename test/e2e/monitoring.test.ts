/**
 * The monitoring for real in throwaway network namespaces (root; nothing leaves the machine): vpn1 runs both rendered
 * OpenVPN instances (UDP as Debian's unit starts it, with `--status-version 2`), tenant acme connects through the
 * rendered bundle, lr-metrics reads the real status files and hook lines, Debian's node exporter serves them on
 * vpn1's management address, Prometheus and Alertmanager in the services namespace scrape and evaluate the rendered
 * rules. vpn2 and the host exist only in the plan: their exporters never answer (LrServerDown for vpn2). An instance
 * killed (LrInstanceDown pending, firing, resolved) is the lab's monitoring-alert check, run by test/e2e/lab.test.ts.
 *   client 192.0.2.50 ── pub0 vpn1 (192.0.2.3 | mgmt 192.168.100.11) mgmt0 ── services 192.168.100.13
 */
import { spawnSync } from "node:child_process";
import { X509Certificate, randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Sample, parseProm, select } from "../../lib/prom-text";
import { renderCcd } from "../../render/ccd";
import { renderClientBundle } from "../../render/client-bundle";
import { filterRules } from "../../render/dataplane";
import { renderAuthVerifyHook, renderConnectHook, renderDisconnectHook, renderTlsCryptV2VerifyHook } from "../../render/hooks";
import type { ServerLayout } from "../../render/layout";
import { openvpnFilePaths, renderServerConfig } from "../../render/openvpn-server";
import { certFingerprint, serverCommonName } from "../../render/pki-profile";
import { OPENVPN_USER, ensureServiceUser } from "../../render/service-user";
import { CLIENT_KEY_BYTES, SERVER_KEY_BYTES, clientKeyId, serverKeyFile, tenantClientKeyFile } from "../../render/tls-crypt-v2";
import { collectStatus } from "../../stack/status-collect";
import { statusTable } from "../../stack/status-table";
import { MonitoringSite, nsFetch } from "../../lab/monitoring";
import { Procs, type Proc, readLog, waitForLog } from "../../lab/procs";
import { twoTenantPlan } from "../render/openvpn/fixture";

const P = `mon${process.pid % 10000}`;
const NS = { c: `${P}-c`, v: `${P}-v1`, s: `${P}-s` };
const plan = twoTenantPlan({});
const [vpn1] = plan.servers;
const acme = plan.tenants[0];
const root = mkdtempSync(join(tmpdir(), "lr-mon-e2e-"));
const logs = join(root, "logs");
const pki = join(root, "pki");
const procs = new Procs();
const layout: ServerLayout = { openvpnDir: join(root, "openvpn"), runDir: join(root, "run"), stateDir: join(root, "state"), confDir: join(root, "conf"), systemdDir: join(root, "systemd"), networkLinkDir: join(root, "net"), ifupdownDir: join(root, "ifup"), ifaces: { public: "pub0", trunk: "trunk0", mgmt: "mgmt0" } };
const o = openvpnFilePaths(layout);
const instances = new Map<string, Proc>();
let site: MonitoringSite;

function sh(cmd: string[], input?: string): string {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", input });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
const inNs = (ns: string, ...cmd: string[]) => sh(["ip", "netns", "exec", ns, ...cmd]);
const pem = (f: string) => readFileSync(join(pki, f), "utf8");
const curl = (ns: string, url: string) => spawnSync("ip", ["netns", "exec", ns, "curl", "-sS", "-f", "--max-time", "2", url], { encoding: "utf8" });
const metrics = (): Sample[] => parseProm(curl(NS.s, `http://${vpn1.mgmtIp}:${site.mon.exporters[0].port}/metrics`).stdout);

/** EC P-256 CA, vpn1's server certificate, acme's client certificate (openssl CLI); tls-crypt-v2 keys as the program makes them. */
function makePki(): void {
  mkdirSync(pki);
  const ext = join(pki, "ext.cnf");
  writeFileSync(ext, "[srv]\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\n[cli]\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=clientAuth\n");
  const key = (n: string) => sh(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", join(pki, `${n}.key`)]);
  key("ca");
  sh(["openssl", "req", "-new", "-x509", "-key", join(pki, "ca.key"), "-subj", "/CN=e2e CA", "-days", "20", "-out", join(pki, "ca.crt"), "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"]);
  for (const [cn, kind, days] of [[serverCommonName("vpn1"), "srv", "10"], ["acme", "cli", "5"]]) {
    key(cn);
    const csr = sh(["openssl", "req", "-new", "-key", join(pki, `${cn}.key`), "-subj", `/CN=${cn}`]);
    sh(["openssl", "x509", "-req", "-CA", join(pki, "ca.crt"), "-CAkey", join(pki, "ca.key"), "-CAcreateserial", "-days", days, "-extfile", ext, "-extensions", kind, "-out", join(pki, `${cn}.crt`)], csr);
  }
  const tc2 = serverKeyFile(randomBytes(SERVER_KEY_BYTES).toString("hex"));
  writeFileSync(join(pki, "tc2-server.key"), tc2);
  const hex = randomBytes(CLIENT_KEY_BYTES).toString("hex");
  writeFileSync(join(pki, "acme.tc2"), tenantClientKeyFile(tc2, hex, "acme"));
  writeFileSync(join(pki, "acme.tc2id"), clientKeyId(hex));
}

/** vpn1's files where openvpnFilePaths says (both tenants applied; acme pinned by ops, coop-sur not). */
function installVpn1(): void {
  sh(["sh", "-c", ensureServiceUser()]);
  const uid = Number(sh(["id", "-u", OPENVPN_USER]).trim());
  const gid = Number(sh(["id", "-g", OPENVPN_USER]).trim());
  for (const d of [o.pkiDir, o.hooksDir, o.pinsDir, o.certPinsDir, o.tc2PinsDir, o.ccdDirs.udp, o.ccdDirs.tcp, layout.runDir, o.enrolledDir, layout.confDir, logs]) mkdirSync(d, { recursive: true });
  chownSync(o.enrolledDir, uid, gid);
  chmodSync(root, 0o755);
  writeFileSync(o.caCert, pem("ca.crt"));
  writeFileSync(o.serverCert, pem(`${serverCommonName("vpn1")}.crt`));
  writeFileSync(o.serverKey, pem(`${serverCommonName("vpn1")}.key`), { mode: 0o600 });
  writeFileSync(o.tlsCryptV2Key, pem("tc2-server.key"), { mode: 0o600 });
  for (const inst of vpn1.instances) {
    writeFileSync(o.configs[inst.proto], renderServerConfig(plan.stack, vpn1, inst, layout));
    for (const t of plan.tenants) writeFileSync(`${o.ccdDirs[inst.proto]}/${t.key}`, renderCcd(plan.stack, t, inst));
  }
  writeFileSync(`${o.pinsDir}/acme`, `${acme.hardwareId}\n`);
  writeFileSync(`${o.certPinsDir}/acme`, `${certFingerprint(pem("acme.crt"))}\n`);
  writeFileSync(`${o.tc2PinsDir}/acme`, `${pem("acme.tc2id")}\n`);
  writeFileSync(o.authVerifyHook, renderAuthVerifyHook(plan, vpn1, layout), { mode: 0o755 });
  writeFileSync(o.connectHook, renderConnectHook(plan.stack), { mode: 0o755 });
  writeFileSync(o.disconnectHook, renderDisconnectHook(plan.stack), { mode: 0o755 });
  writeFileSync(o.tlsCryptV2VerifyHook, renderTlsCryptV2VerifyHook(plan.stack, layout), { mode: 0o755 });
  writeFileSync(join(root, "acme.ovpn"), renderClientBundle(plan, acme, { caPem: pem("ca.crt"), certPem: pem("acme.crt"), keyPem: pem("acme.key"), tlsCryptV2Key: pem("acme.tc2") }), { mode: 0o600 });
}

function topology(): void {
  for (const ns of Object.values(NS)) sh(["ip", "netns", "add", ns]);
  sh(["ip", "link", "add", "c0", "netns", NS.c, "type", "veth", "peer", "name", "pub0", "netns", NS.v]);
  sh(["ip", "link", "add", "mgmt0", "netns", NS.v, "type", "veth", "peer", "name", "mgmt", "netns", NS.s]);
  const ip = (ns: string, ...a: string[]) => sh(["ip", "-n", ns, ...a]);
  for (const [ns, dev, addr] of [[NS.c, "c0", "192.0.2.50/24"], [NS.v, "pub0", `${vpn1.publicIp}/24`], [NS.v, "mgmt0", `${vpn1.mgmtIp}/${plan.mgmt.prefix}`], [NS.s, "mgmt", `${plan.services.mgmtIp}/${plan.mgmt.prefix}`]]) {
    ip(ns, "addr", "add", addr, "dev", dev);
    ip(ns, "link", "set", dev, "up");
  }
  for (const ns of Object.values(NS)) ip(ns, "link", "set", "lo", "up");
}

/** Starts an instance (the UDP one as Debian's unit does: its --status-version 2 before --config). */
async function startInstance(proto: "udp" | "tcp"): Promise<Proc> {
  const unit = proto === "udp" ? ["--status-version", "2"] : [];
  const p = await procs.start(`vpn1-${proto}`, NS.v, ["openvpn", "--machine-readable-output", ...unit, "--config", o.configs[proto]], join(logs, `vpn1-${proto}.log`), { ready: /Initialization Sequence Completed/ });
  instances.set(proto, p);
  return p;
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("test/e2e needs root (network namespaces, tun devices)");
  makePki();
  installVpn1();
  topology();
  await Promise.all([startInstance("udp"), startInstance("tcp")]);
  site = new MonitoringSite({
    plan,
    procs,
    dir: join(root, "monitoring"),
    logDir: logs,
    ns: { vpn1: NS.v, services: NS.s },
    layouts: { vpn1: layout, vpn2: layout },
    instanceLogs: { vpn1: vpn1.instances.map((i) => ({ path: join(logs, `${i.id}.log`), pid: () => instances.get(i.proto)?.pid ?? 0 })), vpn2: [] },
    tenantCerts: { acme: new Date(new X509Certificate(pem("acme.crt")).validTo).toISOString() },
  });
  site.setupLrMetrics("vpn1");
  await site.runLrMetrics("vpn1");
  await Promise.all([site.startExporter("vpn1"), site.startExporter("services")]);
  site.startLrMetricsLoop(site.everyMs());
  await site.startServer();
  await procs.start("client-acme", NS.c, ["openvpn", "--config", join(root, "acme.ovpn"), "--setenv", "UV_HWID", acme.hardwareId!], join(logs, "client-acme.log"), { ready: /Initialization Sequence Completed/, timeoutMs: 15_000 });
}, 120_000);

afterAll(async () => {
  site?.stop();
  await procs.stopAll(1000);
  for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "del", ns]);
  rmSync(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, f: () => T | undefined, ms: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(200);
  }
}
const v = (s: Sample[], name: string, m: Record<string, string> = {}) => select(s, name, m)[0]?.value;

describe("monitoring on a real OpenVPN server", () => {
  it("acme's session from the real status file (version 2): connected via vpn1-udp, since, bytes; instances up; pins", async () => {
    const s = await until("acme connected in vpn1's metrics", () => {
      const m = metrics();
      return v(m, "lr_tenant_connected", { tenant: "acme" }) === 1 ? m : undefined;
    }, 20_000);
    expect(select(s, "lr_instance_up").map((x) => [x.labels.id, x.value]).sort()).toEqual([["vpn1-tcp", 1], ["vpn1-udp", 1]]);
    expect([v(s, "lr_instance_sessions", { id: "vpn1-udp" }), v(s, "lr_instance_sessions", { id: "vpn1-tcp" })]).toEqual([1, 0]);
    const since = select(s, "lr_tenant_session_since_seconds", { tenant: "acme" })[0];
    expect(since.labels.id).toBe("vpn1-udp");
    expect(Math.abs(since.value - Date.now() / 1000)).toBeLessThan(60);
    expect(v(s, "lr_tenant_received_bytes", { tenant: "acme" })).toBeGreaterThan(0);
    expect(select(s, "lr_tenant_pinned").map((x) => [x.labels.tenant, x.value])).toEqual([["acme", 1], ["coop-sur", 0]]);
    expect(v(s, "lr_tenant_connected", { tenant: "coop-sur" })).toBe(0);
    expect(v(s, "lr_cert_expiry_timestamp_seconds", { kind: "ca" })).toBe(Date.parse(new X509Certificate(pem("ca.crt")).validTo) / 1000);
    // The rendered netdev exclusion: the server's own NICs and tuns are series, lo is not.
    expect([...new Set(select(s, "node_network_receive_bytes_total").map((x) => x.labels.device))].sort()).toEqual(["mgmt0", "pub0", "tun-tcp", "tun-udp"]);
  });

  it("the hook's decisions from the real log: acme's accept timed; a stolen bundle's refusals counted as wrong_hwid", async () => {
    const thief = await procs.start("client-thief", NS.c, ["openvpn", "--config", join(root, "acme.ovpn"), "--setenv", "UV_HWID", "0".repeat(64), "--connect-retry-max", "1"], join(logs, "client-thief.log"));
    await waitForLog(thief.log, /AUTH_FAILED/, 15_000);
    await procs.stop(thief);
    const s = await until("the refusal in vpn1's metrics", () => {
      const m = metrics();
      return (v(m, "lr_tenant_refusals_total", { tenant: "acme", reason: "wrong_hwid" }) ?? 0) >= 1 ? m : undefined;
    }, 15_000);
    expect(readLog(join(logs, "vpn1-udp.log"))).toContain("lr-auth: cn=acme REJECT: hwid does not match ops pin");
    expect(select(s, "lr_tenant_last_refusal_timestamp_seconds", { tenant: "acme" }).map((x) => x.labels.reason)).toEqual(["wrong_hwid"]);
    const count = v(s, "lr_hook_seconds_count") ?? 0;
    const sum = v(s, "lr_hook_seconds_sum") ?? NaN;
    expect(count).toBeGreaterThanOrEqual(2);
    // The relay stamps a hook line when it reads it (every 100 ms), as the journal stamps it when it arrives.
    expect(sum / count).toBeLessThan(1);
  });

  it("npm run status's report from the management network: acme via vpn1-udp, vpn2 and the host unreachable, reported", async () => {
    const r = await collectStatus(plan, site.mon, nsFetch(NS.s));
    expect(r.servers.map((x) => [x.server, x.reachable])).toEqual([["vpn1", true], ["vpn2", false], ["services", true], ["pve1", false]]);
    expect(r.tenants.find((t) => t.key === "acme")).toMatchObject({ state: "connected", via: "vpn1-udp", pinned: true });
    expect(r.expiring[0]).toMatchObject({ kind: "tenant", name: "acme" });
    expect(statusTable(r)).toMatch(/\nacme\s+connected\s+vpn1-udp\s/);
  });

  it("the exporter answers on the management network only: the public side and acme's tunnel are dropped by LR-IN (control: open without it)", async () => {
    const url = `http://${vpn1.mgmtIp}:${site.mon.exporters[0].port}/metrics`;
    inNs(NS.c, "ip", "route", "add", `${vpn1.mgmtIp}/32`, "via", vpn1.publicIp);
    // Control: Linux accepts a packet for any of its addresses on any interface: without the firewall, it opens.
    expect(curl(NS.c, url).status).toBe(0);
    sh(["ip", "netns", "exec", NS.v, "iptables-restore", "--noflush"], `${filterRules(plan, vpn1, layout).join("\n")}\n`);
    inNs(NS.v, "iptables", "-A", "INPUT", "-j", "LR-IN");
    expect(curl(NS.c, url).status).not.toBe(0);
    // Through the tunnel (a route to the management address over acme's tun).
    const tun = /^\d+: (\S+?)(?:@\S+)?:/m.exec(inNs(NS.c, "ip", "-o", "link", "show", "type", "tun"))?.[1] ?? "none";
    inNs(NS.c, "ip", "route", "replace", `${vpn1.mgmtIp}/32`, "dev", tun);
    expect(curl(NS.c, url).status).not.toBe(0);
    expect(curl(NS.c, `http://${plan.instances[0].gateway}:${site.mon.exporters[0].port}/metrics`).status).not.toBe(0);
    inNs(NS.c, "ip", "route", "del", `${vpn1.mgmtIp}/32`);
    expect(curl(NS.s, url).status).toBe(0);
  });

  it("vpn2 never answers: LrServerDown fires for it (and not for vpn1)", async () => {
    await site.waitForAlert("LrServerDown", { server: "vpn2" }, "firing", 60_000);
    expect((await site.alerts()).filter((a) => a.labels.alertname === "LrServerDown").map((a) => a.labels.server)).toEqual(["vpn2"]);
  });
});
