/**
 * The console firewall on the Proxmox host: the tenants' VNC ports answer on the management address only to
 * the two VPN servers (which DNAT each tenant's own console from its tunnel). Its own chain LR-CONSOLE, jumped
 * to first from INPUT for the tenant port range. pve-firewall "does not touch other (user defined) chains"
 * (pve-firewall debian/README) and only manages PVEFW-* and its own jump, so the two coexist; our jump sits
 * above PVEFW-INPUT, so the VPN servers reach the consoles even when the host firewall's policy is DROP.
 * Pure: no `@pulumi/*` import.
 */
import { isIpv4 } from "../config/net";
import type { Plan } from "../plan/types";
import type { HostLayout } from "./layout";

export const CONSOLE_CHAIN = "LR-CONSOLE";

/** The port range that holds every tenant's console (the plan's lowest and highest), or undefined with no tenants. */
export function consolePortRange(plan: Plan): { lo: number; hi: number } | undefined {
  if (plan.tenants.length === 0) return undefined;
  const ports = plan.tenants.map((t) => t.vnc.port);
  return { lo: Math.min(...ports), hi: Math.max(...ports) };
}

/** The LR-CONSOLE rules, iptables-save form. */
export function consoleChainRules(plan: Plan): string[] {
  const host = `${plan.host.mgmtIp}/32`;
  return [...plan.servers.map((s) => `-A ${CONSOLE_CHAIN} -s ${s.mgmtIp}/32 -d ${host} -j ACCEPT`), `-A ${CONSOLE_CHAIN} -j DROP`];
}

/**
 * Bash script `<script> [apply|delete]` (default apply; env LR_MODE works too). apply: LR-CONSOLE rebuilt
 * atomically, the jump `-p tcp --dport lo:hi -j LR-CONSOLE` first in INPUT, a stale jump for another range
 * removed. delete: every jump to LR-CONSOLE and the chain removed. Idempotent both ways.
 */
export function renderHostConsoleFirewall(plan: Plan, layout: HostLayout): string {
  for (const ip of [plan.host.mgmtIp, ...plan.servers.map((s) => s.mgmtIp)]) if (!isIpv4(ip)) throw new Error(`not an IPv4 address: ${ip}`);
  const range = consolePortRange(plan);
  const jump = range ? `-p tcp -m tcp --dport ${range.lo}:${range.hi} -j ${CONSOLE_CHAIN}` : "";
  return `#!/bin/bash
# Console firewall on the Proxmox host (stack ${plan.stack}); rendered by librerouter-hosting, do not edit.
# VNC ports ${range ? `${range.lo}–${range.hi}` : "(no tenants)"} on ${plan.host.mgmtIp} only from ${plan.servers.map((s) => `${s.name} ${s.mgmtIp}`).join(" and ")}.
# Host config dir: ${layout.confDir}. Usage: $0 [apply|delete]
set -euo pipefail
export LC_ALL=C
IPT=/usr/sbin/iptables
IPT_RESTORE=/usr/sbin/iptables-restore
IPT_SAVE=/usr/sbin/iptables-save
CHAIN=${CONSOLE_CHAIN}
JUMP='${jump}'
MODE=\${1:-\${LR_MODE:-apply}}
NL=$'\\n'

# drop_jumps <keep>: delete every INPUT jump to the chain except <keep> (args as iptables-save prints them).
drop_jumps() {
  local saved line rule
  saved=$("$IPT_SAVE" -t filter)
  while IFS= read -r line; do
    [[ $line == "-A INPUT "*"-j $CHAIN" ]] || continue
    rule=\${line#-A INPUT }
    [[ $rule == "$1" ]] && continue
    read -ra args <<<"$rule"
    "$IPT" -D INPUT "\${args[@]}"
  done <<<"$saved"
}

case $MODE in
  apply)
    "$IPT_RESTORE" --noflush <<'LR_CONSOLE'
*filter
:${CONSOLE_CHAIN} - [0:0]
${consoleChainRules(plan).join("\n")}
COMMIT
LR_CONSOLE
    drop_jumps "$JUMP"
    if [[ -n $JUMP ]]; then
      saved=$("$IPT_SAVE" -t filter)
      if [[ $NL$saved$NL != *"$NL-A INPUT $JUMP$NL"* ]]; then
        read -ra args <<<"$JUMP"
        "$IPT" -I INPUT 1 "\${args[@]}"
      fi
    fi
    ;;
  delete)
    drop_jumps ""
    if "$IPT" -n -L "$CHAIN" >/dev/null 2>&1; then
      "$IPT" -F "$CHAIN"
      "$IPT" -X "$CHAIN"
    fi
    ;;
  *)
    echo "usage: $0 [apply|delete]" >&2
    exit 2
    ;;
esac
`;
}

/** The same script as two stdin-ready scripts for a remote command: `apply` and `delete`. */
export function hostConsoleFirewallScripts(plan: Plan, layout: HostLayout): { apply: string; delete: string } {
  const script = renderHostConsoleFirewall(plan, layout);
  const fixed = (mode: string) => script.replace("MODE=${1:-${LR_MODE:-apply}}", `MODE=${mode}`);
  return { apply: fixed("apply"), delete: fixed("delete") };
}
