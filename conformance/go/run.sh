#!/usr/bin/env bash
# Runs the Go SDK conformance suite against $LAPIS_BLOB_ENDPOINT
# (e.g. http://127.0.0.1:10000/devstoreaccount1). Set LAPIS_TARGET=azurite when the target is
# Azurite, to skip the assertions where Azurite is known to differ from Azure.
set -euo pipefail

if [[ -z "${LAPIS_BLOB_ENDPOINT:-}" ]]; then
  echo "run.sh: LAPIS_BLOB_ENDPOINT is not set (e.g. http://127.0.0.1:10000/devstoreaccount1)" >&2
  exit 2
fi

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# Module cache inside the repo's .cache so CI can cache it between runs.
export GOMODCACHE="${GOMODCACHE:-$repo/.cache/gomod}"
export GOFLAGS="${GOFLAGS:--modcacherw}"

cd "$here"
go mod download
# -count=1: results depend on the server, never reuse a cached pass.
exec go test -count=1 ./...
