#!/bin/bash
# lr-dataplane for vpn1 (stack golden): tenant links, policy routing, firewall.
# Rendered by librerouter-hosting, do not edit. Idempotent: every subcommand may run any number of times.
#   base          sysctls, the routing skeleton, the firewall chains
#   apply <key>   the tenant's link, address, table and rules from /etc/librerouter/tenants/<key>.env
#   delete <key>  removes exactly what apply added, kills the tenant's live sessions, removes the env file
#   apply-all     base + every tenant (the boot unit librerouter-dataplane.service)
#   status        what is missing (exit 1 if anything is)
# shellcheck disable=SC2310 # predicates like `check … || die` are meant to run with set -e off
set -euo pipefail
export LC_ALL=C
umask 022

IP=/usr/sbin/ip
IPT=/usr/sbin/iptables
IPT_RESTORE=/usr/sbin/iptables-restore
IPT_SAVE=/usr/sbin/iptables-save
SYSCTL=/usr/sbin/sysctl
SOCAT=/usr/bin/socat
TIMEOUT=/usr/bin/timeout
SERVER=vpn1
TENANTS_DIR=/etc/librerouter/tenants
RT_TABLES=${LR_RT_TABLES:-/etc/iproute2/rt_tables.d/librerouter.conf}
TRUNK=eth1
HOST_MGMT=192.168.100.10
LINK_GROUP=19538
DEV1=tun-udp
GW1=10.255.0.1
SOCK1=/run/openvpn-server/udp.sock
DEV2=tun-tcp
GW2=10.255.64.1
SOCK2=/run/openvpn-server/tcp.sock
PREF_MIN=100
PREF_END=32000
declare -A ENV_KIND=([LR_KEY]=name [LR_SLOT]=int [LR_LINK]=ifname [LR_VLAN]=int [LR_LAN_ADDR]=cidr [LR_LAN_NET]=cidr [LR_ROUTER]=ip [LR_TABLE]=int [LR_TABLE_NAME]=name [LR_TUN1]=ip [LR_PREF1]=int [LR_TUN2]=ip [LR_PREF2]=int [LR_VNC_PORT]=int)

# The routing skeleton (70 rules; pool offsets 0–63 of 10.255.0.0/18 and 10.255.64.0/18),
# in install order: END first, leaves before the rules that jump to them. "<pref>|<ip rule add args>|<ip -N rule show>".
SKELETON='32000|unreachable|from all 7
100|not from 10.255.0.0/16 goto 32766|not from 10.255.0.0/16 goto 32766
101|to 192.168.100.10 lookup 254|from all to 192.168.100.10 lookup 254
1030|nop|from all nop
1032|from 10.255.0.1 lookup 254|from 10.255.0.1 lookup 254
1039|goto 32000|from all goto 32000
1040|nop|from all nop
1049|goto 32000|from all goto 32000
1050|nop|from all nop
1059|goto 32000|from all goto 32000
1060|nop|from all nop
1069|goto 32000|from all goto 32000
1070|nop|from all nop
1079|goto 32000|from all goto 32000
1080|nop|from all nop
1089|goto 32000|from all goto 32000
1090|nop|from all nop
1099|goto 32000|from all goto 32000
1100|nop|from all nop
1109|goto 32000|from all goto 32000
12587|nop|from all nop
12589|from 10.255.64.1 lookup 254|from 10.255.64.1 lookup 254
12596|goto 32000|from all goto 32000
12597|nop|from all nop
12606|goto 32000|from all goto 32000
12607|nop|from all nop
12616|goto 32000|from all goto 32000
12617|nop|from all nop
12626|goto 32000|from all goto 32000
12627|nop|from all nop
12636|goto 32000|from all goto 32000
12637|nop|from all nop
12646|goto 32000|from all goto 32000
12647|nop|from all nop
12656|goto 32000|from all goto 32000
12657|nop|from all nop
12666|goto 32000|from all goto 32000
1021|from 10.255.0.0/29 goto 1030|from 10.255.0.0/29 goto 1030
1022|from 10.255.0.8/29 goto 1040|from 10.255.0.8/29 goto 1040
1023|from 10.255.0.16/29 goto 1050|from 10.255.0.16/29 goto 1050
1024|from 10.255.0.24/29 goto 1060|from 10.255.0.24/29 goto 1060
1025|from 10.255.0.32/29 goto 1070|from 10.255.0.32/29 goto 1070
1026|from 10.255.0.40/29 goto 1080|from 10.255.0.40/29 goto 1080
1027|from 10.255.0.48/29 goto 1090|from 10.255.0.48/29 goto 1090
1028|from 10.255.0.56/29 goto 1100|from 10.255.0.56/29 goto 1100
1029|goto 32000|from all goto 32000
12578|from 10.255.64.0/29 goto 12587|from 10.255.64.0/29 goto 12587
12579|from 10.255.64.8/29 goto 12597|from 10.255.64.8/29 goto 12597
12580|from 10.255.64.16/29 goto 12607|from 10.255.64.16/29 goto 12607
12581|from 10.255.64.24/29 goto 12617|from 10.255.64.24/29 goto 12617
12582|from 10.255.64.32/29 goto 12627|from 10.255.64.32/29 goto 12627
12583|from 10.255.64.40/29 goto 12637|from 10.255.64.40/29 goto 12637
12584|from 10.255.64.48/29 goto 12647|from 10.255.64.48/29 goto 12647
12585|from 10.255.64.56/29 goto 12657|from 10.255.64.56/29 goto 12657
12586|goto 32000|from all goto 32000
1012|from 10.255.0.0/26 goto 1021|from 10.255.0.0/26 goto 1021
1020|goto 32000|from all goto 32000
12569|from 10.255.64.0/26 goto 12578|from 10.255.64.0/26 goto 12578
12577|goto 32000|from all goto 32000
1003|from 10.255.0.0/23 goto 1012|from 10.255.0.0/23 goto 1012
1011|goto 32000|from all goto 32000
12560|from 10.255.64.0/23 goto 12569|from 10.255.64.0/23 goto 12569
12568|goto 32000|from all goto 32000
1000|from 10.255.0.0/20 goto 1003|from 10.255.0.0/20 goto 1003
1002|goto 32000|from all goto 32000
12557|from 10.255.64.0/20 goto 12560|from 10.255.64.0/20 goto 12560
12559|goto 32000|from all goto 32000
102|from 10.255.0.0/19 goto 1000|from 10.255.0.0/19 goto 1000
103|from 10.255.64.0/19 goto 12557|from 10.255.64.0/19 goto 12557
104|goto 32000|from all goto 32000'

FILTER_RULES='*filter
:LR-IN - [0:0]
:LR-FWD - [0:0]
-A LR-IN -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A LR-IN -i tun-udp -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A LR-IN -i tun-tcp -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A LR-IN -p icmp -m devgroup --src-group 0x4c52 -m icmp --icmp-type 8 -j ACCEPT
-A LR-IN -i tun-udp -j DROP
-A LR-IN -i tun-tcp -j DROP
-A LR-IN -m devgroup --src-group 0x4c52 -j DROP
-A LR-FWD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A LR-FWD -i tun-udp -m devgroup --dst-group 0x4c52 -j ACCEPT
-A LR-FWD -i tun-tcp -m devgroup --dst-group 0x4c52 -j ACCEPT
-A LR-FWD -d 192.168.100.10/32 -i tun-udp -o eth2 -p tcp -m conntrack --ctstate DNAT -j ACCEPT
-A LR-FWD -d 192.168.100.10/32 -i tun-tcp -o eth2 -p tcp -m conntrack --ctstate DNAT -j ACCEPT
-A LR-FWD -i tun-udp -j DROP
-A LR-FWD -i tun-tcp -j DROP
-A LR-FWD -o tun-udp -j DROP
-A LR-FWD -o tun-tcp -j DROP
-A LR-FWD -m devgroup --src-group 0x4c52 -j DROP
-A LR-FWD -m devgroup --dst-group 0x4c52 -j DROP
COMMIT'

NAT_RULES='-A LR-NAT -s 10.255.0.0/16 -m devgroup --dst-group 0x4c52 -j MASQUERADE
-A LR-NAT -s 10.255.0.0/16 -o eth2 -j MASQUERADE'

die() { printf 'lr-dataplane: %s\n' "$*" >&2; exit 1; }
usage() { printf 'usage: lr-dataplane base | apply <key> | delete <key> | apply-all | status\n' >&2; exit 2; }

NL=$'\n'
IPV4='^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$'

# check <kind> <value>: the env file is data, never code; every value must look like what it claims to be.
check() {
  case $1 in
    name) [[ $2 =~ ^[a-z][a-z0-9-]{0,31}$ ]] ;;
    ifname) [[ $2 =~ ^[a-zA-Z0-9][a-zA-Z0-9._-]{0,14}$ ]] ;;
    int) [[ $2 =~ ^[0-9]{1,10}$ ]] ;;
    ip) [[ $2 =~ $IPV4 ]] ;;
    cidr) [[ ${2%/*} =~ $IPV4 && ${2#*/} =~ ^([0-9]|[12][0-9]|3[0-2])$ && $2 == */* ]] ;;
    *) return 1 ;;
  esac
}

# load_env <file>: sets T_<FIELD> for every field of the tenant's env file, or dies.
load_env() {
  local f=$1 k v kind n=0
  local -A seen=()
  T_KEY='' T_SLOT='' T_LINK='' T_VLAN='' T_LAN_ADDR='' T_LAN_NET='' T_ROUTER='' T_TABLE='' T_TABLE_NAME=''
  T_TUN1='' T_PREF1='' T_TUN2='' T_PREF2='' T_VNC_PORT=''
  while IFS= read -r k || [[ -n $k ]]; do
    [[ -z $k || $k == '#'* ]] && continue
    v=${k#*=}
    k=${k%%=*}
    kind=${ENV_KIND[$k]:-}
    [[ -n $kind ]] || die "$f: unknown field ${k@Q}"
    check "$kind" "$v" || die "$f: $k=${v@Q} is not a valid $kind"
    [[ -z ${seen[$k]:-} ]] || die "$f: $k given twice"
    seen[$k]=1
    printf -v "T_${k#LR_}" '%s' "$v"
    n=$((n + 1))
  done <"$f"
  [[ $n -eq ${#ENV_KIND[@]} ]] || die "$f: expected ${#ENV_KIND[@]} fields, found $n"
  [[ ${f##*/} == "$T_KEY.env" ]] || die "$f: LR_KEY $T_KEY does not match the file name"
}

# list_envs: ENV_FILES = every tenant env file, sorted (LC_ALL=C).
list_envs() {
  local f
  ENV_FILES=()
  for f in "$TENANTS_DIR"/*.env; do
    if [[ -f $f ]]; then ENV_FILES+=("$f"); fi
  done
}

# read_rules: RULE_BODY[pref] / RULE_COUNT[pref] from `ip -N rule show` (bodies without "[unresolved]").
read_rules() {
  local line pref body out
  RULE_BODY=() RULE_COUNT=()
  out=$("$IP" -N rule show)
  while IFS= read -r line; do
    pref=${line%%:*}
    body=${line#*:}
    body=${body#"${body%%[![:space:]]*}"}
    body=${body% \[unresolved\]}
    RULE_BODY[$pref]=$body
    RULE_COUNT[$pref]=$((${RULE_COUNT[$pref]:-0} + 1))
  done <<<"$out"
}

# rule_batch <pref> <body>: ip -batch lines that leave exactly one rule <body> at <pref>.
rule_batch() {
  local i
  if [[ ${RULE_COUNT[$1]:-0} -eq 1 && ${RULE_BODY[$1]} == "$2" ]]; then return 0; fi
  for ((i = 0; i < ${RULE_COUNT[$1]:-0}; i++)); do printf 'rule del pref %s\n' "$1"; done
  printf 'rule add pref %s %s\n' "$1" "$2"
}

run_batch() {
  [[ -z $1 ]] || "$IP" -batch - <<<"$1"
}

# The routing skeleton: install what is missing, remove what is stale, keep what is right (no churn).
apply_skeleton() {
  local -A want=() add=()
  local order=() pref body args batch='' i
  while IFS='|' read -r pref args body; do
    want[$pref]=$body
    add[$pref]=$args
    order+=("$pref")
  done <<<"$SKELETON"
  read_rules
  for pref in "${!RULE_BODY[@]}"; do
    ((pref >= PREF_MIN && pref <= PREF_END)) || continue
    if [[ -n ${want[$pref]:-} ]]; then
      [[ ${RULE_COUNT[$pref]} -eq 1 && ${RULE_BODY[$pref]} == "${want[$pref]}" ]] && continue
    elif [[ ${RULE_BODY[$pref]} =~ ^from\ [0-9.]+\ lookup\ ([0-9]+)$ && ${BASH_REMATCH[1]} != 254 ]]; then
      continue # a tenant's host rule: `apply`/`delete` own those
    fi
    for ((i = 0; i < RULE_COUNT[$pref]; i++)); do batch+="rule del pref $pref$NL"; done
    unset "RULE_COUNT[$pref]"
  done
  for pref in "${order[@]}"; do
    [[ -n ${RULE_COUNT[$pref]:-} ]] || batch+="rule add pref $pref ${add[$pref]}$NL"
  done
  run_batch "$batch"
}

# Everything built from ALL env files, rebuilt whole so it never depends on apply order: the rt_tables names
# and the iptables chains (one atomic iptables-restore; the jumps into them are added once).
apply_shared() {
  local f saved dnat='' rt="# librerouter tenant routing tables (lr-dataplane $SERVER); rendered, do not edit.$NL"
  list_envs
  for f in "${ENV_FILES[@]}"; do
    load_env "$f"
    rt+="$T_TABLE $T_TABLE_NAME$NL"
    dnat+="-A LR-DNAT -s $T_TUN1/32 -d $GW1/32 -i $DEV1 -p tcp -m tcp --dport 5900 -m comment --comment lr:$T_KEY -j DNAT --to-destination $HOST_MGMT:$T_VNC_PORT$NL"
    dnat+="-A LR-DNAT -s $T_TUN2/32 -d $GW2/32 -i $DEV2 -p tcp -m tcp --dport 5900 -m comment --comment lr:$T_KEY -j DNAT --to-destination $HOST_MGMT:$T_VNC_PORT$NL"
  done
  "$IPT_RESTORE" --noflush <<<"$FILTER_RULES$NL*nat$NL:LR-DNAT - [0:0]$NL:LR-NAT - [0:0]$NL$dnat$NAT_RULES${NL}COMMIT"
  saved=$("$IPT_SAVE")
  jump "$saved" filter INPUT -j LR-IN
  jump "$saved" filter FORWARD -j LR-FWD
  jump "$saved" nat PREROUTING -i "$DEV1" -p tcp -m tcp --dport 5900 -j LR-DNAT
  jump "$saved" nat PREROUTING -i "$DEV2" -p tcp -m tcp --dport 5900 -j LR-DNAT
  jump "$saved" nat POSTROUTING -j LR-NAT
  [[ $saved == *"$NL:FORWARD DROP "* ]] || "$IPT" -P FORWARD DROP
  write_file "$RT_TABLES" "$rt"
}

# jump <iptables-save output> <table> <chain> <rule…>: the rule first in <chain>, once. Each iptables call
# costs ~0.1 s with nf_tables, so the saved text answers first and \`-C\` only when it does not know.
jump() {
  local saved=$1 t=$2 c=$3
  shift 3
  [[ $NL$saved$NL == *"$NL-A $c $*$NL"* ]] && return 0
  "$IPT" -t "$t" -C "$c" "$@" 2>/dev/null || "$IPT" -t "$t" -I "$c" 1 "$@"
}

# write_file <path> <content>: atomic, and untouched when already equal.
write_file() {
  local tmp
  [[ -f $1 && $(<"$1")$NL == "$2" ]] && return 0
  mkdir -p "${1%/*}"
  tmp=$(mktemp "$1.XXXXXX")
  printf '%s' "$2" >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$1"
}

# Strict reverse-path filtering: a reply injected on another tenant's link, or a packet to another tenant's
# tunnel IP, fails the reverse lookup (its `from` rule points at a different link) and is dropped.
set_sysctls() {
  local f
  "$SYSCTL" -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1
  for f in /proc/sys/net/ipv4/conf/*/rp_filter; do printf '1' >"$f"; done
}

cmd_base() {
  set_sysctls
  apply_skeleton
  apply_shared
}

# apply_tenants <env file…>: links, addresses, tables and host rules in one ip batch.
apply_tenants() {
  local -A links=()
  local f name batch='' applied=() out
  out=$("$IP" -o link show)
  while read -r _ name _; do
    name=${name%:}
    links[${name%@*}]=1
  done <<<"$out"
  read_rules
  for f in "$@"; do
    load_env "$f"
    [[ -n ${links[$T_LINK]:-} ]] || batch+="link add link $TRUNK name $T_LINK type vlan id $T_VLAN$NL"
    batch+="link set dev $T_LINK group $LINK_GROUP up$NL"
    batch+="address replace $T_LAN_ADDR dev $T_LINK$NL"
    batch+="route replace $T_LAN_NET dev $T_LINK src ${T_LAN_ADDR%/*} table $T_TABLE$NL"
    batch+="route replace default via $T_ROUTER dev $T_LINK table $T_TABLE$NL"
    batch+=$(rule_batch "$T_PREF1" "from $T_TUN1 lookup $T_TABLE")$NL
    batch+=$(rule_batch "$T_PREF2" "from $T_TUN2 lookup $T_TABLE")$NL
    applied+=("$T_LINK")
  done
  run_batch "$batch"
  for name in "${applied[@]}"; do printf '1' >"/proc/sys/net/ipv4/conf/$name/rp_filter"; done
}

tenant_env() {
  check name "$1" || die "not a tenant key: ${1@Q}"
  printf '%s/%s.env' "$TENANTS_DIR" "$1"
}

cmd_apply() {
  local f
  f=$(tenant_env "$1")
  [[ -f $f ]] || die "no $f: write it first (the tenant apply script does)"
  apply_tenants "$f"
  apply_shared
}

cmd_apply_all() {
  cmd_base
  list_envs
  if [[ ${#ENV_FILES[@]} -gt 0 ]]; then apply_tenants "${ENV_FILES[@]}"; fi
}

# kill_sessions <key>: drop live sessions of <key> through each instance's management socket.
kill_sessions() {
  local s
  for s in "$SOCK1" "$SOCK2"; do
    [[ -S $s ]] || continue
    printf 'kill %s\nquit\n' "$1" | "$TIMEOUT" 5 "$SOCAT" -t 1 - "UNIX-CONNECT:$s" >/dev/null 2>&1 || true
  done
}

cmd_delete() {
  local f batch='' p ip out
  f=$(tenant_env "$1")
  kill_sessions "$1"
  if [[ -f $f ]]; then
    load_env "$f"
    read_rules
    for p in "$T_PREF1:$T_TUN1" "$T_PREF2:$T_TUN2"; do
      ip=${p#*:}
      p=${p%%:*}
      [[ ${RULE_BODY[$p]:-} == "from $ip lookup $T_TABLE" ]] && batch+="rule del pref $p from $ip lookup $T_TABLE$NL"
    done
    batch+="route flush table $T_TABLE$NL"
    if "$IP" link show dev "$T_LINK" >/dev/null 2>&1; then
      out=$("$IP" -d -o link show dev "$T_LINK")
      if [[ $out == *" vlan protocol "* ]]; then
        batch+="link del dev $T_LINK$NL"
      else
        # Not ours (the lab's veth): give it back without our address and group.
        out=$("$IP" -o addr show dev "$T_LINK" to "${T_LAN_ADDR%/*}/32")
        [[ -z $out ]] || batch+="address del $T_LAN_ADDR dev $T_LINK$NL"
        batch+="link set dev $T_LINK group 0$NL"
      fi
    fi
    run_batch "$batch"
    rm -f "$f"
  fi
  apply_shared
}

cmd_status() {
  local f rc=0 missing n=0 have=0 pref body out
  read_rules
  while IFS='|' read -r pref _ body; do
    n=$((n + 1))
    if [[ ${RULE_BODY[$pref]:-} == "$body" ]]; then have=$((have + 1)); fi
  done <<<"$SKELETON"
  printf 'server %s: rules at %s prefs, skeleton %s/%s\n' "$SERVER" "${#RULE_BODY[@]}" "$have" "$n"
  [[ $have -eq $n ]] || rc=1
  list_envs
  for f in "${ENV_FILES[@]}"; do
    load_env "$f"
    missing=''
    [[ ${RULE_BODY[$T_PREF1]:-} == "from $T_TUN1 lookup $T_TABLE" ]] || missing+=" rule:$T_TUN1"
    [[ ${RULE_BODY[$T_PREF2]:-} == "from $T_TUN2 lookup $T_TABLE" ]] || missing+=" rule:$T_TUN2"
    out=$("$IP" route show table "$T_TABLE" default 2>/dev/null || true)
    [[ -n $out ]] || missing+=" route:default"
    out=$("$IP" -o addr show dev "$T_LINK" to "${T_LAN_ADDR%/*}/32" 2>/dev/null || true)
    [[ -n $out ]] || missing+=" link:$T_LINK"
    "$IPT" -t nat -C LR-DNAT -s "$T_TUN1/32" -d "$GW1/32" -i "$DEV1" -p tcp -m tcp --dport 5900 -m comment --comment "lr:$T_KEY" -j DNAT --to-destination "$HOST_MGMT:$T_VNC_PORT" 2>/dev/null || missing+=" dnat:$DEV1"
    "$IPT" -t nat -C LR-DNAT -s "$T_TUN2/32" -d "$GW2/32" -i "$DEV2" -p tcp -m tcp --dport 5900 -m comment --comment "lr:$T_KEY" -j DNAT --to-destination "$HOST_MGMT:$T_VNC_PORT" 2>/dev/null || missing+=" dnat:$DEV2"
    if [[ -z $missing ]]; then printf '%s (slot %s): ok\n' "$T_KEY" "$T_SLOT"; else printf '%s (slot %s): missing%s\n' "$T_KEY" "$T_SLOT" "$missing"; rc=1; fi
  done
  return "$rc"
}

declare -A RULE_BODY=() RULE_COUNT=()
ENV_FILES=()
case ${1:-} in
  base) [[ $# -eq 1 ]] || usage; cmd_base ;;
  apply) [[ $# -eq 2 ]] || usage; cmd_apply "$2" ;;
  delete) [[ $# -eq 2 ]] || usage; cmd_delete "$2" ;;
  apply-all) [[ $# -eq 1 ]] || usage; cmd_apply_all ;;
  status) [[ $# -eq 1 ]] || usage; cmd_status ;;
  *) usage ;;
esac
