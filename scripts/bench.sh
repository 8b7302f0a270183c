#!/usr/bin/env bash
# `npm run bench`: the program under Pulumi's mocks and the pure core (no root needed), then the ban grid's figures
# on the real engine (bans per second, time to enforce, memory: lab/bench-bans.ts), which needs network namespaces:
# as root it runs directly, as a user through sudo. npm run bench:bans runs that part alone.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsx bench/program.ts
npx tsx bench/pure.ts
bans=(flock /tmp/lab.lock npx tsx lab/bench-bans.ts)
if [[ $(id -u) -eq 0 ]]; then
  "${bans[@]}"
elif command -v sudo >/dev/null 2>&1; then
  sudo env "PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin" "${bans[@]}"
else
  echo "bench: the ban grid's figures need root (network namespaces): run npm run bench as root, or install sudo" >&2
  exit 1
fi
