/**
 * One FAIL per resource, each with the exact words an operator acts on, and compileStack refusing the
 * same stack with the same words. Money is advisory: it warns and never blocks a deployment.
 */
import { ConfigError } from "../../config/errors";
import { planStack } from "../../plan/build";
import { validateStack } from "../../plan/validate";
import { assessCapacity } from "../../sizing/capacity";
import { compileStack } from "../../stack/compile";
import { loose } from "../config/fixture";
import { lineOf, reportOf, stackConfig } from "./helpers";

/** The minimal stack's plan and validated config, to change into what buildPlan would refuse: checks capacity's own. */
function minimal() {
  return { plan: planStack(validateStack(stackConfig("minimal"), "minimal"), "minimal") };
}

describe("a FAIL per resource, naming the shortfall and the key", () => {
  test.each([
    [
      "RAM (floors)",
      "the seed's 256 GiB for 500 tenants",
      () => reportOf("prod", (c) => (c.hardware = { ramGb: 256, cpuCores: 24 })),
      "hardware.ramGb",
      "RAM: balloon floors 250.0 GiB + host 8.0 GiB + VPN servers 2.0 GiB + services 1.0 GiB + QEMU overhead 31.4 GiB (503 VMs × 64 MiB) = 292.4 GiB exceed 256 GiB by 36.4 GiB; add RAM (hardware.ramGb) or lower tenantDefaults.memory.minMb",
    ],
    [
      "disk (base)",
      "a 100 GB base disk",
      () => reportOf("minimal", (c) => (c.hardware = { baseDiskGb: 100 })),
      "hardware.baseDiskGb",
      "base disk: Proxmox 64 GB + 3 infrastructure VMs × 16 GiB = 115.5 GB exceed 100 GB by 15.5 GB; use a larger base disk (hardware.baseDiskGb)",
    ],
    [
      "disk (tenants)",
      "full clones of 500 × 32 GiB on 16 TB",
      () => reportOf("prod", (c) => (c.assumptions = { cloneMode: "full" })),
      "hardware.userDiskTb",
      "disk: template 32 GiB + 500 full clones × their disk (16,000 GiB in all) = 17.21 TB; 4 × 8 TB raid1 = 16.00 TB usable: short by 1.21 TB; add disks (hardware.userDiskCount, hardware.userDiskTb), keep linked clones (assumptions.cloneMode) or lower tenantDefaults.diskGb",
    ],
    [
      "CPU",
      "the seed's 12 cores for 500 tenants",
      () => reportOf("prod", (c) => (c.hardware = { ramGb: 384 })),
      "hardware.cpuCores",
      "CPU: 505 vCPUs on 12 cores × 2 threads = 21.0 vCPUs per thread (limit 12, assumptions.vcpuPerThreadMax) allows 288; needs 22 cores (hardware.cpuCores) or fewer tenants",
    ],
    [
      "public IPs",
      "one /27 for 50 tenants",
      () => {
        const { plan } = minimal();
        // One /27: 32 addresses, 29 without its network, broadcast and gateway addresses.
        const pools = [{ cidr: "192.0.2.0/27", prefix: 27, gateway: "192.0.2.1" }];
        return assessCapacity({ ...plan, publicPools: pools, publicAddresses: { total: 32, usable: 29 } });
      },
      "network.publicPools",
      "public IPs: 1 pools = 32 addresses, 29 usable (no network, broadcast, gateway or reserved); 50 tenants + host + 2 VPN servers + services = 54: short by 25; add a pool to network.publicPools",
    ],
    [
      "VLANs",
      "vlanBase 4080 with slots up to 50",
      () => {
        const { plan } = minimal();
        return assessCapacity({ ...plan, sizing: { ...plan.sizing, vlanBase: 4080 } });
      },
      "network.vlanBase",
      "VLANs: highest slot 50 needs VLAN 4130, above 4094; lower network.vlanBase (4080) or move tenants beyond 4094 to a Proxmox SDN VXLAN zone",
    ],
    [
      "tenants",
      "60 tenants on the 50-tenant profile",
      () => reportOf("minimal", (c) => (c.numberedTenants = { count: 60, exclude: [1, 2] })),
      "profile",
      "tenants: the stack declares 60 tenants, the minimal profile is built for 50: remove 10 or choose a larger profile (set hardware.maxTenants only with hardware that holds them)",
    ],
    [
      "bandwidth",
      "5 Mbps per active tenant on 100 Mbps",
      () => reportOf("minimal", (c) => (c.assumptions = { minMbpsPerActiveTenant: 5 })),
      "hardware.uplinkMbps",
      "bandwidth: guaranteed 100 Mbps / 50 tenants = 2.00 Mbps each; at 50 % concurrency 25 active tenants get 4.00 Mbps each (floor 5 Mbps): 125 Mbps needed; raise hardware.uplinkMbps",
    ],
    [
      "power",
      "one 500 W supply for 500 tenants",
      () => reportOf("prod", (c) => (c.hardware = { ...c.hardware, psuCount: 1, psuWatts: 500 })),
      "hardware.psuCount",
      "power: host 250 W + 500 tenants × 1 W + 4 disks × 7 W = 778 W (568 kWh/month); 1 × 500 W = 500 W, 0 W with one PSU failed: short by 278 W; add power supplies (hardware.psuCount)",
    ],
  ])("%s: %s", (resource, _why, report, key, note) => {
    const r = report();
    const l = lineOf(r, resource);
    expect([l.status, l.key, l.note]).toEqual(["fail", key, note]);
    expect(r.verdict).toBe("fail");
    // Only the changed resource fails.
    expect(r.lines.filter((x) => x.status === "fail").map((x) => x.resource)).toEqual([resource]);
  });
});

describe("compileStack", () => {
  test("accepts the three committed stacks (the team's examples)", () => {
    for (const s of ["minimal", "prod", "full"]) {
      const { plan, capacity } = compileStack(stackConfig(s), s);
      expect([plan.stack, capacity.stack, capacity.verdict]).toEqual([s, s, "warn"]);
    }
  });

  test("refuses the seed's optimal hardware for 500 tenants with one issue per FAIL, in the capacity words", () => {
    const raw = stackConfig("prod", (c) => delete c.hardware);
    let err: unknown;
    try {
      compileStack(raw, "prod");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const ce = err as ConfigError;
    expect(ce.issues.map((i) => i.key)).toEqual(["hardware.ramGb", "hardware.cpuCores"]);
    expect(ce.message).toBe(
      [
        'stack "prod": config has 2 problems (nothing was created):',
        "  - librerouter-hosting:hardware.ramGb: RAM: balloon floors 250.0 GiB + host 8.0 GiB + VPN servers 2.0 GiB + services 1.0 GiB + QEMU overhead 31.4 GiB (503 VMs × 64 MiB) = 292.4 GiB exceed 256 GiB by 36.4 GiB; add RAM (hardware.ramGb) or lower tenantDefaults.memory.minMb",
        "  - librerouter-hosting:hardware.cpuCores: CPU: 505 vCPUs on 12 cores × 2 threads = 21.0 vCPUs per thread (limit 12, assumptions.vcpuPerThreadMax) allows 288; needs 22 cores (hardware.cpuCores) or fewer tenants",
      ].join("\n"),
    );
  });

  test("a bad config is refused by buildPlan before capacity (same ConfigError type)", () => {
    expect(() => compileStack(stackConfig("minimal", (c) => (loose(c).hardware = { ramGB: 256 })), "minimal")).toThrow(
      'stack "minimal": config has 1 problem (nothing was created):\n  - librerouter-hosting:hardware: unknown key "ramGB" (did you mean "ramGb"?); remove it or fix the spelling (see Pulumi.yaml)',
    );
  });
});

describe("hardware: and assumptions: are validated", () => {
  test.each([
    [{ hardware: { ramGb: -1 } }, "hardware.ramGb", "got -1; RAM in GiB must be at least 1"],
    [{ hardware: { raid: "raid7" } }, "hardware.raid", 'got "raid7"; must be one of none, raid0, raid1, raid10, raid5, raid6'],
    [{ assumptions: { loadFactor: 1.5 } }, "assumptions.loadFactor", "got 1.5; loadFactor is a share between 0 and 1 (e.g. 0.5 for 50 %)"],
    [{ assumptions: { cloneMode: "thin" } }, "assumptions.cloneMode", 'got "thin"; must be linked or full'],
    [{ assumptions: { loadfactor: 0.5 } }, "assumptions", 'unknown key "loadfactor" (did you mean "loadFactor"?); remove it or fix the spelling (see Pulumi.yaml)'],
  ])("%j → %s", (change, key, message) => {
    try {
      compileStack({ ...stackConfig("minimal"), ...change }, "minimal");
      throw new Error("accepted");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).issues).toEqual([{ key, message }]);
    }
  });
});
