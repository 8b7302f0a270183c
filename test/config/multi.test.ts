/** Every problem in one error: a user fixes a config in one round, not one message at a time. */
import { baseConfig, configError, loose, withChange } from "./fixture";

describe("several problems at once", () => {
  it("reports every shape problem in one error, in config order", () => {
    const e = configError(
      withChange(baseConfig(), (c) => {
        loose(c).profile = "optimal-ish";
        c.network.publicPools[0].cidr = "192.0.2.7/24";
        c.tenants.Bravo = { slot: 3 };
        loose(c).vpn = { keepalive: [10, 30], udpPrt: 1195 };
        c.proxmox.endpoint = "pve1";
      }),
    );
    expect(e.message).toBe(
      [
        'stack "test": config has 5 problems (nothing was created):',
        '  - librerouter-hosting:profile: got "optimal-ish"; must be one of minimal, optimal, full',
        '  - librerouter-hosting:proxmox.endpoint: got "pve1"; must be the https URL of the Proxmox API, e.g. https://pve1.example.net:8006/',
        '  - librerouter-hosting:network.publicPools.0.cidr: got "192.0.2.7/24"; host bits are set; write the network address, 192.0.2.0/24',
        '  - librerouter-hosting:vpn: unknown key "udpPrt" (did you mean "udpPort"?); remove it or fix the spelling (see Pulumi.yaml)',
        `  - librerouter-hosting:tenants.Bravo: key "Bravo" is not DNS-safe (it becomes a VM name, a DNS label and a certificate name): use lowercase letters, digits and '-', starting with a letter, not ending with '-', at most 32 characters; rename it, e.g. "bravo"`,
      ].join("\n"),
    );
  });

  it("reports network, infrastructure, tenant and numbered-range problems together", () => {
    const e = configError(
      withChange(baseConfig(), (c) => {
        c.network.vlanBase = 4085;
        c.network.publicPools[1] = { cidr: "192.0.2.128/25", gateway: "192.0.2.129" };
        c.tenants.beta.slot = 1;
        c.tenants.gamma = { slot: 3, publicIp: "192.0.2.1" };
        c.tenants.delta = { slot: 4, memory: { minMb: 4096 } };
        c.vpn = { keepalive: [30, 30] };
        c.services = { vmid: 201 };
        c.template = { vmid: 1003 };
      }),
    );
    expect(e.issues.map((i) => i.key)).toEqual([
      "network.publicPools.1.cidr",
      "services.vmid",
      "vpn.keepalive",
      "tenants.beta.slot",
      "tenants.gamma.publicIp",
      "tenants.gamma.slot",
      "tenants.delta.memory",
      "numberedTenants",
    ]);
    expect(e.message).toBe(
      [
        'stack "test": config has 8 problems (nothing was created):',
        "  - librerouter-hosting:network.publicPools.1.cidr: got \"192.0.2.128/25\"; overlaps network.publicPools.0 192.0.2.0/24; every pool must be distinct",
        "  - librerouter-hosting:services.vmid: got 201; already used by vpn.vmids.1; every VM needs its own VMID",
        "  - librerouter-hosting:vpn.keepalive: got [30, 30]; the timeout must be at least twice the interval, e.g. [5, 15]",
        '  - librerouter-hosting:tenants.beta.slot: got 1; slot already used by tenant "acme"; every tenant needs its own slot, pick a free one',
        '  - librerouter-hosting:tenants.gamma.publicIp: got "192.0.2.1"; that is the gateway of network.publicPools.0 (192.0.2.0/24); pick a free address of network.publicPools',
        '  - librerouter-hosting:tenants.gamma.slot: got 3; VMID network.vmidBase + slot = 1003 is taken by template.vmid; change network.vmidBase (now 1000) or template.vmid, or choose another slot for tenant "gamma"',
        "  - librerouter-hosting:tenants.delta.memory: balloon minimum 4096 MiB is above maximum 2048 MiB (from tenantDefaults.memory.maxMb); set minMb ≤ maxMb",
        '  - librerouter-hosting:numberedTenants: tenants "t10" (slot 10) to "t14" (slot 14), 5 in all; at slot 10: VLAN id network.vlanBase + slot = 4095 is above 4094 (slots up to 9 fit); lower network.vlanBase (now 4085), or leave those slots out (numberedTenants.exclude or a lower numberedTenants.count)',
      ].join("\n"),
    );
  });

  it("still reports the other problems when the network is too small to plan any slot", () => {
    const e = configError(
      withChange(baseConfig(), (c) => {
        c.network.tunnelSupernet = "10.255.0.0/24";
        c.tenants.beta.slot = 1;
        c.vpn = { keepalive: [30, 30] };
      }),
    );
    expect(e.message).toBe(
      [
        'stack "test": config has 3 problems (nothing was created):',
        '  - librerouter-hosting:network.tunnelSupernet: got "10.255.0.0/24"; must be /22 or larger so each of the 4 VPN instances gets at least a /24',
        "  - librerouter-hosting:vpn.keepalive: got [30, 30]; the timeout must be at least twice the interval, e.g. [5, 15]",
        '  - librerouter-hosting:tenants.beta.slot: got 1; slot already used by tenant "acme"; every tenant needs its own slot, pick a free one',
      ].join("\n"),
    );
  });

  it("blames the same tenant whatever the order of the tenants map", () => {
    const forward = withChange(baseConfig(), (c) => {
      c.tenants = { acme: { slot: 1 }, beta: { slot: 2, publicIp: "192.0.2.6" }, gamma: { slot: 1 } };
    });
    const backward = withChange(forward, (c) => {
      c.tenants = Object.fromEntries(Object.entries(c.tenants).reverse());
    });
    const expected = [
      'tenants.gamma.slot: got 1; slot already used by tenant "acme"; every tenant needs its own slot, pick a free one',
      'tenants.beta.publicIp: got "192.0.2.6"; already used by tenant "acme"; give tenant "beta" another address',
    ];
    for (const raw of [forward, backward]) expect(configError(raw).issues.map((i) => `${i.key}: ${i.message}`)).toEqual(expected);
  });
});
