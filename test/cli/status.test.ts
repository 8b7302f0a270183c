/**
 * `npm run status` as ops run it (`npx tsx cli/status.ts --via direct`), against fake exporters and a fake Prometheus
 * on loopback: the stack's management network is 127.0.0.0/24, so every machine has its own loopback address.
 * vpn2 listens nowhere (an unreachable server is a line, not a crash). The figures are what lr-metrics writes.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";

const ROOT = resolve(__dirname, "../..");
jest.setTimeout(60_000);

const BASE = 20000 + (process.pid % 20000);
const PORTS = { nodeExporter: BASE, prometheus: BASE + 1, alertmanager: BASE + 2 };
const CALM = { nodeExporter: BASE + 5, prometheus: BASE + 6, alertmanager: BASE + 7 };
const MGMT = { cidr: "127.0.0.0/24", hostIp: "127.0.0.10", vpnIps: ["127.0.0.11", "127.0.0.12"], servicesIp: "127.0.0.13" };
const T0 = 1_800_000_000;

const VPN1 = `# HELP lr_instance_up x
# TYPE lr_instance_up gauge
lr_instance_up{id="vpn1-udp",proto="udp"} 1
lr_instance_up{id="vpn1-tcp",proto="tcp"} 0
lr_instance_sessions{id="vpn1-udp",proto="udp"} 1
lr_instance_sessions{id="vpn1-tcp",proto="tcp"} 0
lr_instance_max_sessions{id="vpn1-udp",proto="udp"} 16381
lr_instance_max_sessions{id="vpn1-tcp",proto="tcp"} 16381
lr_tenant_connected{tenant="acme"} 1
lr_tenant_connected{tenant="beta"} 0
lr_tenant_connected{tenant="olda"} 0
lr_tenant_pinned{tenant="acme"} 1
lr_tenant_pinned{tenant="beta"} 0
lr_tenant_pinned{tenant="olda"} 0
lr_tenant_session_since_seconds{id="vpn1-udp",tenant="acme"} ${T0 - 600}
lr_tenant_received_bytes{id="vpn1-udp",tenant="acme"} 2048
lr_tenant_sent_bytes{id="vpn1-udp",tenant="acme"} 3145728
lr_tenant_last_refusal_timestamp_seconds{reason="wrong_hwid",tenant="acme"} ${T0 - 60}
lr_cert_expiry_timestamp_seconds{kind="ca",name="ca"} ${T0 + 3650 * 86400}
lr_cert_expiry_timestamp_seconds{kind="server",name="vpn1"} ${T0 + 400 * 86400}
lr_bans_in_force 3
lr_metrics_timestamp_seconds ${T0 - 4}
`;
const SERVICES = `lr_cert_expiry_timestamp_seconds{kind="tenant",name="acme",tenant="acme"} ${T0 + 20 * 86400}
lr_cert_expiry_timestamp_seconds{kind="tenant",name="beta",tenant="beta"} ${T0 + 300 * 86400}
node_memory_MemTotal_bytes 1e+09
`;
const ALERTS = {
  status: "success",
  data: {
    alerts: [
      { labels: { alertname: "LrInstanceDown", id: "vpn1-tcp", server: "vpn1", severity: "page" }, annotations: { summary: "OpenVPN instance vpn1-tcp on vpn1 is down" }, state: "firing", activeAt: "2027-01-15T08:00:00Z" },
      { labels: { alertname: "LrTenantCertExpiring", tenant: "acme", severity: "ticket" }, annotations: { summary: "acme's certificate" }, state: "pending" },
    ],
  },
};

let dir: string;
const servers: Server[] = [];

function serve(host: string, port: number, body: (path: string) => string | undefined): Promise<void> {
  const s = createServer((req, res) => {
    const b = body(req.url ?? "");
    res.writeHead(b === undefined ? 404 : 200, { "content-type": "text/plain" });
    res.end(b ?? "not found");
  });
  servers.push(s);
  return new Promise((r) => s.listen(port, host, () => r()));
}

function stackFile(name: string, extra: Record<string, unknown> = {}): void {
  const cfg = {
    profile: "minimal",
    proxmox: { endpoint: "https://127.0.0.10:8006/", node: "pve1" },
    network: { publicPools: [{ cidr: "192.0.2.0/24", gateway: "192.0.2.1" }], management: MGMT },
    tenants: { acme: { slot: 1 }, beta: { slot: 2 }, gamma: { slot: 3 } },
    monitoring: { ports: PORTS },
    ...extra,
  };
  writeFileSync(join(dir, `Pulumi.${name}.yaml`), stringify({ config: Object.fromEntries(Object.entries(cfg).map(([k, v]) => [`librerouter-hosting:${k}`, v])) }));
}

function status(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const p = spawn("npx", ["tsx", "cli/status.ts", "--dir", dir, "--via", "direct", "--timeout-ms", "2000", ...args], { cwd: ROOT });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("close", (code) => done({ code, out, err }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "lr-status-"));
  stackFile("lab");
  await serve("127.0.0.11", PORTS.nodeExporter, (p) => (p === "/metrics" ? VPN1 : undefined));
  await serve("127.0.0.13", PORTS.nodeExporter, (p) => (p === "/metrics" ? SERVICES : undefined));
  await serve("127.0.0.10", PORTS.nodeExporter, (p) => (p === "/metrics" ? "node_load1 0.5\n" : undefined));
  await serve("127.0.0.13", PORTS.prometheus, (p) => (p === "/api/v1/alerts" ? JSON.stringify(ALERTS) : undefined));
  // "calm": every machine answers and nothing fires.
  stackFile("calm", { monitoring: { ports: CALM } });
  const vpn2 = 'lr_tenant_connected{tenant="acme"} 0\nlr_tenant_connected{tenant="beta"} 0\nlr_instance_up{id="vpn2-udp",proto="udp"} 1\n';
  for (const [ip, body] of [["127.0.0.11", VPN1], ["127.0.0.12", vpn2], ["127.0.0.13", SERVICES], ["127.0.0.10", "node_load1 0.5\n"]]) await serve(ip, CALM.nodeExporter, (p) => (p === "/metrics" ? body : undefined));
  await serve("127.0.0.13", CALM.prometheus, (p) => (p === "/api/v1/alerts" ? JSON.stringify({ status: "success", data: { alerts: [] } }) : undefined));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

describe("npm run status", () => {
  it("json: every machine (vpn2 unreachable, reported), every tenant's state, certificates soonest first, alerts; exit 1", async () => {
    const r = await status("--stack", "lab", "--format", "json");
    expect([r.code, r.err]).toEqual([1, ""]);
    const j = JSON.parse(r.out);
    expect(j.servers.map((s: { server: string; reachable: boolean; error?: string }) => [s.server, s.reachable, s.error])).toEqual([
      ["vpn1", true, undefined],
      ["vpn2", false, "ECONNREFUSED"],
      ["services", true, undefined],
      ["pve1", true, undefined],
    ]);
    expect(j.servers[0]).toMatchObject({ bansInForce: 3, instances: [{ id: "vpn1-udp", up: true, sessions: 1, maxSessions: 16381 }, { id: "vpn1-tcp", up: false, sessions: 0, maxSessions: 16381 }] });
    // vpn2 did not answer: beta is not known to be offline, only not connected on vpn1; gamma is on no server we
    // could ask; olda is on vpn1 but no longer in the stack.
    expect(j.tenants).toEqual([
      { key: "acme", state: "connected", via: "vpn1-udp", since: T0 - 600, receivedBytes: 2048, sentBytes: 3145728, pinned: true, lastRefusal: { reason: "wrong_hwid", at: T0 - 60, server: "vpn1" }, certExpiry: T0 + 20 * 86400 },
      { key: "beta", state: "unknown", pinned: false, certExpiry: T0 + 300 * 86400 },
      { key: "gamma", state: "unknown" },
      { key: "olda", state: "extra", pinned: false },
    ]);
    expect(j.expiring.map((e: { kind: string; name: string }) => `${e.kind}/${e.name}`)).toEqual(["tenant/acme", "tenant/beta", "server/vpn1", "ca/ca"]);
    expect(j.alerts.firing.map((a: { labels: { alertname: string } }) => a.labels.alertname)).toEqual(["LrInstanceDown"]);
    expect(j.alerts.pending.map((a: { labels: { alertname: string } }) => a.labels.alertname)).toEqual(["LrTenantCertExpiring"]);
  });

  it("table: the machines, tenants, soonest expiries and the alert in words", async () => {
    const r = await status("--stack", "lab");
    expect(r.code).toBe(1);
    const lines = r.out.split("\n");
    expect(lines.find((l) => l.startsWith("vpn1 "))).toMatch(/^vpn1\s+vpn\s+127\.0\.0\.11:\d+\s+up\s+vpn1-udp up 1\/16381, vpn1-tcp DOWN 0\/16381\s+3\s+\d+s old$/);
    expect(lines.find((l) => l.startsWith("vpn2 "))).toMatch(/^vpn2\s+vpn\s+127\.0\.0\.12:\d+\s+UNREACHABLE: ECONNREFUSED/);
    expect(lines.find((l) => l.startsWith("acme "))).toMatch(/^acme\s+connected\s+vpn1-udp\s+2027-01-15 07:50:00Z\s+2\.0 KiB\s+3\.0 MiB\s+yes\s+wrong_hwid 2027-01-15 07:59:00Z on vpn1\s+2027-02-04 08:00:00Z$/);
    expect(r.out).toMatch(/\nLrInstanceDown\s+page\s+vpn1-tcp\s+2027-01-15T08:00:00Z\s+OpenVPN instance vpn1-tcp on vpn1 is down\n/);
  });

  it("every machine answering and nothing firing: exit 0; a tenant no server knows is absent, one known and not connected offline", async () => {
    const r = await status("--stack", "calm", "--format", "json");
    const j = JSON.parse(r.out);
    expect([r.code, j.tenants.map((t: { key: string; state: string }) => `${t.key} ${t.state}`)]).toEqual([0, ["acme connected", "beta offline", "gamma absent", "olda extra"]]);
    expect((await status("--stack", "calm")).out).toContain("\nalerts firing: none");
  });

  it("--tenant narrows the report to that tenant (its certificate, its alerts only)", async () => {
    const j = JSON.parse((await status("--stack", "lab", "--format", "json", "--tenant", "acme")).out);
    expect([j.tenants.map((t: { key: string }) => t.key), j.expiring.map((e: { name: string }) => e.name), j.alerts.firing, j.alerts.pending.length]).toEqual([["acme"], ["acme", "vpn1", "ca"], [], 1]);
  });

  it("an unknown tenant key: did-you-mean and the stack's tenants, exit 2, nothing fetched", async () => {
    const r = await status("--stack", "lab", "--tenant", "acm");
    expect([r.code, r.out, r.err.split("\n")[0]]).toEqual([2, "", '--tenant acm: stack lab has no tenant "acm" (did you mean "acme"?); its tenants: acme, beta, gamma']);
    expect((await status("--stack", "lab", "--tenant", "zzzzzz")).err.split("\n")[0]).toBe('--tenant zzzzzz: stack lab has no tenant "zzzzzz"; its tenants: acme, beta, gamma');
  });

  it("Prometheus down and a bad --via are reported in words", async () => {
    stackFile("noprom", { monitoring: { ports: { ...PORTS, prometheus: PORTS.prometheus + 10 } } });
    const r = await status("--stack", "noprom");
    expect(r.out).toContain("alerts: Prometheus UNREACHABLE: ECONNREFUSED");
    const bad = await status("--stack", "lab", "--via", "carrier-pigeon");
    expect([bad.code, bad.err.split("\n")[0]]).toEqual([2, '--via must be ssh or direct; got "carrier-pigeon"']);
  });
});
