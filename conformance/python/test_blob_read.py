"""Get Blob / Get Blob Properties / Set Blob Properties: ranges, range MD5, content settings, headers."""

import hashlib
import os
import re
import time

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import ContentSettings

import helpers

MIB = 1024 * 1024
DATA = bytes(range(256)) * 4  # 1024 bytes with a recognisable pattern


@pytest.fixture
def blob(container):
    client = container.get_blob_client("data.bin")
    client.upload_blob(DATA)
    return client


@pytest.fixture
def blob_url(endpoint, blob):
    return helpers.blob_url(endpoint, blob.container_name, blob.blob_name)


def test_download_whole(blob):
    downloader = blob.download_blob()
    assert downloader.readall() == DATA
    assert downloader.properties.size == len(DATA)


def test_download_offset_length(blob):
    assert blob.download_blob(offset=10, length=20).readall() == DATA[10:30]
    assert blob.download_blob(offset=1000).readall() == DATA[1000:]
    # A range reaching past the end is clipped to the blob (recorded: bytes=0-29 on 15 bytes -> 206).
    assert blob.download_blob(offset=1020, length=100).readall() == DATA[1020:]


def test_raw_x_ms_range(blob_url):
    resp = helpers.raw("GET", blob_url, headers={"x-ms-range": "bytes=100-199"})
    assert resp.status_code == 206
    assert resp.content == DATA[100:200]
    assert resp.headers["Content-Range"] == f"bytes 100-199/{len(DATA)}"
    assert resp.headers["Content-Length"] == "100"
    assert resp.headers["Accept-Ranges"] == "bytes"


def test_raw_range_header(blob_url):
    resp = helpers.raw("GET", blob_url, headers={"Range": "bytes=5-9"})
    assert resp.status_code == 206
    assert resp.content == DATA[5:10]
    assert resp.headers["Content-Range"] == f"bytes 5-9/{len(DATA)}"


def test_raw_open_ended_range(blob_url):
    resp = helpers.raw("GET", blob_url, headers={"x-ms-range": "bytes=1000-"})
    assert resp.status_code == 206
    assert resp.content == DATA[1000:]


def test_x_ms_range_wins_over_range(blob_url):
    resp = helpers.raw("GET", blob_url, headers={"x-ms-range": "bytes=0-1", "Range": "bytes=10-19"})
    assert resp.status_code == 206
    assert resp.content == DATA[0:2]


@pytest.mark.azurite_gap("a range starting exactly at the blob size answers 206 with an empty body")
def test_range_starting_at_size(blob_url):
    # Recorded: TestBlobDownloadDataOffsetOutOfRange (bytes=15- on 15 bytes) -> 416, Content-Range bytes */15.
    resp = helpers.raw("GET", blob_url, headers={"x-ms-range": f"bytes={len(DATA)}-"})
    helpers.assert_error(resp, 416, "InvalidRange")
    assert resp.headers["Content-Range"] == f"bytes */{len(DATA)}"


def test_range_beyond_end(blob_url):
    resp = helpers.raw("GET", blob_url, headers={"x-ms-range": f"bytes={len(DATA) + 100}-{len(DATA) + 200}"})
    helpers.assert_error(resp, 416, "InvalidRange")


def test_range_beyond_end_sdk(blob):
    with pytest.raises(HttpResponseError) as e:
        blob.download_blob(offset=len(DATA) + 10, length=5)
    assert e.value.status_code == 416
    assert e.value.error_code == "InvalidRange"


def test_range_get_content_md5(blob_url):
    resp = helpers.raw("GET", blob_url, headers={"x-ms-range": "bytes=10-12",
                                                  "x-ms-range-get-content-md5": "true"})
    assert resp.status_code == 206
    assert resp.content == DATA[10:13]
    assert resp.headers["Content-MD5"] == helpers.md5_b64(DATA[10:13])


@pytest.mark.azurite_gap("computes a range MD5 for ranges over 4 MiB instead of 400 OutOfRangeInput")
def test_range_get_content_md5_over_4mib(container, endpoint):
    data = os.urandom(4 * MIB + 10)
    container.upload_blob("big", data)
    url = helpers.blob_url(endpoint, container.container_name, "big")
    ok = helpers.raw("GET", url, headers={"x-ms-range": f"bytes=0-{4 * MIB - 1}",
                                          "x-ms-range-get-content-md5": "true"})
    assert ok.status_code == 206
    assert ok.headers["Content-MD5"] == helpers.md5_b64(data[:4 * MIB])
    too_big = helpers.raw("GET", url, headers={"x-ms-range": f"bytes=0-{4 * MIB}",
                                               "x-ms-range-get-content-md5": "true"})
    helpers.assert_error(too_big, 400, "OutOfRangeInput")


def test_get_and_set_properties_replace_content_settings(blob):
    blob.set_http_headers(ContentSettings(content_type="text/plain", content_language="de",
                                          cache_control="max-age=60", content_disposition="attachment",
                                          content_encoding="gzip"))
    cs = blob.get_blob_properties().content_settings
    assert (cs.content_type, cs.content_language, cs.cache_control, cs.content_disposition,
            cs.content_encoding) == ("text/plain", "de", "max-age=60", "attachment", "gzip")
    # Set Blob Properties replaces all content headers: ones left out are cleared.
    blob.set_http_headers(ContentSettings(content_type="image/png"))
    cs = blob.get_blob_properties().content_settings
    assert cs.content_type == "image/png"
    assert not cs.content_language and not cs.cache_control
    assert not cs.content_disposition and not cs.content_encoding
    assert blob.download_blob().readall() == DATA


def test_content_settings_returned_on_get(blob_url, blob):
    blob.set_http_headers(ContentSettings(content_type="text/csv", content_disposition="inline"))
    resp = helpers.raw("GET", blob_url)
    assert resp.headers["Content-Type"] == "text/csv"
    assert resp.headers["Content-Disposition"] == "inline"


def test_default_content_type(container):
    blob = container.get_blob_client("plain")
    blob.upload_blob(b"x")
    assert blob.get_blob_properties().content_settings.content_type == "application/octet-stream"


ETAG = re.compile(r'^"0x[0-9A-F]{15}"$')


def test_etag_format_and_changes_on_each_write(blob):
    first = blob.get_blob_properties().etag
    assert ETAG.match(first), first
    blob.set_blob_metadata({"a": "b"})
    second = blob.get_blob_properties().etag
    blob.upload_blob(b"new", overwrite=True)
    third = blob.get_blob_properties().etag
    assert ETAG.match(second) and ETAG.match(third)
    assert len({first, second, third}) == 3


def test_standard_response_headers(blob_url):
    resp = helpers.raw("HEAD", blob_url, headers={"x-ms-client-request-id": "conf-123"})
    assert resp.status_code == 200
    assert resp.headers["x-ms-request-id"]
    assert resp.headers["x-ms-client-request-id"] == "conf-123"
    assert time.strptime(resp.headers["Date"], "%a, %d %b %Y %H:%M:%S GMT")
    assert time.strptime(resp.headers["x-ms-creation-time"], "%a, %d %b %Y %H:%M:%S GMT")
    assert time.strptime(resp.headers["Last-Modified"], "%a, %d %b %Y %H:%M:%S GMT")
    assert resp.headers["x-ms-blob-type"] == "BlockBlob"
    assert resp.headers["Content-Length"] == str(len(DATA))
    assert ETAG.match(resp.headers["ETag"])


@pytest.mark.azurite_gap("answers with its own x-ms-version instead of the request's")
def test_x_ms_version_echoed(blob_url):
    # Recorded responses carry the version the request sent (2020-10-02).
    resp = helpers.raw("HEAD", blob_url, headers={"x-ms-version": "2020-10-02"})
    assert resp.status_code == 200
    assert resp.headers["x-ms-version"] == "2020-10-02"


def test_get_blob_content_md5_header(blob_url):
    resp = helpers.raw("GET", blob_url)
    assert resp.headers["Content-MD5"] == helpers.md5_b64(DATA)
    assert hashlib.md5(resp.content).digest() == hashlib.md5(DATA).digest()
