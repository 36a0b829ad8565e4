"""Snapshot Blob, reads of a snapshot, listing with include=snapshots and Delete Blob with
x-ms-delete-snapshots, through the SDK (Azure's "Snapshot Blob" and "Delete Blob" reference)."""

import re

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobBlock

import helpers

SNAPSHOT_FORM = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


@pytest.fixture
def blob(container):
    client = container.get_blob_client("snapped")
    client.upload_blob(b"version one", metadata={"v": "1"})
    return client


def test_a_snapshot_keeps_the_content_and_metadata_of_its_time(container, blob):
    snap = blob.create_snapshot()
    assert SNAPSHOT_FORM.match(snap["snapshot"])
    blob.upload_blob(b"version two", overwrite=True, metadata={"v": "2"})
    old = container.get_blob_client("snapped", snapshot=snap["snapshot"])
    assert old.download_blob().readall() == b"version one"
    assert old.get_blob_properties().metadata == {"v": "1"}
    assert blob.download_blob().readall() == b"version two"
    # Ranged reads of a snapshot.
    assert old.download_blob(offset=8, length=3).readall() == b"one"


def test_snapshot_with_metadata_replaces_it_on_the_snapshot_only(container, blob):
    snap = blob.create_snapshot(metadata={"other": "x"})
    old = container.get_blob_client("snapped", snapshot=snap["snapshot"])
    assert old.get_blob_properties().metadata == {"other": "x"}
    assert blob.get_blob_properties().metadata == {"v": "1"}


@pytest.mark.azurite_gap("Azurite lists snapshots newest first and after the blob")
def test_listing_shows_snapshots_first_oldest_first(container, blob):
    first = blob.create_snapshot()["snapshot"]
    second = blob.create_snapshot()["snapshot"]
    assert first < second
    listed = [(b.name, b.snapshot) for b in container.list_blobs(include=["snapshots"])]
    assert listed == [("snapped", first), ("snapped", second), ("snapped", None)]
    assert [b.snapshot for b in container.list_blobs()] == [None]


def test_delete_refuses_a_blob_with_snapshots_unless_told(container, blob):
    snap = blob.create_snapshot()["snapshot"]
    with pytest.raises(HttpResponseError) as e:
        blob.delete_blob()
    assert e.value.status_code == 409 and e.value.error_code == "SnapshotsPresent"
    blob.delete_blob(delete_snapshots="only")
    assert blob.download_blob().readall() == b"version one"
    with pytest.raises(ResourceNotFoundError):
        container.get_blob_client("snapped", snapshot=snap).get_blob_properties()
    blob.create_snapshot()
    blob.delete_blob(delete_snapshots="include")
    assert list(container.list_blobs(include=["snapshots"])) == []


@pytest.mark.azurite_gap("Azurite lists the base blob before its snapshots")
def test_one_snapshot_can_be_deleted(container, blob):
    keep = blob.create_snapshot()["snapshot"]
    drop = blob.create_snapshot()["snapshot"]
    container.get_blob_client("snapped", snapshot=drop).delete_blob()
    listed = [b.snapshot for b in container.list_blobs(include=["snapshots"])]
    assert listed == [keep, None]


def test_a_snapshot_that_does_not_exist_is_404(container, blob):
    ghost = container.get_blob_client("snapped", snapshot="2020-01-01T00:00:00.0000000Z")
    with pytest.raises(ResourceNotFoundError) as e:
        ghost.download_blob()
    assert e.value.error_code == "BlobNotFound"


@pytest.mark.azurite_gap("Azurite answers a malformed snapshot with 404, Azure with 400")
def test_a_malformed_snapshot_is_400(blob):
    resp = helpers.raw("GET", blob.url + "?snapshot=yesterday")
    helpers.assert_error(resp, 400, "InvalidQueryParameterValue")


def test_snapshot_of_a_missing_blob_is_404(container):
    with pytest.raises(ResourceNotFoundError) as e:
        container.get_blob_client("missing").create_snapshot()
    assert e.value.error_code == "BlobNotFound"


def test_snapshot_conditions(blob):
    with pytest.raises(HttpResponseError) as e:
        blob.create_snapshot(etag='"0x8D000000000DEAD"', match_condition=MatchConditions.IfNotModified)
    assert e.value.status_code == 412 and e.value.error_code == "ConditionNotMet"


def test_a_snapshot_keeps_its_block_list(container):
    b = container.get_blob_client("blocks")
    b.stage_block("YQ==", b"a")
    b.stage_block("Yg==", b"b")
    b.commit_block_list([BlobBlock("YQ=="), BlobBlock("Yg==")])
    snap = b.create_snapshot()["snapshot"]
    b.upload_blob(b"replaced", overwrite=True)
    committed, _ = container.get_blob_client("blocks", snapshot=snap).get_block_list("committed")
    assert [x.id for x in committed] == ["YQ==", "Yg=="]
    assert container.get_blob_client("blocks", snapshot=snap).download_blob().readall() == b"ab"


def test_a_large_snapshot_reads_back_after_the_base_is_deleted(container):
    data = bytes(range(256)) * 4096 * 3  # 3 MiB: stored in extents, not inline
    b = container.get_blob_client("large")
    b.upload_blob(data)
    snap = b.create_snapshot()["snapshot"]
    b.delete_blob(delete_snapshots="only")
    b.upload_blob(data[:10], overwrite=True)
    snap2 = b.create_snapshot()["snapshot"]
    assert container.get_blob_client("large", snapshot=snap2).download_blob().readall() == data[:10]
    with pytest.raises(ResourceNotFoundError):
        container.get_blob_client("large", snapshot=snap).download_blob()


def test_a_leased_blob_can_be_snapshot_without_the_lease(blob):
    lease = blob.acquire_lease()
    assert SNAPSHOT_FORM.match(blob.create_snapshot()["snapshot"])
    lease.release()
