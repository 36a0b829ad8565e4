"""Runs the checks on copies of fixtures/good with broken fixture files dropped in. kubeconform and
kustomize come from $KUBECONFORM / $KUSTOMIZE (deploy/validate.sh sets them) or PATH."""

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # the repository root, for `import deploy.check`

from deploy.check.__main__ import run_checks  # noqa: E402

GOOD = HERE / "fixtures" / "good"
BROKEN = HERE / "fixtures" / "broken"


class Run:
    def __init__(self, results, output):
        self.results, self.output = results, output

    def errors(self, check):
        return "\n".join(f"{w}: {m}" for w, m in self.results[check])


@pytest.fixture
def tree():
    """A fresh copy of the good fixture tree; yields a function (broken files -> Run of the checks)."""
    with tempfile.TemporaryDirectory(prefix="deploy-check-test-") as tmp:
        root = Path(tmp) / "deploy"
        shutil.copytree(GOOD, root)

        def run(*broken, into="host", only=("schema", "helm", "refs", "budget", "hardening", "lint")):
            for name in broken:
                dest = root / into / f"broken-{name}"
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(BROKEN / name, dest)
            lines = []
            results = run_checks(root, only=list(only), out=lines.append)
            return Run(results, "\n".join(lines))

        run.root = root
        yield run
