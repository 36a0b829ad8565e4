"""The checker's inputs besides manifests: placements.yaml, owner-created.yaml, the k3s node configs."""

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
K3S_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
K3S_STORAGE_CLASSES = {"local-path"}


@dataclass
class Node:
    name: str
    cpu: str
    memory: str
    labels: dict = field(default_factory=dict)


@dataclass
class Config:
    placements: dict
    placements_path: Path
    owner_created: list
    nodes: dict  # name -> Node
    k3s_version: str
    notes: list = field(default_factory=list)


def placements_file(root):
    """The tree's own deploy/check/placements.yaml, or (for a tree without one) the checker's."""
    own = Path(root) / "check" / "placements.yaml"
    return own if own.exists() else HERE / "placements.yaml"


def k3s_configs(root):
    d = Path(root) / "k3s"
    return sorted(p for p in d.glob("*.yaml")) if d.is_dir() else []


def node_labels_from_k3s(path):
    """`node-label` entries of a k3s config file, plus the labels k3s itself puts on that node."""
    doc = yaml.safe_load(path.read_text()) or {}
    if not isinstance(doc, dict):
        return None, {}
    labels = {}
    for entry in doc.get("node-label") or []:
        k, _, v = str(entry).partition("=")
        labels[k] = v
    if "server" not in doc:  # an agent (or a joining server) names the server it joins
        labels["node-role.kubernetes.io/control-plane"] = "true"
        labels["node-role.kubernetes.io/master"] = "true"
    return doc.get("node-name"), labels


def k3s_version(root, default):
    """The k3s pin written in deploy/k3s (e.g. `v1.34.2+k3s1`), or the default from placements.yaml."""
    pins = set()
    d = Path(root) / "k3s"
    if d.is_dir():
        for p in d.rglob("*"):
            if p.is_file():
                pins.update(re.findall(r"v1\.\d+\.\d+\+k3s\d+", p.read_text(errors="replace")))
    return sorted(pins), (sorted(pins)[-1] if pins else default)


def merge_placements(base, own):
    """A tree's placements.yaml without `nodes:` holds only its own sections (written on a branch before the
    checker's file was merged): it is laid over the checker's, mappings merged, lists appended."""
    out = dict(base)
    for k, v in own.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = {**out[k], **v}
        elif isinstance(v, list) and isinstance(out.get(k), list):
            out[k] = out[k] + v
        else:
            out[k] = v
    return out


def load_config(root, placements_path=None):
    root = Path(root)
    placements_path = Path(placements_path) if placements_path else placements_file(root)
    placements = yaml.safe_load(placements_path.read_text()) or {}
    base_path = HERE / "placements.yaml"
    if "nodes" not in placements and placements_path.resolve() != base_path.resolve():
        placements = merge_placements(yaml.safe_load(base_path.read_text()) or {}, placements)
    owner = root / "owner-created.yaml"
    owner_created = (yaml.safe_load(owner.read_text()) or []) if owner.exists() else []
    notes = []
    nodes = {}
    for name, spec in (placements.get("nodes") or {}).items():
        nodes[name] = Node(name, str(spec.get("cpu", "4")), str(spec.get("memory", "8Gi")),
                           {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"})
    configs = k3s_configs(root)
    if not configs:
        notes.append("no deploy/k3s/*.yaml: nodes have no node-label labels")
    for path in configs:
        node_name, labels = node_labels_from_k3s(path)
        rel = f"k3s/{path.name}"
        if not node_name:
            node_name = next((n for n, s in (placements.get("nodes") or {}).items() if s.get("k3s_config") == rel), None)
        if not node_name or node_name not in nodes:
            notes.append(f"{rel}: cannot tell which node it configures (set node-name, or k3s_config in placements.yaml)")
            continue
        nodes[node_name].labels.update(labels)
    pins, version = k3s_version(root, str(placements.get("k3s_version", "v1.34.2+k3s1")))
    if len(pins) > 1:
        notes.append(f"deploy/k3s names several k3s versions {pins}; using {version}")
    return Config(placements, placements_path, owner_created, nodes, version, notes)


def kubernetes_minor(k3s_version):
    m = re.match(r"v?1\.(\d+)", k3s_version)
    return int(m.group(1)) if m else 34
