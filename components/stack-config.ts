/**
 * The program's only contact with `pulumi.Config`: gathers the `librerouter-hosting:*` keys into the raw
 * object the pure `plan/` layer validates, plus the two secrets, and turns a ConfigError into one clean
 * message (no stack trace, nothing created).
 */
import * as pulumi from "@pulumi/pulumi";
import { deployIssues, parallelFromEnv } from "../config/deploy-guards";
import { ConfigError } from "../config/errors";
import { NAMESPACE, projectConfig } from "../config/load";
import { compileStack } from "../stack/compile";
import type { Plan } from "../plan/types";
import type { CapacityReport } from "../sizing/capacity";

/** What the program needs from config: the validated plan and the secrets it must never print. */
export interface StackInputs {
  readonly plan: Plan;
  /** The capacity report of the stack's profile (no FAIL line: `compileStack` refuses those). */
  readonly capacity: CapacityReport;
  readonly proxmoxPassword: pulumi.Output<string>;
  readonly sshPrivateKey: pulumi.Output<string>;
}

/**
 * Pulumi stores a top-level scalar as its text (`profile: minimal` → "minimal") and structured values as
 * JSON, so a value is JSON when it parses and its raw text otherwise. `getObject` alone would throw on
 * a plain string such as the profile name.
 */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Every `librerouter-hosting:*` key the engine passed (secrets aside), as the raw object `buildPlan` validates.
 * All of them, not only the keys the schema knows: a misspelled key must be refused here exactly as the plan CLI
 * refuses it, not silently dropped. Keys under an unknown namespace are refused the same way (config/load.ts).
 */
export function readRawConfig(stack: string, all: Readonly<Record<string, string>> = pulumi.runtime.allConfig()): Record<string, unknown> {
  return projectConfig(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, parseValue(v)])), stack);
}

/**
 * Reads and validates the stack's config and checks it against the profile's hardware (and, for `up`, the
 * deployment guards: bounded parallelism, pinned host key). A config or capacity problem becomes a `RunError` carrying the ConfigError's
 * message (every issue, naming key, value and fix): Pulumi prints it without a stack trace, and it is thrown
 * before any resource is declared, so nothing is created.
 */
export function loadStack(stack: string = pulumi.getStack()): StackInputs {
  const config = new pulumi.Config(NAMESPACE);
  let compiled: ReturnType<typeof compileStack>;
  try {
    compiled = compileStack(readRawConfig(stack), stack);
    const issues = deployIssues(compiled.plan.proxmox, { dryRun: pulumi.runtime.isDryRun(), parallel: parallelFromEnv(process.env) });
    if (issues.length) throw new ConfigError(issues, stack);
  } catch (e) {
    if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
    throw e;
  }
  return {
    ...compiled,
    proxmoxPassword: config.requireSecret("proxmoxPassword"),
    sshPrivateKey: config.requireSecret("sshPrivateKey"),
  };
}
