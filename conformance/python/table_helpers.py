"""Raw-request helpers for the Table suite: the Table service's Shared Key signer (written from the
REST reference "Authorize with Shared Key", Table service form), OData JSON error parsing and names."""

import base64
import hashlib
import hmac
import json
import uuid
from urllib.parse import parse_qsl, quote, urlsplit

import requests

import helpers

ACCOUNT = helpers.ACCOUNT
KEY = helpers.KEY
# The version the recordings in shared/azure-recordings/table/ (beside the checkout) were made with.
API_VERSION = "2019-02-02"
JSON_NO = "application/json;odata=nometadata"
JSON_MINIMAL = "application/json;odata=minimalmetadata"
JSON_FULL = "application/json;odata=fullmetadata"


def connection_string(endpoint, account=ACCOUNT, key=KEY):
    return (
        "DefaultEndpointsProtocol=http;"
        f"AccountName={account};AccountKey={key};TableEndpoint={endpoint};"
    )


def table_name(prefix="t"):
    """Table names are alphanumeric, start with a letter, 3-63 characters."""
    return f"{prefix}{uuid.uuid4().hex[:20]}"


def string_to_sign(method, url, headers, account):
    """VERB, Content-MD5, Content-Type, Date, CanonicalizedResource: unlike Blob, no other headers,
    and only the `comp` query parameter is part of the resource."""
    lower = {k.lower(): str(v) for k, v in headers.items()}
    parts = urlsplit(url)
    resource = f"/{account}{parts.path}"
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() == "comp":
            resource += f"?comp={value}"
    date = lower.get("x-ms-date", lower.get("date", ""))
    return "\n".join([method.upper(), lower.get("content-md5", ""), lower.get("content-type", ""),
                      date, resource])


def sign(method, url, headers, account=ACCOUNT, key=KEY):
    headers.setdefault("x-ms-date", helpers.http_date())
    headers.setdefault("x-ms-version", API_VERSION)
    digest = hmac.new(base64.b64decode(key),
                      string_to_sign(method, url, headers, account).encode("utf-8"),
                      hashlib.sha256).digest()
    headers["Authorization"] = f"SharedKey {account}:{base64.b64encode(digest).decode()}"
    return headers


def raw(method, url, headers=None, body=None, signed=True, account=ACCOUNT, key=KEY):
    """One request with `requests`; `body` may be a dict (sent as JSON), str or bytes."""
    headers = dict(headers or {})
    headers.setdefault("DataServiceVersion", "3.0")
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode("utf-8")
    if signed:
        sign(method, url, headers, account, key)
    return requests.request(method, url, headers=headers, data=body, timeout=60)


def entity_path(table, pk, rk):
    """table(PartitionKey='pk',RowKey='rk') with quotes doubled and the keys percent-encoded."""
    def key(v):
        return quote(v.replace("'", "''"), safe="")
    return f"{table}(PartitionKey='{key(pk)}',RowKey='{key(rk)}')"


def odata_error(resp):
    """(code, message) of an OData JSON error body."""
    body = resp.json()
    err = body["odata.error"]
    return err["code"], err["message"]["value"]


def assert_table_error(resp, status, code):
    """A raw response is the Table error `code` with `status` in the OData JSON body."""
    assert resp.status_code == status, (resp.status_code, resp.headers, resp.content[:400])
    got, _ = odata_error(resp)
    assert got == code, (got, resp.content[:400])


def sdk_error_code(exc):
    """The Azure error code of an SDK HttpResponseError (from the body, as the SDK parsed it)."""
    return getattr(exc, "error_code", None) or exc.response.headers.get("x-ms-error-code")


def any_error_code(resp):
    """The error code of a JSON (odata.error) or XML (Code / m:code) error body, else the header."""
    import xml.etree.ElementTree as ET

    try:
        return odata_error(resp)[0]
    except ValueError:
        pass
    try:
        root = ET.fromstring(resp.content.decode("utf-8-sig").strip())
    except ET.ParseError:
        return resp.headers.get("x-ms-error-code")
    for el in root:
        if el.tag == "Code" or el.tag.endswith("}code"):
            return el.text
    return resp.headers.get("x-ms-error-code")


def batch_body(table_url, entities, method="POST"):
    """A $batch body with one changeset of `method` requests (the REST reference's
    "Performing entity group transactions" layout). Returns (content_type, body)."""
    batch = f"batch_{uuid.uuid4()}"
    changeset = f"changeset_{uuid.uuid4()}"
    lines = [f"--{batch}", f"Content-Type: multipart/mixed; boundary={changeset}", ""]
    for entity in entities:
        url = table_url if method == "POST" else \
            f"{table_url.rsplit('/', 1)[0]}/{entity_path(table_url.rsplit('/', 1)[1], entity['PartitionKey'], entity['RowKey'])}"
        payload = json.dumps(entity)
        lines += [f"--{changeset}", "Content-Type: application/http", "Content-Transfer-Encoding: binary", "",
                  f"{method} {url} HTTP/1.1", f"Accept: {JSON_MINIMAL}", "Content-Type: application/json",
                  "Prefer: return-no-content", "DataServiceVersion: 3.0", f"Content-Length: {len(payload)}", "",
                  payload]
    lines += [f"--{changeset}--", f"--{batch}--", ""]
    return f"multipart/mixed; boundary={batch}", "\r\n".join(lines)


def submit_batch(endpoint, table_url, entities, method="POST"):
    content_type, body = batch_body(table_url, entities, method)
    return raw("POST", f"{endpoint}/$batch", {"Content-Type": content_type, "Accept": JSON_MINIMAL}, body)


def batch_outcome(resp):
    """(status, error code, message) of a $batch answer: the top-level error when the batch was refused
    as a whole, else the first failed inner response (Azure answers 202 and puts the failure inside)."""
    if resp.status_code != 202:
        code, message = odata_error(resp)
        return resp.status_code, code, message
    text = resp.content.decode("utf-8")
    import re
    statuses = [int(s) for s in re.findall(r"^HTTP/1\.1 (\d{3})", text, re.M)]
    failed = [s for s in statuses if s >= 400]
    if not failed:
        return 202, None, None
    err = json.loads(text[text.index('{"odata.error"'):].split("\r\n", 1)[0])["odata.error"]
    return failed[0], err["code"], err["message"]["value"]
