/** Argument parsing and error handling shared by the CLIs (node:util parseArgs; no stack traces for users). */
import { parseArgs, ParseArgsConfig } from "node:util";
import { ConfigError } from "../config/errors";

/** A wrong command line: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

export interface CommonOptions {
  readonly stack: string;
  /** Directory holding the Pulumi.<stack>.yaml files. */
  readonly dir: string;
  readonly format: string;
  readonly help: boolean;
}

/** Parses --stack, --dir, --format, --help plus `extra` options; `formats[0]` is the default format. */
export function parseCommon<E extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], formats: readonly string[], extra: E) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        stack: { type: "string", short: "s", default: "minimal" },
        dir: { type: "string", default: process.cwd() },
        format: { type: "string", short: "f", default: formats[0] },
        help: { type: "boolean", short: "h", default: false },
        ...extra,
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values as Record<string, unknown>;
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
