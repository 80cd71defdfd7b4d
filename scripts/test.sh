#!/usr/bin/env bash
# The one command that sets up and runs every test: unit and property tests of the core, and
# integration tests against the real kernel (network namespaces, nftables, libpcap, knock(1)).
# Needs root: the integration tests create namespaces and firewall rules, and none of them skips.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "test: must run as root (network namespaces and nftables); nothing was skipped, nothing ran" >&2
  exit 1
fi
scripts/setup.sh --with-test-peers
# Formatting and lint in check mode (Biome; biome.json): the tree must be clean before any test runs.
npm run --silent lint

mapfile -t files < <(find dist/test/unit dist/test/fuzz dist/test/integration -name '*.test.js' | sort)
echo "test: ${#files[@]} test files"
# One file at a time: integration tests build namespaces and start daemons; the unit files are quick.
node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
# Then the tests of the C parts (native/) again under AddressSanitizer and UBSan, from their own
# tree (dist-sanitized/; dist/ stays as built); any sanitizer report fails the run. About 70 s.
scripts/test-sanitized.sh
# Then the newer Node.js lines (22, 24): the unit, property and fuzz tests and two end-to-end files.
scripts/test-runtimes.sh
