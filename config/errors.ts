/** Config problems as data: each names the key, the bad value and the fix. */
import { z } from "zod";
import { closest } from "../lib/closest";

export interface ConfigIssue {
  /** Dotted path below the `librerouter-hosting:` namespace, e.g. `tenants.acme.slot`. */
  readonly key: string;
  readonly message: string;
}

export class ConfigError extends Error {
  /** `stackName`, not `stack`: Error.stack is the trace. */
  constructor(readonly issues: readonly ConfigIssue[], readonly stackName?: string) {
    super(formatIssues(issues, stackName));
    this.name = "ConfigError";
  }
}

/** The whole error text: a head line, then one line per issue. */
export function formatIssues(issues: readonly ConfigIssue[], stack?: string): string {
  const head = `${stack ? `stack "${stack}": ` : ""}config has ${issues.length} problem${issues.length === 1 ? "" : "s"} (nothing was created):`;
  return [head, ...issues.map((i) => `  - ${formatIssue(i)}`)].join("\n");
}

/** One issue as `librerouter-hosting:<key>: <message>`. */
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

/** zod's type names in the words of a YAML file. */
const EXPECTED: Record<string, string> = {
  int: "a whole number",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "a mapping of keys to values",
  record: "a mapping of keys to values",
  array: "a list",
  tuple: "a list",
};

/** One zod issue → one ConfigIssue with the value shown and a fix-shaped message; with `schema`, unknown keys
 * get a "did you mean" from the keys the schema accepts there. */
export function fromZod(raw: unknown, issue: z.core.$ZodIssue, schema?: z.ZodType): ConfigIssue {
  const path = issue.path;
  const got = show(raw, path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = schema ? keysAt(schema, path) : [];
      const named = issue.keys.map((k) => {
        const near = closest(k, known);
        return near ? `"${k}" (did you mean "${near}"?)` : `"${k}"`;
      });
      return {
        key: keyOf(path) || "(top level)",
        message: `unknown key${issue.keys.length > 1 ? "s" : ""} ${named.join(", ")}; remove ${issue.keys.length > 1 ? "them" : "it"} or fix the spelling (see Pulumi.yaml)`,
      };
    }
    case "invalid_type": {
      const want = EXPECTED[issue.expected] ?? issue.expected;
      if (got === "(missing)") return { key: keyOf(path), message: `is required (expected ${want}); add it to the stack config` };
      const quoted = (issue.expected === "number" || issue.expected === "int") && /^"-?\d+(\.\d+)?"$/.test(got);
      return { key: keyOf(path), message: `got ${got}; expected ${want}${quoted ? " (write it without quotes)" : ""}` };
    }
    case "too_small":
    case "too_big": {
      // zod's own wording ("Too small: expected …") is replaced; a message set in the schema is kept.
      const own = !/^Too (small|big)/.test(issue.message);
      if (own) return { key: keyOf(path), message: `got ${got}; ${issue.message}` };
      const small = issue.code === "too_small";
      const bound = Number(small ? issue.minimum : issue.maximum);
      const unit = issue.origin === "array" ? ` item${bound === 1 ? "" : "s"}` : issue.origin === "string" ? ` character${bound === 1 ? "" : "s"}` : "";
      if (unit) return { key: keyOf(path), message: `got ${got}; must have at ${small ? "least" : "most"} ${bound}${unit}` };
      const op = small ? (issue.inclusive === false ? ">" : "≥") : issue.inclusive === false ? "<" : "≤";
      return { key: keyOf(path), message: `got ${got}; must be ${op} ${bound}` };
    }
    case "invalid_key":
      return { key: keyOf(path), message: issue.issues.map((i) => i.message).join("; ") };
    case "custom":
      // The value may hold a secret (a password in a URL): the message says what is wrong without it.
      if ((issue.params as { hideValue?: boolean } | undefined)?.hideValue) return { key: keyOf(path), message: issue.message };
      if (got === "(missing)") return { key: keyOf(path), message: `is required and ${issue.message}; add it to the stack config` };
      return { key: keyOf(path), message: `got ${got}; ${issue.message}` };
    default:
      if (got === "(missing)") return { key: keyOf(path), message: `is required and ${issue.message}; add it to the stack config` };
      return { key: keyOf(path), message: `got ${got}; ${issue.message}` };
  }
}

/** The keys the object schema at `path` accepts (through defaults, optionals, records, lists and tuples). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const bare = (t: unknown): unknown => (t instanceof z.ZodDefault || t instanceof z.ZodOptional || t instanceof z.ZodNullable ? bare(t.unwrap()) : t);
  let s = bare(schema);
  for (const p of path) {
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, unknown>)[String(p)];
    else if (s instanceof z.ZodRecord) s = s.valueType;
    else if (s instanceof z.ZodArray) s = s.element;
    else if (s instanceof z.ZodTuple) s = s.def.items[Number(p)];
    else return [];
    s = bare(s);
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

