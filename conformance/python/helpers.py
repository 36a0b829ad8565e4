"""Raw-request helpers: a Shared Key signer written from the Azure REST reference
("Authorize with Shared Key"), and small utilities shared by the tests."""

import base64
import hashlib
import hmac
import uuid
from email.utils import formatdate
from urllib.parse import parse_qsl, quote, urlsplit

import requests

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
API_VERSION = "2021-08-06"

# The standard headers, in the order the string-to-sign lists them.
_SIGNED_STANDARD_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


def connection_string(endpoint, account=ACCOUNT, key=KEY):
    return (
        "DefaultEndpointsProtocol=http;"
        f"AccountName={account};AccountKey={key};BlobEndpoint={endpoint};"
    )


def http_date(when=None):
    """RFC 1123 time of `when` (a datetime), or of now."""
    return formatdate(when.timestamp() if when else None, usegmt=True)


def unique_name(prefix="c"):
    return f"{prefix}{uuid.uuid4().hex[:20]}"


def string_to_sign(method, url, headers, account):
    lower = {k.lower(): str(v) for k, v in headers.items()}
    standard = []
    for name in _SIGNED_STANDARD_HEADERS:
        value = lower.get(name, "")
        # Since version 2015-02-21 a zero Content-Length is signed as the empty string.
        if name == "content-length" and value == "0":
            value = ""
        standard.append(value)
    canonical_headers = "".join(
        f"{name}:{' '.join(lower[name].split())}\n"
        for name in sorted(n for n in lower if n.startswith("x-ms-"))
    )
    parts = urlsplit(url)
    # "/" + account + the encoded URI path; with a path-style (emulator) URL the account therefore
    # appears twice, as the reference states.
    resource = f"/{account}{parts.path}"
    params = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        params.setdefault(name.lower(), []).append(value)
    for name in sorted(params):
        resource += f"\n{name}:{','.join(sorted(params[name]))}"
    return method.upper() + "\n" + "\n".join(standard) + "\n" + canonical_headers + resource


def sign(method, url, headers, account=ACCOUNT, key=KEY):
    """Add x-ms-date / x-ms-version (if missing) and the Authorization header, in place."""
    headers.setdefault("x-ms-date", http_date())
    headers.setdefault("x-ms-version", API_VERSION)
    digest = hmac.new(
        base64.b64decode(key),
        string_to_sign(method, url, headers, account).encode("utf-8"),
        hashlib.sha256,
    ).digest()
    headers["Authorization"] = f"SharedKey {account}:{base64.b64encode(digest).decode()}"
    return headers


def raw(method, url, headers=None, data=None, signed=True, account=ACCOUNT, key=KEY):
    """Send one request with `requests`; signed with Shared Key unless signed=False.

    The Content-Length requests will send is put in the headers first so the signature covers it."""
    headers = dict(headers or {})
    if isinstance(data, (bytes, str)) and not any(k.lower() == "content-length" for k in headers):
        headers["Content-Length"] = str(len(data))
    if signed:
        sign(method, url, headers, account, key)
    return requests.request(method, url, headers=headers, data=data, timeout=30)


def blob_url(endpoint, container, blob=None, query=""):
    url = f"{endpoint}/{container}"
    if blob is not None:
        url += "/" + quote(blob, safe="/")
    if query:
        url += "?" + query
    return url


def error_code_from_body(body):
    """The <Code> of an Azure XML error body (None when there is none)."""
    import xml.etree.ElementTree as ET

    text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
    if not text.strip():
        return None
    root = ET.fromstring(text.strip())
    code = root.find("Code")
    return code.text if code is not None else None


def assert_error(resp, status, code):
    """A raw response is the Azure error `code` with `status`, header and XML body agreeing."""
    assert resp.status_code == status, (resp.status_code, resp.headers, resp.content[:300])
    assert resp.headers.get("x-ms-error-code") == code, (resp.headers, resp.content[:300])
    if resp.request.method != "HEAD":
        assert error_code_from_body(resp.content) == code, resp.content[:300]


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()
