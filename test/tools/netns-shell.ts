/** Bash in a network namespace, for the e2e suites: `sh` reports, `must` throws with the namespace and stderr. */
import { spawnSync } from "node:child_process";

export interface ShellResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export function sh(ns: string, script: string, input?: string): ShellResult {
  const r = spawnSync("ip", ["netns", "exec", ns, "bash", "-c", script], { input, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

export function must(ns: string, script: string, input?: string): string {
  const r = sh(ns, script, input);
  if (r.code !== 0) throw new Error(`${ns}: ${script.slice(0, 80)} → ${r.code}\n${r.err}`);
  return r.out;
}
