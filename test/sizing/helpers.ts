/** Shared fixtures for the sizing tests: the committed stacks, and plans changed in one place. */
import { resolve } from "node:path";
import { readStackFile } from "../../config/load";
import type { StackInput } from "../../config/schema";
import { buildPlan } from "../../plan/build";
import type { Plan } from "../../plan/types";
import type { CapacityLine, CapacityReport } from "../../sizing/capacity";
import { stackCapacity } from "../../stack/compile";

export const ROOT = resolve(__dirname, "../..");

/** The committed stack file's config, optionally changed (a deep copy; the file is not touched). */
export function stackConfig(stack: string, mutate?: (c: StackInput) => void): StackInput {
  // The committed files are valid stack configs (test/plan/stacks.test.ts builds each).
  const c = structuredClone(readStackFile(ROOT, stack)) as StackInput;
  mutate?.(c);
  return c;
}

export function planOf(stack: string, mutate?: (c: StackInput) => void): Plan {
  return buildPlan(stackConfig(stack, mutate), stack);
}

/** The capacity report, whatever its verdict (compileStack would refuse a failing one). */
export function reportOf(stack: string, mutate?: (c: StackInput) => void): CapacityReport {
  return stackCapacity(stackConfig(stack, mutate), stack).capacity;
}

/** The line for `resource` (fails loudly when missing). */
export function lineOf(r: CapacityReport, resource: string): CapacityLine {
  const l = r.lines.find((x) => x.resource === resource);
  if (!l) throw new Error(`no line "${resource}" in ${r.lines.map((x) => x.resource).join(", ")}`);
  return l;
}

/** MiB → GiB and GiB → decimal TB, written out here so the tests do not reuse the code's constants. */
export const gib = (mib: number) => mib / 1024;
export const tbOfGib = (g: number) => (g * 1024 ** 3) / 1e12;
