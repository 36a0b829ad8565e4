"""Check 2: the valuesContent of each HelmChart / HelmChartConfig (helm.cattle.io) against the chart's
published values schema in ../shared/helm-values-schemas/<chart>-<version>.schema.json, with the Python
jsonschema package, in the draft the schema's `$schema` names (draft-07 where it names none).
HelmChartConfig objects tune a chart k3s packages itself: its chart and version come from placements.yaml
`k3s_charts`."""

import json
from pathlib import Path

import yaml


def chart_name(chart):
    name = str(chart).rstrip("/").split("/")[-1]
    return name[:-4] if name.endswith(".tgz") else name


def helm_objects(tree):
    for o in tree.objects:
        if o.group == "helm.cattle.io" and o.kind in ("HelmChart", "HelmChartConfig"):
            yield o


class Release:
    """One Helm chart installed by an object of the tree: a HelmChart/HelmChartConfig (key `<ns>/<name>`), an
    Argo CD Application with a chart source, or a chart vcluster-test deploys itself (its values'
    `experimental.deploy.vcluster.helm[]`); keys inside vcluster-test are `vcluster:<ns>/<name>`."""

    def __init__(self, obj, key, chart, version, values, label):
        self.obj, self.key, self.chart, self.version, self._values, self.label = obj, key, chart, version, values, label

    def values(self):
        v = self._values
        if isinstance(v, str):
            v = yaml.safe_load(v) if v.strip() else {}
        return v or {}


def releases(tree, cfg):
    for o in tree.objects:
        prefix = "vcluster:" if o.scope == "vcluster" else ""
        key = f"{prefix}{o.namespace}/{o.name}"
        if o.group == "helm.cattle.io" and o.kind in ("HelmChart", "HelmChartConfig"):
            chart, version = chart_and_version(o, cfg)
            yield Release(o, key, chart, version, o.spec.get("valuesContent") or "",
                          f"{o.kind} {o.namespace}/{o.name} (chart {chart} {version or '?'})")
            if chart == "vcluster":
                try:
                    vals = values_of(o)
                except yaml.YAMLError:
                    continue
                for h in ((((vals.get("experimental") or {}).get("deploy") or {}).get("vcluster") or {}).get("helm")
                          or []):
                    c, r = h.get("chart") or {}, h.get("release") or {}
                    yield Release(o, f"vcluster:{r.get('namespace', 'default')}/{r.get('name', c.get('name'))}",
                                  str(c.get("name", "")), str(c.get("version") or ""), h.get("values") or "",
                                  f"vcluster-deployed chart {c.get('name')} {c.get('version') or '?'} "
                                  f"(release {r.get('namespace')}/{r.get('name')}, in {o.kind} {o.namespace}/{o.name})")
        elif o.group == "argoproj.io" and o.kind == "Application":
            spec = o.spec
            for src in ([spec["source"]] if spec.get("source") else []) + list(spec.get("sources") or []):
                if src.get("chart"):
                    helm = src.get("helm") or {}
                    vals = helm.get("valuesObject") if helm.get("valuesObject") is not None else helm.get("values", "")
                    yield Release(o, key, chart_name(src["chart"]), str(src.get("targetRevision") or ""), vals,
                                  f"Application {key} (chart {src['chart']} {src.get('targetRevision') or '?'})")


def chart_and_version(obj, cfg):
    if obj.kind == "HelmChart":
        return chart_name(obj.spec.get("chart", "")), str(obj.spec.get("version") or "")
    k3s = (cfg.placements.get("k3s_charts") or {}).get(f"{obj.namespace}/{obj.name}") or {}
    return str(k3s.get("chart") or obj.name), str(k3s.get("version") or "")


def values_of(obj):
    """Parsed valuesContent ({} when unset); raises yaml.YAMLError."""
    text = obj.spec.get("valuesContent")
    return (yaml.safe_load(text) or {}) if text else {}


def validator(schema):
    """The schema's own draft, with `required` switched off: Helm validates the chart's defaults merged with
    the user's values, and the defaults (values.yaml, not available offline) fill every required key, so a
    valuesContent is checked for what it sets (types, enums, unknown keys), not for what it leaves out."""
    import jsonschema
    from jsonschema.validators import extend, validator_for
    cls = validator_for(schema, default=jsonschema.Draft7Validator)
    cls.check_schema(schema)
    return extend(cls, {"required": lambda *a: iter(())})(schema)


def run(tree, cfg, schema_dir):
    errors, lines = [], []
    schema_dir = Path(schema_dir)
    for r in releases(tree, cfg):
        try:
            values = r.values()
        except yaml.YAMLError as e:
            errors.append((r.obj.src, f"{r.label}: values are not YAML: {e}"))
            continue
        path = schema_dir / f"{r.chart}-{r.version}.schema.json"
        if not r.version or not path.exists():
            lines.append(f"{r.label}: not checked (no published schema)")
            continue
        v = validator(json.loads(path.read_text()))
        found = sorted(v.iter_errors(values), key=lambda e: list(e.absolute_path))
        for e in found:
            where = ".".join(str(p) for p in e.absolute_path) or "(top)"
            errors.append((r.obj.src, f"{r.label}: values {where}: {e.message[:300]}"))
        lines.append(f"{r.label}: {'OK' if not found else f'{len(found)} errors'} against {path.name}")
    if not lines:
        lines.append("no HelmChart, HelmChartConfig or Argo CD Application with a chart")
    return errors, lines
