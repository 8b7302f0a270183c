/** The one command-line parser of the CLIs, the lab and the benchmarks: node:util parseArgs, strict. Pure. */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A wrong command line: the caller prints it with its usage text. */
export class UsageError extends Error {}

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** `--name value` and `--flag` options of `argv` (no positionals); an unknown or malformed option is a UsageError. */
export function parseOptions<O extends OptionSpec>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
