"""python -m deploy.check [--root DIR] [--only schema,helm,refs,budget,hardening,lint] [--table]

Runs the checks of deploy/ on a tree (default: this repository's deploy/) and exits 1 when any fails.
kubeconform and kustomize are taken from $KUBECONFORM / $KUSTOMIZE or PATH (deploy/validate.sh installs them)."""

import argparse
import os
import shutil
import sys
from pathlib import Path

from . import budget, helmvalues, hardening, lint, refs, schema
from .config import load_config
from .manifests import load_tree

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CHECKS = ("schema", "helm", "refs", "budget", "hardening", "lint")
TITLES = {"schema": "Schema validation (kubeconform -strict)", "helm": "Helm values (valuesContent vs chart schema)",
          "refs": "References resolve", "budget": "Per-node budget (requests <= 85 %)",
          "hardening": "Hardening", "lint": "yamllint"}


def tool(name, given):
    path = given or os.environ.get(name.upper()) or shutil.which(name)
    if not path:
        sys.exit(f"{name} not found: set ${name.upper()} or run deploy/validate.sh, which installs it")
    return path


def run_checks(root, only=CHECKS, placements=None, shared=None, kubeconform=None, kustomize=None, out=print):
    """Runs the checks; returns {check: [(where, message), ...]}."""
    shared = Path(shared) if shared else REPO.parent / "shared"
    cfg = load_config(root, placements)
    tree = load_tree(root, kustomize=tool("kustomize", kustomize))
    results = {}
    out(f"# deploy checks on {tree.root}  (placements: {cfg.placements_path})")
    for n in cfg.notes:
        out(f"note: {n}")
    for check in only:
        if check not in CHECKS:
            raise SystemExit(f"unknown check {check!r} (known: {', '.join(CHECKS)})")
        try:
            errs, lines = _one(check, root, tree, cfg, shared, kubeconform)
        except Exception as e:  # noqa: BLE001 - a crash is a failure of that check, the others still run
            import traceback
            errs, lines = [("checker", f"{type(e).__name__}: {e}")], traceback.format_exc().splitlines()
        results[check] = errs
        out(f"\n## {TITLES[check]}: {'FAIL' if errs else 'PASS'}")
        for line in lines:
            out(line)
        for where, msg in errs:
            out(f"  FAIL {where}: {msg}")
    return results


def _one(check, root, tree, cfg, shared, kubeconform):
    if check == "schema":
        errs, lines = schema.run(tree, cfg, tool("kubeconform", kubeconform), shared / "k8s-schemas")
        return list(tree.errors) + errs, lines
    if check == "helm":
        return helmvalues.run(tree, cfg, shared / "helm-values-schemas")
    if check == "refs":
        return refs.run(tree, cfg)
    if check == "budget":
        return budget.run(tree, cfg)
    if check == "hardening":
        return hardening.run(tree, cfg)
    return lint.run(root)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m deploy.check", description=__doc__.splitlines()[2])
    ap.add_argument("--root", default=str(HERE.parent), help="the deploy/ folder to check")
    ap.add_argument("--only", default=",".join(CHECKS), help="comma-separated subset of " + ",".join(CHECKS))
    ap.add_argument("--placements", help="placements.yaml (default: <root>/check/placements.yaml or the checker's)")
    ap.add_argument("--shared", help="the shared/ folder (default: ../shared beside the repository)")
    ap.add_argument("--table", action="store_true", help="print only the per-node budget table (markdown)")
    a = ap.parse_args(argv)
    if a.table:
        cfg = load_config(a.root, a.placements)
        tree = load_tree(a.root, kustomize=tool("kustomize", None))
        errs, lines = budget.run(tree, cfg, details=False)
        print("\n".join(lines))
        return 1 if errs else 0
    results = run_checks(a.root, [c.strip() for c in a.only.split(",") if c.strip()], a.placements, a.shared)
    failed = [c for c, e in results.items() if e]
    print(f"\n{'FAILED: ' + ', '.join(failed) if failed else 'all deploy checks passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
