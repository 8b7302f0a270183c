/** plan.bans: members, protected addresses, the allowlist, the gateway's scope, durations and the scenario. */
import { banDurations, collapse, goDuration } from "../../plan/bans";
import { buildPlan } from "../../plan/build";
import { baseConfig, clusterConfig, withChange } from "../config/fixture";

const plan = buildPlan(
  withChange(baseConfig(), (c) => {
    c.bans = { allowlist: ["203.0.113.7", "192.168.100.0/25", "198.51.100.0/24"], repeat: { factor: 3, maxBanTime: "2h", window: "30d" }, banTime: "10m" };
  }),
  "test",
);
const b = plan.bans;

describe("plan.bans", () => {
  it("has the four members: agents everywhere (the VPN servers' also read the kernel's LR-IN lines), enforcement on vpn1, vpn2 (inet) and the host (bridge), not on services", () => {
    expect(b.members.map((m) => [m.name, m.sources, m.enforce ?? null, m.bouncer ?? null])).toEqual([
      ["vpn1", ["openvpn", "console", "kernel"], "inet", "fw-vpn1"],
      ["vpn2", ["openvpn", "console", "kernel"], "inet", "fw-vpn2"],
      ["host", ["sshd", "pvedaemon"], "bridge", "fw-host"],
      ["services", ["named"], null, null],
    ]);
    expect(b.lapi).toEqual({ ip: plan.services.mgmtIp, port: 8080, url: `https://${plan.services.mgmtIp}:8080/` });
  });

  it("in a cluster, every node is a member: the API node stays `host`, each other node `host-<node>` with its own agent and bridge bouncer, no public address", () => {
    const c = buildPlan(clusterConfig(), "test").bans;
    expect(c.members.map((m) => [m.name, m.mgmtIp, m.publicIp ?? null, m.enforce ?? null, m.machine, m.bouncer ?? null])).toEqual([
      ["vpn1", expect.any(String), expect.any(String), "inet", "vpn1", "fw-vpn1"],
      ["vpn2", expect.any(String), expect.any(String), "inet", "vpn2", "fw-vpn2"],
      ["host", "192.168.100.10", expect.any(String), "bridge", "host", "fw-host"],
      ["host-pve2", "192.168.100.20", null, "bridge", "host-pve2", "fw-host-pve2"],
      ["host-pve3", "192.168.100.30", null, "bridge", "host-pve3", "fw-host-pve3"],
      ["services", expect.any(String), expect.any(String), null, "services", null],
    ]);
    expect(c.members.find((m) => m.name === "host-pve2")?.sources).toEqual(["sshd", "pvedaemon"]);
  });

  it("protects the management network, every infrastructure address (public and management) and the pools' gateways", () => {
    const infra = [plan.servers[0], plan.servers[1], plan.host, plan.services].flatMap((m) => [`${m.publicIp}/32`, `${m.mgmtIp}/32`]);
    expect([...b.protected].sort()).toEqual([plan.mgmt.cidr, ...infra, "192.0.2.1/32", "198.51.100.1/32"].sort());
  });

  it("never bans protected ∪ allowlist, without entries another one covers (nft interval sets refuse overlaps)", () => {
    expect(b.allowlist).toEqual(["203.0.113.7/32", "192.168.100.0/25", "198.51.100.0/24"]);
    expect(b.neverBan).toEqual(["192.168.100.0/24", `${plan.servers[0].publicIp}/32`, `${plan.servers[1].publicIp}/32`, `${plan.host.publicIp}/32`, `${plan.services.publicIp}/32`, "192.0.2.1/32", "203.0.113.7/32", "198.51.100.0/24"]);
    for (const ip of [plan.host.mgmtIp, plan.servers[0].mgmtIp]) expect(b.neverBan).not.toContain(`${ip}/32`);
  });

  it("refuses tenant reports of every protected or allowlisted address, any pool address, tenant LANs and tunnels", () => {
    // Infra addresses and tenants sit in the pools, the tunnels in 10.0.0.0/8 (tenantPrivate): covered, so left out.
    expect(b.report?.scope).toEqual(["192.168.100.0/24", "203.0.113.7/32", "198.51.100.0/24", "192.0.2.0/24", "10.0.0.0/8"]);
    expect(b.report?.tenants).toEqual(plan.tenants.map((t) => ({ key: t.key, source: t.publicIp })));
    expect(b.report?.listen).toEqual({ ip: plan.services.publicIp, port: 8081 });
  });

  it("grows bans by the factor up to the cap, counted within the window; the LAPI keeps alerts for the longer of both", () => {
    expect(b.profile).toEqual({ durations: ["10m", "30m", "1h30m", "2h"], window: "720h", keepFor: "720h" });
  });

  it("sizes the OpenVPN bucket from retries and findTime: capacity retries−1, one leak per findTime/retries", () => {
    expect(b.scenario).toEqual({ capacity: 4, leakspeed: "2m", retries: 5, blackhole: "1m" });
  });

  it("without reports, there is no gateway", () => {
    const off = buildPlan(withChange(baseConfig(), (c) => { c.bans = { report: { enabled: false } }; }), "test");
    expect(off.bans.report).toBeUndefined();
  });
});

describe("ban helpers", () => {
  it("goDuration writes Go durations", () => {
    expect([0, 59, 60, 61, 3600, 3725, 86400].map(goDuration)).toEqual(["0s", "59s", "1m", "1m1s", "1h", "1h2m5s", "24h"]);
  });
  it("banDurations: factor 1 is one step; the cap ends the list", () => {
    expect(banDurations(600, 1, 86400)).toEqual([600]);
    expect(banDurations(600, 2, 3000)).toEqual([600, 1200, 2400, 3000]);
    expect(banDurations(600, 2, 600)).toEqual([600]);
  });
  it("collapse drops covered networks and duplicates, keeps the rest in order", () => {
    expect(collapse(["10.0.0.1/32", "10.0.0.0/8", "10.0.0.0/8", "192.0.2.0/25", "192.0.2.128/25"])).toEqual(["10.0.0.0/8", "192.0.2.0/25", "192.0.2.128/25"]);
  });
});
