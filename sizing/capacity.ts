/**
 * Does the stack's hardware hold its tenants? One pure function from the plan (and the stack's hardware and
 * assumption overrides) to a report with one line per resource. FAIL lines name the shortfall and the config key
 * to change; `stack/compile.ts` turns them into a ConfigError so the Pulumi program and the CLIs refuse with the
 * same words. Pure.
 */
import type { Plan } from "../plan/types";
import { ASSUMPTION_DOCS, Assumptions, resolveAssumptions } from "./assumptions";
import * as B from "./ban-grid";
import * as L from "./capacity-lines";
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
}

/** The capacity report of a plan: its profile's hardware with the stack's overrides, checked resource by resource. */
export function assessCapacity(plan: Plan): CapacityReport {
  const profile = plan.profile;
  const { hardware: hw, overridden: hwSet } = resolveHardware(profile, plan.sizing.hardware);
  const { assumptions: a, overridden: aSet } = resolveAssumptions(plan.sizing.assumptions);
  const s = L.sizing(plan, hw, a, plan.sizing.templateDiskGb, plan.sizing.vlanBase);
  const money = L.money(s);
  const lines = [
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
    B.servicesRamLine(s),
    B.vpnRamLine(s),
    B.hostGridLine(s),
    B.servicesDiskLine(s),
    L.moneyLine(s, money),
  ];
  const rows: AssumptionRow[] = [
    ...(Object.keys(ASSUMPTION_DOCS) as (keyof Assumptions)[]).map((k) => ({ key: `assumptions.${k}`, value: a[k], ...ASSUMPTION_DOCS[k], source: aSet.includes(k) ? ("stack" as const) : ("default" as const) })),
    { key: "vpn.memoryMb", value: s.infra.vpnMemoryMb, unit: "MiB/VM", rationale: "each of the 2 VPN servers, from the plan (no ballooning)", source: "plan" },
    { key: "services.memoryMb", value: s.infra.servicesMemoryMb, unit: "MiB", rationale: "the common-services VM, from the plan", source: "plan" },
    { key: "bans.keepFor", value: plan.bans.profile.keepFor, unit: "duration", rationale: "the ban grid's decision store keeps alerts this long (flush max_age): the longer of bans.repeat.window and bans.repeat.maxBanTime, from the plan", source: "plan" },
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
  };
}
