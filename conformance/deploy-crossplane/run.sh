#!/usr/bin/env bash
# The Crossplane suite: builds (once, cached in ~/.cache/lapis/tools) crossplane's render CLI,
# function-patch-and-transform, gojq and kubeconform, then runs the pytest suite, which renders the
# BlobContainer Composition and drives the rendered Requests against a real Lapis.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PYTHON=${PYTHON:-$root/.venv/bin/python}
PYTHON=$PYTHON "$here/install-tools.sh"
cd "$here" && exec "$PYTHON" -m pytest -q .
