#!/usr/bin/env bash
# Dapr on Lapis: Dapr's own state conformance suite (state.azure.blobstorage v1 and v2,
# state.azure.tablestorage), its bindings conformance suite (bindings.azure.storagequeues, on the
# Queue service), and real daprd end-to-end tests (state API; queue binding as output and input
# binding of an app), against a lapis the tests start themselves on free loopback ports.
#
#   conformance/dapr/run.sh                    lapis (LAPIS_BIN, default target/release/lapis)
#   DAPR_TARGET=azurite conformance/dapr/run.sh   the same suites against Azurite (reference)
#   LAPIS_BUILD_DAPRD=1 ...                    build daprd when it is not cached yet (long: see docs/dapr.md)
#   DAPRD_BIN=/path/to/daprd ...               use that daprd
#
# The daprd e2e tests run when daprd is cached in ~/.cache/lapis/daprd/<version>/ (or DAPRD_BIN is set);
# otherwise they are SKIPPED, and this script says so.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export GOMODCACHE=${GOMODCACHE:-$root/.cache/gomod}
export GOFLAGS=${GOFLAGS:--modcacherw}
export GOCACHE=${GOCACHE:-$root/.cache/gobuild}
export LAPIS_BIN=${LAPIS_BIN:-$root/target/release/lapis}
export DAPR_VERSION=${DAPR_VERSION:-v1.18.0}
# The binary is cached per machine, outside any checkout, so that every clone (and CI, which runs in
# a fresh clone) reuses one build.
export LAPIS_DAPRD_CACHE=${LAPIS_DAPRD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lapis/daprd}
cached=$LAPIS_DAPRD_CACHE/$DAPR_VERSION/daprd

if [ -n "${DAPRD_BIN:-}" ]; then
  echo "daprd: $DAPRD_BIN (DAPRD_BIN)"
elif [ -x "$cached" ]; then
  echo "daprd: cached $cached"
elif [ "${LAPIS_BUILD_DAPRD:-}" = 1 ]; then
  echo "daprd: not cached, building $DAPR_VERSION (LAPIS_BUILD_DAPRD=1)"
  "$here/build-daprd.sh"
else
  echo "daprd: not cached at $cached and LAPIS_BUILD_DAPRD is not 1:"
  echo "       the daprd end-to-end tests will be SKIPPED (build it with conformance/dapr/build-daprd.sh)"
fi

cd "$here"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# -count=1: the result depends on the server, never reuse a cached pass.
status=0
go test -count=1 -v -timeout 15m . >"$log" 2>&1 || status=$?
# One line per test, the reason of a skip, every failing subtest, and a count of passing subtests.
grep -E -B1 '^--- (PASS|FAIL|SKIP)' "$log" | grep -E '^--- |^    [a-z0-9_]+\.go:[0-9]+: .*(not found|skip)' || true
grep -E '^ +--- FAIL' "$log" || true
echo "subtests passed: $(grep -c -E '^ +--- PASS' "$log" || true)"
if [ "$status" -ne 0 ]; then
  echo "--- failure output:"
  grep -v -E '^ *(=== RUN|=== PAUSE|=== CONT)' "$log" | tail -200
fi
tail -1 "$log"
exit "$status"
