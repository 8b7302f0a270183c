#!/bin/sh
# lr-ban-report <IPv4> [reason]: a tenant's router (or a machine behind it) reports an attacker to the service's ban
# grid. POSIX sh for OpenWrt/LibreRouter (ash) and Debian. Settings in /etc/lr-ban-report.conf (0600, from the
# tenant's secrets): LR_BAN_URL=http://<services public IP>:8081/v1/report and LR_BAN_TOKEN=<token>.
# Exit 0 banned, 2 refused (bad address, protected, unauthorized), 3 hourly quota used, 4 the service is unreachable.
set -u
conf=${LR_BAN_CONF:-/etc/lr-ban-report.conf}
[ $# -ge 1 ] || { echo "usage: lr-ban-report <IPv4> [reason]" >&2; exit 2; }
[ -r "$conf" ] || { echo "lr-ban-report: cannot read $conf" >&2; exit 2; }
LR_BAN_URL='' LR_BAN_TOKEN=''
# shellcheck disable=SC1090
. "$conf"
if [ -z "$LR_BAN_URL" ] || [ -z "$LR_BAN_TOKEN" ]; then echo "lr-ban-report: $conf sets no LR_BAN_URL or LR_BAN_TOKEN" >&2; exit 2; fi
ip=$1
reason=$(printf '%s' "${2:-report}" | tr -cd 'A-Za-z0-9._-' | cut -c1-40)
case $ip in *[!0-9.]* | '') echo "lr-ban-report: $ip is not an IPv4 address" >&2; exit 2 ;; esac
body="ip=$ip&reason=${reason:-report}"
if command -v curl >/dev/null 2>&1; then
  # The token goes in on stdin (-H @-), never on a command line other users of the machine could read.
  code=$(printf 'Authorization: Bearer %s\n' "$LR_BAN_TOKEN" | curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H @- --data "$body" "$LR_BAN_URL") || code=000
else
  # OpenWrt's uclient-fetch / busybox wget: no header file, so the token is on its command line while it runs.
  if out=$(wget -q -O - -T 10 --header "Authorization: Bearer $LR_BAN_TOKEN" --post-data "$body" "$LR_BAN_URL" 2>&1); then
    code=200
  else
    case $out in *401*) code=401 ;; *403*) code=403 ;; *400*) code=400 ;; *429*) code=429 ;; *) code=000 ;; esac
  fi
fi
case $code in
  200) echo "lr-ban-report: $ip banned"; exit 0 ;;
  400 | 401 | 403) echo "lr-ban-report: $ip refused (HTTP $code)" >&2; exit 2 ;;
  429) echo "lr-ban-report: hourly quota used" >&2; exit 3 ;;
  *) echo "lr-ban-report: the service did not answer (HTTP $code)" >&2; exit 4 ;;
esac
