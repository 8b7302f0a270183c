/**
 * The part of `lr-dataplane` (bash) that every tenant shares: the iptables chains (LR-IN, LR-FWD, LR-DNAT,
 * LR-NAT) and the routing-table names file. `base`/`apply-all` rebuild them whole from data already in memory
 * (one iptables-restore); `apply <key>`/`delete <key>` change only that tenant's DNAT rules and name line, in
 * the place a rebuild puts them, so one tenant costs the same at 2,000 tenants as at 2. Pure text.
 */
export const DATAPLANE_SHARED = `# split_lines <text>: LINES = its non-empty lines, split in memory (reading a large text line by line
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
  [[ -d \${1%/*} ]] || mkdir -p "\${1%/*}"
  printf '%s' "$2" >"$tmp"
  mv -f "$tmp" "$1"
}

# apply_firewall: LR-IN, LR-FWD, LR-NAT and LR-DNAT (the rules in DNAT) in one atomic iptables-restore, then
# the jumps into them (once) and FORWARD's policy DROP.
apply_firewall() {
  local text saved
  printf -v text '%s\\n' "$FILTER_RULES" '*nat' ':LR-DNAT - [0:0]' ':LR-NAT - [0:0]' "\${DNAT[@]}" "$NAT_RULES" COMMIT
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
  read -r before at last <<<"\${LINES[0]}"
  have=("\${LINES[@]:1}")
  if [[ \${#have[@]} -eq $# ]]; then
    (($#)) || return 0
    printf -v a '%s\\n' "\${have[@]}"
    printf -v b '%s\\n' "$@"
    [[ $a == "$b" && $at -eq $((before + 1)) && $last -eq $((at + $# - 1)) ]] && return 0
  fi
  for l in "\${have[@]}"; do cmds+=("-D \${l#-A }"); done
  pos=$((before + 1))
  for l in "$@"; do
    cmds+=("-I LR-DNAT $pos \${l#-A LR-DNAT }")
    pos=$((pos + 1))
  done
  printf -v a '%s\\n' '*nat' "\${cmds[@]}" COMMIT
  "$IPT_RESTORE" --noflush <<<"$a"
}

# write_rt: the routing-table names file from RT (indexed by table id, so in table order).
write_rt() {
  local text
  printf -v text '%s\\n' "$RT_HEADER" "\${RT[@]}"
  write_file "$RT_TABLES" "$text"
}

# rt_tenant <table> [<name>]: the names file with the line "<table> <name>" (none without a name), in table
# order, and no other line for that table or name; the other lines as they are (awk: no bash loop per line).
rt_tenant() {
  local old='' text
  if [[ -f $RT_TABLES ]]; then IFS= read -r -d '' old <"$RT_TABLES" || true; fi
  # shellcheck disable=SC2016 # the $ are awk's
  text=$("$AWK" -v t="$1" -v name="\${2:-}" -v head="$RT_HEADER" '
    BEGIN { print head }
    $1 ~ /^[0-9]+$/ && $1 + 0 != t + 0 && $2 != name {
      if (name != "" && !done && $1 + 0 > t + 0) { print t " " name; done = 1 }
      print
    }
    END { if (name != "" && !done) print t " " name }' <<<"$old")
  write_file "$RT_TABLES" "$text$NL"
}
`;
