/**
 * The firewall on the Proxmox host, in two chains jumped to first from INPUT:
 * - LR-MGMT, for everything arriving on the management bridge: replies to the host's own connections (SSH to the
 *   guests), the console ports and the serial bridge's port from the two VPN servers pass, every other new connection is dropped, so a
 *   compromised VPN or services VM cannot reach the host's SSH or API. Also for IPv6 (sshd and pveproxy listen
 *   on `::`, and every bridge has a link-local address). In a cluster (several nodes) the management bridge is the
 *   nodes' own network too: after the VPN servers' consoles, serial bridge and VXLAN (sdn.port) to this node, only the
 *   guests' other new connections are dropped and the rest goes on to pve-firewall. Not for IPv6, whose guest
 *   sources (link-local) cannot be told from a node's: the nodes must talk IPv4 on the management network.
 * - LR-CONSOLE, for the management address reached from anywhere but the management bridge and loopback: dropped.
 *   A tenant VM on the public bridge can route to it via the host's public address (Linux accepts a packet for any
 *   local address on any interface), which would reach the consoles, SSH and the API on it (review H1/H2); a packet
 *   that claims a VPN server's source there is spoofed. The host's own connections to itself arrive on `lo`.
 * The port set is every port a tenant console can EVER take under the config (`plan.consolePorts`),
 * so adding or removing a tenant never changes this script.
 *
 * pve-firewall (legacy, iptables) never flushes INPUT: it loads its rules with `iptables-restore -n`, appends
 * its `-A INPUT -j PVEFW-INPUT` only when missing and deletes only that jump on stop (pve-firewall
 * src/PVE/Firewall.pm get_ruleset_cmdlist / remove_pvefw_chains_iptables), and "does not touch other (user
 * defined) chains" (debian/README). So our jumps, inserted at the top, stay above PVEFW-INPUT. The boot unit
 * runs after pve-firewall.service, whose ExecStartPre switches the iptables alternative to legacy: our rules go
 * to the same tables. Not for PVE 8's opt-in nftables proxmox-firewall: an iptables ACCEPT does not override
 * an nft DROP there. Pure: no `@pulumi/*` import.
 */
import { hostExporterRules } from "./monitoring/firewall";
import { isIpv4 } from "../lib/ipv4";
import type { Plan } from "../plan/types";
import { LR_WRITE_FN, scriptHead, shq, writeFile } from "./shell";
import type { HostLayout } from "./layout";
import { scriptFile } from "./script-file";

/** input_jumps, drop_jumps, want_jumps, drop_chains: the static part of the firewall script. */
const FIREWALL_FUNCTIONS = scriptFile("console-firewall.sh");

export const CONSOLE_CHAIN = "LR-CONSOLE";
export const MGMT_CHAIN = "LR-MGMT";
/** The host's boot unit that re-applies the firewall. */
export const HOST_FIREWALL_UNIT = "librerouter-console-firewall.service";

/** `<confDir>/console-firewall`: the installed script (`apply` | `delete`). */
export function hostFirewallToolPath(layout: HostLayout): string {
  return `${layout.confDir}/console-firewall`;
}

/** The console ports as a multiport list (`6001:8005,8007:9994`): fixed by the config, never by the tenants. */
export function consolePorts(plan: Plan): string {
  const ranges = plan.consolePorts;
  if (ranges.length === 0) throw new Error("no slot can hold a tenant: check network.vncDisplayBase, network.vlanBase and the tenant networks");
  // multiport takes at most 15 ports, a range counting as two; the reserved ports split the range into at most 4.
  if (ranges.reduce((n, r) => n + (r.lo === r.hi ? 1 : 2), 0) > 15) throw new Error("console port ranges do not fit one multiport match");
  return ranges.map((r) => (r.lo === r.hi ? `${r.lo}` : `${r.lo}:${r.hi}`)).join(",");
}

/** The LR-CONSOLE and LR-MGMT rules, iptables-save form. */
export function consoleChainRules(plan: Plan): string[] {
  const host = `${plan.host.mgmtIp}/32`;
  const ports = consolePorts(plan);
  return [
    `-A ${CONSOLE_CHAIN} -i lo -j RETURN`,
    `-A ${CONSOLE_CHAIN} -j DROP`,
    `-A ${MGMT_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    ...plan.servers.map((s) => `-A ${MGMT_CHAIN} -s ${s.mgmtIp}/32 -d ${host} -p tcp -m multiport --dports ${ports} -j ACCEPT`),
    // The serial bridge (render/host-serial.ts): the VPN servers' console gateways attach the tenants' text consoles.
    ...plan.servers.map((s) => `-A ${MGMT_CHAIN} -s ${s.mgmtIp}/32 -d ${host} -p tcp -m tcp --dport ${plan.consoles.serialBridgePort} -j ACCEPT`),
    // Monitoring: the services VM's Prometheus scrapes this node's exporter (render/monitoring/firewall.ts).
    ...hostExporterRules(plan, plan.monitoring, MGMT_CHAIN, plan.host.mgmtIp),
    // SDN: the VPN servers are VTEPs of the zone, their VXLAN comes to this node's address.
    ...(plan.sdn ? plan.servers.map((s) => `-A ${MGMT_CHAIN} -s ${s.mgmtIp}/32 -d ${host} -p udp -m udp --dport ${plan.sdn?.port} -j ACCEPT`) : []),
    // A cluster: the management bridge is the nodes' own network (corosync, SSH, the API, migration, the other nodes'
    // VXLAN), so only the guests' other new connections are dropped; the rest goes on to pve-firewall.
    ...(plan.nodes.length > 1
      ? [...[...plan.servers.map((s) => s.mgmtIp), plan.services.mgmtIp].map((ip) => `-A ${MGMT_CHAIN} -s ${ip}/32 -j DROP`), `-A ${MGMT_CHAIN} -j RETURN`]
      : [`-A ${MGMT_CHAIN} -j DROP`]),
  ];
}

/** The INPUT jumps, as iptables-save prints them, in the order they must head INPUT. */
export function consoleJumps(plan: Plan): { v4: string[]; v6: string[] } {
  const bridge = plan.bridges.management;
  return {
    v4: [`-i ${bridge} -j ${MGMT_CHAIN}`, `-d ${plan.host.mgmtIp}/32 -j ${CONSOLE_CHAIN}`],
    v6: [`-i ${bridge} -j ${MGMT_CHAIN}`],
  };
}

/**
 * Bash script `<script> [apply|delete]` (default apply; env LR_MODE works too). apply: the chains rebuilt
 * atomically, our jumps first in INPUT in their order (stale or misplaced ones removed and put back). delete:
 * every jump to our chains and the chains removed. Idempotent both ways; this is what the boot unit runs.
 */
export function renderHostConsoleFirewall(plan: Plan, layout: HostLayout): string {
  for (const ip of [plan.host.mgmtIp, ...plan.servers.map((s) => s.mgmtIp)]) if (!isIpv4(ip)) throw new Error(`not an IPv4 address: ${ip}`);
  const bridge = plan.bridges.management;
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) throw new Error(`network.managementBridge ${JSON.stringify(bridge)} is not an interface name`);
  const jumps = consoleJumps(plan);
  return `#!/bin/bash
# Host firewall on the Proxmox host (stack ${plan.stack}); rendered by librerouter-hosting, do not edit.
# From ${bridge}: replies, and VNC ports ${consolePorts(plan)} and the serial bridge ${plan.consoles.serialBridgePort} on ${plan.host.mgmtIp} from ${plan.servers.map((s) => `${s.name} ${s.mgmtIp}`).join(" and ")}; nothing else new.
# ${plan.host.mgmtIp} from anywhere but ${bridge} and lo: dropped. Boot: ${layout.systemdDir}/${HOST_FIREWALL_UNIT}.
# Usage: $0 [apply|delete]
set -euo pipefail
export LC_ALL=C
CHAINS=(${CONSOLE_CHAIN} ${MGMT_CHAIN})
JUMPS4=(${jumps.v4.map(shq).join(" ")})
JUMPS6=(${jumps.v6.map(shq).join(" ")})
MODE=\${1:-\${LR_MODE:-apply}}
NL=$'\\n'
${FIREWALL_FUNCTIONS}case $MODE in
  apply)
    /usr/sbin/iptables-restore --noflush <<'LR_RULES'
*filter
:${CONSOLE_CHAIN} - [0:0]
:${MGMT_CHAIN} - [0:0]
${consoleChainRules(plan).join("\n")}
COMMIT
LR_RULES
    /usr/sbin/ip6tables-restore --noflush <<'LR_RULES'
*filter
:${MGMT_CHAIN} - [0:0]
-A ${MGMT_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ${MGMT_CHAIN} -j DROP
COMMIT
LR_RULES
    want_jumps "" "\${JUMPS4[@]}"
    want_jumps 6 "\${JUMPS6[@]}"
    ;;
  delete)
    for v in "" 6; do
      drop_jumps "$v"
      drop_chains "$v"
    done
    ;;
  *)
    echo "usage: $0 [apply|delete]" >&2
    exit 2
    ;;
esac
`;
}

/** The host's boot unit: re-applies the firewall after pve-firewall and before any VM (its VNC port) starts. */
export function renderHostFirewallUnit(plan: Plan, layout: HostLayout): string {
  return `# Rendered by librerouter-hosting (stack ${plan.stack}), do not edit.
[Unit]
Description=LibreRouter host firewall (tenant VNC consoles, management bridge ${plan.bridges.management})
# pve-firewall sets the iptables alternative and appends its own INPUT jump; ours go above it, in the same tables.
After=network.target pve-firewall.service
Before=pve-guests.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${hostFirewallToolPath(layout)} apply

[Install]
WantedBy=multi-user.target
`;
}

/**
 * The two stdin scripts of the host's remote command. apply: writes the firewall script and its boot unit,
 * enables the unit, applies. delete: disables and removes the unit, removes the rules (with its own copy of
 * the script, so it works even if the installed one is gone) and the script. Env `LR_SERVICES=systemd|none`
 * (default systemd; `none` = the lab: files only, no systemctl).
 */
export function hostConsoleFirewallScripts(plan: Plan, layout: HostLayout): { apply: string; delete: string } {
  const tool = renderHostConsoleFirewall(plan, layout);
  const toolPath = hostFirewallToolPath(layout);
  const unitPath = `${layout.systemdDir}/${HOST_FIREWALL_UNIT}`;
  const head = (what: string) => scriptHead(`${what} of the host firewall (stack ${plan.stack})`, true);
  const apply = `${head("Install")}
${LR_WRITE_FN}

${writeFile({ path: toolPath, mode: "0755", content: tool }, "root:root")}
${writeFile({ path: unitPath, mode: "0644", content: renderHostFirewallUnit(plan, layout) }, "root:root")}
if [[ $LR_SERVICES == systemd ]]; then
  systemctl daemon-reload
  systemctl enable ${HOST_FIREWALL_UNIT}
fi
${shq(toolPath)} apply
printf 'host firewall: %s files changed, applied (%s)\\n' "\${#CHANGED[@]}" "$LR_SERVICES"
`;
  if (tool.includes("\nLR_TOOL\n")) throw new Error("the host firewall script holds its own heredoc delimiter");
  const del = `${head("Removal")}
if [[ $LR_SERVICES == systemd && -e ${shq(unitPath)} ]]; then systemctl disable --now ${HOST_FIREWALL_UNIT}; fi
rm -f ${shq(unitPath)}
if [[ $LR_SERVICES == systemd ]]; then systemctl daemon-reload; fi
bash -s delete <<'LR_TOOL'
${tool}LR_TOOL
rm -f ${shq(toolPath)}
printf 'host firewall: removed\\n'
`;
  return { apply, delete: del };
}
