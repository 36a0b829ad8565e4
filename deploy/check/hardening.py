"""Check 5: no container privileged or (possibly) root, no hostPID/hostNetwork/hostIPC, images pinned
(a tag other than `latest`, or a digest), HelmChart `version:` set and no `latest` image tag in valuesContent.
Exceptions: placements.yaml `hardening:` entries {kind, namespace, name, container (optional), allow: [...],
reason}, or {chart: <charts: key>, allow: [...], reason} for chart values; `allow` items: privileged,
runAsRoot, hostPID, hostNetwork, hostIPC, allowPrivilegeEscalation. Charts are not rendered: their defaults
are not seen; what their values set explicitly (privileged: true, runAsUser: 0, runAsNonRoot: false,
allowPrivilegeEscalation: true, host*: true, anywhere in the values) is checked."""

import re

from .helmvalues import releases
from .workloads import containers, dapr_enabled, dapr_sidecar, pod_template, workloads


def image_problem(image):
    if not image:
        return "no image"
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag (means latest)"
    if last.rsplit(":", 1)[1] in ("latest", ""):
        return f"image {image!r} is not pinned (latest)"
    return None


def _allowed(cfg, o, container, what, used=None):
    """Whether placements.yaml `hardening:` excuses `what` for this container (container "*": a pod-level
    setting, excused by any entry of the workload)."""
    for i, e in enumerate(cfg.placements.get("hardening") or []):
        ns = e.get("namespace", "default")
        scope_ns = f"vcluster:{o.namespace}" if o.scope == "vcluster" else o.namespace
        if (e.get("kind") == o.kind and e.get("name") == o.name and ns == scope_ns
                and (container == "*" or e.get("container", container) in (container, "*"))
                and what in (e.get("allow") or []) and e.get("reason")):
            if used is not None:
                used.add(i)
            return True
    return False


def _walk_images(node, path=""):
    """(path, tag-or-image) pairs of `latest` image settings in chart values."""
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else str(k)
            if k == "tag" and str(v).strip().lower() == "latest":
                yield p, v
            elif k == "image" and isinstance(v, str) and image_problem(v) and ":" in v.rsplit("/", 1)[-1]:
                yield p, v
            else:
                yield from _walk_images(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_images(v, f"{path}.{i}")


_RISKY = {("privileged", True): "privileged", ("allowPrivilegeEscalation", True): "allowPrivilegeEscalation",
          ("runAsUser", 0): "runAsRoot", ("runAsNonRoot", False): "runAsRoot", ("hostPID", True): "hostPID",
          ("hostNetwork", True): "hostNetwork", ("hostIPC", True): "hostIPC"}


def _walk_security(node, path=""):
    """(path, what) of settings in chart values that ask for privilege or root. Chart defaults are not
    rendered here; what a valuesContent sets explicitly is checked."""
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else str(k)
            if isinstance(v, (bool, int)) and (k, v) in _RISKY and type(v) is type(next(
                    val for (key, val) in _RISKY if key == k)):
                yield p, _RISKY[(k, v)]
            else:
                yield from _walk_security(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_security(v, f"{path}.{i}")


def _pinned_version(v):
    """An exact chart version (semver, as Helm charts are versioned), not a range, `*`, HEAD or empty."""
    return bool(re.fullmatch(r"v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?", str(v or "").strip()))


def run(tree, cfg):
    errors, allowed, used = [], 0, set()
    for w in workloads(tree):
        meta, spec = pod_template(w)
        psc = spec.get("securityContext") or {}

        def bad(container, what, msg):
            nonlocal allowed
            if _allowed(cfg, w, container, what, used):
                allowed += 1
            else:
                errors.append((w.src, f"{w.ref()}: {msg} (not in the hardening allowlist)"))

        for host in ("hostPID", "hostNetwork", "hostIPC"):
            if spec.get(host):
                bad("*", host, f"{host}: true")
        cs = containers(spec) + ([dapr_sidecar(meta)] if dapr_enabled(meta) else [])
        for c in cs:
            name = c.get("name")
            if not c.get("_injected") or c.get("image"):
                problem = image_problem(c.get("image"))
                if problem:
                    errors.append((w.src, f"{w.ref()}: container {name}: {problem}"))
            if c.get("_injected"):
                continue  # daprd's securityContext is the injector's (non-root by default)
            sc = c.get("securityContext") or {}
            if sc.get("privileged"):
                bad(name, "privileged", f"container {name} is privileged")
            if sc.get("allowPrivilegeEscalation") is True:
                bad(name, "allowPrivilegeEscalation", f"container {name} allows privilege escalation")
            user = sc.get("runAsUser", psc.get("runAsUser"))
            non_root = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
            if user == 0:
                bad(name, "runAsRoot", f"container {name} runs as root (runAsUser: 0)")
            elif not non_root and not (isinstance(user, int) and user > 0):
                bad(name, "runAsRoot", f"container {name} may run as root (set runAsNonRoot: true or runAsUser > 0)")
    for r in releases(tree, cfg):
        o = r.obj
        if o.kind != "HelmChartConfig" and not _pinned_version(r.version):
            what = "HelmChart has no version:" if o.kind == "HelmChart" else f"chart version {r.version!r} is not pinned"
            errors.append((o.src, f"{r.label}: {what} (the chart is not pinned)"))
        try:
            values = r.values()
        except Exception:  # noqa: BLE001 - the Helm values check reports it
            continue
        for path, v in _walk_images(values):
            errors.append((o.src, f"{r.label}: values {path} = {v!r} is not pinned"))
        for path, what in _walk_security(values):
            hits = [i for i, e in enumerate(cfg.placements.get("hardening") or [])
                    if e.get("chart") == r.key and what in (e.get("allow") or []) and e.get("reason")]
            if hits:
                allowed += 1
                used.update(hits)
            else:
                errors.append((o.src, f"{r.label}: values {path} asks for {what} (not in the hardening allowlist: "
                                      f"an entry with chart: {r.key})"))
    lines = [f"{sum(1 for _ in workloads(tree))} workloads checked, {allowed} allowlisted exceptions used"]
    for i, e in enumerate(cfg.placements.get("hardening") or []):
        if i not in used:
            what = f"chart {e['chart']}" if e.get("chart") else f"{e.get('kind')} {e.get('namespace')}/{e.get('name')}"
            lines.append(f"note: hardening entry {what} {e.get('allow')} "
                         "matched nothing checked here (chart components are not rendered: documentation only)")
    return errors, lines
