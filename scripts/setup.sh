#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine, only what is missing:
# the Debian programs the lab and the tests run for real, and the npm packages from the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

# scripts/debian-packages.txt: one "<Debian package> <program or absolute path of a file it provides>" per line
# (a path for packages that ship no program, like novnc), the one list CI reads too.
# Node.js is a prerequisite (CI brings its own); Debian's is installed only when there is none.
missing=()
while read -r pkg prog; do
  if [[ $prog == /* ]]; then
    [[ -e ${LR_FS_ROOT:-}$prog ]] || missing+=("$pkg") # LR_FS_ROOT: the tests' sandbox
  else
    command -v "$prog" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done <scripts/debian-packages.txt
command -v node >/dev/null 2>&1 || missing+=(nodejs)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]} - run as root (sudo) so they can be installed" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # crowdsec's postinst registers with crowdsec.net unless this file is non-empty, and fails offline without it.
  capi=${LR_CROWDSEC_CAPI_FILE:-/etc/crowdsec/online_api_credentials.yaml}
  if [[ ! -s $capi ]]; then
    mkdir -p "${capi%/*}"
    echo '# no Central API: offline ban grid' >"$capi"
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when node_modules is absent or older than the lockfile.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
