# --- VXLAN (plan.sdn; render/dataplane.ts puts this part in only then) ---
# Each tenant link vx<slot> is a vxlan device (id LR_VNI, local VXLAN_LOCAL, dstport VXLAN_PORT) riding the
# management NIC: this server is a VTEP of the Proxmox zone. Head-end replication as ifupdown2's vxlan-remoteip
# does on the nodes: one all-zero FDB entry per other peer (VXLAN_PEERS), so broadcast and unknown unicast reach
# every node, and learning sends known unicast to the one node the tenant's router is on.

# read_vxlan [<link>]: VXLAN_LINK[name] = 1 for the vxlan links, FDB_DSTS[name] = "|<dst>…" for their all-zero
# FDB entries: of every link (two listings), or of <link> alone when it exists.
read_vxlan() {
  local out l name
  VXLAN_LINK=() FDB_DSTS=()
  if (($#)); then
    [[ -d /proc/sys/net/ipv4/conf/$1 ]] || return 0
    out=$("$IP" -o link show dev "$1" type vxlan)
  else
    out=$("$IP" -o link show type vxlan)
  fi
  split_lines "$out"
  for l in "${LINES[@]}"; do
    l=${l#*: }
    name=${l%%: *}
    VXLAN_LINK[${name%%@*}]=1
  done
  ((${#VXLAN_LINK[@]})) || return 0
  if (($#)); then out=$("$BRIDGE" fdb show dev "$1"); else out=$("$BRIDGE" fdb show); fi
  split_lines "$out"
  for l in "${LINES[@]}"; do
    [[ $l == '00:00:00:00:00:00 '* && $l == *' dst '* ]] || continue
    name=${1:-}
    if [[ $l == *' dev '* ]]; then
      name=${l#* dev }
      name=${name%% *}
    fi
    l=${l#* dst }
    FDB_DSTS[$name]+="|${l%% *}"
  done
}

# fdb_lines: bridge -batch lines (in F) that leave T_LINK with exactly one all-zero entry per peer: the missing
# ones appended, those of a peer no longer listed deleted. Only on a vxlan link (one made now, or one read_vxlan
# saw); a link that is not ours (the lab's veth) gets none.
fdb_lines() {
  local have p IFS='|'
  [[ ! -d /proc/sys/net/ipv4/conf/$T_LINK || -n ${VXLAN_LINK[$T_LINK]:-} ]] || return 0
  have="${FDB_DSTS[$T_LINK]:-}|"
  for p in "${VXLAN_PEERS[@]}"; do
    [[ $have == *"|$p|"* ]] || F+=("fdb append 00:00:00:00:00:00 dev $T_LINK dst $p")
  done
  set -f
  # shellcheck disable=SC2206 # splitting on | only, globbing off
  local old=(${have#|})
  set +f
  for p in "${old[@]}"; do
    [[ $PEER_SET == *"|$p|"* ]] || F+=("fdb del 00:00:00:00:00:00 dev $T_LINK dst $p")
  done
}

# link_mtu: " mtu VXLAN_MTU" for a vxlan link (made now or seen), nothing for a link that is not ours.
link_mtu() {
  if [[ ! -d /proc/sys/net/ipv4/conf/$T_LINK || -n ${VXLAN_LINK[$T_LINK]:-} ]]; then LINK_MTU=" mtu $VXLAN_MTU"; else LINK_MTU=''; fi
}

# run_fdb: the lines in F through one `bridge -batch` (after the ip batch made the links), then F is empty.
run_fdb() {
  local text
  ((${#F[@]})) || return 0
  printf -v text '%s\n' "${F[@]}"
  F=()
  "$BRIDGE" -batch - <<<"$text"
}

# underlay_up: the management NIC carries every tenant's VXLAN; it must be up with this server's VTEP address.
underlay_up() {
  local out
  out=$("$IP" -4 -o address show dev "$MGMT" 2>/dev/null) || die "no management interface $MGMT: the VXLAN underlay (network.management)"
  [[ $out == *" inet $VXLAN_LOCAL/"* ]] || die "$MGMT has not the VTEP address $VXLAN_LOCAL (network.management.vpnIps): the peers send this server's VXLAN there"
  "$IP" link set dev "$MGMT" up
}

# vxlan_status: what status_one's tenant lacks in the FDB (its link is a vxlan device).
vxlan_status() {
  local p have
  [[ -n ${VXLAN_LINK[$T_LINK]:-} ]] || return 0
  have="${FDB_DSTS[$T_LINK]:-}|"
  for p in "${VXLAN_PEERS[@]}"; do
    [[ $have == *"|$p|"* ]] || missing+=" fdb:$p"
  done
}

declare -A VXLAN_LINK=() FDB_DSTS=()
F=() LINK_MTU=''
# "|<peer>|<peer>|": fdb_lines tells a listed peer from a stale one in one match.
printf -v PEER_SET '|%s' "${VXLAN_PEERS[@]}"
PEER_SET+='|'
