#!/bin/sh
# lr-connect: connect acme to LibreRouter hosting (golden) with this machine's hardware ID.
#   lr-connect --print-id                 print the ID (send it to your operator to pin)
#   sudo sh lr-connect [--no-kill-switch] [--dns auto|resolved|resolvconf|file|off] [bundle.ovpn] [openvpn options...]
# Needs openvpn, and iptables or nft for the kill-switch; connecting needs root (tun device, routes, DNS).
# The bundle must be yours or root's and private (chmod 600).
set -u
LC_ALL=C
export LC_ALL
BUNDLE_NAME=acme.ovpn
LR_DIRECTIVES="client dev nobind server-poll-timeout connect-retry remote-cert-tls verify-x509-name tls-version-min data-ciphers ifconfig-ipv6 redirect-gateway block-ipv6 ignore-unknown-option block-outside-dns push-peer-info auth-retry disable-dco verb persist-key remote explicit-exit-notify tun-mtu mssfix"
LR_INLINE="ca cert key tls-crypt-v2"

# First non-empty line of a readable file, or nothing.
first_line() {
  if [ -r "$1" ]; then
    while IFS= read -r l; do
      if [ -n "$l" ]; then printf '%s' "$l"; return 0; fi
    done < "$1"
  fi
  return 0
}

machine_id() {
  mid=$(first_line /etc/machine-id)
  if [ -z "$mid" ]; then mid=$(first_line /var/lib/dbus/machine-id); fi
  printf '%s' "$mid"
}

# Whole disk under /, through partitions, LVM and LUKS (e.g. sda, nvme0n1); empty when unknown (containers, tmpfs).
root_disk() {
  src=
  if command -v findmnt >/dev/null 2>&1; then src=$(findmnt -n -o SOURCE / 2>/dev/null || true); fi
  src=${src%%\[*}
  case "$src" in /dev/*) ;; *) return 0 ;; esac
  if command -v lsblk >/dev/null 2>&1; then
    lsblk -n -r -s -o TYPE,NAME "$src" 2>/dev/null | while read -r type name; do
      if [ "$type" = disk ]; then printf '%s' "$name"; break; fi
    done
  fi
  return 0
}

disk_id() {
  d=$(root_disk)
  if [ -z "$d" ]; then return 0; fi
  serial=$(lsblk -n -d -o SERIAL "/dev/$d" 2>/dev/null || true)
  wwn=$(lsblk -n -d -o WWN "/dev/$d" 2>/dev/null || true)
  if [ -z "$serial" ]; then serial=$(first_line "/sys/block/$d/device/serial"); fi
  if [ -z "$wwn" ]; then wwn=$(first_line "/sys/block/$d/device/wwid"); fi
  printf '%s/%s' "$serial" "$wwn"
}

# CPU identity without fields that change at run time (MHz, bogomips) or with updates (microcode).
cpu_id() {
  if [ -r /proc/cpuinfo ]; then
    grep -E '^(vendor_id|cpu family|model|model name|Hardware|Serial|CPU implementer|CPU part)[[:space:]]*:' /proc/cpuinfo 2>/dev/null | sort -u || true
  fi
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 | cut -d ' ' -f 1
  elif command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r | cut -d ' ' -f 1
  else echo "lr-connect: need sha256sum, shasum or openssl" >&2; return 1
  fi
}

hardware_id() {
  m=$(machine_id)
  d=$(disk_id)
  c=$(cpu_id)
  if [ -z "$m" ] && [ -z "$d" ] && [ -z "$c" ]; then
    echo "lr-connect: warning: no machine-id, disk or CPU identity readable; the ID is not unique to this machine" >&2
  fi
  printf 'machine-id=%s\ndisk=%s\ncpu=%s\n' "$m" "$d" "$c" | sha256
}

die() {
  echo "lr-connect: $*" >&2
  exit 2
}

# ---- DNS while the tunnel is up. OpenVPN 2.6 hands a pushed `dhcp-option DNS x` to --up/--down only, as
# foreign_option_<n> (doc/man-sections/script-options.rst); the launcher passes itself as those hooks.

# Reads foreign_option_1.. into $dns_servers and $dns_domains, keeping only well-formed values (they come from
# the server and end up in resolv.conf or on a resolvectl command line).
pushed_dns() {
  dns_servers=
  dns_domains=
  n=1
  opt=
  while eval "[ -n \"\${foreign_option_$n:-}\" ]"; do
    eval "opt=\$foreign_option_$n"
    set -f
    # shellcheck disable=SC2086 # split "dhcp-option DNS 10.0.1.1" into words
    set -- $opt
    set +f
    if [ "$#" -eq 3 ] && [ "$1" = dhcp-option ]; then
      case "$2:$3" in
        DNS:*[!0-9.]* | DNS6:*[!0-9A-Fa-f:]* | DOMAIN*:*[!0-9A-Za-z.-]*) ;;
        DNS:* | DNS6:*) dns_servers="$dns_servers $3" ;;
        DOMAIN:* | DOMAIN-SEARCH:*) dns_domains="$dns_domains $3" ;;
        *) ;;
      esac
    fi
    n=$((n + 1))
  done
  dns_servers=${dns_servers# }
  dns_domains=${dns_domains# }
}

# The `file` method: the previous /etc/resolv.conf is saved once (a reconnect that reopens the tun runs down then
# up: the saved copy stays the pre-tunnel one) and written back byte for byte. `cat >` keeps the inode, so a
# bind-mounted or symlinked resolv.conf is written where it lives.
file_up() {
  if [ ! -e "$state/resolv.saved" ] && [ ! -e "$state/resolv.absent" ]; then
    if [ -e /etc/resolv.conf ]; then cp /etc/resolv.conf "$state/resolv.saved" || return 1; else : > "$state/resolv.absent"; fi
  fi
  {
    echo "# lr-connect: the tunnel's DNS while $dev is up; the previous file comes back when it ends."
    for s in $dns_servers; do echo "nameserver $s"; done
    if [ -n "$dns_domains" ]; then echo "search $dns_domains"; fi
  } > "$state/resolv.new" && cat "$state/resolv.new" > /etc/resolv.conf
}

file_restore() {
  if [ -e "$state/resolv.saved" ]; then
    cat "$state/resolv.saved" > /etc/resolv.conf && rm -f "$state/resolv.saved"
  elif [ -e "$state/resolv.absent" ]; then
    rm -f /etc/resolv.conf "$state/resolv.absent"
  fi
}

# --hook <state dir>: run by openvpn as --up and --down (script_type, dev and foreign_option_<n> in the env).
dns_hook() {
  state=$1
  method=$(cat "$state/dns")
  dev=${dev:-}
  case "$dev" in '' | *[!0-9A-Za-z_.-]*) echo "lr-connect: hook: bad device name '$dev'" >&2; return 1 ;; *) ;; esac
  pushed_dns
  case "${script_type:-}:$method" in
    up:resolved)
      if [ -z "$dns_servers" ]; then return 0; fi
      # shellcheck disable=SC2086 # one argument per server / domain
      resolvectl dns "$dev" $dns_servers && resolvectl domain "$dev" '~.' $dns_domains && resolvectl default-route "$dev" yes ;;
    down:resolved) resolvectl revert "$dev" 2>/dev/null || true ;;
    up:resolvconf | down:resolvconf)
      echo "$dev" > "$state/dev"
      /etc/openvpn/update-resolv-conf "$@" ;;
    up:file)
      if [ -z "$dns_servers" ]; then return 0; fi
      file_up ;;
    down:file) file_restore ;;
    *) return 0 ;;
  esac
}

if [ "${1:-}" = "--hook" ] && [ "$#" -ge 2 ]; then
  shift
  dns_hook "$@"
  exit $?
fi

if [ "${1:-}" = "--print-id" ]; then
  hardware_id
  exit $?
fi

# ---- Bundle checks (L8: a bundle runs as root).

# Refuses a bundle another user could read (it holds the private key) or plant (owned by someone else).
check_bundle_mode() {
  listing=$(ls -lnL "$1") || die "cannot stat $1"
  set -f
  # shellcheck disable=SC2086 # mode links uid gid ...
  set -- $listing
  set +f
  case "$1" in
    -???------*) ;;
    -*) die "$bundle is open to other users ($1): it holds your private key. Fix: chmod 600 $bundle" ;;
    *) die "$bundle is not a regular file" ;;
  esac
  case "$3" in
    0 | "${SUDO_UID:-0}") ;;
    *) die "$bundle belongs to uid $3, neither root nor you (${SUDO_UID:-0}): someone else could have written it. Fix: sudo chown ${SUDO_UID:-0} $bundle" ;;
  esac
}

# Prints "host port proto" per remote, or refuses the bundle when any line is not one of the directives the
# operator's bundle uses (LR_DIRECTIVES): `up`, `script-security`, `config`, `plugin`, `setenv opt …`, `log` …
# would run programs or write files as root. Lines over 200 characters are refused too: OpenVPN reads at most
# 256 at a time, so the rest of a long line would be read as a line of its own.
bundle_remotes() {
  awk -v allowed=" $LR_DIRECTIVES " -v inline=" $LR_INLINE " '
    function bad(why) {
      printf "lr-connect: %s line %d: %s; lr-connect runs only bundles as rendered for you (no directive that runs programs or writes files as root)\n", FILENAME, FNR, why > "/dev/stderr"
      failed = 1
      exit 2
    }
    length($0) > 200 { bad("longer than 200 characters") }
    { line = $0; sub(/\r$/, "", line); sub(/^[ \t]+/, "", line) }
    skip != "" { if (index(line, "</" skip ">") == 1) skip = ""; next }
    conn && index(line, "</connection>") == 1 { conn = 0; next }
    line == "" || line ~ /^[#;]/ { next }
    line == "<connection>" { if (conn) bad("<connection> inside <connection>"); conn = 1; next }
    line ~ /^<[a-z0-9-]+>$/ {
      tag = substr(line, 2, length(line) - 2)
      if (conn || index(inline, " " tag " ") == 0) bad("<" tag "> is not an inline block of the bundle")
      skip = tag
      next
    }
    {
      split(line, w, /[ \t]+/)
      if (index(allowed, " " w[1] " ") == 0) bad("directive \"" w[1] "\" is not one the bundle uses")
      if (w[1] == "remote") print w[2], (w[3] == "" ? 1194 : w[3]), (w[4] == "" ? "udp" : w[4])
    }
    END {
      if (failed) exit 2
      if (skip != "") bad("<" skip "> has no end tag")
      if (conn) bad("<connection> has no end tag")
    }
  ' "$1"
}

# ---- Kill-switch: --persist-tun, a route to every VPN server outside the tunnel, and a firewall that lets only
# the VPN servers (address, port, protocol), the tun, loopback and DHCP out while openvpn runs.
# - persist-tun keeps the tun and its 0/1 + 128/1 routes through a reconnect, so traffic waits in the tunnel.
# - OpenVPN routes only the current server around the tunnel (route.c, add_route3 of remote_host) and, with
#   persist-tun, does not redo routes on a restart: the next server would be dialled through the dead tunnel.
#   Hence one host route per server (metric 7301, apart from OpenVPN's own) via the pre-tunnel gateway.
# - When the new instance pushes another address (every instance has its own pool), OpenVPN 2.6 still deletes
#   the routes and reopens the tun (init.c "Pulled options changed on restart"): the firewall covers that moment.
KS=lr-connect
BYPASS_METRIC=7301

bypass_on() {
  while read -r ip _port _proto; do
    if grep -q "^$ip " "$state/routes" 2>/dev/null; then continue; fi
    via=$(ip -4 route get "$ip" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) { if ($i == "via") g = "via " $(i + 1); if ($i == "dev") d = "dev " $(i + 1) } } END { print g, d }')
    case "$via" in *dev\ *) ;; *) die "no route to the VPN server $ip" ;; esac
    # shellcheck disable=SC2086 # "via GW dev DEV" or " dev DEV"
    ip -4 route add "$ip/32" $via metric "$BYPASS_METRIC" || die "cannot add the route to the VPN server $ip ($via)"
    echo "$ip $via" >> "$state/routes"
  done < "$state/servers"
}

# shellcheck disable=SC2317 # called from the EXIT trap
bypass_off() {
  if [ -s "$state/routes" ]; then
    while read -r ip via; do
      # shellcheck disable=SC2086
      ip -4 route del "$ip/32" $via metric "$BYPASS_METRIC" 2>/dev/null || true
    done < "$state/routes"
  fi
}

ks_iptables() {
  iptables -w -N "$KS" 2>/dev/null || iptables -w -F "$KS" || return 1
  iptables -w -A "$KS" -o lo -j RETURN &&
    iptables -w -A "$KS" -o tun+ -j RETURN &&
    iptables -w -A "$KS" -p udp --sport 68 --dport 67 -j RETURN || return 1
  while read -r ip port proto; do
    iptables -w -A "$KS" -d "$ip/32" -p "$proto" --dport "$port" -j RETURN || return 1
  done < "$state/servers"
  iptables -w -A "$KS" -j DROP || return 1
  iptables -w -C OUTPUT -j "$KS" 2>/dev/null || iptables -w -I OUTPUT 1 -j "$KS" || return 1
  if command -v ip6tables >/dev/null 2>&1; then
    ip6tables -w -N "$KS" 2>/dev/null || ip6tables -w -F "$KS" || return 1
    ip6tables -w -A "$KS" -o lo -j RETURN && ip6tables -w -A "$KS" -o tun+ -j RETURN && ip6tables -w -A "$KS" -j DROP || return 1
    ip6tables -w -C OUTPUT -j "$KS" 2>/dev/null || ip6tables -w -I OUTPUT 1 -j "$KS" || return 1
  fi
}

ks_nft() {
  {
    echo "table inet lr_connect"
    echo "delete table inet lr_connect"
    echo "table inet lr_connect {"
    echo "  chain out {"
    echo "    type filter hook output priority 0; policy accept;"
    echo '    oifname "lo" accept'
    echo '    oifname "tun*" accept'
    echo "    udp sport 68 udp dport 67 accept"
    while read -r ip port proto; do echo "    ip daddr $ip $proto dport $port accept"; done < "$state/servers"
    echo "    drop"
    echo "  }"
    echo "}"
  } | nft -f -
}

ks_on() {
  if command -v iptables >/dev/null 2>&1; then echo iptables > "$state/ks"; ks_iptables
  elif command -v nft >/dev/null 2>&1; then echo nft > "$state/ks"; ks_nft
  else die "neither iptables nor nft is installed for the kill-switch. Fix: apt install iptables, or run with --no-kill-switch (then traffic leaves in clear during each reconnect)"
  fi
}

# shellcheck disable=SC2317 # called from the EXIT trap
ks_off() {
  case "$(cat "$state/ks" 2>/dev/null)" in
    iptables)
      for t in iptables ip6tables; do
        if command -v "$t" >/dev/null 2>&1; then
          while "$t" -w -D OUTPUT -j "$KS" 2>/dev/null; do :; done
          "$t" -w -F "$KS" 2>/dev/null
          "$t" -w -X "$KS" 2>/dev/null
        fi
      done ;;
    nft) nft delete table inet lr_connect 2>/dev/null ;;
    *) ;;
  esac
  return 0
}

# "host port proto" lines → "address port udp|tcp" lines for every IPv4 address of each host.
resolve_servers() {
  while read -r host port proto; do
    case "$proto" in udp*) p=udp ;; tcp*) p=tcp ;; *) die "remote $host: unknown protocol $proto" ;; esac
    case "$port" in '' | *[!0-9]*) die "remote $host: bad port $port" ;; *) ;; esac
    case "$host" in
      *[!0-9.]*)
        addrs=$(getent ahostsv4 "$host" 2>/dev/null | awk '{ print $1 }' | sort -u)
        if [ -z "$addrs" ]; then die "cannot resolve $host (the kill-switch needs the VPN servers' addresses)"; fi ;;
      *) addrs=$host ;;
    esac
    for a in $addrs; do echo "$a $port $p"; done
  done
}

# ---- Main: lr-connect [--no-kill-switch] [--dns auto|resolved|resolvconf|file|off] [bundle.ovpn] [openvpn options...]

killswitch=on
dns=auto
while :; do
  case "${1:-}" in
    --no-kill-switch) killswitch=off; shift ;;
    --dns)
      case "${2:-}" in auto | resolved | resolvconf | file | off) dns=$2; shift 2 ;; *) die "--dns takes auto, resolved, resolvconf, file or off (got '${2:-}')" ;; esac ;;
    *) break ;;
  esac
done

bundle=
case "${1:-}" in *.ovpn) bundle=$1; shift ;; *) ;; esac
if [ -z "$bundle" ]; then
  here=$(dirname "$0")
  bundle="$here/$BUNDLE_NAME"
fi
if [ ! -r "$bundle" ]; then die "cannot read $bundle (pass the .ovpn file as the first argument)"; fi
check_bundle_mode "$bundle"
remotes=$(bundle_remotes "$bundle") || exit 2
if [ -z "$remotes" ]; then die "$bundle has no remote line"; fi
if ! command -v openvpn >/dev/null 2>&1; then die "openvpn is not installed"; fi
uid=$(id -u)
if [ "$uid" != 0 ]; then die "connecting needs root (tun device, routes, DNS, kill-switch). Run: sudo sh $0"; fi
if ! id=$(hardware_id) || [ -z "$id" ]; then exit 2; fi

# OpenVPN 2.7 and later apply pushed DNS themselves (--dns-updown, which runs only when no --up is given).
version=$(openvpn --version 2>/dev/null | awk 'NR == 1 { split($2, v, "."); print v[1] * 1000 + v[2] }')
if [ "$dns" = auto ]; then
  if [ "${version:-0}" -ge 2007 ]; then dns=openvpn
  elif command -v resolvectl >/dev/null 2>&1 && grep -qs '^nameserver 127\.0\.0\.53' /etc/resolv.conf; then dns=resolved
  elif [ -x /etc/openvpn/update-resolv-conf ] && [ -x /sbin/resolvconf ]; then dns=resolvconf
  else dns="file"
  fi
fi

state=$(mktemp -d "${TMPDIR:-/tmp}/lr-connect.XXXXXX") || die "cannot create a temporary directory"
child=
# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
  trap - EXIT INT TERM HUP
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then kill -TERM "$child" 2>/dev/null; wait "$child"; fi
  # What openvpn's down hook did not undo (openvpn killed, or it failed before down).
  case "$dns" in
    file) file_restore ;;
    resolvconf) if [ -s "$state/dev" ]; then /sbin/resolvconf -d "$(cat "$state/dev").openvpn" 2>/dev/null || true; fi ;;
    *) ;;
  esac
  ks_off
  bypass_off
  rm -rf "$state"
}
trap cleanup EXIT
trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; fi' INT TERM HUP

# A root-owned copy of this script in the private directory serves as the hook, so nobody can change it mid-run.
cat "$0" > "$state/lr-connect" || die "cannot copy $0"
echo "$dns" > "$state/dns"
printf '%s\n' "$remotes" | resolve_servers > "$state/servers" || exit 2
if [ "$killswitch" = on ]; then
  bypass_on
  ks_on || die "could not install the kill-switch"
  set -- --persist-tun "$@"
fi

hook="/bin/sh $state/lr-connect --hook $state"
case "$dns" in
  openvpn | off) set -- --script-security 1 "$@" ;;
  *) set -- --script-security 2 --up "$hook" --down "$hook" --down-pre "$@" ;;
esac
openvpn --config "$bundle" --setenv UV_HWID "$id" "$@" &
child=$!
# wait returns early when a trapped signal arrives; keep waiting until openvpn itself has gone.
rc=0
while :; do
  wait "$child"
  rc=$?
  if ! kill -0 "$child" 2>/dev/null; then break; fi
done
child=
exit "$rc"
