"""Requests an SDK will not send: chunked bodies, empty PUTs, Expect: 100-continue, unknown comp,
and the shape of error responses."""

import http.client
from urllib.parse import urlsplit

import pytest
import requests

import helpers


def _chunks(*parts):
    yield from parts


@pytest.mark.azurite_gap("refuses the chunked upload with a bare 400 that has no error code")
def test_chunked_transfer_encoding_upload(endpoint, container):
    # Lapis accepts a chunked Put Blob (the issue asks that legal HTTP works); Azure itself
    # answers 411 MissingContentLengthHeader. Written down in docs/api-coverage.md.
    url = helpers.blob_url(endpoint, container.container_name, "chunked")
    headers = helpers.sign("PUT", url, {"x-ms-blob-type": "BlockBlob", "Transfer-Encoding": "chunked"})
    resp = requests.put(url, headers=headers, data=_chunks(b"abc", b"defgh", b"ij"), timeout=30)
    assert resp.status_code == 201, resp.text
    assert resp.headers["Content-MD5"] == helpers.md5_b64(b"abcdefghij")
    assert container.get_blob_client("chunked").download_blob().readall() == b"abcdefghij"


def test_empty_body_put(endpoint, container):
    url = helpers.blob_url(endpoint, container.container_name, "empty")
    resp = helpers.raw("PUT", url, data=b"", headers={"x-ms-blob-type": "BlockBlob"})
    assert resp.status_code == 201
    assert resp.headers["Content-MD5"] == helpers.md5_b64(b"")
    assert container.get_blob_client("empty").get_blob_properties().size == 0


def test_expect_100_continue(endpoint, container):
    url = helpers.blob_url(endpoint, container.container_name, "expect")
    body = b"x" * 70000
    headers = helpers.sign("PUT", url, {"x-ms-blob-type": "BlockBlob", "Content-Length": str(len(body)),
                                        "Expect": "100-continue"})
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("PUT", f"{parts.path}?{parts.query}" if parts.query else parts.path,
                        skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        # http.client does not wait for the interim 100; the server must accept the body either way.
        conn.send(body)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 201
    finally:
        conn.close()
    assert container.download_blob("expect").readall() == body


@pytest.mark.azurite_gap("ignores an unknown comp and runs Get Container Properties")
def test_unknown_comp_rejected(endpoint, container):
    resp = helpers.raw("GET", f"{endpoint}/{container.container_name}?restype=container&comp=bogus")
    helpers.assert_error(resp, 400, "InvalidQueryParameterValue")


@pytest.mark.azurite_gap("ignores an unknown comp and runs Get Blob")
def test_unknown_comp_on_blob_rejected(endpoint, container):
    container.upload_blob("b", b"x")
    resp = helpers.raw("GET", helpers.blob_url(endpoint, container.container_name, "b", "comp=bogus"))
    helpers.assert_error(resp, 400, "InvalidQueryParameterValue")


def test_error_body_matches_header(endpoint, container):
    resp = helpers.raw("GET", helpers.blob_url(endpoint, container.container_name, "missing"))
    helpers.assert_error(resp, 404, "BlobNotFound")
    assert resp.headers["Content-Type"].startswith("application/xml")
    assert "<Message>" in resp.text
    assert resp.headers["x-ms-request-id"]


def test_head_error_has_no_body_but_code_header(endpoint, container):
    resp = helpers.raw("HEAD", helpers.blob_url(endpoint, container.container_name, "missing"))
    assert resp.status_code == 404
    assert resp.headers["x-ms-error-code"] == "BlobNotFound"
    assert resp.content == b""


@pytest.mark.azurite_gap("answers a bare 400 with no error code")
def test_put_blob_without_blob_type_rejected(endpoint, container):
    resp = helpers.raw("PUT", helpers.blob_url(endpoint, container.container_name, "notype"), data=b"x")
    helpers.assert_error(resp, 400, "MissingRequiredHeader")


def test_duplicate_metadata_names_rejected(endpoint, container):
    url = helpers.blob_url(endpoint, container.container_name, "dup")
    headers = helpers.sign("PUT", url, {"x-ms-blob-type": "BlockBlob", "Content-Length": "1",
                                        "x-ms-meta-name": "a"})
    # Send a second header differing only in case, after signing (the signer lower-cases names).
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("PUT", parts.path)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.putheader("x-ms-meta-NAME", "b")
        conn.endheaders()
        conn.send(b"x")
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    # Either the signature no longer matches (403) or the duplicate is rejected (400): never stored.
    assert resp.status in (400, 403)
    assert not container.get_blob_client("dup").exists()


@pytest.mark.azurite_gap("refuses a backslash in a blob name with 403")
def test_backslash_in_a_blob_name_is_a_slash(endpoint, container):
    """Azure stores and lists a `\\` of a blob name (raw or %5C) as `/`."""
    for sent in ("dir%5Cfile.txt", "dir\\file.txt"):
        url = f"{endpoint}/{container.container_name}/{sent}"
        resp = helpers.raw("PUT", url, data=b"x", headers={"x-ms-blob-type": "BlockBlob"})
        assert resp.status_code == 201, resp.text
    assert [b.name for b in container.list_blobs()] == ["dir/file.txt"]
    assert container.get_blob_client("dir/file.txt").download_blob().readall() == b"x"


@pytest.mark.azurite_gap("accepts blob names of more than 254 segments")
def test_blob_name_of_more_than_254_segments_is_refused(endpoint, container):
    deep = "/".join(["s"] * 255)
    resp = helpers.raw("PUT", f"{endpoint}/{container.container_name}/{deep}", data=b"x",
                       headers={"x-ms-blob-type": "BlockBlob"})
    assert resp.status_code == 400, resp.text
    assert list(container.list_blobs()) == []
    ok = "/".join(["s"] * 254)
    resp = helpers.raw("PUT", f"{endpoint}/{container.container_name}/{ok}", data=b"x",
                       headers={"x-ms-blob-type": "BlockBlob"})
    assert resp.status_code == 201, resp.text
