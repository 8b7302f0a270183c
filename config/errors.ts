/** Config problems as data: each names the key, the bad value and the fix. */
import type { z } from "zod";

export interface ConfigIssue {
  /** Dotted path below the `librerouter:` namespace, e.g. `tenants.acme.slot`. */
  readonly key: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[], readonly stack_?: string) {
    super(formatIssues(issues, stack_));
    this.name = "ConfigError";
  }
}

export function formatIssues(issues: readonly ConfigIssue[], stack?: string): string {
  const head = `${stack ? `stack "${stack}": ` : ""}config has ${issues.length} problem${issues.length === 1 ? "" : "s"} (nothing was created):`;
  return [head, ...issues.map((i) => `  - ${formatIssue(i)}`)].join("\n");
}

export function formatIssue(i: ConfigIssue): string {
  return `librerouter-hosting:${i.key}: ${i.message}`;
}

/** The value at `path` in `raw`, shown in messages (truncated, never for secrets). */
export function show(raw: unknown, path: readonly PropertyKey[]): string {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== "object") return "(missing)";
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  if (v === undefined) return "(missing)";
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function keyOf(path: readonly PropertyKey[]): string {
  return path.map(String).join(".");
}

/** One zod issue → one ConfigIssue with the value shown and a fix-shaped message. */
export function fromZod(raw: unknown, issue: z.core.$ZodIssue): ConfigIssue {
  const path = issue.path;
  const got = show(raw, path);
  switch (issue.code) {
    case "unrecognized_keys":
      return {
        key: keyOf(path) || "(top level)",
        message: `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; remove ${issue.keys.length > 1 ? "them" : "it"} or check the spelling against Pulumi.yaml`,
      };
    case "invalid_type":
      if (got === "(missing)") return { key: keyOf(path), message: `is required (expected ${issue.expected}); add it to the stack config` };
      return { key: keyOf(path), message: `got ${got}; expected ${issue.expected}` };
    case "too_small":
      if (issue.origin === "array") return { key: keyOf(path), message: `got ${got}; ${issue.message}` };
      return { key: keyOf(path), message: `got ${got}; must be ${issue.inclusive === false ? ">" : "≥"} ${String(issue.minimum)}` };
    case "too_big":
      return { key: keyOf(path), message: `got ${got}; must be ${issue.inclusive === false ? "<" : "≤"} ${String(issue.maximum)}` };
    case "invalid_key":
      return { key: keyOf(path), message: issue.issues.map((i) => i.message).join("; ") };
    default:
      return { key: keyOf(path), message: `got ${got}; ${issue.message}` };
  }
}
