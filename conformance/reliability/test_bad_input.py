"""The bad-input table of docs/robustness.md, one parametrized case per row: a raw request
(signed with our own Shared Key signers from conformance/python) and the Azure status and error
code it must get. Row ids are the ones in the document.
"""

import base64
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from azure.storage.blob import BlobSasPermissions, generate_blob_sas

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import helpers  # noqa: E402
import table_helpers as th  # noqa: E402

from lapis_proc import ACCOUNT, KEY, Lapis  # noqa: E402

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Lapis(tmp_path_factory.mktemp("bad") / "data")
    b = s.blob_url
    assert helpers.raw("PUT", f"{b}/bad?restype=container", data=b"").status_code == 201
    assert helpers.raw("PUT", f"{b}/bad/b", {"x-ms-blob-type": "BlockBlob"}, data=b"x" * 1000).status_code == 201
    assert th.raw("POST", f"{s.table_url}/Tables", {"Accept": th.JSON_MINIMAL}, {"TableName": "bad"}).status_code == 201
    assert th.raw("POST", f"{s.table_url}/bad", {"Accept": th.JSON_MINIMAL},
                  {"PartitionKey": "p", "RowKey": "r"}).status_code == 201
    yield s
    s.stop()


def sas(blob, permission, expiry_delta):
    return generate_blob_sas(ACCOUNT, "bad", blob, account_key=KEY, permission=permission,
                             expiry=datetime.now(timezone.utc) + expiry_delta)


def blob(s, method, path, headers=None, data=b"", signed=True):
    return helpers.raw(method, f"{s.blob_url}{path}", headers or {}, data=data, signed=signed)


def table(s, method, path, headers=None, body=None):
    return th.raw(method, f"{s.table_url}{path}", {"Accept": th.JSON_MINIMAL, **(headers or {})}, body)


def batch_of(n):
    def send(s):
        entities = [{"PartitionKey": "bp", "RowKey": str(i)} for i in range(n)]
        return th.submit_batch(s.table_url, f"{s.table_url}/bad", entities)
    return send


def forged(s):
    headers = helpers.sign("GET", f"{s.blob_url}/bad/b", {})
    headers["Authorization"] = headers["Authorization"][:-6] + "AAAAA="
    return helpers.raw("GET", f"{s.blob_url}/bad/b", headers, signed=False)


# (row id, request, status, error code). Keep in step with docs/robustness.md.
ROWS = [
    ("B1 forged Shared Key signature", forged, 403, "AuthenticationFailed"),
    ("B2 anonymous read of a private container", lambda s: blob(s, "GET", "/bad/b", signed=False), 404, "ResourceNotFound"),
    ("B3 expired SAS", lambda s: blob(s, "GET", f"/bad/b?{sas('b', BlobSasPermissions(read=True), timedelta(hours=-1))}", signed=False), 403, "AuthenticationFailed"),
    ("B4 read-only SAS used to write", lambda s: blob(s, "PUT", f"/bad/b?{sas('b', BlobSasPermissions(read=True), timedelta(hours=1))}", {"x-ms-blob-type": "BlockBlob"}, b"z", signed=False), 403, "AuthorizationPermissionMismatch"),
    ("B5 container name too short", lambda s: blob(s, "PUT", "/ab?restype=container"), 400, "OutOfRangeInput"),
    ("B6 container name with capitals", lambda s: blob(s, "PUT", "/BadName?restype=container"), 400, "InvalidResourceName"),
    ("B7 container that does not exist", lambda s: blob(s, "GET", "/nosuch?restype=container"), 404, "ContainerNotFound"),
    ("B8 blob that does not exist", lambda s: blob(s, "GET", "/bad/nosuch"), 404, "BlobNotFound"),
    ("B9 container created twice", lambda s: blob(s, "PUT", "/bad?restype=container"), 409, "ContainerAlreadyExists"),
    ("B10 Put Blob without x-ms-blob-type", lambda s: blob(s, "PUT", "/bad/nt", {}, b"z"), 400, "MissingRequiredHeader"),
    ("B11 unknown comp value", lambda s: blob(s, "GET", "/bad?restype=container&comp=nope"), 400, "InvalidQueryParameterValue"),
    ("B12 maxresults=0", lambda s: blob(s, "GET", "/bad?restype=container&comp=list&maxresults=0"), 400, "OutOfRangeQueryParameterValue"),
    ("B13 block id not base64", lambda s: blob(s, "PUT", "/bad/blk?comp=block&blockid=%25%25", {}, b"z"), 400, "InvalidQueryParameterValue"),
    ("B14 block list that is not XML", lambda s: blob(s, "PUT", "/bad/blk?comp=blocklist", {}, b"<BlockList><Latest>"), 400, "InvalidXmlDocument"),
    ("B15 block list naming an unknown block", lambda s: blob(s, "PUT", "/bad/blk?comp=blocklist", {}, b"<BlockList><Latest>QUJD</Latest></BlockList>"), 400, "InvalidBlockList"),
    ("B16 Content-MD5 not matching the body", lambda s: blob(s, "PUT", "/bad/md5", {"x-ms-blob-type": "BlockBlob", "Content-MD5": helpers.md5_b64(b"other")}, b"z"), 400, "Md5Mismatch"),
    ("B17 range starting past the end", lambda s: blob(s, "GET", "/bad/b", {"x-ms-range": "bytes=5000-"}), 416, "InvalidRange"),
    ("B18 If-Match with a stale ETag", lambda s: blob(s, "GET", "/bad/b", {"If-Match": '"0x8D0000000000000"'}), 412, "ConditionNotMet"),
    ("B19 metadata name that is not a C# identifier", lambda s: blob(s, "PUT", "/bad/meta", {"x-ms-blob-type": "BlockBlob", "x-ms-meta-1bad": "v"}, b"z"), 400, "InvalidMetadata"),
    ("T1 $filter that does not parse", lambda s: table(s, "GET", "/bad()?$filter=PartitionKey%20eq"), 400, "InvalidInput"),
    ("T2 table name starting with a digit", lambda s: table(s, "POST", "/Tables", {}, {"TableName": "1bad"}), 400, "InvalidResourceName"),
    ("T3 table that does not exist", lambda s: table(s, "GET", "/nosuch()"), 404, "TableNotFound"),
    ("T4 entity inserted twice", lambda s: table(s, "POST", "/bad", {}, {"PartitionKey": "p", "RowKey": "r"}), 409, "EntityAlreadyExists"),
    ("T5 entity body that is not JSON", lambda s: table(s, "POST", "/bad", {"Content-Type": "application/json"}, b"{not json"), 400, "InvalidInput"),
    ("T6 unknown Edm type", lambda s: table(s, "POST", "/bad", {}, {"PartitionKey": "p", "RowKey": "t6", "A": "1", "A@odata.type": "Edm.Nope"}), 400, "InvalidInput"),
    ("T7 $top=1001", lambda s: table(s, "GET", "/bad()?$top=1001"), 400, "InvalidInput"),
    ("T8 batch of 101 operations", batch_of(101), 400, "InvalidInput"),
    ("T9 253 custom properties", lambda s: table(s, "POST", "/bad", {}, {"PartitionKey": "p", "RowKey": "t9", **{f"P{i}": i for i in range(253)}}), 400, "TooManyProperties"),
    ("T10 entity update with a stale ETag", lambda s: table(s, "PUT", "/bad(PartitionKey='p',RowKey='r')", {"If-Match": "W/\"datetime'2000-01-01T00%3A00%3A00Z'\""}, {"V": 1}), 412, "UpdateConditionNotSatisfied"),
]


def error_code(resp):
    return th.any_error_code(resp)


@pytest.mark.parametrize("row", ROWS, ids=[r[0].split(" ", 1)[0] for r in ROWS])
def test_bad_input_row(server, row):
    name, send, status, code = row
    resp = send(server)
    got = (resp.status_code, error_code(resp))
    assert got == (status, code), f"{name}: {got} {resp.content[:300]!r}"


def test_many_small_metadata_headers_are_accepted(server):
    """200 metadata pairs of 'mNNN: v' total well under Azure's 8 KiB metadata limit, so Azure stores
    them; a header-count limit in the HTTP layer must not refuse them."""
    headers = {"x-ms-blob-type": "BlockBlob", **{f"x-ms-meta-m{i:03d}": "v" for i in range(200)}}
    resp = blob(server, "PUT", "/bad/many-meta", headers, b"z")
    assert resp.status_code == 201, (resp.status_code, resp.headers.get("x-ms-error-code"))
    # Python's http.client refuses answers with more than 100 headers, so read them back from
    # the listing instead of from HEAD.
    listing = blob(server, "GET", "/bad?restype=container&comp=list&include=metadata&prefix=many-meta")
    assert listing.status_code == 200
    assert listing.text.count("<m1") == 100 and listing.text.count("<m0") == 100


def answer_to_headers_only(server, path, headers, content_length):
    """Sends a signed request's headers and 1 KiB of a body announced as `content_length` bytes;
    returns the first line of the answer, or None if none came within 5 s."""
    import socket

    url = f"{server.blob_url}{path}"
    signed = helpers.sign("PUT", url, {"Content-Length": str(content_length), **headers})
    head = f"PUT /{ACCOUNT}{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in signed.items())
    with socket.create_connection(("127.0.0.1", server.blob_port), timeout=5) as sock:
        sock.sendall(head.encode() + b"\r\n" + b"x" * 1024)
        try:
            return sock.recv(200).split(b"\r\n")[0].decode()
        except socket.timeout:
            return None


@pytest.mark.parametrize("path,headers,limit", [
    ("/bad/huge", {"x-ms-blob-type": "BlockBlob"}, 5000 * 1024 * 1024),
    ("/bad/huge?comp=block&blockid=QUJD", {}, 4000 * 1024 * 1024),
])
def test_body_over_azure_limit_is_refused_from_content_length(server, path, headers, limit):
    """Azure's limits: Put Blob 5000 MiB, Put Block 4000 MiB; one byte more is 413
    RequestBodyTooLarge, decided from Content-Length before the body is read."""
    line = answer_to_headers_only(server, path, headers, limit + 1)
    assert line is not None and line.startswith("HTTP/1.1 413"), line
