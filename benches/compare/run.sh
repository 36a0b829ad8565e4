#!/usr/bin/env bash
# One command: Lapis (release, on disk) against Azurite (on disk), same workloads, ratios printed
# and written to docs/performance.md. Usage: benches/compare/run.sh [--seconds N] [--only Lapis]
# [--workloads blob,table,queue,tls]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
AZURITE="$ROOT/conformance/azurite/node_modules/.bin/azurite"
PYTHON="$ROOT/.venv/bin/python"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is missing" >&2; exit 1; }
[ -x "$AZURITE" ] || { echo "Azurite is missing: (cd conformance/azurite && npm install)" >&2; exit 1; }
[ -x "$PYTHON" ] || { echo "$PYTHON is missing (needs azure-storage-blob, azure-data-tables, azure-storage-queue, requests)" >&2; exit 1; }

(cd "$ROOT" && cargo build --release -p lapis-server --bin lapis && cargo build --release -p lapis-benches --bin floor)
exec "$PYTHON" "$ROOT/benches/compare/compare.py" \
  --lapis "$ROOT/target/release/lapis" --azurite "$AZURITE" --floor "$ROOT/target/release/floor" --doc "$ROOT/docs/performance.md" "$@"
