/**
 * The `banGrid` stack output: where the grid lives, what it never bans, how long bans last, and the commands ops run
 * on the services VM to see and lift bans. No credential: cscli there reads the LAPI's own database, run as the
 * LAPI's user (BAN_USER) so that nothing it creates is root's. Pure.
 */
import type { BansPlan } from "../../plan/bans";
import type { Plan } from "../../plan/types";
import { BAN_SET, BAN_TABLE, cscliArgv } from "./enforce";
import { PRODUCTION_PATHS } from "./paths";
import { FAIL2BAN_ACTION, REPORT_CLIENT, reportUrl } from "./tenant-report";

export interface BanGridOutput {
  readonly lapi: string;
  /** Machine → the nft set a ban lands in there. */
  readonly enforcement: Readonly<Record<string, string>>;
  readonly neverBan: readonly string[];
  /** First ban, then each repeat within the window (the last one for every later ban). */
  readonly banDurations: readonly string[];
  readonly repeatWindow: string;
  /** On the services VM (ssh root@<services mgmt IP> through the host), as root. */
  readonly ops: Readonly<Record<"list" | "show" | "lift" | "ban" | "alerts" | "members", string>> & { readonly where: string };
  /** What a tenant installs on his router to report attackers (undefined with reports off). */
  readonly tenantReports?: { readonly url: string; readonly quotaPerHour: number; readonly reporter: string; readonly fail2banAction: string };
}

export function banGridOutput(plan: Plan): BanGridOutput {
  const bans: BansPlan = plan.bans;
  const cscli = cscliArgv(PRODUCTION_PATHS).join(" ");
  return {
    lapi: bans.lapi.url,
    enforcement: Object.fromEntries(bans.members.flatMap((m) => (m.enforce ? [[m.name, `nft list set ${m.enforce} ${BAN_TABLE} ${BAN_SET}`]] : []))),
    neverBan: bans.neverBan,
    banDurations: bans.profile.durations,
    repeatWindow: bans.profile.window,
    ops: {
      where: `as root on the services VM: ssh -J ${plan.proxmox.sshUser}@${new URL(plan.proxmox.endpoint).hostname} root@${plan.services.mgmtIp}`,
      list: `${cscli} decisions list`,
      show: `${cscli} decisions list -i <IP>`,
      lift: `${cscli} decisions delete -i <IP>`,
      ban: `${cscli} decisions add -i <IP> -d 4h -R manual`,
      alerts: `${cscli} alerts list`,
      members: `${cscli} machines list; ${cscli} bouncers list`,
    },
    ...(bans.report ? { tenantReports: { url: reportUrl(bans), quotaPerHour: bans.report.quotaPerHour, reporter: REPORT_CLIENT, fail2banAction: FAIL2BAN_ACTION } } : {}),
  };
}
