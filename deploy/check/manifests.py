"""Finds and loads what deploy/ applies.

A manifest is a YAML document with a string `apiVersion` and `kind` (k3s config files, vcluster.yaml values,
placements.yaml and the like have neither and are skipped). `kustomization.yaml` files are not manifests:
each one is built with `kustomize build`. The objects the checks reason about ("applied" objects) are:

* the output of every top-level kustomization (one no other kustomization lists as a resource), and
* every manifest file that is not inside a kustomization's folder tree (a file beside a kustomization that it
  does not list, e.g. `accounts-secret.example.yaml`, is not applied).

Files under deploy/vcluster-apps/ are applied inside vcluster-test: their objects get scope "vcluster", all
others scope "host". deploy/check/ (the checker and its fixtures) is never read as part of a tree.
"""

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
VCLUSTER_DIR = "vcluster-apps"


@dataclass
class Obj:
    doc: dict
    src: str  # path relative to the root (or "kustomize:<dir>")
    scope: str  # "host" or "vcluster"

    @property
    def kind(self):
        return self.doc.get("kind")

    @property
    def api(self):
        return self.doc.get("apiVersion", "")

    @property
    def group(self):
        return self.api.split("/")[0] if "/" in self.api else ""

    @property
    def name(self):
        return (self.doc.get("metadata") or {}).get("name", "")

    @property
    def namespace(self):
        return (self.doc.get("metadata") or {}).get("namespace") or "default"

    @property
    def spec(self):
        return self.doc.get("spec") or {}

    def ref(self):
        ns = "" if self.kind in CLUSTER_SCOPED else f"{self.namespace}/"
        where = "[vcluster] " if self.scope == "vcluster" else ""
        return f"{where}{self.kind} {ns}{self.name} ({self.src})"


# Kinds without a namespace (core, and the CRDs this cluster uses).
CLUSTER_SCOPED = {
    "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "PriorityClass", "IngressClass", "RuntimeClass", "APIService",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "CSIDriver", "VolumeSnapshotClass",
    "CompositeResourceDefinition", "Composition", "CompositionRevision", "EnvironmentConfig", "Provider",
    "Function", "Configuration", "DeploymentRuntimeConfig", "ClusterProviderConfig", "ClusterAnalysisTemplate",
    "ClusterIssuer",
}
# Configuration is also dapr.io's namespaced kind:
NAMESPACED_BY_GROUP = {("dapr.io", "Configuration")}


def is_cluster_scoped(obj):
    return obj.kind in CLUSTER_SCOPED and (obj.group, obj.kind) not in NAMESPACED_BY_GROUP


def is_manifest(doc):
    return (isinstance(doc, dict) and isinstance(doc.get("apiVersion"), str) and isinstance(doc.get("kind"), str)
            and doc["kind"] != "Kustomization" and not doc["apiVersion"].startswith("kustomize.config.k8s.io"))


def load_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


@dataclass
class Tree:
    root: Path
    files: list = field(default_factory=list)  # every .yaml/.yml under root (relative), deploy/check excluded
    manifest_files: list = field(default_factory=list)  # files with at least one manifest, patches excluded
    kustomizations: list = field(default_factory=list)  # folders (relative) holding a kustomization
    top_kustomizations: list = field(default_factory=list)
    objects: list = field(default_factory=list)  # applied objects (Obj)
    errors: list = field(default_factory=list)  # load errors: (where, message)
    built: dict = field(default_factory=dict)  # top kustomization dir -> YAML text of its build

    def scope_of(self, rel):
        return "vcluster" if Path(rel).parts[:1] == (VCLUSTER_DIR,) else "host"

    def by_kind(self, kind, scope=None):
        return [o for o in self.objects if o.kind == kind and (scope is None or o.scope == scope)]


def _skip_dir(rel_parts, check_dir_included):
    return not check_dir_included and rel_parts[:1] == ("check",)


def _kustomize_refs(kdir, kdoc):
    """Local folders a kustomization pulls in as resources/components, and the patch files it uses."""
    dirs, patches = [], []
    for key in ("resources", "bases", "components"):
        for r in kdoc.get(key) or []:
            if isinstance(r, str) and "://" not in r and not r.startswith("github.com"):
                dirs.append(os.path.normpath(os.path.join(kdir, r)))
    for p in kdoc.get("patches") or []:
        if isinstance(p, dict) and p.get("path"):
            patches.append(os.path.normpath(os.path.join(kdir, p["path"])))
    for p in kdoc.get("patchesStrategicMerge") or []:
        if isinstance(p, str):
            patches.append(os.path.normpath(os.path.join(kdir, p)))
    for p in kdoc.get("patchesJson6902") or []:
        if isinstance(p, dict) and p.get("path"):
            patches.append(os.path.normpath(os.path.join(kdir, p["path"])))
    return dirs, patches


def load_tree(root, kustomize=None, include_check_dir=False):
    """Reads every YAML file under root; builds the top-level kustomizations with the kustomize binary
    (when given; without it kustomization folders contribute their listed files directly)."""
    root = Path(root).resolve()
    tree = Tree(root=root)
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        if _skip_dir(rel_dir.parts, include_check_dir):
            dirnames[:] = []
            continue
        dirnames.sort()
        for fn in sorted(filenames):
            rel = str(rel_dir / fn) if rel_dir.parts else fn
            if fn in KUSTOMIZATION_NAMES:
                tree.kustomizations.append(str(rel_dir) if rel_dir.parts else ".")
            elif fn.endswith((".yaml", ".yml")):
                tree.files.append(rel)
    referenced, patch_files = set(), set()
    for kdir in tree.kustomizations:
        kfile = next(root / kdir / n for n in KUSTOMIZATION_NAMES if (root / kdir / n).exists())
        try:
            kdoc = yaml.safe_load(kfile.read_text()) or {}
        except yaml.YAMLError as e:
            tree.errors.append((str(kfile.relative_to(root)), f"unparsable kustomization: {e}"))
            continue
        dirs, patches = _kustomize_refs(kdir, kdoc)
        referenced.update(d for d in dirs if d in tree.kustomizations)
        patch_files.update(patches)
    tree.top_kustomizations = [k for k in tree.kustomizations if k not in referenced]

    def in_kustomize_tree(rel):
        parent = Path(rel).parent
        return any(k == "." or parent == Path(k) or Path(k) in parent.parents for k in tree.kustomizations)

    for rel in tree.files:
        try:
            docs = load_docs(root / rel)
        except yaml.YAMLError as e:
            tree.errors.append((rel, f"unparsable YAML: {e}"))
            continue
        manifests = [d for d in docs if is_manifest(d)]
        if not manifests or rel in patch_files:
            continue
        tree.manifest_files.append(rel)
        if not in_kustomize_tree(rel):
            tree.objects += [Obj(d, rel, tree.scope_of(rel)) for d in manifests]

    for kdir in tree.top_kustomizations:
        text = build_kustomization(kustomize, root / kdir) if kustomize else None
        if text is None and kustomize:
            tree.errors.append((kdir, "kustomize build failed (see above)"))
            continue
        if text is None:
            continue
        tree.built[kdir] = text
        src = f"kustomize:{kdir}"
        tree.objects += [Obj(d, src, tree.scope_of(kdir)) for d in yaml.safe_load_all(text) if is_manifest(d)]
    _argo_synced(tree)
    return tree


def _under(src, sub):
    path = src[len("kustomize:"):] if src.startswith("kustomize:") else src
    return path == sub or path.startswith(sub.rstrip("/") + "/")


def _argo_synced(tree):
    """Argo CD Applications inside vcluster-test that sync a folder of this repository outside
    deploy/vcluster-apps (e.g. deploy/dapr) apply its objects inside the vCluster too: they are added to the
    vcluster scope, in the Application's destination namespace when they name none. An Application path under
    deploy/ that does not exist is a load error."""
    for app in [o for o in tree.objects if o.scope == "vcluster" and o.kind == "Application" and o.group == "argoproj.io"]:
        spec = app.spec
        dest_ns = (spec.get("destination") or {}).get("namespace")
        for src in ([spec["source"]] if spec.get("source") else []) + list(spec.get("sources") or []):
            path = str(src.get("path") or "")
            if not path.startswith(tree.root.name + "/"):
                continue
            sub = path[len(tree.root.name) + 1:].rstrip("/")
            if not (tree.root / sub).is_dir():
                tree.errors.append((app.src, f"Application {app.namespace}/{app.name}: source path {path} does not exist"))
                continue
            if Path(sub).parts[:1] == (VCLUSTER_DIR,):
                continue
            for o in [o for o in tree.objects if o.scope == "host" and _under(o.src, sub)]:
                doc = dict(o.doc)
                meta = dict(doc.get("metadata") or {})
                if dest_ns and not meta.get("namespace") and not is_cluster_scoped(o):
                    meta["namespace"] = dest_ns
                doc["metadata"] = meta
                tree.objects.append(Obj(doc, f"{o.src} (synced by Application {app.name})", "vcluster"))


def build_kustomization(kustomize, kdir):
    p = subprocess.run([kustomize, "build", str(kdir)], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"kustomize build {kdir}: {p.stderr.strip()}")
        return None
    return p.stdout
