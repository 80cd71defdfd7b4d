#!/usr/bin/env bash
# Builds knockgate's native parts into dist/libexec (called by `npm run build`):
#   knockgate-nft        the libnftables worker (native/knockgate-nft.c, and nft-elements.c for the
#                        grant path; needs libnftables-dev)
#   pcap-capture.node    the libpcap binding (native/pcap-capture.c; needs libpcap-dev and
#                        Node's own headers, which ship with Node in include/node)
#   udp-batch.node       the SPA socket, read with recvmmsg (native/udp-batch.c; Node's headers)
#   nft-elements.node    the grant path's set-element transactions inside the daemon
#                        (native/nft-elements-addon.c with nft-elements.c; Node's headers)
#   flock.node           flock(2) for the one-daemon-per-table lock (native/flock.c; Node's headers)
# Plain cc, no node-gyp: one C file each, no downloads.
#
# In a git checkout warnings are errors (-Werror): the tree must build clean. Anywhere else (the
# packed tarball, at install or run by hand) they stay warnings, so that a user's newer compiler
# with new warnings cannot break the install.
#
# KNOCKGATE_SANITIZE=1: builds the same parts with AddressSanitizer and UBSan
# (-fsanitize=address,undefined) into dist-sanitized/libexec instead, never into dist/, so the
# normal build cannot end up sanitized; scripts/test-sanitized.sh builds and runs that tree.
#
# --at-install: how `npm install` of the packed tarball runs it (package.json "install"). In a git
# checkout it does nothing (`npm run build` builds there). Elsewhere a failure (no compiler, no
# -dev packages) is a warning, not an error: the client, knockgate, needs no native part, and
# knockgated names what is missing when it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--at-install" ]]; then
  [[ -e .git ]] && exit 0
  if ! "$0" 2>build-native.log; then
    echo "knockgate: the daemon's native parts were not built (see $(pwd)/build-native.log):" >&2
    tail -n 3 build-native.log >&2
    echo "knockgate: the client (knockgate) works; for the daemon install gcc libc6-dev libpcap-dev libnftables-dev, then run $(pwd)/scripts/build-native.sh" >&2
  fi
  exit 0
fi
out=dist/libexec
cc=${CC:-cc}
cflags=(-O2 -g -Wall -Wextra -fstack-protector-strong -D_FORTIFY_SOURCE=2)
if [[ "${KNOCKGATE_SANITIZE:-}" == 1 ]]; then
  out=dist-sanitized/libexec
  # No _FORTIFY_SOURCE: its checked copies would stand in for the calls the sanitizer watches.
  cflags=(-O1 -g -Wall -Wextra -fsanitize=address,undefined -fno-omit-frame-pointer)
fi
if [[ -e .git ]]; then cflags+=(-Werror); fi
mkdir -p "$out"
node_include=$(node -p 'require("path").resolve(process.execPath, "..", "..", "include", "node")')
if [[ ! -f "$node_include/node_api.h" ]]; then
  echo "build-native: Node's headers are not in $node_include (node_api.h); install Node with its headers (the official tarball has them)" >&2
  exit 1
fi
"$cc" "${cflags[@]}" -o "$out"/knockgate-nft native/knockgate-nft.c native/nft-elements.c -lnftables
"$cc" "${cflags[@]}" -fPIC -shared -I"$node_include" -o "$out"/pcap-capture.node native/pcap-capture.c -lpcap
"$cc" "${cflags[@]}" -fPIC -shared -I"$node_include" -o "$out"/udp-batch.node native/udp-batch.c
"$cc" "${cflags[@]}" -fPIC -shared -I"$node_include" -o "$out"/flock.node native/flock.c
"$cc" "${cflags[@]}" -fPIC -shared -I"$node_include" -o "$out"/nft-elements.node native/nft-elements-addon.c native/nft-elements.c
