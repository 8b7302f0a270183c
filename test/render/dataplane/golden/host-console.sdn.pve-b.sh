#!/bin/bash
# Host firewall on the Proxmox host (stack golden-sdn); rendered by librerouter-hosting, do not edit.
# From vmbr2: replies, and VNC ports 6001:8005,8007:22381 and the serial bridge 5899 on 192.168.100.20 from vpn1 192.168.100.11 and vpn2 192.168.100.12; nothing else new.
# 192.168.100.20 from anywhere but vmbr2 and lo: dropped. Boot: /etc/systemd/system/librerouter-console-firewall.service.
# Usage: $0 [apply|delete]
set -euo pipefail
export LC_ALL=C
CHAINS=(LR-CONSOLE LR-MGMT)
JUMPS4=('-i vmbr2 -j LR-MGMT' '-d 192.168.100.20/32 -j LR-CONSOLE')
JUMPS6=('-i vmbr2 -j LR-MGMT')
MODE=${1:-${LR_MODE:-apply}}
NL=$'\n'

# input_jumps <v>: INPUT's rules that jump to one of our chains, in order (as iptables-save prints them).
input_jumps() {
  local saved line c
  saved=$("/usr/sbin/ip${1}tables-save" -t filter)
  OURS=()
  while IFS= read -r line; do
    [[ $line == "-A INPUT "* ]] || continue
    for c in "${CHAINS[@]}"; do
      if [[ $line == *" -j $c" ]]; then OURS+=("${line#-A INPUT }"); fi
    done
  done <<<"$saved"
  HEAD=$(printf '%s\n' "$saved" | /usr/bin/grep -m "$2" '^-A INPUT ' || true)
}

# drop_jumps <v>: delete every INPUT jump to one of our chains.
drop_jumps() {
  local rule
  input_jumps "$1" 0
  for rule in "${OURS[@]}"; do
    read -ra args <<<"$rule"
    "/usr/sbin/ip${1}tables" -D INPUT "${args[@]}"
  done
}

# want_jumps <v> <jump>…: the jumps head INPUT in this order; otherwise ours are removed and put back on top.
want_jumps() {
  local v=$1 want='' i
  shift
  for i in "$@"; do want+="-A INPUT $i$NL"; done
  input_jumps "$v" "$#"
  [[ "$HEAD$NL" == "$want" && ${#OURS[@]} -eq $# ]] && return 0
  drop_jumps "$v"
  for ((i = $#; i >= 1; i--)); do
    read -ra args <<<"${!i}"
    "/usr/sbin/ip${v}tables" -I INPUT 1 "${args[@]}"
  done
}

drop_chains() {
  local c
  for c in "${CHAINS[@]}"; do
    if "/usr/sbin/ip${1}tables" -n -L "$c" >/dev/null 2>&1; then
      "/usr/sbin/ip${1}tables" -F "$c"
      "/usr/sbin/ip${1}tables" -X "$c"
    fi
  done
}

case $MODE in
  apply)
    /usr/sbin/iptables-restore --noflush <<'LR_RULES'
*filter
:LR-CONSOLE - [0:0]
:LR-MGMT - [0:0]
-A LR-CONSOLE -i lo -j RETURN
-A LR-CONSOLE -j DROP
-A LR-MGMT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A LR-MGMT -s 192.168.100.11/32 -d 192.168.100.20/32 -p tcp -m multiport --dports 6001:8005,8007:22381 -j ACCEPT
-A LR-MGMT -s 192.168.100.12/32 -d 192.168.100.20/32 -p tcp -m multiport --dports 6001:8005,8007:22381 -j ACCEPT
-A LR-MGMT -s 192.168.100.11/32 -d 192.168.100.20/32 -p tcp -m tcp --dport 5899 -j ACCEPT
-A LR-MGMT -s 192.168.100.12/32 -d 192.168.100.20/32 -p tcp -m tcp --dport 5899 -j ACCEPT
-A LR-MGMT -s 192.168.100.13/32 -d 192.168.100.20/32 -p tcp -m tcp --dport 9100 -j ACCEPT
-A LR-MGMT -s 192.168.100.11/32 -d 192.168.100.20/32 -p udp -m udp --dport 4789 -j ACCEPT
-A LR-MGMT -s 192.168.100.12/32 -d 192.168.100.20/32 -p udp -m udp --dport 4789 -j ACCEPT
-A LR-MGMT -s 192.168.100.11/32 -j DROP
-A LR-MGMT -s 192.168.100.12/32 -j DROP
-A LR-MGMT -s 192.168.100.13/32 -j DROP
-A LR-MGMT -j RETURN
COMMIT
LR_RULES
    /usr/sbin/ip6tables-restore --noflush <<'LR_RULES'
*filter
:LR-MGMT - [0:0]
-A LR-MGMT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A LR-MGMT -j DROP
COMMIT
LR_RULES
    want_jumps "" "${JUMPS4[@]}"
    want_jumps 6 "${JUMPS6[@]}"
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
