#!/bin/bash
# Apply tenant coop-sur on vpn1 (stack golden-sdn); rendered by librerouter-hosting, do not edit.
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

lr_write '/etc/librerouter/tenants/coop-sur.env' 0640 root:lr-console <<'LR_B64'
IyBjb29wLXN1ciBvbiB2cG4xIChzdGFjayBnb2xkZW4tc2RuKTsgcmVhZCBieSBsci1kYXRhcGxh
bmUsIHJlbmRlcmVkLCBkbyBub3QgZWRpdC4KTFJfS0VZPWNvb3Atc3VyCkxSX1NMT1Q9MgpMUl9M
SU5LPXZ4MgpMUl9WTEFOPTEwMgpMUl9MQU5fQUREUj0xMC4wLjIuMi8yNApMUl9MQU5fTkVUPTEw
LjAuMi4wLzI0CkxSX1JPVVRFUj0xMC4wLjIuMQpMUl9UQUJMRT0xMDAyCkxSX1RBQkxFX05BTUU9
bGIyCkxSX1RVTjE9MTAuMjU1LjAuMwpMUl9QUkVGMT0xMDM0CkxSX1RVTjI9MTAuMjU1LjY0LjMK
TFJfUFJFRjI9MTI1OTEKTFJfVk5DX1BPUlQ9NjAwMgpMUl9WTUlEPTEwMDIKTFJfVk5JPTEwMDAw
MgpMUl9DT05TT0xFX0hPU1Q9MTkyLjE2OC4xMDAuMjAK
LR_B64
'/etc/librerouter/lr-dataplane' apply coop-sur
rm -f '/etc/openvpn/server/pins/coop-sur'
cert_rotated=no
if [[ -f '/etc/openvpn/server/cert-pins/coop-sur' ]]; then cert_rotated=yes; fi
tc2_rotated=no
if [[ -f '/etc/openvpn/server/tc2-pins/coop-sur' ]]; then tc2_rotated=yes; fi
lr_write '/etc/openvpn/server/cert-pins/coop-sur' 0640 root:lr-openvpn <<'LR_B64'
ZjU6OTU6Mjk6Yzk6MzI6ZTY6MGY6MDI6YTQ6ZDM6Yzc6ODg6MmQ6MWI6NzI6NjE6MGI6Yzc6ZTk6
MGM6OWY6ZDA6MzU6NTY6ZDg6ZmY6Zjg6ZmY6ZWY6NDU6NDk6NDAK
LR_B64
lr_write '/etc/openvpn/server/tc2-pins/coop-sur' 0640 root:lr-openvpn <<'LR_B64'
MDEyMzQ1Njc4OWFiY2RlZgo=
LR_B64
if [[ $cert_rotated == yes && " ${CHANGED[*]} " == *' /etc/openvpn/server/cert-pins/coop-sur '* ]] || [[ $tc2_rotated == yes && " ${CHANGED[*]} " == *' /etc/openvpn/server/tc2-pins/coop-sur '* ]]; then
  '/etc/librerouter/lr-dataplane' kill coop-sur
fi
lr_write '/etc/openvpn/server/ccd-udp/coop-sur' 0640 root:lr-openvpn <<'LR_B64'
IyBjb29wLXN1ciBvbiB2cG4xLXVkcCAoc3RhY2sgZ29sZGVuLXNkbik7IHJlbmRlcmVkLCBkbyBu
b3QgZWRpdC4KaWZjb25maWctcHVzaCAxMC4yNTUuMC4zIDI1NS4yNTUuMTkyLjAKcHVzaCAiZGhj
cC1vcHRpb24gRE5TIDEwLjAuMi4xIgo=
LR_B64
lr_write '/etc/openvpn/server/ccd-tcp/coop-sur' 0640 root:lr-openvpn <<'LR_B64'
IyBjb29wLXN1ciBvbiB2cG4xLXRjcCAoc3RhY2sgZ29sZGVuLXNkbik7IHJlbmRlcmVkLCBkbyBu
b3QgZWRpdC4KaWZjb25maWctcHVzaCAxMC4yNTUuNjQuMyAyNTUuMjU1LjE5Mi4wCnB1c2ggImRo
Y3Atb3B0aW9uIEROUyAxMC4wLjIuMSIK
LR_B64
printf '%s on %s: applied, %s files changed\n' coop-sur vpn1 "${#CHANGED[@]}"
