#!/usr/bin/env bash
# The demo: sets up, then runs knockgated between two network namespaces and narrates what a user
# sees: 22/tcp filtered, the knock, 22/tcp open for the client alone, the grant running out.
# Needs root. Leaves nothing behind, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "demo: must run as root (it creates network namespaces and nftables rules)" >&2
  exit 1
fi
scripts/setup.sh >&2
exec node dist/demo/demo.js "$@"
