"""Check 6: yamllint over the tree with deploy/.yamllint (the tree's own, or the checker's)."""

import subprocess
import sys
from pathlib import Path

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / ".yamllint"


def run(root, config=None):
    root = Path(root).resolve()
    config = Path(config) if config else (root / ".yamllint" if (root / ".yamllint").exists() else DEFAULT_CONFIG)
    p = subprocess.run([sys.executable, "-m", "yamllint", "-f", "parsable", "-c", str(config), "."],
                       cwd=root, capture_output=True, text=True)
    errors = []
    for line in p.stdout.splitlines():
        path, _, rest = line.partition(":")
        errors.append((path.removeprefix("./"), rest))
    if p.returncode not in (0, 1, 2) or (p.returncode and not errors):
        errors.append(("yamllint", (p.stdout + p.stderr).strip()))
    return errors, [f"yamllint with {config}"]
