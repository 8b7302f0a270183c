/** The options every CLI takes, and the error handling they share (no stack traces for users). */
import { ConfigError } from "../config/errors";
import { type OptionSpec, parseOptions, UsageError } from "../lib/args";

export { UsageError } from "../lib/args";

export interface CommonOptions {
  readonly stack: string;
  /** Directory holding the Pulumi.<stack>.yaml files. */
  readonly dir: string;
  readonly format: string;
  readonly help: boolean;
}

/** Parses --stack, --dir, --format, --help plus `extra` options; `formats[0]` is the default format. */
export function parseCommon<E extends OptionSpec>(argv: string[], formats: readonly string[], extra: E) {
  const v: Record<string, unknown> = parseOptions(argv, {
    stack: { type: "string", short: "s", default: "minimal" },
    dir: { type: "string", default: process.cwd() },
    format: { type: "string", short: "f", default: formats[0] },
    help: { type: "boolean", short: "h", default: false },
    ...extra,
  });
  if (!formats.includes(String(v.format))) throw new UsageError(`--format must be one of ${formats.join(", ")}; got "${String(v.format)}"`);
  return { common: { stack: String(v.stack), dir: String(v.dir), format: String(v.format), help: v.help === true } as CommonOptions, values: v };
}

/**
 * Runs a CLI body and turns its errors into exit codes: a ConfigError prints only its message (exit 1),
 * a UsageError prints the message and usage (exit 2), anything else prints one line (exit 2).
 */
export function runCli(usage: string, body: () => number): void {
  let code: number;
  try {
    code = body();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      code = 1;
    } else if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n\n${usage}\n`);
      code = 2;
    } else {
      process.stderr.write(`error: ${(e as Error)?.message ?? String(e)}\n`);
      code = 2;
    }
  }
  process.exitCode = code;
}
