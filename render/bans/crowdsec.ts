/**
 * CrowdSec 1.4.6 files of the ban grid: config.yaml per member (LAPI + agent on the services VM, agent only
 * elsewhere), the agent's credentials and acquisition, the LAPI's profile (durations, repeat offenders). Pure text.
 */
import type { BanMember, BanSource, BansPlan } from "../../plan/bans";
import type { SetupFile } from "../shell";
import type { BanPaths } from "./paths";

/** Where the agent reads each source: the journal (production) or plain syslog-format files (the lab). */
export type Acquisition = { readonly kind: "journal" } | { readonly kind: "files"; readonly files: Partial<Record<BanSource, string>> };

const unit = (u: string) => `_SYSTEMD_UNIT=${u}`;

/** The journal matches of each source (journalctl ORs matches of one field): its units, or the kernel's own transport. */
export const JOURNAL_MATCHES: Record<BanSource, readonly string[]> = {
  openvpn: [unit("openvpn-server@udp.service"), unit("openvpn-server@tcp.service")],
  console: [unit("lr-console-web.service")],
  // LR-IN's LOG lines (render/bans/kernel-log.ts) reach the journal from the kernel, not from a unit.
  kernel: ["_TRANSPORT=kernel"],
  sshd: [unit("ssh.service")],
  pvedaemon: [unit("pvedaemon.service")],
  named: [unit("named.service")],
};

/** Vendored hub items (paths under the hub) each source needs; every agent also links the syslog and date parsers. */
export const HUB_ITEMS: Record<BanSource | "base", readonly string[]> = {
  base: ["parsers/s00-raw/crowdsecurity/syslog-logs.yaml", "parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml", "parsers/s02-enrich/crowdsecurity/whitelists.yaml"],
  openvpn: [],
  console: [],
  // Any kernel line with IN= (a LOG rule's) → iptables_drop; 16 distinct ports from one source (one leaks per 5 s) ban it.
  kernel: ["parsers/s01-parse/crowdsecurity/iptables-logs.yaml", "scenarios/crowdsecurity/iptables-scan-multi_ports.yaml"],
  sshd: ["parsers/s01-parse/crowdsecurity/sshd-logs.yaml", "scenarios/crowdsecurity/ssh-bf.yaml", "scenarios/crowdsecurity/ssh-slow-bf.yaml"],
  pvedaemon: ["parsers/s01-parse/fulljackz/proxmox-logs.yaml", "scenarios/fulljackz/proxmox-bf.yaml"],
  named: ["scenarios/mstilkerich/bind9-refused.yaml"],
};

/** The vendored items a member's agent links (hub-relative). */
export function hubItems(member: BanMember): string[] {
  return [...HUB_ITEMS.base, ...member.sources.flatMap((s) => HUB_ITEMS[s])];
}

/** The full config.yaml of a member; the services VM's also runs the LAPI (TLS, sqlite, our profile, no CAPI). */
export function crowdsecConfig(bans: BansPlan, member: BanMember, p: BanPaths): string {
  const lapi = member.name === "services";
  const head = `# CrowdSec on ${member.name}; rendered by librerouter-hosting, do not edit.
common:
  daemonize: false
  log_media: stdout
  log_level: info
  working_dir: .
config_paths:
  config_dir: ${p.etc}/
  data_dir: ${p.data}/
  simulation_path: ${p.etc}/simulation.yaml
  hub_dir: ${p.hub}/
  index_path: ${p.hub}/.index.json
  notification_dir: ${p.etc}/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
crowdsec_service:
  acquisition_path: ${p.etc}/acquis.yaml
  parser_routines: 1
cscli:
  output: human
  color: no
prometheus:
  enabled: false
`;
  // No online_client key: the Central API stays off (offline grid, nothing shared with crowdsec.net).
  const api = lapi
    ? `db_config:
  type: sqlite
  db_path: ${p.data}/crowdsec.db
  use_wal: true
  flush:
    max_items: 500000
    max_age: ${bans.profile.keepFor}
api:
  client:
    credentials_path: ${p.etc}/local_api_credentials.yaml
  server:
    log_level: info
    listen_uri: ${bans.lapi.ip}:${bans.lapi.port}
    profiles_path: ${p.etc}/profiles.yaml
    trusted_ips: [127.0.0.1]
    tls:
      cert_file: ${p.lapiCert}
      key_file: ${p.lapiKey}
`
    : `api:
  client:
    credentials_path: ${p.etc}/local_api_credentials.yaml
  server:
    enable: false
`;
  return head + api;
}

/** The agent's login to the LAPI (0600: it is grid-admin: it can add and delete any decision). */
export function credentialsFile(bans: BansPlan, member: BanMember, p: BanPaths, password: string): SetupFile {
  return { path: `${p.etc}/local_api_credentials.yaml`, mode: "0600", content: `url: ${bans.lapi.url}\nlogin: ${member.machine}\npassword: ${password}\nca_cert_path: ${p.caCert}\n` };
}

/** acquis.yaml: one document per source, labelled syslog (the journal's short output has the same shape). */
export function acquisition(member: BanMember, acq: Acquisition): string {
  const docs = member.sources.map((s) => {
    if (acq.kind === "journal") return `source: journalctl\njournalctl_filter:\n${JOURNAL_MATCHES[s].map((m) => `  - "${m}"`).join("\n")}\nlabels:\n  type: syslog\n`;
    const file = acq.files[s];
    if (!file) throw new Error(`acquisition: no lab file for ${s} on ${member.name}`);
    return `filenames:\n  - ${file}\nlabels:\n  type: syslog\n`;
  });
  return `# ${member.name}: what its agent reads; rendered by librerouter-hosting.\n${docs.join("---\n")}`;
}

/**
 * profiles.yaml: every remediation alert on an address becomes a ban; the n-th within the window lasts
 * durations[n-1]. The chain tests the count from 0 upwards, so a first offender costs one count query.
 */
export function profilesYaml(bans: BansPlan): string {
  const d = bans.profile.durations;
  const count = `GetDecisionsSinceCount(Alert.GetValue(), '${bans.profile.window}')`;
  let expr = `'${d[d.length - 1]}'`;
  for (let i = d.length - 2; i >= 0; i--) expr = `${count} < ${i + 1} ? '${d[i]}' : (${expr})`;
  return `# Ban decisions of the grid; rendered by librerouter-hosting. Durations: ${d.join(", ")} (then ${d[d.length - 1]}), within ${bans.profile.window}.
name: lr_ip_ban
filters:
  - Alert.Remediation == true && Alert.GetScope() == "Ip"
decisions:
  - type: ban
    duration: ${d[0]}
${d.length > 1 ? `duration_expr: "${expr}"\n` : ""}on_success: break
`;
}
