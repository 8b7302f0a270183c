/**
 * What the program-compliance tests share: the program's registrations and outputs turned into the argument bags
 * the analyzer hands the policies (inputs unwrapped, the URN with its parent type as the mock monitor builds it).
 */
import type { PolicyResource, ReportViolation, ResourceValidation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { type Registration, settle } from "../../bench/mock-program";
import { policies } from "../../policy/policies";
import { STACK } from "../../policy/resource-types";

const SIG = "4dabf18193072939515e22adb298388d";
/** The analyzer hands policies plain values: secrets unwrapped. */
export function reveal(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reveal);
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    if (SIG in o && "value" in o) return reveal(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, reveal(x)]));
  }
  return v;
}

/**
 * Loads the program and returns its outputs once it is quiet. `settle` alone can return while the preflight is
 * between two reads (no RPC in flight, nothing registered yet) when no export waits on a resource; so also no new
 * registration for 20 polls of 25 ms (mocks answer in microtasks and timers), as test/program/preflight-child.ts
 * waits. A program that throws while loading is rethrown only once quiet: the preflight's reads still in flight
 * would otherwise outlive the test environment and crash the worker instead of failing the test.
 */
export async function loadProgram(load: () => Record<string, unknown>, regs: readonly Registration[]): Promise<Record<string, unknown>> {
  const quiet = async () => {
    for (let still = 0, last = -1; still < 20; ) {
      await new Promise((r) => setTimeout(r, 25));
      still = regs.length === last ? still + 1 : 0;
      last = regs.length;
    }
  };
  let exports: Record<string, unknown>;
  try {
    exports = load();
  } catch (e) {
    await quiet();
    throw e;
  }
  const outputs = await settle(exports);
  await quiet();
  return outputs;
}

export function resourceArgs(r: Registration): ResourceValidationArgs {
  return {
    type: r.type,
    props: reveal(r.inputs ?? {}) as Record<string, unknown>,
    urn: r.urn,
    name: r.name,
    opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [...r.additionalSecretOutputs] },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new Error(`not applicable: ${reason}`);
    },
  };
}

/** Every violation every resource policy reports for the custom resources, as `<policy> <resource>: <message>`. */
export async function resourcePolicyViolations(regs: readonly Registration[]): Promise<string[]> {
  const found: string[] = [];
  for (const r of regs.filter((x) => x.custom)) {
    for (const p of policies.filter((x): x is ResourceValidationPolicy => "validateResource" in x)) {
      const fns: ResourceValidation[] = Array.isArray(p.validateResource) ? p.validateResource : p.validateResource ? [p.validateResource] : [];
      const report: ReportViolation = (m) => found.push(`${p.name} ${r.name}: ${m}`);
      for (const fn of fns) await fn(resourceArgs(r), report);
    }
  }
  return found;
}

/** The stack as validateStack receives it: the stack resource with its outputs, then every custom resource. */
export function stackResources(stack: string, regs: readonly Registration[], outputs: Record<string, unknown>): PolicyResource[] {
  const root = { type: STACK, urn: `urn:pulumi:${stack}::librerouter-hosting::${STACK}::librerouter-hosting-${stack}`, name: `librerouter-hosting-${stack}`, props: reveal(outputs) };
  const custom = regs.filter((r) => r.custom).map((r) => ({ type: r.type, urn: r.urn, name: r.name, props: reveal(r.inputs ?? {}) }));
  return [root, ...custom] as unknown as PolicyResource[];
}

/** Runs the named stack policy over `resources` and returns what it reported. */
export async function stackPolicyViolations(name: string, resources: PolicyResource[]): Promise<string[]> {
  const policy = policies.find((p): p is StackValidationPolicy => p.name === name && "validateStack" in p);
  if (!policy) throw new Error(`no stack policy ${name}`);
  const found: string[] = [];
  await policy.validateStack(
    {
      resources,
      stackTags: new Map(),
      getConfig: <T extends object>() => ({}) as T,
      notApplicable: (): never => {
        throw new Error("n/a");
      },
    },
    (m) => found.push(m),
  );
  return found;
}
