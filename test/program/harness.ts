/**
 * Runs the Pulumi program (index.ts) under `pulumi.runtime.setMocks` with a stack's config and records every
 * resource registration. Each run loads a fresh copy of the program AND of @pulumi/pulumi (jest.isolateModules),
 * so runs do not share mock state.
 *
 * What the mocks stand in for: the engine marks `additionalSecretOutputs` secret; the mock monitor does not,
 * so `fakeOutputs` (bench/fakes.ts) wraps exactly the fields @pulumi/tls and @pulumi/random list there (privateKeyPem…, result,
 * hex/base64). Provider outputs are the inputs echoed back plus deterministic fake PEMs/passwords derived from
 * the resource name, so two runs of the same config produce identical inputs.
 */
import { type FakePve, SECRET_CONFIG_KEYS, fakeCall, fakeOutputs, fakePveFor, toPulumiConfig } from "../../bench/fakes";

/** The engine's wire marker for a secret value (`@pulumi/pulumi/runtime/rpc` specialSigKey / specialSecretSig). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface Recorded {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** Inputs as the engine receives them: secrets are `{[SIG_KEY]: SECRET_SIG, value}` wrappers. */
  readonly inputs: Record<string, unknown>;
  readonly provider: string;
  /** The mock monitor's URN: `urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>` (immediate parent type only). */
  readonly urn: string;
  /** Parent URN ("" for the stack's direct children). */
  readonly parent: string;
  /** The resource options as the engine receives them in the RegisterResource request. */
  readonly options: RecordedOptions;
}

/** Options from the RegisterResource request (what the engine decides replace/update/delete with). */
export interface RecordedOptions {
  /** Undefined when the program left it to the parent / default. */
  readonly protect?: boolean;
  readonly retainOnDelete?: boolean;
  /** Undefined when not set: the provider's own delete-before-replace answer applies then. */
  readonly deleteBeforeReplace?: boolean;
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
  /** Direct dependencies (dependsOn and inputs), as URNs. */
  readonly dependencies: readonly string[];
  /** Per top-level input: the URNs its value came from (an output of a replaced resource is unknown at preview). */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly aliases: readonly unknown[];
  /** The `replacementTrigger` option, as JSON (absent when not set): any change replaces the resource (engine ≥ 3.208). */
  readonly replacementTrigger?: unknown;
}

export interface ExportedValue {
  readonly value: unknown;
  readonly secret: boolean;
}

export interface ProgramRun {
  readonly resources: readonly Recorded[];
  /** Stack outputs (index.ts exports), resolved. */
  readonly outputs: Readonly<Record<string, ExportedValue>>;
  /** The error the program threw while loading, if any. */
  readonly error?: Error;
}

export { FAKE_SECRETS, FAKE_SSH_PUBLIC_KEY, fakeKeyPem, fakePassword, toPulumiConfig } from "../../bench/fakes";

/** Runs index.ts for `stack` with `raw` as its `librerouter-hosting:*` config, against the fake node `pve` (preflight invokes). */
/**
 * `refs`: per stack name, the outputs a `pulumi.StackReference` to `<org>/<project>/<stack>` reads (a core stack's
 * resolved outputs, for a shard stack's run); secret ones stay secret, as the engine keeps them.
 */
export async function runProgram(stack: string, raw: Record<string, unknown>, pve: FakePve = fakePveFor(raw), refs: Readonly<Record<string, Readonly<Record<string, ExportedValue>>>> = {}): Promise<ProgramRun> {
  const resources: Recorded[] = [];
  // Arrays made from a structuredClone'd config (test/config/fixture.ts withChange) come from Node's own realm, not
  // Jest's: the SDK's `instanceof Array` misses them and an invoke result's list arrives as an object. JSON: this realm.
  const fake = JSON.parse(JSON.stringify(pve)) as FakePve;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let pulumi: any;
  let program: Record<string, unknown> = {};
  let error: Error | undefined;
  // The SDK captures a stack trace for every resource and every internal promise; under Jest each frame goes
  // through source-map-support, which made a 500-tenant run take minutes. Native, shallow traces while the
  // program runs (restored below); failures still carry their message.
  const saved = { prepare: Error.prepareStackTrace, limit: Error.stackTraceLimit };
  delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
  Error.stackTraceLimit = 0;
  let pending: { urn: string; parent: string; options: RecordedOptions } | undefined;
  jest.isolateModules(() => {
    // A private copy of the SDK per run: jest.isolateModules is synchronous, so require, not import().
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    pulumi = require("@pulumi/pulumi");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    recordOptions(require("@pulumi/pulumi/runtime/mocks").MockMonitor, (o) => (pending = o));
    // Every resource's source position comes from a full-depth stack trace (Resource.callsites sets
    // Error.stackTraceLimit to Infinity); the mock monitor ignores it. No positions in this private copy.
    pulumi.Resource.callsites = () => [];
    pulumi.runtime.setMocks(
      {
        newResource(a: { type: string; name: string; inputs: Record<string, unknown>; custom?: boolean; provider?: string }) {
          // The wrapped registerResource set `pending` synchronously just before it called newResource.
          const o = pending ?? { urn: "", parent: "", options: NO_OPTIONS };
          pending = undefined;
          resources.push({ type: a.type, name: a.name, custom: a.custom ?? true, inputs: a.inputs, provider: a.provider ?? "", ...o });
          if (a.type === "pulumi:pulumi:StackReference") {
            const outs: Readonly<Record<string, ExportedValue>> = refs[String(a.inputs.name).split("/").pop() ?? ""] ?? {};
            const outputs = Object.fromEntries(Object.entries(outs).map(([k, v]: [string, ExportedValue]) => [k, v.secret ? pulumi.secret(v.value) : v.value]));
            return { id: String(a.inputs.name), state: { name: a.inputs.name, outputs, secretOutputNames: Object.keys(outs).filter((k) => outs[k].secret) } };
          }
          return { id: `${a.name}-id`, state: { ...a.inputs, ...fakeOutputs(pulumi.secret, a.type, a.name, a.inputs) } };
        },
        call: (a: { token: string; inputs: Record<string, unknown> }) => fakeCall(a.token, a.inputs, fake),
      },
      "librerouter-hosting",
      stack,
      false,
      // The organization a DIY backend reports: a shard's StackReference names `<org>/<project>/<core>`.
      "organization",
    );
    pulumi.runtime.setAllConfig(toPulumiConfig(raw), SECRET_CONFIG_KEYS);
    try {
      // The program must load after setMocks, in the same isolated registry.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      program = require("../../index");
    } catch (e) {
      error = e as Error;
    }
  });
  const outputs: Record<string, ExportedValue> = {};
  for (const [k, v] of Object.entries(program)) {
    const o = pulumi.output(v);
    const [value, secret] = await Promise.all([new Promise((resolve) => o.apply(resolve)), o.isSecret]);
    outputs[k] = { value, secret };
  }
  await pulumi.runtime.waitForRPCs();
  Error.prepareStackTrace = saved.prepare;
  Error.stackTraceLimit = saved.limit;
  return { resources, outputs, ...(error ? { error } : {}) };
}

const NO_OPTIONS: RecordedOptions = {
  ignoreChanges: [],
  replaceOnChanges: [],
  additionalSecretOutputs: [],
  dependencies: [],
  propertyDependencies: {},
  aliases: [],
};

/**
 * Wraps `MockMonitor.prototype.registerResource` of the isolated SDK copy: the mocks' `newResource` sees only type,
 * name and inputs, but the request (runtime/resource.js prepareResource → RegisterResourceRequest) carries every option
 * the engine's step generator uses. The original body calls `newResource` synchronously, before its first await,
 * so handing the options over through `sink` needs no lookup by name.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function recordOptions(MockMonitor: any, sink: (o: { urn: string; parent: string; options: RecordedOptions }) => void): void {
  const original = MockMonitor.prototype.registerResource;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  MockMonitor.prototype.registerResource = function (this: any, req: any, callback: unknown) {
    const propertyDependencies: Record<string, string[]> = {};
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    for (const [k, v] of req.getPropertydependenciesMap().entries() as Iterable<[string, any]>) propertyDependencies[k] = v.getUrnsList();
    sink({
      urn: this.newUrn(req.getParent(), req.getType(), req.getName()),
      parent: req.getParent(),
      options: {
        ...(req.hasProtect() ? { protect: req.getProtect() } : {}),
        ...(req.hasRetainondelete() ? { retainOnDelete: req.getRetainondelete() } : {}),
        ...(req.getDeletebeforereplacedefined() ? { deleteBeforeReplace: req.getDeletebeforereplace() } : {}),
        ignoreChanges: req.getIgnorechangesList(),
        replaceOnChanges: req.getReplaceonchangesList(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        dependencies: req.getDependenciesList(),
        propertyDependencies,
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        aliases: req.getAliasesList().map((a: any) => a.toObject()),
        ...(req.hasReplacementTrigger() ? { replacementTrigger: req.getReplacementTrigger().toJavaScript() } : {}),
      },
    });
    return original.call(this, req, callback);
  };
}

/** True for the engine's secret wrapper. */
export function isSecret(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The value with every secret wrapper removed (to assert on inputs that are legitimately secret). */
export function reveal(v: unknown): unknown {
  if (isSecret(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
  return v;
}

/** Every string reachable WITHOUT passing through a secret wrapper, with its path. */
export function plainStrings(v: unknown, path = ""): { path: string; text: string }[] {
  if (isSecret(v)) return [];
  if (typeof v === "string") return [{ path, text: v }];
  if (Array.isArray(v)) return v.flatMap((x, i) => plainStrings(x, `${path}[${i}]`));
  if (typeof v === "object" && v !== null) return Object.entries(v).flatMap(([k, x]) => plainStrings(x, path ? `${path}.${k}` : k));
  return [];
}

/** Number of resources per type token. */
export function countByType(resources: readonly Recorded[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of resources) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}

export function byName(resources: readonly Recorded[], name: string): Recorded {
  const found = resources.filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`expected exactly one resource named ${name}, found ${found.length}`);
  return found[0];
}

/** Files a rendered script writes with `lr_write` (render/shell.ts), decoded: path → mode and content. */
export function writtenFiles(script: string): Map<string, { mode: string; content: string }> {
  const out = new Map<string, { mode: string; content: string }>();
  const re = /lr_write '([^']+)' (0[0-7]{3}) \S+ <<'LR_B64'\n([A-Za-z0-9+/=\n]*?)LR_B64/g;
  for (const m of script.matchAll(re)) out.set(m[1], { mode: m[2], content: Buffer.from(m[3].replace(/\n/g, ""), "base64").toString("utf8") });
  return out;
}
