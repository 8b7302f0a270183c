#!/bin/bash
# Delete tenant acme on vpn1 (stack golden); rendered by librerouter-hosting, do not edit.
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

rm -f '/etc/openvpn/server/ccd-udp/acme' '/etc/openvpn/server/ccd-tcp/acme' '/etc/openvpn/server/pins/acme' '/etc/openvpn/server/cert-pins/acme' '/etc/openvpn/server/tc2-pins/acme' '/var/lib/librerouter/enrolled/acme'
lr_write '/etc/librerouter/tenants/acme.env' 0640 root:lr-console <<'LR_B64'
IyBhY21lIG9uIHZwbjEgKHN0YWNrIGdvbGRlbik7IHJlYWQgYnkgbHItZGF0YXBsYW5lLCByZW5k
ZXJlZCwgZG8gbm90IGVkaXQuCkxSX0tFWT1hY21lCkxSX1NMT1Q9MQpMUl9MSU5LPXZsMTAxCkxS
X1ZMQU49MTAxCkxSX0xBTl9BRERSPTEwLjAuMS4yLzI0CkxSX0xBTl9ORVQ9MTAuMC4xLjAvMjQK
TFJfUk9VVEVSPTEwLjAuMS4xCkxSX1RBQkxFPTEwMDEKTFJfVEFCTEVfTkFNRT1sYjEKTFJfVFVO
MT0xMC4yNTUuMC4yCkxSX1BSRUYxPTEwMzMKTFJfVFVOMj0xMC4yNTUuNjQuMgpMUl9QUkVGMj0x
MjU5MApMUl9WTkNfUE9SVD02MDAxCkxSX1ZNSUQ9MTAwMQo=
LR_B64
'/etc/librerouter/lr-dataplane' delete acme
printf '%s on %s: deleted\n' acme vpn1
