#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine, only what is missing:
# the Debian programs the lab and the tests run for real, and the npm packages from the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

# program -> Debian package
declare -A NEED=(
  [openvpn]=openvpn [ip]=iproute2 [iptables]=iptables [qemu-system-x86_64]=qemu-system-x86
  [socat]=socat [shellcheck]=shellcheck [ping]=iputils-ping [iperf3]=iperf3 [ethtool]=ethtool
  [named-checkzone]=bind9-utils [node]=nodejs
)
missing=()
for prog in "${!NEED[@]}"; do
  command -v "$prog" >/dev/null 2>&1 || missing+=("${NEED[$prog]}")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]} - run as root (sudo) so they can be installed" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when node_modules is absent or older than the lockfile.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
