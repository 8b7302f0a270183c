
cn=${common_name:-}
log() { printf 'lr-auth: cn=%s %s\n' "$1" "$2" >&2; }
deny() { log "$1" "REJECT: $2"; exit 1; }

ok=1
case "$cn" in
  ''|*[!a-z0-9-]*|[!a-z]*|*-|lr-vpn*) ok=0 ;;
  *) ;;
esac
if [ "${#cn}" -gt 32 ]; then ok=0; fi
if [ "$ok" = 0 ]; then deny invalid "common name is not a tenant key"; fi
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

# What the client claims (push-peer-info): the launcher's ID and the MAC of its default-route interface.
hwid=$(printf '%s' "${UV_HWID:-}" | /usr/bin/tr 'A-F' 'a-f')
mac=$(printf '%s' "${IV_HWADDR:-}" | /usr/bin/tr 'A-F' 'a-f')
case "$hwid" in *[!0-9a-f]*) hwid= ;; *) ;; esac
if [ "${#hwid}" -ne 64 ]; then hwid=; fi
case "$mac" in [0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]) ;; *) mac= ;; esac

# check <pin> <source>: accept when the claim of the pin's kind matches it.
check() {
  case "$1" in
    ??:??:??:??:??:??) claim=$mac; kind=mac ;;
    *) claim=$hwid; kind=hwid ;;
  esac
  if [ -n "$claim" ] && [ "$claim" = "$1" ]; then
    log "$cn" "ACCEPT: $kind matches $2 pin"
    exit 0
  fi
  deny "$cn" "$kind does not match $2 pin"
}

read_pin() {
  pin=
  if [ -f "$1" ]; then
    IFS= read -r pin < "$1" || true
    pin=$(printf '%s' "$pin" | /usr/bin/tr 'A-F' 'a-f')
  fi
}

read_pin "$PINS/$cn"
if [ -n "$pin" ]; then check "$pin" ops; fi
read_pin "$ENROLLED/$cn"
if [ -n "$pin" ]; then check "$pin" enrolled; fi

if [ "$POLICY" != enrol ]; then deny "$cn" "no pin and policy is $POLICY"; fi
new=${hwid:-$mac}
if [ -z "$new" ]; then deny "$cn" "no pin and no UV_HWID or IV_HWADDR to enrol"; fi
# Atomic first-wins: write a private temp file, then hard-link it; ln fails if another session enrolled first.
tmp="$ENROLLED/.$cn.$$"
if ! printf '%s\n' "$new" > "$tmp"; then deny "$cn" "cannot write $ENROLLED"; fi
if /bin/ln "$tmp" "$ENROLLED/$cn" 2>/dev/null; then
  /bin/rm -f "$tmp"
  log "$cn" "ACCEPT: enrolled on first use"
  exit 0
fi
/bin/rm -f "$tmp"
read_pin "$ENROLLED/$cn"
if [ -n "$pin" ]; then check "$pin" enrolled; fi
deny "$cn" "enrolment failed"
