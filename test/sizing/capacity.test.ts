/**
 * Every capacity line of the three committed stacks, with the expected figures worked out by hand from
 * the seed's inputs and the documented defaults (host 8 GiB, QEMU 64 MiB/VM, VPN 2 × 1024 MiB, services
 * 1024 MiB, load 50 %, linked clones at 50 %, 12 vCPU/thread, 2 Mbps per active tenant at 50 %).
 */
import { gib, lineOf, reportOf, tbOfGib } from "./helpers";

type Row = [resource: string, needed: number, available: number, status: "ok" | "warn" | "fail"];

// Overhead beside the tenants: host 8 GiB + 2 VPN × 1024 MiB + services 1024 MiB + QEMU 64 MiB per running VM.
const overheadMib = (tenants: number) => 8 * 1024 + 2 * 1024 + 1024 + (tenants + 3) * 64;
// Base disk: Proxmox 64 GB + 3 infrastructure VMs × 16 GiB.
const baseGb = 64 + (3 * 16 * 1024 ** 3) / 1e9;
// The ban grid (test/sizing/ban-grid.test.ts works each out): alike in the three stacks, which keep its defaults.
const banSet = (100_000 * 134) / 2 ** 20;
// Plus the monitoring (test/sizing/monitoring.test.ts): 4 machines × 1,000 series + 15 per tenant (7 on each VPN
// server, 1 on the services VM) + 1,500 own; Prometheus 64 MiB + 4 KiB a series, Alertmanager 32 MiB, a node exporter
// 24 MiB everywhere, lr-metrics 16 MiB; its disk 15 days at a 15 s scrape × 2 B a sample + 3 h of WAL × 16 B.
const series = (n: number) => 4 * 1000 + 15 * n + 1500;
const promDiskGib = (n: number) => ((series(n) / 15) * (15 * 86400 * 2 + 3 * 3600 * 16)) / 2 ** 30;
const grid = (n: number): Row[] => [
  ["RAM (services)", 384 + 55 + 180 + 21 + (64 + (series(n) * 4) / 1024) + 32 + 24, 1024, "ok"],
  ["RAM (VPN VM)", 256 + 180 + 18 + banSet + 24 + 16, 1024, "ok"],
  ["RAM (host bans)", 180 + 18 + banSet + 24, 8 * 1024, "ok"],
  ["disk (services)", 4 + (7 * 10_000 * 3) / 2 ** 20 + promDiskGib(n), 16, "ok"],
];

// minimal: 49 tenants at 512–2048 MiB + coop-sur at 1024–2048 MiB; 49 × 32 GiB + 64 GiB disks; 2 × 4 TB mirrored pairs.
const minimal: Row[] = [
  ["RAM (floors)", gib(49 * 512 + 1024 + overheadMib(50)), 128, "ok"],
  ["RAM (expected)", gib(49 * (512 + 0.5 * 1536) + (1024 + 0.5 * 1024) + overheadMib(50)), 128, "ok"],
  ["RAM (ceiling)", gib(50 * 2048 + overheadMib(50)), 128, "ok"],
  ["RAM (installer)", 2048, 512, "warn"],
  ["disk (base)", baseGb, 400, "ok"],
  ["disk (tenants)", tbOfGib(32 + 0.5 * (49 * 32 + 64)), 8, "ok"],
  ["CPU", 50 + 2 * 2 + 1, 12 * 2 * 12, "ok"],
  ["public IPs", 50 + 4, 2 * 253, "ok"],
  ["VLANs", 50, 4094 - 100, "ok"],
  ["tenants", 50, 50, "ok"],
  ["bandwidth", 50 * 0.5 * 2, 100, "ok"],
  ["power", 250 + 50 * 1 + 4 * 7, 2 * 1700, "ok"],
  ...grid(50),
  ["money", 700, 50 * 20, "warn"],
];

// prod: 500 tenants at 512–2048 MiB, 32 GiB, 1 vCPU; hardware override 384 GiB and 24 cores.
const prod: Row[] = [
  ["RAM (floors)", gib(500 * 512 + overheadMib(500)), 384, "ok"],
  ["RAM (expected)", gib(500 * 1280 + overheadMib(500)), 384, "warn"],
  ["RAM (ceiling)", gib(500 * 2048 + overheadMib(500)), 384, "warn"],
  ["RAM (installer)", 2048, 512, "warn"],
  ["disk (base)", baseGb, 400, "ok"],
  ["disk (tenants)", tbOfGib(32 + 0.5 * 500 * 32), 16, "warn"],
  ["CPU", 500 + 4 + 1, 24 * 2 * 12, "ok"],
  ["public IPs", 504, 506, "warn"],
  ["VLANs", 500, 3994, "ok"],
  ["tenants", 500, 500, "ok"],
  ["bandwidth", 500, 1000, "ok"],
  ["power", 250 + 500 + 4 * 7, 3400, "ok"],
  ...grid(500),
  ["money", 2800, 10000, "ok"],
];

// full: the seed's figures as they stand: ~496 GiB, 24 cores, 500 × 0.5 TB drives, 3 × 1700 W.
const full: Row[] = [
  ["RAM (floors)", gib(500 * 512 + overheadMib(500)), 496, "ok"],
  ["RAM (expected)", gib(500 * 1280 + overheadMib(500)), 496, "warn"],
  ["RAM (ceiling)", gib(500 * 2048 + overheadMib(500)), 496, "warn"],
  ["RAM (installer)", 2048, 512, "warn"],
  ["disk (base)", baseGb, 400, "ok"],
  ["disk (tenants)", tbOfGib(32 + 0.5 * 500 * 32), 250, "ok"],
  ["CPU", 505, 576, "ok"],
  ["public IPs", 504, 506, "warn"],
  ["VLANs", 500, 3994, "ok"],
  ["tenants", 500, 500, "ok"],
  ["bandwidth", 500, 1000, "ok"],
  ["power", 250 + 500 + 500 * 7, 3 * 1700, "warn"],
  ...grid(500),
  ["money", 3500, 10000, "ok"],
];

describe.each([
  ["minimal", minimal],
  ["prod", prod],
  ["full", full],
])("stack %s", (stack, rows) => {
  const report = reportOf(stack);
  test("has exactly these lines, in this order", () => {
    expect(report.lines.map((l) => l.resource)).toEqual(rows.map((r) => r[0]));
  });
  test.each(rows)("%s: needed %d of %d → %s", (resource, needed, available, status) => {
    const l = lineOf(report, resource);
    expect(l.needed).toBeCloseTo(needed, 9);
    expect(l.available).toBeCloseTo(available, 9);
    expect(l.utilisation).toBeCloseTo(needed / available, 9);
    expect(l.status).toBe(status);
  });
  test("verdict is the worst line: warn (no stack over capacity)", () => {
    expect(report.verdict).toBe("warn");
  });
});

describe("notes say how the figures add up", () => {
  test("prod RAM floors", () => {
    expect(lineOf(reportOf("prod"), "RAM (floors)").note).toBe(
      "balloon floors 250.0 GiB + host 8.0 GiB + VPN servers 2.0 GiB + services 1.0 GiB + QEMU overhead 31.4 GiB (503 VMs × 64 MiB) = 292.4 GiB of 384 GiB (76 %)",
    );
  });
  test("prod disk: thin now, over the array when written full", () => {
    expect(lineOf(reportOf("prod"), "disk (tenants)").note).toBe(
      "template 32 GiB + 500 linked clones × 50 % of their disk (16,000 GiB in all) = 8.62 TB; 4 × 8 TB raid1 = 16.00 TB usable; if every disk is written full: 17.21 TB exceeds the array by 1.21 TB (thin provisioning: watch usage); 32.0 GB per tenant",
    );
  });
  test("bandwidth: guaranteed share and share at the stated concurrency", () => {
    expect(lineOf(reportOf("minimal"), "bandwidth").note).toBe(
      "guaranteed 100 Mbps / 50 tenants = 2.00 Mbps each; at 50 % concurrency 25 active tenants get 4.00 Mbps each (floor 2 Mbps)",
    );
    expect(lineOf(reportOf("full"), "bandwidth").note).toContain("; interconnect 2 × 10 Gbps SFP");
  });
  test("public IPs: 2 × /24 leave 506 usable, 2 spare for 500 tenants", () => {
    expect(lineOf(reportOf("prod"), "public IPs").note).toBe(
      "2 pools = 512 addresses, 506 usable (no network, broadcast, gateway or reserved); 500 tenants + host + 2 VPN servers + services = 504; 2 spare",
    );
  });
  test("installer: every tenant whose floor is below 2 GiB is counted", () => {
    expect(lineOf(reportOf("minimal"), "RAM (installer)").note).toBe(
      "50 of 50 tenants may be ballooned to 512 MiB, below the LibreRouter installer's 2,048 MiB minimum; install on the template at full memory or raise tenantDefaults.memory.minMb to 2048",
    );
    const raised = reportOf("minimal", (c) => (c.tenantDefaults = { memory: { minMb: 2048, maxMb: 2048 } }));
    const l = lineOf(raised, "RAM (installer)");
    expect([l.status, l.note]).toEqual(["warn", "1 of 50 tenants may be ballooned to 1,024 MiB, below the LibreRouter installer's 2,048 MiB minimum; install on the template at full memory or raise tenantDefaults.memory.minMb to 2048"]);
  });
  test("power: full has no PSU redundancy left", () => {
    expect(lineOf(reportOf("full"), "power").note).toBe(
      "host 250 W + 500 tenants × 1 W + 500 disks × 7 W = 4,250 W (3,103 kWh/month); 3 × 1700 W = 5,100 W, 3,400 W with one PSU failed; no PSU redundancy left",
    );
  });
});

describe("money", () => {
  test("prod: the seed's figures: revenue 10,000, GM 7,200, payback 2.5 months; storage per TB vs cloud", () => {
    const m = reportOf("prod").money;
    expect(m).toEqual({
      capexEur: 18000,
      recurringEurPerMonth: 2800,
      revenueEurPerMonth: 500 * 20,
      grossMarginEurPerMonth: 500 * 20 - 2800,
      paybackMonths: 18000 / 7200,
      ownCostEurPerTbMonth: (2800 + 18000 / 36) / 16,
      cloudStorageEurPerMonth: 16 * 8.5,
    });
  });
  test("minimal and full use stated assumptions (not seed figures) and say so", () => {
    const min = reportOf("minimal");
    expect(min.money.paybackMonths).toBe(9000 / (1000 - 700));
    expect(Object.keys(min.hardwareAssumed).sort()).toEqual(["capexEur", "priceEurPerTenantMonth", "recurringEurPerMonth", "threadsPerCore"]);
    expect(reportOf("full").money.paybackMonths).toBeCloseTo(40000 / 6500, 12);
  });
  test("a stack that loses money warns (payback never) but never fails", () => {
    const r = reportOf("minimal", (c) => (c.hardware = { priceEurPerTenantMonth: 10 }));
    const l = lineOf(r, "money");
    expect([l.status, r.money.grossMarginEurPerMonth, r.money.paybackMonths]).toEqual(["warn", 500 - 700, null]);
    expect(l.note).toContain("gross margin -200 EUR/month; payback never;");
  });
  test("a stack override is reported as such and not as an assumption", () => {
    const r = reportOf("prod");
    expect(r.hardwareOverridden).toEqual(["ramGb", "cpuCores"]);
    expect(r.hardware.ramGb).toBe(384);
    expect(r.hardwareAssumed).toEqual({ threadsPerCore: "the seed gives cores only; 2 threads per core assumes SMT is enabled" });
  });
});

describe("assumptions are all listed with value, unit and source", () => {
  test("defaults, stack overrides and the plan's VPN/services memory", () => {
    const r = reportOf("minimal", (c) => {
      c.assumptions = { loadFactor: 0.25 };
      c.vpn = { ...c.vpn, memoryMb: 2048 };
    });
    const byKey = Object.fromEntries(r.assumptions.map((a) => [a.key, [a.value, a.unit, a.source]]));
    expect(byKey["assumptions.loadFactor"]).toEqual([0.25, "share", "stack"]);
    expect(byKey["assumptions.vcpuPerThreadMax"]).toEqual([12, "vCPU/thread", "default"]);
    expect(byKey["assumptions.cloudStorageEurPerTbMonth"]).toEqual([8.5, "EUR/TB/month", "default"]);
    expect(byKey["assumptions.installerMinMb"]).toEqual([2048, "MiB", "default"]);
    expect(byKey["vpn.memoryMb"]).toEqual([2048, "MiB/VM", "plan"]);
    expect(byKey["services.memoryMb"]).toEqual([1024, "MiB", "plan"]);
    expect(byKey["assumptions.bansPeak"]).toEqual([100_000, "bans", "default"]);
    expect(byKey["bans.keepFor"]).toEqual(["168h", "duration", "plan"]);
    expect(r.assumptions).toHaveLength(29 + 3);
    // The overrides change the figures: load 25 % and 2 × 2048 MiB VPN servers.
    expect(lineOf(r, "RAM (expected)").needed).toBeCloseTo(gib(49 * (512 + 0.25 * 1536) + (1024 + 0.25 * 1024) + overheadMib(50) + 2048), 9);
  });
});
