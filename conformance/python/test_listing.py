"""List Blobs: flat, hierarchical, prefix, paging, include options."""

from azure.storage.blob import BlobPrefix

import helpers


def _upload(container, names, **kwargs):
    for name in names:
        container.upload_blob(name, name.encode(), **kwargs)


def test_flat_listing_sorted_with_properties(container):
    names = ["b.txt", "a/1.txt", "a/2.txt", "c/d/e.txt"]
    _upload(container, names)
    listed = list(container.list_blobs())
    assert [b.name for b in listed] == sorted(names)
    by_name = {b.name: b for b in listed}
    assert by_name["b.txt"].size == len(b"b.txt")
    assert by_name["b.txt"].blob_type == "BlockBlob"
    # Azure writes a blob's Etag in list XML without quotes (containers' with quotes).
    head_etag = container.get_blob_client("b.txt").get_blob_properties().etag
    assert by_name["b.txt"].etag == head_etag.strip('"')
    assert by_name["b.txt"].etag.startswith("0x")
    assert by_name["b.txt"].last_modified is not None
    assert by_name["b.txt"].creation_time is not None


def test_prefix_filter(container):
    _upload(container, ["log/2024/a", "log/2025/b", "logs", "other"])
    assert [b.name for b in container.list_blobs(name_starts_with="log/")] == ["log/2024/a", "log/2025/b"]
    assert [b.name for b in container.list_blobs(name_starts_with="log")] == ["log/2024/a", "log/2025/b", "logs"]
    assert list(container.list_blobs(name_starts_with="nothing")) == []


def test_hierarchical_listing_with_delimiter(container):
    _upload(container, ["a/1.txt", "a/2.txt", "a/b/3.txt", "top.txt", "z/9.txt"])
    top = list(container.walk_blobs(delimiter="/"))
    prefixes = [item.name for item in top if isinstance(item, BlobPrefix)]
    blobs = [item.name for item in top if not isinstance(item, BlobPrefix)]
    assert prefixes == ["a/", "z/"]
    assert blobs == ["top.txt"]
    inner = list(container.walk_blobs(name_starts_with="a/", delimiter="/"))
    assert [i.name for i in inner if isinstance(i, BlobPrefix)] == ["a/b/"]
    assert [i.name for i in inner if not isinstance(i, BlobPrefix)] == ["a/1.txt", "a/2.txt"]


def test_hierarchical_raw_xml_has_blob_prefix(endpoint, container):
    _upload(container, ["dir/x", "file"])
    resp = helpers.raw("GET", f"{endpoint}/{container.container_name}?restype=container&comp=list&delimiter=/")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/xml")
    body = resp.text
    assert "<BlobPrefix><Name>dir/</Name></BlobPrefix>" in body
    assert "<Delimiter>/</Delimiter>" in body
    assert "<Name>file</Name>" in body


def test_paging_returns_every_blob_once(container):
    names = [f"blob-{i:03d}" for i in range(23)]
    _upload(container, names)
    pages = [list(page) for page in container.list_blobs(results_per_page=5).by_page()]
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    seen = [b.name for page in pages for b in page]
    assert seen == names


def test_paging_raw_next_marker(endpoint, container):
    _upload(container, [f"n{i:02d}" for i in range(12)])
    url = f"{endpoint}/{container.container_name}?restype=container&comp=list&maxresults=10"
    first = helpers.raw("GET", url)
    assert first.status_code == 200
    assert "<MaxResults>10</MaxResults>" in first.text
    marker = first.text.split("<NextMarker>")[1].split("</NextMarker>")[0]
    assert marker
    from urllib.parse import quote
    second = helpers.raw("GET", url + "&marker=" + quote(marker, safe=""))
    assert second.status_code == 200
    assert second.text.count("<Blob>") == 2
    assert "<NextMarker />" in second.text or "<NextMarker/>" in second.text or "<NextMarker></NextMarker>" in second.text


def test_include_metadata(container):
    container.upload_blob("with-meta", b"x", metadata={"k": "v", "Other": "Y"})
    container.upload_blob("without", b"x")
    with_meta = {b.name: b.metadata for b in container.list_blobs(include=["metadata"])}
    assert with_meta["with-meta"] == {"k": "v", "Other": "Y"}
    assert not with_meta["without"]
    plain = {b.name: b.metadata for b in container.list_blobs()}
    assert not plain["with-meta"]


def test_include_uncommitted_blobs(container):
    blob = container.get_blob_client("staged-only")
    blob.stage_block("YmxvY2sx", b"data")
    container.upload_blob("committed", b"x")
    assert [b.name for b in container.list_blobs()] == ["committed"]
    listed = {b.name: b for b in container.list_blobs(include=["uncommittedblobs"])}
    assert set(listed) == {"committed", "staged-only"}
    assert listed["staged-only"].size == 0


def test_list_missing_container(service):
    import pytest
    from azure.core.exceptions import ResourceNotFoundError

    with pytest.raises(ResourceNotFoundError) as e:
        list(service.get_container_client(helpers.unique_name("missing")).list_blobs())
    assert e.value.status_code == 404
    assert e.value.error_code == "ContainerNotFound"


def _names(xml):
    import re
    return re.findall(r"<Name>([^<]*)</Name>", xml)


def test_start_from_begins_the_listing_at_that_name(endpoint, container):
    """startFrom (x-ms-version 2025-01-05 and later): the listing starts at the given name,
    inclusive, within the prefix; a marker further on wins. object_store relies on it."""
    _upload(container, ["p/a", "p/b", "p/c", "p/d", "q/a"])
    base = f"{endpoint}/{container.container_name}?restype=container&comp=list"
    resp = helpers.raw("GET", f"{base}&prefix=p/&startFrom=p/b")
    assert resp.status_code == 200, resp.text
    assert _names(resp.text) == ["p/b", "p/c", "p/d"]
    # Between two names: starts at the next one.
    resp = helpers.raw("GET", f"{base}&prefix=p/&startFrom=p/bb")
    assert _names(resp.text) == ["p/c", "p/d"]
    # Paging from startFrom continues where the page ended.
    resp = helpers.raw("GET", f"{base}&startFrom=p/b&maxresults=2")
    assert _names(resp.text) == ["p/b", "p/c"]
    import re
    marker = re.search(r"<NextMarker>([^<]+)</NextMarker>", resp.text).group(1)
    from urllib.parse import quote
    resp = helpers.raw("GET", f"{base}&startFrom=p/b&maxresults=2&marker={quote(marker, safe='')}")
    assert _names(resp.text) == ["p/d", "q/a"]
    # Before the prefix: the prefix still bounds the listing.
    resp = helpers.raw("GET", f"{base}&prefix=p/&startFrom=a")
    assert _names(resp.text) == ["p/a", "p/b", "p/c", "p/d"]
