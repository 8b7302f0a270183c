
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

