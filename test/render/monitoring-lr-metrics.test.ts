/**
 * lr-metrics.py for real (python3) on a scratch tree laid out as the rendered config says: ccd and pin files, an
 * OpenVPN status file in OpenVPN's format, log lines in `journalctl -o short-unix` form, a real certificate. Time is
 * pinned with LR_METRICS_NOW, so staleness is exact. (A status file written by a real openvpn: test/e2e/monitoring.)
 */
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseProm, type Sample, select } from "../../lib/prom-text";
import { lrMetricsConfig } from "../../render/monitoring/exporter";
import { PRODUCTION_MONITORING_PATHS } from "../../render/monitoring/paths";
import type { ServerLayout } from "../../render/layout";
import { PRODUCTION_SERVER_LAYOUT } from "../../render/layout";
import { openvpnFilePaths } from "../../render/openvpn-server";
import { monitored } from "./monitoring/fixture";

const SCRIPT = join(__dirname, "../../render/scripts/lr-metrics.py");
const { plan, mon } = monitored();
const vpn1 = plan.servers[0];

let root: string;
let layout: ServerLayout;
let cfgPath: string;
let logPath: string;
let caPem: string;

const stamp = (d: Date) => {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};
const since = new Date(2026, 11, 3, 7, 0, 0);

function statusFile(rows: string[]): string {
  return ["OpenVPN CLIENT LIST", `Updated,${stamp(new Date(2026, 11, 3, 8, 0, 0))}`, "Common Name,Real Address,Bytes Received,Bytes Sent,Connected Since", ...rows, "ROUTING TABLE", "Virtual Address,Common Name,Real Address,Last Ref", "GLOBAL STATS", "Max bcast/mcast queue length,0", "END", ""].join("\n");
}

/** A /proc with the given processes' command lines (pid → argv), and a first entry standing for other processes. */
function fakeProc(procs: Record<number, string[]>): string {
  const dir = mkdtempSync(join(root, "proc-"));
  for (const [pid, argv] of Object.entries({ 1: ["/sbin/init"], ...procs })) {
    mkdirSync(join(dir, pid));
    writeFileSync(join(dir, pid, "cmdline"), `${argv.join("\0")}\0`);
  }
  return dir;
}

/** One run at `now`; /proc is an empty fake unless `proc` is given (no openvpn runs: the status files decide). */
function run(now: number, proc = fakeProc({})): Sample[] {
  const r = spawnSync("python3", [SCRIPT, cfgPath], { encoding: "utf8", env: { ...process.env, LR_METRICS_NOW: String(now), LR_METRICS_PROC: proc } });
  expect([r.status, r.stderr]).toEqual([0, ""]);
  return parseProm(readFileSync(join(root, "textfile/lr-metrics.prom"), "utf8"));
}
const one = (s: Sample[], name: string, match: Record<string, string> = {}) => select(s, name, match).map((x) => x.value);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "lr-metrics-"));
  layout = { ...PRODUCTION_SERVER_LAYOUT, openvpnDir: join(root, "openvpn"), runDir: join(root, "run"), stateDir: join(root, "state") };
  const o = openvpnFilePaths(layout);
  for (const d of [o.ccdDirs.udp, o.ccdDirs.tcp, o.pinsDir, o.enrolledDir, o.pkiDir, layout.runDir, join(root, "textfile")]) mkdirSync(d, { recursive: true });
  for (const k of ["acme", "beta", "lr-vpn1", "Bad.Name"]) writeFileSync(join(o.ccdDirs.udp, k), "ifconfig-push 10.255.0.5 255.255.192.0\n");
  writeFileSync(join(o.ccdDirs.tcp, "gamma"), "ifconfig-push 10.255.64.7 255.255.192.0\n");
  writeFileSync(join(o.pinsDir, "acme"), `${"a".repeat(64)}\n`);
  writeFileSync(join(o.enrolledDir, "gamma"), `${"b".repeat(64)}\n`);
  // A removed tenant's session still in the file, and a handshake in progress (UNDEF): neither is a tenant.
  writeFileSync(o.statusFiles.udp, statusFile([`acme,192.0.2.10:50000,1234,5678,${stamp(since)}`, `ghost,192.0.2.11:50001,1,1,${stamp(since)}`, `UNDEF,192.0.2.12:50002,0,0,${stamp(since)}`]));
  const ca = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(root, "ca.key"), "-out", o.caCert, "-days", "10", "-subj", "/CN=test-ca"], { encoding: "utf8" });
  expect(ca.status).toBe(0);
  caPem = readFileSync(o.caCert, "utf8");
  logPath = join(root, "openvpn.log");
  writeFileSync(
    logPath,
    [
      "1000.100000 vpn1 openvpn[10]: 192.0.2.10:50000 peer info: IV_VER=2.6.14",
      "1000.350000 vpn1 openvpn[10]: lr-auth: cn=acme REJECT: hwid does not match ops pin",
      "1001.000000 vpn1 openvpn[11]: lr-tc2: cn=gone REJECT: no ccd file: not a tenant",
      "1002.000000 vpn1 openvpn[11]: 192.0.2.11:50001 peer info: IV_VER=2.6.14",
      "1002.050000 vpn1 openvpn[11]: lr-auth: cn=beta ACCEPT: enrolled on first use (replica on vpn2)",
      "1003.000000 vpn1 openvpn[10]: lr-auth: cn=acme REJECT: certificate sha256 00:11 is not the tenant's current one",
      "1004.000000 vpn1 openvpn[10]: 192.0.2.10:50000 peer info: IV_VER=2.6.14",
    ].join("\n") + "\n1004.5 vpn1 openvpn[10]: lr-auth: cn=acme REJ",
  );
  const cfg = JSON.parse(lrMetricsConfig(mon, vpn1, layout, { ...PRODUCTION_MONITORING_PATHS, textfileDir: join(root, "textfile"), lrMetricsState: join(root, "state/lr-metrics.json") }, { files: [logPath] }));
  cfgPath = join(root, "lr-metrics.json");
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, bans: null }));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("lr-metrics.py", () => {
  let mtime: number;
  let first: Sample[];
  beforeAll(() => {
    mtime = statSync(openvpnFilePaths(layout).statusFiles.udp).mtimeMs / 1000;
    first = run(mtime + 5);
  });

  it("instances: UDP up with its tenant session, TCP down (no status file); sessions count tenants only", () => {
    expect(select(first, "lr_instance_up").map((s) => [s.labels.id, s.value])).toEqual([["vpn1-udp", 1], ["vpn1-tcp", 0]]);
    expect(one(first, "lr_instance_sessions", { id: "vpn1-udp" })).toEqual([1]);
    expect(one(first, "lr_instance_max_sessions", { id: "vpn1-udp" })).toEqual([mon.instances[0].maxSessions]);
    expect(one(first, "lr_instance_status_age_seconds", { id: "vpn1-udp" })[0]).toBeCloseTo(5, 1);
  });

  it("tenants: every ccd name that is a tenant key, connected 0/1, pinned by ops or enrolment; the session's since and bytes", () => {
    expect(select(first, "lr_tenant_connected").map((s) => [s.labels.tenant, s.value])).toEqual([["acme", 1], ["beta", 0], ["gamma", 0]]);
    expect(select(first, "lr_tenant_pinned").map((s) => [s.labels.tenant, s.value])).toEqual([["acme", 1], ["beta", 0], ["gamma", 1]]);
    expect(select(first, "lr_tenant_session_since_seconds").map((s) => [s.labels, s.value])).toEqual([[{ tenant: "acme", id: "vpn1-udp" }, since.getTime() / 1000]]);
    expect([one(first, "lr_tenant_received_bytes"), one(first, "lr_tenant_sent_bytes")]).toEqual([[1234], [5678]]);
  });

  it("refusals by reason, per tenant only for tenants (an unknown name is counted without its label); the last reason", () => {
    expect(select(first, "lr_tenant_refusals_total").map((s) => [s.labels.tenant, s.labels.reason, s.value])).toEqual([["acme", "revoked_cert", 1], ["acme", "wrong_hwid", 1]]);
    // Every tenant's total from 0 (the alert's counter: its first refusal counts).
    expect(select(first, "lr_tenant_refused_total").map((s) => [s.labels.tenant, s.value])).toEqual([["acme", 2], ["beta", 0], ["gamma", 0]]);
    expect(select(first, "lr_refusals_total").map((s) => [s.labels.reason, s.value])).toEqual([["revoked_cert", 1], ["unknown_cert", 1], ["wrong_hwid", 1]]);
    expect(select(first, "lr_tenant_last_refusal_timestamp_seconds").map((s) => [s.labels, s.value])).toEqual([[{ tenant: "acme", reason: "revoked_cert" }, 1003]]);
  });

  it("hook latency: peer info to the hook's decision, per OpenVPN process", () => {
    expect(one(first, "lr_hook_seconds_count")).toEqual([2]);
    expect(one(first, "lr_hook_seconds_sum")[0]).toBeCloseTo(0.3, 6);
    expect(one(first, "lr_hook_last_seconds")[0]).toBeCloseTo(0.05, 6);
  });

  it("the CA's end as openssl reads it; no server certificate, no series", () => {
    const end = Date.parse(new X509Certificate(caPem).validTo) / 1000;
    expect(select(first, "lr_cert_expiry_timestamp_seconds").map((s) => [s.labels, s.value])).toEqual([[{ kind: "ca", name: "ca" }, end]]);
  });

  it("a second run counts only new lines (the half line, once complete); a stale status file is a down instance", () => {
    appendFileSync(logPath, "ECT: hwid does not match ops pin\n1010.0 vpn1 openvpn[12]: lr-tc2: cn=acme REJECT: tls-crypt-v2 key 0011223344556677 is not the tenant's current one\n");
    const second = run(mtime + 10);
    expect(select(second, "lr_tenant_refusals_total").map((s) => [s.labels.reason, s.value])).toEqual([["revoked_cert", 1], ["revoked_key", 1], ["wrong_hwid", 2]]);
    expect(one(second, "lr_hook_seconds_count")).toEqual([3]);
    const later = run(mtime + 2 * 10 + 3);
    expect([one(later, "lr_instance_up", { id: "vpn1-udp" }), one(later, "lr_instance_sessions", { id: "vpn1-udp" }), one(later, "lr_tenant_connected", { tenant: "acme" })]).toEqual([[0], [0], [0]]);
    expect(one(later, "lr_tenant_refusals_total", { reason: "wrong_hwid" })).toEqual([2]);
    expect(one(later, "lr_metrics_timestamp_seconds")).toEqual([Math.floor(mtime + 23)]);
  });

  it("a removed tenant (no ccd file) is gone from every figure", () => {
    const o = openvpnFilePaths(layout);
    rmSync(join(o.ccdDirs.udp, "acme"));
    const after = run(mtime + 5);
    expect(parseProm(readFileSync(join(root, "textfile/lr-metrics.prom"), "utf8")).filter((s) => s.labels.tenant === "acme")).toEqual([]);
    expect(one(after, "lr_instance_sessions", { id: "vpn1-udp" })).toEqual([0]);
  });
  it("a version 2 status file (Debian's unit adds --status-version 2): columns by header, since from time_t", () => {
    const o = openvpnFilePaths(layout);
    writeFileSync(
      o.statusFiles.tcp,
      [
        "TITLE,OpenVPN 2.6.14 x86_64-pc-linux-gnu",
        "TIME,2026-12-03 08:00:00,1764748800",
        "HEADER,CLIENT_LIST,Common Name,Real Address,Virtual Address,Virtual IPv6 Address,Bytes Received,Bytes Sent,Connected Since,Connected Since (time_t),Username,Client ID,Peer ID,Data Channel Cipher",
        "CLIENT_LIST,gamma,192.0.2.20:40000,10.255.64.7,,300,400,2026-12-03 07:59:00,1764748740,UNDEF,3,0,AES-256-GCM",
        "CLIENT_LIST,UNDEF,192.0.2.21:40001,,,0,0,2026-12-03 07:59:30,1764748770,UNDEF,4,1,none",
        "HEADER,ROUTING_TABLE,Virtual Address,Common Name,Real Address,Last Ref,Last Ref (time_t)",
        "ROUTING_TABLE,10.255.64.7,gamma,192.0.2.20:40000,2026-12-03 07:59:59,1764748799",
        "GLOBAL_STATS,Max bcast/mcast queue length,0",
        "END",
        "",
      ].join("\n"),
    );
    const now = statSync(o.statusFiles.tcp).mtimeMs / 1000 + 1;
    const s = run(now);
    expect([one(s, "lr_instance_up", { id: "vpn1-tcp" }), one(s, "lr_instance_sessions", { id: "vpn1-tcp" })]).toEqual([[1], [1]]);
    expect(select(s, "lr_tenant_session_since_seconds").map((x) => [x.labels, x.value])).toEqual([[{ tenant: "gamma", id: "vpn1-tcp" }, 1764748740]]);
    expect([one(s, "lr_tenant_received_bytes", { tenant: "gamma" }), one(s, "lr_tenant_sent_bytes", { tenant: "gamma" })]).toEqual([[300], [400]]);
  });

  it("a SIGKILLed instance is down at once: its status file is still fresh, but no openvpn process runs its config", () => {
    const o = openvpnFilePaths(layout);
    writeFileSync(o.statusFiles.udp, readFileSync(o.statusFiles.udp)); // both status files fresh
    const fresh = Math.max(statSync(o.statusFiles.tcp).mtimeMs, statSync(o.statusFiles.udp).mtimeMs) / 1000 + 1;
    const up = (s: Sample[]) => select(s, "lr_instance_up").map((x) => [x.labels.id, x.value]);
    // Both running, one as Debian's unit starts it (relative --config in /etc/openvpn/server), one by its full path.
    const both = run(fresh, fakeProc({ 10: ["/usr/sbin/openvpn", "--status", "/run/x", "--config", "udp.conf"], 11: ["openvpn", "--config", o.configs.tcp] }));
    expect(up(both)).toEqual([["vpn1-udp", 1], ["vpn1-tcp", 1]]);
    expect(select(both, "lr_instance_process_up").map((x) => [x.labels.id, x.value])).toEqual([["vpn1-udp", 1], ["vpn1-tcp", 1]]);
    // vpn1-tcp killed: down although its status file is 1 s old; its sessions gone with it.
    const killed = run(fresh, fakeProc({ 10: ["/usr/sbin/openvpn", "--config", "udp.conf"] }));
    expect(up(killed)).toEqual([["vpn1-udp", 1], ["vpn1-tcp", 0]]);
    expect(one(killed, "lr_instance_sessions", { id: "vpn1-tcp" })).toEqual([0]);
    // Another server's openvpn (an absolute path elsewhere) is not this instance.
    expect(up(run(fresh, fakeProc({ 10: ["/usr/sbin/openvpn", "--config", "udp.conf"], 12: ["openvpn", "--config", "/srv/vpn2/tcp.conf"] })))).toEqual([["vpn1-udp", 1], ["vpn1-tcp", 0]]);
    // No instance of this server visible (both dead, or a scan that does not work here): the status files decide.
    expect(up(run(fresh, fakeProc({ 12: ["openvpn", "--config", "/srv/vpn2/tcp.conf"] })))).toEqual([["vpn1-udp", 1], ["vpn1-tcp", 1]]);
    expect(select(run(fresh), "lr_instance_process_up")).toEqual([]);
  });
  it("journal source (production): the first run reads the last 10 minutes, later runs only after the cursor journalctl printed", () => {
    const bin = join(root, "bin");
    mkdirSync(bin, { recursive: true });
    const calls = join(root, "journalctl-calls");
    // A stand-in journalctl: records its arguments, prints one refusal of gamma and its cursor.
    writeFileSync(join(bin, "journalctl"), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${calls}\nprintf '%s\\n' '2000.5 vpn1 openvpn[20]: lr-auth: cn=gamma REJECT: hwid does not match enrolled pin' '-- cursor: s=abc;i=1'\n`, { mode: 0o755 });
    const cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
    const jpath = join(root, "lr-metrics-journal.json");
    writeFileSync(jpath, JSON.stringify({ ...cfg, state: join(root, "state/journal-state.json"), log: { journal: ["openvpn-server@udp.service", "openvpn-server@tcp.service"] } }));
    const runJ = () => spawnSync("python3", [SCRIPT, jpath], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(runJ().status).toBe(0);
    expect(runJ().status).toBe(0);
    const [first, second] = readFileSync(calls, "utf8").trim().split("\n");
    expect(first).toBe("-o short-unix --no-pager --show-cursor -q -u openvpn-server@udp.service -u openvpn-server@tcp.service --since -600s");
    expect(second).toBe("-o short-unix --no-pager --show-cursor -q -u openvpn-server@udp.service -u openvpn-server@tcp.service --after-cursor s=abc;i=1");
    const s = parseProm(readFileSync(join(root, "textfile/lr-metrics.prom"), "utf8"));
    expect(one(s, "lr_tenant_refusals_total", { tenant: "gamma", reason: "wrong_hwid" })).toEqual([2]);
  });
});
