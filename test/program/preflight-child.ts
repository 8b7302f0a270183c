/**
 * Runs of index.ts under Pulumi's mocks in a process of their own (`tsx`), for the preflight's failure cases:
 * a failed check surfaces as an unhandled rejection, exactly as it reaches the SDK's uncaught handler in a real
 * `pulumi preview` (cmd/run/run.js), which jest would otherwise claim as a test failure.
 *
 * stdin: a JSON list of `{ stack, raw, pve }`. stdout: one JSON line, per scenario every registration the mock monitor
 * received, every distinct error that went unhandled (the SDK dedupes them by identity too) and every logged warning,
 * once the program is quiet. A scenario whose checks pass runs the whole program.
 */
import { SECRET_CONFIG_KEYS, type FakePve, fakeCall, fakeOutputs, toPulumiConfig } from "../../bench/fakes";

interface Scenario {
  readonly stack: string;
  readonly raw: Record<string, unknown>;
  readonly pve: FakePve;
}

export interface ChildResult {
  readonly registered: readonly { readonly type: string; readonly name: string; readonly provider: string }[];
  /** Every invoke: its token and the provider reference it went through. */
  readonly calls: readonly { readonly token: string; readonly provider: string }[];
  /** `runError`: `RunError.isInstance` (the SDK then prints the message alone, no stack trace). */
  readonly errors: readonly { readonly runError: boolean; readonly message: string }[];
  /** Every `pulumi.log.warn` text (with no engine, as under mocks, the SDK hands it to console.warn with this prefix). */
  readonly warnings: readonly string[];
}

const WARN_PREFIX = "warning: [runtime] ";

/** The unhandled errors of the scenario that is running (a failed scenario's waiting promises never settle). */
let current = new Set<unknown>();
process.on("unhandledRejection", (e) => current.add(e));
process.on("uncaughtException", (e) => current.add(e));

/** Modules reloaded per scenario: the program and every package that holds or binds to the SDK's state. */
const FRESH = /[\\/]node_modules[\\/](?:@pulumi|@muhlba91)[\\/]|^(?![\s\S]*[\\/]node_modules[\\/])/;

/** Runs one scenario with a fresh copy of the SDK, the providers' SDKs and the program. */
async function run(s: Scenario): Promise<ChildResult> {
  for (const k of Object.keys(require.cache)) if (FRESH.test(k)) delete require.cache[k];
  const errors = new Set<unknown>();
  current = errors;
  const registered: { type: string; name: string; provider: string }[] = [];
  const calls: { token: string; provider: string }[] = [];
  const warnings: string[] = [];
  console.warn = (...a: unknown[]) => {
    const text = a.map(String).join(" ");
    warnings.push(text.startsWith(WARN_PREFIX) ? text.slice(WARN_PREFIX.length) : text);
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi = require("@pulumi/pulumi");
  // As in harness.ts: no full-depth stack trace per resource for a source position the mock monitor ignores.
  pulumi.Resource.callsites = () => [];
  pulumi.runtime.setMocks(
    {
      newResource(a: { type: string; name: string; inputs: Record<string, unknown>; provider?: string }) {
        registered.push({ type: a.type, name: a.name, provider: a.provider ?? "" });
        return { id: `${a.name}-id`, state: { ...a.inputs, ...fakeOutputs(pulumi.secret, a.type, a.name, a.inputs) } };
      },
      call(a: { token: string; inputs: Record<string, unknown>; provider?: string }) {
        calls.push({ token: a.token, provider: a.provider ?? "" });
        return fakeCall(a.token, a.inputs, s.pve);
      },
    },
    "librerouter-hosting",
    s.stack,
    false,
  );
  pulumi.runtime.setAllConfig(toPulumiConfig(s.raw), SECRET_CONFIG_KEYS);
  try {
    // The program must load after setMocks.
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
  return {
    registered,
    calls,
    warnings,
    errors: [...errors].map((e) => ({ runError: pulumi.RunError.isInstance(e), message: e instanceof Error ? e.message : String(e) })),
  };
}

async function main(): Promise<void> {
  // The SDK captures a stack trace for every promise it makes (runtime/debuggable.js); none needed here (harness.ts).
  Error.stackTraceLimit = 0;
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const results: ChildResult[] = [];
  for (const s of JSON.parse(Buffer.concat(chunks).toString("utf8")) as Scenario[]) results.push(await run(s));
  process.stdout.write(`${JSON.stringify(results)}\n`);
  // A failed run leaves promises waiting for good; as in a real run after a logged error, that is no leak.
  process.exitCode = 32;
  process.exit();
}

void main();
