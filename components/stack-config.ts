/**
 * The program's only contact with `pulumi.Config`: gathers the `librerouter-hosting:*` keys into the raw
 * object the pure `plan/` layer validates, plus the two secrets, and turns a ConfigError into one clean
 * message (no stack trace, nothing created).
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { deployIssues, parallelFromEnv } from "../config/deploy-guards";
import { ConfigError } from "../config/errors";
import { NAMESPACE, projectConfig } from "../config/load";
import { compileStack } from "../stack/compile";
import type { Plan } from "../plan/types";
import { validateStack } from "../plan/validate";
import type { CapacityReport } from "../sizing/capacity";

/** What the program needs from config: the validated plan and the secrets it must never print. */
export interface StackInputs {
  readonly plan: Plan;
  /** The capacity report of the stack's profile (no FAIL line: `compileStack` refuses those). */
  readonly capacity: CapacityReport;
  readonly proxmoxPassword: pulumi.Output<string>;
  readonly sshPrivateKey: pulumi.Output<string>;
  /** One stack (no `shards.tenantsPerShard`), the core of a sharded service, or one of its tenant shard stacks. */
  readonly role: StackRole;
}

/** What a shard stack checks the core against (the core's plain `shardLayout` output). */
export interface ShardLayout {
  readonly tenantsPerShard: number;
  /** sha256 of the validated non-secret config, `shards.shard` left out: the core and its shards plan the same service. */
  readonly configHash: string;
}

export type StackRole =
  | { readonly kind: "one" }
  | { readonly kind: "core"; readonly layout: ShardLayout }
  /** `core`: the core stack's name (this stack's name less `-<shard>`), which the plan is built as. */
  | { readonly kind: "shard"; readonly shard: string; readonly core: string; readonly layout: ShardLayout };

/** JSON with every object's keys sorted, so the hash does not depend on key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (typeof v === "object" && v !== null) {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/**
 * The stack's role from its raw config: `shards.shard` makes it a shard of the stack whose name it ends with
 * (`cluster-s01` → `cluster`); `shards.tenantsPerShard` alone, the core. Throws ConfigError for a shard stack
 * misnamed. Pure apart from the hash.
 */
export function stackRole(raw: Record<string, unknown>, stack: string): StackRole {
  const cfg = validateStack(raw, stack).config;
  const { tenantsPerShard, shard, ...restShards } = cfg.shards;
  if (tenantsPerShard === undefined) return { kind: "one" };
  const configHash = createHash("sha256").update(canonical({ ...cfg, shards: { ...restShards, tenantsPerShard } })).digest("hex");
  const layout = { tenantsPerShard, configHash };
  if (shard === undefined) return { kind: "core", layout };
  if (!stack.endsWith(`-${shard}`) || stack.length === shard.length + 1) {
    throw new ConfigError([{ key: "shards.shard", message: `got "${shard}" in stack "${stack}"; shard ${shard} of core stack <core> is the stack <core>-${shard} (npm run shards -- --stack <core> writes Pulumi.<core>-${shard}.yaml): rename the stack or fix the key` }], stack);
  }
  return { kind: "shard", shard, core: stack.slice(0, -shard.length - 1), layout };
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
  let role: StackRole;
  try {
    const raw = readRawConfig(stack);
    role = stackRole(raw, stack);
    // A shard plans the core's service: the plan (CA subject, VM descriptions, launcher) names the core stack.
    compiled = compileStack(raw, role.kind === "shard" ? role.core : stack);
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
    role,
  };
}
