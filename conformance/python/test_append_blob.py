"""Append blobs through azure-storage-blob: create, Append Block (with its conditions), Seal,
download, listing, and what the other operations make of an append blob."""

import hashlib
import os
import threading

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobType, ContentSettings

import helpers

MIB = 1024 * 1024


def error_code(exc):
    return exc.value.error_code


def test_create_append_and_download(container):
    blob = container.get_blob_client("log.txt")
    created = blob.create_append_blob(
        metadata={"Kind": "log"}, content_settings=ContentSettings(content_type="text/plain"))
    assert created["etag"].startswith('"0x')
    props = blob.get_blob_properties()
    assert props.blob_type == BlobType.APPENDBLOB
    assert props.size == 0
    assert props.append_blob_committed_block_count == 0
    assert props.metadata == {"Kind": "log"}
    assert props.content_settings.content_type == "text/plain"
    assert props.is_append_blob_sealed is None or props.is_append_blob_sealed is False

    first = blob.append_block(b"hello ")
    assert first["blob_append_offset"] == "0"
    assert first["blob_committed_block_count"] == 1
    second = blob.append_block(b"world")
    assert second["blob_append_offset"] == "6"
    assert second["blob_committed_block_count"] == 2
    assert second["etag"] != first["etag"]

    assert blob.download_blob().readall() == b"hello world"
    assert blob.download_blob(offset=3, length=5).readall() == b"lo wo"
    props = blob.get_blob_properties()
    assert props.size == 11
    assert props.append_blob_committed_block_count == 2
    # An append blob has no tier on a standard account.
    assert props.blob_tier is None


def test_append_block_answers_with_the_checksum_it_was_given(container):
    blob = container.get_blob_client("checked")
    blob.create_append_blob()
    data = b"0123456789"
    result = blob.append_block(data, validate_content=True)
    assert result["content_md5"] == hashlib.md5(data).digest()
    plain = helpers.raw("PUT", blob.url + "?comp=appendblock", data=b"abc")
    assert plain.status_code == 201
    assert "x-ms-content-crc64" in plain.headers
    bad = helpers.raw("PUT", blob.url + "?comp=appendblock", data=b"abc",
                      headers={"Content-MD5": helpers.md5_b64(b"xyz")})
    helpers.assert_error(bad, 400, "Md5Mismatch")
    # The failed append added nothing.
    assert blob.download_blob().readall() == data + b"abc"


def test_append_position_and_max_size_conditions(container):
    blob = container.get_blob_client("conditional")
    blob.create_append_blob()
    blob.append_block(b"abc", appendpos_condition=0)
    with pytest.raises(HttpResponseError) as exc:
        blob.append_block(b"def", appendpos_condition=0)
    assert exc.value.status_code == 412
    assert error_code(exc) == "AppendPositionConditionNotMet"
    with pytest.raises(HttpResponseError) as exc:
        blob.append_block(b"def", maxsize_condition=5)
    assert exc.value.status_code == 412
    assert error_code(exc) == "MaxBlobSizeConditionNotMet"
    result = blob.append_block(b"def", appendpos_condition=3, maxsize_condition=6)
    assert result["blob_append_offset"] == "3"
    assert blob.download_blob().readall() == b"abcdef"


@pytest.mark.azurite_gap("Azurite evaluates negative and malformed append conditions")
@pytest.mark.parametrize("header", ["x-ms-blob-condition-appendpos", "x-ms-blob-condition-maxsize"])
@pytest.mark.parametrize("value", ["-1", "abc", "1.5"])
def test_malformed_append_conditions_are_400(container, header, value):
    blob = container.get_blob_client("malformed")
    blob.create_append_blob()
    resp = helpers.raw("PUT", blob.url + "?comp=appendblock", data=b"abc", headers={header: value})
    helpers.assert_error(resp, 400, "InvalidHeaderValue")
    assert f"<HeaderName>{header}</HeaderName>" in resp.text


def test_http_conditions_on_append(container):
    blob = container.get_blob_client("etag")
    etag = blob.create_append_blob()["etag"]
    with pytest.raises(HttpResponseError) as exc:
        blob.append_block(b"x", etag='"0x1"', match_condition=MatchConditions.IfNotModified)
    assert exc.value.status_code == 412
    blob.append_block(b"x", etag=etag, match_condition=MatchConditions.IfNotModified)


def test_empty_append_is_refused(container):
    blob = container.get_blob_client("empty")
    blob.create_append_blob()
    resp = helpers.raw("PUT", blob.url + "?comp=appendblock", data=b"")
    helpers.assert_error(resp, 400, "InvalidHeaderValue")


def test_append_to_missing_or_block_blob(container):
    with pytest.raises(ResourceNotFoundError):
        container.get_blob_client("missing").append_block(b"x")
    block = container.get_blob_client("block")
    block.upload_blob(b"bytes")
    with pytest.raises(HttpResponseError) as exc:
        block.append_block(b"x")
    assert exc.value.status_code == 409
    assert error_code(exc) == "InvalidBlobType"
    with pytest.raises(HttpResponseError) as exc:
        block.seal_append_blob()
    assert error_code(exc) == "InvalidBlobType"


@pytest.mark.azurite_gap("Azurite ignores x-ms-blob-condition-appendpos on Seal")
def test_seal(container):
    blob = container.get_blob_client("sealed")
    blob.create_append_blob()
    blob.append_block(b"final")
    with pytest.raises(HttpResponseError) as exc:
        blob.seal_append_blob(appendpos_condition=1)
    assert error_code(exc) == "AppendPositionConditionNotMet"
    sealed = blob.seal_append_blob(appendpos_condition=5)
    assert sealed["blob_sealed"] is True
    with pytest.raises(HttpResponseError) as exc:
        blob.append_block(b"more")
    assert exc.value.status_code == 409
    assert error_code(exc) == "BlobIsSealed"
    props = blob.get_blob_properties()
    assert props.is_append_blob_sealed is True
    assert blob.download_blob().readall() == b"final"
    listed = {b.name: b for b in container.list_blobs()}
    assert listed["sealed"].is_append_blob_sealed is True
    assert listed["sealed"].blob_type == BlobType.APPENDBLOB


def test_listing_shows_append_blobs(container):
    blob = container.get_blob_client("listed")
    blob.create_append_blob()
    blob.append_block(b"12345")
    [item] = list(container.list_blobs())
    assert item.blob_type == BlobType.APPENDBLOB
    assert item.size == 5
    assert not item.is_append_blob_sealed


def test_create_refuses_an_existing_blob_when_asked(container):
    blob = container.get_blob_client("once")
    blob.create_append_blob()
    blob.append_block(b"keep")
    with pytest.raises(ResourceExistsError):
        blob.create_append_blob(if_none_match="*")
    assert blob.download_blob().readall() == b"keep"
    # Without the condition it starts over, empty.
    blob.create_append_blob()
    assert blob.download_blob().readall() == b""


def test_put_blob_over_an_append_blob_replaces_it(container):
    blob = container.get_blob_client("replaced")
    blob.create_append_blob()
    blob.append_block(b"appended")
    blob.upload_blob(b"block blob now", overwrite=True)
    props = blob.get_blob_properties()
    assert props.blob_type == BlobType.BLOCKBLOB
    assert blob.download_blob().readall() == b"block blob now"


def test_large_append_and_upload_blob_of_type_append(conn_str, container):
    blob = container.get_blob_client("big")
    data = os.urandom(5 * MIB + 123)
    # upload_blob with AppendBlob creates it and appends in blocks (4 MiB each by default).
    blob.upload_blob(data, blob_type=BlobType.APPENDBLOB)
    assert blob.get_blob_properties().append_blob_committed_block_count >= 2
    assert blob.download_blob().readall() == data
    got = blob.download_blob(offset=4 * MIB - 10, length=20).readall()
    assert got == data[4 * MIB - 10:4 * MIB + 10]


@pytest.mark.azurite_gap("Azurite answers x-ms-blob-sealed: false; Azure leaves it out (recordings)")
def test_range_md5_on_an_append_blob(container):
    blob = container.get_blob_client("ranged")
    blob.create_append_blob()
    blob.append_block(b"abcdef")
    blob.append_block(b"ghijkl")
    resp = helpers.raw("GET", blob.url, headers={"x-ms-range": "bytes=4-7",
                                                 "x-ms-range-get-content-md5": "true"})
    assert resp.status_code == 206
    assert resp.content == b"efgh"
    assert resp.headers["Content-MD5"] == helpers.md5_b64(b"efgh")
    assert resp.headers["x-ms-blob-type"] == "AppendBlob"
    assert resp.headers["x-ms-blob-committed-block-count"] == "2"
    assert "x-ms-blob-sealed" not in resp.headers


def test_concurrent_appends_all_land(container):
    blob = container.get_blob_client("concurrent")
    blob.create_append_blob()
    pieces = [bytes([i]) * 1000 for i in range(16)]
    offsets = {}

    def go(i):
        offsets[i] = int(blob.append_block(pieces[i])["blob_append_offset"])

    threads = [threading.Thread(target=go, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    content = blob.download_blob().readall()
    assert len(content) == 16 * 1000
    for i, offset in offsets.items():
        assert content[offset:offset + 1000] == pieces[i]
