#!/bin/sh
# Enrolment responder of vpn1 (stack golden) for vpn2 (192.168.100.12); rendered, do not edit.
# Runs as lr-openvpn under socat, one process per request, no PATH.
set -u
ENROLLED=/var/lib/librerouter/enrolled
CCD_UDP=/etc/openvpn/server/ccd-udp
CCD_TCP=/etc/openvpn/server/ccd-tcp
AUTHORITY=yes
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
# One request per connection, one line in, at most one line out. Grammar (single spaces, nothing else):
#   get <cn>          -> "id <64 hex>" | "none"
#   claim <cn> <id>   (authority only)  store <id> unless a record exists -> "id <the stored id>"
#   put <cn> <id>     (the other server) the same, for the authority's replica
# <cn> is a tenant key with a ccd file here; <id> is 64 lowercase hex. Anything else gets no answer at all
# (the asking hook then refuses: fail closed). Logs one line per request to stderr (the journal).
# shellcheck disable=SC2317 # reached through the trap
no_status_but_0_1() { [ "$?" = 0 ] || exit 1; }
trap no_status_but_0_1 EXIT
log() { printf 'lr-enrol: %s\n' "$1" >&2; }
quit() { log "$1"; exit 0; }

line=
if ! IFS= read -r line; then quit "request without a newline: no answer"; fi
verb=${line%% *}
rest=${line#"$verb"}
rest=${rest#" "}
case "$verb" in
  get) cn=$rest; id= ;;
  claim | put) cn=${rest%% *}; id=${rest#"$cn"}; id=${id#" "} ;;
  *) quit "unknown request: no answer" ;;
esac
if ! is_tenant_key "$cn"; then quit "$verb: common name is not a tenant key: no answer"; fi
if [ "$verb" = get ]; then
  if [ "$line" != "get $cn" ]; then quit "get: malformed: no answer"; fi
else
  case "$id" in *[!0-9a-f]*) quit "$verb cn=$cn: id is not 64 lowercase hex: no answer" ;; *) ;; esac
  if [ "${#id}" -ne 64 ] || [ "$line" != "$verb $cn $id" ]; then quit "$verb cn=$cn: id is not 64 lowercase hex: no answer"; fi
fi
if [ "$verb" = claim ] && [ "$AUTHORITY" != yes ]; then quit "claim cn=$cn: this server is not the authority: no answer"; fi
if [ "$verb" = put ] && [ "$AUTHORITY" = yes ]; then quit "put cn=$cn: the authority takes no replica: no answer"; fi
if [ ! -f "$CCD_UDP/$cn" ] && [ ! -f "$CCD_TCP/$cn" ]; then quit "$verb cn=$cn: no ccd file: not a tenant: no answer"; fi

record="$ENROLLED/$cn"
if [ "$verb" != get ] && [ ! -f "$record" ]; then
  # First wins, as in the auth hook: a private temp file hard-linked into place.
  tmp="$ENROLLED/.$cn.peer.$$"
  if printf '%s\n' "$id" > "$tmp"; then /bin/ln "$tmp" "$record" 2>/dev/null || true; fi
  /bin/rm -f "$tmp"
fi
if [ ! -f "$record" ]; then
  if [ "$verb" != get ]; then quit "$verb cn=$cn: cannot write $ENROLLED: no answer"; fi
  log "get cn=$cn: none"
  printf 'none\n'
  exit 0
fi
known=
IFS= read -r known < "$record" || true
case "$known" in *[!0-9a-f]*) known= ;; *) ;; esac
# An empty or damaged record, or a MAC enrolled by an earlier release, is never passed on (the asking hook refuses).
if [ "${#known}" -ne 64 ]; then quit "$verb cn=$cn: the record here is not a launcher ID: no answer"; fi
if [ "$verb" = get ] || [ "$known" = "$id" ]; then log "$verb cn=$cn: answered the record"; else log "$verb cn=$cn: another id is enrolled: answered it"; fi
printf 'id %s\n' "$known"
