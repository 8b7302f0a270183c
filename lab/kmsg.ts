/**
 * What the journal would hold of the kernel's log on each VPN server (its agent's `kernel` source: LR-IN's LOG lines,
 * render/bans/kernel-log.ts). The lab's servers are namespaces of one kernel, whose LOG lines reach the kernel log
 * only with net.netfilter.nf_log_all_netns=1: the relay sets it while it runs and puts the old value back when it
 * stops (a lab cleanup). It follows /dev/kmsg from its own start (older records skipped) and appends, per server,
 * each line whose DST= is that server's public address to the file its agent tails, in `journalctl -o short`'s form
 * for kernel lines: `Mon DD HH:MM:SS <host> kernel: <message>` (no pid), stamped when it is read (every 100 ms).
 */
import { appendFileSync, closeSync, constants, existsSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { everyPass, journalLine } from "./journal";

export const NF_LOG_ALL_NETNS = "/proc/sys/net/netfilter/nf_log_all_netns";
const KMSG = "/dev/kmsg";

/** A kernel line as `journalctl -o short` prints it: the journal's stamp and host, `kernel:` without a pid. */
export function kernelJournalLine(at: Date, host: string, message: string): string {
  return journalLine(at, host, "kernel", undefined, message);
}

/** The message of one /dev/kmsg record (`<prio>,<seq>,<usec>,<flags>;<message>\n` then ` KEY=value` lines). */
export function kmsgMessage(record: string): string | undefined {
  const semi = record.indexOf(";");
  if (semi < 0) return undefined;
  const end = record.indexOf("\n", semi);
  return record.slice(semi + 1, end < 0 ? undefined : end).trimEnd();
}

/**
 * nf_log_all_netns set to 1; the returned function puts the value found back (once). `restoreFile` holds that value
 * meanwhile, for the lab's reaper (./reaper.ts) to put back after a hard kill.
 */
export function logAllNetns(restoreFile?: string): () => void {
  if (!existsSync(NF_LOG_ALL_NETNS)) throw new Error(`${NF_LOG_ALL_NETNS} is missing: this kernel has no netfilter logging (it needs nf_log_syslog: modprobe nf_log_syslog)`);
  const old = readFileSync(NF_LOG_ALL_NETNS, "utf8").trim();
  if (restoreFile) writeFileSync(restoreFile, `${old}\n`);
  writeFileSync(NF_LOG_ALL_NETNS, "1");
  let done = false;
  return () => {
    if (done) return;
    done = true;
    writeFileSync(NF_LOG_ALL_NETNS, old);
    if (restoreFile) rmSync(restoreFile, { force: true });
  };
}

/** Every record /dev/kmsg holds now (non-blocking; records overwritten before we read them are skipped). */
function drain(fd: number, buf: Buffer): string[] {
  const out: string[] = [];
  for (;;) {
    try {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) return out;
      out.push(buf.toString("utf8", 0, n));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") return out;
      // EPIPE: the ring buffer overwrote records since the last read; the next read resumes at the oldest left.
      if (code !== "EPIPE") throw e;
    }
  }
}

export interface KmsgTarget {
  /** The server's name (the journal line's host). */
  readonly host: string;
  /** Lines with `DST=<publicIp> ` go to `out`. */
  readonly publicIp: string;
  readonly out: string;
}

/** Starts the relay (nf_log_all_netns on); `stop()` ends it after a last pass and restores the sysctl. */
export function startKmsgRelay(targets: readonly KmsgTarget[], everyMs = 100, restoreFile?: string): { stop(): void; pass(): void } {
  for (const t of targets) writeFileSync(t.out, "", { flag: "a" });
  const restore = logAllNetns(restoreFile);
  let fd: number;
  try {
    fd = openSync(KMSG, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    restore();
    throw new Error(`cannot read ${KMSG} (${(e as Error).message}): the lab's kernel log relay needs root`);
  }
  const buf = Buffer.alloc(16 * 1024);
  drain(fd, buf); // what the kernel logged before the lab started is not ours
  const pass = () => {
    const now = new Date();
    const lines = drain(fd, buf).flatMap((r) => kmsgMessage(r) ?? []);
    for (const t of targets) {
      const mine = lines.filter((l) => l.includes(` DST=${t.publicIp} `)).map((l) => `${kernelJournalLine(now, t.host, l)}\n`);
      if (mine.length && existsSync(t.out)) appendFileSync(t.out, mine.join(""));
    }
  };
  const stopTimer = everyPass(pass, everyMs);
  let stopped = false;
  return {
    pass,
    stop: () => {
      if (stopped) return;
      stopped = true;
      stopTimer();
      try {
        pass();
      } catch {
        /* teardown removed the files */
      }
      closeSync(fd);
      restore();
    },
  };
}
