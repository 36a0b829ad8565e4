"""Queues: Create Queue (201; an existing queue with the same metadata 204, other metadata 409
QueueAlreadyExists), Delete Queue, Get/Set Queue Metadata (approximate message count), Get/Set
Queue ACL (stored access policies) and the queue naming rules ("Naming Queues and Metadata")."""

from datetime import timedelta

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.queue import AccessPolicy, QueueClient

import queue_helpers


def _client(queue_conn_str, name):
    return QueueClient.from_connection_string(queue_conn_str, name)


# --- Create Queue ------------------------------------------------------------------------------

def test_create_queue_201(queue_service):
    statuses = queue_helpers.Statuses()
    client = queue_service.create_queue(queue_helpers.queue_name(), raw_response_hook=statuses)
    try:
        assert statuses.last == 201
        props = client.get_queue_properties()
        assert props.name == client.queue_name
        assert props.metadata == {}
        assert props.approximate_message_count == 0
    finally:
        client.delete_queue()


def test_create_existing_queue_same_metadata_is_204(queue_endpoint, queue_service):
    """Azure answers 204 No Content and changes nothing. (The Python SDK turns that 204 into a
    ResourceExistsError of its own; the status tells it apart from a real 409.)"""
    name = queue_helpers.queue_name()
    client = queue_service.create_queue(name, metadata={"team": "red"})
    try:
        client.send_message("stays")
        resp = queue_helpers.raw("PUT", f"{queue_endpoint}/{name}", headers={"x-ms-meta-team": "red"}, data=b"")
        assert resp.status_code == 204, resp.text
        with pytest.raises(ResourceExistsError) as e:
            client.create_queue(metadata={"team": "red"})
        assert e.value.response.status_code == 204
        props = client.get_queue_properties()
        assert props.metadata == {"team": "red"}
        assert props.approximate_message_count == 1
    finally:
        client.delete_queue()


def test_create_existing_queue_without_metadata_is_204(queue_endpoint, queue):
    resp = queue_helpers.raw("PUT", f"{queue_endpoint}/{queue.queue_name}", data=b"")
    assert resp.status_code == 204, resp.text


def test_create_existing_queue_other_metadata_is_409(queue_endpoint, queue_service):
    name = queue_helpers.queue_name()
    client = queue_service.create_queue(name, metadata={"team": "red"})
    try:
        with pytest.raises(ResourceExistsError) as e:
            client.create_queue(metadata={"team": "blue"})
        queue_helpers.assert_sdk_error(e, 409, "QueueAlreadyExists")
        # No metadata at all differs from the queue's metadata too.
        resp = queue_helpers.raw("PUT", f"{queue_endpoint}/{name}", data=b"")
        queue_helpers.assert_error(resp, 409, "QueueAlreadyExists")
        assert client.get_queue_properties().metadata == {"team": "red"}
    finally:
        client.delete_queue()


# --- Delete Queue ------------------------------------------------------------------------------

def test_delete_queue_then_missing(queue_service):
    client = queue_service.create_queue(queue_helpers.queue_name())
    client.send_message("gone with the queue")
    statuses = queue_helpers.Statuses()
    client.delete_queue(raw_response_hook=statuses)
    assert statuses.last == 204
    with pytest.raises(ResourceNotFoundError) as e:
        client.get_queue_properties()
    queue_helpers.assert_sdk_error(e, 404, "QueueNotFound")
    with pytest.raises(ResourceNotFoundError) as e:
        client.delete_queue()
    queue_helpers.assert_sdk_error(e, 404, "QueueNotFound")
    # The name is free again, and the new queue starts empty.
    client.create_queue()
    try:
        assert client.get_queue_properties().approximate_message_count == 0
        assert client.peek_messages() == []
    finally:
        client.delete_queue()


def test_every_operation_on_a_missing_queue_is_404(queue_conn_str):
    client = _client(queue_conn_str, queue_helpers.queue_name("missing"))
    calls = [
        client.get_queue_properties,
        lambda: client.set_queue_metadata({"a": "b"}),
        client.get_queue_access_policy,
        lambda: client.set_queue_access_policy({}),
        lambda: client.send_message("x"),
        client.peek_messages,
        client.receive_message,
        client.clear_messages,
    ]
    for call in calls:
        with pytest.raises(ResourceNotFoundError) as e:
            call()
        queue_helpers.assert_sdk_error(e, 404, "QueueNotFound")


# --- Metadata and properties -------------------------------------------------------------------

def test_get_properties_metadata_and_message_count(queue_endpoint, queue_service):
    client = queue_service.create_queue(queue_helpers.queue_name(), metadata={"Owner": "alice", "n": "1"})
    try:
        for i in range(3):
            client.send_message(f"m{i}")
        props = client.get_queue_properties()
        assert props.metadata == {"Owner": "alice", "n": "1"}
        assert props.approximate_message_count == 3
        resp = queue_helpers.raw("GET", f"{queue_endpoint}/{client.queue_name}?comp=metadata")
        assert resp.status_code == 200
        assert resp.headers["x-ms-approximate-messages-count"] == "3"
        assert resp.headers["x-ms-meta-Owner"] == "alice"
        assert resp.content == b""
        head = queue_helpers.raw("HEAD", f"{queue_endpoint}/{client.queue_name}?comp=metadata")
        assert head.status_code == 200
        assert head.headers["x-ms-approximate-messages-count"] == "3"
        # Received (invisible) messages still count; deleted ones do not.
        received = client.receive_message(visibility_timeout=60)
        assert client.get_queue_properties().approximate_message_count == 3
        client.delete_message(received)
        assert client.get_queue_properties().approximate_message_count == 2
    finally:
        client.delete_queue()


def test_set_metadata_replaces_the_whole_set(queue):
    statuses = queue_helpers.Statuses()
    queue.set_queue_metadata({"a": "1", "b": "2"}, raw_response_hook=statuses)
    assert statuses.last == 204
    assert queue.get_queue_properties().metadata == {"a": "1", "b": "2"}
    queue.set_queue_metadata({"c": "3"})
    assert queue.get_queue_properties().metadata == {"c": "3"}
    queue.set_queue_metadata({})
    assert queue.get_queue_properties().metadata == {}


@pytest.mark.azurite_gap("accepts a metadata name that is not a C# identifier")
def test_metadata_name_must_be_an_identifier(queue_endpoint, queue):
    resp = queue_helpers.raw("PUT", f"{queue_endpoint}/{queue.queue_name}?comp=metadata",
                             headers={"x-ms-meta-1abc": "v"}, data=b"")
    queue_helpers.assert_error(resp, 400, "InvalidMetadata")


# --- Queue names -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, code", [
    ("UpperCase", "InvalidResourceName"),
    ("has_underscore", "InvalidResourceName"),
    ("double--dash", "InvalidResourceName"),
    ("-leading", "InvalidResourceName"),
    ("trailing-", "InvalidResourceName"),
    ("ab", "OutOfRangeInput"),
    ("a" * 64, "OutOfRangeInput"),
])
def test_invalid_queue_names(queue_conn_str, name, code):
    with pytest.raises(HttpResponseError) as e:
        _client(queue_conn_str, name).create_queue()
    queue_helpers.assert_sdk_error(e, 400, code)


@pytest.mark.parametrize("name", ["abc", "a" * 63, "0-digit-first", "a-b-c-1-2-3"])
def test_valid_queue_names_at_the_limits(queue_conn_str, name):
    client = _client(queue_conn_str, name)
    client.create_queue()
    try:
        assert client.get_queue_properties().name == name
    finally:
        client.delete_queue()


# --- Queue ACL (stored access policies) --------------------------------------------------------

def test_access_policy_round_trip(queue):
    assert queue.get_queue_access_policy() == {}
    start = queue_helpers.now().replace(microsecond=0) - timedelta(minutes=5)
    expiry = start + timedelta(hours=2)
    statuses = queue_helpers.Statuses()
    queue.set_queue_access_policy({
        "readers": AccessPolicy(permission="r", start=start, expiry=expiry),
        "workers": AccessPolicy(permission="raup", expiry=expiry),
    }, raw_response_hook=statuses)
    assert statuses.last == 204
    got = queue.get_queue_access_policy(raw_response_hook=statuses)
    assert statuses.last == 200
    assert sorted(got) == ["readers", "workers"]
    assert got["readers"].permission == "r"
    assert got["workers"].permission == "raup"
    # Azure writes the times back in ISO 8601 (with seven fractional digits); same instants.
    assert queue_helpers.parse_iso(got["readers"].start) == start
    assert queue_helpers.parse_iso(got["readers"].expiry) == expiry
    assert queue_helpers.parse_iso(got["workers"].expiry) == expiry
    assert not got["workers"].start
    # Setting replaces the whole list; an empty list removes every policy.
    queue.set_queue_access_policy({"only": AccessPolicy(permission="a", expiry=expiry)})
    assert sorted(queue.get_queue_access_policy()) == ["only"]
    queue.set_queue_access_policy({})
    assert queue.get_queue_access_policy() == {}


def test_five_access_policies_accepted(queue):
    expiry = queue_helpers.now() + timedelta(hours=1)
    queue.set_queue_access_policy({f"id{i}": AccessPolicy(permission="r", expiry=expiry) for i in range(5)})
    assert len(queue.get_queue_access_policy()) == 5


def test_more_than_five_access_policies_rejected(queue):
    expiry = queue_helpers.now() + timedelta(hours=1)
    with pytest.raises(HttpResponseError) as e:
        queue.set_queue_access_policy({f"id{i}": AccessPolicy(permission="r", expiry=expiry) for i in range(6)})
    queue_helpers.assert_sdk_error(e, 400, "InvalidXmlDocument")
