#!/bin/bash
# lr-dataplane for vpn1 (stack golden, tenant network distinct): tenant links, policy routing, firewall.
# Rendered by librerouter-hosting, do not edit. Idempotent: every subcommand may run any number of times.
#   base          the trunk up, sysctls, the routing skeleton, the firewall chains, no lr_lan table
#   apply <key>   the tenant's link, address (no other), table, rules from /etc/librerouter/tenants/<key>.env
#   delete <key>  removes exactly what apply added, kills the tenant's live sessions, removes the env file
#   kill <key>    kills the tenant's live sessions only (its certificate was re-issued)
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
SYSTEMCTL=/usr/bin/systemctl
SERVER=vpn1
TENANTS_DIR=/etc/librerouter/tenants
RT_TABLES=${LR_RT_TABLES:-/etc/iproute2/rt_tables.d/librerouter.conf}
TRUNK=eth1
HOST_MGMT=192.168.100.10
LINK_GROUP=19538
DEV1=tun-udp
GW1=10.255.0.1
SOCK1=/run/openvpn-server/udp.sock
UNIT1=openvpn-server@udp.service
DEV2=tun-tcp
GW2=10.255.64.1
SOCK2=/run/openvpn-server/tcp.sock
UNIT2=openvpn-server@tcp.service
PREF_MIN=100
FLOCK=/usr/bin/flock
GREP=/usr/bin/grep
AWK=/usr/bin/awk
LOCK=/etc/librerouter/.lr-dataplane.lock
PREF_END=32000
RT_HEADER="# librerouter tenant routing tables (lr-dataplane $SERVER); rendered, do not edit."
NL=$'\n'
V6=/proc/sys/net/ipv6/conf
LAN_MODE=distinct
LINK_RP=1
ADDR_FLAGS=''
NFT=/usr/sbin/nft
LAN_TABLE=lr_lan
# fixed mode: the lr_lan table (render/lan-zones.ts), without elements; empty in distinct mode.
LAN_TABLE_TEXT=''
declare -A ENV_KIND=([LR_KEY]=name [LR_SLOT]=int [LR_LINK]=ifname [LR_VLAN]=int [LR_LAN_ADDR]=cidr [LR_LAN_NET]=cidr [LR_ROUTER]=ip [LR_TABLE]=int [LR_TABLE_NAME]=name [LR_TUN1]=ip [LR_PREF1]=int [LR_TUN2]=ip [LR_PREF2]=int [LR_VNC_PORT]=int [LR_VMID]=int)
declare -A KIND_RE=([name]='^([a-z][a-z0-9-]{0,31})$' [ifname]='^([a-zA-Z0-9][a-zA-Z0-9._-]{0,14})$' [int]='^([0-9]{1,10})$' [ip]='^(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))$' [cidr]='^(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/([0-9]|[12][0-9]|3[0-2]))$')
# Any valid env file line (grep -x checks thousands of files in one pass; bash would compile a regex per check).
LINE_RE='#.*|LR_KEY=([a-z][a-z0-9-]{0,31})|LR_SLOT=([0-9]{1,10})|LR_LINK=([a-zA-Z0-9][a-zA-Z0-9._-]{0,14})|LR_VLAN=([0-9]{1,10})|LR_LAN_ADDR=(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/([0-9]|[12][0-9]|3[0-2]))|LR_LAN_NET=(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/([0-9]|[12][0-9]|3[0-2]))|LR_ROUTER=(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))|LR_TABLE=([0-9]{1,10})|LR_TABLE_NAME=([a-z][a-z0-9-]{0,31})|LR_TUN1=(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))|LR_PREF1=([0-9]{1,10})|LR_TUN2=(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))|LR_PREF2=([0-9]{1,10})|LR_VNC_PORT=([0-9]{1,10})|LR_VMID=([0-9]{1,10})'
# T_VMID is read by the console gateway (render/scripts/lr-console-web.py), not by this tool.
# shellcheck disable=SC2034
clear_env() { T_KEY='' T_SLOT='' T_LINK='' T_VLAN='' T_LAN_ADDR='' T_LAN_NET='' T_ROUTER='' T_TABLE='' T_TABLE_NAME='' T_TUN1='' T_PREF1='' T_TUN2='' T_PREF2='' T_VNC_PORT='' T_VMID=''; }

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
-A LR-IN -i eth0 -p icmp -m icmp --icmp-type 8 -m limit --limit 10/sec --limit-burst 20 -j ACCEPT
-A LR-IN -i eth0 -p icmp -m icmp --icmp-type 8 -j DROP
-A LR-IN -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A LR-IN -s 192.168.100.12/32 -d 192.168.100.11/32 -i eth2 -p tcp -m tcp --dport 4194 -j ACCEPT
-A LR-IN -p tcp -m tcp --dport 4194 -j DROP
-A LR-IN -d 10.255.0.1/32 -i tun-udp -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A LR-IN -d 10.255.64.1/32 -i tun-tcp -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A LR-IN -p icmp -m devgroup --src-group 0x4c52 -m addrtype --dst-type LOCAL --limit-iface-in -m icmp --icmp-type 8 -j ACCEPT
-A LR-IN -s 10.255.0.0/18 -d 10.255.0.1/32 -i tun-udp -p tcp -m tcp --dport 443 -j ACCEPT
-A LR-IN -s 10.255.64.0/18 -d 10.255.64.1/32 -i tun-tcp -p tcp -m tcp --dport 443 -j ACCEPT
-A LR-IN -d 10.255.0.1/32 -p tcp -m tcp --dport 443 -j DROP
-A LR-IN -d 10.255.64.1/32 -p tcp -m tcp --dport 443 -j DROP
-A LR-IN -i tun-udp -j DROP
-A LR-IN -i tun-tcp -j DROP
-A LR-IN -m devgroup --src-group 0x4c52 -j DROP
-A LR-IN -d 192.0.2.3/32 -i eth0 -p udp -m udp --dport 1194 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 20/sec --hashlimit-burst 40 --hashlimit-mode srcip --hashlimit-name lr-flood -m limit --limit 50/sec --limit-burst 100 -j LOG --log-prefix "lr-flood: "
-A LR-IN -d 192.0.2.3/32 -i eth0 -p udp -m udp --dport 1194 -j ACCEPT
-A LR-IN -d 192.0.2.3/32 -i eth0 -p tcp -m tcp --dport 443 -j ACCEPT
-A LR-IN -d 192.0.2.3/32 -i eth0 -m conntrack --ctstate NEW -m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 30 --hashlimit-mode srcip --hashlimit-name lr-probe -m limit --limit 50/sec --limit-burst 100 -j LOG --log-prefix "lr-probe: "
-A LR-IN -i eth0 -j DROP
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
usage() { printf 'usage: lr-dataplane base | apply <key> | delete <key> | kill <key> | apply-all | status\n' >&2; exit 2; }

# check <kind> <value>: the env file is data, never code; every value must look like what it claims to be.
check() { [[ -n ${KIND_RE[$1]:-} && $2 =~ ${KIND_RE[$1]} ]]; }

# load_env <file> [prechecked]: sets T_<FIELD> for every field of the tenant's env file (any order, comment and
# blank lines allowed), or dies with the reason. Each value is checked against its kind, unless "prechecked":
# each_env's grep has matched every line of the file against LINE_RE, which is built from the same kinds.
# Splits the file in memory (split_lines: LINES), one read and no fork.
load_env() {
  local f=$1 c='' k v kind var n=0
  IFS= read -r -d '' c <"$f" || true
  clear_env
  split_lines "$c"
  for k in "${LINES[@]}"; do
    [[ $k == '#'* ]] && continue
    v=${k#*=}
    k=${k%%=*}
    kind=${ENV_KIND[$k]:-}
    [[ -n $kind ]] || die "$f: unknown field ${k@Q}"
    [[ ${2:-} == prechecked ]] || check "$kind" "$v" || die "$f: $k=${v@Q} is not a valid $kind"
    var=T_${k#LR_}
    [[ -z ${!var} ]] || die "$f: $k given twice"
    printf -v "$var" '%s' "$v"
    n=$((n + 1))
  done
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

# lock: one lr-dataplane at a time changes the data plane (tenant commands may run in parallel).
lock() {
  exec 9>>"$LOCK"
  "$FLOCK" -w 300 9 || die "$LOCK: still held by another lr-dataplane after 300 s"
}

# read_rules [pref…]: RULE_BODY[pref] / RULE_COUNT[pref] from `ip -N rule show`, only at the given prefs when
# there are any (bodies without "[unresolved]").
read_rules() {
  local line pref body out
  RULE_BODY=() RULE_COUNT=()
  if (($#)); then
    printf -v out 'rule show pref %s\n' "$@"
    out=$("$IP" -N -batch - <<<"$out")
  else
    out=$("$IP" -N rule show)
  fi
  split_lines "$out"
  for line in "${LINES[@]}"; do
    pref=${line%%:*}
    body=${line#*:}
    body=${body#"${body%%[![:space:]]*}"}
    body=${body% \[unresolved\]}
    RULE_BODY[$pref]=$body
    RULE_COUNT[$pref]=$((${RULE_COUNT[$pref]:-0} + 1))
  done
}

# want_rule <pref> <body>: ip -batch lines (in B) that leave exactly one rule <body> at <pref>.
want_rule() {
  local i
  if [[ ${RULE_COUNT[$1]:-0} -eq 1 && ${RULE_BODY[$1]} == "$2" ]]; then return 0; fi
  for ((i = 0; i < ${RULE_COUNT[$1]:-0}; i++)); do B+=("rule del pref $1"); done
  B+=("rule add pref $1 $2")
}

# run_batch: the lines in B through one `ip -batch`, then B is empty.
run_batch() {
  local text
  ((${#B[@]})) || return 0
  printf -v text '%s\n' "${B[@]}"
  B=()
  "$IP" -batch - <<<"$text"
}

# The routing skeleton: install what is missing, remove what is stale, keep what is right (no churn).
apply_skeleton() {
  local -A want=() add=()
  local order=() pref body args i
  while IFS='|' read -r pref args body; do
    want[$pref]=$body
    add[$pref]=$args
    order+=("$pref")
  done <<<"$SKELETON"
  for pref in "${!RULE_BODY[@]}"; do
    ((pref >= PREF_MIN && pref <= PREF_END)) || continue
    if [[ -n ${want[$pref]:-} ]]; then
      [[ ${RULE_COUNT[$pref]} -eq 1 && ${RULE_BODY[$pref]} == "${want[$pref]}" ]] && continue
    elif [[ ${RULE_BODY[$pref]} =~ ^from\ [0-9.]+\ lookup\ ([0-9]+)$ && ${BASH_REMATCH[1]} != 254 ]]; then
      continue # a tenant's host rule: `apply`/`delete` own those
    fi
    for ((i = 0; i < RULE_COUNT[$pref]; i++)); do B+=("rule del pref $pref"); done
    unset "RULE_COUNT[$pref]" "RULE_BODY[$pref]"
  done
  for pref in "${order[@]}"; do
    [[ -n ${RULE_COUNT[$pref]:-} ]] || B+=("rule add pref $pref ${add[$pref]}")
  done
  run_batch
}

# tenant_lines: ip -batch lines (in B) for the tenant in T_*: its link, its address (no other: read_addrs listed
# them; ADDR_FLAGS is the mode's), table (no route but its two: TABLE_DSTS, with `apply`) and host rules. Stale
# routes go before stale addresses (deleting a unique address flushes the routes using it). A link exists when
# the kernel shows its IPv4 settings (no fork, unlike `ip link show`).
tenant_lines() {
  local dst
  [[ -d /proc/sys/net/ipv4/conf/$T_LINK ]] || B+=("link add link $TRUNK name $T_LINK type vlan id $T_VLAN")
  B+=("link set dev $T_LINK group $LINK_GROUP up")
  for dst in "${TABLE_DSTS[@]}"; do
    [[ $dst == default || $dst == "$T_LAN_NET" ]] || B+=("route del $dst table $T_TABLE")
  done
  stale_addrs
  B+=("address replace $T_LAN_ADDR dev $T_LINK$ADDR_FLAGS")
  B+=("route replace $T_LAN_NET dev $T_LINK src ${T_LAN_ADDR%/*} table $T_TABLE" "route replace default via $T_ROUTER dev $T_LINK table $T_TABLE")
  want_rule "$T_PREF1" "from $T_TUN1 lookup $T_TABLE"
  want_rule "$T_PREF2" "from $T_TUN2 lookup $T_TABLE"
  LINKS+=("$T_LINK")
}

# stale_addrs: ip -batch lines (in B) that delete every address on T_LINK when anything but the wanted one is
# there (another LAN after a mode switch or a network.tenantPrivate change, or the wanted one with the other mode's
# flags: `address replace` keeps an address's flags), secondaries first (deleting a primary takes its
# secondaries along); tenant_lines then adds the wanted one. From ADDR_SEC/ADDR_PRI (read_addrs).
stale_addrs() {
  local have=${ADDR_SEC[$T_LINK]:-}${ADDR_PRI[$T_LINK]:-} t IFS='|'
  [[ -n $have && $have != "|$T_LAN_ADDR$ADDR_FLAGS" ]] || return 0
  set -f
  # shellcheck disable=SC2206 # splitting on | only, globbing off
  local all=(${have#|})
  set +f
  for t in "${all[@]}"; do B+=("address del ${t%% *} dev $T_LINK"); done
}

# read_addrs [<link> <table>]: ADDR_SEC/ADDR_PRI[<name>] = each interface's IPv4 addresses as
# "|<addr/prefix>[ noprefixroute]", secondaries and primaries apart, from one listing: of every interface, or of
# <link> alone (when it exists), then TABLE_DSTS = the destinations of the routes in <table> (the same `ip -batch`).
read_addrs() {
  local out l name rest tok
  ADDR_SEC=() ADDR_PRI=() TABLE_DSTS=()
  if (($#)); then
    [[ -d /proc/sys/net/ipv4/conf/$1 ]] || return 0
    out=$("$IP" -4 -o -batch - <<<"address show dev $1${NL}route show table $2")
  else
    out=$("$IP" -4 -o address show)
  fi
  split_lines "$out"
  for l in "${LINES[@]}"; do
    if [[ $l != [0-9]*': '* ]]; then
      # A route: its destination, after the type if it has one.
      case $l in unreachable\ * | blackhole\ * | prohibit\ * | throw\ * | unicast\ *) l=${l#* } ;; *) ;; esac
      TABLE_DSTS+=("${l%% *}")
      continue
    fi
    l=${l#*: }
    name=${l%% *}
    rest=${l#* inet }
    rest=${rest%%\\*}
    tok=${rest%% *}
    if [[ $rest == *' noprefixroute '* ]]; then tok+=' noprefixroute'; fi
    if [[ $rest == *' secondary '* ]]; then ADDR_SEC[$name]+="|$tok"; else ADDR_PRI[$name]+="|$tok"; fi
  done
}

# tenant_dnat: DNAT_WANT = the tenant's two console DNAT rules, as iptables -S lists them.
tenant_dnat() {
  DNAT_WANT=(
    "-A LR-DNAT -s $T_TUN1/32 -d $GW1/32 -i $DEV1 -p tcp -m tcp --dport 5900 -m comment --comment \"lr:$T_KEY\" -j DNAT --to-destination $HOST_MGMT:$T_VNC_PORT"
    "-A LR-DNAT -s $T_TUN2/32 -d $GW2/32 -i $DEV2 -p tcp -m tcp --dport 5900 -m comment --comment \"lr:$T_KEY\" -j DNAT --to-destination $HOST_MGMT:$T_VNC_PORT"
  )
}

# each_env <function>: for every env file, in order, T_* set and checked, then <function>. One grep checks every
# line of every file (bash would compile a regex per value); load_env then checks only the files it flags.
each_env() {
  local f out
  local -A bad=()
  list_envs
  ((${#ENV_FILES[@]})) || return 0
  out=$("$GREP" -vlxaE "$LINE_RE" "${ENV_FILES[@]}") || [[ $? -eq 1 ]] || die "cannot read the env files in $TENANTS_DIR"
  split_lines "$out"
  for f in "${LINES[@]}"; do bad[$f]=1; done
  for f in "${ENV_FILES[@]}"; do
    if [[ -n ${bad[$f]:-} ]]; then load_env "$f"; else load_env "$f" prechecked; fi
    "$1" "$f"
  done
}

# load_all [tenants]: every env file, read once: DNAT (rules in env file order), RT (names by table id) and, in
# fixed mode, the lr_lan elements (LAN_*) and the tenant links that exist (LOOSE); with "tenants", also every
# tenant's ip batch lines (B, after one address listing) and links (LINKS). Two tenants on one table is an error.
load_all() {
  TABLE_OWNER=() LINK_OWNER=() TUN_OWNER=()
  LOAD_TENANTS=${1:-}
  if [[ $LOAD_TENANTS == tenants ]]; then read_addrs; fi
  each_env load_one
}

load_one() {
  [[ -z ${TABLE_OWNER[$T_TABLE]:-} ]] || die "$1: table $T_TABLE is also ${TABLE_OWNER[$T_TABLE]}'s"
  TABLE_OWNER[$T_TABLE]=$T_KEY
  RT[10#$T_TABLE]="$T_TABLE $T_TABLE_NAME"
  tenant_dnat
  DNAT+=("${DNAT_WANT[@]}")
  if [[ $LAN_MODE == fixed ]]; then lan_one "$1"; fi
  if [[ $LOAD_TENANTS == tenants ]]; then tenant_lines; fi
}

# lan_one <file>: the tenant's lr_lan elements (LAN_*) for the one load of the whole table. A zone is a slot
# (1-65535); two tenants on one link or one tunnel IP is an error (their zones would clash).
lan_one() {
  local t
  zone_slot "$1"
  [[ -z ${LINK_OWNER[$T_LINK]:-} ]] || die "$1: link $T_LINK is also ${LINK_OWNER[$T_LINK]}'s"
  LINK_OWNER[$T_LINK]=$T_KEY
  for t in "$T_TUN1" "$T_TUN2"; do
    [[ -z ${TUN_OWNER[$t]:-} ]] || die "$1: tunnel IP $t is also ${TUN_OWNER[$t]}'s"
    TUN_OWNER[$t]=$T_KEY
  done
  LAN_LINKS+=("\"$T_LINK\"")
  LAN_LINK_ZONE+=("\"$T_LINK\" : $T_SLOT")
  LAN_TUN_ZONE+=("$T_TUN1 : $T_SLOT" "$T_TUN2 : $T_SLOT")
  LAN_LINK_TUN+=("\"$T_LINK\" . $T_TUN1" "\"$T_LINK\" . $T_TUN2")
  if [[ -d /proc/sys/net/ipv4/conf/$T_LINK ]]; then LOOSE+=("$T_LINK"); fi
}

# loose_links: fixed mode: set_sysctls has made every interface strict; the tenant links that exist (LOOSE) are
# loose again (base has no tenant batch, so link_sysctls does not see them).
loose_links() {
  local name
  for name in "${LOOSE[@]}"; do printf '%s' "$LINK_RP" >"/proc/sys/net/ipv4/conf/$name/rp_filter"; done
}

# zone_slot <file>: the tenant's slot is a conntrack zone (0 is the default zone, 65535 the last).
zone_slot() {
  ((10#$T_SLOT >= 1 && 10#$T_SLOT <= 65535)) || die "$1: LR_SLOT=$T_SLOT is no conntrack zone (1-65535)"
}

# need_nft: the fixed mode's lr_lan table needs nft.
need_nft() {
  [[ -x $NFT ]] || die "no $NFT: tenant network mode fixed needs nftables (apt-get install nftables, then run this again)"
}

# apply_lan: fixed mode: the whole lr_lan table with every tenant's elements (LAN_*, from load_all) in one atomic
# nft -f, created (if missing) and deleted first, so a re-run leaves no stale element. Distinct mode: no lr_lan
# (a stack switched back), if nft is there at all (it cannot have made one otherwise).
apply_lan() {
  local text IFS=,
  if [[ $LAN_MODE != fixed ]]; then
    if [[ -x $NFT ]]; then "$NFT" -f - <<<"table ip $LAN_TABLE${NL}delete table ip $LAN_TABLE"; fi
    return 0
  fi
  need_nft
  text="table ip $LAN_TABLE${NL}delete table ip $LAN_TABLE${NL}$LAN_TABLE_TEXT$NL"
  if ((${#LAN_LINKS[@]})); then
    text+="add element ip $LAN_TABLE links { ${LAN_LINKS[*]} }${NL}add element ip $LAN_TABLE link_zone { ${LAN_LINK_ZONE[*]} }$NL"
    text+="add element ip $LAN_TABLE tun_zone { ${LAN_TUN_ZONE[*]} }${NL}add element ip $LAN_TABLE link_tun { ${LAN_LINK_TUN[*]} }$NL"
  fi
  "$NFT" -f - <<<"$text"
}

# lan_tenant apply|delete: fixed mode: lr_lan holds exactly the tenant's elements (T_*: its link, link -> zone,
# its two tunnel IPs -> zone, the link . tunnel-IP pairs), or (delete) none of them. Its old elements (those of its
# zone: a link or tunnel IP it had before) go, and so does another tenant's element under one of its keys; other
# tenants' elements stay. One listing, one awk, at most one nft -f. Returns 1 when there is no lr_lan to edit
# (apply then builds all of it). Distinct mode: nothing.
lan_tenant() {
  local out
  [[ $LAN_MODE == fixed ]] || return 0
  need_nft
  zone_slot "$TENANT_FILE"
  out=$("$NFT" list table ip "$LAN_TABLE" 2>/dev/null) || return 1
  out=$(lan_awk "$1" "$T_SLOT" "$T_LINK" "$T_TUN1" "$T_TUN2" <<<"$out") || die "cannot read the elements of $LAN_TABLE"
  [[ -z $out ]] || "$NFT" -f - <<<"$out" || die "nft could not change $T_KEY's elements in $LAN_TABLE"
}

# lan_awk list | apply|delete <zone> <link> <tun1> <tun2>: reads `nft list table ip lr_lan`. list: every element
# as a line, "<set>|<key>" or "<map>|<key>|<zone>". apply/delete: the nft commands lan_tenant describes,
# deletions first.
lan_awk() {
  # shellcheck disable=SC2016 # the $ are awk's
  "$AWK" -v op="$1" -v zone="${2:-}" -v link="\"${3:-}\"" -v t1="${4:-}" -v t2="${5:-}" -v tbl="$LAN_TABLE" '
    function keep(set, e,   k, v) {
      if (set == "links" || set == "link_tun") { if (set == "links") ls[e] = 1; else lt[e] = 1; all[++n] = set "|" e; return }
      k = e; sub(/ : .*/, "", k); v = e; sub(/.* : /, "", v)
      if (set == "link_zone") lz[k] = v; else if (set == "tun_zone") tz[k] = v; else return
      all[++n] = set "|" k "|" v
    }
    function split_elements(set, text,   m, a, i, e) {
      m = split(text, a, ",")
      for (i = 1; i <= m; i++) { e = a[i]; gsub(/^[ \t]+|[ \t]+$/, "", e); if (e != "") keep(set, e) }
    }
    function del(set, e) { dels[++nd] = "delete element ip " tbl " " set " { " e " }" }
    function add(set, e) { adds[++na] = "add element ip " tbl " " set " { " e " }" }
    $1 == "map" || $1 == "set" { cur = $2; next }
    /elements = \{/ { inside = 1; buf = ""; sub(/.*elements = \{/, "") }
    inside { if (index($0, "}")) { sub(/\}.*/, ""); inside = 0; split_elements(cur, buf $0) } else buf = buf $0 }
    END {
      if (op == "list") { for (i = 1; i <= n; i++) print all[i]; exit }
      for (k in lz) if (lz[k] == zone) old[k] = 1
      if (op == "delete" && !(link in lz)) old[link] = 1
      for (k in old) {
        if (op == "apply" && k == link) continue
        if (k in ls) del("links", k)
        if (k in lz) del("link_zone", k)
      }
      for (k in tz) if (tz[k] == zone && (op == "delete" || (k != t1 && k != t2))) del("tun_zone", k)
      for (e in lt) {
        l = e; sub(/ \. .*/, "", l); ip = e; sub(/.* \. /, "", ip)
        want = op == "apply" && l == link && (ip == t1 || ip == t2)
        if (!want && ((l in old) || (op == "apply" && (l == link || ip == t1 || ip == t2)))) del("link_tun", e)
      }
      if (op == "apply") {
        if (!(link in ls)) add("links", link)
        if ((link in lz) && lz[link] != zone) del("link_zone", link)
        if (!(link in lz) || lz[link] != zone) add("link_zone", link " : " zone)
        for (j = 1; j <= 2; j++) {
          t = j == 1 ? t1 : t2
          if ((t in tz) && tz[t] != zone) del("tun_zone", t)
          if (!(t in tz) || tz[t] != zone) add("tun_zone", t " : " zone)
          if (!((link " . " t) in lt)) add("link_tun", link " . " t)
        }
      }
      for (i = 1; i <= nd; i++) print dels[i]
      for (i = 1; i <= na; i++) print adds[i]
    }'
}

# Reverse-path filtering, strict everywhere (distinct mode: a reply injected on another tenant's link, or a packet
# to another tenant's tunnel IP, fails the reverse lookup, its `from` rule pointing at a different link). Fixed
# mode's tenant links are then set loose by link_sysctls (LINK_RP): the same address is on every link, and the
# router's ARP for it is checked against `main`, which has no LAN route; lr_lan's isolate chain tells links apart.
set_sysctls() {
  local f name
  "$SYSCTL" -q -w net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1
  for f in /proc/sys/net/ipv4/conf/*/rp_filter; do printf '1' >"$f"; done
  arp_defaults
  ipv6_defaults || return 0
  for f in "$V6"/*/accept_ra "$V6"/*/autoconf; do printf '0' >"$f"; done
  for name in "$TRUNK" "$DEV1" "$DEV2"; do
    if [[ -d $V6/$name ]]; then printf '1' >"$V6/$name/disable_ipv6"; fi
  done
}

# ipv6_defaults: no IPv6 on a link made from now on (tenant VLAN links, OpenVPN's tun devices: no link-local
# address a tenant could reach, no router advertisement it could push) and none accepted by default. The server
# is IPv4-only. Fails when the kernel has no IPv6 (then there is nothing to close).
ipv6_defaults() {
  [[ -d $V6/default ]] || return 1
  printf '1' >"$V6/default/disable_ipv6"
  printf '0' >"$V6/all/accept_ra"
  printf '0' >"$V6/default/accept_ra"
  printf '0' >"$V6/all/autoconf"
  printf '0' >"$V6/default/autoconf"
}

# arp_defaults: links made from now on (tenant VLAN links) answer ARP only for an address of their own
# (arp_ignore=1) and send requests only from one (arp_announce=2): a tenant cannot probe the server's other
# addresses (another slot's LAN address, mgmt) from its router to learn which slots are occupied.
arp_defaults() {
  printf '1' >/proc/sys/net/ipv4/conf/default/arp_ignore
  printf '2' >/proc/sys/net/ipv4/conf/default/arp_announce
}

# close_forward: FORWARD's policy DROP before anything else changes, so a run that dies half-way (a damaged env
# file, a failed batch) leaves a server that forwards nothing rather than one that routes between its networks.
close_forward() {
  "$IPT" -P FORWARD DROP
}

# open_forward: IP forwarding on, only once the firewall is loaded (the sysctl drop-in leaves it off at boot).
open_forward() {
  "$SYSCTL" -q -w net.ipv4.ip_forward=1
}

# link_sysctls: the mode's rp_filter (LINK_RP) and the ARP limits on the links in LINKS (a link made just now may
# have got other values from udev), and no IPv6 on them (a link that existed before the defaults were set still
# has its link-local address).
link_sysctls() {
  local name
  for name in "${LINKS[@]}"; do
    printf '%s' "$LINK_RP" >"/proc/sys/net/ipv4/conf/$name/rp_filter"
    printf '1' >"/proc/sys/net/ipv4/conf/$name/arp_ignore"
    printf '2' >"/proc/sys/net/ipv4/conf/$name/arp_announce"
    [[ -d $V6/$name ]] || continue
    printf '0' >"$V6/$name/accept_ra"
    printf '0' >"$V6/$name/autoconf"
    printf '1' >"$V6/$name/disable_ipv6"
  done
}

# split_lines <text>: LINES = its non-empty lines, split in memory (reading a large text line by line
# through a pipe costs a system call per byte).
split_lines() {
  local IFS=$NL
  set -f
  # shellcheck disable=SC2206 # splitting on newlines only, globbing off
  LINES=($1)
  set +f
}

# write_file <path> <content>: atomic, and untouched when already equal.
write_file() {
  local old='' tmp=$1.lrtmp.$$
  if [[ -f $1 ]]; then
    IFS= read -r -d '' old <"$1" || true
    [[ $old == "$2" ]] && return 0
  fi
  [[ -d ${1%/*} ]] || mkdir -p "${1%/*}"
  printf '%s' "$2" >"$tmp"
  mv -f "$tmp" "$1"
}

# apply_firewall: LR-IN, LR-FWD, LR-NAT and LR-DNAT (the rules in DNAT) in one atomic iptables-restore, then
# the jumps into them (once) and FORWARD's policy DROP.
apply_firewall() {
  local text saved
  printf -v text '%s\n' "$FILTER_RULES" '*nat' ':LR-DNAT - [0:0]' ':LR-NAT - [0:0]' "${DNAT[@]}" "$NAT_RULES" COMMIT
  "$IPT_RESTORE" --noflush <<<"$text"
  saved=$("$IPT_SAVE")
  jump "$saved" filter INPUT -j LR-IN
  jump "$saved" filter FORWARD -j LR-FWD
  jump "$saved" nat PREROUTING -i "$DEV1" -p tcp -m tcp --dport 5900 -j LR-DNAT
  jump "$saved" nat PREROUTING -i "$DEV2" -p tcp -m tcp --dport 5900 -j LR-DNAT
  jump "$saved" nat POSTROUTING -j LR-NAT
  [[ $saved == *"$NL:FORWARD DROP "* ]] || "$IPT" -P FORWARD DROP
}

# jump <iptables-save output> <table> <chain> <rule…>: the rule first in <chain>, once. Each iptables call
# costs ~0.1 s with nf_tables, so the saved text answers first and iptables -C only when it does not know.
jump() {
  local saved=$1 t=$2 c=$3
  shift 3
  [[ $NL$saved$NL == *"$NL-A $c $*$NL"* ]] && return 0
  "$IPT" -t "$t" -C "$c" "$@" 2>/dev/null || "$IPT" -t "$t" -I "$c" 1 "$@"
}

# dnat_list: DNAT_NOW = what iptables -S LR-DNAT lists; fails when there is no LR-DNAT (base never ran, or a flush).
dnat_list() {
  DNAT_NOW=$("$IPT" -t nat -S LR-DNAT 2>/dev/null)
}

# dnat_tenant <key> [rule…]: LR-DNAT (as listed in DNAT_NOW) holds exactly <rule…> for <key>, none without, at
# the place a rebuild puts them (env file order); other tenants' rules stay. At most one iptables-restore.
# awk reads the listing (a bash loop over thousands of rules costs more than all the rest of an apply):
# its first line is "<rules of other tenants sorting before key> <first> <last rule number of key>", then key's rules.
dnat_tenant() {
  local key=$1 l before at last have=() cmds=() a b pos
  shift
  # shellcheck disable=SC2016 # the $ are awk's
  a=$("$AWK" -v key="$key" '
    /^-A / {
      i++; k = ""
      if (match($0, /--comment "?lr:[a-z0-9-]+/)) { k = substr($0, RSTART, RLENGTH); sub(/.*lr:/, "", k) }
      if (k == key) { n++; if (!at) at = i; last = i; have[n] = $0 } else if (k ".env" < key ".env") before++
    }
    END { print before + 0, at + 0, last + 0; for (j = 1; j <= n; j++) print have[j] }' <<<"$DNAT_NOW")
  split_lines "$a"
  read -r before at last <<<"${LINES[0]}"
  have=("${LINES[@]:1}")
  if [[ ${#have[@]} -eq $# ]]; then
    (($#)) || return 0
    printf -v a '%s\n' "${have[@]}"
    printf -v b '%s\n' "$@"
    [[ $a == "$b" && $at -eq $((before + 1)) && $last -eq $((at + $# - 1)) ]] && return 0
  fi
  for l in "${have[@]}"; do cmds+=("-D ${l#-A }"); done
  pos=$((before + 1))
  for l in "$@"; do
    cmds+=("-I LR-DNAT $pos ${l#-A LR-DNAT }")
    pos=$((pos + 1))
  done
  printf -v a '%s\n' '*nat' "${cmds[@]}" COMMIT
  "$IPT_RESTORE" --noflush <<<"$a"
}

# write_rt: the routing-table names file from RT (indexed by table id, so in table order).
write_rt() {
  local text
  printf -v text '%s\n' "$RT_HEADER" "${RT[@]}"
  write_file "$RT_TABLES" "$text"
}

# rt_tenant <table> [<name>]: the names file with the line "<table> <name>" (none without a name), in table
# order, and no other line for that table or name; the other lines as they are (awk: no bash loop per line).
rt_tenant() {
  local old='' text
  if [[ -f $RT_TABLES ]]; then IFS= read -r -d '' old <"$RT_TABLES" || true; fi
  # shellcheck disable=SC2016 # the $ are awk's
  text=$("$AWK" -v t="$1" -v name="${2:-}" -v head="$RT_HEADER" '
    BEGIN { print head }
    $1 ~ /^[0-9]+$/ && $1 + 0 != t + 0 && $2 != name {
      if (name != "" && !done && $1 + 0 > t + 0) { print t " " name; done = 1 }
      print
    }
    END { if (name != "" && !done) print t " " name }' <<<"$old")
  write_file "$RT_TABLES" "$text$NL"
}

# trunk_up: the trunk carries every tenant VLAN (named by MAC: the setup script now, udev at boot); up before anything uses it.
trunk_up() {
  "$IP" link set dev "$TRUNK" up 2>/dev/null || die "no trunk interface $TRUNK: the setup script names it by MAC (re-run it)"
}

# rebuild_all [tenants]: what base and apply-all share. Forwarding is closed first and opened last (by
# rebuild_firewall): until every step has succeeded nothing is routed.
rebuild_all() {
  lock
  close_forward
  trunk_up
  set_sysctls
  read_rules
  apply_skeleton
  rebuild_firewall "${1:-}"
}

# rebuild_firewall [tenants]: with forwarding closed, every env file read once; the firewall, the names file and
# lr_lan rebuilt from them, then (with "tenants") every tenant's link, table and rules: a tenant link is never up
# before the chains that fence it. Forwarding on last.
rebuild_firewall() {
  load_all "${1:-}"
  apply_firewall
  write_rt
  apply_lan
  run_batch
  link_sysctls
  loose_links
  open_forward
}

cmd_base() {
  rebuild_all
}

# tenant_env <key>: TENANT_FILE = the key's env file path (the key checked first).
tenant_env() {
  check name "$1" || die "not a tenant key: ${1@Q}"
  TENANT_FILE=$TENANTS_DIR/$1.env
}

cmd_apply() {
  tenant_env "$1"
  [[ -f $TENANT_FILE ]] || die "no $TENANT_FILE: write it first (the tenant apply script does)"
  lock
  load_env "$TENANT_FILE"
  read_rules "$T_PREF1" "$T_PREF2"
  read_addrs "$T_LINK" "$T_TABLE"
  tenant_lines
  arp_defaults
  ipv6_defaults || true
  # The tenant's lr_lan elements (fixed mode) before its link changes: the isolate chain fences it first.
  if lan_tenant apply && dnat_list; then
    run_batch
    link_sysctls
    tenant_dnat
    dnat_tenant "$T_KEY" "${DNAT_WANT[@]}"
    rt_tenant "$T_TABLE" "$T_TABLE_NAME"
  else
    # No LR-DNAT, or (fixed mode) no lr_lan: the firewall was never set up, or was flushed; build all of it, as
    # base does (the tenant's batch in B included).
    close_forward
    rebuild_firewall
  fi
}

cmd_apply_all() {
  rebuild_all tenants
}

# kill_sessions <key>: drop live sessions of <key> through each instance's management socket. Dies when a running
# instance cannot be told (no socat, no socket, no answer): the removed tenant would stay connected until its next
# renegotiation. An instance that is not running holds no session, so its stale socket is skipped.
kill_sessions() {
  local p s unit
  for p in "$SOCK1|$UNIT1" "$SOCK2|$UNIT2"; do
    s=${p%|*} unit=${p#*|}
    if [[ -S $s ]]; then
      [[ -x $SOCAT ]] || die "cannot end $1's live sessions: no $SOCAT to talk to $s (apt-get install socat, then run this again)"
      printf 'kill %s\nquit\n' "$1" | "$TIMEOUT" 5 "$SOCAT" -t 1 - "UNIX-CONNECT:$s" >/dev/null 2>&1 && continue
      ! unit_active "$unit" || die "cannot end $1's live sessions: $unit is active but $s does not answer"
    elif unit_active "$unit"; then
      die "cannot end $1's live sessions: $unit is active but has no management socket $s"
    fi
  done
}

# unit_active <unit>: systemd runs and reports the unit active (never in the lab: openvpn runs there without a unit).
unit_active() {
  [[ -d /run/systemd/system && -x $SYSTEMCTL ]] && "$SYSTEMCTL" is-active --quiet "$1"
}

# kill <key>: only the live sessions (the tenant's certificate was re-issued: the old one must not stay connected).
cmd_kill() {
  tenant_env "$1"
  kill_sessions "$1"
}

cmd_delete() {
  local p ip out
  tenant_env "$1"
  lock
  kill_sessions "$1"
  if [[ -f $TENANT_FILE ]]; then
    load_env "$TENANT_FILE"
    read_rules "$T_PREF1" "$T_PREF2"
    for p in "$T_PREF1:$T_TUN1" "$T_PREF2:$T_TUN2"; do
      ip=${p#*:}
      p=${p%%:*}
      [[ ${RULE_BODY[$p]:-} == "from $ip lookup $T_TABLE" ]] && B+=("rule del pref $p from $ip lookup $T_TABLE")
    done
    B+=("route flush table $T_TABLE")
    if out=$("$IP" -d -o link show dev "$T_LINK" 2>/dev/null); then
      if [[ $out == *" vlan protocol "* ]]; then
        B+=("link del dev $T_LINK")
      else
        # Not ours (the lab's veth): give it back without our address and group.
        out=$("$IP" -o addr show dev "$T_LINK" to "${T_LAN_ADDR%/*}/32")
        [[ -z $out ]] || B+=("address del $T_LAN_ADDR dev $T_LINK")
        B+=("link set dev $T_LINK group 0")
      fi
    fi
    run_batch
    # Its lr_lan elements after its link is gone (none to remove without the table).
    lan_tenant delete || true
    rt_tenant "$T_TABLE"
    rm -f "$TENANT_FILE"
  fi
  if dnat_list; then dnat_tenant "$1"; fi
}

# status: one listing each of rules, default routes, addresses and LR-DNAT, then every tenant checked in memory.
cmd_status() {
  local l t rc=0 n=0 ok=0 pref body out
  read_rules
  while IFS='|' read -r pref _ body; do
    n=$((n + 1))
    if [[ ${RULE_BODY[$pref]:-} == "$body" ]]; then ok=$((ok + 1)); fi
  done <<<"$SKELETON"
  printf 'server %s: rules at %s prefs, skeleton %s/%s\n' "$SERVER" "${#RULE_BODY[@]}" "$ok" "$n"
  [[ $ok -eq $n ]] || rc=1
  # lr_lan: one listing of all its elements (fixed mode), or none left over (distinct mode).
  if [[ $LAN_MODE == fixed ]]; then
    if [[ -x $NFT ]] && out=$("$NFT" list table ip "$LAN_TABLE" 2>/dev/null); then
      out=$(lan_awk list <<<"$out")
      split_lines "$out"
      for l in "${LINES[@]}"; do HAS_LAN[$l]=1; done
    else
      printf '%s: missing (lr-dataplane base loads it)\n' "$LAN_TABLE"
      rc=1
    fi
  elif [[ -x $NFT ]] && "$NFT" list table ip "$LAN_TABLE" >/dev/null 2>&1; then
    printf '%s: left from tenant network mode fixed (lr-dataplane base removes it)\n' "$LAN_TABLE"
    rc=1
  fi
  out=$("$IP" -N -4 route show table all exact 0/0)
  split_lines "$out"
  for l in "${LINES[@]}"; do
    [[ $l == *' table '* ]] || continue
    t=${l##* table }
    HAS_DEFAULT[${t%% *}]=1
  done
  out=$("$IP" -o -4 addr show)
  split_lines "$out"
  for l in "${LINES[@]}"; do
    l=${l#*: }
    t=${l#* inet }
    HAS_ADDR["${l%% *} ${t%%/*}"]=1
  done
  dnat_list || DNAT_NOW=''
  split_lines "$DNAT_NOW"
  for l in "${LINES[@]}"; do HAS_DNAT[$l]=1; done
  STATUS_RC=$rc
  each_env status_one
  return "$STATUS_RC"
}

# lan_status: fixed mode: what status_one's tenant lacks in lr_lan (HAS_LAN) and whether its link is loose.
lan_status() {
  local l="\"$T_LINK\"" t rp=''
  [[ -n ${HAS_LAN["links|$l"]:-} ]] || missing+=" lan:links"
  [[ -n ${HAS_LAN["link_zone|$l|$T_SLOT"]:-} ]] || missing+=" lan:link_zone"
  for t in "$T_TUN1" "$T_TUN2"; do
    [[ -n ${HAS_LAN["tun_zone|$t|$T_SLOT"]:-} ]] || missing+=" lan:tun_zone:$t"
    [[ -n ${HAS_LAN["link_tun|$l . $t"]:-} ]] || missing+=" lan:link_tun:$t"
  done
  if [[ -f /proc/sys/net/ipv4/conf/$T_LINK/rp_filter ]]; then
    read -r rp <"/proc/sys/net/ipv4/conf/$T_LINK/rp_filter"
    [[ $rp == "$LINK_RP" ]] || missing+=" rp_filter:$T_LINK"
  fi
}

# status_one: one tenant's line, from the listings cmd_status made.
status_one() {
  local missing=''
  tenant_dnat
  [[ ${RULE_BODY[$T_PREF1]:-} == "from $T_TUN1 lookup $T_TABLE" ]] || missing+=" rule:$T_TUN1"
  [[ ${RULE_BODY[$T_PREF2]:-} == "from $T_TUN2 lookup $T_TABLE" ]] || missing+=" rule:$T_TUN2"
  [[ -n ${HAS_DEFAULT[$T_TABLE]:-} ]] || missing+=" route:default"
  [[ -n ${HAS_ADDR["$T_LINK ${T_LAN_ADDR%/*}"]:-} ]] || missing+=" link:$T_LINK"
  [[ -n ${HAS_DNAT[${DNAT_WANT[0]}]:-} ]] || missing+=" dnat:$DEV1"
  [[ -n ${HAS_DNAT[${DNAT_WANT[1]}]:-} ]] || missing+=" dnat:$DEV2"
  if [[ $LAN_MODE == fixed ]]; then lan_status; fi
  if [[ -z $missing ]]; then printf '%s (slot %s): ok\n' "$T_KEY" "$T_SLOT"; else printf '%s (slot %s): missing%s\n' "$T_KEY" "$T_SLOT" "$missing"; STATUS_RC=1; fi
  return 0
}

declare -A RULE_BODY=() RULE_COUNT=() TABLE_OWNER=() LINK_OWNER=() TUN_OWNER=() HAS_DEFAULT=() HAS_ADDR=() HAS_DNAT=() HAS_LAN=() ADDR_SEC=() ADDR_PRI=()
declare -a RT=()
ENV_FILES=() LINES=() B=() LINKS=() LOOSE=() DNAT=() DNAT_WANT=() TABLE_DSTS=() LAN_LINKS=() LAN_LINK_ZONE=() LAN_TUN_ZONE=() LAN_LINK_TUN=() DNAT_NOW='' TENANT_FILE='' LOAD_TENANTS='' STATUS_RC=0
case ${1:-} in
  base) [[ $# -eq 1 ]] || usage; cmd_base ;;
  apply) [[ $# -eq 2 ]] || usage; cmd_apply "$2" ;;
  delete) [[ $# -eq 2 ]] || usage; cmd_delete "$2" ;;
  kill) [[ $# -eq 2 ]] || usage; cmd_kill "$2" ;;
  apply-all) [[ $# -eq 1 ]] || usage; cmd_apply_all ;;
  status) [[ $# -eq 1 ]] || usage; cmd_status ;;
  *) usage ;;
esac
