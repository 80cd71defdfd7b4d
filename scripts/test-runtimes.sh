#!/usr/bin/env bash
# Runs the unit, property and fuzz tests, and the end-to-end SPA and classic-knock tests, on the
# newer Node.js lines knockgate must keep running on (22 and 24), after scripts/test.sh has run them
# all on the machine's Node 20. The runtimes come from the npm registry (the `node` package, exact
# versions below) into .cache/runtimes/, once. Needs what scripts/test.sh needs (root, the build).
# Usage: scripts/test-runtimes.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Exact versions, so that a run is reproducible; raise them on purpose.
RUNTIMES=(22.23.3 24.21.0)
# Files whose behaviour depends most on the runtime: node:crypto (SPA), the native addons and the
# test runner itself (both suites start the daemon, so they load every native part).
E2E=(dist/test/integration/spa.test.js dist/test/integration/classic-knock.test.js)

mapfile -t quick < <(find dist/test/unit dist/test/fuzz -name '*.test.js' | sort)
for version in "${RUNTIMES[@]}"; do
  dir=.cache/runtimes/node-$version
  bin=$dir/node_modules/node/bin/node
  if [[ ! -x $bin ]] || [[ $("$bin" --version) != "v$version" ]]; then
    echo "test-runtimes: installing node@$version from the npm registry into $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node@$version" >/dev/null
  fi
  echo "test-runtimes: node $("$bin" --version): ${#quick[@]} unit/fuzz files, ${#E2E[@]} end-to-end files"
  "$bin" --test --test-concurrency=1 --test-reporter=spec "${quick[@]}" "${E2E[@]}"
done
