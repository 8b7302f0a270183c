/**
 * Does the stack's hardware hold its tenants? One pure function from the plan (and the stack's hardware and
 * assumption overrides) to a report with one line per resource. FAIL lines name the shortfall and the config key
 * to change; `stack/compile.ts` turns them into a ConfigError so the Pulumi program and the CLIs refuse with the
 * same words. Pure.
 */
import type { Plan } from "../plan/types";
import { VNI_MAX } from "../config/cluster-schema";
import { ASSUMPTION_DOCS, Assumptions, CEPH_ASSUMPTION_DOCS, CEPH_ASSUMPTIONS, CephAssumptions, resolveAssumptions } from "./assumptions";
import * as L from "./capacity-lines";
import * as M from "./monitoring";
import * as C from "./cluster";
import { num } from "./format";
import { Finding, seedFindings } from "./findings";
import { Hardware, PROFILES, ProfileName, resolveHardware } from "./profiles";

export type { CapacityLine, Money, Status } from "./capacity-lines";

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
  readonly lines: readonly L.CapacityLine[];
  readonly money: L.Money;
  readonly findings: readonly Finding[];
  /** Worst status of all lines. */
  readonly verdict: L.Status;
  /** Clusters only (plan.nodes.length > 1): what each node runs and has. */
  readonly nodes?: readonly C.NodeFigures[];
}

/** The capacity report of a plan: its profile's hardware with the stack's overrides, checked resource by resource. */
export function assessCapacity(plan: Plan): CapacityReport {
  const profile = plan.profile;
  const { hardware: hw, overridden: hwSet } = resolveHardware(profile, plan.sizing.hardware);
  const { assumptions: a, overridden: aSet } = resolveAssumptions(plan.sizing.assumptions);
  const s = L.sizing(plan, hw, a, plan.sizing.templateDiskGb, plan.sizing.vlanBase);
  const cluster = plan.nodes.length > 1 ? clusterLines(s) : undefined;
  const money = cluster?.money ?? L.money(s);
  const lines = cluster?.lines ?? [
    L.ramFloorsLine(s),
    L.ramExpectedLine(s),
    L.ramCeilingLine(s),
    L.installerLine(s),
    L.baseDiskLine(s),
    L.tenantDiskLine(s),
    L.cpuLine(s),
    L.publicIpLine(s),
    L.vlanLine(s),
    L.tenantsLine(s),
    L.bandwidthLine(s),
    L.powerLine(s),
    M.servicesRamLine(s, s.plan.monitoring),
    M.vpnRamLine(s, s.plan.monitoring),
    M.hostReserveLine(s, s.plan.monitoring),
    M.servicesDiskLine(s, s.plan.monitoring),
    L.moneyLine(s, money),
  ];
  const rows: AssumptionRow[] = [
    ...(Object.keys(ASSUMPTION_DOCS) as (keyof Assumptions)[]).map((k) => ({ key: `assumptions.${k}`, value: a[k], ...ASSUMPTION_DOCS[k], source: aSet.includes(k) ? ("stack" as const) : ("default" as const) })),
    { key: "vpn.memoryMb", value: s.infra.vpnMemoryMb, unit: "MiB/VM", rationale: "each of the 2 VPN servers, from the plan (no ballooning)", source: "plan" },
    { key: "services.memoryMb", value: s.infra.servicesMemoryMb, unit: "MiB", rationale: "the common-services VM, from the plan", source: "plan" },
    { key: "bans.keepFor", value: plan.bans.profile.keepFor, unit: "duration", rationale: "the ban grid's decision store keeps alerts this long (flush max_age): the longer of bans.repeat.window and bans.repeat.maxBanTime, from the plan", source: "plan" },
    ...(cluster && plan.ha.datastore
      ? [
          ...(Object.keys(CEPH_ASSUMPTION_DOCS) as (keyof CephAssumptions)[]).map((k) => ({ key: `ceph.${k}`, value: CEPH_ASSUMPTIONS[k], ...CEPH_ASSUMPTION_DOCS[k], source: "default" as const })),
          { key: "ha.replicas", value: plan.ha.replicas, unit: "copies", rationale: "Ceph pool size: each block on this many nodes, from the plan", source: "plan" as const },
        ]
      : []),
  ];
  const order: L.Status[] = ["ok", "warn", "fail"];
  const verdict = lines.reduce<L.Status>((w, l) => (order.indexOf(l.status) > order.indexOf(w) ? l.status : w), "ok");
  return {
    stack: plan.stack,
    profile,
    tenants: s.n,
    hardware: hw,
    hardwareOverridden: hwSet,
    hardwareAssumed: Object.fromEntries(Object.entries(PROFILES[profile].assumed).filter(([k]) => !hwSet.includes(k as keyof Hardware))) as Record<string, string>,
    assumptions: rows,
    lines,
    money,
    findings: seedFindings(PROFILES[profile], a, { vpnMemoryMb: s.infra.vpnMemoryMb, vpnCores: s.infra.vpnCores, servicesMemoryMb: s.infra.servicesMemoryMb, servicesCores: s.infra.servicesCores }),
    verdict,
    ...(cluster ? { nodes: cluster.nodes } : {}),
  };
}

/** Under SDN a tenant's network is its VNI (sdn.vniBase + slot), not a VLAN id: the VLAN line checks VNIs instead. */
function vniLine(s: L.Sizing, vniBase: number): L.CapacityLine {
  const maxSlot = s.n ? Math.max(...s.plan.tenants.map((t) => t.slot)) : 0;
  const top = vniBase + maxSlot;
  const note = top > VNI_MAX ? `VNIs: highest slot ${maxSlot} needs VNI ${top}, above VXLAN's ${VNI_MAX}; lower sdn.vniBase` : `SDN: highest slot ${maxSlot} → VNI ${num(top)} of ${num(VNI_MAX)} (sdn.vniBase ${num(vniBase)}); VLAN ids are not used`;
  return L.line("VLANs", top, VNI_MAX, "VNIs", top > VNI_MAX ? "fail" : "ok", note, "sdn.vniBase");
}

/**
 * A cluster's lines: what the whole stack shares (addresses, VNIs, the infrastructure VMs' own sizes), then every
 * node on its own, Ceph with ha.datastore, N-1 per node and money for every node's chassis.
 */
function clusterLines(s: L.Sizing): { lines: L.CapacityLine[]; money: L.Money; nodes: C.NodeFigures[] } {
  const loads = C.nodeLoads(s);
  const k = loads.length;
  // The stack's hardware block is one node's chassis: money counts it once per node.
  const all: L.Sizing = { ...s, hw: { ...s.hw, capexEur: s.hw.capexEur * k, recurringEurPerMonth: s.hw.recurringEurPerMonth * k }, usableTb: s.usableTb * k };
  const money = L.money(all);
  const lines = [
    L.installerLine(s),
    L.publicIpLine(s),
    s.plan.sdn ? vniLine(s, s.plan.sdn.vniBase) : L.vlanLine(s),
    M.servicesRamLine(s, s.plan.monitoring),
    M.vpnRamLine(s, s.plan.monitoring),
    M.hostReserveLine(s, s.plan.monitoring),
    M.servicesDiskLine(s, s.plan.monitoring),
    ...C.nodeLines(s, loads),
    ...(s.plan.ha.datastore ? [C.cephDiskLine(s, loads), C.cephNetworkLine(s, loads)] : []),
    ...C.nMinusOneLines(s, loads),
    L.moneyLine(all, money),
  ];
  return { lines, money, nodes: C.nodeFigures(s, loads) };
}
