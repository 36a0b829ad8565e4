#!/usr/bin/env bash
# Checks the manifests in deploy/dapr/ and deploy/functions/components/ against Dapr's Component CRD with `kubeconform -strict`.
# Everything comes from the Go module proxy at pinned versions, so the check runs the same on
# any machine with Go and Python 3 (and PyYAML, which the converter imports: .venv has it):
#   - kubeconform v0.8.0, installed into .cache/bin;
#   - the Component CRD of dapr v1.18.0 (charts/dapr/crds/components.yaml in dapr's module),
#     converted to JSON schema by kubeconform's own scripts/openapi2jsonschema.py.
# The Secret is skipped (Kubernetes' core schemas are not on the module proxy).
#
#   deploy/dapr/validate.sh [manifest...]     default: deploy/dapr/*.yaml deploy/functions/components/*.yaml
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export GOMODCACHE=${GOMODCACHE:-$root/.cache/gomod}
export GOFLAGS=${GOFLAGS:--modcacherw}
export GOCACHE=${GOCACHE:-$root/.cache/gobuild}
KUBECONFORM_VERSION=v0.8.0
DAPR_VERSION=${DAPR_VERSION:-v1.18.0}
PYTHON=${PYTHON:-$root/.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3

bin=$root/.cache/bin/kubeconform
if ! "$bin" -v 2>/dev/null | grep -qx "$KUBECONFORM_VERSION"; then
  GOBIN=$root/.cache/bin go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
fi
module_dir() { go mod download -json "$1" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])'; }
converter=$(module_dir "github.com/yannh/kubeconform@$KUBECONFORM_VERSION")/scripts/openapi2jsonschema.py
crd=$(module_dir "github.com/dapr/dapr@$DAPR_VERSION")/charts/dapr/crds/components.yaml

schemas=$(mktemp -d)
trap 'rm -rf "$schemas"' EXIT
mkdir "$schemas/dapr.io"
(cd "$schemas/dapr.io" && "$PYTHON" "$converter" "$crd" >/dev/null)  # writes component_v1alpha1.json

[ $# -gt 0 ] || set -- "$here"/*.yaml "$root"/deploy/functions/components/*.yaml
"$bin" -strict -summary -ignore-missing-schemas \
  -schema-location "$schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json" "$@"
