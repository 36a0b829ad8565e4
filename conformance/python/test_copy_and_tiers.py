"""Copy Blob, Copy Blob From URL, Put Blob From URL, Put Block From URL, Abort Copy Blob and
Set Blob Tier through the SDK (Azure's REST reference for each)."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import (
    BlobSasPermissions, ContentSettings, StandardBlobTier, generate_blob_sas)

import helpers


@pytest.fixture
def source(container):
    client = container.get_blob_client("source")
    client.upload_blob(b"source bytes", metadata={"from": "source"},
                       content_settings=ContentSettings(content_type="text/plain"))
    return client


def _sas_url(blob, permission):
    sas = generate_blob_sas(
        account_name=helpers.ACCOUNT, container_name=blob.container_name, blob_name=blob.blob_name,
        account_key=helpers.KEY, permission=permission,
        expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    return f"{blob.url}?{sas}"


def test_copy_blob_completes_at_once_with_the_source_content(container, source):
    dest = container.get_blob_client("dest")
    result = dest.start_copy_from_url(source.url)
    assert result["copy_status"] == "success"
    props = dest.get_blob_properties()
    assert props.copy.status == "success"
    assert props.copy.id == result["copy_id"]
    assert props.copy.source == source.url
    assert props.copy.progress == "12/12"
    assert props.metadata == {"from": "source"}
    assert props.content_settings.content_type == "text/plain"
    assert dest.download_blob().readall() == b"source bytes"
    # The copy is independent of its source.
    source.upload_blob(b"changed", overwrite=True)
    assert dest.download_blob().readall() == b"source bytes"


def test_copy_with_metadata_and_tier(container, source):
    dest = container.get_blob_client("dest2")
    dest.start_copy_from_url(source.url, metadata={"new": "m"}, standard_blob_tier=StandardBlobTier.COOL)
    props = dest.get_blob_properties()
    assert props.metadata == {"new": "m"}
    assert props.blob_tier == "Cool"


def test_copy_listed_with_include_copy(container, source):
    container.get_blob_client("dest3").start_copy_from_url(source.url)
    listed = {b.name: b for b in container.list_blobs(include=["copy"])}
    assert listed["dest3"].copy.status == "success"
    assert listed["source"].copy.status is None


def test_copy_of_a_snapshot(container, source):
    snap = source.create_snapshot()["snapshot"]
    source.upload_blob(b"later", overwrite=True)
    dest = container.get_blob_client("from-snapshot")
    dest.start_copy_from_url(f"{source.url}?snapshot={snap}")
    assert dest.download_blob().readall() == b"source bytes"


@pytest.mark.azurite_gap("Azurite answers both with ConditionNotMet")
def test_source_and_destination_conditions_are_told_apart(container, source):
    dest = container.get_blob_client("cond-dest")
    with pytest.raises(HttpResponseError) as e:
        dest.start_copy_from_url(source.url, source_etag='"0x8D000000000DEAD"',
                                 source_match_condition=MatchConditions.IfNotModified)
    assert e.value.status_code == 412 and e.value.error_code == "SourceConditionNotMet"
    dest.upload_blob(b"existing")
    with pytest.raises(HttpResponseError) as e:
        dest.start_copy_from_url(source.url, etag='"0x8D000000000DEAD"',
                                 match_condition=MatchConditions.IfNotModified)
    assert e.value.status_code == 412 and e.value.error_code == "TargetConditionNotMet"


def test_copy_onto_a_leased_blob_needs_the_lease(container, source):
    dest = container.get_blob_client("leased-dest")
    dest.upload_blob(b"x")
    lease = dest.acquire_lease()
    with pytest.raises(HttpResponseError) as e:
        dest.start_copy_from_url(source.url)
    assert e.value.error_code == "LeaseIdMissing"
    dest.start_copy_from_url(source.url, destination_lease=lease)
    assert dest.download_blob(lease=lease).readall() == b"source bytes"


@pytest.mark.azurite_gap("Azurite answers BlobNotFound, Azure CannotVerifyCopySource")
def test_missing_source(container):
    dest = container.get_blob_client("nothing")
    with pytest.raises(HttpResponseError) as e:
        dest.start_copy_from_url(container.get_blob_client("missing").url)
    assert e.value.status_code == 404 and e.value.error_code == "CannotVerifyCopySource"


@pytest.mark.azurite_gap("Azurite copies a private source without a SAS")
def test_sync_copy_needs_a_sas_for_a_private_source(container, source):
    dest = container.get_blob_client("sync")
    with pytest.raises(HttpResponseError) as e:
        dest.start_copy_from_url(source.url, requires_sync=True)
    assert e.value.error_code == "CannotVerifyCopySource"
    with pytest.raises(HttpResponseError) as e:
        dest.start_copy_from_url(_sas_url(source, BlobSasPermissions(write=True)), requires_sync=True)
    assert e.value.error_code == "CannotVerifyCopySource"
    result = dest.start_copy_from_url(_sas_url(source, BlobSasPermissions(read=True)),
                                      requires_sync=True)
    assert result["copy_status"] == "success"
    assert dest.download_blob().readall() == b"source bytes"


@pytest.mark.azurite_gap("Azurite does not implement Put Blob From URL")
def test_put_blob_from_url(container, source):
    dest = container.get_blob_client("from-url")
    dest.upload_blob_from_url(_sas_url(source, BlobSasPermissions(read=True)))
    assert dest.download_blob().readall() == b"source bytes"
    props = dest.get_blob_properties()
    assert props.blob_type == "BlockBlob"
    assert props.content_settings.content_type == "text/plain"


def test_put_block_from_url_with_a_range(container, source):
    dest = container.get_blob_client("blocks-from-url")
    url = _sas_url(source, BlobSasPermissions(read=True))
    dest.stage_block_from_url("YQ==", url, source_offset=0, source_length=6)
    dest.stage_block_from_url("Yg==", url, source_offset=7, source_length=5)
    dest.commit_block_list(["YQ==", "Yg=="])
    assert dest.download_blob().readall() == b"sourcebytes"


@pytest.mark.azurite_gap("Azurite takes a copy id that is not a GUID")
def test_abort_copy_has_nothing_pending(container, source):
    dest = container.get_blob_client("abort")
    result = dest.start_copy_from_url(source.url)
    with pytest.raises(HttpResponseError) as e:
        dest.abort_copy(result["copy_id"])
    assert e.value.status_code == 409 and e.value.error_code == "NoPendingCopyOperation"
    with pytest.raises(HttpResponseError) as e:
        dest.abort_copy(str(uuid.uuid4()))
    assert e.value.error_code in ("NoPendingCopyOperation", "CopyIdMismatch")
    resp = helpers.raw("PUT", dest.url + "?comp=copy&copyid=not-a-guid",
                       {"x-ms-copy-action": "abort"})
    helpers.assert_error(resp, 400, "InvalidQueryParameterValue")


@pytest.mark.azurite_gap("Azurite lets an archived blob's metadata be set")
def test_set_tier_and_archive(container, source):
    source.set_standard_blob_tier("Cool")
    props = source.get_blob_properties()
    assert props.blob_tier == "Cool" and not props.blob_tier_inferred
    source.set_standard_blob_tier("Archive")
    assert source.get_blob_properties().blob_tier == "Archive"
    with pytest.raises(HttpResponseError) as e:
        source.download_blob()
    assert e.value.status_code == 409 and e.value.error_code == "BlobArchived"
    with pytest.raises(HttpResponseError) as e:
        source.set_blob_metadata({"a": "b"})
    assert e.value.error_code == "BlobArchived"
    with pytest.raises(HttpResponseError) as e:
        container.get_blob_client("from-archive").start_copy_from_url(source.url)
    assert e.value.error_code == "BlobArchived"
    # Copying it to an online tier is how Azure rehydrates into a new blob.
    online = container.get_blob_client("rehydrated-copy")
    online.start_copy_from_url(source.url, standard_blob_tier=StandardBlobTier.HOT)
    assert online.download_blob().readall() == b"source bytes"
    listed = {b.name: b for b in container.list_blobs()}
    assert listed["source"].blob_tier == "Archive"
    # Rehydrated at once.
    source.set_standard_blob_tier("Hot", rehydrate_priority="High")
    assert source.download_blob().readall() == b"source bytes"
    assert source.get_blob_properties().blob_tier == "Hot"


@pytest.mark.azurite_gap("Azurite answers an unknown tier with AccessTierNotSupportedForBlobType")
def test_set_tier_refuses_bad_values(source):
    resp = helpers.raw("PUT", source.url + "?comp=tier", {"x-ms-access-tier": "Lukewarm"})
    helpers.assert_error(resp, 400, "InvalidHeaderValue")
    resp = helpers.raw("PUT", source.url + "?comp=tier", {})
    helpers.assert_error(resp, 400, "MissingRequiredHeader")


def test_set_tier_on_a_missing_blob(container):
    with pytest.raises(ResourceNotFoundError):
        container.get_blob_client("missing").set_standard_blob_tier("Cool")


def test_upload_straight_to_archive(container):
    b = container.get_blob_client("cold-storage")
    b.upload_blob(b"x", standard_blob_tier=StandardBlobTier.ARCHIVE)
    with pytest.raises(HttpResponseError) as e:
        b.download_blob()
    assert e.value.error_code == "BlobArchived"


@pytest.mark.azurite_gap("Azurite does not implement Append Block From URL")
def test_append_block_from_url(container, source):
    log = container.get_blob_client("log-from-url")
    log.create_append_blob()
    url = _sas_url(source, BlobSasPermissions(read=True))
    log.append_block_from_url(url, source_offset=0, source_length=6)
    log.append_block_from_url(url, source_offset=6, source_length=6)
    assert log.download_blob().readall() == b"source bytes"
    assert log.get_blob_properties().append_blob_committed_block_count == 2
    # A private source without a SAS cannot be read.
    with pytest.raises(HttpResponseError) as e:
        log.append_block_from_url(source.url)
    assert e.value.error_code == "CannotVerifyCopySource"


@pytest.mark.azurite_gap("Azurite does not implement Put Page From URL")
def test_put_page_from_url(container):
    src = container.get_blob_client("page-source")
    src.upload_blob(bytes(range(256)) * 4)  # 1 KiB
    dst = container.get_blob_client("page-dest")
    dst.create_page_blob(4096)
    dst.upload_pages_from_url(_sas_url(src, BlobSasPermissions(read=True)), offset=2048,
                              length=512, source_offset=512)
    data = dst.download_blob().readall()
    assert data[2048:2560] == (bytes(range(256)) * 4)[512:1024]
    assert data[:2048] == bytes(2048)
    ranges, _ = dst.get_page_ranges()
    assert [(r["start"], r["end"]) for r in ranges] == [(2048, 2559)]
