#!/usr/bin/env bash
# Runs the tests that exercise knockgate's C parts (native/) against a build with AddressSanitizer
# and UBSan, and fails if a sanitizer reports anything, in any process of the run (the test
# runner, the daemons it starts, the nftables worker).
#
# The sanitized tree is dist-sanitized/: a copy of dist/ (run `npm run build` first) whose libexec
# is built by `KNOCKGATE_SANITIZE=1 scripts/build-native.sh`. dist/ itself is never touched, so
# the normal build cannot be left sanitized. Node is not built with ASan, so the runtime is
# preloaded (gcc's libasan, LD_PRELOAD); leak detection is off because Node itself leaks at exit.
# ASan reports go to files (log_path) rather than to a stderr some test may swallow, and are
# printed here. UBSan ignores log_path when ASan is loaded: its reports go to stderr, so the run's
# output is searched for them too, and halt_on_error makes the process that hit one exit (a
# daemon's test then fails as well). Needs root (the integration tests make network namespaces), like scripts/test.sh.
# Usage: scripts/test-sanitized.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "test-sanitized: must run as root (the integration tests use network namespaces); nothing ran" >&2
  exit 1
fi
if [[ ! -f dist/src/sensors/udp.js ]]; then
  echo "test-sanitized: dist/ is not built; run npm run build first" >&2
  exit 1
fi
libasan=$("${CC:-gcc}" -print-file-name=libasan.so)
if [[ ! -f $libasan ]]; then
  echo "test-sanitized: the compiler has no libasan.so (install libasan for ${CC:-gcc})" >&2
  exit 1
fi

# The tests that load a native part: the sensor units (layouts, handle checks, the flock lock),
# the receive bindings closing mid-batch, the SPA socket's destination addresses, the nftables
# element path (in the daemon and in the worker) and its transport, and one daemon end to end over a pcap capture.
TESTS=(
  test/unit/record-layout.test.js
  test/unit/poll-handle.test.js
  test/unit/limits.test.js
  test/unit/table-lock.test.js
  test/integration/batch-close.test.js
  test/integration/udp-destination.test.js
  test/integration/gate-batches.test.js
  test/integration/nft-transport.test.js
  test/integration/classic-knock.test.js
)

echo "test-sanitized: copying dist/ to dist-sanitized/ and building the native parts with -fsanitize=address,undefined"
rm -rf dist-sanitized
mkdir -p dist-sanitized
for entry in dist/*; do
  [[ $(basename "$entry") == libexec ]] || cp -a "$entry" dist-sanitized/
done
KNOCKGATE_SANITIZE=1 scripts/build-native.sh
for part in pcap-capture.node udp-batch.node flock.node nft-elements.node knockgate-nft; do
  if ! nm -D "dist-sanitized/libexec/$part" | grep -q __asan_init; then
    echo "test-sanitized: dist-sanitized/libexec/$part is not built with ASan" >&2
    exit 1
  fi
done

reports=$(mktemp -d /tmp/knockgate-sanitizer.XXXXXX)
trap 'rm -rf "$reports"' EXIT
paths=()
for t in "${TESTS[@]}"; do paths+=("dist-sanitized/$t"); done
echo "test-sanitized: ${#TESTS[@]} test files under ASan and UBSan (runtime $libasan)"
output=$reports/output
rc=0
LD_PRELOAD=$libasan \
  ASAN_OPTIONS="detect_leaks=0:log_path=$reports/asan" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  node --test --test-concurrency=1 --test-reporter=spec "${paths[@]}" 2>&1 | tee "$output" || rc=${PIPESTATUS[0]}

if grep -Eq ': runtime error: |ERROR: [A-Za-z]+Sanitizer|SUMMARY: [A-Za-z]+Sanitizer' "$output"; then
  echo "test-sanitized: FAILED: a sanitizer report in the output above:" >&2
  grep -E ': runtime error: |ERROR: [A-Za-z]+Sanitizer|SUMMARY: [A-Za-z]+Sanitizer' "$output" >&2
  exit 1
fi
shopt -s nullglob
found=("$reports"/asan*)
if ((${#found[@]} > 0)); then
  for f in "${found[@]}"; do
    echo "test-sanitized: report $(basename "$f"):" >&2
    cat "$f" >&2
  done
  echo "test-sanitized: FAILED: ${#found[@]} sanitizer report(s)" >&2
  exit 1
fi
if ((rc != 0)); then
  echo "test-sanitized: FAILED: the tests failed (exit $rc), with no sanitizer report" >&2
  exit "$rc"
fi
echo "test-sanitized: passed, no sanitizer report"
