/**
 * Stack config → plan + capacity report, refusing a stack whose hardware does not hold it. It sits above plan/
 * and sizing/ and composes them; the Pulumi program and the CLIs call this one function, so they refuse with the
 * same words. Pure.
 */
import { ConfigError, ConfigIssue } from "../config/errors";
import { planStack } from "../plan/build";
import type { Plan } from "../plan/types";
import { validateStack } from "../plan/validate";
import { assessCapacity, CapacityReport } from "../sizing/capacity";

export interface CompiledStack {
  readonly plan: Plan;
  readonly capacity: CapacityReport;
}

/** One ConfigIssue per FAIL line: the key to change and the shortfall in words. */
export function capacityIssues(report: CapacityReport): ConfigIssue[] {
  return report.lines.filter((l) => l.status === "fail").map((l) => ({ key: l.key, message: l.note }));
}

/** Capacity of a stack that may not fit (reports print it whatever the verdict). Throws ConfigError for a bad config. */
export function stackCapacity(raw: unknown, stack: string): CompiledStack {
  const valid = validateStack(raw, stack);
  const plan = planStack(valid, stack);
  return { plan, capacity: assessCapacity(plan) };
}

/** Plan + capacity. Throws ConfigError for a bad config or for every resource that does not fit. */
export function compileStack(raw: unknown, stack: string): CompiledStack {
  const { plan, capacity } = stackCapacity(raw, stack);
  const issues = capacityIssues(capacity);
  if (issues.length) throw new ConfigError(issues, stack);
  return { plan, capacity };
}
