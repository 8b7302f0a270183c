/**
 * Runs a Pulumi program under `pulumi.runtime.setMocks` outside jest (the benchmarks) or inside it (the
 * policy-compliance test), recording every registration with the URN the mock monitor gives it and its
 * `additionalSecretOutputs`. Provider outputs are the inputs echoed back plus fake PEMs/passwords, enough
 * for the program to render everything. One program per process (or per jest module registry).
 */
import * as pulumi from "@pulumi/pulumi";
import { SECRET_CONFIG_KEYS, fakeCall, fakeOutputs, fakePveFor, toPulumiConfig } from "./fakes";

export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly custom: boolean;
  /** URN of the parent ("" for the stack itself). */
  readonly parent: string;
  /** Inputs as the engine receives them (only when recorded with `inputs: true`). */
  readonly inputs?: Record<string, unknown>;
  readonly additionalSecretOutputs: readonly string[];
  /** The explicit provider reference ("" for a default provider). */
  readonly provider: string;
}

/**
 * What the engine counts in the stack's state: every registration, the stack itself, and one default provider per
 * package a custom resource uses without an explicit one (a StackReference's: the builtin pulumi:providers:pulumi).
 */
export function engineResourceCount(regs: readonly Registration[]): number {
  const defaults = new Set(regs.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:") && r.provider === "").map((r) => r.type.split(":")[0]));
  return regs.length + 1 + defaults.size;
}

/** A stack output as a StackReference reads it: its value and whether it is secret. */
export interface StackOutput {
  readonly value: unknown;
  readonly secret: boolean;
}

/**
 * Installs the mocks; every registration lands in `into`. Call once per process, before loading the program. The
 * preflight reads a fake cluster of the config's nodes (fakes.ts fakePveFor); `refs` answers a StackReference to
 * `<org>/<project>/<stack>` with that stack's outputs (a shard stack's core).
 */
export function installMocks(stack: string, raw: Record<string, unknown>, into: Registration[], opts: { inputs?: boolean; refs?: Readonly<Record<string, Readonly<Record<string, StackOutput>>>> } = {}): void {
  // JSON: a structuredClone'd config's arrays are of Node's realm, which the SDK's `instanceof Array` misses under Jest.
  const pve = JSON.parse(JSON.stringify(fakePveFor(raw))) as ReturnType<typeof fakePveFor>;
  const stackReference = (name: string) => {
    const outs = opts.refs?.[name.split("/").pop() ?? ""] ?? {};
    const outputs = Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, v.secret ? pulumi.secret(v.value) : v.value]));
    return { id: name, state: { name, outputs, secretOutputNames: Object.keys(outs).filter((k) => outs[k].secret) } };
  };
  // setMocks is async only in signature: it installs the mock monitor synchronously, so callers stay sync.
  void pulumi.runtime.setMocks(
    {
      newResource: (a) =>
        a.type === "pulumi:pulumi:StackReference" ? stackReference(String(a.inputs.name)) : { id: `${a.name}-id`, state: { ...a.inputs, ...fakeOutputs(pulumi.secret, a.type, a.name, a.inputs) } },
      call: (a) => fakeCall(a.token, a.inputs, pve),
    },
    "librerouter-hosting",
    stack,
    false,
    // A DIY backend's organization: a shard's StackReference names `organization/librerouter-hosting/<core>`.
    "organization",
  );
  // The mock monitor's own registerResource, wrapped to see the parent-qualified URN and the options.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const rpc = require("@pulumi/pulumi/runtime/rpc");
  const original = MockMonitor.prototype.registerResource;
  type Req = { getType(): string; getName(): string; getCustom(): boolean; getParent(): string; getObject(): unknown; getAdditionalsecretoutputsList(): string[]; getProvider(): string };
  type Res = { getUrn(): string };
  MockMonitor.prototype.registerResource = function (req: Req, cb: (err: unknown, res?: Res) => void) {
    return original.call(this, req, (err: unknown, res?: Res) => {
      if (!err && res) {
        into.push({
          type: req.getType(),
          name: req.getName(),
          urn: res.getUrn(),
          custom: req.getCustom(),
          parent: req.getParent(),
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          provider: req.getProvider(),
          ...(opts.inputs ? { inputs: rpc.deserializeProperties(req.getObject(), true) } : {}),
        });
      }
      cb(err, res);
    });
  };
  pulumi.runtime.setAllConfig(toPulumiConfig(raw), SECRET_CONFIG_KEYS);
}

/** Resolves every export of a loaded program (its stack outputs) and waits until all registrations are done. */
export async function settle(exports: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out = await settleOutputs(exports);
  return Object.fromEntries(Object.entries(out).map(([k, o]) => [k, o.value]));
}

/** As settle, each output with its secrecy (what a StackReference to this stack reads). */
export async function settleOutputs(exports: Record<string, unknown>): Promise<Record<string, StackOutput>> {
  const out: Record<string, StackOutput> = {};
  for (const [k, v] of Object.entries(exports)) {
    const o = pulumi.output(v) as pulumi.Output<unknown>;
    const [value, secret] = await Promise.all([new Promise((resolve) => o.apply(resolve)), pulumi.isSecret(o)]);
    out[k] = { value, secret };
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  await (pulumi.runtime as any).waitForRPCs();
  return out;
}
