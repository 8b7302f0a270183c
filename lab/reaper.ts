/**
 * A watchdog for hard deaths: `npm run lab` runs under tsx, which SIGKILLs its child when the child does not
 * acknowledge a relayed Ctrl-C within 30 ms (busy machine), and nothing in Node survives SIGKILL. The reaper is
 * a detached bash loop that waits for the lab's Node process to disappear, then kills the processes inside this
 * run's namespaces (exactly `<prefix>-*`), deletes those namespaces, their /etc/netns entries and the run
 * directory, and puts back the nf_log_all_netns value the kernel log relay changed. A normal teardown cleans up itself and then stops the reaper.
 */
import { spawn } from "node:child_process";

/** In the run directory: the nf_log_all_netns value to put back (./kmsg.ts writes it while the lab logs netns). */
export const NF_LOG_RESTORE_FILE = "nf_log_all_netns.restore";

/** The reaper's script for one run (prefix and dir are checked to be plain words first). */
export function reaperScript(prefix: string, dir: string, watchPid: number): string {
  if (!/^[a-z0-9]+$/.test(prefix) || !/^\/[A-Za-z0-9._/-]+$/.test(dir)) throw new Error(`reaper: unsafe prefix or dir ${prefix} ${dir}`);
  return `
while [ -d /proc/${watchPid} ] && ! grep -q '^State:.*Z' /proc/${watchPid}/status 2>/dev/null; do sleep 0.3; done
for ns in $(ip netns list | awk '{print $1}' | grep '^${prefix}-'); do
  pids=$(ip netns pids "$ns")
  if [ -n "$pids" ]; then kill -9 $pids 2>/dev/null; fi
  ip netns del "$ns"
  rm -rf "/etc/netns/$ns"
done
# A teardown killed between deleting a namespace and its /etc/netns entry leaves the entry alone: remove those too.
rm -rf /etc/netns/${prefix}-*
if [ -f '${dir}/${NF_LOG_RESTORE_FILE}' ]; then cat '${dir}/${NF_LOG_RESTORE_FILE}' >/proc/sys/net/netfilter/nf_log_all_netns; fi
rm -rf '${dir}'
`;
}

/** Starts the reaper; returns a function that stops it (after a normal teardown). */
export function startReaper(prefix: string, dir: string): () => void {
  const child = spawn("bash", ["-c", reaperScript(prefix, dir, process.pid)], { detached: true, stdio: "ignore" });
  child.unref();
  return () => {
    try {
      if (child.pid) process.kill(child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  };
}
