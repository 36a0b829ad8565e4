#!/usr/bin/env bash
# Runs the JS SDK conformance suite against $LAPIS_BLOB_ENDPOINT
# (e.g. http://127.0.0.1:10000/devstoreaccount1). Set LAPIS_TARGET=azurite when the target is
# Azurite, to skip the assertions where Azurite is known to differ from Azure.
set -euo pipefail

if [[ -z "${LAPIS_BLOB_ENDPOINT:-}" ]]; then
  echo "run.sh: LAPIS_BLOB_ENDPOINT is not set (e.g. http://127.0.0.1:10000/devstoreaccount1)" >&2
  exit 2
fi

cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
# The test files are listed explicitly so a missing file is an error, not an empty run.
exec node --test ./*.test.mjs
