/**
 * The capacity check of a cluster (plan.nodes.length > 1): each node on its own RAM, cores and threads
 * (nodes[].hardware) against what is placed on it, the stack's `hardware` block standing for every node's chassis
 * (disks, PSUs, uplink, money per node); Ceph's cost when ha.datastore is set; and one N-1 line per node: can the
 * others carry what the HA manager restarts when it fails. Pure.
 */
import type { NodePlan } from "../plan/cluster";
import type { Plan, TenantPlan } from "../plan/types";
import { CEPH_ASSUMPTIONS, CephAssumptions } from "./assumptions";
import { CapacityLine, fit, line, Sizing, Status } from "./capacity-lines";
import { GB_PER_GIB, MIB_PER_GIB, num, pct } from "./format";
import { Hardware, usableTb } from "./profiles";

/** One VM besides the tenants' on a node. */
export interface InfraVm {
  readonly name: "vpn1" | "vpn2" | "services";
  readonly memoryMb: number;
  readonly cores: number;
}

/** What one node runs and what it has. */
export interface NodeLoad {
  readonly name: string;
  /** Position in plan.nodes (the API node first); the config key `nodes.<index>` when the API node is listed first. */
  readonly index: number;
  readonly hw: Hardware;
  readonly tenants: readonly TenantPlan[];
  readonly infra: readonly InfraVm[];
  readonly ceph?: { readonly osds: number; readonly mon: boolean; readonly ramGb: number; readonly threads: number };
  /** Balloon floors + host reserve + infra + QEMU + Ceph, GiB. */
  readonly floorsGb: number;
  /** vCPUs of the VMs on the node, and what its threads left by Ceph allow. */
  readonly vcpus: number;
  readonly vcpuAvailable: number;
}

/** Per-node figures the report prints beside the lines. */
export interface NodeFigures {
  readonly name: string;
  readonly tenants: number;
  readonly infra: readonly string[];
  readonly ramGb: number;
  readonly floorsGb: number;
  readonly vcpus: number;
  readonly vcpuAvailable: number;
  readonly osds: number;
  readonly cephRamGb: number;
  /** RAM no VM may use: the host's reserve and Ceph's daemons, GiB. */
  readonly reservedGb: number;
  /** QEMU's own RAM per running VM, MiB (assumptions.qemuOverheadMb). */
  readonly qemuOverheadMb: number;
}

const GiB = (mb: number) => mb / MIB_PER_GIB;
const sumOf = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((acc, x) => acc + f(x), 0);

/** The infrastructure VMs with the node each runs on. */
function infraVms(plan: Plan): (InfraVm & { node: string })[] {
  return [
    ...plan.servers.map((s) => ({ name: s.name, memoryMb: s.vm.memoryMb, cores: s.vm.cores, node: s.node })),
    { name: "services" as const, memoryMb: plan.services.vm.memoryMb, cores: plan.services.vm.cores, node: plan.services.node },
  ];
}

/** The node's hardware: its own RAM, cores and threads over the stack's `hardware` block (one chassis per node). */
export function nodeHardware(node: NodePlan, hw: Hardware): Hardware {
  return node.hardware ? { ...hw, ramGb: node.hardware.ramGb, cpuCores: node.hardware.cpuCores, threadsPerCore: node.hardware.threadsPerCore } : hw;
}

/** Every node's load: tenants by TenantPlan.node, VPN servers and services by their node, Ceph daemons with ha.datastore. */
export function nodeLoads(s: Sizing, c: CephAssumptions = CEPH_ASSUMPTIONS): NodeLoad[] {
  const { plan, a } = s;
  const infra = infraVms(plan);
  return plan.nodes.map((node, index) => {
    const hw = nodeHardware(node, s.hw);
    const tenants = plan.tenants.filter((t) => t.node === node.name);
    const own = infra.filter((v) => v.node === node.name).map(({ name, memoryMb, cores }) => ({ name, memoryMb, cores }));
    const mon = index < c.monCount;
    const ceph = plan.ha.datastore
      ? { osds: hw.userDiskCount, mon, ramGb: hw.userDiskCount * c.osdMemoryGb + (mon ? c.monMemoryGb + c.mgrMemoryGb : 0), threads: hw.userDiskCount * c.osdThreads + (mon ? c.monThreads + c.mgrThreads : 0) }
      : undefined;
    const vms = tenants.length + own.length;
    const floorsGb = GiB(sumOf(tenants, (t) => t.memory.minMb) + sumOf(own, (v) => v.memoryMb) + vms * a.qemuOverheadMb) + a.hostReserveGb + (ceph?.ramGb ?? 0);
    const vcpus = sumOf(tenants, (t) => t.cores) + sumOf(own, (v) => v.cores);
    const threads = hw.cpuCores * hw.threadsPerCore - (ceph?.threads ?? 0);
    return { name: node.name, index, hw, tenants, infra: own, ...(ceph ? { ceph } : {}), floorsGb, vcpus, vcpuAvailable: Math.max(0, threads) * a.vcpuPerThreadMax };
  });
}

export function nodeFigures(s: Sizing, loads: readonly NodeLoad[]): NodeFigures[] {
  return loads.map((l) => ({
    name: l.name,
    tenants: l.tenants.length,
    infra: l.infra.map((v) => v.name),
    ramGb: l.hw.ramGb,
    floorsGb: l.floorsGb,
    vcpus: l.vcpus,
    vcpuAvailable: l.vcpuAvailable,
    osds: l.ceph?.osds ?? 0,
    cephRamGb: l.ceph?.ramGb ?? 0,
    reservedGb: s.a.hostReserveGb + (l.ceph?.ramGb ?? 0),
    qemuOverheadMb: s.a.qemuOverheadMb,
  }));
}

const key = (l: NodeLoad, field: string) => `nodes.${l.index}.hardware.${field}`;
const PIN = "pin tenants to another node (tenants.<key>.node)";

/** RAM beyond the tenants' on a node, in words. */
function overheadText(s: Sizing, l: NodeLoad): string {
  const vms = l.tenants.length + l.infra.length;
  const infra = l.infra.length ? ` + ${l.infra.map((v) => `${v.name} ${num(GiB(v.memoryMb), 1)} GiB`).join(" + ")}` : "";
  const ceph = l.ceph ? ` + Ceph ${num(l.ceph.ramGb, 1)} GiB (${l.ceph.osds} OSDs × ${CEPH_ASSUMPTIONS.osdMemoryGb} GiB${l.ceph.mon ? ` + MON ${CEPH_ASSUMPTIONS.monMemoryGb} + MGR ${CEPH_ASSUMPTIONS.mgrMemoryGb} GiB` : ""})` : "";
  return `host ${num(s.a.hostReserveGb, 1)} GiB${infra}${ceph} + QEMU overhead ${num(GiB(vms * s.a.qemuOverheadMb), 1)} GiB (${vms} VMs × ${s.a.qemuOverheadMb} MiB)`;
}

function nodeRamLines(s: Sizing, l: NodeLoad): CapacityLine[] {
  const ram = l.hw.ramGb;
  const over = l.floorsGb - GiB(sumOf(l.tenants, (t) => t.memory.minMb));
  const of = (total: number) => (total > ram ? `exceed ${num(ram)} GiB by ${num(total - ram, 1)} GiB` : `of ${num(ram)} GiB (${pct(total / ram)})`);
  const floorsTenants = GiB(sumOf(l.tenants, (t) => t.memory.minMb));
  const floors = `${l.tenants.length} tenants' balloon floors ${num(floorsTenants, 1)} GiB + ${overheadText(s, l)} = ${num(l.floorsGb, 1)} GiB`;
  const status = fit(l.floorsGb, ram, s.a);
  const floorsNote = status === "fail" ? `node ${l.name}: RAM: ${floors} ${of(l.floorsGb)}; ${PIN}, add RAM (${key(l, "ramGb")}) or lower tenantDefaults.memory.minMb` : `${floors} ${of(l.floorsGb)}`;
  const expectedTenants = GiB(sumOf(l.tenants, (t) => t.memory.minMb + s.a.loadFactor * (t.memory.maxMb - t.memory.minMb)));
  const expected = expectedTenants + over;
  const expectedOver = expected > ram;
  const expectedNote = `expected at ${pct(s.a.loadFactor)} load ${num(expectedTenants, 1)} GiB + the rest as above ${num(over, 1)} GiB = ${num(expected, 1)} GiB ${of(expected)}${expectedOver ? `; guests will be ballooned towards their floors under load: add RAM (${key(l, "ramGb")})` : ""}`;
  return [
    line(`${l.name}: RAM (floors)`, l.floorsGb, ram, "GiB", status, floorsNote, key(l, "ramGb")),
    line(`${l.name}: RAM (expected)`, expected, ram, "GiB", expectedOver ? "warn" : "ok", expectedNote, key(l, "ramGb")),
  ];
}

function nodeCpuLine(s: Sizing, l: NodeLoad): CapacityLine {
  const threads = l.hw.cpuCores * l.hw.threadsPerCore;
  const ceph = l.ceph ? ` − Ceph ${l.ceph.threads} threads (${l.ceph.osds} OSDs × ${CEPH_ASSUMPTIONS.osdThreads}${l.ceph.mon ? ` + MON + MGR` : ""})` : "";
  const how = `${l.vcpus} vCPUs on ${l.hw.cpuCores} cores × ${l.hw.threadsPerCore} threads = ${threads}${ceph}, × ${s.a.vcpuPerThreadMax} vCPUs per thread (assumptions.vcpuPerThreadMax) = ${num(l.vcpuAvailable)}`;
  const status = fit(l.vcpus, l.vcpuAvailable, s.a);
  const note = status === "fail" ? `node ${l.name}: CPU: ${how}; ${PIN} or add cores (${key(l, "cpuCores")})` : how;
  return line(`${l.name}: CPU`, l.vcpus, l.vcpuAvailable, "vCPU", status, note, key(l, "cpuCores"));
}

function nodeTenantsLine(s: Sizing, l: NodeLoad): CapacityLine {
  const n = l.tenants.length;
  const max = l.hw.maxTenants;
  const note =
    n > max
      ? `node ${l.name}: tenants: ${n} placed here, the ${s.profile} profile is built for ${max} per node: ${PIN}, add a node to nodes, or set hardware.maxTenants only with hardware that holds them`
      : `${n} of the ${s.profile} profile's ${max} per node`;
  return line(`${l.name}: tenants`, n, max, "tenants", n > max ? "fail" : "ok", note, "tenants.<key>.node");
}

/** The base disk: Proxmox, the infra VMs' disks unless they are on Ceph, a monitor's store. */
function nodeBaseDiskLine(s: Sizing, l: NodeLoad): CapacityLine {
  const { a } = s;
  const local = s.plan.ha.datastore ? 0 : l.infra.length;
  const mon = l.ceph?.mon ? CEPH_ASSUMPTIONS.monDiskGb : 0;
  const needed = a.hostSystemGb + local * a.infraVmDiskGb * GB_PER_GIB + mon;
  const status = fit(needed, l.hw.baseDiskGb, a);
  const how = `Proxmox ${a.hostSystemGb} GB + ${local} infrastructure VMs × ${a.infraVmDiskGb} GiB${s.plan.ha.datastore ? " (their disks are on Ceph)" : ""}${mon ? ` + Ceph MON store ${mon} GB` : ""} = ${num(needed, 1)} GB of ${num(l.hw.baseDiskGb)} GB`;
  return line(`${l.name}: disk (base)`, needed, l.hw.baseDiskGb, "GB", status, status === "fail" ? `node ${l.name}: base disk: ${how}; use a larger base disk (hardware.baseDiskGb)` : how, "hardware.baseDiskGb");
}

const tbOf = (gib: number) => (gib * GB_PER_GIB) / 1000;
const cloneGrowth = (s: Sizing) => (s.a.cloneMode === "linked" ? s.a.linkedCloneGrowth : 1);

/** Raw TB Ceph holds: replicas × (the infra VMs' disks + with ha.tenants every node's template and the clones). */
export function cephRawNeededTb(s: Sizing): number {
  const infra = s.plan.servers.length + 1;
  const tenants = s.plan.ha.tenants ? s.plan.nodes.length * s.templateDiskGb + sumOf(s.plan.tenants, (t) => t.diskGb * cloneGrowth(s)) : 0;
  return s.plan.ha.replicas * tbOf(infra * s.a.infraVmDiskGb + tenants);
}

/**
 * A node's tenants' disks on its local datastore (without ha.tenants). The user disks are Ceph's OSDs too: the
 * local datastore has what Ceph's share of the node (its raw need / nodes) leaves of the array.
 */
function nodeTenantDiskLine(s: Sizing, l: NodeLoad): CapacityLine {
  const { a } = s;
  const array = usableTb(l.hw.userDiskCount, l.hw.userDiskTb, l.hw.raid);
  const cephShare = s.plan.ha.datastore ? cephRawNeededTb(s) / s.plan.nodes.length : 0;
  const available = Math.max(0, array - cephShare);
  const allGib = sumOf(l.tenants, (t) => t.diskGb);
  const needed = tbOf(s.templateDiskGb + allGib * cloneGrowth(s));
  const ceiling = tbOf(s.templateDiskGb + allGib);
  let status = fit(needed, available, a);
  if (status === "ok" && ceiling > available) status = "warn";
  const how = `template ${s.templateDiskGb} GiB + ${l.tenants.length} ${a.cloneMode} clones (${num(allGib)} GiB in all) = ${num(needed, 2)} TB, written full ${num(ceiling, 2)} TB; ${l.hw.userDiskCount} × ${l.hw.userDiskTb} TB ${l.hw.raid} = ${num(array, 2)} TB${cephShare ? ` − Ceph's share ${num(cephShare, 2)} TB` : ""} = ${num(available, 2)} TB local`;
  const note = status === "fail" ? `node ${l.name}: disk: ${how}; ${PIN} or add disks (hardware.userDiskCount, hardware.userDiskTb)` : how;
  return line(`${l.name}: disk (tenants)`, needed, available, "TB", status, note, "hardware.userDiskTb");
}

function nodeBandwidthLine(s: Sizing, l: NodeLoad): CapacityLine {
  const { a } = s;
  const active = l.tenants.length * a.concurrency;
  const needed = active * a.minMbpsPerActiveTenant;
  const how = `${num(active)} active tenants (${pct(a.concurrency)} of ${l.tenants.length}) × ${a.minMbpsPerActiveTenant} Mbps = ${num(needed)} Mbps on the node's ${num(l.hw.uplinkMbps)} Mbps uplink`;
  const status = fit(needed, l.hw.uplinkMbps, a);
  return line(`${l.name}: bandwidth`, needed, l.hw.uplinkMbps, "Mbps", status, status === "fail" ? `node ${l.name}: bandwidth: ${how}; raise hardware.uplinkMbps or ${PIN}` : how, "hardware.uplinkMbps");
}

function nodePowerLine(s: Sizing, l: NodeLoad): CapacityLine {
  const { a } = s;
  const watts = a.hostIdleW + l.tenants.length * a.wattsPerTenant + l.hw.userDiskCount * a.wattsPerDisk;
  const total = l.hw.psuCount * l.hw.psuWatts;
  const redundant = (l.hw.psuCount - 1) * l.hw.psuWatts;
  let status = fit(watts, total, a);
  if (status === "ok" && watts > redundant) status = "warn";
  const how = `host ${a.hostIdleW} W + ${l.tenants.length} tenants × ${a.wattsPerTenant} W + ${l.hw.userDiskCount} disks × ${a.wattsPerDisk} W = ${num(watts)} W; ${l.hw.psuCount} × ${l.hw.psuWatts} W = ${num(total)} W, ${num(redundant)} W with one PSU failed${watts > redundant ? "; no PSU redundancy left" : ""}`;
  return line(`${l.name}: power`, watts, total, "W", status, status === "fail" ? `node ${l.name}: power: ${how}; add power supplies (hardware.psuCount)` : how, "hardware.psuCount");
}

/** Every per-node line, node by node. */
export function nodeLines(s: Sizing, loads: readonly NodeLoad[]): CapacityLine[] {
  return loads.flatMap((l) => [
    ...nodeRamLines(s, l),
    nodeCpuLine(s, l),
    nodeTenantsLine(s, l),
    nodeBaseDiskLine(s, l),
    ...(s.plan.ha.tenants ? [] : [nodeTenantDiskLine(s, l)]),
    nodeBandwidthLine(s, l),
    nodePowerLine(s, l),
  ]);
}

/** Ceph's raw space: full ratio fails, nearfull warns; with more nodes than replicas a failed node's copies must fit on the rest. */
export function cephDiskLine(s: Sizing, loads: readonly NodeLoad[], c: CephAssumptions = CEPH_ASSUMPTIONS): CapacityLine {
  const { plan } = s;
  const replicas = plan.ha.replicas;
  const nodes = loads.length;
  const raw = sumOf(loads, (l) => l.hw.userDiskCount * l.hw.userDiskTb);
  const biggest = Math.max(...loads.map((l) => l.hw.userDiskCount * l.hw.userDiskTb));
  // With replicas < nodes Ceph re-replicates a failed node's copies onto the others: size for the survivors.
  const recover = nodes > replicas;
  const base = recover ? raw - biggest : raw;
  const available = base * c.fullRatio;
  const needed = cephRawNeededTb(s);
  const what = `${replicas} replicas (ha.replicas) × (${plan.servers.length + 1} infrastructure VMs × ${s.a.infraVmDiskGb} GiB${plan.ha.tenants ? ` + ${nodes} templates × ${s.templateDiskGb} GiB + ${plan.tenants.length} clones × ${pct(cloneGrowth(s))} of their disk` : ""}) = ${num(needed, 2)} TB raw`;
  const have = `${nodes} nodes × ${loads[0].hw.userDiskCount} OSDs × ${loads[0].hw.userDiskTb} TB = ${num(raw, 2)} TB raw${recover ? `, ${num(base, 2)} TB with the largest node failed (Ceph re-replicates its copies)` : `; with ${replicas} replicas on ${nodes} nodes a failed node leaves its placement groups degraded (2 copies, min_size) until it returns`}, × full ratio ${c.fullRatio} = ${num(available, 2)} TB`;
  if (replicas > nodes) {
    return line("Ceph (disk)", replicas, nodes, "nodes", "fail", `Ceph: ha.replicas ${replicas} needs ${replicas} nodes (one copy per host); add nodes or lower ha.replicas`, "ha.replicas");
  }
  let status: Status = needed > available ? "fail" : "ok";
  if (status === "ok" && needed > base * c.nearfullRatio) status = "warn";
  const note = status === "fail" ? `Ceph disk: ${what}; ${have}: short by ${num(needed - available, 2)} TB; add disks (hardware.userDiskCount, hardware.userDiskTb)` : `${what}; ${have} (${pct(needed / base)} of raw${status === "warn" ? `, above the nearfull ratio ${c.nearfullRatio}` : ""})`;
  return line("Ceph (disk)", needed, available, "TB", status, note, "hardware.userDiskCount");
}

/** Replication traffic on the Ceph network, and how long re-replicating a node's data takes. */
export function cephNetworkLine(s: Sizing, loads: readonly NodeLoad[], c: CephAssumptions = CEPH_ASSUMPTIONS): CapacityLine {
  const { plan, a, hw } = s;
  const active = plan.ha.tenants ? plan.tenants.length * a.concurrency : 0;
  const writes = (plan.servers.length + 1) * c.infraWriteMbps + active * c.tenantWriteMbps;
  const needed = (plan.ha.replicas - 1) * writes;
  const available = c.networkGbps * 1000;
  const perNodeTb = cephRawNeededTb(s) / loads.length;
  const minutes = (perNodeTb * 8e6) / available / 60;
  let status = fit(needed, available, a);
  const shared = hw.interconnect === "none";
  if (status === "ok" && shared) status = "warn";
  const how = `(${plan.ha.replicas} − 1) copies × (${plan.servers.length + 1} infrastructure VMs × ${c.infraWriteMbps} Mbps${active ? ` + ${num(active)} active tenants × ${c.tenantWriteMbps} Mbps` : ""}) = ${num(needed)} Mbps of ${c.networkGbps} Gbps; refilling one node's ${num(perNodeTb, 2)} TB takes ${num(minutes, 1)} min at line rate`;
  const note =
    status === "fail"
      ? `Ceph network: ${how}: give Ceph a faster network (hardware.interconnect)`
      : `${how}${shared ? "; hardware.interconnect is none: Ceph would share the tenants' uplink, give it its own ≥ 10 Gbps links" : `; on ${hw.interconnect}`}`;
  return line("Ceph (network)", needed, available, "Mbps", status, note, "hardware.interconnect");
}

/**
 * N-1, one line per node: when it fails, can the others carry what the HA manager restarts elsewhere? With
 * ha.datastore that is its infrastructure VMs, and with ha.tenants its tenants too; other tenants stay down until
 * it returns (their disks are on its local storage). FAIL, not WARN, when the restarted VMs' RAM does not fit: the
 * stack declares HA, and a node failure is the event HA is for; a services VM that cannot restart takes DNS and the
 * ban grid with it. vCPUs beyond the overcommit limit warn (slower until the node returns, nothing down). Without
 * ha.datastore nothing restarts: WARN.
 */
export function nMinusOneLines(s: Sizing, loads: readonly NodeLoad[]): CapacityLine[] {
  const { a, plan } = s;
  return loads.map((l) => {
    const resource = `N-1 ${l.name}`;
    const down = plan.ha.tenants && plan.ha.datastore ? [] : l.tenants;
    const stays = down.length ? `; ${down.length} tenants stay down until ${l.name} returns (${plan.ha.datastore ? "ha.tenants is false: their disks are on its local storage" : "no ha.datastore"})` : "";
    if (!plan.ha.datastore) {
      const note = `${l.name} fails: nothing restarts elsewhere (no ha.datastore)${l.infra.length ? `; ${l.infra.map((v) => v.name).join(", ")} stay down` : ""}${stays}; set ha.datastore (shared storage) for the HA manager to restart VMs`;
      return line(resource, 0, 0, "GiB", "warn", note, "ha.datastore");
    }
    const moved = [...l.infra.map((v) => ({ mb: v.memoryMb, cores: v.cores })), ...(plan.ha.tenants ? l.tenants.map((t) => ({ mb: t.memory.minMb, cores: t.cores })) : [])];
    const neededGb = GiB(sumOf(moved, (v) => v.mb + a.qemuOverheadMb));
    const vcpus = sumOf(moved, (v) => v.cores);
    const rest = loads.filter((x) => x !== l);
    const spareGb = sumOf(rest, (x) => Math.max(0, x.hw.ramGb - x.floorsGb));
    const spareVcpu = sumOf(rest, (x) => Math.max(0, x.vcpuAvailable - x.vcpus));
    const biggestVm = Math.max(0, ...moved.map((v) => GiB(v.mb + a.qemuOverheadMb)));
    const roomiest = Math.max(0, ...rest.map((x) => x.hw.ramGb - x.floorsGb));
    // RAM is what a restart needs: a VM the survivors cannot hold does not start. vCPUs beyond the overcommit
    // limit only slow everyone down until the node returns: warn.
    const fits = neededGb <= spareGb && biggestVm <= roomiest;
    const cpuOver = vcpus > spareVcpu;
    const status: Status = !fits ? "fail" : cpuOver || neededGb > a.warnAt * spareGb ? "warn" : "ok";
    const cpuNote = cpuOver ? `; the survivors run ${num(vcpus - spareVcpu)} vCPUs beyond assumptions.vcpuPerThreadMax until ${l.name} returns (slower, not down): add cores (nodes.<i>.hardware.cpuCores) or a node` : "";
    const what = `${l.name} fails: the HA manager restarts ${l.infra.length ? l.infra.map((v) => v.name).join(", ") : "no infrastructure VM"}${plan.ha.tenants ? ` and ${l.tenants.length} tenants` : ""} (${num(neededGb, 1)} GiB at their floors, ${vcpus} vCPUs) on ${rest.map((x) => x.name).join(", ")} with ${num(spareGb, 1)} GiB and ${num(spareVcpu)} vCPUs spare`;
    const note = status === "fail" ? `N-1: ${what}: they do not fit; add RAM to the other nodes (nodes.<i>.hardware.ramGb) or add a node${stays}` : `${what} (${pct(spareGb ? neededGb / spareGb : 0)} of the spare RAM)${cpuNote}${stays}`;
    return line(resource, neededGb, spareGb, "GiB", status, note, "nodes");
  });
}
