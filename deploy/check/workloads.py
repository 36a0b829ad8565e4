"""Pod templates of workloads, quantities, and values paths: helpers the checks share."""

import re

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod", "Rollout"}


def pod_template(obj):
    """(metadata, spec) of the pods a workload creates, or None."""
    spec = obj.spec
    if obj.kind == "Pod":
        return obj.doc.get("metadata") or {}, spec
    if obj.kind == "CronJob":
        tpl = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    elif obj.kind in WORKLOAD_KINDS:
        tpl = spec.get("template")
    else:
        return None
    if not isinstance(tpl, dict):
        return None
    return tpl.get("metadata") or {}, tpl.get("spec") or {}


def workloads(tree, scope=None):
    for o in tree.objects:
        if o.kind in WORKLOAD_KINDS and (scope is None or o.scope == scope) and pod_template(o):
            yield o


def replicas(obj):
    if obj.kind in ("Pod", "Job", "CronJob"):
        return int(obj.spec.get("parallelism") or 1) if obj.kind == "Job" else 1
    r = obj.spec.get("replicas")
    return 1 if r is None else int(r)


def containers(pod_spec, init=True):
    out = list(pod_spec.get("containers") or [])
    if init:
        out += list(pod_spec.get("initContainers") or [])
    return out


def dapr_enabled(meta):
    return str((meta.get("annotations") or {}).get("dapr.io/enabled", "")).lower() == "true"


def dapr_sidecar(meta):
    """The daprd container the Dapr injector adds, as a container dict (resources from its annotations)."""
    a = meta.get("annotations") or {}
    res = {"requests": {}, "limits": {}}
    for kind in ("cpu", "memory"):
        for which in ("request", "limit"):
            v = a.get(f"dapr.io/sidecar-{kind}-{which}")
            if v is not None:
                res["requests" if which == "request" else "limits"][kind] = str(v)
    ports = [{"name": "dapr-http", "containerPort": 3500}, {"name": "dapr-grpc", "containerPort": 50001},
             {"name": "dapr-metrics", "containerPort": int(a.get("dapr.io/metrics-port", 9090))}]
    c = {"name": "daprd", "resources": res, "ports": ports, "_injected": True}
    if a.get("dapr.io/sidecar-image"):
        c["image"] = a["dapr.io/sidecar-image"]
    return c


def labels_match(selector, labels):
    """matchLabels-style dict (or a LabelSelector with matchLabels/matchExpressions) against labels."""
    labels = labels or {}
    if not isinstance(selector, dict):
        return False
    if "matchLabels" in selector or "matchExpressions" in selector:
        if not all(labels.get(k) == str(v) for k, v in (selector.get("matchLabels") or {}).items()):
            return False
        for e in selector.get("matchExpressions") or []:
            key, op, vals = e.get("key"), e.get("operator"), [str(v) for v in e.get("values") or []]
            if op == "In" and labels.get(key) not in vals:
                return False
            if op == "NotIn" and labels.get(key) in vals:
                return False
            if op == "Exists" and key not in labels:
                return False
            if op == "DoesNotExist" and key in labels:
                return False
        return True
    return all(labels.get(k) == str(v) for k, v in selector.items())


_CPU = re.compile(r"^([0-9.]+)(m?)$")
_MEM = re.compile(r"^([0-9.]+)([EPTGMK]i?|[eEkm])?$")
_MEM_UNITS = {None: 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18, "m": 1e-3,
              "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def cpu_millis(q):
    m = _CPU.match(str(q).strip())
    if not m:
        raise ValueError(f"bad CPU quantity {q!r}")
    return float(m.group(1)) * (1 if m.group(2) else 1000)


def mem_bytes(q):
    m = _MEM.match(str(q).strip())
    if not m:
        raise ValueError(f"bad memory quantity {q!r}")
    return float(m.group(1)) * _MEM_UNITS[m.group(2)]


_MISSING = object()


def get_path(data, path):
    """Dotted path (`a.b.0.c`) into parsed values; _MISSING when absent."""
    cur = data
    for part in str(path).split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return _MISSING
    return cur


def is_missing(v):
    return v is _MISSING
