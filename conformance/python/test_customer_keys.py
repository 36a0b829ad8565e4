"""Customer-provided keys (CPK), raw HTTP: the Python SDK refuses to send a key over plain http,
which Lapis accepts (Azure requires HTTPS; docs/api-coverage.md). Evidence: recordings
TestGetSetBlobMetadataWithCPK, TestPutBlockAndPutBlockListWithCPK, TestBlobSnapshotWithCPK; the
REST reference "Provide an encryption key on a request to Blob storage"."""

import base64
import hashlib
import os

import pytest

import helpers

pytestmark = pytest.mark.azurite_gap("has no customer-provided keys: ignores them in loose mode")


def cpk_headers(key):
    return {
        "x-ms-encryption-key": base64.b64encode(key).decode(),
        "x-ms-encryption-key-sha256": base64.b64encode(hashlib.sha256(key).digest()).decode(),
        "x-ms-encryption-algorithm": "AES256",
    }


KEY = b"0123456701234567" * 2
OTHER = os.urandom(32)


@pytest.mark.parametrize("size", [15, 200_000, 3 * 1024 * 1024])
def test_blob_under_a_key_is_read_only_with_it(endpoint, container, size):
    data = os.urandom(size)
    url = helpers.blob_url(endpoint, container.container_name, f"cpk{size}")
    put = helpers.raw("PUT", url, data=data, headers={"x-ms-blob-type": "BlockBlob", **cpk_headers(KEY)})
    assert put.status_code == 201, put.text
    sha = cpk_headers(KEY)["x-ms-encryption-key-sha256"]
    assert put.headers["x-ms-encryption-key-sha256"] == sha
    assert put.headers["x-ms-request-server-encrypted"] == "true"
    got = helpers.raw("GET", url, headers=cpk_headers(KEY))
    assert got.status_code == 200 and got.content == data
    assert got.headers["x-ms-encryption-key-sha256"] == sha
    ranged = helpers.raw("GET", url, headers={**cpk_headers(KEY), "x-ms-range": "bytes=7-12"})
    assert ranged.status_code == 206 and ranged.content == data[7:13]
    for method in ("GET", "HEAD"):
        helpers.assert_error(helpers.raw(method, url), 409, "BlobUsesCustomerSpecifiedEncryption")
        helpers.assert_error(helpers.raw(method, url, headers=cpk_headers(OTHER)), 409,
                             "BlobCustomerSpecifiedEncryptionMismatch")
    head = helpers.raw("HEAD", url, headers=cpk_headers(KEY))
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == size
    assert head.headers["Content-MD5"] == helpers.md5_b64(data)


def test_metadata_of_a_keyed_blob_needs_the_key(endpoint, container):
    url = helpers.blob_url(endpoint, container.container_name, "meta")
    assert helpers.raw("PUT", url, data=b"x", headers={"x-ms-blob-type": "BlockBlob", **cpk_headers(KEY)}).status_code == 201
    resp = helpers.raw("PUT", url + "?comp=metadata", headers={"x-ms-meta-foo": "bar"})
    helpers.assert_error(resp, 409, "BlobUsesCustomerSpecifiedEncryption")
    resp = helpers.raw("PUT", url + "?comp=metadata", headers={"x-ms-meta-foo": "bar", **cpk_headers(KEY)})
    assert resp.status_code == 200 and resp.headers["x-ms-encryption-key-sha256"]
    head = helpers.raw("HEAD", url, headers=cpk_headers(KEY))
    assert head.headers["x-ms-meta-foo"] == "bar"
    # Listing shows the key's hash and withholds the metadata.
    listed = helpers.raw("GET", f"{endpoint}/{container.container_name}?restype=container&comp=list&include=metadata")
    assert f"<CustomerProvidedKeySha256>{cpk_headers(KEY)['x-ms-encryption-key-sha256']}</CustomerProvidedKeySha256>" in listed.text
    assert '<Metadata Encrypted="true" />' in listed.text
    # Properties and deletion need no key.
    assert helpers.raw("PUT", url + "?comp=properties", headers={"x-ms-blob-content-type": "text/plain"}).status_code == 200
    assert helpers.raw("DELETE", url).status_code == 202


def test_blocks_and_their_commit_share_the_key(endpoint, container):
    url = helpers.blob_url(endpoint, container.container_name, "blocks")
    ids = [base64.b64encode(bytes([i, 0, 0, 0])).decode() for i in range(3)]
    parts = [os.urandom(70_000 + i) for i in range(3)]
    for block_id, part in zip(ids, parts):
        resp = helpers.raw("PUT", f"{url}?comp=block&blockid={block_id}", data=part, headers=cpk_headers(KEY))
        assert resp.status_code == 201 and resp.headers["x-ms-encryption-key-sha256"]
    body = ("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>"
            + "".join(f"<Latest>{i}</Latest>" for i in ids) + "</BlockList>").encode()
    helpers.assert_error(helpers.raw("PUT", url + "?comp=blocklist", data=body), 409,
                         "BlobUsesCustomerSpecifiedEncryption")
    helpers.assert_error(helpers.raw("PUT", url + "?comp=blocklist", data=body, headers=cpk_headers(OTHER)), 409,
                         "BlobCustomerSpecifiedEncryptionMismatch")
    resp = helpers.raw("PUT", url + "?comp=blocklist", data=body, headers=cpk_headers(KEY))
    assert resp.status_code == 201, resp.text
    got = helpers.raw("GET", url, headers=cpk_headers(KEY))
    assert got.content == b"".join(parts)


def test_a_key_for_a_blob_without_one_is_refused(endpoint, container):
    url = helpers.blob_url(endpoint, container.container_name, "plain")
    assert helpers.raw("PUT", url, data=b"plain", headers={"x-ms-blob-type": "BlockBlob"}).status_code == 201
    helpers.assert_error(helpers.raw("GET", url, headers=cpk_headers(KEY)), 409,
                         "BlobDoesNotUseCustomerSpecifiedEncryption")
    # The algorithm alone, which older SDKs send on every request, is no key.
    resp = helpers.raw("GET", url, headers={"x-ms-encryption-algorithm": "AES256"})
    assert resp.status_code == 200 and resp.content == b"plain"


def test_malformed_keys_are_refused(endpoint, container):
    url = helpers.blob_url(endpoint, container.container_name, "bad")
    base = {"x-ms-blob-type": "BlockBlob"}
    for headers, code in (
            ({"x-ms-encryption-key": "mumbojumbo", "x-ms-encryption-key-sha256": "mumbojumbohash",
              "x-ms-encryption-algorithm": "AES256"}, "InvalidHeaderValue"),
            ({**cpk_headers(KEY), "x-ms-encryption-key-sha256": cpk_headers(OTHER)["x-ms-encryption-key-sha256"]},
             "InvalidHeaderValue"),
            ({**cpk_headers(KEY), "x-ms-encryption-algorithm": "AES128"}, "InvalidHeaderValue"),
            ({k: v for k, v in cpk_headers(KEY).items() if k != "x-ms-encryption-algorithm"}, "MissingRequiredHeader"),
            ({"x-ms-encryption-key": cpk_headers(KEY)["x-ms-encryption-key"]}, "MissingRequiredHeader")):
        resp = helpers.raw("PUT", url, data=b"x", headers={**base, **headers})
        helpers.assert_error(resp, 400, code)
    assert helpers.raw("HEAD", url).status_code == 404


def test_an_encryption_scope_is_not_available(endpoint, container):
    url = helpers.blob_url(endpoint, container.container_name, "scoped")
    resp = helpers.raw("PUT", url, data=b"x", headers={"x-ms-blob-type": "BlockBlob", "x-ms-encryption-scope": "scope1"})
    helpers.assert_error(resp, 409, "EncryptionScopeNotAvailable")
    assert helpers.raw("HEAD", url).status_code == 404
