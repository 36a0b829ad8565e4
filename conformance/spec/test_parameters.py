"""The spec walk: every operation and every request header and query parameter of the Blob and
Table OpenAPI specs (../shared/azure-specs) must be listed in docs/api-coverage.md, with what
Lapis does with it, so that a newer API version cannot slip a parameter in unnoticed.

- "Spec operations": each operationId of both specs, `served` or `501 NotImplemented`.
- "Request parameters": each (parameter, in) of a spec, its status in Lapis and the served
  operations that take it (exactly those the spec gives, or `all`, or `—` for none).

Statuses: `honoured` and `refused: <status> <code>` must be backed by the code (the parameter's
name appears in Lapis's sources); `descriptive` (does not change what an operation does),
`routing` (selects the operation) and `not served` (taken only by operations Lapis answers 501)
need no code. Run: pytest conformance/spec."""

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api-coverage.md"
SOURCES = [ROOT / "crates" / c / "src" for c in ("lapis-server", "lapis-auth", "lapis-odata", "lapis-wire")]
STATUSES = ("honoured", "refused: ", "descriptive", "routing", "not served")


def specs_dir():
    """shared/ sits beside the checkout (in CI too); /work/shared is this workplace's copy."""
    beside = ROOT.parent / "shared" / "azure-specs"
    return beside if beside.is_dir() else Path("/work/shared/azure-specs")


def load_spec(name):
    doc = json.loads((specs_dir() / name).read_text(encoding="utf-8"))
    shared = doc.get("parameters", {})

    def resolve(p):
        if "$ref" in p:
            return shared[p["$ref"].rsplit("/", 1)[-1]]
        return p

    ops = {}
    for section in ("paths", "x-ms-paths"):
        for path, item in (doc.get(section) or {}).items():
            common = item.get("parameters", [])
            for method, op in item.items():
                if method == "parameters":
                    continue
                params = [resolve(p) for p in common + op.get("parameters", [])]
                ops[op["operationId"]] = {(p["name"], p["in"]) for p in params if p.get("in") in ("header", "query")}
    return ops


SPECS = {"blob": load_spec("blob-2026-10-06.json"), "table": load_spec("table-2019-02-02.json")}


def doc_rows(header):
    """The rows of the markdown table whose header starts with `header`, as lists of cells."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"| {header}"):
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            return rows
    pytest.fail(f"docs/api-coverage.md has no table headed '| {header} ...'")


def unquote(cell):
    return cell.strip("`")


def served_operations(service):
    rows = {unquote(r[0]): r[1] for r in doc_rows(f"{service} operation (spec)")}
    return {op for op, status in rows.items() if status == "served"}, rows


def source_text():
    return "\n".join(p.read_text(encoding="utf-8") for d in SOURCES for p in d.rglob("*.rs")).lower()


@pytest.mark.parametrize("service", ["blob", "table"])
def test_every_spec_operation_is_listed(service):
    _, rows = served_operations(service)
    spec_ops = set(SPECS[service])
    missing = sorted(spec_ops - set(rows))
    assert not missing, f"add to the '{service} operation (spec)' table of docs/api-coverage.md: {missing}"
    stale = sorted(set(rows) - spec_ops)
    assert not stale, f"not operations of the {service} spec: {stale}"
    for op, status in rows.items():
        assert status in ("served", "501 NotImplemented"), (op, status)


@pytest.mark.parametrize("service", ["blob", "table"])
def test_every_spec_parameter_is_listed_with_what_lapis_does(service):
    served, _ = served_operations(service)
    takes = defaultdict(set)
    for op, params in SPECS[service].items():
        for param in params:
            takes[param].add(op)
    rows = {(unquote(r[0]), r[1]): r for r in doc_rows(f"{service} parameter")}
    missing = sorted(set(takes) - set(rows))
    assert not missing, (
        f"parameters of the {service} spec with no row in docs/api-coverage.md (say whether Lapis "
        f"honours or refuses each): " + "; ".join(
            f"| `{n}` | {i} | ? | {', '.join(sorted(takes[(n, i)] & served)) or '—'} |" for n, i in missing))
    stale = sorted(set(rows) - set(takes))
    assert not stale, f"rows for parameters the {service} spec does not have: {stale}"
    code = source_text()
    for (name, where), (_, _, status, ops_cell) in rows.items():
        assert status.startswith(STATUSES), f"{name}: unknown status '{status}'"
        expected = takes[(name, where)] & served
        if ops_cell == "all":
            assert expected, f"{name}: 'all' of no served operation"
        else:
            listed = set() if ops_cell == "—" else {op.strip() for op in ops_cell.split(",")}
            assert listed == expected, (
                f"{name}: served operations taking it are {sorted(expected)}, the row lists {sorted(listed)}")
        if status == "not served":
            assert not expected, f"{name} is taken by served operations {sorted(expected)}"
        elif status.startswith(("honoured", "refused: ")):
            # The code must name it: a header literal, a query key, or the x-ms-meta- prefix.
            needle = name.lower()
            assert re.search(rf'"{re.escape(needle)}[-"]', code), f"{name} is '{status}' but no source names it"
