"""Blob index tags through azure-storage-blob: Set / Get Blob Tags, tags on upload, x-ms-tag-count,
include=tags in listings, x-ms-if-tags conditions, Find Blobs by Tags at account and container
level with paging, and Azure's limits."""

import uuid
from urllib.parse import quote

import pytest
from azure.core.exceptions import HttpResponseError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import BlobBlock, BlobType

import helpers


def error_code(exc):
    return exc.value.error_code


def unique(prefix):
    """Tag values unique to one test run, so account-wide searches see only this test's blobs."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@pytest.mark.azurite_gap("Azurite refuses an empty tag value; Azure allows 0-256 characters")
def test_set_and_get_tags(container):
    blob = container.get_blob_client("tagged")
    etag = blob.upload_blob(b"data")["etag"]
    blob.set_blob_tags({"Project": "Contoso", "Stage": "draft 1", "empty": ""})
    assert blob.get_blob_tags() == {"Project": "Contoso", "Stage": "draft 1", "empty": ""}
    props = blob.get_blob_properties()
    assert props.tag_count == 3
    assert props.etag == etag, "setting tags does not change the blob"
    blob.set_blob_tags({"only": "one"})
    assert blob.get_blob_tags() == {"only": "one"}
    blob.set_blob_tags({})
    assert blob.get_blob_tags() == {}
    assert blob.get_blob_properties().tag_count in (None, 0)


def test_tags_of_a_missing_blob(container):
    with pytest.raises(ResourceNotFoundError):
        container.get_blob_client("missing").get_blob_tags()
    with pytest.raises(ResourceNotFoundError):
        container.get_blob_client("missing").set_blob_tags({"a": "b"})


def test_upload_with_tags(container):
    blob = container.get_blob_client("up")
    blob.upload_blob(b"x", tags={"tag1": "first tag", "tag2": "2"})
    assert blob.get_blob_tags() == {"tag1": "first tag", "tag2": "2"}
    assert blob.get_blob_properties().tag_count == 2
    # Overwriting without tags drops them; with tags, they are the new ones.
    blob.upload_blob(b"y", overwrite=True)
    assert blob.get_blob_tags() == {}
    blob.upload_blob(b"z", overwrite=True, tags={"v": "3"})
    assert blob.get_blob_tags() == {"v": "3"}


def test_commit_block_list_and_append_blob_with_tags(container):
    blocks = container.get_blob_client("blocks")
    blocks.stage_block("MDA=", b"abc")
    blocks.commit_block_list([BlobBlock(block_id="MDA=")], tags={"via": "blocklist"})
    assert blocks.get_blob_tags() == {"via": "blocklist"}
    log = container.get_blob_client("log")
    log.create_append_blob(tags={"kind": "log"})
    assert log.get_blob_tags() == {"kind": "log"}


GAP_INVALID_TAG = pytest.mark.azurite_gap("Azurite answers invalid tag characters as DuplicateTagNames")


@pytest.mark.parametrize("tags,code", [
    ({f"k{i}": "v" for i in range(11)}, "TagsTooLarge"),
    ({"k" * 129: "v"}, "TagsTooLarge"),
    ({"k": "v" * 257}, "TagsTooLarge"),
    pytest.param({"bad&key": "v"}, "InvalidTag", marks=GAP_INVALID_TAG),
    pytest.param({"k": "bad<value"}, "InvalidTag", marks=GAP_INVALID_TAG),
])
def test_limits(container, tags, code):
    blob = container.get_blob_client("limits")
    blob.upload_blob(b"x")
    with pytest.raises(HttpResponseError) as exc:
        blob.set_blob_tags(tags)
    assert exc.value.status_code == 400
    assert error_code(exc) == code
    with pytest.raises(HttpResponseError) as exc:
        container.get_blob_client("limits2").upload_blob(b"x", tags=tags)
    assert exc.value.status_code == 400
    # The refused upload created nothing.
    with pytest.raises(ResourceNotFoundError):
        container.get_blob_client("limits2").get_blob_properties()


def test_limits_at_their_edges_are_accepted(container):
    blob = container.get_blob_client("edges")
    blob.upload_blob(b"x")
    tags = {f"k{i}": "v" for i in range(9)}
    tags["k" * 128] = "v" * 256
    blob.set_blob_tags(tags)
    assert blob.get_blob_tags() == tags


@pytest.mark.azurite_gap("Azurite lets a failing x-ms-if-tags through on Set Blob Metadata")
def test_if_tags_conditions(container):
    blob = container.get_blob_client("cond")
    blob.upload_blob(b"data", tags={"state": "ready", "n": "5"})
    assert blob.download_blob(if_tags_match_condition="\"state\" = 'ready'").readall() == b"data"
    with pytest.raises(HttpResponseError) as exc:
        blob.download_blob(if_tags_match_condition="\"state\" = 'busy'")
    assert exc.value.status_code == 412
    assert error_code(exc) == "ConditionNotMet"
    with pytest.raises(ResourceModifiedError):
        blob.set_blob_metadata({"m": "1"}, if_tags_match_condition="\"n\" > '7'")
    blob.set_blob_metadata({"m": "1"}, if_tags_match_condition="\"n\" > '4' AND \"state\" <> 'busy'")
    with pytest.raises(ResourceModifiedError):
        blob.set_blob_tags({"x": "y"}, if_tags_match_condition="\"state\" = 'busy'")
    assert blob.get_blob_tags(if_tags_match_condition="\"state\" = 'busy' OR \"n\" = '5'")["state"] == "ready"
    with pytest.raises(ResourceModifiedError):
        blob.delete_blob(if_tags_match_condition="\"state\" = 'busy'")
    blob.delete_blob(if_tags_match_condition="\"state\" = 'ready'")


def test_malformed_if_tags_is_400(container):
    blob = container.get_blob_client("badcond")
    blob.upload_blob(b"x")
    resp = helpers.raw("GET", blob.url, headers={"x-ms-if-tags": "\"a\" = "})
    helpers.assert_error(resp, 400, "InvalidHeaderValue")


def test_list_blobs_include_tags(container):
    container.get_blob_client("a").upload_blob(b"x", tags={"k": "v"})
    container.get_blob_client("b").upload_blob(b"x")
    listed = {b.name: b for b in container.list_blobs(include=["tags"])}
    assert listed["a"].tags == {"k": "v"}
    assert listed["a"].tag_count == 1
    assert not listed["b"].tags
    plain = {b.name: b for b in container.list_blobs()}
    assert plain["a"].tag_count == 1
    assert not plain["a"].tags


def test_find_blobs_by_tags_in_the_account_and_in_a_container(service, container):
    project = unique("p")
    other = service.create_container(helpers.unique_name("c"))
    try:
        container.get_blob_client("one").upload_blob(b"1", tags={"project": project, "date": "2020-04-20"})
        container.get_blob_client("two").upload_blob(b"2", tags={"project": project, "date": "2020-04-26"})
        other.get_blob_client("three").upload_blob(b"3", tags={"project": project, "date": "2020-04-22"})
        other.get_blob_client("four").upload_blob(b"4", tags={"project": "else", "date": "2020-04-22"})

        found = list(service.find_blobs_by_tags(f"\"project\" = '{project}'"))
        assert sorted((b.container_name, b.name) for b in found) == sorted(
            [(container.container_name, "one"), (container.container_name, "two"), (other.container_name, "three")])
        # Each blob comes with the tags the expression names, and only those.
        assert all(b.tags == {"project": project} for b in found)

        ranged = service.find_blobs_by_tags(
            f"\"project\" = '{project}' AND \"date\" >= '2020-04-21' AND \"date\" < '2020-04-25'")
        assert [(b.container_name, b.name) for b in ranged] == [(other.container_name, "three")]

        scoped = service.find_blobs_by_tags(
            f"@container = '{container.container_name}' AND \"project\" = '{project}'")
        assert sorted(b.name for b in scoped) == ["one", "two"]

        in_container = container.find_blobs_by_tags(f"\"project\" = '{project}'")
        assert sorted(b.name for b in in_container) == ["one", "two"]
    finally:
        other.delete_container()


def test_find_blobs_by_tags_pages(service, container):
    batch = unique("b")
    for i in range(7):
        container.get_blob_client(f"blob{i}").upload_blob(b"x", tags={"batch": batch})
    pages = list(service.find_blobs_by_tags(f"\"batch\" = '{batch}'", results_per_page=3).by_page())
    sizes = [len(list(p)) for p in pages]
    assert sizes == [3, 3, 1]


@pytest.mark.parametrize("where", [
    "\"a\" = 'b' OR \"c\" = 'd'",
    "\"a\" <> 'b'",
    pytest.param("@container = 'c'", marks=pytest.mark.azurite_gap("Azurite searches by container alone")),
    "\"a\" = ",
])
def test_find_blobs_by_tags_refuses_what_azure_refuses(endpoint, where):
    url = f"{endpoint}/?comp=blobs&where={quote(where)}"
    helpers.assert_error(helpers.raw("GET", url), 400, "InvalidQueryParameterValue")


def test_tags_need_the_t_permission_in_a_sas(container):
    from datetime import datetime, timedelta, timezone

    from azure.storage.blob import BlobSasPermissions, generate_blob_sas

    blob = container.get_blob_client("sas")
    blob.upload_blob(b"x", tags={"k": "v"})
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)

    def sas(**perms):
        return generate_blob_sas(helpers.ACCOUNT, container.container_name, "sas", account_key=helpers.KEY,
                                 permission=BlobSasPermissions(**perms), expiry=expiry)

    ok = helpers.raw("GET", blob.url + "?comp=tags&" + sas(tag=True), signed=False)
    assert ok.status_code == 200, ok.text
    assert "<Key>k</Key>" in ok.text
    refused = helpers.raw("GET", blob.url + "?comp=tags&" + sas(read=True), signed=False)
    assert refused.status_code == 403
