#!/usr/bin/env bash
# Builds daprd (github.com/dapr/dapr/cmd/daprd) from the Go module proxy into
# ~/.cache/lapis/daprd/<version>/daprd, only when that binary is missing. Prints the binary's path.
#
#   DAPR_VERSION=v1.18.0 (default)   DAPRD_TAGS=allcomponents (default, as Dapr's release build)
#
# dapr's go.mod has replace directives, which `go install pkg@version` refuses, so the build runs in a
# throwaway wrapper module that requires dapr and repeats those replaces. Nothing from dapr lands in the repo.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export GOMODCACHE=${GOMODCACHE:-$ROOT/.cache/gomod}
export GOFLAGS=${GOFLAGS:--modcacherw}
export GOCACHE=${GOCACHE:-$ROOT/.cache/gobuild}
VERSION=${DAPR_VERSION:-v1.18.0}
TAGS=${DAPRD_TAGS:-allcomponents}
# Cached per machine, outside any checkout (see run.sh).
OUT_DIR=${LAPIS_DAPRD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lapis/daprd}/$VERSION
BIN=$OUT_DIR/daprd

if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi

WRAP=$OUT_DIR/wrapper
rm -rf "$WRAP"
mkdir -p "$WRAP"
cat >"$WRAP/go.mod" <<MOD
module lapis.local/daprd-build

go 1.26.0

require github.com/dapr/dapr $VERSION

// The replaces of dapr's own go.mod (they do not apply to a dependency, so they are repeated here).
replace (
	dubbo.apache.org/dubbo-go/v3 => dubbo.apache.org/dubbo-go/v3 v3.0.3-0.20230118042253-4f159a2b38f3
	gopkg.in/couchbaselabs/gocbconnstr.v1 => github.com/couchbaselabs/gocbconnstr v1.0.5
	github.com/chenzhuoyu/iasm => github.com/chenzhuoyu/iasm v0.9.0
	github.com/chzyer/logex => github.com/chzyer/logex v1.2.1
	github.com/gobwas/pool => github.com/gobwas/pool v0.2.1
	github.com/toolkits/concurrent => github.com/niean/gotools v0.0.0-20151221085310-ff3f51fc5c60
)
MOD

START=$(date +%s)
echo "building daprd $VERSION (tags: $TAGS) into $BIN ..." >&2
PLAIN=${VERSION#v}
(
  cd "$WRAP"
  CGO_ENABLED=0 go build -mod=mod -trimpath -tags="$TAGS" \
    -ldflags="-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$PLAIN -X github.com/dapr/kit/logger.DaprVersion=$PLAIN" \
    -o "$BIN.tmp" github.com/dapr/dapr/cmd/daprd
)
mv "$BIN.tmp" "$BIN"
rm -rf "$WRAP"
echo "daprd $VERSION built in $(( $(date +%s) - START ))s, $(du -h "$BIN" | cut -f1)" >&2
echo "$BIN"
