/** Runs Debian's shellcheck on rendered script text; used by every render test that produces a script. */
import { spawnSync } from "node:child_process";

export interface ShellcheckResult {
  readonly ok: boolean;
  /** shellcheck's own report (gcc format), empty when clean. */
  readonly report: string;
}

/** Checks `script` as `shell` (default: from its shebang) with every optional check at severity style. */
export function shellcheck(script: string, shell?: "sh" | "bash" | "dash"): ShellcheckResult {
  const args = ["--format=gcc", "--severity=style", "--enable=all", "--exclude=SC2250,SC2248", "-"];
  if (shell) args.unshift(`--shell=${shell}`);
  const r = spawnSync("shellcheck", args, { input: script, encoding: "utf8" });
  if (r.error) throw new Error(`shellcheck could not run (apt-get install shellcheck): ${r.error.message}`);
  return { ok: r.status === 0, report: (r.stdout + r.stderr).trim() };
}
