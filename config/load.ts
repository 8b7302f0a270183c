/** Reads `Pulumi.<stack>.yaml` without the Pulumi CLI (for `npm run plan` / `capacity` and tests). */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ConfigError, type ConfigIssue } from "./errors";

export const NAMESPACE = "librerouter-hosting";
/** Config keys that are secrets: never part of the plan, never echoed. */
export const SECRET_KEYS = new Set(["proxmoxPassword", "sshPrivateKey"]);

/**
 * Namespaces a stack may set besides the project's: Pulumi's own (`pulumi:tags`…) and those of the providers the
 * program uses. Any other namespace is a typo (`librerouter:tenants`) whose keys nothing would read.
 */
export const OTHER_NAMESPACES: ReadonlySet<string> = new Set(["pulumi", "proxmoxve", "command", "tls", "random"]);

/**
 * The project's keys from a flat `<namespace>:<key>` map (a key without a namespace is the project's), secrets
 * left out. What the plan CLI reads from a stack file and the program from the engine: both go through here, so
 * both refuse the same keys. A key under an unknown namespace is refused with the spelling to use.
 */
export function projectConfig(entries: Readonly<Record<string, unknown>>, stack: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const issues: ConfigIssue[] = [];
  for (const [k, v] of Object.entries(entries)) {
    const at = k.indexOf(":");
    const [ns, key] = at < 0 ? [NAMESPACE, k] : [k.slice(0, at), k.slice(at + 1)];
    if (ns !== NAMESPACE) {
      if (!OTHER_NAMESPACES.has(ns)) {
        issues.push({ key: "(top level)", message: `key "${k}" is under namespace "${ns}", which nothing in this program reads, so it would be ignored; write it as "${NAMESPACE}:${key}" (or "${key}": a key without a namespace is the project's)` });
      }
      continue;
    }
    if (SECRET_KEYS.has(key)) continue;
    if (Object.hasOwn(out, key)) {
      issues.push({ key, message: `is set twice (as "${key}" and "${NAMESPACE}:${key}"); keep one` });
      continue;
    }
    out[key] = v;
  }
  if (issues.length) throw new ConfigError(issues, stack);
  return out;
}

/** A `pulumi config set --secret` value as the stack file stores it: `{secure: <ciphertext>}`. */
function isSecure(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as { secure?: unknown }).secure === "string";
}

/** The `librerouter-hosting:*` keys of a stack file as a plain object (secrets left out). */
export function stackConfigFromYaml(text: string, stack: string): Record<string, unknown> {
  let doc: unknown;
  try {
    // `<<: *base` merge keys are YAML 1.1, which the Pulumi CLI's parser (go-yaml v3) applies; so does this one.
    doc = parse(text, { merge: true });
  } catch (e) {
    // The parser's first line names the fault and its line/column; the rest is a source excerpt.
    const why = (e as Error).message.split("\n")[0].replace(/:\s*$/, "");
    throw new ConfigError([{ key: "(file)", message: `Pulumi.${stack}.yaml is not valid YAML: ${why}; fix the file there (indent with spaces, close every bracket and quote)` }], stack);
  }
  const config = (doc as { config?: unknown } | null)?.config;
  if (config === undefined || config === null) return {};
  if (typeof config !== "object" || Array.isArray(config)) {
    throw new ConfigError([{ key: "(file)", message: `Pulumi.${stack}.yaml: "config" must be a mapping of keys to values` }], stack);
  }
  const entries = config as Record<string, unknown>;
  // A secret in clear is refused before anything else, and never shown.
  const plain = [...SECRET_KEYS].filter((key) => [key, `${NAMESPACE}:${key}`].some((k) => Object.hasOwn(entries, k) && !isSecure(entries[k])));
  if (plain.length) {
    throw new ConfigError(
      plain.map((key) => ({
        key,
        message: `is written in plain text in Pulumi.${stack}.yaml; delete that line, set it with \`pulumi config set --secret ${key}\` (which stores it encrypted), and change it: it was in clear`,
      })),
      stack,
    );
  }
  return projectConfig(entries, stack);
}

/** Reads `Pulumi.<stack>.yaml` from `dir`; a missing file is a clear error naming the stacks that exist. */
export function readStackFile(dir: string, stack: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) {
    throw new ConfigError([{ key: "(stack)", message: `"${stack}" is not a stack name; use letters, digits, '-', '_' or '.'` }], stack);
  }
  const path = join(dir, `Pulumi.${stack}.yaml`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    const found = stacksIn(dir);
    const have = found.length ? `stacks here: ${found.join(", ")}` : "no stack files here";
    throw new ConfigError([{ key: "(stack)", message: `no file Pulumi.${stack}.yaml in ${dir} (${have}); pass one of those with --stack, or create Pulumi.${stack}.yaml` }], stack);
  }
  return stackConfigFromYaml(text, stack);
}

/** Names of the stacks with a `Pulumi.<stack>.yaml` in `dir`, sorted. */
export function stacksIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .map((f) => /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(f)?.[1])
      .filter((s): s is string => !!s)
      .sort();
  } catch {
    return [];
  }
}
