"""Request headers and query parameters that change what an operation does: each is honoured or
refused with Azure's answer, never dropped (docs/api-coverage.md, "Request parameters")."""

import base64
from datetime import timedelta, datetime, timezone

import pytest
import requests
from azure.storage.blob import BlobSasPermissions, generate_blob_sas

import helpers

NO_REFUSAL = pytest.mark.azurite_gap("accepts the parameter and ignores it")


@pytest.fixture
def blob_url(endpoint, container):
    url = helpers.blob_url(endpoint, container.container_name, "b")
    resp = helpers.raw("PUT", url, data=b"0123456789", headers={
        "x-ms-blob-type": "BlockBlob", "x-ms-blob-content-type": "text/plain"})
    assert resp.status_code == 201
    return url


def _unchanged(container):
    blob = container.get_blob_client("b")
    assert blob.download_blob().readall() == b"0123456789"
    assert blob.get_blob_properties().content_settings.content_type == "text/plain"


def test_a_lease_id_never_matches(endpoint, container, blob_url):
    """No blob or container has a lease: Azure's 412 for an operation naming one."""
    lease = {"x-ms-lease-id": "2a6d6e74-0000-0000-0000-000000000000"}
    for method, query in (("GET", ""), ("HEAD", ""), ("DELETE", ""), ("PUT", "?comp=metadata")):
        resp = helpers.raw(method, blob_url + query, headers=lease)
        assert resp.status_code == 412, (method, query, resp.status_code)
        assert resp.headers["x-ms-error-code"] == "LeaseNotPresentWithBlobOperation"
    resp = helpers.raw("DELETE", f"{endpoint}/{container.container_name}?restype=container", headers=lease)
    helpers.assert_error(resp, 412, "LeaseNotPresentWithContainerOperation")
    _unchanged(container)


@NO_REFUSAL
@pytest.mark.parametrize("header,value,status,code", [
    ("x-ms-immutability-policy-until-date", "Fri, 01 Jan 2100 00:00:00 GMT", 501, "NotImplemented"),
    ("x-ms-legal-hold", "true", 501, "NotImplemented"),
    ("x-ms-structured-body", "XSM/1.0; properties=crc64", 501, "NotImplemented"),
    ("x-ms-encryption-scope", "scope1", 409, "EncryptionScopeNotAvailable"),
])
def test_put_blob_refuses_what_it_cannot_honour(container, blob_url, header, value, status, code):
    resp = helpers.raw("PUT", blob_url, data=b"other", headers={"x-ms-blob-type": "BlockBlob", header: value})
    helpers.assert_error(resp, status, code)
    _unchanged(container)


def test_if_tags_on_reads_is_a_condition(container, blob_url):
    """The blob has no tags, so no tag condition holds for it (test_tags.py has the rest)."""
    for method in ("GET", "HEAD"):
        resp = helpers.raw(method, blob_url, headers={"x-ms-if-tags": "\"a\" = 'b'"})
        assert resp.status_code == 412, (method, resp.status_code)
        assert resp.headers["x-ms-error-code"] == "ConditionNotMet"


@NO_REFUSAL
def test_resize_and_sequence_number_are_page_blob_operations(container, blob_url):
    """PUT ?comp=properties with a page blob size or sequence action is not Set Blob Properties:
    it must not clear the blob's content headers, and on a block blob it is refused."""
    for headers in ({"x-ms-blob-content-length": "512"}, {"x-ms-sequence-number-action": "increment"}):
        resp = helpers.raw("PUT", blob_url + "?comp=properties", headers=headers)
        helpers.assert_error(resp, 409, "InvalidBlobType")
    _unchanged(container)


@NO_REFUSAL
def test_delete_only_the_snapshots_keeps_the_blob(container, blob_url):
    resp = helpers.raw("DELETE", blob_url, headers={"x-ms-delete-snapshots": "only"})
    assert resp.status_code == 202, resp.text
    _unchanged(container)
    helpers.assert_error(helpers.raw("DELETE", blob_url, headers={"x-ms-delete-snapshots": "some"}), 400,
                         "InvalidHeaderValue")
    # Permanent delete is for soft-deleted snapshots and versions: of the blob itself, Azure's
    # 409 (the reference gives no code), and nothing is deleted.
    assert helpers.raw("DELETE", blob_url + "?deletetype=permanent").status_code == 409
    _unchanged(container)
    assert helpers.raw("DELETE", blob_url, headers={"x-ms-delete-snapshots": "include"}).status_code == 202
    assert helpers.raw("HEAD", blob_url).status_code == 404


@pytest.mark.azurite_gap("does not answer x-ms-range-get-content-crc64")
def test_range_crc64_is_answered(blob_url):
    resp = helpers.raw("GET", blob_url, headers={"x-ms-range": "bytes=2-5", "x-ms-range-get-content-crc64": "true"})
    assert resp.status_code == 206 and resp.content == b"2345"
    # The same bytes put as a blob give the CRC64 to expect.
    ref = helpers.raw("PUT", blob_url + "-ref", data=b"2345", headers={"x-ms-blob-type": "BlockBlob"})
    assert resp.headers["x-ms-content-crc64"] == ref.headers["x-ms-content-crc64"]
    both = helpers.raw("GET", blob_url, headers={"x-ms-range": "bytes=2-5", "x-ms-range-get-content-crc64": "true",
                                                 "x-ms-range-get-content-md5": "true"})
    assert both.status_code == 400
    helpers.assert_error(helpers.raw("GET", blob_url, headers={"x-ms-range-get-content-crc64": "true"}), 400,
                         "InvalidHeaderValue")


@NO_REFUSAL
def test_unknown_listing_datasets_are_refused(endpoint, container, blob_url):
    base = f"{endpoint}/{container.container_name}?restype=container&comp=list"
    assert helpers.raw("GET", f"{base}&include=metadata,snapshots,versions,deleted,tags,copy").status_code == 200
    helpers.assert_error(helpers.raw("GET", f"{base}&include=everything"), 400, "InvalidQueryParameterValue")
    helpers.assert_error(helpers.raw("GET", f"{endpoint}?comp=list&include=metadata,bogus"), 400,
                         "InvalidQueryParameterValue")


@NO_REFUSAL
def test_a_container_default_encryption_scope_is_not_available(endpoint):
    name = helpers.unique_name()
    resp = helpers.raw("PUT", f"{endpoint}/{name}?restype=container",
                       headers={"x-ms-default-encryption-scope": "scope1"})
    helpers.assert_error(resp, 409, "EncryptionScopeNotAvailable")
    assert helpers.raw("GET", f"{endpoint}/{name}?restype=container").status_code == 404


def test_sas_response_header_overrides_are_answered(endpoint, container, blob_url):
    """A service SAS's rsct/rscd/rscc/rsce/rscl replace the stored headers in a read's answer."""
    sas = generate_blob_sas(helpers.ACCOUNT, container.container_name, "b", account_key=helpers.KEY,
                            permission=BlobSasPermissions(read=True),
                            expiry=datetime.now(timezone.utc) + timedelta(hours=1),
                            content_type="application/x-lapis", content_disposition="attachment; filename=b.txt",
                            cache_control="no-store", content_encoding="identity", content_language="fr")
    for method in ("GET", "HEAD"):
        resp = requests.request(method, f"{blob_url}?{sas}", timeout=30)
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == "application/x-lapis"
        assert resp.headers["Content-Disposition"] == "attachment; filename=b.txt"
        assert resp.headers["Cache-Control"] == "no-store"
        assert resp.headers["Content-Encoding"] == "identity"
        assert resp.headers["Content-Language"] == "fr"
    _unchanged(container)


@NO_REFUSAL
def test_a_sas_encryption_scope_is_not_available(endpoint, container, blob_url):
    sas = generate_blob_sas(helpers.ACCOUNT, container.container_name, "b", account_key=helpers.KEY,
                            permission=BlobSasPermissions(read=True, write=True),
                            expiry=datetime.now(timezone.utc) + timedelta(hours=1), encryption_scope="scope1")
    resp = requests.put(f"{blob_url}?{sas}", data=b"other", headers={"x-ms-blob-type": "BlockBlob"}, timeout=30)
    helpers.assert_error(resp, 409, "EncryptionScopeNotAvailable")
    assert requests.get(f"{blob_url}?{sas}", timeout=30).content == b"0123456789"
