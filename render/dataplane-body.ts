/**
 * The static part of \`lr-dataplane\` (bash): env parsing, the skeleton diff, the batched tenant apply, delete,
 * status. renderDataplaneTool puts the server's constants and its rendered rule lists in front of it.
 * Kept as one template so shellcheck and the e2e tests see exactly what ships. Pure text.
 */
export const DATAPLANE_BODY = `die() { printf 'lr-dataplane: %s\\n' "$*" >&2; exit 1; }
usage() { printf 'usage: lr-dataplane base | apply <key> | delete <key> | apply-all | status\\n' >&2; exit 2; }

NL=$'\\n'
IPV4='^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$'

# check <kind> <value>: the env file is data, never code; every value must look like what it claims to be.
check() {
  case $1 in
    name) [[ $2 =~ ^[a-z][a-z0-9-]{0,31}$ ]] ;;
    ifname) [[ $2 =~ ^[a-zA-Z0-9][a-zA-Z0-9._-]{0,14}$ ]] ;;
    int) [[ $2 =~ ^[0-9]{1,10}$ ]] ;;
    ip) [[ $2 =~ $IPV4 ]] ;;
    cidr) [[ \${2%/*} =~ $IPV4 && \${2#*/} =~ ^([0-9]|[12][0-9]|3[0-2])$ && $2 == */* ]] ;;
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
    v=\${k#*=}
    k=\${k%%=*}
    kind=\${ENV_KIND[$k]:-}
    [[ -n $kind ]] || die "$f: unknown field \${k@Q}"
    check "$kind" "$v" || die "$f: $k=\${v@Q} is not a valid $kind"
    [[ -z \${seen[$k]:-} ]] || die "$f: $k given twice"
    seen[$k]=1
    printf -v "T_\${k#LR_}" '%s' "$v"
    n=$((n + 1))
  done <"$f"
  [[ $n -eq \${#ENV_KIND[@]} ]] || die "$f: expected \${#ENV_KIND[@]} fields, found $n"
  [[ \${f##*/} == "$T_KEY.env" ]] || die "$f: LR_KEY $T_KEY does not match the file name"
}

# list_envs: ENV_FILES = every tenant env file, sorted (LC_ALL=C).
list_envs() {
  local f
  ENV_FILES=()
  for f in "$TENANTS_DIR"/*.env; do
    if [[ -f $f ]]; then ENV_FILES+=("$f"); fi
  done
}

# read_rules: RULE_BODY[pref] / RULE_COUNT[pref] from \`ip -N rule show\` (bodies without "[unresolved]").
read_rules() {
  local line pref body out
  RULE_BODY=() RULE_COUNT=()
  out=$("$IP" -N rule show)
  while IFS= read -r line; do
    pref=\${line%%:*}
    body=\${line#*:}
    body=\${body#"\${body%%[![:space:]]*}"}
    body=\${body% \\[unresolved\\]}
    RULE_BODY[$pref]=$body
    RULE_COUNT[$pref]=$((\${RULE_COUNT[$pref]:-0} + 1))
  done <<<"$out"
}

# rule_batch <pref> <body>: ip -batch lines that leave exactly one rule <body> at <pref>.
rule_batch() {
  local i
  if [[ \${RULE_COUNT[$1]:-0} -eq 1 && \${RULE_BODY[$1]} == "$2" ]]; then return 0; fi
  for ((i = 0; i < \${RULE_COUNT[$1]:-0}; i++)); do printf 'rule del pref %s\\n' "$1"; done
  printf 'rule add pref %s %s\\n' "$1" "$2"
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
  for pref in "\${!RULE_BODY[@]}"; do
    ((pref >= PREF_MIN && pref <= PREF_END)) || continue
    if [[ -n \${want[$pref]:-} ]]; then
      [[ \${RULE_COUNT[$pref]} -eq 1 && \${RULE_BODY[$pref]} == "\${want[$pref]}" ]] && continue
    elif [[ \${RULE_BODY[$pref]} =~ ^from\\ [0-9.]+\\ lookup\\ ([0-9]+)$ && \${BASH_REMATCH[1]} != 254 ]]; then
      continue # a tenant's host rule: \`apply\`/\`delete\` own those
    fi
    for ((i = 0; i < RULE_COUNT[$pref]; i++)); do batch+="rule del pref $pref$NL"; done
    unset "RULE_COUNT[$pref]"
  done
  for pref in "\${order[@]}"; do
    [[ -n \${RULE_COUNT[$pref]:-} ]] || batch+="rule add pref $pref \${add[$pref]}$NL"
  done
  run_batch "$batch"
}

# Everything built from ALL env files, rebuilt whole so it never depends on apply order: the rt_tables names
# and the iptables chains (one atomic iptables-restore; the jumps into them are added once).
apply_shared() {
  local f saved dnat='' rt="# librerouter tenant routing tables (lr-dataplane $SERVER); rendered, do not edit.$NL"
  list_envs
  for f in "\${ENV_FILES[@]}"; do
    load_env "$f"
    rt+="$T_TABLE $T_TABLE_NAME$NL"
    dnat+="-A LR-DNAT -s $T_TUN1/32 -d $GW1/32 -i $DEV1 -p tcp -m tcp --dport 5900 -m comment --comment lr:$T_KEY -j DNAT --to-destination $HOST_MGMT:$T_VNC_PORT$NL"
    dnat+="-A LR-DNAT -s $T_TUN2/32 -d $GW2/32 -i $DEV2 -p tcp -m tcp --dport 5900 -m comment --comment lr:$T_KEY -j DNAT --to-destination $HOST_MGMT:$T_VNC_PORT$NL"
  done
  "$IPT_RESTORE" --noflush <<<"$FILTER_RULES$NL*nat$NL:LR-DNAT - [0:0]$NL:LR-NAT - [0:0]$NL$dnat$NAT_RULES\${NL}COMMIT"
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
# costs ~0.1 s with nf_tables, so the saved text answers first and \\\`-C\\\` only when it does not know.
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
  mkdir -p "\${1%/*}"
  tmp=$(mktemp "$1.XXXXXX")
  printf '%s' "$2" >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$1"
}

# Strict reverse-path filtering: a reply injected on another tenant's link, or a packet to another tenant's
# tunnel IP, fails the reverse lookup (its \`from\` rule points at a different link) and is dropped.
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
    name=\${name%:}
    links[\${name%@*}]=1
  done <<<"$out"
  read_rules
  for f in "$@"; do
    load_env "$f"
    [[ -n \${links[$T_LINK]:-} ]] || batch+="link add link $TRUNK name $T_LINK type vlan id $T_VLAN$NL"
    batch+="link set dev $T_LINK group $LINK_GROUP up$NL"
    batch+="address replace $T_LAN_ADDR dev $T_LINK$NL"
    batch+="route replace $T_LAN_NET dev $T_LINK src \${T_LAN_ADDR%/*} table $T_TABLE$NL"
    batch+="route replace default via $T_ROUTER dev $T_LINK table $T_TABLE$NL"
    batch+=$(rule_batch "$T_PREF1" "from $T_TUN1 lookup $T_TABLE")$NL
    batch+=$(rule_batch "$T_PREF2" "from $T_TUN2 lookup $T_TABLE")$NL
    applied+=("$T_LINK")
  done
  run_batch "$batch"
  for name in "\${applied[@]}"; do printf '1' >"/proc/sys/net/ipv4/conf/$name/rp_filter"; done
}

tenant_env() {
  check name "$1" || die "not a tenant key: \${1@Q}"
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
  if [[ \${#ENV_FILES[@]} -gt 0 ]]; then apply_tenants "\${ENV_FILES[@]}"; fi
}

# kill_sessions <key>: drop live sessions of <key> through each instance's management socket.
kill_sessions() {
  local s
  for s in "$SOCK1" "$SOCK2"; do
    [[ -S $s ]] || continue
    printf 'kill %s\\nquit\\n' "$1" | "$TIMEOUT" 5 "$SOCAT" -t 1 - "UNIX-CONNECT:$s" >/dev/null 2>&1 || true
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
      ip=\${p#*:}
      p=\${p%%:*}
      [[ \${RULE_BODY[$p]:-} == "from $ip lookup $T_TABLE" ]] && batch+="rule del pref $p from $ip lookup $T_TABLE$NL"
    done
    batch+="route flush table $T_TABLE$NL"
    if "$IP" link show dev "$T_LINK" >/dev/null 2>&1; then
      out=$("$IP" -d -o link show dev "$T_LINK")
      if [[ $out == *" vlan protocol "* ]]; then
        batch+="link del dev $T_LINK$NL"
      else
        # Not ours (the lab's veth): give it back without our address and group.
        out=$("$IP" -o addr show dev "$T_LINK" to "\${T_LAN_ADDR%/*}/32")
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
    if [[ \${RULE_BODY[$pref]:-} == "$body" ]]; then have=$((have + 1)); fi
  done <<<"$SKELETON"
  printf 'server %s: rules at %s prefs, skeleton %s/%s\\n' "$SERVER" "\${#RULE_BODY[@]}" "$have" "$n"
  [[ $have -eq $n ]] || rc=1
  list_envs
  for f in "\${ENV_FILES[@]}"; do
    load_env "$f"
    missing=''
    [[ \${RULE_BODY[$T_PREF1]:-} == "from $T_TUN1 lookup $T_TABLE" ]] || missing+=" rule:$T_TUN1"
    [[ \${RULE_BODY[$T_PREF2]:-} == "from $T_TUN2 lookup $T_TABLE" ]] || missing+=" rule:$T_TUN2"
    out=$("$IP" route show table "$T_TABLE" default 2>/dev/null || true)
    [[ -n $out ]] || missing+=" route:default"
    out=$("$IP" -o addr show dev "$T_LINK" to "\${T_LAN_ADDR%/*}/32" 2>/dev/null || true)
    [[ -n $out ]] || missing+=" link:$T_LINK"
    "$IPT" -t nat -C LR-DNAT -s "$T_TUN1/32" -d "$GW1/32" -i "$DEV1" -p tcp -m tcp --dport 5900 -m comment --comment "lr:$T_KEY" -j DNAT --to-destination "$HOST_MGMT:$T_VNC_PORT" 2>/dev/null || missing+=" dnat:$DEV1"
    "$IPT" -t nat -C LR-DNAT -s "$T_TUN2/32" -d "$GW2/32" -i "$DEV2" -p tcp -m tcp --dport 5900 -m comment --comment "lr:$T_KEY" -j DNAT --to-destination "$HOST_MGMT:$T_VNC_PORT" 2>/dev/null || missing+=" dnat:$DEV2"
    if [[ -z $missing ]]; then printf '%s (slot %s): ok\\n' "$T_KEY" "$T_SLOT"; else printf '%s (slot %s): missing%s\\n' "$T_KEY" "$T_SLOT" "$missing"; rc=1; fi
  done
  return "$rc"
}

declare -A RULE_BODY=() RULE_COUNT=()
ENV_FILES=()
case \${1:-} in
  base) [[ $# -eq 1 ]] || usage; cmd_base ;;
  apply) [[ $# -eq 2 ]] || usage; cmd_apply "$2" ;;
  delete) [[ $# -eq 2 ]] || usage; cmd_delete "$2" ;;
  apply-all) [[ $# -eq 1 ]] || usage; cmd_apply_all ;;
  status) [[ $# -eq 1 ]] || usage; cmd_status ;;
  *) usage ;;
esac
`;
