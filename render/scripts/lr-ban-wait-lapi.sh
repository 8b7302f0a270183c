#!/bin/sh
# lr-ban-wait-lapi.sh <health url> <ca cert> [seconds]: wait until the ban grid's LAPI answers {"status":"up"}.
# Without seconds it waits for ever (the bouncer must never start against a down LAPI: it would flush its set).
url=$1
ca=$2
left=${3:-}
while :; do
  if curl -fsS --max-time 3 --cacert "$ca" "$url" 2>/dev/null | grep -q '"status":"up"'; then exit 0; fi
  if [ -n "$left" ]; then
    left=$((left - 1))
    [ "$left" -le 0 ] && exit 1
  fi
  sleep 1
done
