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
