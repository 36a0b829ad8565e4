#!/usr/bin/env bash
# The CI checks of deploy/ (issue 17), one entry point for scripts/test:
#   1. kubeconform -strict on every manifest and every `kustomize build` output (Kubernetes core schemas of
#      the k3s pin's minor from the kubernetes-validate package; CRD schemas from ../shared/k8s-schemas/);
#   2. HelmChart valuesContent against the chart's values schema (../shared/helm-values-schemas/);
#   3. references resolve; 4. per-node budget; 5. hardening; 6. yamllint;
# then the checker's own tests (deploy/check/tests, broken fixtures must fail each check), the Dapr
# Component check of deploy/dapr/validate.sh, and deploy/host/vcluster/render.sh --check when it exists.
# Tools: kubeconform and kustomize are built from the Go module proxy at pinned versions into
# ${LAPIS_TOOLS:-~/.cache/lapis/tools}/<name>-<version>/ (outside the clone, reused by later runs);
# Python packages (deploy/check/requirements.txt) go into the repository's .venv.
#
#   deploy/validate.sh                  everything above on this repository's deploy/
#   deploy/validate.sh --root DIR ...   only the checks, on another deploy/ folder (arguments go to python -m deploy.check)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
KUBECONFORM_VERSION=v0.8.0
KUSTOMIZE_VERSION=v5.8.2 # v5.8.3 needs Go >= 1.27
tools=${LAPIS_TOOLS:-$HOME/.cache/lapis/tools}

go_tool() { # name version package -> path of the binary
  local dir="$tools/$1-$2"
  if [ ! -x "$dir/$1" ]; then
    mkdir -p "$dir"
    GOBIN="$dir" GOFLAGS=-modcacherw nice -n 15 go install "$3@$2" >&2
  fi
  echo "$dir/$1"
}
export KUBECONFORM KUSTOMIZE
KUBECONFORM=$(go_tool kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform)
KUSTOMIZE=$(go_tool kustomize "$KUSTOMIZE_VERSION" sigs.k8s.io/kustomize/kustomize/v5)

if [ ! -x "$root/.venv/bin/python" ]; then python3 -m venv "$root/.venv"; fi
"$root/.venv/bin/pip" install -q --disable-pip-version-check -r "$here/check/requirements.txt"
py=$root/.venv/bin/python

cd "$root"
if [ $# -gt 0 ]; then exec "$py" -m deploy.check "$@"; fi
status=0
"$py" -m deploy.check || status=1
"$py" -m pytest -q -p no:cacheprovider deploy/check/tests || status=1
deploy/dapr/validate.sh >/dev/null || { echo "deploy/dapr/validate.sh failed"; status=1; }
# The vCluster's HelmChart is generated from its vcluster.yaml: it must be up to date.
if [ -x deploy/host/vcluster/render.sh ]; then
  deploy/host/vcluster/render.sh --check || { echo "deploy/host/vcluster/helmchart.yaml is stale: run render.sh"; status=1; }
fi
exit $status
