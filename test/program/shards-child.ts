/**
 * One run of index.ts under Pulumi's mocks in a process of its own (`tsx`), for a shard stack whose core check fails:
 * the refusal is thrown in an apply (the core's outputs are known only then), so it surfaces as an unhandled
 * rejection, as in a real `pulumi preview`, which jest would claim as a failure of the running test.
 *
 * stdin: `{ stack, raw, refs }` (refs: per stack name, the outputs its StackReference reads, `{ value, secret }`).
 * stdout: one JSON line: every registration (type and name) and every distinct unhandled error, once the program is
 * quiet.
 */
import { readFileSync } from "node:fs";
import { SECRET_CONFIG_KEYS, fakeCall, fakeOutputs, fakePveFor, toPulumiConfig } from "../../bench/fakes";

export interface ShardChildResult {
  readonly registered: readonly { readonly type: string; readonly name: string }[];
  /** `runError`: `RunError.isInstance` (the SDK then prints the message alone, no stack trace). */
  readonly errors: readonly { readonly runError: boolean; readonly message: string }[];
}

type Refs = Record<string, Record<string, { value: unknown; secret: boolean }>>;

const errors = new Set<unknown>();
process.on("unhandledRejection", (e) => errors.add(e));
process.on("uncaughtException", (e) => errors.add(e));

async function main(): Promise<void> {
  const { stack, raw, refs } = JSON.parse(readFileSync(0, "utf8")) as { stack: string; raw: Record<string, unknown>; refs: Refs };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi = require("@pulumi/pulumi");
  pulumi.Resource.callsites = () => [];
  const registered: { type: string; name: string }[] = [];
  const pve = fakePveFor(raw);
  pulumi.runtime.setMocks(
    {
      newResource(a: { type: string; name: string; inputs: Record<string, unknown> }) {
        registered.push({ type: a.type, name: a.name });
        if (a.type === "pulumi:pulumi:StackReference") {
          const outs = refs[String(a.inputs.name).split("/").pop() ?? ""] ?? {};
          const outputs = Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, v.secret ? pulumi.secret(v.value) : v.value]));
          return { id: String(a.inputs.name), state: { name: a.inputs.name, outputs, secretOutputNames: Object.keys(outs).filter((k) => outs[k].secret) } };
        }
        return { id: `${a.name}-id`, state: { ...a.inputs, ...fakeOutputs(pulumi.secret, a.type, a.name, a.inputs) } };
      },
      call: (a: { token: string; inputs: Record<string, unknown> }) => fakeCall(a.token, a.inputs, pve),
    },
    "librerouter-hosting",
    stack,
    false,
    "organization",
  );
  pulumi.runtime.setAllConfig(toPulumiConfig(raw), SECRET_CONFIG_KEYS);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("../../index");
  } catch (e) {
    errors.add(e);
  }
  // Quiet: no new registration and no new error for 20 polls of 25 ms (mocks answer in microtasks and timers).
  let last = "";
  for (let still = 0; still < 20; ) {
    await new Promise((r) => setTimeout(r, 25));
    const now = `${registered.length}/${errors.size}`;
    still = now === last ? still + 1 : 0;
    last = now;
  }
  const result: ShardChildResult = {
    registered,
    errors: [...errors].map((e) => ({ runError: pulumi.RunError.isInstance(e), message: e instanceof Error ? e.message : String(e) })),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

void main();
