
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

if [ "${1:-}" = "--print-id" ]; then
  hardware_id
  exit $?
fi

bundle=
case "${1:-}" in *.ovpn) bundle=$1; shift ;; *) ;; esac
if [ -z "$bundle" ]; then
  here=$(dirname "$0")
  bundle="$here/$BUNDLE_NAME"
fi
if [ ! -r "$bundle" ]; then
  echo "lr-connect: cannot read $bundle (pass the .ovpn file as the first argument)" >&2
  exit 2
fi
if ! command -v openvpn >/dev/null 2>&1; then
  echo "lr-connect: openvpn is not installed" >&2
  exit 2
fi
if ! id=$(hardware_id) || [ -z "$id" ]; then exit 2; fi
exec openvpn --config "$bundle" --setenv UV_HWID "$id" "$@"
