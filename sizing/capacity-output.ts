/**
 * The contract between the program and the policy pack: index.ts exports `capacityOutput(report)` as the
 * stack output named `CAPACITY_OUTPUT`, and the pack's "stack fits its profile" check reads it back.
 */
import type { CapacityReport, Status } from "./capacity";

/** Name of the stack output (index.ts's `export const capacityReport`). */
export const CAPACITY_OUTPUT = "capacityReport";

export interface CapacityOutputLine {
  readonly resource: string;
  readonly needed: number;
  readonly available: number;
  readonly unit: string;
  readonly status: Status;
  /** How the figures add up; for warn/fail, what to change (the policy quotes it for a failing line). */
  readonly note: string;
}

/** A cluster node's RAM as the "placement fits its nodes" policy weighs the VMs placed on it. */
export interface CapacityOutputNode {
  readonly name: string;
  readonly ramGb: number;
  /** RAM no VM may use: the host's reserve and Ceph's daemons, GiB. */
  readonly reservedGb: number;
  /** QEMU's own RAM per running VM, MiB. */
  readonly qemuOverheadMb: number;
}

/** The verdict and one row per resource: no hardware, assumptions, money or findings; clusters add their nodes. */
export interface CapacityOutput {
  readonly verdict: Status;
  readonly profile: string;
  readonly tenants: number;
  readonly lines: readonly CapacityOutputLine[];
  readonly nodes?: readonly CapacityOutputNode[];
}

/** The stack output for a capacity report. */
export function capacityOutput(report: CapacityReport): CapacityOutput {
  return {
    verdict: report.verdict,
    profile: report.profile,
    tenants: report.tenants,
    lines: report.lines.map((l) => ({ resource: l.resource, needed: l.needed, available: l.available, unit: l.unit, status: l.status, note: l.note })),
    ...(report.nodes ? { nodes: report.nodes.map((n) => ({ name: n.name, ramGb: n.ramGb, reservedGb: n.reservedGb, qemuOverheadMb: n.qemuOverheadMb })) } : {}),
  };
}
