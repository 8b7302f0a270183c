/**
 * Does the stack's hardware hold its tenants? One pure function from the plan to a report with one line
 * per resource. FAIL lines name the shortfall and the config key to change; `plan/compile.ts` turns them
 * into a ConfigError so the Pulumi program and the CLIs refuse with the same words. Pure.
 */
import { parseCidr, size } from "../config/net";
import { publicAddressing } from "../plan/alloc";
import type { Plan } from "../plan/types";
import { ASSUMPTION_DOCS, Assumptions, resolveAssumptions } from "./assumptions";
import { Finding, seedFindings } from "./findings";
import { GB_PER_GIB, MIB_PER_GIB, num, pct } from "./format";
import { Hardware, PROFILES, ProfileName, resolveHardware, usableTb } from "./profiles";

export type Status = "ok" | "warn" | "fail";

export interface CapacityLine {
  readonly resource: string;
  readonly needed: number;
  readonly available: number;
  readonly unit: string;
  /** needed / available. */
  readonly utilisation: number;
  readonly status: Status;
  /** How the figures add up; for warn/fail, what to change. */
  readonly note: string;
  /** The config key an operator changes to fix this line. */
  readonly key: string;
}

export interface Money {
  readonly capexEur: number;
  readonly recurringEurPerMonth: number;
  readonly revenueEurPerMonth: number;
  readonly grossMarginEurPerMonth: number;
  /** capex / gross margin; null when the margin is not positive (never pays back). */
  readonly paybackMonths: number | null;
  /** (recurring + capex / amortisationMonths) / usable TB: everything the host costs, per TB of user space. */
  readonly ownCostEurPerTbMonth: number;
  /** The same usable space at the cloud storage price (storage only). */
  readonly cloudStorageEurPerMonth: number;
}

export interface AssumptionRow {
  readonly key: string;
  readonly value: number | string;
  readonly unit: string;
  readonly rationale: string;
  readonly source: "default" | "stack" | "plan";
}

export interface CapacityReport {
  readonly stack: string;
  readonly profile: ProfileName;
  readonly tenants: number;
  readonly hardware: Hardware;
  /** Hardware fields the stack's `hardware:` block set; others are the profile's (see `hardwareAssumed`). */
  readonly hardwareOverridden: readonly string[];
  /** Profile figures that are our assumption, not the seed's (field → why). */
  readonly hardwareAssumed: Readonly<Record<string, string>>;
  readonly assumptions: readonly AssumptionRow[];
  readonly lines: readonly CapacityLine[];
  readonly money: Money;
  readonly findings: readonly Finding[];
  /** Worst status of all lines. */
  readonly verdict: Status;
}

/** Status of a resource that must fit: over → fail, above the warn threshold → warn. */
function fit(needed: number, available: number, a: Assumptions): Status {
  if (needed > available) return "fail";
  return needed > a.warnAt * available ? "warn" : "ok";
}

const ratio = (needed: number, available: number) => (available > 0 ? needed / available : needed > 0 ? Infinity : 0);

function line(resource: string, needed: number, available: number, unit: string, status: Status, note: string, key: string): CapacityLine {
  return { resource, needed, available, unit, utilisation: ratio(needed, available), status, note, key };
}

/** The capacity report of a plan: its profile's hardware with the stack's overrides, checked resource by resource. */
export function assessCapacity(plan: Plan): CapacityReport {
  const cfg = plan.config;
  const profile = cfg.profile;
  const { hardware: hw, overridden: hwSet } = resolveHardware(profile, cfg.hardware);
  const { assumptions: a, overridden: aSet } = resolveAssumptions(cfg.assumptions);
  const tenants = plan.tenants;
  const n = tenants.length;
  const vms = n + plan.servers.length + 1;
  const GiB = (mb: number) => mb / MIB_PER_GIB;

  // RAM, GiB. Floors must fit (the balloon cannot go lower); load and ceiling only warn.
  const vpnMb = plan.servers.length * cfg.vpn.memoryMb;
  const overheadMb = a.hostReserveGb * MIB_PER_GIB + vpnMb + cfg.services.memoryMb + vms * a.qemuOverheadMb;
  const sum = (f: (t: Plan["tenants"][number]) => number) => tenants.reduce((s, t) => s + f(t), 0);
  const floorsMb = sum((t) => t.memory.minMb);
  const expectedMb = sum((t) => t.memory.minMb + a.loadFactor * (t.memory.maxMb - t.memory.minMb));
  const ceilingMb = sum((t) => t.memory.maxMb);
  const parts = `host ${num(a.hostReserveGb, 1)} GiB + VPN servers ${num(GiB(vpnMb), 1)} GiB + services ${num(GiB(cfg.services.memoryMb), 1)} GiB + QEMU overhead ${num(GiB(vms * a.qemuOverheadMb), 1)} GiB (${vms} VMs × ${a.qemuOverheadMb} MiB)`;
  const ram = (label: string, mb: number) => {
    const total = GiB(mb + overheadMb);
    return { total, text: `${label} ${num(GiB(mb), 1)} GiB + ${parts} = ${num(total, 1)} GiB` };
  };
  const floors = ram("balloon floors", floorsMb);
  const floorStatus = fit(floors.total, hw.ramGb, a);
  const expected = ram(`expected at ${pct(a.loadFactor)} load`, expectedMb);
  const ceiling = ram("balloon ceilings", ceilingMb);
  const over = (total: number) => (total > hw.ramGb ? `exceed ${num(hw.ramGb)} GiB by ${num(total - hw.ramGb, 1)} GiB` : `of ${num(hw.ramGb)} GiB (${pct(total / hw.ramGb)})`);
  const lowFloors = tenants.filter((t) => t.memory.minMb < a.installerMinMb);
  const lowest = n ? Math.min(...tenants.map((t) => t.memory.minMb)) : a.installerMinMb;

  // Disk. Base: Proxmox and the infrastructure VMs. Tenant storage: template + clones on the user array.
  const infraDiskGb = (plan.servers.length + 1) * a.infraVmDiskGb * GB_PER_GIB;
  const baseNeeded = a.hostSystemGb + infraDiskGb;
  const templateGib = cfg.tenantDefaults.diskGb;
  const growth = a.cloneMode === "linked" ? a.linkedCloneGrowth : 1;
  const tb = (gib: number) => (gib * GB_PER_GIB) / 1000;
  const diskNeededTb = tb(templateGib + sum((t) => t.diskGb * growth));
  const diskCeilingTb = tb(templateGib + sum((t) => t.diskGb));
  const usable = usableTb(hw.userDiskCount, hw.userDiskTb, hw.raid);
  let diskStatus = fit(diskNeededTb, usable, a);
  if (diskStatus === "ok" && diskCeilingTb > usable) diskStatus = "warn";
  const diskHow = `template ${templateGib} GiB + ${n} ${a.cloneMode} clones × ${a.cloneMode === "linked" ? `${pct(growth)} of ` : ""}their disk (${num(sum((t) => t.diskGb))} GiB in all) = ${num(diskNeededTb, 2)} TB; ${hw.userDiskCount} × ${hw.userDiskTb} TB ${hw.raid} = ${num(usable, 2)} TB usable`;

  // CPU: vCPUs against hardware threads × the overcommit limit.
  const vcpus = sum((t) => t.cores) + plan.servers.length * cfg.vpn.cores + cfg.services.cores;
  const threads = hw.cpuCores * hw.threadsPerCore;
  const cpuAvail = threads * a.vcpuPerThreadMax;
  const coresNeeded = Math.ceil(vcpus / (a.vcpuPerThreadMax * hw.threadsPerCore));
  const cpuHow = `${vcpus} vCPUs on ${hw.cpuCores} cores × ${hw.threadsPerCore} threads = ${num(vcpus / threads, 1)} vCPUs per thread (limit ${a.vcpuPerThreadMax}, assumptions.vcpuPerThreadMax)`;

  // Public addresses: tenants + host + VPN servers + services.
  const pub = publicAddressing(cfg);
  const poolAddrs = cfg.network.publicPools.reduce((s, p) => s + size(parseCidr(p.cidr)), 0);
  const ipNeeded = n + 2 + plan.servers.length;
  const ipHow = `${cfg.network.publicPools.length} pools = ${num(poolAddrs)} addresses, ${pub.usable.length} usable (no network, broadcast, gateway or reserved); ${n} tenants + host + ${plan.servers.length} VPN servers + services = ${ipNeeded}`;

  // VLANs: VLAN id = vlanBase + slot must stay ≤ 4094.
  const maxSlot = n ? Math.max(...tenants.map((t) => t.slot)) : 0;
  const vlanAvail = 4094 - cfg.network.vlanBase;

  // Bandwidth: guaranteed share and the share at the stated concurrency.
  const active = n * a.concurrency;
  const bwNeeded = active * a.minMbpsPerActiveTenant;
  const bwHow = `guaranteed ${num(hw.uplinkMbps)} Mbps / ${n} tenants = ${num(n ? hw.uplinkMbps / n : hw.uplinkMbps, 2)} Mbps each; at ${pct(a.concurrency)} concurrency ${num(active)} active tenants get ${num(active ? hw.uplinkMbps / active : hw.uplinkMbps, 2)} Mbps each (floor ${a.minMbpsPerActiveTenant} Mbps)${hw.interconnect !== "none" ? `; interconnect ${hw.interconnect}` : ""}`;

  // Power: over all PSUs fails; over N+1 (one PSU failed) warns.
  const watts = a.hostIdleW + n * a.wattsPerTenant + hw.userDiskCount * a.wattsPerDisk;
  const psuTotal = hw.psuCount * hw.psuWatts;
  const psuRedundant = (hw.psuCount - 1) * hw.psuWatts;
  let powerStatus = fit(watts, psuTotal, a);
  if (powerStatus === "ok" && watts > psuRedundant) powerStatus = "warn";
  const powerHow = `host ${a.hostIdleW} W + ${n} tenants × ${a.wattsPerTenant} W + ${hw.userDiskCount} disks × ${a.wattsPerDisk} W = ${num(watts)} W (${num((watts * 730) / 1000)} kWh/month); ${hw.psuCount} × ${hw.psuWatts} W = ${num(psuTotal)} W, ${num(psuRedundant)} W with one PSU failed`;

  // Money: advisory only; it never blocks a deployment.
  const revenue = n * hw.priceEurPerTenantMonth;
  const margin = revenue - hw.recurringEurPerMonth;
  const payback = margin > 0 ? hw.capexEur / margin : null;
  const money: Money = {
    capexEur: hw.capexEur,
    recurringEurPerMonth: hw.recurringEurPerMonth,
    revenueEurPerMonth: revenue,
    grossMarginEurPerMonth: margin,
    paybackMonths: payback,
    ownCostEurPerTbMonth: usable > 0 ? (hw.recurringEurPerMonth + hw.capexEur / a.amortisationMonths) / usable : Infinity,
    cloudStorageEurPerMonth: usable * a.cloudStorageEurPerTbMonth,
  };
  const moneyStatus: Status = payback === null || payback > a.paybackWarnMonths ? "warn" : "ok";
  const moneyHow = `${n} tenants × ${num(hw.priceEurPerTenantMonth, 2)} EUR = ${num(revenue)} EUR/month − recurring ${num(hw.recurringEurPerMonth)} = gross margin ${num(margin)} EUR/month; payback ${payback === null ? "never" : `${num(hw.capexEur)} / ${num(margin)} = ${num(payback, 1)} months`}; storage ${num(money.ownCostEurPerTbMonth, 1)} EUR/TB/month all-in vs cloud ${a.cloudStorageEurPerTbMonth} EUR/TB/month (${num(money.cloudStorageEurPerMonth)} EUR/month for ${num(usable, 2)} TB, storage only)`;

  const lines: CapacityLine[] = [
    line("RAM (floors)", floors.total, hw.ramGb, "GiB", floorStatus,
      floorStatus === "fail" ? `RAM: ${floors.text} ${over(floors.total)}; add RAM (hardware.ramGb) or lower tenantDefaults.memory.minMb` : `${floors.text} ${over(floors.total)}`, "hardware.ramGb"),
    line("RAM (expected)", expected.total, hw.ramGb, "GiB", expected.total > hw.ramGb ? "warn" : "ok",
      `${expected.text} ${over(expected.total)}${expected.total > hw.ramGb ? "; guests will be ballooned towards their floors under load: add RAM (hardware.ramGb)" : ""}`, "hardware.ramGb"),
    line("RAM (ceiling)", ceiling.total, hw.ramGb, "GiB", ceiling.total > hw.ramGb ? "warn" : "ok",
      `${ceiling.text} ${over(ceiling.total)}${ceiling.total > hw.ramGb ? "; not every tenant can reach its maximum at once" : ""}`, "hardware.ramGb"),
    line("RAM (installer)", a.installerMinMb, lowest, "MiB", lowFloors.length ? "warn" : "ok",
      lowFloors.length
        ? `${lowFloors.length} of ${n} tenants may be ballooned to ${num(lowest)} MiB, below the LibreRouter installer's ${num(a.installerMinMb)} MiB minimum; install on the template at full memory or raise tenantDefaults.memory.minMb to ${a.installerMinMb}`
        : `every balloon floor is at least the installer's ${num(a.installerMinMb)} MiB`, "tenantDefaults.memory.minMb"),
    line("disk (base)", baseNeeded, hw.baseDiskGb, "GB", fit(baseNeeded, hw.baseDiskGb, a),
      `${fit(baseNeeded, hw.baseDiskGb, a) === "fail" ? "base disk: " : ""}Proxmox ${a.hostSystemGb} GB + ${plan.servers.length + 1} infrastructure VMs × ${a.infraVmDiskGb} GiB = ${num(baseNeeded, 1)} GB ${baseNeeded > hw.baseDiskGb ? `exceed ${num(hw.baseDiskGb)} GB by ${num(baseNeeded - hw.baseDiskGb, 1)} GB; use a larger base disk (hardware.baseDiskGb)` : `of ${num(hw.baseDiskGb)} GB`}`, "hardware.baseDiskGb"),
    line("disk (tenants)", diskNeededTb, usable, "TB", diskStatus,
      diskStatus === "fail"
        ? `disk: ${diskHow}: short by ${num(diskNeededTb - usable, 2)} TB; add disks (hardware.userDiskCount, hardware.userDiskTb), keep linked clones (assumptions.cloneMode) or lower tenantDefaults.diskGb`
        : `${diskHow}; if every disk is written full: ${num(diskCeilingTb, 2)} TB${diskCeilingTb > usable ? ` exceeds the array by ${num(diskCeilingTb - usable, 2)} TB (thin provisioning: watch usage)` : ""}; ${num(n ? (usable * 1000) / n : 0, 1)} GB per tenant`, "hardware.userDiskTb"),
    line("CPU", vcpus, cpuAvail, "vCPU", fit(vcpus, cpuAvail, a),
      vcpus > cpuAvail ? `CPU: ${cpuHow} allows ${num(cpuAvail)}; needs ${coresNeeded} cores (hardware.cpuCores) or fewer tenants` : `${cpuHow} allows ${num(cpuAvail)}`, "hardware.cpuCores"),
    line("public IPs", ipNeeded, pub.usable.length, "addresses", fit(ipNeeded, pub.usable.length, a),
      ipNeeded > pub.usable.length ? `public IPs: ${ipHow}: short by ${ipNeeded - pub.usable.length}; add a pool to network.publicPools` : `${ipHow}; ${pub.usable.length - ipNeeded} spare`, "network.publicPools"),
    line("VLANs", maxSlot, vlanAvail, "VLAN ids", fit(maxSlot, vlanAvail, a),
      maxSlot > vlanAvail
        ? `VLANs: highest slot ${maxSlot} needs VLAN ${cfg.network.vlanBase + maxSlot}, above 4094; lower network.vlanBase (${cfg.network.vlanBase}) or move tenants beyond 4094 to a Proxmox SDN VXLAN zone`
        : `highest slot ${maxSlot} → VLAN ${cfg.network.vlanBase + maxSlot} of 4094 (network.vlanBase ${cfg.network.vlanBase})`, "network.vlanBase"),
    line("tenants", n, hw.maxTenants, "tenants", n > hw.maxTenants ? "fail" : "ok",
      n > hw.maxTenants
        ? `tenants: the stack declares ${n} tenants, the ${profile} profile is built for ${hw.maxTenants}: remove ${n - hw.maxTenants} or choose a larger profile (set hardware.maxTenants only with hardware that holds them)`
        : `${n} of the ${profile} profile's ${hw.maxTenants}`, "profile"),
    line("bandwidth", bwNeeded, hw.uplinkMbps, "Mbps", fit(bwNeeded, hw.uplinkMbps, a),
      bwNeeded > hw.uplinkMbps ? `bandwidth: ${bwHow}: ${num(bwNeeded)} Mbps needed; raise hardware.uplinkMbps` : bwHow, "hardware.uplinkMbps"),
    line("power", watts, psuTotal, "W", powerStatus,
      powerStatus === "fail" ? `power: ${powerHow}: short by ${num(watts - psuTotal)} W; add power supplies (hardware.psuCount)` : `${powerHow}${watts > psuRedundant ? "; no PSU redundancy left" : ""}`, "hardware.psuCount"),
    line("money", hw.recurringEurPerMonth, revenue, "EUR/month", moneyStatus,
      `${moneyHow}${moneyStatus === "warn" ? `; payback beyond ${a.paybackWarnMonths} months: review hardware.priceEurPerTenantMonth and costs` : ""}`, "hardware.priceEurPerTenantMonth"),
  ];

  const rows: AssumptionRow[] = [
    ...(Object.keys(ASSUMPTION_DOCS) as (keyof Assumptions)[]).map((k) => ({ key: `assumptions.${k}`, value: a[k], ...ASSUMPTION_DOCS[k], source: aSet.includes(k) ? ("stack" as const) : ("default" as const) })),
    { key: "vpn.memoryMb", value: cfg.vpn.memoryMb, unit: "MiB/VM", rationale: "each of the 2 VPN servers, from the plan (no ballooning)", source: "plan" },
    { key: "services.memoryMb", value: cfg.services.memoryMb, unit: "MiB", rationale: "the common-services VM, from the plan", source: "plan" },
  ];
  const order: Status[] = ["ok", "warn", "fail"];
  const verdict = lines.reduce<Status>((w, l) => (order.indexOf(l.status) > order.indexOf(w) ? l.status : w), "ok");
  return {
    stack: plan.stack,
    profile,
    tenants: n,
    hardware: hw,
    hardwareOverridden: hwSet,
    hardwareAssumed: Object.fromEntries(Object.entries(PROFILES[profile].assumed).filter(([k]) => !hwSet.includes(k as keyof Hardware))) as Record<string, string>,
    assumptions: rows,
    lines,
    money,
    findings: seedFindings(PROFILES[profile], a, { vpnMemoryMb: cfg.vpn.memoryMb, servicesMemoryMb: cfg.services.memoryMb, vpnCores: cfg.vpn.cores, servicesCores: cfg.services.cores }),
    verdict,
  };
}
