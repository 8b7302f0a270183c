/**
 * One function per resource of the capacity check: each computes its figures and words its line. FAIL notes name
 * the shortfall and the config key to change. Pure.
 */
import type { Plan, TenantPlan } from "../plan/types";
import type { Assumptions } from "./assumptions";
import { GB_PER_GIB, MIB_PER_GIB, num, pct } from "./format";
import { cpuFit, InfraVms, powerWatts, psuWatts, ramOverheadMb, vcpuCount, vmCount } from "./formulas";
import { Hardware, ProfileName, usableTb } from "./profiles";

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

/** What every line reads: the plan, the resolved hardware and assumptions, and a few figures derived once. */
export interface Sizing {
  readonly plan: Plan;
  readonly profile: ProfileName;
  readonly hw: Hardware;
  readonly a: Assumptions;
  readonly infra: InfraVms;
  /** Tenant count. */
  readonly n: number;
  /** Usable TB of the user array. */
  readonly usableTb: number;
  /** The template's disk (tenantDefaults.diskGb), GiB. */
  readonly templateDiskGb: number;
  readonly vlanBase: number;
}

export function sizing(plan: Plan, hw: Hardware, a: Assumptions, templateDiskGb: number, vlanBase: number): Sizing {
  const [vpn] = plan.servers;
  const infra: InfraVms = {
    vpnVms: plan.servers.length,
    vpnMemoryMb: vpn.vm.memoryMb,
    vpnCores: vpn.vm.cores,
    servicesMemoryMb: plan.services.vm.memoryMb,
    servicesCores: plan.services.vm.cores,
  };
  return { plan, profile: plan.profile, hw, a, infra, n: plan.tenants.length, usableTb: usableTb(hw.userDiskCount, hw.userDiskTb, hw.raid), templateDiskGb, vlanBase };
}

/** Status of a resource that must fit: over → fail, above the warn threshold → warn. */
export function fit(needed: number, available: number, a: Assumptions): Status {
  if (needed > available) return "fail";
  return needed > a.warnAt * available ? "warn" : "ok";
}

const ratio = (needed: number, available: number) => (available > 0 ? needed / available : needed > 0 ? Infinity : 0);

/** A capacity line; utilisation is needed / available. */
export function line(resource: string, needed: number, available: number, unit: string, status: Status, note: string, key: string): CapacityLine {
  return { resource, needed, available, unit, utilisation: ratio(needed, available), status, note, key };
}

const sum = (s: Sizing, f: (t: TenantPlan) => number) => s.plan.tenants.reduce((acc, t) => acc + f(t), 0);
const GiB = (mb: number) => mb / MIB_PER_GIB;

/** Total RAM with `mb` of tenant memory, GiB, and how it adds up. */
function ramTotal(s: Sizing, label: string, mb: number): { total: number; text: string } {
  const { a, n, infra } = s;
  const overhead = ramOverheadMb(a, n, infra);
  const vms = vmCount(n, infra);
  const parts = `host ${num(a.hostReserveGb, 1)} GiB + VPN servers ${num(GiB(overhead.vpnMb), 1)} GiB + services ${num(GiB(infra.servicesMemoryMb), 1)} GiB + QEMU overhead ${num(GiB(overhead.qemuMb), 1)} GiB (${vms} VMs × ${a.qemuOverheadMb} MiB)`;
  const total = GiB(mb + overhead.totalMb);
  return { total, text: `${label} ${num(GiB(mb), 1)} GiB + ${parts} = ${num(total, 1)} GiB` };
}

function ramOf(s: Sizing, total: number): string {
  const ram = s.hw.ramGb;
  return total > ram ? `exceed ${num(ram)} GiB by ${num(total - ram, 1)} GiB` : `of ${num(ram)} GiB (${pct(total / ram)})`;
}

/** Balloon floors must fit: the balloon cannot go lower. */
export function ramFloorsLine(s: Sizing): CapacityLine {
  const floors = ramTotal(s, "balloon floors", sum(s, (t) => t.memory.minMb));
  const status = fit(floors.total, s.hw.ramGb, s.a);
  const note = status === "fail" ? `RAM: ${floors.text} ${ramOf(s, floors.total)}; add RAM (hardware.ramGb) or lower tenantDefaults.memory.minMb` : `${floors.text} ${ramOf(s, floors.total)}`;
  return line("RAM (floors)", floors.total, s.hw.ramGb, "GiB", status, note, "hardware.ramGb");
}

/** The expected load only warns: guests are ballooned towards their floors. */
export function ramExpectedLine(s: Sizing): CapacityLine {
  const { a } = s;
  const expected = ramTotal(s, `expected at ${pct(a.loadFactor)} load`, sum(s, (t) => t.memory.minMb + a.loadFactor * (t.memory.maxMb - t.memory.minMb)));
  const over = expected.total > s.hw.ramGb;
  const note = `${expected.text} ${ramOf(s, expected.total)}${over ? "; guests will be ballooned towards their floors under load: add RAM (hardware.ramGb)" : ""}`;
  return line("RAM (expected)", expected.total, s.hw.ramGb, "GiB", over ? "warn" : "ok", note, "hardware.ramGb");
}

/** Every balloon at its ceiling only warns. */
export function ramCeilingLine(s: Sizing): CapacityLine {
  const ceiling = ramTotal(s, "balloon ceilings", sum(s, (t) => t.memory.maxMb));
  const over = ceiling.total > s.hw.ramGb;
  const note = `${ceiling.text} ${ramOf(s, ceiling.total)}${over ? "; not every tenant can reach its maximum at once" : ""}`;
  return line("RAM (ceiling)", ceiling.total, s.hw.ramGb, "GiB", over ? "warn" : "ok", note, "hardware.ramGb");
}

/** Balloon floors below what the LibreRouter installer needs. */
export function installerLine(s: Sizing): CapacityLine {
  const { a, n } = s;
  const low = s.plan.tenants.filter((t) => t.memory.minMb < a.installerMinMb);
  const lowest = n ? Math.min(...s.plan.tenants.map((t) => t.memory.minMb)) : a.installerMinMb;
  const note = low.length
    ? `${low.length} of ${n} tenants may be ballooned to ${num(lowest)} MiB, below the LibreRouter installer's ${num(a.installerMinMb)} MiB minimum; install on the template at full memory or raise tenantDefaults.memory.minMb to ${a.installerMinMb}`
    : `every balloon floor is at least the installer's ${num(a.installerMinMb)} MiB`;
  return line("RAM (installer)", a.installerMinMb, lowest, "MiB", low.length ? "warn" : "ok", note, "tenantDefaults.memory.minMb");
}

/** Proxmox and the infrastructure VMs on the base disk. */
export function baseDiskLine(s: Sizing): CapacityLine {
  const { a, hw } = s;
  const infraVms = s.infra.vpnVms + 1;
  const needed = a.hostSystemGb + infraVms * a.infraVmDiskGb * GB_PER_GIB;
  const status = fit(needed, hw.baseDiskGb, a);
  const verdict = needed > hw.baseDiskGb ? `exceed ${num(hw.baseDiskGb)} GB by ${num(needed - hw.baseDiskGb, 1)} GB; use a larger base disk (hardware.baseDiskGb)` : `of ${num(hw.baseDiskGb)} GB`;
  const note = `${status === "fail" ? "base disk: " : ""}Proxmox ${a.hostSystemGb} GB + ${infraVms} infrastructure VMs × ${a.infraVmDiskGb} GiB = ${num(needed, 1)} GB ${verdict}`;
  return line("disk (base)", needed, hw.baseDiskGb, "GB", status, note, "hardware.baseDiskGb");
}

/** The template and the tenants' clones on the user array; thin clones warn when written full would not fit. */
export function tenantDiskLine(s: Sizing): CapacityLine {
  const { a, hw, n, usableTb: usable } = s;
  const growth = a.cloneMode === "linked" ? a.linkedCloneGrowth : 1;
  const tb = (gib: number) => (gib * GB_PER_GIB) / 1000;
  const allGib = sum(s, (t) => t.diskGb);
  const neededTb = tb(s.templateDiskGb + sum(s, (t) => t.diskGb * growth));
  const ceilingTb = tb(s.templateDiskGb + allGib);
  let status = fit(neededTb, usable, a);
  if (status === "ok" && ceilingTb > usable) status = "warn";
  const how = `template ${s.templateDiskGb} GiB + ${n} ${a.cloneMode} clones × ${a.cloneMode === "linked" ? `${pct(growth)} of ` : ""}their disk (${num(allGib)} GiB in all) = ${num(neededTb, 2)} TB; ${hw.userDiskCount} × ${hw.userDiskTb} TB ${hw.raid} = ${num(usable, 2)} TB usable`;
  const note =
    status === "fail"
      ? `disk: ${how}: short by ${num(neededTb - usable, 2)} TB; add disks (hardware.userDiskCount, hardware.userDiskTb), keep linked clones (assumptions.cloneMode) or lower tenantDefaults.diskGb`
      : `${how}; if every disk is written full: ${num(ceilingTb, 2)} TB${ceilingTb > usable ? ` exceeds the array by ${num(ceilingTb - usable, 2)} TB (thin provisioning: watch usage)` : ""}; ${num(n ? (usable * 1000) / n : 0, 1)} GB per tenant`;
  return line("disk (tenants)", neededTb, usable, "TB", status, note, "hardware.userDiskTb");
}

/** vCPUs against hardware threads × the overcommit limit. */
export function cpuLine(s: Sizing): CapacityLine {
  const { a, hw } = s;
  const vcpus = vcpuCount(sum(s, (t) => t.cores), s.infra);
  const cpu = cpuFit(vcpus, hw, a);
  const how = `${vcpus} vCPUs on ${hw.cpuCores} cores × ${hw.threadsPerCore} threads = ${num(cpu.perThread, 1)} vCPUs per thread (limit ${a.vcpuPerThreadMax}, assumptions.vcpuPerThreadMax)`;
  const note = vcpus > cpu.available ? `CPU: ${how} allows ${num(cpu.available)}; needs ${cpu.coresNeeded} cores (hardware.cpuCores) or fewer tenants` : `${how} allows ${num(cpu.available)}`;
  return line("CPU", vcpus, cpu.available, "vCPU", fit(vcpus, cpu.available, a), note, "hardware.cpuCores");
}

/** Public addresses: tenants + host + VPN servers + services. */
export function publicIpLine(s: Sizing): CapacityLine {
  const { plan, n } = s;
  const { total, usable } = plan.publicAddresses;
  const needed = n + 2 + plan.servers.length;
  const how = `${plan.publicPools.length} pools = ${num(total)} addresses, ${usable} usable (no network, broadcast, gateway or reserved); ${n} tenants + host + ${plan.servers.length} VPN servers + services = ${needed}`;
  const note = needed > usable ? `public IPs: ${how}: short by ${needed - usable}; add a pool to network.publicPools` : `${how}; ${usable - needed} spare`;
  return line("public IPs", needed, usable, "addresses", fit(needed, usable, s.a), note, "network.publicPools");
}

/** VLAN id = vlanBase + slot must stay ≤ 4094. */
export function vlanLine(s: Sizing): CapacityLine {
  const maxSlot = s.n ? Math.max(...s.plan.tenants.map((t) => t.slot)) : 0;
  const available = 4094 - s.vlanBase;
  const vlan = s.vlanBase + maxSlot;
  const note =
    maxSlot > available
      ? `VLANs: highest slot ${maxSlot} needs VLAN ${vlan}, above 4094; lower network.vlanBase (${s.vlanBase}) or move tenants beyond 4094 to a Proxmox SDN VXLAN zone`
      : `highest slot ${maxSlot} → VLAN ${vlan} of 4094 (network.vlanBase ${s.vlanBase})`;
  return line("VLANs", maxSlot, available, "VLAN ids", fit(maxSlot, available, s.a), note, "network.vlanBase");
}

/** Tenants against what the profile is built for. */
export function tenantsLine(s: Sizing): CapacityLine {
  const { n, hw, profile } = s;
  const note =
    n > hw.maxTenants
      ? `tenants: the stack declares ${n} tenants, the ${profile} profile is built for ${hw.maxTenants}: remove ${n - hw.maxTenants} or choose a larger profile (set hardware.maxTenants only with hardware that holds them)`
      : `${n} of the ${profile} profile's ${hw.maxTenants}`;
  return line("tenants", n, hw.maxTenants, "tenants", n > hw.maxTenants ? "fail" : "ok", note, "profile");
}

/** The guaranteed share and the share at the stated concurrency. */
export function bandwidthLine(s: Sizing): CapacityLine {
  const { a, hw, n } = s;
  const active = n * a.concurrency;
  const needed = active * a.minMbpsPerActiveTenant;
  const how = `guaranteed ${num(hw.uplinkMbps)} Mbps / ${n} tenants = ${num(n ? hw.uplinkMbps / n : hw.uplinkMbps, 2)} Mbps each; at ${pct(a.concurrency)} concurrency ${num(active)} active tenants get ${num(active ? hw.uplinkMbps / active : hw.uplinkMbps, 2)} Mbps each (floor ${a.minMbpsPerActiveTenant} Mbps)${hw.interconnect !== "none" ? `; interconnect ${hw.interconnect}` : ""}`;
  const note = needed > hw.uplinkMbps ? `bandwidth: ${how}: ${num(needed)} Mbps needed; raise hardware.uplinkMbps` : how;
  return line("bandwidth", needed, hw.uplinkMbps, "Mbps", fit(needed, hw.uplinkMbps, a), note, "hardware.uplinkMbps");
}

/** Over all PSUs fails; over N+1 (one PSU failed) warns. */
export function powerLine(s: Sizing): CapacityLine {
  const { a, hw, n } = s;
  const watts = powerWatts(a, n, hw.userDiskCount);
  const psu = psuWatts(hw);
  let status = fit(watts, psu.total, a);
  if (status === "ok" && watts > psu.redundant) status = "warn";
  const how = `host ${a.hostIdleW} W + ${n} tenants × ${a.wattsPerTenant} W + ${hw.userDiskCount} disks × ${a.wattsPerDisk} W = ${num(watts)} W (${num((watts * 730) / 1000)} kWh/month); ${hw.psuCount} × ${hw.psuWatts} W = ${num(psu.total)} W, ${num(psu.redundant)} W with one PSU failed`;
  const note = status === "fail" ? `power: ${how}: short by ${num(watts - psu.total)} W; add power supplies (hardware.psuCount)` : `${how}${watts > psu.redundant ? "; no PSU redundancy left" : ""}`;
  return line("power", watts, psu.total, "W", status, note, "hardware.psuCount");
}

/** Revenue, margin, payback and storage cost. */
export function money(s: Sizing): Money {
  const { a, hw, n, usableTb: usable } = s;
  const revenue = n * hw.priceEurPerTenantMonth;
  const margin = revenue - hw.recurringEurPerMonth;
  return {
    capexEur: hw.capexEur,
    recurringEurPerMonth: hw.recurringEurPerMonth,
    revenueEurPerMonth: revenue,
    grossMarginEurPerMonth: margin,
    paybackMonths: margin > 0 ? hw.capexEur / margin : null,
    ownCostEurPerTbMonth: usable > 0 ? (hw.recurringEurPerMonth + hw.capexEur / a.amortisationMonths) / usable : Infinity,
    cloudStorageEurPerMonth: usable * a.cloudStorageEurPerTbMonth,
  };
}

/** Money is advisory: a late or missing payback warns and never blocks a deployment. */
export function moneyLine(s: Sizing, m: Money): CapacityLine {
  const { a, hw, n } = s;
  const payback = m.paybackMonths;
  const status: Status = payback === null || payback > a.paybackWarnMonths ? "warn" : "ok";
  const how = `${n} tenants × ${num(hw.priceEurPerTenantMonth, 2)} EUR = ${num(m.revenueEurPerMonth)} EUR/month − recurring ${num(hw.recurringEurPerMonth)} = gross margin ${num(m.grossMarginEurPerMonth)} EUR/month; payback ${payback === null ? "never" : `${num(hw.capexEur)} / ${num(m.grossMarginEurPerMonth)} = ${num(payback, 1)} months`}; storage ${num(m.ownCostEurPerTbMonth, 1)} EUR/TB/month all-in vs cloud ${a.cloudStorageEurPerTbMonth} EUR/TB/month (${num(m.cloudStorageEurPerMonth)} EUR/month for ${num(s.usableTb, 2)} TB, storage only)`;
  const note = `${how}${status === "warn" ? `; payback beyond ${a.paybackWarnMonths} months: review hardware.priceEurPerTenantMonth and costs` : ""}`;
  return line("money", hw.recurringEurPerMonth, m.revenueEurPerMonth, "EUR/month", status, note, "hardware.priceEurPerTenantMonth");
}
