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
    for o in helm_objects(tree):
        chart, version = chart_and_version(o, cfg)
        label = f"{o.kind} {o.namespace}/{o.name} (chart {chart} {version or '?'})"
        try:
            values = values_of(o)
        except yaml.YAMLError as e:
            errors.append((o.src, f"{label}: valuesContent is not YAML: {e}"))
            continue
        path = schema_dir / f"{chart}-{version}.schema.json"
        if not version or not path.exists():
            lines.append(f"{label}: not checked (no published schema)")
            continue
        v = validator(json.loads(path.read_text()))
        found = sorted(v.iter_errors(values), key=lambda e: list(e.absolute_path))
        for e in found:
            where = ".".join(str(p) for p in e.absolute_path) or "(top)"
            errors.append((o.src, f"{label}: valuesContent {where}: {e.message[:300]}"))
        lines.append(f"{label}: {'OK' if not found else f'{len(found)} errors'} against {path.name}")
    if not lines:
        lines.append("no HelmChart or HelmChartConfig objects")
    return errors, lines
