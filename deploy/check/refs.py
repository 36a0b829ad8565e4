"""Check 3: references resolve, per cluster scope (host; vcluster = deploy/vcluster-apps/ plus what
vcluster-test replicates from the host, read from its values: `networking.replicateServices.fromHost`
and `sync.fromHost.{secrets,configMaps}.mappings.byName`).

Services select pods of some workload in their namespace and their targetPorts name/number ports those pods
declare; IngressRoutes (traefik.io) and ServiceMonitors point at existing Service ports; PodMonitors at pod
ports; PVCs name an existing StorageClass (or k3s's local-path, or none: the default); every Secret/ConfigMap a
pod (or a Dapr Component's secretKeyRef) uses exists, as a manifest or in deploy/owner-created.yaml; objects
live in namespaces that exist; nodeSelectors match labels the k3s configs set."""

from pathlib import Path

import yaml

from .config import K3S_NAMESPACES, K3S_STORAGE_CLASSES
from .helmvalues import chart_name, values_of
from .manifests import is_cluster_scoped, load_docs
from .workloads import (containers, dapr_enabled, dapr_sidecar, labels_match, pod_template, workloads)


def vcluster_values(tree):
    """Values of vcluster-test: the vcluster HelmChart's valuesContent merged over any vcluster.yaml file."""
    merged = {}
    for rel in tree.files:
        if Path(rel).name == "vcluster.yaml":
            docs = load_docs(tree.root / rel)
            if docs and isinstance(docs[0], dict) and "apiVersion" not in docs[0]:
                merged.update(docs[0])
    for o in tree.by_kind("HelmChart", "host"):
        if chart_name(o.spec.get("chart", "")) == "vcluster":
            try:
                merged.update(values_of(o))
            except yaml.YAMLError:
                pass
    return merged


def _split(ref):
    ns, _, name = str(ref).partition("/")
    return (ns, name) if name else ("default", ns)


class Index:
    """What exists in one scope."""

    def __init__(self, tree, cfg, scope):
        self.scope = scope
        objs = [o for o in tree.objects if o.scope == scope]
        self.objs = objs
        self.namespaces = set(K3S_NAMESPACES) | {o.name for o in objs if o.kind == "Namespace"}
        self.service_objs = {(o.namespace, o.name): o for o in objs if o.kind == "Service"}
        self.services = {k: o.spec for k, o in self.service_objs.items()}
        self.storage_classes = set(K3S_STORAGE_CLASSES) | {o.name for o in objs if o.kind == "StorageClass"}
        self.have = {(o.kind, o.namespace, o.name): o for o in objs if o.kind in ("Secret", "ConfigMap")}
        self.named = {(o.kind, o.namespace, o.name) for o in objs}
        prefix = "vcluster:" if scope == "vcluster" else ""
        for e in cfg.owner_created or []:
            ns = str(e.get("namespace", "default"))
            if (scope == "vcluster") == ns.startswith("vcluster:"):
                self.have.setdefault((e.get("kind"), ns[len(prefix):], e.get("name")), None)
        self.pods = []  # (namespace, labels, [containers], owner)
        for w in workloads(tree, scope):
            meta, spec = pod_template(w)
            cs = containers(spec, init=False) + ([dapr_sidecar(meta)] if dapr_enabled(meta) else [])
            self.pods.append((w.namespace, meta.get("labels") or {}, cs, w))
        # Services a HelmChart creates, declared in placements.yaml charts.<ns/name>.services:
        # [{namespace, name, ports: [number or name, ...]}] (namespace `vcluster:<ns>` inside vcluster-test).
        for chart in (cfg.placements.get("charts") or {}).values():
            for svc in (chart or {}).get("services") or []:
                ns = str(svc.get("namespace", "default"))
                if (scope == "vcluster") == ns.startswith("vcluster:"):
                    ports = [{"port": p} if isinstance(p, int) else {"name": p} for p in svc.get("ports") or []]
                    self.services.setdefault((ns[len(prefix):], svc.get("name")), {"ports": ports, "_chart": True})
        if scope == "vcluster":
            self._replicated(tree, cfg)

    def _replicated(self, tree, cfg):
        values = vcluster_values(tree)
        host = Index(tree, cfg, "host").services
        for m in ((values.get("networking") or {}).get("replicateServices") or {}).get("fromHost") or []:
            src, dst = _split(m.get("from")), _split(m.get("to"))
            hs = host.get(src)
            self.services[dst] = {"ports": (hs.get("ports") if hs is not None else []),
                                  "_replicated_from": "/".join(src), "_host_missing": hs is None}
        for kind, key in (("Secret", "secrets"), ("ConfigMap", "configMaps")):
            byname = ((((values.get("sync") or {}).get("fromHost") or {}).get(key) or {}).get("mappings") or {})
            for src, dst in (byname.get("byName") or {}).items():
                ns, name = _split(dst)
                self.have.setdefault((kind, ns, name), None)

    def pods_selected(self, ns, selector):
        return [p for p in self.pods if p[0] == ns and labels_match(selector, p[1])]


def _port_in_pods(pods, target):
    for _, _, cs, _ in pods:
        for c in cs:
            for p in c.get("ports") or []:
                if (isinstance(target, int) and p.get("containerPort") == target) or p.get("name") == target:
                    return True
    return False


def _service_port(spec, port):
    for p in spec.get("ports") or []:
        if p.get("name") == port or p.get("port") == port:
            return True
    return False


def check_scope(tree, cfg, scope):
    ix = Index(tree, cfg, scope)
    errs = []

    def err(o, msg):
        errs.append((o.src, f"{o.ref()}: {msg}"))

    for o in ix.objs:
        if not is_cluster_scoped(o) and o.namespace not in ix.namespaces:
            err(o, f"namespace {o.namespace!r} is not declared by a Namespace manifest in this scope")
        if o.kind == "Service":
            _service(ix, o, err)
        elif o.kind in ("IngressRoute", "IngressRouteTCP") and o.group == "traefik.io":
            _ingressroute(ix, o, err)
        elif o.kind == "ServiceMonitor":
            _servicemonitor(ix, o, err)
        elif o.kind == "PodMonitor":
            sel = o.spec.get("selector") or {}
            nss = _monitor_namespaces(o)
            pods = [p for p in ix.pods if (nss is None or p[0] in nss) and labels_match(sel, p[1])]
            if not pods:
                err(o, f"selector {sel} matches no pod template")
            for ep in o.spec.get("podMetricsEndpoints") or []:
                if ep.get("port") and pods and not _port_in_pods(pods, ep["port"]):
                    err(o, f"port {ep['port']!r} is not a port of the selected pods")
        elif o.kind == "PersistentVolumeClaim":
            _pvc(ix, o, o.spec, err)
        elif o.kind == "Component" and o.group == "dapr.io":
            for m in o.spec.get("metadata") or []:
                ref = m.get("secretKeyRef") if isinstance(m, dict) else None
                if ref:
                    _need(ix, o, "Secret", ref.get("name"), ref.get("key"), err, "secretKeyRef")
        elif o.kind == "HelmChart":
            tns = o.spec.get("targetNamespace")
            if tns and tns not in ix.namespaces and not o.spec.get("createNamespace"):
                err(o, f"targetNamespace {tns!r} does not exist (no Namespace manifest, no createNamespace: true)")
        meta_spec = pod_template(o)
        if meta_spec:
            _pod(ix, cfg, o, meta_spec[1], err)
        if o.kind == "StatefulSet":
            for t in o.spec.get("volumeClaimTemplates") or []:
                _pvc(ix, o, t.get("spec") or {}, err)
    return errs


def _service(ix, o, err):
    spec = o.spec
    sel = spec.get("selector")
    if spec.get("type") == "ExternalName" or not sel:
        return  # no pods to check (endpoints are managed by hand or by an operator)
    pods = ix.pods_selected(o.namespace, sel)
    if not pods:
        err(o, f"selector {sel} matches no pod template in namespace {o.namespace}")
        return
    for p in spec.get("ports") or []:
        target = p.get("targetPort", p.get("port"))
        if not _port_in_pods(pods, target):
            err(o, f"targetPort {target!r} is not a container port of the selected pods "
                   f"({', '.join(w.ref() for *_, w in pods)})")


def _ingressroute(ix, o, err):
    for route in o.spec.get("routes") or []:
        for s in route.get("services") or []:
            kind = s.get("kind", "Service")
            name, ns = s.get("name", ""), s.get("namespace", o.namespace)
            if kind == "TraefikService":
                if "@" not in name and ("TraefikService", ns, name) not in ix.named:
                    err(o, f"TraefikService {ns}/{name} does not exist")
                continue
            spec = ix.services.get((ns, name))
            if spec is None:
                err(o, f"service {ns}/{name} does not exist")
            elif "port" in s and not _service_port(spec, s["port"]):
                err(o, f"service {ns}/{name} has no port {s['port']!r}")
        for m in route.get("middlewares") or []:
            ns = m.get("namespace", o.namespace)
            if "@" not in m.get("name", "") and ("Middleware", ns, m.get("name")) not in ix.named:
                err(o, f"middleware {ns}/{m.get('name')} does not exist")


def _monitor_namespaces(o):
    nsel = o.spec.get("namespaceSelector") or {}
    if nsel.get("any"):
        return None
    return set(nsel.get("matchNames") or [o.namespace])


def _servicemonitor(ix, o, err):
    sel = o.spec.get("selector") or {}
    nss = _monitor_namespaces(o)
    svcs = [(k, s) for k, s in ix.services.items() if (nss is None or k[0] in nss) and (k[0], k[1]) in ix.service_objs]
    labels = {k: (ix.service_objs[k].doc.get("metadata") or {}).get("labels") or {} for k, _ in svcs}
    matched = [(k, s) for k, s in svcs if labels_match(sel, labels[k])]
    if not matched:
        err(o, f"selector {sel} matches no Service (by labels) in {sorted(nss) if nss else 'any namespace'}")
        return
    for ep in o.spec.get("endpoints") or []:
        port = ep.get("port")
        if port and not any(_service_port(s, port) and any(p.get("name") == port for p in s.get("ports") or [])
                            for _, s in matched):
            err(o, f"endpoint port {port!r} is not a named port of {', '.join('/'.join(k) for k, _ in matched)}")


def _pvc(ix, o, spec, err):
    sc = spec.get("storageClassName")
    if sc and sc not in ix.storage_classes:
        err(o, f"storageClassName {sc!r} does not exist (known: {', '.join(sorted(ix.storage_classes))})")


def _need(ix, o, kind, name, key, err, how):
    k = (kind, o.namespace, name)
    if k not in ix.have:
        err(o, f"{how}: {kind} {o.namespace}/{name} is neither a manifest nor listed in owner-created.yaml")
        return
    obj = ix.have[k]
    if key and obj is not None:
        keys = set((obj.doc.get("data") or {})) | set((obj.doc.get("stringData") or {})) | set(
            (obj.doc.get("binaryData") or {}))
        if key not in keys:
            err(o, f"{how}: {kind} {o.namespace}/{name} has no key {key!r}")


def _pod(ix, cfg, o, spec, err):
    for v in spec.get("volumes") or []:
        if (v.get("secret") or {}).get("secretName") and not v["secret"].get("optional"):
            _need(ix, o, "Secret", v["secret"]["secretName"], None, err, f"volume {v.get('name')}")
        if (v.get("configMap") or {}).get("name") and not v["configMap"].get("optional"):
            _need(ix, o, "ConfigMap", v["configMap"]["name"], None, err, f"volume {v.get('name')}")
        for src in (v.get("projected") or {}).get("sources") or []:
            for kind, key in (("Secret", "secret"), ("ConfigMap", "configMap")):
                if (src.get(key) or {}).get("name") and not src[key].get("optional"):
                    _need(ix, o, kind, src[key]["name"], None, err, f"projected volume {v.get('name')}")
        pvc = (v.get("persistentVolumeClaim") or {}).get("claimName")
        if pvc and ("PersistentVolumeClaim", o.namespace, pvc) not in ix.named:
            err(o, f"volume {v.get('name')}: PersistentVolumeClaim {o.namespace}/{pvc} does not exist")
    for c in containers(spec):
        for e in c.get("env") or []:
            vf = e.get("valueFrom") or {}
            for kind, key in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                r = vf.get(key)
                if r and not r.get("optional"):
                    _need(ix, o, kind, r.get("name"), r.get("key"), err, f"container {c.get('name')} env {e.get('name')}")
        for ef in c.get("envFrom") or []:
            for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                r = ef.get(key)
                if r and not r.get("optional"):
                    _need(ix, o, kind, r.get("name"), None, err, f"container {c.get('name')} envFrom")
    for ips in spec.get("imagePullSecrets") or []:
        _need(ix, o, "Secret", ips.get("name"), None, err, "imagePullSecrets")
    sa = spec.get("serviceAccountName")
    if sa and sa != "default" and ("ServiceAccount", o.namespace, sa) not in ix.named:
        err(o, f"serviceAccountName {sa!r} does not exist in {o.namespace}")
    sel = spec.get("nodeSelector")
    if sel and not any(labels_match(sel, n.labels) for n in cfg.nodes.values()):
        err(o, f"nodeSelector {sel} matches no node's labels (k3s node-label entries in deploy/k3s/*.yaml)")


def run(tree, cfg):
    errors = []
    for scope in ("host", "vcluster"):
        errors += check_scope(tree, cfg, scope)
    if any(o.scope == "vcluster" for o in tree.objects):
        for (ns, name), s in Index(tree, cfg, "vcluster").services.items():
            if s.get("_host_missing"):
                errors.append(("vcluster values", f"replicateServices.fromHost {s['_replicated_from']} -> {ns}/{name}: "
                               "no such Service on the host"))
    n = sum(1 for o in tree.objects)
    return errors, [f"{n} applied objects checked ({len(tree.by_kind('Service'))} Services, "
                    f"{sum(1 for _ in workloads(tree))} workloads)"]
