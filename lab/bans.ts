/**
 * The ban grid inside the lab (issue 11): the LAPI and the report gateway in the services namespace (the LAPI on the
 * services VM's management address), agents and set-only bouncers on vpn1, vpn2 and every node (its bridge table
 * on the node's public bridge: `host` in lab.ns.host, `host-<node>` in lab.ns.nodes[node] under `--hosts 2`), all
 * from the rendered files (./ban-grid.ts); the members are plan.bans.members. vpn1's and vpn2's agents read what the
 * journal would show of their real OpenVPN instances (./journal.ts) and of the kernel's log lines for their public
 * addresses (LR-IN's probe and flood lines, ./kmsg.ts); the nodes' and the services VM's agents read
 * empty sshd, pvedaemon and named files (nothing of those runs in the lab). Secrets are fresh per run.
 */
import { type BanMemberName, type BanSource, nodeMemberName } from "../plan/bans";
import type { ServerName } from "../plan/types";
import { GridRun } from "./ban-grid";
import { consoleToJournal, startJournal } from "./journal";
import { startKmsgRelay } from "./kmsg";
import { NF_LOG_RESTORE_FILE } from "./reaper";
import { labConsoleWebPaths } from "./layout";
import type { Lab } from "./lab";
import { instanceLog } from "./servers";

/** The file vpn1's or vpn2's agent reads: its two instances' logs in journal format. */
export function journalFile(lab: Lab, server: ServerName): string {
  return lab.path("bans", server, "journal-openvpn.log");
}

/** The file vpn1's or vpn2's agent reads for the console gateway: its auth log in journal format. */
export function consoleJournalFile(lab: Lab, server: ServerName): string {
  return lab.path("bans", server, "journal-console.log");
}

/** The file vpn1's or vpn2's agent reads for its `kernel` source: the kernel's lines for its public address (./kmsg.ts). */
export function kernelJournalFile(lab: Lab, server: ServerName): string {
  return lab.path("bans", server, "journal-kernel.log");
}

/** The namespace of every member: the services VM's, the VPN servers', each node's (the API node's is lab.ns.host). */
export function memberNamespaces(lab: Lab): Partial<Record<BanMemberName, string>> {
  const plan = lab.plan;
  const ns: Partial<Record<BanMemberName, string>> = { services: lab.ns.svc, vpn1: lab.ns.vpn1, vpn2: lab.ns.vpn2 };
  for (const n of plan.nodes) ns[nodeMemberName(plan, n.name)] = n.name === plan.host.node ? lab.ns.host : lab.ns.nodes[n.name];
  const missing = plan.bans.members.filter((m) => !ns[m.name]).map((m) => m.name);
  if (missing.length) throw new Error(`lab ban grid: no namespace for member(s) ${missing.join(", ")} (lab.ns.nodes has ${Object.keys(lab.ns.nodes).join(", ")})`);
  return ns;
}

/** The file member `m`'s agent reads for `src`: the journal feeds of the VPN servers, an empty file for the rest. */
function sourceFile(lab: Lab, m: BanMemberName, src: BanSource): string {
  if ((m === "vpn1" || m === "vpn2") && src === "openvpn") return journalFile(lab, m);
  if ((m === "vpn1" || m === "vpn2") && src === "console") return consoleJournalFile(lab, m);
  if ((m === "vpn1" || m === "vpn2") && src === "kernel") return kernelJournalFile(lab, m);
  return lab.path("bans", m, `${src}.log`);
}

/** Brings the grid up and records it on the lab; resolves with the seconds of each phase. */
export async function startGrid(lab: Lab): Promise<string> {
  const plan = lab.plan;
  const root = lab.dirPath("bans");
  for (const s of plan.servers) {
    const feed = startJournal(
      journalFile(lab, s.name),
      s.name,
      s.instances.map((i) => ({ path: instanceLog(lab, i.id), pid: () => lab.servers.get(i.id)?.pid ?? 0 })),
    );
    lab.cleanups.push(feed.stop);
    // The gateway's wrong passwords (it starts later; the feed waits for its auth log to appear).
    const auth = labConsoleWebPaths(lab.dir, lab.netns.prefix, s.name).authLog;
    const consoleFeed = startJournal(consoleJournalFile(lab, s.name), s.name, [{ path: auth, pid: () => 1 }], 100, consoleToJournal);
    lab.cleanups.push(consoleFeed.stop);
  }
  // LR-IN's LOG lines of both servers: one kernel, one log; each server's file gets the lines for its public address.
  const kmsg = startKmsgRelay(plan.servers.map((s) => ({ host: s.name, publicIp: s.publicIp, out: kernelJournalFile(lab, s.name) })), 100, lab.path(NF_LOG_RESTORE_FILE));
  lab.cleanups.push(kmsg.stop);
  const sources = Object.fromEntries(plan.bans.members.map((m) => [m.name, Object.fromEntries(m.sources.map((src) => [src, sourceFile(lab, m.name, src)]))]));
  const lapiCert = await lab.pki.issueService(`lapi.${plan.stack}.librerouter`, [plan.bans.lapi.ip]);
  const grid = new GridRun({
    plan,
    ns: memberNamespaces(lab),
    root,
    procs: lab.procs,
    caPem: lab.pki.caPem,
    lapiCert,
    sources,
  });
  const t = await grid.up();
  lab.grid = grid;
  const f = (n: number) => `${n.toFixed(1)}s`;
  return `setup ${f(t.setup)}, LAPI ${f(t.lapi)}, enrolment ${f(t.enrol)}, agents + bouncers ${f(t.members)}`;
}
