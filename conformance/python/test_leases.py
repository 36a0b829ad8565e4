"""Lease Blob and Lease Container through the SDK's BlobLeaseClient, and the lease rules on
writes (Azure's "Lease Blob" and "Lease Container" REST reference)."""

import time
import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.storage.blob import BlobLeaseClient

import helpers


@pytest.fixture
def blob(container):
    client = container.get_blob_client("leased")
    client.upload_blob(b"content")
    return client


def _code(excinfo):
    return excinfo.value.error_code


def test_acquire_shows_in_properties_and_listing(container, blob):
    lease = blob.acquire_lease(lease_duration=-1)
    props = blob.get_blob_properties()
    assert props.lease.status == "locked"
    assert props.lease.state == "leased"
    assert props.lease.duration == "infinite"
    listed = next(iter(container.list_blobs()))
    assert (listed.lease.status, listed.lease.state, listed.lease.duration) == (
        "locked", "leased", "infinite")
    lease.release()
    props = blob.get_blob_properties()
    assert (props.lease.status, props.lease.state) == ("unlocked", "available")
    assert props.lease.duration is None


def test_writes_to_a_leased_blob_need_its_id(blob):
    lease = blob.acquire_lease(lease_duration=15)
    with pytest.raises(HttpResponseError) as e:
        blob.upload_blob(b"other", overwrite=True)
    assert e.value.status_code == 412 and _code(e) == "LeaseIdMissing"
    with pytest.raises(HttpResponseError) as e:
        blob.set_blob_metadata({"a": "b"}, lease=str(uuid.uuid4()))
    assert e.value.status_code == 412 and _code(e) == "LeaseIdMismatchWithBlobOperation"
    with pytest.raises(HttpResponseError) as e:
        blob.delete_blob()
    assert _code(e) == "LeaseIdMissing"
    with pytest.raises(HttpResponseError) as e:
        blob.stage_block("YmxvY2s=", b"x")
    assert _code(e) == "LeaseIdMissing"
    # With the id, every write goes through; the lease stays on the new content.
    blob.upload_blob(b"other", overwrite=True, lease=lease)
    blob.set_blob_metadata({"a": "b"}, lease=lease)
    assert blob.get_blob_properties().lease.state == "leased"
    # Reads need no id; a wrong one is refused.
    assert blob.download_blob().readall() == b"other"
    with pytest.raises(HttpResponseError) as e:
        blob.download_blob(lease=str(uuid.uuid4()))
    assert _code(e) == "LeaseIdMismatchWithBlobOperation"
    blob.delete_blob(lease=lease)


def test_a_lease_id_on_an_unleased_blob_is_refused(blob):
    with pytest.raises(HttpResponseError) as e:
        blob.set_blob_metadata({"a": "b"}, lease=str(uuid.uuid4()))
    assert e.value.status_code == 412 and _code(e) == "LeaseNotPresentWithBlobOperation"


def test_second_acquire_conflicts_and_change_renew_work(blob):
    first = blob.acquire_lease(lease_duration=60)
    other = BlobLeaseClient(blob, lease_id=str(uuid.uuid4()))
    with pytest.raises(ResourceExistsError) as e:
        other.acquire(lease_duration=60)
    assert _code(e) == "LeaseAlreadyPresent"
    new_id = str(uuid.uuid4())
    first.change(proposed_lease_id=new_id)
    assert first.id == new_id
    first.renew()
    with pytest.raises(HttpResponseError) as e:
        BlobLeaseClient(blob, lease_id=str(uuid.uuid4())).renew()
    assert e.value.status_code == 409 and _code(e) == "LeaseIdMismatchWithLeaseOperation"
    first.release()


def test_break_with_a_period_then_acquire_again(blob):
    lease = blob.acquire_lease(lease_duration=60)
    left = lease.break_lease(lease_break_period=1)
    assert left == 1
    props = blob.get_blob_properties()
    assert (props.lease.status, props.lease.state) == ("locked", "breaking")
    with pytest.raises(HttpResponseError) as e:
        lease.renew()
    assert _code(e) == "LeaseIsBrokenAndCannotBeRenewed"
    time.sleep(1.2)
    props = blob.get_blob_properties()
    assert (props.lease.status, props.lease.state) == ("unlocked", "broken")
    # Broken: the blob can be written without an id, and leased by anyone.
    blob.set_blob_metadata({"x": "y"})
    blob.acquire_lease(lease_duration=15).release()


def test_a_fixed_lease_breaks_at_once_with_a_zero_period(blob):
    lease = blob.acquire_lease(lease_duration=15)
    assert blob.get_blob_properties().lease.duration == "fixed"
    assert lease.break_lease(lease_break_period=0) == 0
    assert blob.get_blob_properties().lease.state == "broken"


@pytest.mark.azurite_gap("Azurite takes lease durations and actions Azure refuses with 400")
def test_lease_durations_are_checked(endpoint, blob):
    url = blob.url
    for duration in ("14", "61", "0", "x"):
        resp = helpers.raw("PUT", url + "?comp=lease", {
            "x-ms-lease-action": "acquire", "x-ms-lease-duration": duration})
        helpers.assert_error(resp, 400, "InvalidHeaderValue")
    resp = helpers.raw("PUT", url + "?comp=lease", {"x-ms-lease-action": "acquire"})
    helpers.assert_error(resp, 400, "MissingRequiredHeader")
    resp = helpers.raw("PUT", url + "?comp=lease", {"x-ms-lease-action": "steal"})
    helpers.assert_error(resp, 400, "InvalidHeaderValue")
    resp = helpers.raw("PUT", url + "?comp=lease", {
        "x-ms-lease-action": "acquire", "x-ms-lease-duration": "-1",
        "x-ms-proposed-lease-id": "not-a-guid"})
    helpers.assert_error(resp, 400, "InvalidHeaderValue")


def test_lease_on_a_missing_blob(container):
    with pytest.raises(HttpResponseError) as e:
        container.get_blob_client("missing").acquire_lease()
    assert e.value.status_code == 404 and _code(e) == "BlobNotFound"


def test_lease_operations_keep_the_etag(blob):
    before = blob.get_blob_properties().etag
    lease = blob.acquire_lease()
    assert lease.etag == before
    lease.release()
    assert blob.get_blob_properties().etag == before


def test_container_lease_guards_delete_only(service, container):
    lease = container.acquire_lease(lease_duration=-1)
    props = container.get_container_properties()
    assert (props.lease.status, props.lease.state, props.lease.duration) == (
        "locked", "leased", "infinite")
    listed = [c for c in service.list_containers(name_starts_with=container.container_name)]
    assert listed[0].lease.state == "leased"
    # Metadata can be set without the id; delete cannot.
    container.set_container_metadata({"k": "v"})
    with pytest.raises(HttpResponseError) as e:
        container.delete_container()
    assert e.value.status_code == 412 and _code(e) == "LeaseIdMissing"
    with pytest.raises(HttpResponseError) as e:
        container.delete_container(lease=str(uuid.uuid4()))
    assert _code(e) == "LeaseIdMismatchWithContainerOperation"
    container.delete_container(lease=lease)


def test_container_lease_id_on_an_unleased_container(container):
    with pytest.raises(HttpResponseError) as e:
        container.delete_container(lease=str(uuid.uuid4()))
    assert e.value.status_code == 412 and _code(e) == "LeaseNotPresentWithContainerOperation"
