/**
 * Stack config → plan + capacity report, refusing a stack whose hardware does not hold it. The Pulumi
 * program and the CLIs call this one function, so they refuse with the same words. Pure.
 */
import { ConfigError, ConfigIssue } from "../config/errors";
import { assessCapacity, CapacityReport } from "../sizing/capacity";
import { buildPlan } from "./build";
import type { Plan } from "./types";

export interface CompiledStack {
  readonly plan: Plan;
  readonly capacity: CapacityReport;
}

/** One ConfigIssue per FAIL line: the key to change and the shortfall in words. */
export function capacityIssues(report: CapacityReport): ConfigIssue[] {
  return report.lines.filter((l) => l.status === "fail").map((l) => ({ key: l.key, message: l.note }));
}

/** buildPlan + assessCapacity. Throws ConfigError for a bad config or for every resource that does not fit. */
export function compileStack(raw: unknown, stack: string): CompiledStack {
  const plan = buildPlan(raw, stack);
  const capacity = assessCapacity(plan);
  const issues = capacityIssues(capacity);
  if (issues.length) throw new ConfigError(issues, stack);
  return { plan, capacity };
}
