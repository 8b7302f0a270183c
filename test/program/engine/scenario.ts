/**
 * Runs one change scenario: the program under mocks before and after, classified (classify.ts) and printed
 * (print.ts) into the test output, plus the invariants every scenario must keep.
 */
import { readStackFile } from "../../../config/load";
import { type ProgramRun, runProgram } from "../harness";
import { type ClassifyOptions, type EnginePlan, changes, classify } from "./classify";
import { printPlan } from "./print";

export const ROOT = `${__dirname}/../../..`;

export type Raw = Record<string, unknown> & { tenants: Record<string, Record<string, unknown>> };

/** The committed stack file's `librerouter-hosting:*` config, as a fresh copy. */
export function stackConfig(stack: string): Raw {
  return structuredClone(readStackFile(ROOT, stack)) as Raw;
}

export interface Scenario {
  readonly before: ProgramRun;
  readonly after: ProgramRun;
  readonly plan: EnginePlan;
  /** `[op, name, changed paths]` of every step that is not "same", sorted by name. */
  readonly changes: [string, string, string[]][];
}

/** Runs are deterministic: one run per (stack, config) within a test file. */
const cache = new Map<string, Promise<ProgramRun>>();
function run(stack: string, raw: Raw): Promise<ProgramRun> {
  const key = JSON.stringify([stack, raw]);
  if (!cache.has(key)) cache.set(key, runProgram(stack, raw));
  return cache.get(key) as Promise<ProgramRun>;
}

/** Both runs, the classified plan, and the plan printed the way `pulumi preview` prints it. */
export async function scenario(title: string, stack: string, before: Raw, after: Raw | (() => Promise<ProgramRun>), opts: ClassifyOptions = {}): Promise<Scenario> {
  const b = await run(stack, before);
  const a = typeof after === "function" ? await after() : await run(stack, after);
  for (const [run, label] of [[b, "before"], [a, "after"]] as const) if (run.error) throw new Error(`${title}: the ${label} run failed: ${run.error.message}`);
  const plan = classify(b.resources, a.resources, opts);
  process.stdout.write(printPlan(title, plan));
  return { before: b, after: a, plan, changes: changes(plan) };
}

/**
 * The change-safety invariants, for every scenario: nothing changes outside `allowed` (the scenario's tenant and the
 * shared resources the test names with its reason), no tenant VM is replaced, no delete script runs except those of
 * `removed` (the removed tenant's commands), the engine refuses nothing unless `refusals` names it, and every input
 * passes the providers' own checks.
 */
export function invariantViolations(s: Scenario, allowed: (name: string) => boolean, removed: readonly string[] = [], refusals: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const st of s.plan.steps) {
    if (st.op === "same") continue;
    if (!allowed(st.name)) out.push(`${st.name}: ${st.op} outside the scenario`);
    if (st.type === "proxmoxve:index/vmLegacy:VmLegacy" && st.name.startsWith("tenant-") && st.op.startsWith("replace")) out.push(`${st.name}: tenant VM ${st.op}`);
    if (st.refused && !refusals.includes(st.name)) out.push(`${st.name}: refused (${st.refused})`);
    for (const m of st.invalid) out.push(`${st.name}: provider rejects ${m}`);
  }
  for (const d of s.plan.deleteScripts) if (!removed.includes(d.name)) out.push(`${d.name}: delete script runs (${d.when})`);
  return out;
}
