"""Blob Batch through azure-storage-blob: ContainerClient.delete_blobs and
set_standard_blob_tier_blobs, failures inside a batch, SAS-authorised batches, and a service-level
batch written by hand (the Python SDK offers batches on containers only)."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import (
    ContainerClient,
    ContainerSasPermissions,
    PartialBatchErrorException,
    generate_container_sas,
)

import helpers


def _upload(container, *names):
    for name in names:
        container.upload_blob(name, b"batch me")


def _names(container):
    return sorted(b.name for b in container.list_blobs())


def _code(part):
    return part.headers.get("x-ms-error-code")


def test_delete_blobs_deletes_each(container):
    _upload(container, "a", "dir/b", "c d")
    parts = list(container.delete_blobs("a", "dir/b", "c d"))
    assert [p.status_code for p in parts] == [202, 202, 202]
    assert all(p.headers.get("x-ms-delete-type-permanent") == "true" for p in parts)
    assert all(p.headers.get("x-ms-request-id") for p in parts)
    assert _names(container) == []


def test_one_failure_does_not_stop_the_others(container):
    _upload(container, "a", "c")
    parts = list(container.delete_blobs("a", "missing", "c", raise_on_any_failure=False))
    assert [p.status_code for p in parts] == [202, 404, 202]
    assert _code(parts[1]) == "BlobNotFound"
    assert helpers.error_code_from_body(parts[1].body()) == "BlobNotFound"
    assert _names(container) == []


def test_a_partial_failure_raises_with_every_part(container):
    _upload(container, "a")
    with pytest.raises(PartialBatchErrorException) as excinfo:
        container.delete_blobs("a", "missing")
    assert [p.status_code for p in excinfo.value.parts] == [202, 404]
    assert _names(container) == []


def test_sub_requests_keep_their_conditions_and_options(container):
    _upload(container, "guarded", "free", "snapped")
    etag = container.get_blob_client("guarded").get_blob_properties().etag
    parts = list(container.delete_blobs(
        {"name": "guarded", "etag": etag, "match_condition": MatchConditions.IfModified},
        {"name": "free", "etag": etag, "match_condition": MatchConditions.IfNotModified},
        raise_on_any_failure=False,
    ))
    # If-None-Match on the blob's own ETag: the delete is refused; If-Match on another blob's
    # ETag: refused too.
    assert [p.status_code for p in parts] == [412, 412]
    assert [_code(p) for p in parts] == ["ConditionNotMet", "ConditionNotMet"]
    parts = list(container.delete_blobs("snapped", delete_snapshots="include"))
    assert [p.status_code for p in parts] == [202]
    assert _names(container) == ["free", "guarded"]


def test_a_missing_container_is_reported_per_blob(service, container):
    other = service.get_container_client(helpers.unique_name("gone"))
    parts = list(other.delete_blobs("x", raise_on_any_failure=False))
    assert [p.status_code for p in parts] == [404]
    assert _code(parts[0]) == "ContainerNotFound"


def test_set_tier_in_a_batch_answers_as_set_tier_alone(container):
    """Set Blob Tier runs the operation's own code: each part answers what the same request
    answers on its own, whatever that is in this build."""
    _upload(container, "t1", "t2")
    alone = container.get_blob_client("t2")
    try:
        alone.set_standard_blob_tier("Cool")
        expected = (200, None)
    except HttpResponseError as e:
        expected = (e.status_code, e.error_code)
    parts = list(container.set_standard_blob_tier_blobs("Cool", "t1", raise_on_any_failure=False))
    assert [(p.status_code, _code(p)) for p in parts] == [expected]


def test_more_than_256_is_refused_whole(container):
    _upload(container, "a")
    with pytest.raises((PartialBatchErrorException, HttpResponseError)) as excinfo:
        container.delete_blobs(*(["a"] * 257))
    assert "ExceedsMaxBatchRequestCount" in str(excinfo.value)
    assert _names(container) == ["a"]


def _sas_container(endpoint, name, permission):
    sas = generate_container_sas(
        helpers.ACCOUNT, name, helpers.KEY, permission=permission,
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    return ContainerClient.from_container_url(f"{endpoint}/{name}?{sas}")


def test_a_sas_batch_checks_each_sub_request(endpoint, container):
    _upload(container, "a", "b")
    no_delete = _sas_container(endpoint, container.container_name, ContainerSasPermissions(read=True, write=True))
    parts = list(no_delete.delete_blobs("a", "b", raise_on_any_failure=False))
    assert [p.status_code for p in parts] == [403, 403]
    assert [_code(p) for p in parts] == ["AuthorizationPermissionMismatch"] * 2
    assert _names(container) == ["a", "b"]
    deleter = _sas_container(endpoint, container.container_name, ContainerSasPermissions(delete=True))
    parts = list(deleter.delete_blobs("a", "b"))
    assert [p.status_code for p in parts] == [202, 202]
    assert _names(container) == []


def _part(content_id, blob_url, endpoint_host):
    """One sub-request signed with Shared Key over its own path-style URL."""
    headers = helpers.sign("DELETE", blob_url, {"Content-Length": "0"})
    path = blob_url[len(endpoint_host):]
    lines = [
        "Content-Type: application/http",
        "Content-Transfer-Encoding: binary",
        f"Content-ID: {content_id}",
        "",
        f"DELETE {path} HTTP/1.1",
    ] + [f"{k}: {v}" for k, v in headers.items()] + ["", ""]
    return "\r\n".join(lines)


def test_service_level_batch_spans_containers(service, endpoint):
    names = [helpers.unique_name("b1"), helpers.unique_name("b2")]
    clients = [service.create_container(n) for n in names]
    try:
        for c in clients:
            _upload(c, "x")
        host = endpoint[: endpoint.index("/", len("http://"))]
        boundary = f"batch_{uuid.uuid4()}"
        body = "".join(
            f"--{boundary}\r\n" + _part(i, helpers.blob_url(endpoint, n, "x"), host)
            for i, n in enumerate(names)
        ) + f"--{boundary}--\r\n"
        resp = helpers.raw("POST", f"{endpoint}/?comp=batch",
                           {"Content-Type": f"multipart/mixed; boundary={boundary}"}, body.encode())
        assert resp.status_code == 202, resp.content[:500]
        ct = resp.headers["Content-Type"]
        assert ct.startswith("multipart/mixed; boundary=batchresponse_")
        text = resp.text
        assert text.count("HTTP/1.1 202 Accepted") == 2, text
        assert "Content-ID: 0\r\n" in text and "Content-ID: 1\r\n" in text
        assert all(_names(c) == [] for c in clients)
    finally:
        for c in clients:
            c.delete_container()


def test_a_batch_without_multipart_content_type_is_refused(endpoint):
    resp = helpers.raw("POST", f"{endpoint}/?comp=batch", {"Content-Type": "application/xml"}, b"x")
    assert resp.status_code == 202
    text = resp.text
    assert "HTTP/1.1 400 " in text and "x-ms-error-code: InvalidHeaderValue\r\n" in text, text


def _unsigned_part(content_id, path):
    return (f"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: {content_id}\r\n\r\nDELETE {path} HTTP/1.1\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.azurite_gap("Azurite authenticates each sub-request alone (403 AuthenticationFailed); "
                         "no Azure recording shows a sub-request without credentials")
@pytest.mark.parametrize("permission, status", [("rd", 202), ("rw", 403)])
def test_sub_requests_without_credentials_take_the_batch_sas(endpoint, container, permission, status):
    """The batch's own SAS, applied to each sub-request's blob: a SAS without `d` deletes nothing."""
    _upload(container, "a", "b")
    name = container.container_name
    sas = generate_container_sas(helpers.ACCOUNT, name, helpers.KEY, permission=permission,
                                 expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    boundary = f"batch_{uuid.uuid4()}"
    body = "".join(f"--{boundary}\r\n" + _unsigned_part(i, f"/{helpers.ACCOUNT}/{name}/{blob}")
                   for i, blob in enumerate(["a", "b"])) + f"--{boundary}--\r\n"
    resp = helpers.raw("POST", f"{endpoint}/{name}?restype=container&comp=batch&{sas}",
                       {"Content-Type": f"multipart/mixed; boundary={boundary}",
                        "x-ms-version": helpers.API_VERSION}, body.encode(), signed=False)
    assert resp.status_code == 202, resp.content[:500]
    assert resp.text.count(f"HTTP/1.1 {status} ") == 2, resp.text
    if status == 403:
        assert resp.text.count("x-ms-error-code: AuthorizationPermissionMismatch\r\n") == 2
        assert _names(container) == ["a", "b"]
    else:
        assert _names(container) == []
