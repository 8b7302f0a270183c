/**
 * The ban grid inside the lab (issue 11): the LAPI and the report gateway in the services namespace (the LAPI on the
 * services VM's management address), agents and set-only bouncers on vpn1, vpn2 and the host (its bridge table on
 * the public bridge), all from the rendered files (./ban-grid.ts). vpn1's and vpn2's agents read what the journal
 * would show of their real OpenVPN instances (./journal.ts); the host's and the services VM's agents read empty
 * sshd, pvedaemon and named files (nothing of those runs in the lab). Secrets are fresh per run.
 */
import type { BanSource } from "../plan/bans";
import type { ServerName } from "../plan/types";
import { GridRun } from "./ban-grid";
import { consoleToJournal, startJournal } from "./journal";
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
  const file = (m: string, src: BanSource) => lab.path("bans", m, `${src}.log`);
  const lapiCert = await lab.pki.issueService(`lapi.${plan.stack}.librerouter`, [plan.bans.lapi.ip]);
  const grid = new GridRun({
    plan,
    ns: { services: lab.ns.svc, vpn1: lab.ns.vpn1, vpn2: lab.ns.vpn2, host: lab.ns.host },
    root,
    procs: lab.procs,
    caPem: lab.pki.caPem,
    lapiCert,
    sources: {
      services: { named: file("services", "named") },
      vpn1: { openvpn: journalFile(lab, "vpn1"), console: consoleJournalFile(lab, "vpn1") },
      vpn2: { openvpn: journalFile(lab, "vpn2"), console: consoleJournalFile(lab, "vpn2") },
      host: { sshd: file("host", "sshd"), pvedaemon: file("host", "pvedaemon") },
    },
  });
  const t = await grid.up();
  lab.grid = grid;
  const f = (n: number) => `${n.toFixed(1)}s`;
  return `setup ${f(t.setup)}, LAPI ${f(t.lapi)}, enrolment ${f(t.enrol)}, agents + bouncers ${f(t.members)}`;
}
