#!/bin/bash
# Delete tenant coop-sur on vpn1 (stack golden-sdn); rendered by librerouter-hosting, do not edit.
set -euo pipefail
umask 077
export LC_ALL=C

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

rm -f '/etc/openvpn/server/ccd-udp/coop-sur' '/etc/openvpn/server/ccd-tcp/coop-sur' '/etc/openvpn/server/pins/coop-sur' '/etc/openvpn/server/cert-pins/coop-sur' '/etc/openvpn/server/tc2-pins/coop-sur' '/var/lib/librerouter/enrolled/coop-sur'
lr_write '/etc/librerouter/tenants/coop-sur.env' 0640 root:lr-console <<'LR_B64'
IyBjb29wLXN1ciBvbiB2cG4xIChzdGFjayBnb2xkZW4tc2RuKTsgcmVhZCBieSBsci1kYXRhcGxh
bmUsIHJlbmRlcmVkLCBkbyBub3QgZWRpdC4KTFJfS0VZPWNvb3Atc3VyCkxSX1NMT1Q9MgpMUl9M
SU5LPXZ4MgpMUl9WTEFOPTEwMgpMUl9MQU5fQUREUj0xMC4wLjIuMi8yNApMUl9MQU5fTkVUPTEw
LjAuMi4wLzI0CkxSX1JPVVRFUj0xMC4wLjIuMQpMUl9UQUJMRT0xMDAyCkxSX1RBQkxFX05BTUU9
bGIyCkxSX1RVTjE9MTAuMjU1LjAuMwpMUl9QUkVGMT0xMDM0CkxSX1RVTjI9MTAuMjU1LjY0LjMK
TFJfUFJFRjI9MTI1OTEKTFJfVk5DX1BPUlQ9NjAwMgpMUl9WTUlEPTEwMDIKTFJfVk5JPTEwMDAw
MgpMUl9DT05TT0xFX0hPU1Q9MTkyLjE2OC4xMDAuMjAK
LR_B64
'/etc/librerouter/lr-dataplane' delete coop-sur
printf '%s on %s: deleted\n' coop-sur vpn1
