/** Reads `Pulumi.<stack>.yaml` without the Pulumi CLI (for `npm run plan` / `capacity` and tests). */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ConfigError } from "./errors";

export const NAMESPACE = "librerouter-hosting";
/** Config keys that are secrets: never part of the plan, never echoed. */
export const SECRET_KEYS = new Set(["proxmoxPassword", "sshPrivateKey"]);

/** The `librerouter-hosting:*` keys of a stack file as a plain object (secrets left out). */
export function stackConfigFromYaml(text: string, stack: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parse(text);
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
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config as Record<string, unknown>)) {
    const [ns, key] = k.includes(":") ? k.split(":", 2) : [NAMESPACE, k];
    if (ns !== NAMESPACE || SECRET_KEYS.has(key)) continue;
    out[key] = v;
  }
  return out;
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
