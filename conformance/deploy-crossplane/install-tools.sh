#!/usr/bin/env bash
# Builds the Go programs the Crossplane test runs, from the Go module proxy at pinned versions, into
# ~/.cache/lapis/tools/<name>-<version>/ (shared by every clone on the machine, outside the work
# tree): slow once (about 5 minutes on 2 cores), free afterwards.
#   - crank, the crossplane CLI, for `crossplane render`. v2.2.1: the newest v2.2.x the proxy serves
#     (v2.2.2-v2.2.4 answer 403 here); from v2.3 on, render shells out to a core binary instead.
#   - function-patch-and-transform v0.10.7 (the version deploy/crossplane pins; v0.10.8 answers
#     403), run by render as a local process (the Development runtime).
#   - gojq v0.12.17, the jq implementation provider-http v1.0.14 links (its go.mod), so the test
#     evaluates the Request's jq expressions with the same parser and semantics.
#   - kubeconform v0.8.0, for the strict schema check of deploy/crossplane/.
# crank's go.mod replaces its apis module with ./apis, which `go install pkg@version` refuses, and
# the proxy refuses the version list `go install` reads for patch-and-transform; so those two are
# built inside a copy of their module, with its own go.mod and go.sum.
set -euo pipefail
CRANK_VERSION=v2.2.1
PAT_VERSION=v0.10.7
GOJQ_VERSION=v0.12.17
KUBECONFORM_VERSION=v0.8.0
tools=${LAPIS_TOOLS:-$HOME/.cache/lapis/tools}
PYTHON=${PYTHON:-python3}
export GOFLAGS=${GOFLAGS:--modcacherw}

# name, version, module, package (relative to the module): build unless already there.
build_in_module() {
  local bin=$tools/$1-$2/$1 src build
  [ -x "$bin" ] && return
  src=$(go mod download -json "$3@$2" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  build=$(mktemp -d)
  cp -r "$src/." "$build/"
  chmod -R u+w "$build"
  mkdir -p "$(dirname "$bin")"
  (cd "$build" && nice -n 15 go build -trimpath -o "$bin.part" "$4") && mv "$bin.part" "$bin"
  rm -rf "$build"
}
# name, version, package: go install unless already there.
install() {
  local bin=$tools/$1-$2/$1
  [ -x "$bin" ] && return
  mkdir -p "$(dirname "$bin")"
  GOBIN=$(dirname "$bin") nice -n 15 go install -trimpath "$3@$2"
}

build_in_module crank "$CRANK_VERSION" github.com/crossplane/crossplane/v2 ./cmd/crank
build_in_module function-patch-and-transform "$PAT_VERSION" github.com/crossplane-contrib/function-patch-and-transform .
install gojq "$GOJQ_VERSION" github.com/itchyny/gojq/cmd/gojq
install kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform
