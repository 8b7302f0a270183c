CHANGED=()
lr_write() {
  local tmp
  mkdir -p "${1%/*}"
  tmp=$(mktemp "$1.lrtmp.XXXXXX")
  base64 -d >"$tmp"
  chown "$3" "$tmp"
  chmod "$2" "$tmp"
  if cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
    chown "$3" "$1"
    chmod "$2" "$1"
  else
    mv -f "$tmp" "$1"
    CHANGED+=("$1")
  fi
}
