"""Authentication: Shared Key (wrong key, second key, API versions) and shared access signatures."""

import base64
import os
from datetime import datetime, timedelta, timezone

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.storage.blob import (
    AccessPolicy,
    AccountSasPermissions,
    BlobClient,
    BlobSasPermissions,
    BlobServiceClient,
    ContainerClient,
    ContainerSasPermissions,
    ResourceTypes,
    generate_account_sas,
    generate_blob_sas,
    generate_container_sas,
)

import helpers


def _now():
    return datetime.now(timezone.utc)


def _assert_403(excinfo, code):
    assert excinfo.value.status_code == 403
    assert excinfo.value.error_code == code


@pytest.fixture
def seeded(container):
    container.upload_blob("readme.txt", b"public words")
    return container


def _blob_with_sas(endpoint, container_name, blob_name, sas):
    return BlobClient.from_blob_url(f"{helpers.blob_url(endpoint, container_name, blob_name)}?{sas}")


def _container_with_sas(endpoint, container_name, sas):
    return ContainerClient.from_container_url(f"{endpoint}/{container_name}?{sas}")


AUTH_CODE_GAP = pytest.mark.azurite_gap(
    "answers 403 AuthorizationFailure where Azure answers 403 AuthenticationFailed")


# --- Shared Key ---------------------------------------------------------------------------

@AUTH_CODE_GAP
def test_wrong_key_rejected(endpoint):
    wrong = base64.b64encode(os.urandom(64)).decode()
    client = BlobServiceClient.from_connection_string(helpers.connection_string(endpoint, key=wrong))
    with pytest.raises(ClientAuthenticationError) as e:
        client.get_service_properties()
    _assert_403(e, "AuthenticationFailed")


@AUTH_CODE_GAP
def test_wrong_key_raw_error_body(endpoint, container):
    wrong = base64.b64encode(os.urandom(64)).decode()
    resp = helpers.raw("GET", f"{endpoint}/{container.container_name}?restype=container", key=wrong)
    helpers.assert_error(resp, 403, "AuthenticationFailed")


def test_raw_signer_accepted(endpoint, container):
    resp = helpers.raw("GET", f"{endpoint}/{container.container_name}?restype=container&comp=list&prefix=a")
    assert resp.status_code == 200


@AUTH_CODE_GAP
def test_tampered_request_rejected(endpoint, container):
    headers = helpers.sign("GET", f"{endpoint}/{container.container_name}?restype=container", {})
    # The signature was computed for another resource.
    resp = requests.get(f"{endpoint}/{container.container_name}x?restype=container", headers=headers, timeout=30)
    helpers.assert_error(resp, 403, "AuthenticationFailed")


def test_newer_api_version_accepted(conn_str, container):
    client = BlobServiceClient.from_connection_string(conn_str, api_version="2025-11-05")
    blob = client.get_blob_client(container.container_name, "versioned")
    blob.upload_blob(b"v")
    assert blob.download_blob().readall() == b"v"


def test_old_api_version_accepted(conn_str, container):
    client = BlobServiceClient.from_connection_string(conn_str, api_version="2019-02-02")
    assert client.get_container_client(container.container_name).get_container_properties().name \
        == container.container_name


@pytest.fixture(scope="module")
def second_account(start_server):
    key1 = base64.b64encode(os.urandom(64)).decode()
    key2 = base64.b64encode(os.urandom(64)).decode()
    server = start_server({"AZURITE_ACCOUNTS": f"acct2:{key1}:{key2}"}, account="acct2")
    return server.endpoint, key1, key2


def test_second_account_key_accepted(second_account):
    endpoint, key1, key2 = second_account
    first = BlobServiceClient.from_connection_string(helpers.connection_string(endpoint, "acct2", key1))
    second = BlobServiceClient.from_connection_string(helpers.connection_string(endpoint, "acct2", key2))
    name = helpers.unique_name("k")
    first.create_container(name)
    try:
        assert [c.name for c in second.list_containers(name_starts_with=name)] == [name]
        # The default account's key does not open acct2.
        wrong = BlobServiceClient.from_connection_string(
            helpers.connection_string(endpoint, "acct2", helpers.KEY))
        with pytest.raises(HttpResponseError) as e:
            list(wrong.list_containers())
        assert e.value.status_code == 403
    finally:
        second.delete_container(name)


# --- SAS ----------------------------------------------------------------------------------

def test_container_sas_read_allows_read_denies_write(endpoint, seeded):
    sas = generate_container_sas(helpers.ACCOUNT, seeded.container_name, helpers.KEY,
                                 permission=ContainerSasPermissions(read=True, list=True),
                                 expiry=_now() + timedelta(hours=1))
    reader = _container_with_sas(endpoint, seeded.container_name, sas)
    assert [b.name for b in reader.list_blobs()] == ["readme.txt"]
    assert reader.download_blob("readme.txt").readall() == b"public words"
    with pytest.raises(HttpResponseError) as e:
        reader.upload_blob("new.txt", b"x")
    _assert_403(e, "AuthorizationPermissionMismatch")


def test_blob_sas_read_and_write(endpoint, seeded):
    sas = generate_blob_sas(helpers.ACCOUNT, seeded.container_name, "readme.txt", account_key=helpers.KEY,
                            permission=BlobSasPermissions(read=True), expiry=_now() + timedelta(hours=1))
    blob = _blob_with_sas(endpoint, seeded.container_name, "readme.txt", sas)
    assert blob.download_blob().readall() == b"public words"
    with pytest.raises(HttpResponseError) as e:
        blob.upload_blob(b"overwrite", overwrite=True)
    _assert_403(e, "AuthorizationPermissionMismatch")
    writer_sas = generate_blob_sas(helpers.ACCOUNT, seeded.container_name, "readme.txt", account_key=helpers.KEY,
                                   permission=BlobSasPermissions(write=True, create=True),
                                   expiry=_now() + timedelta(hours=1))
    _blob_with_sas(endpoint, seeded.container_name, "readme.txt", writer_sas).upload_blob(b"new", overwrite=True)
    assert seeded.download_blob("readme.txt").readall() == b"new"


@AUTH_CODE_GAP
def test_expired_sas(endpoint, seeded):
    sas = generate_blob_sas(helpers.ACCOUNT, seeded.container_name, "readme.txt", account_key=helpers.KEY,
                            permission="r", start=_now() - timedelta(hours=2),
                            expiry=_now() - timedelta(hours=1))
    with pytest.raises(ClientAuthenticationError) as e:
        _blob_with_sas(endpoint, seeded.container_name, "readme.txt", sas).download_blob()
    _assert_403(e, "AuthenticationFailed")


@AUTH_CODE_GAP
def test_not_yet_valid_sas(endpoint, seeded):
    sas = generate_blob_sas(helpers.ACCOUNT, seeded.container_name, "readme.txt", account_key=helpers.KEY,
                            permission="r", start=_now() + timedelta(hours=1),
                            expiry=_now() + timedelta(hours=2))
    with pytest.raises(ClientAuthenticationError) as e:
        _blob_with_sas(endpoint, seeded.container_name, "readme.txt", sas).download_blob()
    _assert_403(e, "AuthenticationFailed")


@AUTH_CODE_GAP
def test_tampered_sas_signature(endpoint, seeded):
    sas = generate_blob_sas(helpers.ACCOUNT, seeded.container_name, "readme.txt", account_key=helpers.KEY,
                            permission="r", expiry=_now() + timedelta(hours=1))
    # Widening the permission without re-signing must break the signature.
    tampered = sas.replace("sp=r", "sp=rw")
    assert tampered != sas
    blob = _blob_with_sas(endpoint, seeded.container_name, "readme.txt", tampered)
    with pytest.raises(ClientAuthenticationError) as e:
        blob.upload_blob(b"x", overwrite=True)
    _assert_403(e, "AuthenticationFailed")


@AUTH_CODE_GAP
def test_container_sas_on_other_container(endpoint, seeded, service):
    other = service.create_container(helpers.unique_name("other"))
    try:
        other.upload_blob("readme.txt", b"other")
        sas = generate_container_sas(helpers.ACCOUNT, seeded.container_name, helpers.KEY,
                                     permission="rl", expiry=_now() + timedelta(hours=1))
        with pytest.raises(ClientAuthenticationError) as e:
            _blob_with_sas(endpoint, other.container_name, "readme.txt", sas).download_blob()
        _assert_403(e, "AuthenticationFailed")
    finally:
        other.delete_container()


@AUTH_CODE_GAP
def test_blob_sas_on_other_blob(endpoint, seeded):
    seeded.upload_blob("secret.txt", b"secret")
    sas = generate_blob_sas(helpers.ACCOUNT, seeded.container_name, "readme.txt", account_key=helpers.KEY,
                            permission="r", expiry=_now() + timedelta(hours=1))
    with pytest.raises(ClientAuthenticationError) as e:
        _blob_with_sas(endpoint, seeded.container_name, "secret.txt", sas).download_blob()
    _assert_403(e, "AuthenticationFailed")


def test_sas_with_stored_access_policy(endpoint, seeded):
    seeded.set_container_access_policy(signed_identifiers={
        "readers": AccessPolicy(permission="rl", expiry=_now() + timedelta(hours=1),
                                start=_now() - timedelta(minutes=5)),
    })
    sas = generate_container_sas(helpers.ACCOUNT, seeded.container_name, helpers.KEY, policy_id="readers")
    reader = _container_with_sas(endpoint, seeded.container_name, sas)
    assert reader.download_blob("readme.txt").readall() == b"public words"
    with pytest.raises(HttpResponseError) as e:
        reader.upload_blob("nope", b"x")
    _assert_403(e, "AuthorizationPermissionMismatch")


@AUTH_CODE_GAP
def test_sas_with_unknown_policy_rejected(endpoint, seeded):
    sas = generate_container_sas(helpers.ACCOUNT, seeded.container_name, helpers.KEY, policy_id="ghost")
    with pytest.raises(HttpResponseError) as e:
        _container_with_sas(endpoint, seeded.container_name, sas).download_blob("readme.txt")
    _assert_403(e, "AuthenticationFailed")


def test_account_sas_read(endpoint, seeded):
    sas = generate_account_sas(helpers.ACCOUNT, helpers.KEY,
                               resource_types=ResourceTypes(service=True, container=True, object=True),
                               permission=AccountSasPermissions(read=True, list=True),
                               expiry=_now() + timedelta(hours=1))
    client = BlobServiceClient(account_url=endpoint, credential=sas)
    assert seeded.container_name in [c.name for c in client.list_containers(name_starts_with="c")]
    assert client.get_blob_client(seeded.container_name, "readme.txt").download_blob().readall() \
        == b"public words"
    with pytest.raises(HttpResponseError) as e:
        client.get_blob_client(seeded.container_name, "w").upload_blob(b"x")
    _assert_403(e, "AuthorizationPermissionMismatch")


def test_account_sas_object_only_on_container_op(endpoint, seeded):
    sas = generate_account_sas(helpers.ACCOUNT, helpers.KEY, resource_types=ResourceTypes(object=True),
                               permission=AccountSasPermissions(read=True, list=True),
                               expiry=_now() + timedelta(hours=1))
    client = BlobServiceClient(account_url=endpoint, credential=sas)
    assert client.get_blob_client(seeded.container_name, "readme.txt").download_blob().readall() \
        == b"public words"
    with pytest.raises(HttpResponseError) as e:
        client.get_container_client(seeded.container_name).get_container_properties()
    _assert_403(e, "AuthorizationResourceTypeMismatch")


@AUTH_CODE_GAP
def test_account_sas_expired(endpoint, seeded):
    sas = generate_account_sas(helpers.ACCOUNT, helpers.KEY, resource_types="sco", permission="rl",
                               start=_now() - timedelta(hours=2), expiry=_now() - timedelta(hours=1))
    client = BlobServiceClient(account_url=endpoint, credential=sas)
    with pytest.raises(ClientAuthenticationError) as e:
        client.get_blob_client(seeded.container_name, "readme.txt").download_blob()
    _assert_403(e, "AuthenticationFailed")


# --- What a container SAS may not do (REST reference "Create a service SAS": containers can't be
# created, deleted, or listed; their metadata and properties can't be read or written; an ACL is
# the account owner's) ----------------------------------------------------------------------------

ALL_CONTAINER_PERMISSIONS = ContainerSasPermissions(
    read=True, add=True, create=True, write=True, delete=True, list=True)


@pytest.mark.azurite_gap("answers AuthorizationPermissionMismatch, and lets a container SAS set the ACL")
def test_container_sas_cannot_touch_the_container_itself(endpoint, service, seeded):
    name = seeded.container_name
    sas = generate_container_sas(helpers.ACCOUNT, name, account_key=helpers.KEY,
                                 permission=ALL_CONTAINER_PERMISSIONS, expiry=_now() + timedelta(hours=1))
    client = _container_with_sas(endpoint, name, sas)
    for call in (client.get_container_properties,
                 lambda: client.set_container_metadata({"a": "b"}),
                 client.get_container_access_policy,
                 lambda: client.set_container_access_policy({}, public_access="container"),
                 client.delete_container):
        with pytest.raises(HttpResponseError) as e:
            call()
        _assert_403(e, "AuthorizationFailure")
    # Nothing changed: still private, still there, its blobs intact.
    assert service.get_container_client(name).get_container_properties().public_access is None
    assert seeded.download_blob("readme.txt").readall() == b"public words"
    anonymous = requests.get(f"{endpoint}/{name}?restype=container&comp=list")
    assert anonymous.status_code == 404
    # Creating a container is not for a container SAS either.
    other = helpers.unique_name()
    created = _container_with_sas(endpoint, other, generate_container_sas(
        helpers.ACCOUNT, other, account_key=helpers.KEY, permission=ALL_CONTAINER_PERMISSIONS,
        expiry=_now() + timedelta(hours=1)))
    with pytest.raises(HttpResponseError) as e:
        created.create_container()
    _assert_403(e, "AuthorizationFailure")
    # What it is for still works.
    assert [b.name for b in client.list_blobs()] == ["readme.txt"]


@pytest.mark.azurite_gap("lets an account SAS read and replace container ACLs")
def test_account_sas_cannot_read_or_set_container_acls(endpoint, seeded):
    sas = generate_account_sas(helpers.ACCOUNT, helpers.KEY, ResourceTypes(service=True, container=True, object=True),
                               AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True,
                                                     create=True, update=True, process=True),
                               expiry=_now() + timedelta(hours=1))
    client = _container_with_sas(endpoint, seeded.container_name, sas)
    for call in (client.get_container_access_policy,
                 lambda: client.set_container_access_policy({}, public_access="container")):
        with pytest.raises(HttpResponseError) as e:
            call()
        _assert_403(e, "AuthorizationFailure")
    assert client.get_container_properties().public_access is None


def test_create_permission_creates_but_never_overwrites(endpoint, seeded):
    sas = generate_container_sas(helpers.ACCOUNT, seeded.container_name, account_key=helpers.KEY,
                                 permission=ContainerSasPermissions(create=True), expiry=_now() + timedelta(hours=1))
    client = _container_with_sas(endpoint, seeded.container_name, sas)
    client.upload_blob("new.txt", b"fresh")
    with pytest.raises(HttpResponseError) as e:
        client.upload_blob("readme.txt", b"overwritten", overwrite=True)
    _assert_403(e, "AuthorizationPermissionMismatch")
    assert seeded.download_blob("readme.txt").readall() == b"public words"


@pytest.mark.azurite_gap("answers 202 to deleting a snapshot that does not exist")
def test_snapshot_and_version_are_never_the_base_blob(endpoint, seeded):
    """A request naming a snapshot or version that does not exist finds nothing: it never reads
    or deletes the base blob (Lapis keeps no snapshots or versions yet)."""
    name = seeded.container_name
    url = helpers.blob_url(endpoint, name, "readme.txt")
    for query in ("snapshot=2020-01-01T00:00:00.0000000Z", "versionid=2022-08-11T15:08:12.7697235Z"):
        helpers.assert_error(helpers.raw("DELETE", f"{url}?{query}"), 404, "BlobNotFound")
        helpers.assert_error(helpers.raw("GET", f"{url}?{query}"), 404, "BlobNotFound")
    helpers.assert_error(helpers.raw("GET", f"{url}?snapshot=yesterday"), 400, "InvalidQueryParameterValue")
    assert seeded.download_blob("readme.txt").readall() == b"public words"
    # A snapshot SAS reads that snapshot only.
    snap = "2020-01-01T00:00:00.0000000Z"
    sas = generate_blob_sas(helpers.ACCOUNT, name, "readme.txt", snapshot=snap, account_key=helpers.KEY,
                            permission=BlobSasPermissions(read=True, delete=True), expiry=_now() + timedelta(hours=1))
    from urllib.parse import quote
    at_snapshot = f"{url}?snapshot={quote(snap)}&{sas}"
    assert requests.get(at_snapshot).status_code == 404
    assert requests.delete(at_snapshot).status_code == 404
    # Without the snapshot it names, the token grants nothing (the base blob least of all).
    helpers.assert_error(requests.get(f"{url}?{sas}"), 403, "AuthenticationFailed")
    helpers.assert_error(requests.delete(f"{url}?{sas}"), 403, "AuthenticationFailed")
    assert seeded.download_blob("readme.txt").readall() == b"public words"


@pytest.mark.azurite_gap("never checks the date of a Shared Key request")
def test_shared_key_requests_out_of_the_clock_window_are_refused(endpoint, container):
    url = f"{endpoint}/{container.container_name}?restype=container"
    for date in ("Fri, 01 Jan 2010 00:00:00 GMT", helpers.http_date(_now() + timedelta(days=2)), "not a date"):
        resp = helpers.raw("GET", url, {"x-ms-date": date})
        helpers.assert_error(resp, 403, "AuthenticationFailed")
    assert helpers.raw("GET", url).status_code == 200


@pytest.mark.azurite_gap("reads a doubled sig as none and answers AuthorizationFailure")
def test_malformed_sas_fields_are_refused(endpoint, seeded):
    name = seeded.container_name
    good = generate_container_sas(helpers.ACCOUNT, name, account_key=helpers.KEY,
                                  permission=ContainerSasPermissions(read=True, list=True),
                                  expiry=_now() + timedelta(hours=1))
    url = f"{endpoint}/{name}?restype=container&comp=list"
    assert requests.get(f"{url}&{good}").status_code == 200
    sig = [p for p in good.split("&") if p.startswith("sig=")][0]
    resp = requests.get(f"{url}&{good}&{sig}")
    helpers.assert_error(resp, 403, "AuthenticationFailed")
    account = generate_account_sas(helpers.ACCOUNT, helpers.KEY, ResourceTypes(container=True),
                                   AccountSasPermissions(list=True), expiry=_now() + timedelta(hours=1))
    resp = requests.get(f"{url}&{account}&sig=AAAA")
    helpers.assert_error(resp, 403, "AuthenticationFailed")


def test_keys_written_for_azurite_are_read_as_azurite_reads_them(start_server):
    """AZURITE_ACCOUNTS entries from Azurite setups hold keys like `testing_key`, which Azurite
    (and the JavaScript SDK) decode leniently, as Node's Buffer does: so does Lapis, with a warning."""
    server = start_server({"AZURITE_ACCOUNTS": "legacy:testing_key"}, account="legacy")
    # Node: Buffer.from("testing_key", "base64")
    node_bytes = bytes.fromhex("b5eb2d8a783f91ec")
    key = base64.b64encode(node_bytes).decode()
    resp = helpers.raw("GET", f"{server.endpoint}?comp=list", account="legacy", key=key)
    assert resp.status_code == 200, resp.text
    if server.target == "lapis":
        with open(server.log.name, "rb") as log:
            assert b"not standard base64" in log.read()
