#!/usr/bin/env bash
# Installs what knockgate needs on Debian 12 (run as root): the system packages that are missing,
# the npm packages from package-lock.json, then builds. Safe to run again: it only does what is
# missing or stale. Usage: scripts/setup.sh [--with-test-peers]
set -euo pipefail
cd "$(dirname "$0")/.."

# gcc and libc6-dev build the two native parts (scripts/build-native.sh) against libnftables and libpcap.
need=(nftables libnftables-dev libpcap-dev iproute2 gcc libc6-dev)
# Test peers: knockd ships knock(1), the reference client; openssh for the real ssh-through-knock
# test; conntrack to check what the kernel tracks; iptables for the commands of Debian's
# knockd.conf; fwknop-client and fwknop-server, the real fwknop peers; systemd for systemd-analyze,
# which checks the shipped unit (contrib/systemd); iptables and ipset for the tests of
# `firewall: iptables`; gpg and gpg-agent for the test of fwknop's GnuPG mode (a GPG_* stanza runs the system's gpg per packet; without it those packets are refused as fwknop-gpg-failed, naming the path). Not in the runtime list: only that gate needs them, and it checks for
# them at start (exit 69 naming the package), so a host on nftables installs nothing more.
if [[ "${1:-}" == "--with-test-peers" ]]; then need+=(knockd openssh-client openssh-server conntrack iptables ipset fwknop-client fwknop-server systemd gpg gpg-agent); fi

missing=()
for pkg in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}; run as root (or: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages such as knockd and openssh-server would start their daemons on install; the tests
  # run their own copies in namespaces, so keep the packaged ones from starting (policy-rc.d 101).
  temp_policy=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    temp_policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$temp_policy"
    chmod 755 "$temp_policy"
    trap 'rm -f "$temp_policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ -n "$temp_policy" ]]; then rm -f "$temp_policy"; fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "setup: Node.js >= 20.19 is required, found $(node --version)" >&2
  exit 1
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "setup: build"
npm run --silent build
