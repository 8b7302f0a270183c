/**
 * The program run by the engine applies exactly the validation the plan CLI applies: it sees every key of its
 * namespace (not only the keys the schema knows), so a misspelled key fails `pulumi up` with the CLI's message
 * instead of being dropped with its tenants. What mocks cannot prove: which keys a real engine passes besides
 * the stack file's (the SDK reads them all from PULUMI_CONFIG, as setAllConfig writes them here).
 */
import { readStackFile, stackConfigFromYaml } from "../../config/load";
import { ConfigError } from "../../config/errors";
import { compileStack } from "../../stack/compile";
import { readRawConfig } from "../../components/stack-config";
import { runProgram } from "./harness";

const ROOT = `${__dirname}/../..`;

/** The message the plan CLI prints for `raw` (compileStack is what `npm run plan` runs). */
function cliMessage(raw: Record<string, unknown>, stack: string): string {
  try {
    compileStack(raw, stack);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error("the CLI accepted the config");
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

describe("the program refuses what the plan CLI refuses", () => {
  test("a misspelled top-level key (tenant for tenants) fails the program with the CLI's exact message", async () => {
    const { tenants, ...rest } = readStackFile(ROOT, "minimal");
    const raw = { ...rest, tenant: tenants };
    const expected = [
      'stack "minimal": config has 1 problem (nothing was created):',
      '  - librerouter-hosting:(top level): unknown key "tenant" (did you mean "tenants"?); remove it or fix the spelling (see Pulumi.yaml)',
    ].join("\n");
    expect(cliMessage(raw, "minimal")).toBe(expected);
    const run = await runProgram("minimal", raw);
    expect(run.error?.message).toBe(expected);
    expect(run.resources).toEqual([]);
  });

  test("a misspelled nested key fails the program with the CLI's exact message", async () => {
    const raw = readStackFile(ROOT, "minimal");
    const bad = { ...raw, vpn: { ...(raw.vpn as object), udpPrt: 1195 } };
    const run = await runProgram("minimal", bad);
    expect(run.error?.message).toBe(cliMessage(bad, "minimal"));
    expect(run.error?.message).toContain('librerouter-hosting:vpn: unknown key "udpPrt" (did you mean "udpPort"?)');
  });
});

describe("readRawConfig: every key of the namespace, none of the secrets", () => {
  test("unknown keys are kept for validation; secrets and other known namespaces are left out", () => {
    const raw = readRawConfig("s", {
      "librerouter-hosting:profile": "minimal",
      "librerouter-hosting:netwrok": '{"publicPools":[]}',
      "librerouter-hosting:proxmoxPassword": "hunter2",
      "librerouter-hosting:sshPrivateKey": "KEY",
      "proxmoxve:insecure": "true",
      "pulumi:tags": "{}",
    });
    expect(raw).toEqual({ profile: "minimal", netwrok: { publicPools: [] } });
  });

  test("a key under a misspelled project namespace is refused as the CLI refuses it in a stack file", () => {
    const fromEngine = () => readRawConfig("s", { "librerouter-hosting:profile": "minimal", "librerouter:tenants": '{"acme":{"slot":1}}' });
    const fromFile = () => stackConfigFromYaml("config:\n  librerouter-hosting:profile: minimal\n  librerouter:tenants:\n    acme: { slot: 1 }\n", "s");
    const expected = [
      'stack "s": config has 1 problem (nothing was created):',
      '  - librerouter-hosting:(top level): key "librerouter:tenants" is under namespace "librerouter", which nothing in this program reads, so it would be ignored; write it as "librerouter-hosting:tenants" (or "tenants": a key without a namespace is the project\'s)',
    ].join("\n");
    for (const read of [fromEngine, fromFile]) {
      const e = thrown(read);
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.message).toBe(expected);
    }
  });
});
