#!/usr/bin/env bash
# The Order and Notify apps end to end (docs/functions.md): Lapis, a daprd per app, the two handler
# binaries and the Functions host stand-in, all on loopback, started by the pytest suite here.
# Builds nothing: it checks that the binaries are there and runs the suite.
#
#   conformance/functions/run.sh [pytest args]
#   LAPIS_BIN            default ${CARGO_TARGET_DIR:-target}/release/lapis
#   ORDER_HANDLER_BIN    default ${CARGO_TARGET_DIR:-target}/release/order-handler
#   NOTIFY_HANDLER_BIN   default ${CARGO_TARGET_DIR:-target}/release/notify-handler
#   DAPRD_BIN            default the daprd conformance/dapr/build-daprd.sh caches
#                        (${LAPIS_DAPRD_CACHE:-~/.cache/lapis/daprd}/${DAPR_VERSION:-v1.18.0}/daprd)
#   PYTHON               default .venv/bin/python (conformance/python/requirements.txt)
#
# Without daprd the suite is SKIPPED, with the reason; a missing handler or lapis binary fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
export LAPIS_BIN=${LAPIS_BIN:-$target/release/lapis}
export ORDER_HANDLER_BIN=${ORDER_HANDLER_BIN:-$target/release/order-handler}
export NOTIFY_HANDLER_BIN=${NOTIFY_HANDLER_BIN:-$target/release/notify-handler}
export DAPR_VERSION=${DAPR_VERSION:-v1.18.0}
export LAPIS_DAPRD_CACHE=${LAPIS_DAPRD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lapis/daprd}
export DAPRD_BIN=${DAPRD_BIN:-$LAPIS_DAPRD_CACHE/$DAPR_VERSION/daprd}
export PYTHONDONTWRITEBYTECODE=1
PYTHON=${PYTHON:-$root/.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3

if [ ! -x "$DAPRD_BIN" ]; then
  echo "SKIPPED: daprd not found at $DAPRD_BIN (build it with conformance/dapr/build-daprd.sh, or set DAPRD_BIN)"
  exit 0
fi
missing=0
for bin in "$LAPIS_BIN" "$ORDER_HANDLER_BIN" "$NOTIFY_HANDLER_BIN"; do
  if [ ! -x "$bin" ]; then echo "missing: $bin (cargo build --release)"; missing=1; fi
done
[ "$missing" = 0 ] || exit 1
echo "lapis: $LAPIS_BIN"
echo "handlers: $ORDER_HANDLER_BIN $NOTIFY_HANDLER_BIN"
echo "daprd: $DAPRD_BIN"
cd "$here"
exec "$PYTHON" -m pytest -q -p no:cacheprovider -rs "$@" .
