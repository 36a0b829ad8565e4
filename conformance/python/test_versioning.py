"""Blob versioning, switched on for the account by the account configuration (--accountConfig,
Azure's management-plane switch): every write that replaces a blob's content or metadata keeps
the old state as a previous version; reads, tags, tiers and deletes address a version with
version_id=; listing with include=["versions"]; restoring a version by copying it over its blob."""

import json

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

import helpers

no_versioning_in_azurite = pytest.mark.azurite_gap("Azurite has no blob versioning")


@pytest.fixture(scope="module")
def versioned(start_server, tmp_path_factory):
    """A server of its own whose account versions its blobs, and a container in it."""
    config = tmp_path_factory.mktemp("versioning") / "accounts.json"
    config.write_text(json.dumps({"accounts": {helpers.ACCOUNT: {"blobVersioning": True}}}))
    server = start_server(extra_args=["--accountConfig", str(config)])
    service = BlobServiceClient.from_connection_string(helpers.connection_string(server.endpoint))
    container = service.create_container(helpers.unique_name("versions"))
    return service, container


def _versions(container, name):
    return [b for b in container.list_blobs(name_starts_with=name, include=["versions"]) if b.name == name]


@no_versioning_in_azurite
def test_each_write_makes_a_version_and_old_ones_stay_readable(versioned):
    _, container = versioned
    blob = container.get_blob_client("doc.txt")
    v1 = blob.upload_blob(b"first")["version_id"]
    v2 = blob.upload_blob(b"second", overwrite=True)["version_id"]
    assert v1 and v2 and v1 < v2
    assert blob.download_blob(version_id=v1).readall() == b"first"
    assert blob.download_blob().readall() == b"second"
    old = blob.get_blob_properties(version_id=v1)
    assert old.version_id == v1
    assert not old.is_current_version
    current = blob.get_blob_properties()
    assert current.version_id == v2
    assert current.is_current_version
    # Set Blob Metadata makes a version; Set Blob Properties does not.
    v3 = blob.set_blob_metadata({"k": "v"})["version_id"]
    assert v3 > v2
    assert blob.get_blob_properties(version_id=v2).metadata == {}
    blob.set_http_headers()
    assert blob.get_blob_properties().version_id == v3


@no_versioning_in_azurite
def test_list_blobs_with_versions(versioned):
    _, container = versioned
    blob = container.get_blob_client("listed.txt")
    ids = [blob.upload_blob(data, overwrite=True)["version_id"] for data in (b"a", b"b", b"c")]
    listed = _versions(container, "listed.txt")
    assert [b.version_id for b in listed] == ids
    # A previous version carries no IsCurrentVersion element (the SDK reads None).
    assert [bool(b.is_current_version) for b in listed] == [False, False, True]
    plain = [b for b in container.list_blobs(name_starts_with="listed.txt")]
    assert len(plain) == 1 and plain[0].version_id == ids[-1]


@no_versioning_in_azurite
def test_delete_a_version_and_the_blob(versioned):
    _, container = versioned
    blob = container.get_blob_client("deleted.txt")
    v1 = blob.upload_blob(b"one")["version_id"]
    v2 = blob.upload_blob(b"two", overwrite=True)["version_id"]
    # The current version goes only with the blob.
    with pytest.raises(HttpResponseError) as e:
        blob.delete_blob(version_id=v2)
    assert e.value.status_code == 403
    assert e.value.error_code == "OperationNotAllowedOnRootBlob"
    blob.delete_blob(version_id=v1)
    with pytest.raises(ResourceNotFoundError) as e:
        blob.download_blob(version_id=v1)
    assert e.value.error_code == "BlobNotFound"
    # Deleting the blob keeps its current version, now a previous one.
    blob.delete_blob()
    assert not blob.exists()
    assert blob.download_blob(version_id=v2).readall() == b"two"
    listed = _versions(container, "deleted.txt")
    assert [(b.version_id, bool(b.is_current_version)) for b in listed] == [(v2, False)]


@no_versioning_in_azurite
def test_restore_a_version_by_copying_it_over_the_blob(versioned):
    _, container = versioned
    blob = container.get_blob_client("restored.txt")
    v1 = blob.upload_blob(b"good")["version_id"]
    blob.upload_blob(b"bad", overwrite=True)
    copy = blob.start_copy_from_url(f"{blob.url}?versionid={v1}", requires_sync=False)
    assert copy["copy_status"] == "success"
    assert copy["version_id"] > v1
    assert blob.download_blob().readall() == b"good"
    assert len(_versions(container, "restored.txt")) == 3


@no_versioning_in_azurite
def test_tags_and_tiers_of_a_version(versioned):
    _, container = versioned
    blob = container.get_blob_client("tagged.txt")
    v1 = blob.upload_blob(b"one")["version_id"]
    blob.upload_blob(b"two", overwrite=True)
    blob.set_blob_tags({"state": "old"}, version_id=v1)
    assert blob.get_blob_tags(version_id=v1) == {"state": "old"}
    assert blob.get_blob_tags() == {}
    blob.set_standard_blob_tier("Cool", version_id=v1)
    assert blob.get_blob_properties(version_id=v1).blob_tier == "Cool"
    assert blob.get_blob_properties().blob_tier == "Hot"


@no_versioning_in_azurite
def test_a_version_that_never_was_is_not_found(versioned):
    _, container = versioned
    blob = container.get_blob_client("never.txt")
    blob.upload_blob(b"x")
    with pytest.raises(ResourceNotFoundError) as e:
        blob.get_blob_properties(version_id="2001-01-01T00:00:00.0000000Z")
    assert e.value.error_code == "BlobNotFound"
    resp = helpers.raw("GET", f"{blob.url}?versionid=soon")
    helpers.assert_error(resp, 400, "InvalidQueryParameterValue")


def test_without_versioning_no_version_ids(service, container):
    """The shared server's account keeps versioning off: nothing changes."""
    blob = container.get_blob_client("plain.txt")
    assert blob.upload_blob(b"x").get("version_id") is None
    assert blob.get_blob_properties().version_id is None
