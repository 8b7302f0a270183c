#!/bin/bash
# Apply tenant acme on vpn1 (stack golden); rendered by librerouter-hosting, do not edit.
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

lr_write '/etc/librerouter/tenants/acme.env' 0640 root:lr-console <<'LR_B64'
IyBhY21lIG9uIHZwbjEgKHN0YWNrIGdvbGRlbik7IHJlYWQgYnkgbHItZGF0YXBsYW5lLCByZW5k
ZXJlZCwgZG8gbm90IGVkaXQuCkxSX0tFWT1hY21lCkxSX1NMT1Q9MQpMUl9MSU5LPXZsMTAxCkxS
X1ZMQU49MTAxCkxSX0xBTl9BRERSPTEwLjAuMS4yLzI0CkxSX0xBTl9ORVQ9MTAuMC4xLjAvMjQK
TFJfUk9VVEVSPTEwLjAuMS4xCkxSX1RBQkxFPTEwMDEKTFJfVEFCTEVfTkFNRT1sYjEKTFJfVFVO
MT0xMC4yNTUuMC4yCkxSX1BSRUYxPTEwMzMKTFJfVFVOMj0xMC4yNTUuNjQuMgpMUl9QUkVGMj0x
MjU5MApMUl9WTkNfUE9SVD02MDAxCkxSX1ZNSUQ9MTAwMQo=
LR_B64
'/etc/librerouter/lr-dataplane' apply acme
lr_write '/etc/openvpn/server/pins/acme' 0640 root:lr-openvpn <<'LR_B64'
M2YwYzZiMWU5YTdkNGMyYjhlNWYxYTBkNmMzYjllN2YyYTRkOGMxYjVlOWYzYTdkMGM2YjJlOGY0
YTFkNWM5Ygo=
LR_B64
cert_rotated=no
if [[ -f '/etc/openvpn/server/cert-pins/acme' ]]; then cert_rotated=yes; fi
tc2_rotated=no
if [[ -f '/etc/openvpn/server/tc2-pins/acme' ]]; then tc2_rotated=yes; fi
lr_write '/etc/openvpn/server/cert-pins/acme' 0640 root:lr-openvpn <<'LR_B64'
ZjU6OTU6Mjk6Yzk6MzI6ZTY6MGY6MDI6YTQ6ZDM6Yzc6ODg6MmQ6MWI6NzI6NjE6MGI6Yzc6ZTk6
MGM6OWY6ZDA6MzU6NTY6ZDg6ZmY6Zjg6ZmY6ZWY6NDU6NDk6NDAK
LR_B64
lr_write '/etc/openvpn/server/tc2-pins/acme' 0640 root:lr-openvpn <<'LR_B64'
MDEyMzQ1Njc4OWFiY2RlZgo=
LR_B64
if [[ $cert_rotated == yes && " ${CHANGED[*]} " == *' /etc/openvpn/server/cert-pins/acme '* ]] || [[ $tc2_rotated == yes && " ${CHANGED[*]} " == *' /etc/openvpn/server/tc2-pins/acme '* ]]; then
  '/etc/librerouter/lr-dataplane' kill acme
fi
lr_write '/etc/openvpn/server/ccd-udp/acme' 0640 root:lr-openvpn <<'LR_B64'
IyBhY21lIG9uIHZwbjEtdWRwIChzdGFjayBnb2xkZW4pOyByZW5kZXJlZCwgZG8gbm90IGVkaXQu
CmlmY29uZmlnLXB1c2ggMTAuMjU1LjAuMiAyNTUuMjU1LjE5Mi4wCnB1c2ggImRoY3Atb3B0aW9u
IEROUyAxMC4wLjEuMSIK
LR_B64
lr_write '/etc/openvpn/server/ccd-tcp/acme' 0640 root:lr-openvpn <<'LR_B64'
IyBhY21lIG9uIHZwbjEtdGNwIChzdGFjayBnb2xkZW4pOyByZW5kZXJlZCwgZG8gbm90IGVkaXQu
CmlmY29uZmlnLXB1c2ggMTAuMjU1LjY0LjIgMjU1LjI1NS4xOTIuMApwdXNoICJkaGNwLW9wdGlv
biBETlMgMTAuMC4xLjEiCg==
LR_B64
printf '%s on %s: applied, %s files changed\n' acme vpn1 "${#CHANGED[@]}"
