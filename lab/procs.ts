/**
 * Background processes of the lab (openvpn, qemu, socat, iperf3). Each is spawned as
 * `ip netns exec NS cmd …`, which execs the command, so the pid we hold is the real process.
 * Readiness is read from the process's own log; stop is SIGTERM, then SIGKILL; a zombie counts as gone.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { inNs, sleep } from "./exec";

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
  /** Set once the process has exited (code or signal). */
  exited?: string;
}

export interface StartOptions {
  /** Regex that appears in the log when the process is ready. */
  readonly ready?: RegExp;
  /** Readiness deadline (default 10 s). */
  readonly timeoutMs?: number;
}

/** True while /proc/PID exists and is not a zombie (`kill -0` also succeeds on a zombie). */
export function alive(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

/** Reads a log file ("" when it does not exist yet). */
export function readLog(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

/** Polls `path` until `re` matches (returns the elapsed ms), or throws after `timeoutMs`. */
export async function waitForLog(path: string, re: RegExp, timeoutMs: number, proc?: Proc, fromOffset = 0): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (re.test(readLog(path).slice(fromOffset))) return Date.now() - t0;
    if (proc && (proc.exited || !alive(proc.pid))) {
      throw new Error(`${proc.name} exited before ${re} appeared (${proc.exited ?? "gone"}); log ${path}:\n${tail(path)}`);
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`${proc?.name ?? path}: ${re} not seen within ${timeoutMs} ms; log ${path}:\n${tail(path)}`);
    await sleep(20);
  }
}

/** Last lines of a log, for error messages. */
export function tail(path: string, lines = 15): string {
  return readLog(path).trimEnd().split("\n").slice(-lines).join("\n");
}

export class Procs {
  readonly all: Proc[] = [];
  /** Set by stopAll: nothing may start after teardown began. */
  closed = false;

  /** Starts `argv` in namespace `ns` with stdout+stderr appended to `log`; waits for `opts.ready` if given. */
  async start(name: string, ns: string, argv: readonly string[], log: string, opts: StartOptions = {}): Promise<Proc> {
    if (this.closed) throw new Error(`lab is shutting down: not starting ${name}`);
    // A restarted process appends to the same log: readiness only counts what it writes from here on.
    const offset = readLog(log).length;
    const fd = openSync(log, "a");
    const full = inNs(ns, argv);
    const child = spawn(full[0], full.slice(1), { stdio: ["ignore", fd, fd], detached: true });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not start ${name}: ${full.join(" ")}`);
    const proc: Proc = { name, pid: child.pid, log };
    child.on("exit", (code, signal) => (proc.exited = signal ?? `exit ${code}`));
    child.on("error", (e) => (proc.exited = `error ${e.message}`));
    child.unref();
    this.all.push(proc);
    if (opts.ready) await waitForLog(log, opts.ready, opts.timeoutMs ?? 10_000, proc, offset);
    return proc;
  }

  /**
   * Takes over a process this run started that daemonized (its pid from its pid file): stopped like the others at
   * teardown. Its exit is not observed (not our child): `alive` tells.
   */
  adopt(name: string, pid: number, log: string): Proc {
    if (this.closed) {
      process.kill(pid, "SIGKILL");
      throw new Error(`lab is shutting down: ${name} (pid ${pid}) killed`);
    }
    const proc: Proc = { name, pid, log };
    this.all.push(proc);
    return proc;
  }

  /** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves when the process is gone (ms taken). */
  async stop(proc: Proc, graceMs = 3000, signal: NodeJS.Signals = "SIGTERM"): Promise<number> {
    const t0 = Date.now();
    const send = (s: NodeJS.Signals) => {
      try {
        process.kill(proc.pid, s);
      } catch {
        /* already gone */
      }
    };
    if (alive(proc.pid)) send(signal);
    while (alive(proc.pid) && Date.now() - t0 < graceMs) await sleep(10);
    if (alive(proc.pid)) {
      send("SIGKILL");
      while (alive(proc.pid) && Date.now() - t0 < graceMs + 5000) await sleep(10);
    }
    const i = this.all.indexOf(proc);
    if (i >= 0) this.all.splice(i, 1);
    return Date.now() - t0;
  }

  /** Hard kill (SIGKILL now), e.g. to simulate a crashed server. */
  kill(proc: Proc): Promise<number> {
    return this.stop(proc, 0, "SIGKILL");
  }

  /** Stops every process this run started, newest first. */
  async stopAll(graceMs = 1500): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].reverse().map((p) => this.stop(p, graceMs)));
  }

  /** Synchronous last resort (process 'exit' handler): SIGKILL whatever is still running. */
  killAllSync(): void {
    this.closed = true;
    for (const p of this.all) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    this.all.length = 0;
  }
}
