"""Shared Key and SAS signing, written from the Azure Storage REST reference
("Authorize with Shared Key", "Create a service SAS", "Create an account SAS").

Pure functions: no I/O, so they are unit-tested with the documented vectors.
"""

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, quote, unquote

# Headers that occupy fixed lines of the Blob string-to-sign (2015-02-21+), in order.
BLOB_STANDARD_HEADERS = (
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


def hmac_sha256_b64(key_b64: str, message: str) -> str:
    key = base64.b64decode(key_b64)
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def split_target(target: str) -> tuple[str, str]:
    """'/a/b?x=1' -> ('/a/b', 'x=1'), the path left percent-encoded as sent."""
    path, _, query = target.partition("?")
    return path, query


def canonicalized_headers(headers: dict[str, str]) -> str:
    lines = []
    for name in sorted(h.lower() for h in headers if h.lower().startswith("x-ms-")):
        value = next(v for k, v in headers.items() if k.lower() == name)
        # Unfold and trim: runs of whitespace outside quotes count as one space.
        lines.append(f"{name}:{' '.join(str(value).split())}\n")
    return "".join(lines)


def blob_canonicalized_resource(account: str, target: str) -> str:
    """'/' + account + encoded path, then every query parameter, name lowercased,
    values decoded, sorted and comma-joined, one per line, names sorted."""
    path, query = split_target(target)
    resource = f"/{account}{path or '/'}"
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(name.lower(), []).append(value)
    for name in sorted(params):
        resource += f"\n{name}:{','.join(sorted(params[name]))}"
    return resource


def blob_string_to_sign(method: str, headers: dict[str, str], account: str, target: str) -> str:
    lower = {k.lower(): str(v) for k, v in headers.items()}
    lines = [method.upper()]
    for name in BLOB_STANDARD_HEADERS:
        value = lower.get(name, "")
        # Since 2015-02-21 a zero Content-Length is signed as the empty string.
        if name == "content-length" and value == "0":
            value = ""
        # The Date line stays empty when x-ms-date is present.
        if name == "date" and "x-ms-date" in lower:
            value = ""
        lines.append(value)
    return (
        "\n".join(lines)
        + "\n"
        + canonicalized_headers(headers)
        + blob_canonicalized_resource(account, target)
    )


def table_canonicalized_resource(account: str, target: str) -> str:
    """Table form: '/' + account + encoded path, plus '?comp=' when present."""
    path, query = split_target(target)
    resource = f"/{account}{path or '/'}"
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name.lower() == "comp":
            resource += f"?comp={value}"
            break
    return resource


def table_string_to_sign(method: str, headers: dict[str, str], account: str, target: str) -> str:
    lower = {k.lower(): str(v) for k, v in headers.items()}
    date = lower.get("x-ms-date", lower.get("date", ""))
    return "\n".join(
        [
            method.upper(),
            lower.get("content-md5", ""),
            lower.get("content-type", ""),
            date,
            table_canonicalized_resource(account, target),
        ]
    )


def shared_key_header(service: str, method: str, headers: dict[str, str], account: str,
                      key_b64: str, target: str) -> str:
    if service == "table":
        to_sign = table_string_to_sign(method, headers, account, target)
    else:
        to_sign = blob_string_to_sign(method, headers, account, target)
    return f"SharedKey {account}:{hmac_sha256_b64(key_b64, to_sign)}"


# ---------------------------------------------------------------- SAS

class SasUnsupported(Exception):
    """The SAS cannot be re-signed (user delegation SAS, unknown layout)."""


def _field(params: dict[str, str], name: str) -> str:
    return params.get(name, "")


def account_sas_string_to_sign(account: str, params: dict[str, str]) -> str:
    fields = [account] + [_field(params, n) for n in ("sp", "ss", "srt", "st", "se", "sip", "spr", "sv")]
    if _field(params, "sv") >= "2020-12-06":
        fields.append(_field(params, "ses"))
    return "\n".join(fields) + "\n"


def service_sas_canonicalized_resource(service: str, account: str, path: str,
                                       signed_resource: str = "b") -> str:
    """'/blob/account/container/blob' (decoded path), '/blob/account/container' for a
    container SAS (sr=c), or '/table/account/tablename'."""
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    if signed_resource == "c":
        parts = parts[:1]
    if service == "table":
        # Entity paths carry '(keys)': the resource is the table name only, lowercased.
        name = parts[0].split("(")[0] if parts else ""
        return f"/table/{account}/{name.lower()}"
    return "/".join([f"/blob/{account}"] + parts)


def service_sas_string_to_sign(service: str, account: str, path: str, params: dict[str, str]) -> str:
    sv = _field(params, "sv")
    resource = service_sas_canonicalized_resource(service, account, path, _field(params, "sr"))
    head = [_field(params, n) for n in ("sp", "st", "se")] + [resource, _field(params, "si")]
    if service == "table":
        tail = [_field(params, n) for n in ("sip", "spr", "sv", "spk", "srk", "epk", "erk")]
        return "\n".join(head + tail)
    if sv < "2015-04-05":
        fields = head + [sv]
    elif sv < "2018-11-09":
        fields = head + [_field(params, n) for n in ("sip", "spr", "sv")]
    elif sv < "2020-12-06":
        fields = head + [_field(params, n) for n in ("sip", "spr", "sv", "sr", "sst")]
    else:
        fields = head + [_field(params, n) for n in ("sip", "spr", "sv", "sr", "sst", "ses")]
    fields += [_field(params, n) for n in ("rscc", "rscd", "rsce", "rscl", "rsct")]
    return "\n".join(fields)


def resign_sas(service: str, account: str, key_b64: str, target: str) -> str:
    """Recompute `sig=` of a SAS URL target ('/path?query') with our account and key;
    every other byte of the target is kept as it was."""
    path, query = split_target(target)
    pairs = parse_qsl(query, keep_blank_values=True)
    params = {k: v for k, v in pairs}
    if "skoid" in params or "sduid" in params:
        raise SasUnsupported("user delegation SAS")
    if "ss" in params and "srt" in params:
        to_sign = account_sas_string_to_sign(account, params)
    else:
        # Path-style: the account is the first path segment; drop it for the resource.
        to_sign = service_sas_string_to_sign(service, account, _strip_account(path, account), params)
    sig = quote(hmac_sha256_b64(key_b64, to_sign), safe="")
    raw = [p for p in query.split("&") if not p.startswith("sig=")]
    raw.append(f"sig={sig}")
    return f"{path}?{'&'.join(raw)}"


def _strip_account(path: str, account: str) -> str:
    prefix = f"/{account}"
    if path == prefix or path.startswith(prefix + "/"):
        return path[len(prefix):] or "/"
    return path
