"""What provider-http v1.0.14 does with a namespaced http.m.crossplane.io/v1alpha2 Request, step by step,
for the test to run a rendered Request against a real Lapis without a cluster.

Each function names the source it follows (github.com/crossplane-contrib/provider-http at tag v1.0.14).
jq expressions are evaluated by gojq v0.12.17, the library version provider-http links, through its CLI
(same parser, same evaluator): first result only, as the provider's `query.Run(obj).Next()`.
Secrets are a dict {(name, namespace): {key: value}} standing in for the cluster's Secrets.

What is not reproduced: the managed reconciler's timing (polls, back-off), status writes to the API
server, secretInjectionConfigs (the Composition uses none), TLS, and the provider's cached-response
fallback (GenerateValidRequestDetails retries with status.cache when a request contains "null"; the
test asserts no request ever does).
"""

import copy
import json
import re
import subprocess
from dataclasses import dataclass, field

import requests

# internal/data-patcher/parser.go: secretPattern.
SECRET_PLACEHOLDER = re.compile(r"\{\{\s*([^:{}\s]+):([^:{}\s]+):([^:{}\s]+)\s*\}\}")


class JQError(Exception):
    pass


@dataclass
class Response:
    status_code: int = 0
    body: str = ""
    # Go's http.Header: canonical names ("Etag", "X-Ms-Error-Code"), a list of values each.
    headers: dict = field(default_factory=dict)

    def as_status(self):
        """The Response struct as stored under status.response (omitempty fields dropped)."""
        out = {}
        if self.status_code:
            out["statusCode"] = self.status_code
        if self.body:
            out["body"] = self.body
        if self.headers:
            out["headers"] = self.headers
        return out


@dataclass
class Sent:
    method: str
    url: str
    headers: dict
    body: str
    response: Response


class ProviderHTTP:
    def __init__(self, gojq: str, secrets=None):
        self.gojq = gojq
        self.secrets = secrets or {}
        self.sent: list[Sent] = []

    # --- internal/jq/parser.go -------------------------------------------------------------------
    def run_jq(self, query: str, obj):
        """runJQQuery: parse, run, take the first result; an error when there is none or it is an
        error."""
        proc = subprocess.run([self.gojq, "-c", query], input=json.dumps(obj), capture_output=True, text=True)
        lines = proc.stdout.splitlines()
        if proc.returncode != 0 and not lines:
            raise JQError(proc.stderr.strip())
        if not lines:
            raise JQError(f"query should return at least one value, failed on: {query}")
        return json.loads(lines[0])

    def parse_string(self, query, obj) -> str:
        res = self.run_jq(query, obj)
        if not isinstance(res, str):
            raise JQError(f"failed to parse string: {res!r}")
        return res

    def parse_bool(self, query, obj) -> bool:
        res = self.run_jq(query, obj)
        if not isinstance(res, bool):
            raise JQError(f"failed to parse string: {res!r}")
        return res

    def parse_map_strings(self, headers: dict, obj) -> dict:
        """ParseMapStrings: a value whose query fails is used as written; one that yields a
        non-string is an error."""
        out = {}
        for key, queries in headers.items():
            values = []
            for q in queries:
                try:
                    res = self.run_jq(q, obj)
                except JQError:
                    values.append(q)
                    continue
                if not isinstance(res, str):
                    raise JQError(f"failed to parse result on jq query: {res!r}")
                values.append(res)
            out[key] = values
        return out

    # --- internal/service/request/requestprocessing/request_processing.go ------------------------
    def apply_jq_on_str(self, query, obj) -> str:
        """An object result is marshalled to JSON; otherwise the result must be a string."""
        try:
            res = self.run_jq(query, obj)
        except JQError:
            res = None
        if isinstance(res, dict):
            return json.dumps(res, separators=(",", ":"), sort_keys=True)
        return self.parse_string(query, obj)

    # --- internal/data-patcher -------------------------------------------------------------------
    def patch_secrets(self, value: str) -> str:
        """patchSecretsToValue: replace each {{ name:namespace:key }} with the Secret's value."""
        for placeholder in dict.fromkeys(m.group(0) for m in SECRET_PLACEHOLDER.finditer(value)):
            name, namespace, key = SECRET_PLACEHOLDER.fullmatch(placeholder).groups()
            if (name, namespace) not in self.secrets:
                raise KeyError(f"secret {namespace}/{name} not found")
            value = value.replace(placeholder, self.secrets[(name, namespace)].get(key, ""))
        return value

    # --- internal/service/request/requestgen/request_generator.go --------------------------------
    @staticmethod
    def request_context(for_provider: dict, response: Response | None) -> dict:
        """GenerateRequestContext: forProvider as JSON, plus .response; then every string that
        parses as a JSON object becomes that object (json/util.go ConvertJSONStringsToMaps, which
        walks maps only: strings inside lists stay strings)."""
        base = json.loads(json.dumps(for_provider))
        base["response"] = (response or Response()).as_status()

        def convert(m: dict):
            for k, v in list(m.items()):
                if isinstance(v, str):
                    try:
                        parsed = json.loads(v)
                    except ValueError:
                        continue
                    if isinstance(parsed, dict):
                        m[k] = parsed
                elif isinstance(v, dict):
                    convert(v)

        convert(base)
        if "headers" not in base["response"]:
            base["response"]["headers"] = None
        return base

    def request_details(self, for_provider: dict, mapping: dict, response: Response | None):
        """GenerateRequestDetails: url (jq, never secret-patched), body (jq, whitespace normalized,
        then secret-patched), headers (the mapping's, else forProvider's; jq, then secret-patched)."""
        ctx = self.request_context(for_provider, response)
        url = self.apply_jq_on_str(mapping["url"], ctx)
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]+", url):  # utils.IsUrlValid
            raise ValueError(f"invalid url {url}")
        body = ""
        if mapping.get("body"):
            body = self.patch_secrets(self.apply_jq_on_str(" ".join(mapping["body"].split()), ctx))
        headers = mapping.get("headers")
        if headers is None:  # coalesceHeaders
            headers = for_provider.get("headers") or {}
        headers = {k: [self.patch_secrets(v) for v in vs] for k, vs in self.parse_map_strings(headers, ctx).items()}
        return url, headers, body

    # --- internal/service/request/requestmapping/mapping.go --------------------------------------
    @staticmethod
    def mapping(for_provider: dict, action: str) -> dict:
        default = {"CREATE": "POST", "OBSERVE": "GET", "UPDATE": "PUT", "REMOVE": "DELETE"}[action]
        for m in for_provider.get("mappings", []):
            if m.get("action") == action:
                return {"method": default, **m}
        for m in for_provider.get("mappings", []):
            if m.get("method") == default:
                return m
        raise LookupError(f"{action} or {default} mapping doesn't exist in request, skipping operation")

    # --- internal/clients/http/client.go ---------------------------------------------------------
    def send(self, method, url, headers, body) -> Response:
        sent_headers = [(k, v) for k, vs in headers.items() for v in vs]
        r = requests.request(method, url, headers=dict(sent_headers), data=body.encode(), timeout=30)
        canonical = {}
        for k, v in r.raw.headers.items():
            canonical.setdefault("-".join(p.capitalize() for p in k.split("-")), []).append(v)
        resp = Response(r.status_code, r.text, canonical)
        self.sent.append(Sent(method, url, headers, body, resp))
        return resp

    # --- internal/service/request/observe --------------------------------------------------------
    def custom_check(self, for_provider, response, logic) -> bool:
        """customCheck.check: the logic, whitespace normalized and secret-patched, over the request
        context built from the response just received."""
        ctx = self.request_context(for_provider, response)
        return self.parse_bool(self.patch_secrets(" ".join(logic.split())), ctx)

    def is_removed(self, for_provider, response) -> bool:
        check = for_provider.get("isRemovedCheck") or {}
        if check.get("type") == "CUSTOM":
            return self.custom_check(for_provider, response, check["logic"])
        return response.status_code == 404

    def is_up_to_date(self, for_provider, response) -> bool:
        check = for_provider.get("expectedResponseCheck") or {}
        if check.get("type") == "CUSTOM":
            return self.custom_check(for_provider, response, check["logic"])
        # DEFAULT without an UPDATE mapping: up to date (isErrorMappingNotFound).
        try:
            self.mapping(for_provider, "UPDATE")
        except LookupError:
            return True
        raise NotImplementedError("DEFAULT check against an UPDATE mapping")

    # --- internal/controller/namespaced/request/request.go + service/request ---------------------
    def observe(self, request: dict) -> dict:
        """external.Observe -> IsUpToDate. Returns {"exists", "upToDate", "response"} and stores the
        response in status.response as the status handler does."""
        spec = request["spec"]["forProvider"]
        status = request.setdefault("status", {})
        stored = status.get("response") or {}
        last_method = (status.get("requestDetails") or {}).get("method")
        code = stored.get("statusCode", 0)
        # isObjectValidForObservation
        not_created = not (code != 0 and not (last_method == "POST" and 400 <= code < 600))
        m = self.mapping(spec, "OBSERVE")
        url, headers, body = self.request_details(spec, m, self._stored(status))
        resp = self.send(m["method"], url, headers, body)
        if not (200 <= resp.status_code < 300) and not_created:
            return {"exists": False, "upToDate": False, "response": resp}
        if self.is_removed(spec, resp):
            return {"exists": False, "upToDate": False, "response": resp}
        up = self.is_up_to_date(spec, resp)
        self._set_status(request, m, url, headers, body, resp)
        return {"exists": True, "upToDate": up, "response": resp}

    def deploy(self, request: dict, action: str) -> Response | None:
        """DeployAction (Create, Update, Delete): no mapping for the action means nothing is sent."""
        spec = request["spec"]["forProvider"]
        try:
            m = self.mapping(spec, action)
        except LookupError:
            return None
        status = request.setdefault("status", {})
        url, headers, body = self.request_details(spec, m, self._stored(status))
        resp = self.send(m["method"], url, headers, body)
        self._set_status(request, m, url, headers, body, resp)
        return resp

    @staticmethod
    def _stored(status) -> Response:
        r = status.get("response") or {}
        return Response(r.get("statusCode", 0), r.get("body", ""), r.get("headers") or {})

    @staticmethod
    def _set_status(request, mapping, url, headers, body, resp):
        """statushandler.SetRequestStatus: status code, headers, body and request details, also on
        an HTTP error (which counts a failure)."""
        status = request.setdefault("status", {})
        status["response"] = resp.as_status()
        status["requestDetails"] = {"method": mapping["method"], "url": url, "headers": copy.deepcopy(headers)}
        if 400 <= resp.status_code < 600:
            status["failed"] = status.get("failed", 0) + 1
