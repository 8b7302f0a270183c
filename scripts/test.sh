#!/usr/bin/env bash
# The test command: set-up (idempotent), type check, eslint, unit + program tests, then the data-plane
# suite in network namespaces (needs root). Ends with one "N passed, N failed" line.
set -euo pipefail
# shellcheck source=scripts/as-root.sh
source "$(dirname "$0")/as-root.sh"
cd "$(dirname "$0")/.."
./scripts/setup.sh

out=.test-results
rm -rf "$out" && mkdir -p "$out"
status=0
npm run --silent typecheck || status=1
npm run --silent lint || status=1
npx jest --json --outputFile="$out/unit.json" || status=1
npx jest -c jest.e2e.config.js --runInBand --json --outputFile="$out/e2e.json" || status=1
node scripts/summary.js "$out"/*.json || status=1
exit "$status"
