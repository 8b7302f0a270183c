/**
 * The rendered OpenVPN files run by the real openvpn 2.6 in throwaway network namespaces (root; nothing leaves
 * the machine): all four server configs start as the OpenVPN user without a config error, the client bundle parses
 * with no option ignored, and the hooks decide as designed when OpenVPN runs them. Topology:
 *   client 198.18.0.2 ── router (198.18.0.1 | 192.0.2.1, bridge) ── vpn1 192.0.2.3, vpn2 192.0.2.4
 * The full data plane (routing to the tenants' routers, VNC, isolation) is the lab's job (test/e2e/lab*).
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InstancePlan, ServerName } from "../../plan/types";
import { renderCcd } from "../../render/ccd";
import { CLIENT_BLOCK_IPV6, renderClientBundle } from "../../render/client-bundle";
import { renderAuthVerifyHook, renderConnectHook, renderDisconnectHook, renderTlsCryptV2VerifyHook } from "../../render/hooks";
import type { ServerLayout } from "../../render/layout";
import { openvpnFilePaths, renderServerConfig } from "../../render/openvpn-server";
import { enrolPeers } from "../../plan/enrolment";
import { enrolResponderPath, renderEnrolResponder, responderCommand } from "../../render/enrol-peer";
import { OPENVPN_USER, ensureServiceUser } from "../../render/service-user";
import { certFingerprint, serverCommonName } from "../../render/pki-profile";
import { CLIENT_KEY_BYTES, SERVER_KEY_BYTES, clientKeyId, serverKeyFile, tenantClientKeyFile } from "../../render/tls-crypt-v2";
import { twoTenantPlan } from "../render/openvpn/fixture";

const ID_COOP = "c".repeat(64);
const WRONG = "0".repeat(64);
const NS = { c: `ovp${process.pid % 10000}-c`, r: `ovp${process.pid % 10000}-r`, vpn1: `ovp${process.pid % 10000}-v1`, vpn2: `ovp${process.pid % 10000}-v2` };
const plan = twoTenantPlan({}); // no hostnames: the bundle dials the public IPs, which exist only in these namespaces
const root = mkdtempSync(join(tmpdir(), "lr-ovpn-e2e-"));
const procs: ChildProcess[] = [];

function sh(cmd: string[], input?: string): string {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", input });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
const inNs = (ns: string, ...cmd: string[]) => sh(["ip", "netns", "exec", ns, ...cmd]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (name: string) => (existsSync(join(root, `${name}.log`)) ? readFileSync(join(root, `${name}.log`), "utf8") : "");

/** Starts `openvpn args…` in `ns` with its output in `<root>/<name>.log`; `ip netns exec` execs, so the pid is openvpn's. */
function start(name: string, ns: string, args: string[]): ChildProcess {
  const fd = openSync(join(root, `${name}.log`), "w");
  const p = spawn("ip", ["netns", "exec", ns, "openvpn", ...args], { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  procs.push(p);
  return p;
}

/** Waits until the log of `name` matches `re` (returns ms), failing with the log's tail otherwise. */
async function waitFor(name: string, re: RegExp, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (re.test(log(name))) return Date.now() - t0;
    await sleep(50);
  }
  throw new Error(`${name}: no ${re} within ${timeoutMs} ms; log tail:\n${log(name).split("\n").slice(-15).join("\n")}`);
}

async function stop(p: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once("exit", r));
  p.kill(signal);
  await gone;
}

/** EC P-256 PKI with the production CNs and extended key usages (render/pki-profile.ts), via the openssl CLI. */
function makePki(dir: string): void {
  mkdirSync(dir);
  const ext = join(dir, "ext.cnf");
  writeFileSync(ext, "[srv]\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\n[cli]\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=clientAuth\n");
  const key = (n: string) => sh(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", join(dir, `${n}.key`)]);
  key("ca");
  sh(["openssl", "req", "-new", "-x509", "-key", join(dir, "ca.key"), "-subj", "/CN=e2e CA", "-days", "2", "-out", join(dir, "ca.crt"),
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"]);
  const certs: [string, string][] = [[serverCommonName("vpn1"), "srv"], [serverCommonName("vpn2"), "srv"], ["acme", "cli"], ["coop-sur", "cli"], ["stranger", "cli"]];
  // acme-old: an earlier certificate for acme (same CA, same CN, its own key), as before a re-issue.
  const files: [string, string, string][] = [...certs.map(([cn, kind]): [string, string, string] => [cn, cn, kind]), ["acme-old", "acme", "cli"]];
  for (const [file, cn, kind] of files) {
    key(file);
    const csr = sh(["openssl", "req", "-new", "-key", join(dir, `${file}.key`), "-subj", `/CN=${cn}`]);
    sh(["openssl", "x509", "-req", "-CA", join(dir, "ca.crt"), "-CAkey", join(dir, "ca.key"), "-CAcreateserial", "-days", "2", "-extfile", ext, "-extensions", kind, "-out", join(dir, `${file}.crt`)], csr);
  }
  // tls-crypt-v2: the server key and each tenant's client key from render/tls-crypt-v2.ts, as the program makes them.
  const tc2 = serverKeyFile(randomBytes(SERVER_KEY_BYTES).toString("hex"));
  writeFileSync(join(dir, "tc2-server.key"), tc2);
  for (const t of plan.tenants) {
    const hex = randomBytes(CLIENT_KEY_BYTES).toString("hex");
    writeFileSync(join(dir, `${t.key}.tc2`), tenantClientKeyFile(tc2, hex, t.key));
    writeFileSync(join(dir, `${t.key}.tc2id`), clientKeyId(hex));
  }
}

const pkiDir = join(root, "pki");
const pem = (f: string) => readFileSync(join(pkiDir, f), "utf8");

/** Installs one server's files exactly where openvpnFilePaths says, with the ownership the setup script must give them. */
function installServer(server: ServerName): ServerLayout {
  const base = join(root, server);
  const layout: ServerLayout = { openvpnDir: join(base, "openvpn"), runDir: join(base, "run"), stateDir: join(base, "state"), confDir: join(base, "conf"), systemdDir: join(base, "systemd"), networkLinkDir: join(base, "systemd-network"), ifupdownDir: join(base, "interfaces.d"), ifaces: { public: "pub0", trunk: "trunk0", mgmt: "mgmt0" } };
  const p = openvpnFilePaths(layout);
  for (const d of [p.pkiDir, p.hooksDir, p.pinsDir, p.certPinsDir, p.tc2PinsDir, p.ccdDirs.udp, p.ccdDirs.tcp, layout.runDir, p.enrolledDir]) mkdirSync(d, { recursive: true });
  chownSync(p.enrolledDir, svc.uid, svc.gid);
  chmodSync(p.enrolledDir, 0o700);
  writeFileSync(p.caCert, pem("ca.crt"));
  writeFileSync(p.serverCert, pem(`${serverCommonName(server)}.crt`));
  writeFileSync(p.serverKey, pem(`${serverCommonName(server)}.key`), { mode: 0o600 });
  writeFileSync(p.tlsCryptV2Key, pem("tc2-server.key"), { mode: 0o600 });
  const instances = plan.instances.filter((i) => i.server === server);
  for (const inst of instances) {
    writeFileSync(p.configs[inst.proto], renderServerConfig(plan.stack, plan.servers[server === "vpn1" ? 0 : 1], inst, layout));
    for (const t of plan.tenants) writeFileSync(`${p.ccdDirs[inst.proto]}/${t.key}`, renderCcd(plan.stack, t, inst));
  }
  for (const t of plan.tenants) if (t.hardwareId) writeFileSync(`${p.pinsDir}/${t.key}`, `${t.hardwareId}\n`);
  for (const t of plan.tenants) writeFileSync(`${p.certPinsDir}/${t.key}`, `${certFingerprint(pem(`${t.key}.crt`))}\n`);
  for (const t of plan.tenants) writeFileSync(`${p.tc2PinsDir}/${t.key}`, `${pem(`${t.key}.tc2id`)}\n`);
  const sp = plan.servers.find((x) => x.name === server)!;
  writeFileSync(p.authVerifyHook, renderAuthVerifyHook(plan, sp, layout), { mode: 0o755 });
  mkdirSync(layout.confDir, { recursive: true });
  writeFileSync(enrolResponderPath(layout), renderEnrolResponder(plan.stack, enrolPeers(plan, sp), layout), { mode: 0o755 });
  writeFileSync(p.connectHook, renderConnectHook(plan.stack), { mode: 0o755 });
  writeFileSync(p.disconnectHook, renderDisconnectHook(plan.stack), { mode: 0o755 });
  writeFileSync(p.tlsCryptV2VerifyHook, renderTlsCryptV2VerifyHook(plan.stack, layout), { mode: 0o755 });
  return layout;
}

function bundle(tenantKey: string, certName = tenantKey): string {
  const t = plan.tenants.find((x) => x.key === tenantKey)!;
  const file = join(root, `${certName}.ovpn`);
  writeFileSync(file, renderClientBundle(plan, t, { caPem: pem("ca.crt"), certPem: pem(`${certName}.crt`), keyPem: pem(`${certName}.key`), tlsCryptV2Key: pem(`${tenantKey}.tc2`) }), { mode: 0o600 });
  return file;
}

function topology(): void {
  for (const ns of Object.values(NS)) sh(["ip", "netns", "add", ns]);
  const link = (a: string, aNs: string, b: string, bNs: string) => {
    sh(["ip", "link", "add", a, "netns", aNs, "type", "veth", "peer", "name", b, "netns", bNs]);
  };
  link("c0", NS.c, "rc", NS.r);
  link("pub0", NS.vpn1, "r1", NS.r);
  link("pub0", NS.vpn2, "r2", NS.r);
  // The management network between the two servers (the enrolment responders talk over it).
  link("mgmt0", NS.vpn1, "mgmt0", NS.vpn2);
  const ip = (ns: string, ...a: string[]) => sh(["ip", "-n", ns, ...a]);
  for (const ns of Object.values(NS)) ip(ns, "link", "set", "lo", "up");
  ip(NS.c, "addr", "add", "198.18.0.2/24", "dev", "c0");
  ip(NS.c, "link", "set", "c0", "up");
  ip(NS.c, "route", "add", "default", "via", "198.18.0.1");
  ip(NS.r, "addr", "add", "198.18.0.1/24", "dev", "rc");
  ip(NS.r, "link", "set", "rc", "up");
  ip(NS.r, "link", "add", "br0", "type", "bridge");
  ip(NS.r, "addr", "add", "192.0.2.1/24", "dev", "br0");
  for (const d of ["r1", "r2"]) {
    ip(NS.r, "link", "set", d, "master", "br0");
    ip(NS.r, "link", "set", d, "up");
  }
  ip(NS.r, "link", "set", "br0", "up");
  inNs(NS.r, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
  for (const s of plan.servers) {
    ip(NS[s.name], "addr", "add", `${s.publicIp}/24`, "dev", "pub0");
    ip(NS[s.name], "link", "set", "pub0", "up");
    ip(NS[s.name], "route", "add", "default", "via", "192.0.2.1");
    ip(NS[s.name], "addr", "add", `${s.mgmtIp}/24`, "dev", "mgmt0");
    ip(NS[s.name], "link", "set", "mgmt0", "up");
  }
}

/** The OpenVPN account, created by the setup script's own lines. */
const svc = { uid: -1, gid: -1 };
function serviceUser(): void {
  sh(["sh", "-c", ensureServiceUser()]);
  svc.uid = Number(sh(["id", "-u", OPENVPN_USER]).trim());
  svc.gid = Number(sh(["id", "-g", OPENVPN_USER]).trim());
}

/** Each server's enrolment responder as its unit runs it (the listen command, as the OpenVPN user). */
function startResponders(): void {
  for (const s of plan.servers) {
    const fd = openSync(join(root, `enrol-${s.name}.log`), "w");
    const cmd = responderCommand(enrolPeers(plan, s), layouts.get(s.name)!);
    procs.push(spawn("ip", ["netns", "exec", NS[s.name], "setpriv", `--reuid=${OPENVPN_USER}`, `--regid=${OPENVPN_USER}`, "--init-groups", "--", ...cmd], { stdio: ["ignore", fd, fd] }));
    closeSync(fd);
  }
}

const servers = new Map<string, ChildProcess>();
const layouts = new Map<ServerName, ServerLayout>();
const instance = (id: string): InstancePlan => plan.instances.find((i) => i.id === id)!;
const CONNECTED = /Initialization Sequence Completed/;
const lastAddress = (name: string) => [...log(name).matchAll(/net_addr_v4_add: ([\d.]+)\//g)].map((m) => m[1]).pop();

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("test/e2e needs root (network namespaces, tun devices)");
  expect(plan.servers.map((s) => s.publicIp)).toEqual(["192.0.2.3", "192.0.2.4"]);
  makePki(pkiDir);
  chmodSync(root, 0o755); // the OpenVPN user (after its privilege drop) must reach the ccd dir and hooks
  serviceUser();
  for (const s of ["vpn1", "vpn2"] as const) layouts.set(s, installServer(s));
  topology();
  startResponders();
  for (const inst of plan.instances) {
    const conf = openvpnFilePaths(layouts.get(inst.server)!).configs[inst.proto];
    servers.set(inst.id, start(inst.id, NS[inst.server], ["--config", conf]));
  }
  await Promise.all(plan.instances.map((i) => waitFor(i.id, CONNECTED, 10_000)));
});

afterAll(async () => {
  await Promise.all(procs.map((p) => stop(p)));
  for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "del", ns]);
  rmSync(root, { recursive: true, force: true });
});

describe("rendered server configs under openvpn 2.6", () => {
  it.each(["vpn1-udp", "vpn1-tcp", "vpn2-udp", "vpn2-tcp"])("%s starts, binds its public IP, drops to the OpenVPN user, no option refused", (id) => {
    const text = log(id);
    const inst = instance(id);
    const ip = plan.servers.find((s) => s.name === inst.server)!.publicIp;
    expect(text).not.toMatch(/Options error|Unrecognized option|WARNING: .*ignored/);
    expect(text).toContain(`link local (bound): [AF_INET]${ip}:${inst.port}`);
    expect(text).toContain(`UID set to ${OPENVPN_USER}`);
    expect(text).toContain(`net_addr_v4_add: ${inst.gateway}/${inst.prefix} dev ${inst.dev}`);
  });
});

describe("rendered client bundle and hooks under openvpn 2.6", () => {
  let acme: ChildProcess;

  it("acme with its pinned ID connects over vpn1/UDP at its fixed IP; no option is ignored", async () => {
    acme = start("client-acme", NS.c, ["--config", bundle("acme"), "--setenv", "UV_HWID", plan.tenants[0].hardwareId!]);
    await waitFor("client-acme", CONNECTED, 10_000);
    expect(lastAddress("client-acme")).toBe(plan.tenants[0].tunnelIps["vpn1-udp"]);
    // Only the guarded Windows option may be reported as unknown; nothing may be "ignored by <connection> blocks".
    expect(log("client-acme").match(/Unrecognized option.*|.*ignored.*|Options error.*/g)).toEqual([
      expect.stringMatching(/^Unrecognized option or missing or extra parameter\(s\) in .*: block-outside-dns \(2\.6\.14\)$/),
    ]);
    expect(log("vpn1-udp")).toContain("lr-auth: cn=acme ACCEPT: hwid matches ops pin");
  });

  it("acme on a dual-stack network: block-ipv6 is active (the manual's recipe), no IPv6 packet leaves outside the tunnel", () => {
    expect(log("client-acme")).not.toMatch(/route installation may fail|WARNING.*ipv6/i);
    // The client's network has IPv6: an on-link /64 and a default route (what a dual-stack home network gives).
    inNs(NS.c, "ip", "-6", "addr", "add", "2001:db8:c::2/64", "dev", "c0", "nodad");
    inNs(NS.r, "ip", "-6", "addr", "add", "2001:db8:c::1/64", "dev", "rc", "nodad");
    inNs(NS.c, "ip", "-6", "route", "add", "default", "via", "2001:db8:c::1");
    const count = ["-t", "raw", "-I", "PREROUTING", "1", "-i", "rc", "-d", "2001:db8:ffff::1", "-j", "ACCEPT"];
    inNs(NS.r, "ip6tables", ...count);
    try {
      const tun = new RegExp(`^\\d+: (\\S+)\\s+inet6 ${CLIENT_BLOCK_IPV6.local} scope global`, "m").exec(inNs(NS.c, "ip", "-6", "-o", "addr", "show"))?.[1];
      expect(tun).toMatch(/^tun/);
      // Control: the on-link network is still reached outside the tunnel (IPv6 works there).
      expect(spawnSync("ip", ["netns", "exec", NS.c, "ping", "-6", "-n", "-c", "1", "-W", "2", "2001:db8:c::1"]).status).toBe(0);
      expect(inNs(NS.c, "ip", "-6", "route", "get", "2001:db8:ffff::1")).toMatch(new RegExp(` dev ${tun} `));
      const ping = spawnSync("ip", ["netns", "exec", NS.c, "ping", "-6", "-n", "-c", "1", "-W", "2", "2001:db8:ffff::1"], { encoding: "utf8" });
      // OpenVPN's own answer: block-ipv6 replies from the tun's remote IPv6 address.
      expect(ping.stdout).toContain(`From ${CLIENT_BLOCK_IPV6.remote} icmp_seq=1 Destination unreachable: No route`);
      const pkts = /^\s*(\d+)\s+\d+\s+ACCEPT/m.exec(inNs(NS.r, "ip6tables", "-t", "raw", "-L", "PREROUTING", "-v", "-n", "-x"))?.[1];
      expect(pkts).toBe("0");
    } finally {
      inNs(NS.r, "ip6tables", "-t", "raw", "-D", "PREROUTING", ...count.slice(5));
      inNs(NS.c, "ip", "-6", "route", "del", "default", "via", "2001:db8:c::1");
      inNs(NS.c, "ip", "-6", "addr", "del", "2001:db8:c::2/64", "dev", "c0");
      inNs(NS.r, "ip", "-6", "addr", "del", "2001:db8:c::1/64", "dev", "rc");
    }
  });

  it("a copy of acme's certificate with another ID is refused and the real session survives", async () => {
    start("client-thief", NS.c, ["--config", bundle("acme"), "--setenv", "UV_HWID", WRONG]);
    await waitFor("client-thief", /AUTH_FAILED/, 10_000);
    expect(lastAddress("client-thief")).toBeUndefined();
    expect(log("vpn1-udp")).toContain("lr-auth: cn=acme REJECT: hwid does not match ops pin");
    expect(log("vpn1-udp")).not.toContain("will cause previous active sessions by this client to be dropped");
    expect(log("client-acme").match(/Initialization Sequence Completed/g)).toHaveLength(1);
  });

  it("an earlier certificate for acme (same CA and CN) is refused by its fingerprint, and the real session survives", async () => {
    start("client-old-cert", NS.c, ["--config", bundle("acme", "acme-old"), "--setenv", "UV_HWID", plan.tenants[0].hardwareId!]);
    await waitFor("client-old-cert", /AUTH_FAILED/, 10_000);
    expect(lastAddress("client-old-cert")).toBeUndefined();
    expect(log("vpn1-udp")).toContain(`lr-auth: cn=acme REJECT: certificate sha256 ${certFingerprint(pem("acme-old.crt"))} is not the tenant's current one`);
    expect(log("client-acme").match(/Initialization Sequence Completed/g)).toHaveLength(1);
  });

  it("a certificate of the CA without a ccd file is refused", async () => {
    start("client-stranger", NS.c, ["--config", bundle("coop-sur", "stranger"), "--setenv", "UV_HWID", ID_COOP]);
    await waitFor("client-stranger", /AUTH_FAILED/, 10_000);
    expect(log("vpn1-udp")).toContain("lr-auth: cn=stranger REJECT: no ccd file: not a tenant");
    expect(existsSync(join(openvpnFilePaths(layouts.get("vpn1")!).enrolledDir, "stranger"))).toBe(false);
  });

  it("unpinned coop-sur enrols on first use for both servers (written by the OpenVPN user); with UDP dropped it falls back to vpn1/TCP-443", async () => {
    const enrolled = join(openvpnFilePaths(layouts.get("vpn1")!).enrolledDir, "coop-sur");
    inNs(NS.r, "iptables", "-A", "FORWARD", "-p", "udp", "--dport", "1194", "-j", "DROP");
    const coop = start("client-coop", NS.c, ["--config", bundle("coop-sur"), "--setenv", "UV_HWID", ID_COOP]);
    const ms = await waitFor("client-coop", CONNECTED, 30_000);
    inNs(NS.r, "iptables", "-D", "FORWARD", "-p", "udp", "--dport", "1194", "-j", "DROP");
    expect(lastAddress("client-coop")).toBe(plan.tenants[1].tunnelIps["vpn1-tcp"]);
    // Two UDP remotes at server-poll-timeout each, then TCP.
    expect(ms).toBeGreaterThan(2 * plan.servers[0].pollTimeout * 1000 - 1000);
    expect(readFileSync(enrolled, "utf8")).toBe(`${ID_COOP}\n`);
    expect(statSync(enrolled).uid).toBe(svc.uid);
    expect(readFileSync(join(openvpnFilePaths(layouts.get("vpn2")!).enrolledDir, "coop-sur"), "utf8")).toBe(`${ID_COOP}\n`);
    expect(log("vpn1-tcp")).toContain("lr-auth: cn=coop-sur ACCEPT: enrolled on first use (replica on vpn2)");
    await stop(coop, "SIGTERM");
    expect(log("vpn1-tcp")).toMatch(/lr-disconnect: cn=coop-sur tunnel=10\.255\.64\.3 /);
  });

  it("when vpn1/UDP shuts down, acme moves on to vpn2/UDP at once (explicit-exit-notify 2)", async () => {
    await stop(servers.get("vpn1-udp")!, "SIGTERM");
    const ms = await waitFor("client-acme", /(?:Initialization Sequence Completed[\s\S]*){2}/, 15_000);
    expect(lastAddress("client-acme")).toBe(plan.tenants[0].tunnelIps["vpn2-udp"]);
    expect(log("client-acme")).toContain("SIGUSR1[soft,server-pushed-connection-reset] received");
    expect(ms).toBeLessThan(8000);
    await stop(acme, "SIGTERM");
  });
});
