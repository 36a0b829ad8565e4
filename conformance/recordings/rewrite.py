"""Turning a recorded request into a live one: bodies, URLs, recorded->live values, dates.

Pure code (no sockets), unit-tested in test_replay.py.
"""

import base64
import json
import re
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote, urlsplit

# ------------------------------------------------------------------ bodies


def _is_text(content_type: str) -> bool:
    ct = content_type.lower()
    return ct.startswith("text/") or "json" in ct or "xml" in ct


def decode_body(body, content_type: str | None) -> bytes:
    """The test proxy stores JSON bodies as JSON, text as a string or a list of lines,
    anything else as base64."""
    if body is None:
        return b""
    ct = content_type or ""
    if isinstance(body, dict) or (isinstance(body, list) and "json" in ct.lower()):
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if isinstance(body, list):
        return "".join(str(line) for line in body).encode("utf-8")
    if _is_text(ct):
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except ValueError:
        return body.encode("utf-8")


def body_text(body) -> str:
    """A recorded or live response body as text (for value extraction)."""
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    if isinstance(body, (dict, list)) and not (isinstance(body, list) and all(isinstance(x, str) for x in body)):
        return json.dumps(body, ensure_ascii=False)
    if isinstance(body, list):
        return "".join(body)
    return body


def error_code(headers: dict[str, str], body) -> str | None:
    """x-ms-error-code, else the code inside an XML or OData JSON error body."""
    for k, v in headers.items():
        if k.lower() == "x-ms-error-code":
            return v
    text = body_text(body)
    m = re.search(r"<(?:m:)?[Cc]ode>([^<]+)</(?:m:)?[Cc]ode>", text)
    if m:
        return m.group(1)
    m = re.search(r'"odata\.error"\s*:\s*\{\s*"code"\s*:\s*"([^"]+)"', text)
    return m.group(1) if m else None


# ------------------------------------------------------------------ URLs


class Endpoints:
    """Maps recorded service hosts to path-style live URLs for one account."""

    def __init__(self, blob_endpoint: str, table_endpoint: str, account: str):
        self.account = account
        self.live = {"blob": blob_endpoint.rstrip("/"), "table": table_endpoint.rstrip("/")}

    @staticmethod
    def service_of(url: str) -> str:
        host = urlsplit(url).netloc
        return "table" if ".table." in host else "blob"

    def target(self, recorded_url: str) -> str:
        """Request target for the live server: /account + recorded path (encoding kept) + query."""
        parts = urlsplit(recorded_url)
        path = parts.path or "/"
        target = f"/{self.account}{path}"
        return f"{target}?{parts.query}" if parts.query else target

    def absolute(self, recorded_url: str) -> str:
        return self.live[self.service_of(recorded_url)] + self.target(recorded_url)

    def rewrite_text(self, text: str) -> str:
        """Replaces every recorded absolute URL prefix (in x-ms-copy-source, batch bodies)."""
        def sub(m: re.Match) -> str:
            service = "table" if m.group(2) == "table" else "blob"
            return f"{self.live[service]}/{self.account}"
        return RECORDED_HOST.sub(sub, text)


RECORDED_HOST = re.compile(r"https?://([A-Za-z0-9-]+)\.(blob|table|queue|file|dfs)\.core\.windows\.net")


# ------------------------------------------------------------------ recorded -> live values

# Response headers whose values later requests refer to.
MAPPED_HEADERS = (
    "etag",
    "x-ms-lease-id",
    "x-ms-snapshot",
    "x-ms-version-id",
    "x-ms-copy-id",
    "x-ms-continuation-nextpartitionkey",
    "x-ms-continuation-nextrowkey",
    "x-ms-continuation-nexttablename",
)
# XML elements in response bodies (listings) holding such values.
MAPPED_XML_TAGS = ("Etag", "NextMarker", "Snapshot", "VersionId", "CopyId", "LeaseId")
# A deleted container's version (List Containers include=deleted), which Restore Container names
# in a header: paired by container name, since the live account also lists the containers other
# recordings deleted.
DELETED_CONTAINER = re.compile(r"<Container><Name>([^<]*)</Name><Deleted>true</Deleted><Version>([^<]*)</Version>")
MAPPED_JSON_KEYS = ("odata.etag",)
MIN_MAPPED_LEN = 4  # shorter values ('1', 'true') would be replaced by accident


def extract_values(headers: dict[str, str], body) -> list[tuple[str, str]]:
    """(kind, value) pairs, in a stable order, for pairing recorded with live."""
    out = []
    lower = {k.lower(): v for k, v in headers.items()}
    for name in MAPPED_HEADERS:
        if name in lower and isinstance(lower[name], str):
            out.append((name, lower[name]))
    text = body_text(body)
    for tag in MAPPED_XML_TAGS:
        for value in re.findall(rf"<{tag}>([^<]*)</{tag}>", text):
            out.append((tag, value))
    for name, version in DELETED_CONTAINER.findall(text):
        out.append((f"Version of {name}", version))
    if isinstance(body, (dict, list)):
        for key in MAPPED_JSON_KEYS:
            out.extend((key, v) for v in _json_values(body, key))
    return out


def _json_values(node, key: str):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from _json_values(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from _json_values(item, key)


class ValueMap:
    """Recorded->live substitutions learnt from pairs of recorded and live responses."""

    def __init__(self):
        self.map: dict[str, str] = {}

    def learn(self, recorded: list[tuple[str, str]], live: list[tuple[str, str]]) -> None:
        by_kind: dict[str, list[str]] = {}
        for kind, value in live:
            by_kind.setdefault(kind, []).append(value)
        seen: dict[str, int] = {}
        for kind, value in recorded:
            i = seen.get(kind, 0)
            seen[kind] = i + 1
            candidates = by_kind.get(kind, [])
            if i < len(candidates) and value != candidates[i] and len(value) >= MIN_MAPPED_LEN:
                self.map[value] = candidates[i]

    def apply(self, text: str) -> str:
        """Substitutes raw values and their percent-encoded forms (query strings, URLs)."""
        for recorded in sorted(self.map, key=len, reverse=True):
            live = self.map[recorded]
            if recorded in text:
                text = text.replace(recorded, live)
            encoded = quote(recorded, safe="")
            if encoded != recorded and encoded in text:
                text = text.replace(encoded, quote(live, safe=""))
        return text

    def apply_bytes(self, data: bytes) -> bytes:
        if not self.map:
            return data
        try:
            return self.apply(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return data


# ------------------------------------------------------------------ dates

CONDITIONAL_DATE_HEADER = re.compile(r"^(x-ms-(source-)?)?if-(un)?modified-since$", re.I)


def parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


class DateShifter:
    """Moves recorded conditional dates so they keep their distance to the Last-Modified
    of the resource they test.

    For each resource path we remember (recorded Last-Modified, live Last-Modified) of the
    latest response that carried one. A recorded date T becomes
        live_LM + (T - recorded_LM)
    using the anchor of the request's own resource (or of the copy source for
    x-ms-source-* headers), else the latest anchor of any resource, else
        now + (T - recorded request date).
    """

    def __init__(self):
        self.anchors: dict[str, tuple[datetime, datetime]] = {}
        self.latest: tuple[datetime, datetime] | None = None

    def observe(self, resource: str, recorded_lm: str | None, live_lm: str | None) -> None:
        rec, live = parse_http_date(recorded_lm or ""), parse_http_date(live_lm or "")
        if rec and live:
            self.anchors[resource] = (rec, live)
            self.latest = (rec, live)

    def shift(self, value: str, resource: str, recorded_request_date: str | None,
              now: datetime) -> str:
        moment = parse_http_date(value)
        if moment is None:
            return value
        anchor = self.anchors.get(resource) or self.latest
        if anchor:
            rec, live = anchor
            return http_date(live + (moment - rec))
        base = parse_http_date(recorded_request_date or "")
        if base is None:
            return value
        return http_date(now + (moment - base))


def resource_of(url: str) -> str:
    """The resource a recorded URL addresses: its path without the query."""
    return urlsplit(url).path.rstrip("/") or "/"


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)
