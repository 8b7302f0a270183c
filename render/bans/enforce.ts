/**
 * Enforcement points (vpn1, vpn2: `inet`; the host: `bridge`, so frames bridged to every VM are covered): our nft
 * table with the allow set accepted before the ban set, the firewall bouncer's config in set-only mode, and the
 * systemd drop-ins that work around crowdsec-firewall-bouncer 0.0.25's flush-on-exit defects and run the daemons
 * unprivileged (user BAN_USER; the bouncer keeps CAP_NET_ADMIN only). Pure text.
 */
import type { BanMember, BansPlan } from "../../plan/bans";
import type { SetupFile } from "../shell";
import { SANDBOX_LINES } from "../systemd-sandbox";
import type { BanPaths } from "./paths";

/** The system user (and group) the grid's daemons run as: owner of their secrets and of the data tree. */
export const BAN_USER = "lr-crowdsec";
export const BAN_OWNER = `${BAN_USER}:${BAN_USER}`;

/**
 * cscli as the daemons' user: as root it could create the LAPI's database (or its journal) owned by root, which
 * the LAPI then cannot write. runuser: root only, no password, no PAM session to open.
 */
export function cscliArgv(p: BanPaths): string[] {
  return ["runuser", "-u", BAN_USER, "--", "cscli", "-c", `${p.etc}/config.yaml`];
}

/**
 * crowdsec (agent, and the LAPI on the services VM): no capability at all; the journal group for its journalctl
 * acquisition; writes only its data dir (the LAPI's sqlite).
 */
export function agentPrivileges(p: BanPaths): string {
  return `User=${BAN_USER}\nGroup=${BAN_USER}\nSupplementaryGroups=systemd-journal\nCapabilityBoundingSet=\nAmbientCapabilities=\n${SANDBOX_LINES}\nReadWritePaths=${p.data}\n`;
}

/** The bouncer: CAP_NET_ADMIN only (netlink to fill ban4), raised as an ambient capability; writes nothing. */
export const BOUNCER_PRIVILEGES = `User=${BAN_USER}\nGroup=${BAN_USER}\nAmbientCapabilities=CAP_NET_ADMIN\nCapabilityBoundingSet=CAP_NET_ADMIN\n${SANDBOX_LINES}\n`;

export const BAN_TABLE = "lrban";
export const BAN_SET = "ban4";
export const ALLOW_SET = "allow4";

/** The nft script that (re)creates the member's table; the bouncer only fills `ban4`. */
export function nftTable(bans: BansPlan, member: BanMember): string {
  const family = member.enforce;
  if (!family) throw new Error(`nftTable: ${member.name} enforces nothing`);
  // bridge: before anything else on the bridge (-200); inet: before the project's own filter chains (-10).
  const [hooks, prio] = family === "bridge" ? [["forward", "input"], -200] : [["input", "forward"], -10];
  const chains = hooks.map((h) => `  chain ${h} { type filter hook ${h} priority ${prio}; policy accept; ip saddr @${ALLOW_SET} accept; ip saddr @${BAN_SET} counter drop; }`);
  return `# Ban grid enforcement on ${member.name}; rendered by librerouter-hosting. The bouncer fills ${BAN_SET}; ${ALLOW_SET} always wins.
table ${family} ${BAN_TABLE}
delete table ${family} ${BAN_TABLE}
table ${family} ${BAN_TABLE} {
  set ${ALLOW_SET} { type ipv4_addr; flags interval; elements = { ${bans.neverBan.join(", ")} } }
  set ${BAN_SET} { type ipv4_addr; flags timeout; }
${chains.join("\n")}
}
`;
}

/**
 * The bouncer's config (0600: holds its API key). daemonize false: 0.0.25 flushes the set on SIGTERM only when
 * daemonized; ipv4/ipv6 explicit: `disable_ipv6` alone turns IPv4 off too.
 */
export function bouncerConfig(bans: BansPlan, p: BanPaths, apiKey: string): SetupFile {
  return {
    path: p.bouncerConfig,
    mode: "0600",
    content: `# Firewall bouncer of the ban grid; rendered by librerouter-hosting, do not edit.
mode: nftables
update_frequency: ${bans.pollSeconds}s
daemonize: false
log_mode: stdout
log_level: info
api_url: ${bans.lapi.url}
ca_cert_path: ${p.caCert}
api_key: ${apiKey}
disable_ipv6: true
deny_action: DROP
deny_log: false
supported_decisions_types: [ban]
blacklists_ipv4: ${BAN_SET}
nftables:
  ipv4:
    enabled: true
    set-only: true
    table: ${BAN_TABLE}
    chain: input
  ipv6:
    enabled: false
prometheus:
  enabled: false
`,
  };
}

/** systemd drop-ins and the resync timer (paths under /etc/systemd/system). */
export function systemdUnits(bans: BansPlan, member: BanMember, p: BanPaths): SetupFile[] {
  const dir = "/etc/systemd/system";
  const wait = `${p.bin}/lr-ban-wait-lapi.sh ${bans.lapi.url}health ${p.caCert}`;
  const agent: SetupFile = {
    path: `${dir}/crowdsec.service.d/librerouter.conf`,
    mode: "0644",
    // An agent started while the LAPI is down exits; alerts queue in memory while it runs, so keep it running.
    content: `[Unit]\nAfter=network-online.target\nWants=network-online.target\n\n[Service]\nExecStartPre=\nExecStartPre=/usr/bin/crowdsec -c ${p.etc}/config.yaml -t\nExecStart=\nExecStart=/usr/bin/crowdsec -c ${p.etc}/config.yaml\nExecReload=\nExecReload=/bin/kill -HUP $MAINPID\nRestart=always\nRestartSec=10\n${agentPrivileges(p)}`,
  };
  if (!member.enforce) return [agent];
  return [
    agent,
    {
      path: `${dir}/crowdsec-firewall-bouncer.service.d/librerouter.conf`,
      mode: "0644",
      // Never start while the LAPI is unreachable: 0.0.25 then exits and flushes the set. Type=simple: with
      // daemonize false it never notifies. Our table is loaded before it (it fills, never creates, the set).
      content: `[Unit]\nAfter=network-online.target lr-ban-table.service\nRequires=lr-ban-table.service\nConditionPathExists=\n\n[Service]\nType=simple\nExecStartPre=\nExecStartPre=${wait}\nExecStart=\nExecStart=/usr/bin/crowdsec-firewall-bouncer -c ${p.bouncerConfig}\nExecStartPost=\nExecStopPost=\nTimeoutStartSec=infinity\nRestart=always\nRestartSec=5\n${BOUNCER_PRIVILEGES}`,
    },
    {
      path: `${dir}/lr-ban-table.service`,
      mode: "0644",
      // Root's job, like the resync below: it (re)creates the table, the unprivileged bouncer only fills ban4.
      content: `[Unit]\nDescription=librerouter-hosting ban grid nft table\nBefore=crowdsec-firewall-bouncer.service\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/usr/sbin/nft -f ${p.etc}/lrban.nft\n\n[Install]\nWantedBy=multi-user.target\n`,
    },
    {
      path: `${dir}/lr-ban-resync.service`,
      mode: "0644",
      // The LAPI stream can skip a decision committed during a pull; a restart resyncs, but only while the LAPI is up.
      // Root's: restarting a unit is systemd's business (the bouncer's own user may not).
      content: `[Unit]\nDescription=librerouter-hosting ban grid resync (bouncer restart while the LAPI answers)\n\n[Service]\nType=oneshot\nExecStart=/bin/sh -c '${wait} 5 && systemctl try-restart crowdsec-firewall-bouncer.service'\n`,
    },
    {
      path: `${dir}/lr-ban-resync.timer`,
      mode: "0644",
      content: `[Unit]\nDescription=librerouter-hosting ban grid resync every 5 minutes\n\n[Timer]\nOnBootSec=5min\nOnUnitActiveSec=5min\n\n[Install]\nWantedBy=timers.target\n`,
    },
  ];
}
