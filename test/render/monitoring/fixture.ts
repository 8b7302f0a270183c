/** A stack with monitoring on, its plan and monitoring plan (warnAt 0.9, the assumption's default). */
import type { StackInput } from "../../../config/schema";
import { type MonitoringPlan, planMonitoring } from "../../../plan/monitoring";
import { planStack } from "../../../plan/build";
import type { Plan } from "../../../plan/types";
import { validateStack } from "../../../plan/validate";
import { baseConfig, withChange } from "../../config/fixture";

export function monitored(change: (c: StackInput) => void = () => undefined, warnAt = 0.9): { plan: Plan; mon: MonitoringPlan } {
  const valid = validateStack(withChange(baseConfig(), change), "test");
  const plan = planStack(valid, "test");
  return { plan, mon: planMonitoring(plan, valid.config.monitoring, warnAt) };
}
