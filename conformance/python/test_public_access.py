"""Anonymous access. Azure hides private resources from anonymous callers: a read of a private
container or blob, or of a missing one, is 404 ResourceNotFound (not 403, and not ContainerNotFound,
so anonymous callers cannot probe what exists). Anonymous writes are never allowed; on a private
container they get the same 404 ResourceNotFound."""

import pytest
import requests

import helpers


def _anon(method, url, **kwargs):
    return requests.request(method, url, timeout=30, **kwargs)


@pytest.fixture
def public_blob_container(service):
    client = service.create_container(helpers.unique_name("pb"), public_access="blob")
    client.upload_blob("hello.txt", b"hello anonymous", metadata={"k": "v"})
    yield client
    client.delete_container()


@pytest.fixture
def public_container(service):
    client = service.create_container(helpers.unique_name("pc"), public_access="container")
    client.upload_blob("hello.txt", b"hello anonymous")
    yield client
    client.delete_container()


@pytest.fixture
def private_container(container):
    container.upload_blob("hello.txt", b"secret")
    return container


def test_blob_level_anonymous_get_blob(endpoint, public_blob_container):
    url = helpers.blob_url(endpoint, public_blob_container.container_name, "hello.txt")
    resp = _anon("GET", url)
    assert resp.status_code == 200
    assert resp.content == b"hello anonymous"
    head = _anon("HEAD", url)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(b"hello anonymous"))
    assert head.headers["x-ms-meta-k"] == "v"


def test_blob_level_anonymous_missing_blob(endpoint, public_blob_container):
    resp = _anon("GET", helpers.blob_url(endpoint, public_blob_container.container_name, "nope"))
    helpers.assert_error(resp, 404, "BlobNotFound")


@pytest.mark.azurite_gap("answers 403 AuthorizationFailure instead of 404 ResourceNotFound")
def test_blob_level_anonymous_list_denied(endpoint, public_blob_container):
    resp = _anon("GET", f"{endpoint}/{public_blob_container.container_name}?restype=container&comp=list")
    helpers.assert_error(resp, 404, "ResourceNotFound")


@pytest.mark.azurite_gap("answers 403 AuthorizationFailure instead of 404 ResourceNotFound")
def test_blob_level_anonymous_container_properties_denied(endpoint, public_blob_container):
    resp = _anon("GET", f"{endpoint}/{public_blob_container.container_name}?restype=container")
    helpers.assert_error(resp, 404, "ResourceNotFound")


def test_container_level_anonymous_list(endpoint, public_container):
    resp = _anon("GET", f"{endpoint}/{public_container.container_name}?restype=container&comp=list")
    assert resp.status_code == 200
    assert "<Name>hello.txt</Name>" in resp.text
    blob = _anon("GET", helpers.blob_url(endpoint, public_container.container_name, "hello.txt"))
    assert blob.status_code == 200
    assert blob.content == b"hello anonymous"


def test_container_level_anonymous_container_properties(endpoint, public_container):
    resp = _anon("HEAD", f"{endpoint}/{public_container.container_name}?restype=container")
    assert resp.status_code == 200
    assert resp.headers["x-ms-blob-public-access"] == "container"


@pytest.mark.azurite_gap("answers 403 AuthorizationFailure instead of 404 ResourceNotFound")
def test_private_anonymous_get_blob(endpoint, private_container):
    resp = _anon("GET", helpers.blob_url(endpoint, private_container.container_name, "hello.txt"))
    helpers.assert_error(resp, 404, "ResourceNotFound")


@pytest.mark.azurite_gap("answers 403 AuthorizationFailure instead of 404 ResourceNotFound")
def test_private_anonymous_list(endpoint, private_container):
    resp = _anon("GET", f"{endpoint}/{private_container.container_name}?restype=container&comp=list")
    helpers.assert_error(resp, 404, "ResourceNotFound")


@pytest.mark.azurite_gap("answers 403 AuthorizationFailure instead of 404 ResourceNotFound")
def test_anonymous_missing_container(endpoint):
    # Existence is not revealed before authorisation: no ContainerNotFound for anonymous callers.
    resp = _anon("GET", f"{endpoint}/{helpers.unique_name('missing')}?restype=container&comp=list")
    helpers.assert_error(resp, 404, "ResourceNotFound")


@pytest.mark.azurite_gap("answers 403 AuthorizationFailure instead of 404 ResourceNotFound")
def test_private_anonymous_write(endpoint, private_container):
    url = helpers.blob_url(endpoint, private_container.container_name, "intruder.txt")
    resp = _anon("PUT", url, data=b"x", headers={"x-ms-blob-type": "BlockBlob"})
    helpers.assert_error(resp, 404, "ResourceNotFound")
    assert not private_container.get_blob_client("intruder.txt").exists()


def test_public_anonymous_write_refused(endpoint, public_container):
    # Public access is read-only: a write is refused (Azure does not document the exact code here,
    # so assert only that it fails as a client error and nothing is written).
    url = helpers.blob_url(endpoint, public_container.container_name, "intruder.txt")
    resp = _anon("PUT", url, data=b"x", headers={"x-ms-blob-type": "BlockBlob"})
    assert resp.status_code in (401, 403, 404), resp.status_code
    assert resp.headers.get("x-ms-error-code")
    assert not public_container.get_blob_client("intruder.txt").exists()
    delete = _anon("DELETE", helpers.blob_url(endpoint, public_container.container_name, "hello.txt"))
    assert delete.status_code in (401, 403, 404)
    assert public_container.get_blob_client("hello.txt").exists()


def test_anonymous_service_operations_refused(endpoint):
    resp = _anon("GET", f"{endpoint}/?comp=list")
    assert resp.status_code in (401, 403, 404)
    assert resp.headers.get("x-ms-error-code")
    props = _anon("GET", f"{endpoint}/?restype=service&comp=properties")
    assert props.status_code in (401, 403, 404)
