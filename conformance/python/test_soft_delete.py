"""Soft delete through the Python SDK: the Blob service's DeleteRetentionPolicy (set with
set_service_properties) makes Delete Blob and overwrites keep what they remove, listed with
include=["deleted"] and brought back by undelete_blob; container soft delete (Lapis:
containerSoftDeleteDays in the --accountConfig file, Azure: the management plane) keeps deleted
containers, listed with include_deleted=True and brought back by undelete_container."""

import json

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, RetentionPolicy

import helpers

# Azurite stores the policy but keeps nothing deleted and has no container soft delete.
gap = pytest.mark.azurite_gap("Azurite has neither blob nor container soft delete")

RETENTION_DAYS = 2


@pytest.fixture(scope="module")
def soft(start_server, tmp_path_factory):
    """A server of its own (the policies are account-wide) with both kinds of soft delete on."""
    config = tmp_path_factory.mktemp("soft-delete") / "accounts.json"
    config.write_text(json.dumps(
        {"accounts": {helpers.ACCOUNT: {"containerSoftDeleteDays": RETENTION_DAYS}}}))
    server = start_server(extra_args=["--accountConfig", str(config)])
    service = BlobServiceClient.from_connection_string(helpers.connection_string(server.endpoint))
    service.set_service_properties(
        delete_retention_policy=RetentionPolicy(enabled=True, days=RETENTION_DAYS))
    return service


@pytest.fixture
def box(soft):
    client = soft.create_container(helpers.unique_name("sd"))
    yield client
    try:
        client.delete_container()
    except ResourceNotFoundError:
        pass


def listed(container, **kwargs):
    return [(b.name, b.snapshot, bool(b.deleted)) for b in container.list_blobs(**kwargs)]


def test_the_policy_is_stored(soft):
    policy = soft.get_service_properties()["delete_retention_policy"]
    assert policy.enabled is True
    assert policy.days == RETENTION_DAYS


@gap
def test_a_deleted_blob_is_gone_listed_with_deleted_and_undeleted(box):
    blob = box.get_blob_client("b.txt")
    blob.upload_blob(b"hello")
    blob.delete_blob()
    with pytest.raises(ResourceNotFoundError) as err:
        blob.download_blob().readall()
    assert err.value.error_code == "BlobNotFound"
    assert listed(box) == []
    [item] = list(box.list_blobs(include=["deleted"]))
    assert item.name == "b.txt" and item.deleted is True
    assert item.deleted_time is not None
    assert item.remaining_retention_days == RETENTION_DAYS
    blob.undelete_blob()
    assert blob.download_blob().readall() == b"hello"
    assert listed(box, include=["deleted"]) == [("b.txt", None, False)]
    blob.undelete_blob()  # a live blob: nothing to do, no error


@gap
def test_undelete_of_nothing_is_not_found(box):
    with pytest.raises(ResourceNotFoundError):
        box.get_blob_client("never").undelete_blob()


@gap
def test_a_deleted_snapshot_comes_back_with_undelete(box):
    blob = box.get_blob_client("s.txt")
    blob.upload_blob(b"v1")
    snap = blob.create_snapshot()["snapshot"]
    box.get_blob_client("s.txt", snapshot=snap).delete_blob()
    assert listed(box, include=["snapshots"]) == [("s.txt", None, False)]
    assert listed(box, include=["snapshots", "deleted"]) == [
        ("s.txt", snap, True), ("s.txt", None, False)]
    blob.undelete_blob()
    assert box.get_blob_client("s.txt", snapshot=snap).download_blob().readall() == b"v1"


@gap
def test_an_overwrite_keeps_the_old_content_as_a_deleted_snapshot(box):
    blob = box.get_blob_client("o.txt")
    blob.upload_blob(b"old")
    blob.upload_blob(b"new", overwrite=True)
    items = listed(box, include=["snapshots", "deleted"])
    assert len(items) == 2 and items[0][2] is True and items[1] == ("o.txt", None, False)
    blob.undelete_blob()
    kept = items[0][1]
    assert box.get_blob_client("o.txt", snapshot=kept).download_blob().readall() == b"old"
    assert blob.download_blob().readall() == b"new"


@gap
def test_a_deleted_container_is_listed_and_restored(soft):
    name = helpers.unique_name("gone")
    client = soft.create_container(name)
    client.upload_blob("kept.txt", b"kept")
    client.delete_container()
    with pytest.raises(ResourceNotFoundError):
        client.get_container_properties()
    assert name not in [c.name for c in soft.list_containers(name_starts_with=name)]
    [deleted] = [c for c in soft.list_containers(name_starts_with=name, include_deleted=True)]
    assert deleted.deleted is True and deleted.version
    restored = soft.undelete_container(name, deleted.version)
    assert restored.download_blob("kept.txt").readall() == b"kept"
    restored.delete_container()


@gap
def test_restore_over_a_live_container_and_of_an_unknown_version_fail(soft):
    name = helpers.unique_name("twice")
    soft.create_container(name).delete_container()
    [deleted] = list(soft.list_containers(name_starts_with=name, include_deleted=True))
    # The name is free at once.
    live = soft.create_container(name)
    with pytest.raises(ResourceExistsError) as err:
        soft.undelete_container(name, deleted.version)
    assert err.value.error_code == "ContainerAlreadyExists"
    live.delete_container()
    with pytest.raises(HttpResponseError) as err:
        soft.undelete_container(name, "01D0000000000000")
    assert err.value.status_code == 404
    soft.undelete_container(name, deleted.version).delete_container()
