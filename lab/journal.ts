/**
 * What the journal would hold for the lab's OpenVPN instances. Production's agents read the journal
 * (`journalctl`, which CrowdSec labels syslog); the lab's agents read files, so each VPN server's instance logs
 * (written by the lab with openvpn's own timestamps) are rewritten line by line in `journalctl -o short`'s format,
 * `Mon DD HH:MM:SS <host> openvpn[<pid>]: <message>`, into the one file that server's agent tails. The hooks'
 * output (no timestamp) is in the journal under openvpn's name too, stamped when it arrives.
 */
import { appendFileSync, closeSync, existsSync, openSync, readSync, statSync, writeFileSync } from "node:fs";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");

/** One line as `journalctl -o short` prints it (local time, the day padded with a space). */
export function journalLine(at: Date, host: string, ident: string, pid: number | undefined, message: string): string {
  const day = String(at.getDate()).padStart(2, " ");
  // The kernel's lines carry no pid (`kernel: …`).
  return `${MONTHS[at.getMonth()]} ${day} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())} ${host} ${ident}${pid === undefined ? "" : `[${pid}]`}: ${message}`;
}

const STAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) (.*)$/;

/** An openvpn log line (`YYYY-MM-DD HH:MM:SS message`, or a hook's bare line) as the journal shows it. */
export function openvpnToJournal(line: string, host: string, pid: number, now: Date): string {
  const m = STAMP.exec(line);
  if (!m) return journalLine(now, host, "openvpn", pid, line);
  const [, y, mo, d, h, mi, s, msg] = m;
  return journalLine(new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)), host, "openvpn", pid, msg);
}

/** A console gateway auth-log line as the journal shows the gateway's stderr (SyslogIdentifier lr-console-web). */
export function consoleToJournal(line: string, host: string, pid: number, now: Date): string {
  return journalLine(now, host, "lr-console-web", pid, line);
}

/** A log file followed from its start: complete lines only, the unfinished tail kept for the next read. */
class Follow {
  private offset = 0;
  private rest = "";

  constructor(
    readonly path: string,
    readonly pid: () => number,
  ) {}

  lines(): string[] {
    if (!existsSync(this.path)) return [];
    const size = statSync(this.path).size;
    if (size <= this.offset) return [];
    const buf = Buffer.alloc(size - this.offset);
    const fd = openSync(this.path, "r");
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const text = this.rest + buf.toString("utf8");
    const parts = text.split("\n");
    this.rest = parts.pop() ?? "";
    return parts.filter((l) => l !== "");
  }
}

/**
 * Runs `pass` every `everyMs` (not keeping Node alive) until the returned stop; a pass that throws is skipped: the run
 * directory went away under us (teardown), nothing is left to relay.
 */
export function everyPass(pass: () => void, everyMs: number): () => void {
  const timer = setInterval(() => {
    try {
      pass();
    } catch {
      /* teardown removed the files */
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Follows `sources` (instance log files, each with the pid of the instance writing it now: a restarted instance
 * appends to its old log) and appends their lines in journal format to `out`, every `everyMs`. `stop()` ends it
 * after a last pass.
 */
export function startJournal(
  out: string,
  host: string,
  sources: readonly { readonly path: string; readonly pid: () => number }[],
  everyMs = 100,
  convert: (line: string, host: string, pid: number, now: Date) => string = openvpnToJournal,
): { stop(): void; pass(): void } {
  writeFileSync(out, "", { flag: "a" });
  const follows = sources.map((s) => new Follow(s.path, s.pid));
  const pass = () => {
    const now = new Date();
    const text = follows.flatMap((f) => f.lines().map((l) => `${convert(l, host, f.pid(), now)}\n`)).join("");
    if (text && existsSync(out)) appendFileSync(out, text);
  };
  return { pass, stop: everyPass(pass, everyMs) };
}
