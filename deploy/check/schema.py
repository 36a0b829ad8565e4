"""Check 1: kubeconform -strict on every manifest file and every `kustomize build` output, against the
Kubernetes core schemas of the k3s pin's minor (kubernetes-validate's `v1.<minor>.0-local-strict` folder)
and the CRD schemas in ../shared/k8s-schemas/. No -ignore-missing-schemas: a kind with no schema fails."""

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from .config import kubernetes_minor
from .manifests import is_manifest, load_docs


def core_schema_dir(k3s_version, cache=None):
    """kubernetes-validate's schemas for the k3s pin's minor, made loadable by kubeconform: the package's
    `local-strict` files carry `$id: https://kubernetes.io/api/...` and `$ref: /api/_definitions.json#...`
    (resolved by its own registry), so each file is rewritten once, without `$id` and with `$ref`s to the
    `_definitions.json` beside it, into ~/.cache/lapis/schemas/kubernetes-validate-<version>/ (outside the
    clone, keyed by the package version). Nothing else changes."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None:
        raise RuntimeError("the kubernetes-validate package is not installed (deploy/check/requirements.txt)")
    base = Path(spec.origin).parent / "kubernetes-json-schema"
    name = f"v1.{kubernetes_minor(k3s_version)}.0-local-strict"
    src = base / name
    if not src.is_dir():
        raise RuntimeError(f"kubernetes-validate has no {name} (has {sorted(p.name for p in base.iterdir())[-3:]}...)")
    cache = Path(cache or os.environ.get("LAPIS_SCHEMA_CACHE") or Path.home() / ".cache/lapis/schemas")
    out = cache / f"kubernetes-validate-{importlib.metadata.version('kubernetes-validate')}" / name
    if (out / "_definitions.json").exists():
        return out
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in src.glob("*.json"):
        doc = json.loads(f.read_text())
        doc.pop("$id", None)
        (tmp / f.name).write_text(json.dumps(_local_refs(doc)))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def _local_refs(node):
    if isinstance(node, dict):
        return {k: (v.replace("/api/_definitions.json#", "_definitions.json#") if k == "$ref" and isinstance(v, str)
                    else _local_refs(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_local_refs(v) for v in node]
    return node


def run(tree, cfg, kubeconform, crd_dir):
    """Returns (errors, lines): errors are (where, message); lines the report."""
    core = core_schema_dir(cfg.k3s_version)
    lines = [f"core schemas: kubernetes-validate {core.name} (k3s {cfg.k3s_version}); CRD schemas: {crd_dir}"]
    errors = []
    with tempfile.TemporaryDirectory(prefix="deploy-check-") as tmp:
        inputs = {}
        for rel in tree.manifest_files:
            docs = [d for d in load_docs(tree.root / rel) if is_manifest(d)]
            inputs[rel] = docs
        for kdir, text in tree.built.items():
            inputs[f"kustomize build {kdir}"] = [d for d in yaml.safe_load_all(text) if is_manifest(d)]
        generated = _tree_crd_schemas(inputs, Path(tmp) / "generated")
        if generated:
            lines.append("schemas from the tree's own CRDs/XRDs: " + ", ".join(generated))
        names = {}
        for i, (label, docs) in enumerate(sorted(inputs.items())):
            f = Path(tmp) / f"{i:03d}.yaml"
            f.write_text(yaml.safe_dump_all(docs, sort_keys=False))
            names[str(f)] = label
        if not names:
            return [], lines + ["no manifests"]
        cmd = [kubeconform, "-strict", "-verbose", "-output", "json",
               "-schema-location", f"{core}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
               "-schema-location", f"{crd_dir}/{{{{ .Group }}}}/{{{{ .ResourceKind }}}}_{{{{ .ResourceAPIVersion }}}}.json",
               "-schema-location",
               f"{tmp}/generated/{{{{ .Group }}}}/{{{{ .ResourceKind }}}}_{{{{ .ResourceAPIVersion }}}}.json",
               *names]
        p = subprocess.run(cmd, capture_output=True, text=True)
        try:
            results = json.loads(p.stdout).get("resources") or []
        except json.JSONDecodeError:
            return [("kubeconform", (p.stdout + p.stderr).strip())], lines
    missing, valid = set(), 0
    for r in results:
        label = names.get(r.get("filename"), r.get("filename"))
        what = f"{r.get('kind')} {r.get('name')} ({r.get('version')}) in {label}"
        status, msg = r.get("status"), r.get("msg", "")
        if status == "statusValid":
            valid += 1
        elif "could not find schema" in msg:
            missing.add(f"{r.get('version')} {r.get('kind')}")
            errors.append((label, f"no schema for {r.get('kind')} ({r.get('version')}): {r.get('name')}"))
        elif status in ("statusInvalid", "statusError"):
            errors.append((label, f"{what}: {msg}"))
    lines.append(f"{valid} objects valid, {len(errors)} problems")
    if missing:
        lines.append("kinds with no schema (add them to shared/k8s-schemas/): " + ", ".join(sorted(missing)))
    return errors, lines


def _strict(node, skip=False):
    """kubeconform's openapi2jsonschema.py conversion (see shared/k8s-schemas/README.md): every mapping with
    `properties` but the root gets additionalProperties: false."""
    if isinstance(node, dict):
        if "properties" in node and not skip and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for v in node.values():
            _strict(v)
    elif isinstance(node, list):
        for v in node:
            _strict(v)


def _tree_crd_schemas(inputs, out):
    """Schemas for the kinds the tree defines itself: CustomResourceDefinitions and Crossplane
    CompositeResourceDefinitions (e.g. our BlobContainer), converted like shared/k8s-schemas/."""
    made = []
    for docs in inputs.values():
        for d in docs:
            if d.get("kind") not in ("CustomResourceDefinition", "CompositeResourceDefinition"):
                continue
            spec = d.get("spec") or {}
            kind = (spec.get("names") or {}).get("kind")
            for ver in spec.get("versions") or []:
                schema = (ver.get("schema") or {}).get("openAPIV3Schema")
                if not (kind and spec.get("group") and schema):
                    continue
                schema = json.loads(json.dumps(schema))
                _strict(schema, skip=True)
                f = out / spec["group"] / f"{kind.lower()}_{ver['name']}.json"
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_text(json.dumps(schema))
                made.append(f"{spec['group']}/{ver['name']} {kind}")
    return sorted(made)
