/**
 * Runs a Pulumi program under `pulumi.runtime.setMocks` outside jest (the benchmarks) or inside it (the
 * policy-compliance test), recording every registration with the URN the mock monitor gives it and its
 * `additionalSecretOutputs`. Provider outputs are the inputs echoed back plus fake PEMs/passwords, enough
 * for the program to render everything. One program per process (or per jest module registry).
 */
import * as pulumi from "@pulumi/pulumi";
import { SECRET_CONFIG_KEYS, fakeCall, fakeOutputs, toPulumiConfig } from "./fakes";

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
}

/** Installs the mocks; every registration lands in `into`. Call once per process, before loading the program. */
export function installMocks(stack: string, raw: Record<string, unknown>, into: Registration[], opts: { inputs?: boolean } = {}): void {
  // setMocks is async only in signature: it installs the mock monitor synchronously, so callers stay sync.
  void pulumi.runtime.setMocks(
    {
      newResource: (a) => ({ id: `${a.name}-id`, state: { ...a.inputs, ...fakeOutputs(pulumi.secret, a.type, a.name, a.inputs) } }),
      call: (a) => fakeCall(a.token, a.inputs),
    },
    "librerouter-hosting",
    stack,
    false,
  );
  // The mock monitor's own registerResource, wrapped to see the parent-qualified URN and the options.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const rpc = require("@pulumi/pulumi/runtime/rpc");
  const original = MockMonitor.prototype.registerResource;
  type Req = { getType(): string; getName(): string; getCustom(): boolean; getParent(): string; getObject(): unknown; getAdditionalsecretoutputsList(): string[] };
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
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(exports)) out[k] = await new Promise((resolve) => (pulumi.output(v) as pulumi.Output<unknown>).apply(resolve));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  await (pulumi.runtime as any).waitForRPCs();
  return out;
}
