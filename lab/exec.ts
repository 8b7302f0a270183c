/** Running commands from the lab: argument arrays only (no shell parsing), optional namespace, captured output. */
import { spawn } from "node:child_process";

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Network namespace to run in (via `ip netns exec`, which execs the command: the pid is the command's). */
  readonly ns?: string;
  /** Text fed on stdin. */
  readonly input?: string;
  /** Kill the command after this many milliseconds (code 124, like timeout(1)). */
  readonly timeoutMs?: number;
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
}

/** The argv that runs `argv` inside namespace `ns` (or `argv` itself). */
export function inNs(ns: string | undefined, argv: readonly string[]): string[] {
  return ns ? ["ip", "netns", "exec", ns, ...argv] : [...argv];
}

/** Runs a command and resolves with its exit code and output; never rejects on a non-zero exit. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = inNs(opts.ns, argv);
  return new Promise((resolve, reject) => {
    const child = spawn(full[0], full.slice(1), {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...(opts.env ?? {}) },
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, opts.timeoutMs)
      : undefined;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: timedOut ? 124 : code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** Runs a command and throws with its output when it fails. */
export async function must(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    const where = opts.ns ? ` (in ${opts.ns})` : "";
    throw new Error(`command failed${where} [${r.code}]: ${argv.join(" ")}\n${(r.stderr + r.stdout).trim().slice(0, 2000)}`);
  }
  return r.stdout;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
