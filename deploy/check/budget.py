"""Check 4: per node, the sum of CPU and memory requests of everything placed there stays within
(1 - headroom) of the node (4 cores, 8 GiB, headroom 15 %), and every container has requests and limits.

What is placed where:
* plain workloads (host and vcluster-apps: vCluster syncs its pods onto the host's nodes) by their
  nodeSelector; DaemonSets on every node their nodeSelector allows; a pod whose nodeSelector allows several
  nodes is "unpinned" and charged greedily (largest memory first) to the allowed node with most free memory;
* k3s's own components and other fixed figures: placements.yaml `k3s:` / `static:` (each with its source);
* each HelmChart/HelmChartConfig: placements.yaml `charts:` maps it to its pods, whose node, replica count
  and resources are read from the object's valuesContent at the paths given there.
A pod's request is max(sum of its app containers (+ the injected daprd sidecar), largest init container)."""

from .helmvalues import releases
from .workloads import (containers, cpu_millis, dapr_enabled, dapr_sidecar, get_path, is_missing, labels_match,
                        mem_bytes, pod_template, replicas, workloads)


class Pod:
    def __init__(self, label, cpu, mem, count, nodes, pinned, source):
        self.label, self.cpu, self.mem, self.count = label, cpu, mem, count
        self.nodes, self.pinned, self.source = nodes, pinned, source


def _res_errors(c, where):
    res = c.get("resources") or {}
    missing = [f"{w}.{k}" for w in ("requests", "limits") for k in ("cpu", "memory")
               if (res.get(w) or {}).get(k) in (None, "")]
    return [f"{where}: container {c.get('name')} has no resources.{', resources.'.join(missing)}"] if missing else []


def _req(c):
    r = (c.get("resources") or {}).get("requests") or {}
    return (cpu_millis(r["cpu"]) if r.get("cpu") not in (None, "") else 0.0,
            mem_bytes(r["memory"]) if r.get("memory") not in (None, "") else 0.0)


def pod_requests(spec, meta):
    app = containers(spec, init=False) + ([dapr_sidecar(meta)] if dapr_enabled(meta) else [])
    cpu = sum(_req(c)[0] for c in app)
    mem = sum(_req(c)[1] for c in app)
    for c in spec.get("initContainers") or []:
        ic, im = _req(c)
        cpu, mem = max(cpu, ic), max(mem, im)
    return cpu, mem, app + list(spec.get("initContainers") or [])


def nodes_for(selector, cfg):
    return [n for n in cfg.nodes if not selector or labels_match(selector, cfg.nodes[n].labels)]


def collect(tree, cfg):
    pods, errors = [], []
    for w in workloads(tree):
        meta, spec = pod_template(w)
        try:
            cpu, mem, cs = pod_requests(spec, meta)
        except ValueError as e:
            errors.append((w.src, f"{w.ref()}: {e}"))
            continue
        for c in cs:
            errors += [(w.src, m) for m in _res_errors(c, w.ref())]
        nodes = nodes_for(spec.get("nodeSelector"), cfg)
        if not nodes:
            continue  # the references check reports the unmatched nodeSelector
        if w.kind == "DaemonSet":
            pods += [Pod(w.ref(), cpu, mem, 1, [n], True, w.src) for n in nodes]
        else:
            pods.append(Pod(w.ref(), cpu, mem, replicas(w), nodes, len(nodes) == 1, w.src))
    p = cfg.placements
    rels = list(releases(tree, cfg))
    present = {r.key for r in rels}
    for entry in list(p.get("k3s") or []) + list(p.get("static") or []):
        if entry.get("unless_chart") in present:
            continue
        label = f"{entry.get('name')} ({'k3s' if entry in (p.get('k3s') or []) else 'static'})"
        c = {"name": entry.get("name"), "resources": {"requests": entry.get("requests"), "limits": entry.get("limits")}}
        if not entry.get("source"):
            errors.append((str(cfg.placements_path), f"{label}: no source for its figures"))
        cpu, mem = _req(c)
        node = entry.get("node", "all")
        if node == "any":
            pods.append(Pod(label, cpu, mem, int(entry.get("replicas", 1)), list(cfg.nodes), False, "placements.yaml"))
            continue
        if node != "all" and node not in cfg.nodes:
            errors.append((str(cfg.placements_path), f"{label}: unknown node {node!r}"))
            continue
        for n in (list(cfg.nodes) if node == "all" else [node]):
            pods.append(Pod(label, cpu, mem, 1 if node == "all" else int(entry.get("replicas", 1)), [n], True,
                            "placements.yaml"))
    # Crossplane packages run as pods the package manager creates, sized and placed by the
    # DeploymentRuntimeConfig their runtimeConfigRef names (its deploymentTemplate's pod template); one
    # without is budgeted only by a `static:` entry naming it (`object: Provider/provider-http`).
    named = {str(e.get("object")) for e in list(p.get("static") or []) + list(p.get("k3s") or []) if e.get("object")}
    drcs = {o.name: o for o in tree.objects if o.kind == "DeploymentRuntimeConfig"}
    for o in tree.objects:
        if o.group != "pkg.crossplane.io" or o.kind not in ("Provider", "Function") or f"{o.kind}/{o.name}" in named:
            continue
        drc = drcs.get((o.spec.get("runtimeConfigRef") or {}).get("name", "default"))
        dspec = ((drc.spec.get("deploymentTemplate") or {}).get("spec") or {}) if drc else {}
        tspec = (dspec.get("template") or {}).get("spec") or {}
        if not tspec.get("containers"):
            errors.append((o.src, f"{o.ref()}: its pod is not budgeted: give it a DeploymentRuntimeConfig with "
                                  f"resources, or add a static: entry with object: {o.kind}/{o.name}"))
            continue
        cpu, mem, cs = pod_requests(tspec, {})
        for c in cs:
            errors += [(drc.src, m) for m in _res_errors(c, drc.ref())]
        nodes = nodes_for(tspec.get("nodeSelector"), cfg)
        if nodes:
            pods.append(Pod(f"{o.kind} {o.name} (runtime {drc.name})", cpu, mem, int(dspec.get("replicas") or 1),
                            nodes, len(nodes) == 1, drc.src))
    charts = p.get("charts") or {}
    for r in rels:
        o, key = r.obj, r.key
        if o.scope != "host" and o.group == "helm.cattle.io":
            errors.append((o.src, f"{o.ref()}: HelmCharts are only installed on the host (no helm-controller in vcluster)"))
            continue
        if key not in charts:
            errors.append((o.src, f"{r.label}: no entry {key!r} under charts: in placements.yaml (its pods are not budgeted)"))
            continue
        try:
            values = r.values()
        except Exception as e:  # noqa: BLE001 - reported by the Helm values check too
            errors.append((o.src, f"{r.label}: values unreadable: {e}"))
            continue
        for pe in charts[key].get("pods") or []:
            label = f"{pe.get('name')} (chart {key})"
            where = f"placements.yaml charts.{key} pod {pe.get('name')}"
            reps = pe.get("replicas", 1)
            if not isinstance(reps, int):
                v = get_path(values, reps)
                if is_missing(v) or not isinstance(v, int):
                    errors.append((o.src, f"{where}: replicas path {reps!r} is not an integer in the values"))
                    continue
                reps = v
            if "nodeSelector" in pe:
                sel = get_path(values, pe["nodeSelector"])
                if is_missing(sel) or not sel:
                    errors.append((o.src, f"{where}: nodeSelector path {pe['nodeSelector']!r} is not set in the values"))
                    continue
                nodes = nodes_for(sel, cfg)
                if not nodes:
                    errors.append((o.src, f"{where}: nodeSelector {sel} matches no node"))
                    continue
            else:
                node = pe.get("node", "all")
                nodes = list(cfg.nodes) if node == "all" else [node]
            cs = []
            for ce in pe.get("containers") or []:
                res = get_path(values, ce.get("resources", ""))
                if is_missing(res) or not isinstance(res, dict):
                    res = {}
                c = {"name": ce.get("name"), "resources": res}
                errors += [(o.src, m.replace(" has no ", f" (values path {ce.get('resources')}) has no "))
                           for m in _res_errors(c, f"{r.label} pod {pe.get('name')}")]
                cs.append(c)
            try:
                cpu = sum(_req(c)[0] for c in cs)
                mem = sum(_req(c)[1] for c in cs)
            except ValueError as e:
                errors.append((o.src, f"{where}: {e}"))
                continue
            if pe.get("node") == "all" or pe.get("daemonset"):
                pods += [Pod(label, cpu, mem, 1, [n], True, o.src) for n in nodes]
            else:
                pods.append(Pod(label, cpu, mem, reps, nodes, len(nodes) == 1, o.src))
    notes = [f"note: charts.{key} in placements.yaml matches no chart release in this tree (not budgeted; "
             "stale, or from a branch not merged yet)" for key in charts if key not in present]
    return pods, errors, notes


def place(pods, cfg, headroom):
    used = {n: {"cpu": 0.0, "mem": 0.0, "pods": []} for n in cfg.nodes}
    for p in [p for p in pods if p.pinned]:
        u = used[p.nodes[0]]
        u["cpu"] += p.cpu * p.count
        u["mem"] += p.mem * p.count
        u["pods"].append(p)
    for p in sorted([p for p in pods if not p.pinned], key=lambda p: -p.mem):
        for _ in range(p.count):
            n = max(p.nodes, key=lambda n: mem_bytes(cfg.nodes[n].memory) * (1 - headroom) - used[n]["mem"])
            used[n]["cpu"] += p.cpu
            used[n]["mem"] += p.mem
            used[n]["pods"].append(Pod(p.label + " (unpinned)", p.cpu, p.mem, 1, [n], False, p.source))
    return used


def fmt_mem(b):
    return f"{b / 2**30:.2f} GiB" if b >= 2**30 else f"{b / 2**20:.0f} MiB"


def run(tree, cfg, details=True):
    headroom = float(cfg.placements.get("headroom", 0.15))
    pods, errors, notes = collect(tree, cfg)
    used = place(pods, cfg, headroom)
    lines = [f"| Node | Role | CPU requests | CPU % of {'/'.join(sorted({n.cpu for n in cfg.nodes.values()}))} cores "
             f"| Memory requests | Memory % | Pods and processes | Within {100 - headroom * 100:.0f} % |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, node in cfg.nodes.items():
        u = used[name]
        cpu_cap, mem_cap = cpu_millis(node.cpu), mem_bytes(node.memory)
        cpu_pct, mem_pct = 100 * u["cpu"] / cpu_cap, 100 * u["mem"] / mem_cap
        ok = cpu_pct <= 100 * (1 - headroom) + 1e-9 and mem_pct <= 100 * (1 - headroom) + 1e-9
        role = node.labels.get("homelab.lan/role", "?")
        lines.append(f"| {name} | {role} | {u['cpu']:.0f}m | {cpu_pct:.1f} % | {fmt_mem(u['mem'])} | {mem_pct:.1f} % "
                     f"| {sum(p.count for p in u['pods'])} | {'yes' if ok else '**NO**'} |")
        if not ok:
            errors.append((name, f"node {name} is over budget: CPU {cpu_pct:.1f} %, memory {mem_pct:.1f} % "
                           f"(limit {100 - headroom * 100:.0f} %)"))
    if details:
        lines += [""] + notes if notes else []
        lines.append("")
        for name in cfg.nodes:
            lines.append(f"{name}:")
            for p in sorted(used[name]["pods"], key=lambda p: -p.mem * p.count):
                lines.append(f"  - {p.label}: {p.count} x ({p.cpu:.0f}m CPU, {fmt_mem(p.mem)})")
    return errors, lines
