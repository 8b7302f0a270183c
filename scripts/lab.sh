#!/usr/bin/env bash
# The main job on its embedded default: set-up (idempotent), then the local lab — the real data plane
# (both VPN servers, tenants' routers, end-user clients, VNC consoles) in network namespaces.
set -euo pipefail
# shellcheck source=scripts/as-root.sh
source "$(dirname "$0")/as-root.sh"
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec npm run --silent lab -- "$@"
