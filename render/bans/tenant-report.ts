/**
 * A tenant's side of the report gateway. No per-tenant state on the services VM: a tenant's token is
 * `<key>.<HMAC-SHA256(tokenKey, "lr-ban-report|<key>|<its public IP>")>`, which the gateway checks against the
 * address the report comes from (render/scripts/lr-ban-report.py), so adding a tenant costs no resource and
 * restarts nothing. What the tenant installs on his router: the reporter (render/scripts/lr-ban-report-client.sh),
 * its settings and a fail2ban action that calls it. Pure.
 */
import { createHmac } from "node:crypto";
import type { BansPlan } from "../../plan/bans";
import type { TenantPlan } from "../../plan/types";
import { scriptFile } from "../script-file";

export const REPORT_CLIENT = scriptFile("lr-ban-report-client.sh");

/** The gateway's URL (plain HTTP on the public bridge: see README, "Reporting attackers"). */
export function reportUrl(bans: BansPlan): string {
  const r = bans.report;
  if (!r) throw new Error("reportUrl: bans.report.enabled is false");
  return `http://${r.listen.ip}:${r.listen.port}/v1/report`;
}

/** Tenant `t`'s report token under the grid's `tokenKey` (a secret; at least 32 characters). */
export function tenantReportToken(tokenKey: string, t: Pick<TenantPlan, "key" | "publicIp">): string {
  if (tokenKey.length < 32) throw new Error("tenantReportToken: the token key needs at least 32 characters");
  return `${t.key}.${createHmac("sha256", tokenKey).update(`lr-ban-report|${t.key}|${t.publicIp}`, "utf8").digest("hex")}`;
}

/** /etc/lr-ban-report.conf on the tenant's router (0600: it holds the token). */
export function reporterConfig(bans: BansPlan, token: string): string {
  if (!/^[a-z0-9-]+\.[0-9a-f]{64}$/.test(token)) throw new Error("reporterConfig: not a report token (<key>.<64 hex digits>; the file is sourced by sh)");
  return `# librerouter-hosting ban reports: install as /etc/lr-ban-report.conf, mode 0600.\nLR_BAN_URL=${reportUrl(bans)}\nLR_BAN_TOKEN=${token}\n`;
}

/** fail2ban action (/etc/fail2ban/action.d/lr-ban-report.conf): every ban of the jail is reported to the grid. */
export const FAIL2BAN_ACTION = `# librerouter-hosting: report each ban to the service's ban grid (needs /usr/local/bin/lr-ban-report and
# /etc/lr-ban-report.conf). Use: action = %(action_)s
#                                      lr-ban-report
[Definition]
actionstart =
actionstop =
actioncheck =
actionban = /usr/local/bin/lr-ban-report <ip> f2b-<name>
actionunban =
`;
