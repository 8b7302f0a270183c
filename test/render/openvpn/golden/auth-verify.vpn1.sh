#!/bin/sh
# auth-user-pass-verify hook of vpn1 (stack golden): certificate and hardware check; rendered, do not edit.
# Runs as lr-openvpn with no PATH. Logs one line per decision to stderr (the OpenVPN log); never the ID itself (OpenVPN logs the peer-info lines on its own: README).
set -u
PINS=/etc/openvpn/server/pins
ENROLLED=/var/lib/librerouter/enrolled
CCD_UDP=/etc/openvpn/server/ccd-udp
CCD_TCP=/etc/openvpn/server/ccd-tcp
CERTS=/etc/openvpn/server/cert-pins
POLICY=enrol
AUTHORITY=yes
PEER=vpn2
PEER_ADDR=TCP4:192.168.100.12:4194,bind=192.168.100.11,connect-timeout=2
SOCAT=/usr/bin/socat
# is_tenant_key <name>: config/schema.ts TENANT_KEY in sh, with no process: a lowercase letter first, then letters,
# digits and '-', no '-' last, at most 32 characters, and not the VPN servers' reserved lr-vpn* names. No '/' or
# '.', so a key is always safe as a file name.
is_tenant_key() {
  case "$1" in
    ''|*[!a-z0-9-]*|[!a-z]*|*-|lr-vpn*) return 1 ;;
    *) ;;
  esac
  [ "${#1}" -le 32 ]
}
# Any status but 0 is a refusal: a dash error exits 2, which OpenVPN 2.6 takes as "deferred" and holds the
# handshake for the hand-window instead of refusing it.
# shellcheck disable=SC2317 # reached through the trap
refuse_on_error() { [ "$?" = 0 ] || exit 1; }
trap refuse_on_error EXIT
cn=${common_name:-}
log() { printf 'lr-auth: cn=%s %s\n' "$1" "$2" >&2; }
deny() { log "$1" "REJECT: $2"; exit 1; }

if ! is_tenant_key "$cn"; then deny invalid "common name is not a tenant key"; fi
# A removed tenant (no ccd file) is refused later by ccd-exclusive; refuse it here so it can never enrol.
if [ ! -f "$CCD_UDP/$cn" ] && [ ! -f "$CCD_TCP/$cn" ]; then deny "$cn" "no ccd file: not a tenant"; fi
# Only the tenant's current certificate: the pin is its SHA-256 fingerprint in OpenVPN's own notation. The apply
# script writes it before the ccd files, so a tenant with ccd files and no pin was applied by an earlier release:
# it keeps connecting until its apply runs (refusing it would lock every tenant out during an upgrade).
if [ -f "$CERTS/$cn" ]; then
  certpin=
  IFS= read -r certpin < "$CERTS/$cn" || true
  if [ -z "$certpin" ]; then deny "$cn" "empty certificate pin"; fi
  if [ "${tls_digest_sha256_0:-}" != "$certpin" ]; then deny "$cn" "certificate sha256 ${tls_digest_sha256_0:-none} is not the tenant's current one"; fi
else
  log "$cn" "no certificate pin yet (applied by an earlier release): certificate not checked"
fi

# is_id <value>: a launcher ID (64 lowercase hex). Lowercase only, as the launcher sends it: no tr, no fork.
is_id() {
  case "$1" in *[!0-9a-f]*) return 1 ;; *) ;; esac
  [ "${#1}" -eq 64 ]
}
# What the client claims (push-peer-info): the launcher's ID, and the MAC of its default-route interface
# (OpenVPN writes it in lowercase), which counts only against a MAC that ops pinned.
hwid=${UV_HWID:-}
if ! is_id "$hwid"; then hwid=; fi
mac=${IV_HWADDR:-}
case "$mac" in [0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]) ;; *) mac= ;; esac

# check <pin> <source> [<note>]: accept when the claim of the pin's kind matches it (exits either way).
check() {
  case "$1" in
    ??:??:??:??:??:??) claim=$mac; kind=mac ;;
    *) claim=$hwid; kind=hwid ;;
  esac
  if [ -n "$claim" ] && [ "$claim" = "$1" ]; then
    log "$cn" "ACCEPT: $kind matches $2 pin${3:-}"
    exit 0
  fi
  deny "$cn" "$kind does not match $2 pin${3:-}"
}

# read_pin <file>: its first line in $pin ("" when absent or empty).
read_pin() {
  pin=
  if [ -f "$1" ]; then IFS= read -r pin < "$1" || true; fi
}

read_pin "$PINS/$cn"
if [ -n "$pin" ]; then check "$pin" ops; fi
# Fast path for every enrolled tenant: the local record decides, no network, no process.
read_pin "$ENROLLED/$cn"
if [ -n "$pin" ]; then check "$pin" enrolled; fi

if [ "$POLICY" != enrol ]; then deny "$cn" "no pin and policy is $POLICY"; fi
if [ -z "$hwid" ]; then deny "$cn" "no pin and no launcher UV_HWID to enrol (a MAC is never enrolled)"; fi

# ask <request>: one line to the peer server's enrolment responder; its one-line answer in $answer ("" when it
# did not answer within the timeouts). The here-document needs no process; socat is the only child.
ask() {
  answer=$("$SOCAT" -t 2 -T 2 - "$PEER_ADDR" 2>/dev/null <<LR_REQ
$1
LR_REQ
) || answer=
}

# store <id>: the local record, first wins (a private temp file hard-linked into place: ln fails if it exists).
store() {
  tmp="$ENROLLED/.$cn.$$"
  if ! printf '%s\n' "$1" > "$tmp"; then deny "$cn" "cannot write $ENROLLED"; fi
  if /bin/ln "$tmp" "$ENROLLED/$cn" 2>/dev/null; then stored=yes; else stored=no; fi
  /bin/rm -f "$tmp"
  [ "$stored" = yes ]
}

# No local record. The peer may hold one (the tenant enrolled there, or this server was rebuilt): never enrol
# without asking it, so a stolen bundle cannot enrol on the server the tenant did not use.
ask "get $cn"
case "$answer" in
  "id "*)
    known=${answer#id }
    if ! is_id "$known"; then deny "$cn" "$PEER answered a malformed record"; fi
    store "$known" || true
    read_pin "$ENROLLED/$cn"
    if [ "$pin" != "$known" ]; then deny "$cn" "local record differs from $PEER's"; fi
    check "$pin" enrolled " (learned from $PEER)"
    ;;
  none) ;;
  *) deny "$cn" "enrolment needs both servers: $PEER did not answer" ;;
esac

# Neither server has a record: the authority's one atomic link decides (a race between the tenant and a thief
# on two servers is decided there).
if [ "$AUTHORITY" = yes ]; then
  if store "$hwid"; then
    ask "put $cn $hwid"
    if [ "$answer" = "id $hwid" ]; then
      log "$cn" "ACCEPT: enrolled on first use (replica on $PEER)"
    else
      log "$cn" "ACCEPT: enrolled on first use ($PEER took no replica: it learns the record on first use)"
    fi
    exit 0
  fi
  read_pin "$ENROLLED/$cn"
  check "$pin" enrolled
fi
ask "claim $cn $hwid"
case "$answer" in
  "id "*) won=${answer#id } ;;
  *) deny "$cn" "enrolment needs both servers: $PEER did not answer the claim" ;;
esac
if ! is_id "$won"; then deny "$cn" "$PEER answered a malformed record"; fi
store "$won" || true
read_pin "$ENROLLED/$cn"
if [ "$pin" != "$won" ]; then deny "$cn" "local record differs from $PEER's"; fi
if [ "$won" = "$hwid" ]; then
  log "$cn" "ACCEPT: enrolled on first use at $PEER"
  exit 0
fi
deny "$cn" "hwid does not match the pin enrolled at $PEER"
