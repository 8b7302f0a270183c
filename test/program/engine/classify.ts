/**
 * What `pulumi up` would do between two recorded runs of the program (old state → new program), from the options
 * each resource registers and the providers' replace-forcing inputs (provider-rules.ts). A model of the engine's
 * step generator, pulumi/pulumi pkg/resource/deploy/step_generator.go and step.go; each rule cites where it lives.
 *
 * Not modelled: provider-computed defaults, refresh, the provider's DiffConfig, time-driven cert renewal, URNs of
 * deeper parent chains (the mock monitor puts only the immediate parent type in a URN).
 */
import { reveal } from "../harness";
import type { Recorded } from "../harness";
import { type ProviderRule, ruleFor } from "./provider-rules";

export type Op = "same" | "update" | "replace" | "replace-dbr" | "create" | "delete";
/** What an in-place update does to a running VM beyond its config (provider-rules.ts rebootOn / nicReplugOn). */
export type Effect = "nic-replug" | "reboot";

export interface Step {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly op: Op;
  /** Changed input paths (for a replace: the paths that force it first, then the others). */
  readonly paths: readonly string[];
  /** The engine refuses this step: a protected resource would be deleted or replaced. */
  readonly refused?: "protected";
  /** retainOnDelete: the engine drops it from the state without calling the provider. */
  readonly retained?: boolean;
  /** Problems the provider reports only when it applies these inputs (provider-rules.ts `validate`). */
  readonly invalid: readonly string[];
  /** An update's side effects on the running machine, sorted (empty for anything but an update). */
  readonly effects: readonly Effect[];
}

/** A remote command's `delete` that runs: with the OLD state's command and stdin (pulumi-command Delete uses req.State). */
export interface DeleteScript {
  readonly name: string;
  readonly command: string;
  readonly stdin: string;
  /**
   * `delete`: the resource is gone from the program; `after-new-apply`: create-before-delete replacement, the new
   * resource's apply runs first and this old delete runs at the end of the update and undoes it;
   * `before-new-apply`: delete-before-replace.
   */
  readonly when: "delete" | "after-new-apply" | "before-new-apply";
}

export interface EnginePlan {
  readonly steps: readonly Step[];
  readonly deleteScripts: readonly DeleteScript[];
}

export interface ClassifyOptions {
  /** `pulumi up --replace <urn>` targets, as URNs or resource names. */
  readonly replace?: readonly string[];
  /** Resources the operator ran `pulumi state unprotect` on before the update (URNs or names). */
  readonly unprotected?: readonly string[];
}

type Seg = string | number | "*";

/** `a.b[1].c` / `a[*].b` → segments (the subset of resource.ParsePropertyPath the program uses). */
export function parsePath(p: string): Seg[] {
  const out: Seg[] = [];
  for (const m of p.matchAll(/([^.[\]]+)|\[(\*|\d+)\]/g)) out.push(m[1] !== undefined ? m[1] : m[2] === "*" ? "*" : Number(m[2]));
  return out;
}

function fmt(segs: readonly Seg[]): string {
  return segs.map((s, i) => (typeof s === "number" || s === "*" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

function segMatch(pattern: Seg, actual: Seg): boolean {
  return pattern === "*" || actual === "*" || pattern === actual;
}

/** True when `prefix` is a path prefix of `path` (PropertyPath.Contains). */
function contains(prefix: readonly Seg[], path: readonly Seg[]): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => segMatch(s, path[i]));
}

/** Every value at `path` (expanding `[*]`), as JSON, for comparing a rule path deeper than a changed path. */
function valuesAt(v: unknown, path: readonly Seg[]): string {
  const walk = (x: unknown, i: number): unknown[] => {
    if (i === path.length) return [x];
    if (x === null || typeof x !== "object") return [undefined];
    const s = path[i];
    if (s === "*") return Array.isArray(x) ? x.flatMap((e) => walk(e, i + 1)) : [undefined];
    return walk((x as Record<string | number, unknown>)[s], i + 1);
  };
  return JSON.stringify(walk(v, 0));
}

/** Leaf paths where `a` and `b` differ (a missing side stops the walk: the whole subtree changed). */
export function diffPaths(a: unknown, b: unknown, at: Seg[] = []): string[] {
  if (a === b) return [];
  const objA = a !== null && typeof a === "object";
  const objB = b !== null && typeof b === "object";
  if (!objA || !objB || Array.isArray(a) !== Array.isArray(b)) return JSON.stringify(a) === JSON.stringify(b) ? [] : [fmt(at)];
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...(i < a.length && i < b.length ? diffPaths(a[i], b[i], [...at, i]) : [fmt([...at, i])]));
    return out;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort();
  return keys.flatMap((k) => (ra[k] === undefined || rb[k] === undefined ? (ra[k] === rb[k] ? [] : [fmt([...at, k])]) : diffPaths(ra[k], rb[k], [...at, k])));
}

/**
 * processIgnoreChanges (step_generator.go): every ignoreChanges path of the NEW registration takes its value from
 * the OLD inputs before the diff, so a change there is invisible.
 */
function applyIgnoreChanges(oldInputs: Record<string, unknown>, newInputs: Record<string, unknown>, ignore: readonly string[]): Record<string, unknown> {
  const out = structuredClone(newInputs);
  for (const p of ignore) {
    const segs = parsePath(p);
    if (segs.includes("*")) throw new Error(`classifier: ignoreChanges "${p}" with [*] is not modelled`);
    let src: unknown = oldInputs;
    let dst: Record<string | number, unknown> = out;
    for (let i = 0; i < segs.length - 1; i++) {
      src = (src as Record<string | number, unknown> | undefined)?.[segs[i]];
      const next = dst[segs[i]];
      if (next === null || typeof next !== "object") break;
      dst = next as Record<string | number, unknown>;
    }
    const last = segs[segs.length - 1];
    const oldVal = (src as Record<string | number, unknown> | undefined)?.[last];
    if (oldVal === undefined) delete dst[last];
    else dst[last] = structuredClone(oldVal);
  }
  return out;
}

/** The value at a path without wildcards (undefined when any step is missing). */
function valueAt(v: unknown, path: readonly Seg[]): unknown {
  let x = v;
  for (const s of path) {
    if (x === null || typeof x !== "object") return undefined;
    x = (x as Record<string | number, unknown>)[s];
  }
  return x;
}

/** Which effects the changed `paths` of an update have, per the provider's rule (a path at or under a rule path). */
function effectsOf(rule: ProviderRule, paths: readonly string[]): Effect[] {
  const hits = (rulePaths: readonly string[] | undefined) => paths.some((p) => (rulePaths ?? []).some((r) => contains(parsePath(r), parsePath(p))));
  return [...(hits(rule.nicReplugOn) ? ["nic-replug" as const] : []), ...(hits(rule.rebootOn) ? ["reboot" as const] : [])];
}

function pick(set: readonly string[] | undefined, r: Recorded): boolean {
  return (set ?? []).some((x) => x === r.urn || x === r.name);
}

/** Classifies every resource of `before` (the state) and `after` (the new program run). */
export function classify(before: readonly Recorded[], after: readonly Recorded[], opts: ClassifyOptions = {}): EnginePlan {
  const old = new Map(before.map((r) => [r.urn, r]));
  const now = new Map(after.map((r) => [r.urn, r]));
  for (const [rs, label] of [[before, "old"], [after, "new"]] as const) {
    if (new Set(rs.map((r) => r.urn)).size !== rs.length) throw new Error(`classifier: duplicate URNs in the ${label} run`);
  }
  const ops = new Map<string, Op>();
  const steps: Step[] = [];
  const deleteScripts: DeleteScript[] = [];

  const stepFor = (n: Recorded): Step => {
    const o = old.get(n.urn);
    const base = { urn: n.urn, type: n.type, name: n.name };
    const invalidOf = () => (n.custom ? (ruleFor(n.type).validate?.(reveal(n.inputs) as Record<string, unknown>) ?? []) : []);
    if (!o) return { ...base, op: "create", paths: [], invalid: invalidOf(), effects: [] };
    // Component resources have no provider: deep-equal inputs are "same", anything else "update" (diff(), prov == nil).
    const oldIn = reveal(o.inputs) as Record<string, unknown>;
    let newIn = reveal(n.inputs) as Record<string, unknown>;
    // Unknown at preview: an input whose value came from a created or replaced resource's outputs counts as changed
    // (the provider's Diff sees an unknown value there).
    const unknown = Object.entries(n.options.propertyDependencies)
      .filter(([, urns]) => urns.some((u) => ["create", "replace", "replace-dbr"].includes(ops.get(u) ?? "same")))
      .map(([k]) => k);
    newIn = applyIgnoreChanges(oldIn, newIn, n.options.ignoreChanges);
    const ignored = n.options.ignoreChanges.map(parsePath);
    // An Optional+Computed input the program no longer sets keeps its state value: no diff there.
    const kept = (n.custom ? (ruleFor(n.type).keptWhenRemoved ?? []) : []).map(parsePath);
    const keptPath = (p: string) => kept.some((k) => contains(k, parsePath(p)) && parsePath(p).length === k.length) && valueAt(newIn, parsePath(p)) === undefined;
    const paths = [...new Set([...diffPaths(oldIn, newIn).filter((p) => !keptPath(p)), ...unknown.filter((k) => !ignored.some((g) => contains(g, parsePath(k))))])].sort();
    // isTargetedReplace → diff() returns a replace blaming "id", with no provider DBR answer. shouldTriggerReplace
    // (step_generator.go): a replacementTrigger that differs from the state's (neither side null) replaces the same way.
    const trigger = (r: Recorded) => (r.options.replacementTrigger === undefined || r.options.replacementTrigger === null ? undefined : JSON.stringify(r.options.replacementTrigger));
    const triggered = trigger(n) !== undefined && trigger(o) !== undefined && trigger(n) !== trigger(o);
    if (triggered) paths.push("replacementTrigger");
    const targeted = pick(opts.replace, n) || triggered;
    if (!targeted && paths.length === 0) return { ...base, op: "same", paths: [], invalid: [], effects: [] };
    if (!n.custom) return { ...base, op: "update", paths, invalid: [], effects: [] };
    const rule = ruleFor(n.type);
    // The provider's replace keys plus applyReplaceOnChanges (the registration's replaceOnChanges option).
    const forcing = [...rule.replaceOn.filter((p) => !rule.replaceUnless?.[p]?.(newIn)), ...n.options.replaceOnChanges].map(parsePath);
    const replaceKeys = targeted
      ? [pick(opts.replace, n) ? "id" : "replacementTrigger"]
      : paths.filter((p) => {
          const ps = parsePath(p);
          return forcing.some((f) => contains(f, ps) || (contains(ps, f) && valuesAt(oldIn, f) !== valuesAt(newIn, f)));
        });
    if (replaceKeys.length === 0) return { ...base, op: "update", paths, invalid: invalidOf(), effects: effectsOf(rule, paths) };
    // continueStepsFromDiff: the goal's deleteBeforeReplace option overrides the provider's DiffResult.DeleteBeforeReplace.
    const providerDbr = !targeted && rule.deleteBeforeReplace === "when-name-set" && newIn.name !== undefined;
    const dbr = n.options.deleteBeforeReplace ?? providerDbr;
    // continueStepsFromDiff: "unable to replace resource ... as it is currently marked for protection" when both the
    // new registration and the old state are protected.
    const protectedNow = (n.options.protect ?? false) && (o.options.protect ?? false) && !pick(opts.unprotected, n);
    const rest = paths.filter((p) => !replaceKeys.includes(p));
    return { ...base, op: dbr ? "replace-dbr" : "replace", paths: [...replaceKeys, ...rest], invalid: invalidOf(), effects: [], ...(protectedNow ? { refused: "protected" as const } : {}) };
  };

  // Registration order is dependency order: the SDK sends a request only once its dependencies' URNs resolved.
  for (const n of after) {
    const missing = [...n.options.dependencies, ...Object.values(n.options.propertyDependencies).flat()].filter((u) => now.has(u) && !ops.has(u));
    if (missing.length) throw new Error(`classifier: ${n.name} registered before its dependency ${missing[0]}`);
    const s = stepFor(n);
    ops.set(n.urn, s.op);
    steps.push(s);
  }
  // GenerateDeletes: what the state has and the program no longer registers. DeleteStep.Apply refuses a protected
  // resource (old.Protect, step.go deleteProtectedError) and skips the provider for retainOnDelete.
  for (const o of before) {
    if (now.has(o.urn)) continue;
    const refused = (o.options.protect ?? false) && !pick(opts.unprotected, o);
    steps.push({ urn: o.urn, type: o.type, name: o.name, op: "delete", paths: [], invalid: [], effects: [], ...(refused ? { refused: "protected" as const } : {}), ...(o.options.retainOnDelete ? { retained: true } : {}) });
  }
  for (const s of steps) {
    const o = old.get(s.urn);
    if (!o || o.type !== "command:remote:Command" || s.refused || s.retained) continue;
    if (s.op !== "delete" && s.op !== "replace" && s.op !== "replace-dbr") continue;
    const inputs = reveal(o.inputs) as { delete?: string; stdin?: string };
    if (inputs.delete === undefined) continue;
    deleteScripts.push({ name: s.name, command: inputs.delete, stdin: inputs.stdin ?? "", when: s.op === "delete" ? "delete" : s.op === "replace" ? "after-new-apply" : "before-new-apply" });
  }
  return { steps, deleteScripts };
}

/** The steps that are not "same", as `[op, name, paths]` (refused / retained and an update's effects marked on the op). */
export function changes(plan: EnginePlan): [string, string, string[]][] {
  return plan.steps
    .filter((s) => s.op !== "same")
    .map((s): [string, string, string[]] => [`${s.op}${s.refused ? " refused:protected" : ""}${s.retained ? " retained" : ""}${s.effects.map((e) => ` ${e}`).join("")}`, s.name, [...s.paths]])
    .sort((a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]));
}
