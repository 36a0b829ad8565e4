"""Page blobs through azure-storage-blob: create, upload and clear pages, page ranges (with
paging and snapshot diffs), resize, sequence numbers and their conditions, sparse downloads."""

import os

import pytest
from azure.core.exceptions import HttpResponseError, ResourceModifiedError
from azure.storage.blob import BlobType, ContentSettings, SequenceNumberAction

import helpers

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


def page(byte, pages=1):
    return bytes([byte]) * (512 * pages)


def spans(ranges):
    return [(r["start"], r["end"]) for r in ranges]


def test_create_page_blob_with_properties(container):
    blob = container.get_blob_client("disk.vhd")
    settings = ContentSettings(content_type="application/x-vhd", cache_control="no-cache")
    result = blob.create_page_blob(8 * KIB, content_settings=settings, metadata={"Kind": "disk"},
                                   sequence_number=5)
    assert result["etag"].startswith('"0x')
    props = blob.get_blob_properties()
    assert props.blob_type == BlobType.PAGEBLOB
    assert props.size == 8 * KIB
    assert props.page_blob_sequence_number == 5
    assert props.content_settings.content_type == "application/x-vhd"
    assert props.content_settings.cache_control == "no-cache"
    assert props.metadata == {"Kind": "disk"}
    # A new page blob reads as zeros and lists no pages.
    assert blob.download_blob().readall() == bytes(8 * KIB)
    assert blob.get_page_ranges() == ([], [])
    listed = [b for b in container.list_blobs(include=["metadata"]) if b.name == "disk.vhd"]
    assert listed[0].blob_type == BlobType.PAGEBLOB
    assert listed[0].page_blob_sequence_number == 5


@pytest.mark.azurite_gap("Azurite answers a size that is not whole pages with InvalidOperation")
def test_create_page_blob_size_must_be_whole_pages(container):
    blob = container.get_blob_client("odd")
    with pytest.raises(HttpResponseError) as err:
        blob.create_page_blob(1000)
    assert err.value.status_code == 400
    assert err.value.error_code == "InvalidHeaderValue"


@pytest.mark.azurite_gap("Azurite lists adjacent written pages as separate ranges")
def test_upload_clear_and_list_pages(container):
    blob = container.get_blob_client("p")
    blob.create_page_blob(16 * KIB)
    result = blob.upload_page(page(1, 4), offset=0, length=2048)
    assert result["blob_sequence_number"] == 0
    blob.upload_page(page(2, 2), offset=4096, length=1024)
    assert spans(blob.get_page_ranges()[0]) == [(0, 2047), (4096, 5119)]
    # Overwriting a page in the middle replaces only those bytes.
    blob.upload_page(page(3), offset=512, length=512)
    data = blob.download_blob(offset=0, length=6144).readall()
    assert data == page(1) + page(3) + page(1, 2) + bytes(2048) + page(2, 2) + bytes(1024)
    blob.clear_page(offset=1024, length=512)
    assert spans(blob.get_page_ranges()[0]) == [(0, 1023), (1536, 2047), (4096, 5119)]
    assert blob.download_blob(offset=1024, length=512).readall() == bytes(512)
    # A range narrows the listing.
    assert spans(blob.get_page_ranges(offset=4096, length=4096)[0]) == [(4096, 5119)]


@pytest.mark.azurite_gap("Azurite ignores maxresults on Get Page Ranges")
def test_list_page_ranges_pages_through_many_ranges(container):
    blob = container.get_blob_client("many")
    blob.create_page_blob(64 * KIB)
    for i in range(20):
        blob.upload_page(page(i + 1), offset=i * 2048, length=512)
    pages = blob.list_page_ranges(results_per_page=6).by_page()
    seen = []
    calls = 0
    for p in pages:
        calls += 1
        seen.extend((r.start, r.end) for r in p)
    assert calls == 4
    assert seen == [(i * 2048, i * 2048 + 511) for i in range(20)]


@pytest.mark.azurite_gap("Azurite answers a misaligned range with 416, Azure with 400 InvalidHeaderValue (TestBlobClearPagesInvalidRange)")
def test_misaligned_and_out_of_bounds_writes_are_refused(container):
    blob = container.get_blob_client("p")
    blob.create_page_blob(4 * KIB)
    url = blob.url + "?comp=page"
    # Not whole pages: 400 InvalidHeaderValue (recording TestBlobClearPagesInvalidRange).
    resp = helpers.raw("PUT", url, {"x-ms-page-write": "clear", "x-ms-range": "bytes=0-512"})
    helpers.assert_error(resp, 400, "InvalidHeaderValue")
    # Beyond the blob's end: 416 InvalidPageRange.
    resp = helpers.raw("PUT", url, {"x-ms-page-write": "update", "x-ms-range": "bytes=4096-4607"},
                       data=page(1))
    helpers.assert_error(resp, 416, "InvalidPageRange")
    # No range at all.
    resp = helpers.raw("PUT", url, {"x-ms-page-write": "update"}, data=b"")
    helpers.assert_error(resp, 400, "MissingRequiredHeader")
    resp = helpers.raw("PUT", url, {"x-ms-page-write": "erase", "x-ms-range": "bytes=0-511"})
    helpers.assert_error(resp, 400, "InvalidHeaderValue")
    assert blob.get_page_ranges() == ([], [])


def test_blob_types_are_not_mixed(container):
    block = container.get_blob_client("block")
    block.upload_blob(b"hello")
    with pytest.raises(HttpResponseError) as err:
        block.upload_page(page(1), offset=0, length=512)
    assert (err.value.status_code, err.value.error_code) == (409, "InvalidBlobType")
    paged = container.get_blob_client("paged")
    paged.create_page_blob(1024)
    with pytest.raises(HttpResponseError) as err:
        paged.stage_block("YQ==", b"x")
    assert (err.value.status_code, err.value.error_code) == (409, "InvalidBlobType")


@pytest.mark.azurite_gap("Azurite answers a resize that is not whole pages with InvalidOperation")
def test_resize(container):
    blob = container.get_blob_client("p")
    blob.create_page_blob(4 * KIB)
    blob.upload_page(page(7, 8), offset=0, length=4096)
    blob.resize_blob(1024)
    assert blob.get_blob_properties().size == 1024
    assert spans(blob.get_page_ranges()[0]) == [(0, 1023)]
    blob.resize_blob(3072)
    assert blob.download_blob().readall() == page(7, 2) + bytes(2048)
    with pytest.raises(HttpResponseError) as err:
        blob.resize_blob(1000)
    assert err.value.error_code == "InvalidHeaderValue"


def test_sequence_numbers_and_their_conditions(container):
    blob = container.get_blob_client("p")
    blob.create_page_blob(4 * KIB)
    assert blob.set_sequence_number(SequenceNumberAction.Increment)["blob_sequence_number"] == 1
    assert blob.set_sequence_number(SequenceNumberAction.Max, 7)["blob_sequence_number"] == 7
    assert blob.set_sequence_number(SequenceNumberAction.Max, 3)["blob_sequence_number"] == 7
    assert blob.set_sequence_number(SequenceNumberAction.Update, 4)["blob_sequence_number"] == 4
    assert blob.get_blob_properties().page_blob_sequence_number == 4
    blob.upload_page(page(1), offset=0, length=512, if_sequence_number_eq=4)
    blob.upload_page(page(1), offset=0, length=512, if_sequence_number_lte=4)
    for condition in ({"if_sequence_number_lt": 4}, {"if_sequence_number_eq": 5},
                      {"if_sequence_number_lte": 3}):
        with pytest.raises(HttpResponseError) as err:
            blob.upload_page(page(2), offset=0, length=512, **condition)
        assert (err.value.status_code, err.value.error_code) == (412, "SequenceNumberConditionNotMet")
        with pytest.raises(HttpResponseError) as err:
            blob.clear_page(offset=0, length=512, **condition)
        assert err.value.error_code == "SequenceNumberConditionNotMet"
    assert blob.download_blob(offset=0, length=512).readall() == page(1)
    # Ordinary conditions too.
    with pytest.raises(ResourceModifiedError):
        blob.upload_page(page(2), offset=0, length=512, etag='"0x1"',
                         match_condition=__import__("azure.core").core.MatchConditions.IfNotModified)


def test_sparse_blob_downloads_zeros_between_pages(container):
    blob = container.get_blob_client("sparse")
    blob.create_page_blob(GIB)
    head, tail = os.urandom(512), os.urandom(1024)
    blob.upload_page(head, offset=0, length=512)
    blob.upload_page(tail, offset=GIB - 1024, length=1024)
    assert spans(blob.get_page_ranges()[0]) == [(0, 511), (GIB - 1024, GIB - 1)]
    assert blob.download_blob(offset=0, length=4096).readall() == head + bytes(3584)
    assert blob.download_blob(offset=GIB - 4096, length=4096).readall() == bytes(3072) + tail
    # Ranged reads with an MD5 of the range cover holes too.
    stream = blob.download_blob(offset=GIB - 2048, length=2048, validate_content=True)
    assert stream.readall() == bytes(1024) + tail


def test_upload_blob_as_page_blob_round_trips(container):
    blob = container.get_blob_client("big.vhd")
    data = os.urandom(6 * MIB) + bytes(2 * MIB) + os.urandom(512)
    blob.upload_blob(data, blob_type=BlobType.PAGEBLOB, max_concurrency=4)
    assert blob.download_blob().readall() == data
    assert blob.get_blob_properties().blob_type == BlobType.PAGEBLOB


def test_put_blob_replaces_a_page_blob(container):
    blob = container.get_blob_client("p")
    blob.create_page_blob(1024)
    blob.upload_page(page(1), offset=0, length=512)
    blob.upload_blob(b"block now", overwrite=True)
    props = blob.get_blob_properties()
    assert props.blob_type == BlobType.BLOCKBLOB
    assert blob.download_blob().readall() == b"block now"


@pytest.mark.azurite_gap("Azurite lists adjacent written pages as separate ranges")
def test_page_range_diff_since_a_snapshot(container):
    blob = container.get_blob_client("p")
    blob.create_page_blob(8 * KIB)
    blob.upload_page(page(1, 4), offset=0, length=2048)
    snap = blob.create_snapshot()["snapshot"]
    blob.upload_page(page(2), offset=512, length=512)
    blob.clear_page(offset=1024, length=512)
    blob.upload_page(page(3), offset=4096, length=512)
    changed, cleared = blob.get_page_ranges(previous_snapshot_diff=snap)
    assert spans(changed) == [(512, 1023), (4096, 4607)]
    assert spans(cleared) == [(1024, 1535)]
    listed = [(r.start, r.end, r.cleared) for r in blob.list_page_ranges(previous_snapshot=snap)]
    assert listed == [(512, 1023, False), (1024, 1535, True), (4096, 4607, False)]
    # The snapshot itself lists its own pages.
    snapshot_blob = container.get_blob_client("p", snapshot=snap)
    assert spans(snapshot_blob.get_page_ranges()[0]) == [(0, 2047)]


@pytest.mark.azurite_gap("Azurite answers a premium tier with 400 AccessTierNotSupportedForBlobType")
def test_a_page_blob_tier_is_refused_on_a_standard_account(container):
    blob = container.get_blob_client("tiered")
    resp = helpers.raw("PUT", blob.url, {"x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": "512",
                                         "x-ms-access-tier": "P10"})
    helpers.assert_error(resp, 409, "BlobAccessTierNotSupportedForAccountType")
    assert not blob.exists()
