
# OpenVPN 2.6 gives this hook only script_type, metadata_type and metadata_file (tls_crypt.c:554-590, and
# tls-options.rst "only these variables"): no PATH, no common_name. metadata_file holds the raw metadata without
# its type byte. Everything below is a dash builtin: no process but the hook itself. Exit 0 accepts, 1 refuses.
log() { printf 'lr-tc2: cn=%s %s\n' "$1" "$2" >&2; }
deny() { log "$1" "REJECT: $2"; exit 1; }

if [ "${metadata_type:-}" != 0 ]; then deny - "metadata type ${metadata_type:-none} is not user metadata: not a key we issued"; fi
file=${metadata_file:-}
if [ -z "$file" ] || [ ! -f "$file" ]; then deny - "no metadata file"; fi
tag='' cn='' kid='' rest=''
IFS=' ' read -r tag cn kid rest < "$file" || true
if [ "$tag" != lr1 ] || [ -n "$rest" ]; then deny - "metadata is not a librerouter tenant key"; fi

if ! is_tenant_key "$cn"; then deny - "metadata names no tenant key"; fi
case "$kid" in
  *[!0-9a-f]*) kid= ;;
  *) ;;
esac
if [ "${#kid}" -ne 16 ]; then deny "$cn" "metadata has no key id"; fi

# A removed tenant has no ccd file (its delete script removes them first).
if [ ! -f "$CCD_UDP/$cn" ] && [ ! -f "$CCD_TCP/$cn" ]; then deny "$cn" "no ccd file: not a tenant"; fi
# Only the tenant's current key: the apply script pins its id before it writes the ccd files, so no pin means
# the tenant's apply has not run yet on this server (or it was removed): refuse.
pin=
if [ -f "$PINS/$cn" ]; then IFS= read -r pin < "$PINS/$cn" || true; fi
if [ -z "$pin" ]; then deny "$cn" "no tls-crypt-v2 key pinned"; fi
if [ "$kid" != "$pin" ]; then deny "$cn" "tls-crypt-v2 key $kid is not the tenant's current one"; fi
log "$cn" "ACCEPT: tls-crypt-v2 key $kid"
exit 0
