#!/bin/bash
# Console firewall on the Proxmox host (stack golden); rendered by librerouter-hosting, do not edit.
# VNC ports 6001–6002 on 192.168.100.10 only from vpn1 192.168.100.11 and vpn2 192.168.100.12.
# Host config dir: /etc/librerouter. Usage: $0 [apply|delete]
set -euo pipefail
export LC_ALL=C
IPT=/usr/sbin/iptables
IPT_RESTORE=/usr/sbin/iptables-restore
IPT_SAVE=/usr/sbin/iptables-save
CHAIN=LR-CONSOLE
JUMP='-p tcp -m tcp --dport 6001:6002 -j LR-CONSOLE'
MODE=${1:-${LR_MODE:-apply}}
NL=$'\n'

# drop_jumps <keep>: delete every INPUT jump to the chain except <keep> (args as iptables-save prints them).
drop_jumps() {
  local saved line rule
  saved=$("$IPT_SAVE" -t filter)
  while IFS= read -r line; do
    [[ $line == "-A INPUT "*"-j $CHAIN" ]] || continue
    rule=${line#-A INPUT }
    [[ $rule == "$1" ]] && continue
    read -ra args <<<"$rule"
    "$IPT" -D INPUT "${args[@]}"
  done <<<"$saved"
}

case $MODE in
  apply)
    "$IPT_RESTORE" --noflush <<'LR_CONSOLE'
*filter
:LR-CONSOLE - [0:0]
-A LR-CONSOLE -s 192.168.100.11/32 -d 192.168.100.10/32 -j ACCEPT
-A LR-CONSOLE -s 192.168.100.12/32 -d 192.168.100.10/32 -j ACCEPT
-A LR-CONSOLE -j DROP
COMMIT
LR_CONSOLE
    drop_jumps "$JUMP"
    if [[ -n $JUMP ]]; then
      saved=$("$IPT_SAVE" -t filter)
      if [[ $NL$saved$NL != *"$NL-A INPUT $JUMP$NL"* ]]; then
        read -ra args <<<"$JUMP"
        "$IPT" -I INPUT 1 "${args[@]}"
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
