/** Addresses that cannot be used on a public network, values that must be unique, and pools too large to plan; exact messages. */
import { buildPlan } from "../../plan/build";
import { baseConfig, configError, type Fixture, withChange } from "./fixture";

const issues = (mutate: (c: Fixture) => void) => configError(withChange(baseConfig(), mutate)).issues.map((i) => `${i.key}: ${i.message}`);

const NOT_PUBLIC: [ip: string, range: string][] = [
  ["0.0.0.1", '0.0.0.0/8 ("this network")'],
  ["127.0.0.1", "127.0.0.0/8 (loopback)"],
  ["169.254.10.1", "169.254.0.0/16 (link-local)"],
  ["224.0.0.5", "224.0.0.0/4 (multicast)"],
  ["239.255.255.250", "224.0.0.0/4 (multicast)"],
  ["255.255.255.255", "255.255.255.255/32 (the limited broadcast address)"],
  ["240.0.0.1", "240.0.0.0/4 (reserved for future use)"],
];

describe("addresses that cannot be used on a public network", () => {
  it.each(NOT_PUBLIC)("a public pool holding %s is refused (%s)", (ip, range) => {
    const cidr = ip === "255.255.255.255" ? "255.255.255.255/32" : `${ip.split(".").slice(0, 3).join(".")}.0/24`;
    const gateway = ip === "255.255.255.255" ? ip : `${ip.split(".").slice(0, 3).join(".")}.1`;
    const got = issues((c) => (c.network.publicPools[0] = { cidr, gateway }));
    expect(got.slice(0, 2)).toEqual([
      `network.publicPools.0.cidr: got "${cidr}"; overlaps ${range}, which cannot be used on a public network; use the addresses your provider routes to this host`,
      `network.publicPools.0.gateway: got "${gateway}"; is in ${range}, which cannot be used on a public network; set the gateway your provider gives for ${cidr}`,
    ]);
  });

  it.each(NOT_PUBLIC)("infraPublicIps.vpn1 = %s is refused (%s)", (ip, range) => {
    expect(issues((c) => (c.network.infraPublicIps = { vpn1: ip }))).toEqual([`network.infraPublicIps.vpn1: got "${ip}"; is in ${range}, which cannot be used on a public network; pick a usable address of network.publicPools`]);
  });

  it.each(NOT_PUBLIC)("a tenant's publicIp %s is refused (%s)", (ip, range) => {
    expect(issues((c) => (c.tenants.acme.publicIp = ip))).toEqual([`tenants.acme.publicIp: got "${ip}"; is in ${range}, which cannot be used on a public network; pick a free address of network.publicPools`]);
  });

  it.each(NOT_PUBLIC)("vpn.hostnames given as the address %s is refused (%s)", (ip, range) => {
    expect(issues((c) => (c.vpn = { hostnames: ["vpn1.example.net", ip] }))).toEqual([`vpn.hostnames.1: got "${ip}"; is in ${range}, which cannot be used on a public network; clients dial it, so use vpn2's public name or address`]);
  });

  it.each([
    ["documentation 203.0.113.0/24", "203.0.113.0/24", "203.0.113.1"],
    ["private 192.168.50.0/24 (a host behind 1:1 NAT)", "192.168.50.0/24", "192.168.50.1"],
    ["private 172.16.0.0/24", "172.16.0.0/24", "172.16.0.1"],
    ["shared 100.64.0.0/20 (the data-plane bench)", "100.64.0.0/20", "100.64.0.1"],
    ["a public /16", "44.1.0.0/16", "44.1.0.1"],
  ])("%s is accepted as a pool", (_name, cidr, gateway) => {
    expect(() => buildPlan(withChange(baseConfig(), (c) => (c.network.publicPools[1] = { cidr, gateway })), "test")).not.toThrow();
  });
});

describe("pools too large to plan fail fast", () => {
  it("a /8 pool is refused in well under a second (it took 50 s before the bound)", () => {
    const t0 = Date.now();
    const got = issues((c) => (c.network.publicPools[1] = { cidr: "44.0.0.0/8", gateway: "44.0.0.1" }));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(got).toEqual([
      'network.publicPools.1.cidr: got "44.0.0.0/8"; a public pool may be at most a /16 (65536 addresses, more than the 65535 tenant slots and 4 infrastructure VMs can use); list only the blocks routed to this host, each /16 or smaller',
    ]);
  });

  it("a /0 pool is refused the same way, with its overlaps", () => {
    expect(issues((c) => (c.network.publicPools = [{ cidr: "0.0.0.0/0", gateway: "192.0.2.1" }]))).toEqual([
      'network.publicPools.0.cidr: got "0.0.0.0/0"; a public pool may be at most a /16 (65536 addresses, more than the 65535 tenant slots and 4 infrastructure VMs can use); list only the blocks routed to this host, each /16 or smaller',
      'network.publicPools.0.cidr: got "0.0.0.0/0"; overlaps network.management.cidr 192.168.100.0/24; public pools must be outside the private plan',
      'network.publicPools.0.cidr: got "0.0.0.0/0"; overlaps network.tunnelSupernet 10.255.0.0/16; public pools must be outside the private plan',
      'network.publicPools.0.cidr: got "0.0.0.0/0"; overlaps network.tenantPrivate 10.0.0.0/8; public pools must be outside the private plan',
    ]);
  });

  it("more than two /16 in all is refused", () => {
    const pools = ["44.1.0.0/16", "44.2.0.0/16", "44.3.0.0/16"].map((cidr) => ({ cidr, gateway: cidr.replace("0/16", "1") }));
    expect(issues((c) => (c.network.publicPools = pools))).toEqual([
      "network.publicPools: the pools hold 196608 addresses in all; at most 131072 (two /16) can ever be used (65535 tenant slots and 4 infrastructure VMs); remove pools you do not need",
    ]);
  });
});

describe("values that must be unique", () => {
  it("the same name for both VPN servers is refused", () => {
    expect(issues((c) => (c.vpn = { hostnames: ["vpn.example.net", "vpn.example.net"] }))).toEqual([
      'vpn.hostnames.1: got "vpn.example.net"; the same as vpn.hostnames.0, so clients have no second server to fail over to; set vpn2\'s own name, e.g. vpn2.example.net',
    ]);
  });

  it("the same hardware ID on two tenants is refused, naming both, without echoing the ID", () => {
    const id = "ab".repeat(32);
    const e = configError(
      withChange(baseConfig(), (c) => {
        c.tenants.acme.hardwareId = id;
        c.tenants.beta.hardwareId = id;
      }),
    );
    expect(e.issues.map((i) => `${i.key}: ${i.message}`)).toEqual([
      'tenants.beta.hardwareId: the same ID as tenants.acme.hardwareId; each tenant\'s device has its own ID: run `lr-connect --print-id` on tenant "beta"\'s machine and set that',
    ]);
    expect(e.message).not.toContain(id);
  });

  it("different hardware IDs are accepted", () => {
    const raw = withChange(baseConfig(), (c) => {
      c.tenants.acme.hardwareId = "ab".repeat(32);
      c.tenants.beta.hardwareId = "02:00:00:00:00:01";
    });
    expect(() => buildPlan(raw, "test")).not.toThrow();
  });
});
