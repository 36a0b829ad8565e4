"""Sending rewritten recorded requests to the live emulator and comparing the answers."""

import http.client
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from rewrite import (CONDITIONAL_DATE_HEADER, DateShifter, Endpoints, ValueMap, decode_body,
                     error_code, extract_values, http_date, now_utc, resource_of)
from signer import SasUnsupported, resign_sas, shared_key_header

# Recorded request headers never forwarded: we recompute or they are transport details.
DROPPED_HEADERS = {
    "authorization", ":method", ":path", ":authority", ":scheme", "accept-encoding",
    "content-length", "x-ms-date", "date", "host", "connection", "transfer-encoding",
}
# --strict: these response headers must be present live exactly when Azure sent them.
KEY_RESPONSE_HEADERS = (
    "etag", "last-modified", "content-md5", "content-range", "x-ms-blob-type",
    "x-ms-lease-state", "x-ms-lease-status", "x-ms-blob-committed-block-count",
    "x-ms-continuation-nextpartitionkey", "x-ms-continuation-nextrowkey",
)


@dataclass
class Outcome:
    kind: str  # "agrees" | "differs" | "out-of-scope"
    detail: str = ""

    def line(self, name: str) -> str:
        if self.kind == "agrees":
            return f"AGREES {name}"
        if self.kind == "differs":
            return f"DIFFERS {name}: {self.detail}"
        return f"OUT-OF-SCOPE {name} ({self.detail})"


@dataclass
class LiveResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def parsed_body(self):
        """JSON bodies as objects (like the recordings), others as text."""
        if "json" in self.headers.get("content-type", "") and self.body:
            try:
                return json.loads(self.body)
            except ValueError:
                pass
        return self.body.decode("utf-8", errors="replace")


class LiveClient:
    """One keep-alive connection per live endpoint; signs every request."""

    def __init__(self, endpoints: Endpoints, key_b64: str, timeout: float):
        self.endpoints = endpoints
        self.key = key_b64
        self.timeout = timeout
        self.connections: dict[str, http.client.HTTPConnection] = {}

    def _connection(self, service: str) -> http.client.HTTPConnection:
        if service not in self.connections:
            netloc = urlsplit(self.endpoints.live[service]).netloc
            self.connections[service] = http.client.HTTPConnection(netloc, timeout=self.timeout)
        return self.connections[service]

    def close(self) -> None:
        for conn in self.connections.values():
            conn.close()
        self.connections.clear()

    def send(self, service: str, method: str, target: str, headers: dict[str, str],
             body: bytes) -> LiveResponse:
        """Signs (Shared Key, or SAS when the target carries sig=) and sends; one retry on a
        dropped keep-alive connection."""
        headers = dict(headers)
        headers["x-ms-date"] = http_date(now_utc())
        if body and not any(k.lower() == "content-length" for k in headers):
            headers["Content-Length"] = str(len(body))  # signed, so set before signing
        if "sig=" in target.partition("?")[2]:
            target = resign_sas(service, self.endpoints.account, self.key, target)
        else:
            headers["Authorization"] = shared_key_header(
                service, method, headers, self.endpoints.account, self.key, target)
        for attempt in (0, 1):
            conn = self._connection(service)
            try:
                conn.request(method, target, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                merged: dict[str, str] = {}
                for k, v in resp.getheaders():
                    k = k.lower()
                    merged[k] = f"{merged[k]}, {v}" if k in merged else v
                return LiveResponse(resp.status, merged, data)
            except (http.client.HTTPException, OSError):
                conn.close()
                self.connections.pop(service, None)
                if attempt == 1:
                    raise
        raise RuntimeError("unreachable")


class Replayer:
    """Rewrites one recording's requests in order, learning values as it goes."""

    def __init__(self, client: LiveClient):
        self.client = client
        self.endpoints = client.endpoints
        self.values = ValueMap()
        self.dates = DateShifter()

    def build(self, entry: dict) -> tuple[str, str, str, dict[str, str], bytes]:
        url = entry["RequestUri"]
        service = Endpoints.service_of(url)
        target = self.endpoints.target(url)
        path, sep, query = target.partition("?")
        target = path + sep + self.values.apply(query)

        recorded = entry["RequestHeaders"]
        content_type = next((v for k, v in recorded.items() if k.lower() == "content-type"), None)
        copy_source = next((v for k, v in recorded.items() if k.lower() == "x-ms-copy-source"), None)
        request_date = next((v for k, v in recorded.items() if k.lower() in ("x-ms-date", "date")), None)
        headers: dict[str, str] = {}
        for name, value in recorded.items():
            lname = name.lower()
            if lname in DROPPED_HEADERS or not isinstance(value, str):
                continue
            if CONDITIONAL_DATE_HEADER.match(lname):
                resource = resource_of(copy_source) if lname.startswith("x-ms-source-") and copy_source \
                    else resource_of(url)
                value = self.dates.shift(value, resource, request_date, now_utc())
            else:
                value = self.values.apply(self.endpoints.rewrite_text(value))
            headers[name] = value

        body = decode_body(entry.get("RequestBody"), content_type)
        if body:
            body = self.values.apply_bytes(self._rewrite_hosts(body))
        if body or any(k.lower() == "content-length" for k in recorded):
            headers["Content-Length"] = str(len(body))
        return service, entry["RequestMethod"], target, headers, body

    def _rewrite_hosts(self, body: bytes) -> bytes:
        try:
            return self.endpoints.rewrite_text(body.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return body

    def learn(self, entry: dict, live: LiveResponse) -> None:
        recorded_headers = entry["ResponseHeaders"]
        self.values.learn(extract_values(recorded_headers, entry.get("ResponseBody")),
                          extract_values(live.headers, live.parsed_body()))
        recorded_lm = next((v for k, v in recorded_headers.items() if k.lower() == "last-modified"), None)
        self.dates.observe(resource_of(entry["RequestUri"]), recorded_lm, live.headers.get("last-modified"))


def describe(status, code) -> str:
    return f"{status}/{code or '-'}"


def compare(entry: dict, live: LiveResponse, strict: bool) -> str | None:
    """None when the live answer agrees with Azure's, else what differs."""
    want_status = entry["StatusCode"]
    want_code = error_code(entry["ResponseHeaders"], entry.get("ResponseBody"))
    got_code = error_code(live.headers, live.parsed_body()) if live.status >= 300 else None
    if live.status != want_status or (want_code and got_code != want_code):
        return f"expected {describe(want_status, want_code)} got {describe(live.status, got_code)}"
    if strict and live.status < 400:
        recorded = {k.lower() for k in entry["ResponseHeaders"]}
        for name in KEY_RESPONSE_HEADERS:
            if (name in recorded) != (name in live.headers):
                state = "missing" if name in recorded else "unexpected"
                return f"header {name} {state}"
    return None


def cleanup(client: LiveClient, entries: list[dict]) -> None:
    """Deletes the containers and tables a recording uses, so reruns start clean."""
    containers, tables = set(), set()
    for entry in entries:
        url = entry["RequestUri"]
        first = urlsplit(url).path.strip("/").split("/")[0]
        if Endpoints.service_of(url) == "table":
            name = re.split(r"[(?]", first)[0]
            if name and name not in ("Tables", "$batch"):
                tables.add(name)
            body = entry.get("RequestBody")
            if isinstance(body, dict) and isinstance(body.get("TableName"), str):
                tables.add(body["TableName"])
        elif first and not first.startswith("?"):
            containers.add(first)
    account = client.endpoints.account
    try:
        for name in sorted(containers):
            target = f"/{account}/{name}?restype=container"
            resp = client.send("blob", "DELETE", target, {"x-ms-version": "2020-10-02"}, b"")
            if resp.status == 412:  # leased: break the lease at once, then delete
                client.send("blob", "PUT", f"/{account}/{name}?comp=lease&restype=container",
                            {"x-ms-version": "2020-10-02", "x-ms-lease-action": "break",
                             "x-ms-lease-break-period": "0", "Content-Length": "0"}, b"")
                client.send("blob", "DELETE", target, {"x-ms-version": "2020-10-02"}, b"")
        for name in sorted(tables):
            client.send("table", "DELETE", f"/{account}/Tables('{name}')",
                        {"x-ms-version": "2019-02-02", "Accept": "application/json;odata=nometadata"}, b"")
    except (http.client.HTTPException, OSError):
        pass  # the replay itself will report an unreachable server


def replay_recording(client: LiveClient, entries: list[dict], strict: bool, verbose: bool) -> Outcome:
    cleanup(client, entries)
    replayer = Replayer(client)
    first_difference = None
    for i, entry in enumerate(entries):
        method = entry["RequestMethod"]
        where = f"entry #{i} {method} {_short(entry['RequestUri'])}"
        try:
            service, method, target, headers, body = replayer.build(entry)
            live = client.send(service, method, target, headers, body)
        except SasUnsupported:
            return Outcome("out-of-scope", "features: sas-resign")
        except (http.client.HTTPException, OSError) as err:
            difference = f"no answer ({type(err).__name__}: {err})"
            first_difference = first_difference or f"{where}: {difference}"
            if verbose:
                print(f"  {where}: {difference}")
            break
        replayer.learn(entry, live)
        difference = compare(entry, live, strict)
        if verbose:
            state = difference or f"ok {describe(live.status, error_code(live.headers, live.parsed_body()) if live.status >= 300 else None)}"
            print(f"  {where}: {state}")
        if difference and not first_difference:
            first_difference = f"{where}: {difference}"
    return Outcome("differs", first_difference) if first_difference else Outcome("agrees")


def _short(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
