/**
 * `npm run lab` interrupted with Ctrl-C (SIGINT) in the middle of the bring-up must still remove every
 * namespace, /etc/netns entry, process and file of its run, and exit 130 — also when tsx, which relays the
 * signal, loses patience and SIGKILLs the lab (then lab/reaper.ts cleans up within a second or so).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../lab/exec";
import { NF_LOG_ALL_NETNS } from "../../lab/kmsg";

const ROOT = join(__dirname, "..", "..");

it("Ctrl-C during bring-up tears the run down completely", async () => {
  const nfLog = readFileSync(NF_LOG_ALL_NETNS, "utf8").trim();
  const child = spawn(process.execPath, [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), join(ROOT, "lab", "main.ts"), "--tenants", "2"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no topology line within 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      // Interrupt once namespaces, veths and marker processes exist.
      if (/\[lab\] topology/.test(out)) {
        clearTimeout(timer);
        child.kill("SIGINT");
        resolve();
      }
    };
    child.on("exit", (code) => reject(new Error(`lab exited (${code}) before its topology step:\n${out}`)));
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
  });
  const code = await exited;
  const prefix = /\[lab\] run (\S+), files in (\S+)/.exec(out);
  expect(prefix).not.toBeNull();
  const [, runId, dir] = prefix!;
  expect(code).toBe(130);
  // The reaper may still be finishing if tsx SIGKILLed the lab: give it a few seconds.
  for (let i = 0; i < 50 && ((await run(["ip", "netns", "list"])).stdout.includes(runId) || existsSync(dir)); i++) await new Promise((r) => setTimeout(r, 200));
  const list = (await run(["ip", "netns", "list"])).stdout;
  expect(list.split("\n").filter((l) => l.startsWith(runId))).toEqual([]);
  expect(existsSync(dir)).toBe(false);
  const leftover = (await run(["sh", "-c", `ls /etc/netns 2>/dev/null | grep '^${runId}' || true`])).stdout.trim();
  expect(leftover).toBe("");
  // No process of the run survives: every lab process runs inside a run namespace (`ip netns identify`).
  const ps = (await run(["sh", "-c", "for p in /proc/[0-9]*; do ip netns identify ${p#/proc/} 2>/dev/null; done"])).stdout;
  expect(ps.split("\n").filter((l) => l.startsWith(runId))).toEqual([]);
  // The kernel log relay's sysctl is back (lab/kmsg.ts, or the reaper after a SIGKILL).
  expect(readFileSync(NF_LOG_ALL_NETNS, "utf8").trim()).toBe(nfLog);
}, 90_000);
