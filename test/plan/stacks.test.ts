/** The three committed stacks build, with exact tenant counts and exact allocations for chosen tenants.
 * Expected values are worked out by hand from the per-slot rules (slot s: VMID vmidBase + s, VLAN vlanBase + s,
 * the s-th private /24, pool base + 1 + s in each tunnel pool); comments show the arithmetic. */
import { readStackFile } from "../../config/load";
import { buildPlan } from "../../plan/build";
import type { Plan, TenantPlan } from "../../plan/types";
import { baseConfig, type Fixture, withChange } from "../config/fixture";

const plan = (stack: string): Plan => buildPlan(readStackFile(".", stack), stack);
const tenant = (p: Plan, key: string): TenantPlan => {
  const t = p.tenants.find((x) => x.key === key);
  if (!t) throw new Error(`no tenant ${key}`);
  return t;
};

/** What the per-slot rules give slot s with the default bases and the stacks' two /24 pools. */
/** A tenant's plan fields from its slot; `fixed`: the stack's tenantNetwork.mode is fixed (the appliance's own 10.0.0.0/24). */
function defaults(slot: number, publicIp: string, publicGateway: string, fixed = false) {
  const third = fixed ? 0 : slot >> 8;
  const fourth = fixed ? 0 : slot & 255;
  const tun = (octet: number) => `10.255.${octet + ((slot + 1) >> 8)}.${(slot + 1) & 255}`;
  return {
    slot,
    vmid: 1000 + slot,
    vlan: 100 + slot,
    link: `vl${100 + slot}`,
    node: "pve1",
    privateCidr: `10.${third}.${fourth}.0/24`,
    routerIp: `10.${third}.${fourth}.1`,
    vpnLanIps: [`10.${third}.${fourth}.2`, `10.${third}.${fourth}.3`],
    publicIp,
    publicPrefix: 24,
    publicGateway,
    tunnelIps: { "vpn1-udp": tun(0), "vpn1-tcp": tun(64), "vpn2-udp": tun(128), "vpn2-tcp": tun(192) },
    table: { id: 1000 + slot, name: `lb${slot}` },
    vnc: { display: 100 + slot, port: 6000 + slot },
  };
}

describe("committed stacks", () => {
  it.each([
    ["minimal", 50, 48],
    ["prod", 500, 499],
    ["full", 500, 500],
  ])("%s has %d tenants (%d numbered), sorted by slot with unique keys", (stack, count, numbered) => {
    const p = plan(stack);
    expect(p.tenants).toHaveLength(count);
    expect(p.tenants.filter((t) => t.numbered)).toHaveLength(numbered);
    expect(p.tenants.map((t) => t.slot)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(new Set(p.tenants.map((t) => t.key)).size).toBe(count);
  });

  it.each(["minimal", "prod", "full"])("%s: infrastructure takes the first four usable public addresses", (stack) => {
    const p = plan(stack);
    expect(p.host).toEqual({ node: "pve1", publicIp: "192.0.2.2", mgmtIp: "192.168.100.10" });
    expect(p.servers.map((s) => [s.name, s.vmid, s.publicIp, s.mgmtIp])).toEqual([
      ["vpn1", 200, "192.0.2.3", "192.168.100.11"],
      ["vpn2", 201, "192.0.2.4", "192.168.100.12"],
    ]);
    expect(p.services).toEqual({ node: "pve1", vmid: 210, publicIp: "192.0.2.5", mgmtIp: "192.168.100.13", vm: { cores: 1, memoryMb: 1024 } });
    expect(p.mgmt).toEqual({ cidr: "192.168.100.0/24", prefix: 24 });
  });

  it("prod: the four instances split 10.255.0.0/16 into /18s, server at .1", () => {
    const p = plan("prod");
    expect(p.servers.map((s) => s.hostname)).toEqual(["vpn1.example.net", "vpn2.example.net"]);
    expect(p.instances.map((i) => [i.id, i.port, i.dev, i.cidr, i.netmask, i.gateway, i.mtu, i.mssfix])).toEqual([
      ["vpn1-udp", 1194, "tun-udp", "10.255.0.0/18", "255.255.192.0", "10.255.0.1", 1500, 1450],
      ["vpn1-tcp", 443, "tun-tcp", "10.255.64.0/18", "255.255.192.0", "10.255.64.1", 1500, 1450],
      ["vpn2-udp", 1194, "tun-udp", "10.255.128.0/18", "255.255.192.0", "10.255.128.1", 1500, 1450],
      ["vpn2-tcp", 443, "tun-tcp", "10.255.192.0/18", "255.255.192.0", "10.255.192.1", 1500, 1450],
    ]);
    expect(p.servers[1].instances).toEqual([p.instances[2], p.instances[3]]);
  });

  it("minimal: named tenants acme (slot 1) and coop-sur (slot 2)", () => {
    const p = plan("minimal");
    // Pool 192.0.2.0/24: .1 gateway, .2–.5 infrastructure, so slot s gets .(5 + s).
    expect(tenant(p, "acme")).toEqual({
      key: "acme",
      vmName: "lr-acme",
      ...defaults(1, "192.0.2.6", "192.0.2.1"),
      // Literal: a deployed tenant's MAC (its DHCP reservation and filters) must never change.
      publicMac: "02:f7:aa:a6:88:a0",
      memory: { minMb: 512, maxMb: 2048 },
      diskGb: 32,
      cores: 1,
      hardwareId: "3f0c6b1e9a7d4c2b8e5f1a0d6c3b9e7f2a4d8c1b5e9f3a7d0c6b2e8f4a1d5c9b",
      numbered: false,
    });
    expect(tenant(p, "coop-sur")).toEqual({
      key: "coop-sur",
      vmName: "lr-coop-sur",
      ...defaults(2, "192.0.2.7", "192.0.2.1"),
      publicMac: "02:c9:39:2c:9a:9b",
      memory: { minMb: 1024, maxMb: 2048 },
      diskGb: 64,
      cores: 1,
      numbered: false,
    });
    // Literal spot checks of the helper's arithmetic for slot 1.
    expect(tenant(p, "acme").tunnelIps).toEqual({ "vpn1-udp": "10.255.0.2", "vpn1-tcp": "10.255.64.2", "vpn2-udp": "10.255.128.2", "vpn2-tcp": "10.255.192.2" });
    expect(tenant(p, "acme").privateCidr).toBe("10.0.1.0/24");
  });

  it("minimal: the last numbered tenant t50", () => {
    expect(tenant(plan("minimal"), "t50")).toEqual({
      key: "t50",
      vmName: "lr-t50",
      ...defaults(50, "192.0.2.55", "192.0.2.1"),
      publicMac: "02:48:50:e2:58:96",
      memory: { minMb: 512, maxMb: 2048 },
      diskGb: 32,
      cores: 1,
      numbered: true,
    });
  });

  it("prod (fixed mode): t250 opens the second pool; every tenant has the appliance's 10.0.0.0/24", () => {
    const p = plan("prod");
    // 249 tenant addresses in 192.0.2.0/24 (.6–.254); slot 250 takes the first of 198.51.100.0/24 (.2).
    expect(tenant(p, "t249").publicIp).toBe("192.0.2.254");
    expect(tenant(p, "t250")).toMatchObject(defaults(250, "198.51.100.2", "198.51.100.1", true));
    // 500 = 1·256 + 244; tunnel offset 501 = 1·256 + 245; public index 499 − 249 = 250 → .252.
    expect(tenant(p, "t500")).toEqual({
      key: "t500",
      vmName: "lr-t500",
      ...defaults(500, "198.51.100.252", "198.51.100.1", true),
      publicMac: "02:1f:35:b0:6d:71",
      memory: { minMb: 512, maxMb: 2048 },
      diskGb: 32,
      cores: 1,
      numbered: true,
    });
    expect(tenant(p, "t500").tunnelIps).toEqual({ "vpn1-udp": "10.255.1.245", "vpn1-tcp": "10.255.65.245", "vpn2-udp": "10.255.129.245", "vpn2-tcp": "10.255.193.245" });
    expect(p.tenantNetwork).toEqual({ mode: "fixed", lan: "10.0.0.0/24" });
    expect(new Set(p.tenants.map((t) => `${t.privateCidr} ${t.routerIp} ${t.vpnLanIps.join(" ")}`))).toEqual(new Set(["10.0.0.0/24 10.0.0.1 10.0.0.2 10.0.0.3"]));
  });

  it("minimal (distinct mode): each slot its own /24 of network.tenantPrivate", () => {
    const p = plan("minimal");
    expect(p.tenantNetwork).toEqual({ mode: "distinct", lan: "10.0.0.0/8" });
    expect(tenant(p, "t50")).toMatchObject({ privateCidr: "10.0.50.0/24", routerIp: "10.0.50.1", vpnLanIps: ["10.0.50.2", "10.0.50.3"] });
  });

  it("full: t1 is numbered and takes the first tenant address", () => {
    expect(tenant(plan("full"), "t1")).toMatchObject({ ...defaults(1, "192.0.2.6", "192.0.2.1", true), numbered: true });
  });
});

describe("the test fixture and edge values that are valid", () => {
  it("builds the fixture: 2 named + 5 numbered tenants", () => {
    expect(buildPlan(baseConfig(), "test").tenants.map((t) => `${t.key}@${t.slot}:${t.publicIp}`)).toEqual([
      "acme@1:192.0.2.6",
      "beta@2:192.0.2.7",
      "t10@10:192.0.2.15",
      "t11@11:192.0.2.16",
      "t12@12:192.0.2.17",
      "t13@13:192.0.2.18",
      "t14@14:192.0.2.19",
    ]);
  });

  it.each([
    ["a 32-character key", (c: Fixture) => (c.tenants["a-tenant-key-with-32-characters1"] = { slot: 3 })],
    ["a named tenant on an excluded numbered slot", (c: Fixture) => ((c.numberedTenants.exclude = [12]), (c.tenants.gamma = { slot: 12 }))],
    ["VLAN 4094 exactly", (c: Fixture) => ((c.network.vlanBase = 4080), (c.numberedTenants.count = 0), (c.tenants.beta.slot = 14))],
    ["VNC port 6001, just above Proxmox's range", (c: Fixture) => (c.network.vncDisplayBase = 100)],
    ["VNC port 60051, just above migration", (c: Fixture) => ((c.network.vncDisplayBase = 54150), (c.numberedTenants.count = 0))],
    ["tableBase 100 with slots below 153", (c: Fixture) => (c.network.tableBase = 100)],
    ["a publicIp override in the second pool", (c: Fixture) => (c.tenants.beta.publicIp = "198.51.100.77")],
    ["infrastructure addresses set by hand", (c: Fixture) => (c.network.infraPublicIps = { host: "198.51.100.250", vpn1: "198.51.100.251" })],
  ])("accepts %s", (_name, mutate) => {
    expect(() => buildPlan(withChange(baseConfig(), mutate), "test")).not.toThrow();
  });

  it("hand-set infrastructure addresses move the tenant addresses down", () => {
    const p = buildPlan(withChange(baseConfig(), (c) => (c.network.infraPublicIps = { host: "198.51.100.250", vpn1: "198.51.100.251" })), "test");
    expect([p.host.publicIp, p.servers[0].publicIp, p.servers[1].publicIp, p.services.publicIp]).toEqual(["198.51.100.250", "198.51.100.251", "192.0.2.2", "192.0.2.3"]);
    expect(p.tenants[0].publicIp).toBe("192.0.2.4");
  });
});
