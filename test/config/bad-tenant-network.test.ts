/** tenantNetwork: the mode and, in fixed mode, the appliance's LAN; exact messages, and what fixed mode no longer checks. */
import { buildPlan } from "../../plan/build";
import { baseConfig, configError, type Fixture, loose, withChange } from "./fixture";

type Row = [name: string, mutate: (c: Fixture) => void, issues: string[]];

const fixed = (c: Fixture, lan?: Partial<{ cidr: string; router: string; vpnIps: [string, string] }>) => {
  c.tenantNetwork = { mode: "fixed", ...(lan ? { lan: { ...lan } } : {}) };
};

const rows: Row[] = [
  ["an unknown mode", (c) => (loose(c).tenantNetwork = { mode: "shared" }), ['tenantNetwork.mode: got "shared"; must be distinct (a /24 per tenant, set by cloud-init) or fixed (the image\'s own LAN, the same in every tenant, no cloud-init)']],
  ["the router outside the LAN", (c) => fixed(c, { router: "10.0.1.1" }), ['tenantNetwork.lan.router: got "10.0.1.1"; must be a host address inside tenantNetwork.lan.cidr 10.0.0.0/24']],
  ["a VPN server on the broadcast address", (c) => fixed(c, { vpnIps: ["10.0.0.2", "10.0.0.255"] }), ['tenantNetwork.lan.vpnIps.1: got "10.0.0.255"; must be a host address inside tenantNetwork.lan.cidr 10.0.0.0/24']],
  ["vpn1 on the router's address", (c) => fixed(c, { vpnIps: ["10.0.0.1", "10.0.0.3"] }), ['tenantNetwork.lan.vpnIps.0: got "10.0.0.1"; already tenantNetwork.lan.router; the router and the two VPN servers each need their own address']],
  ["a /30 LAN", (c) => fixed(c, { cidr: "10.0.0.0/30", router: "10.0.0.1", vpnIps: ["10.0.0.2", "10.0.0.3"] }), ['tenantNetwork.lan.cidr: got "10.0.0.0/30"; must be a /16 to /29 (the appliance\'s LAN, e.g. 10.0.0.0/24)']],
  [
    "the LAN over the management network",
    (c) => {
      fixed(c, { cidr: "192.168.100.0/24", router: "192.168.100.1", vpnIps: ["192.168.100.2", "192.168.100.3"] });
    },
    ['tenantNetwork.lan.cidr: got "192.168.100.0/24"; overlaps network.management.cidr 192.168.100.0/24; the VPN servers route that block themselves, so move network.management.cidr (the tenants\' LAN is the image\'s own)'],
  ],
  [
    "the LAN over a public pool",
    (c) => fixed(c, { cidr: "192.0.2.0/24", router: "192.0.2.1", vpnIps: ["192.0.2.2", "192.0.2.3"] }),
    ['tenantNetwork.lan.cidr: got "192.0.2.0/24"; overlaps network.publicPools.0.cidr 192.0.2.0/24; the VPN servers route that block themselves, so move network.publicPools.0.cidr (the tenants\' LAN is the image\'s own)'],
  ],
];

describe("bad tenantNetwork config", () => {
  it.each(rows)("%s", (_name, mutate, issues) => {
    const e = configError(withChange(baseConfig(), mutate));
    expect(e.issues.map((i) => `${i.key}: ${i.message}`)).toEqual(issues);
    expect(e.message).not.toMatch(/\n\s+at /);
  });
});

describe("fixed mode", () => {
  it("gives every tenant the same LAN and needs no network.tenantPrivate room (a /24 would hold no slot in distinct mode)", () => {
    const c = withChange(baseConfig(), (x) => {
      fixed(x);
      x.network.tenantPrivate = "10.0.0.0/24";
    });
    const p = buildPlan(c, "test");
    expect(p.tenantNetwork).toEqual({ mode: "fixed", lan: "10.0.0.0/24" });
    expect(p.tenants.map((t) => [t.key, t.privateCidr, t.routerIp, ...t.vpnLanIps])).toEqual(
      ["acme", "beta", "t10", "t11", "t12", "t13", "t14"].map((k) => [k, "10.0.0.0/24", "10.0.0.1", "10.0.0.2", "10.0.0.3"]),
    );
    // Everything per slot is as in distinct mode: VLAN, table, tunnel addresses.
    expect(p.tenants.map((t) => t.vlan)).toEqual([101, 102, 110, 111, 112, 113, 114]);
    expect(() => buildPlan(withChange(c, (x) => (x.tenantNetwork = { mode: "distinct" })), "test")).toThrow(/network.tenantPrivate: got "10.0.0.0\/24"; must be \/23 or larger/);
  });

  it("takes another appliance LAN", () => {
    const p = buildPlan(withChange(baseConfig(), (x) => fixed(x, { cidr: "192.168.1.0/24", router: "192.168.1.1", vpnIps: ["192.168.1.253", "192.168.1.254"] })), "test");
    expect(p.tenants[0]).toMatchObject({ privateCidr: "192.168.1.0/24", routerIp: "192.168.1.1", vpnLanIps: ["192.168.1.253", "192.168.1.254"] });
  });
});
