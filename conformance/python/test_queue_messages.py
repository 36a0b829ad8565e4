"""Messages: Put Message, Get Messages, Peek Messages, Delete Message, Update Message and Clear
Messages, with the status codes and fields the REST reference gives for each.

(Message sizes, encodings and characters are in test_queue_message_content.py; timing in
test_queue_visibility.py; refused parameters in test_queue_errors.py.)"""

import uuid
from datetime import timedelta

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

import queue_helpers

SECOND = timedelta(seconds=1)


def _close(a, b, within=SECOND):
    return abs(a - b) <= within


def _peek_all(queue):
    return queue.peek_messages(max_messages=32)


# --- Put Message -------------------------------------------------------------------------------

def test_send_message_defaults(queue):
    statuses = queue_helpers.Statuses()
    sent = queue.send_message("hello", raw_response_hook=statuses)
    assert statuses.last == 201
    assert sent.content == "hello"
    uuid.UUID(sent.id)
    assert sent.pop_receipt
    # Default time-to-live 7 days; default visibility timeout 0 (visible at once).
    assert _close(sent.expires_on - sent.inserted_on, timedelta(days=7))
    assert _close(sent.next_visible_on, sent.inserted_on)
    assert _close(sent.inserted_on, queue_helpers.now(), timedelta(minutes=5))
    peeked = _peek_all(queue)
    assert [(m.id, m.content) for m in peeked] == [(sent.id, "hello")]


def test_send_message_raw_response_body(queue_url):
    resp = queue_helpers.raw("POST", f"{queue_url}/messages?visibilitytimeout=5&messagettl=60",
                             data=queue_helpers.message_body("raw"))
    assert resp.status_code == 201, resp.text
    assert resp.headers["Content-Type"].startswith("application/xml")
    [message] = queue_helpers.parse_messages(resp)
    # Put Message answers the id, times and pop receipt, never the text nor a dequeue count.
    assert set(message) == {"MessageId", "InsertionTime", "ExpirationTime", "PopReceipt", "TimeNextVisible"}
    inserted = queue_helpers.parse_http_date(message["InsertionTime"])
    assert _close(queue_helpers.parse_http_date(message["TimeNextVisible"]) - inserted, timedelta(seconds=5))
    assert _close(queue_helpers.parse_http_date(message["ExpirationTime"]) - inserted, timedelta(seconds=60))


def test_send_message_visibility_timeout_and_ttl(queue):
    sent = queue.send_message("later", visibility_timeout=30, time_to_live=60)
    assert _close(sent.next_visible_on - sent.inserted_on, timedelta(seconds=30))
    assert _close(sent.expires_on - sent.inserted_on, timedelta(seconds=60))
    # Invisible: neither peeked nor received, but counted.
    assert _peek_all(queue) == []
    assert queue.receive_message() is None
    assert queue.get_queue_properties().approximate_message_count == 1


def test_send_message_ttl_minus_one_never_expires(queue):
    sent = queue.send_message("forever", time_to_live=-1)
    assert sent.expires_on.year == 9999
    [peeked] = _peek_all(queue)
    assert peeked.expires_on.year == 9999


def test_send_message_ttl_longer_than_seven_days(queue):
    """Since version 2017-07-29 any positive time-to-live is allowed."""
    sent = queue.send_message("patient", time_to_live=30 * 24 * 3600)
    assert _close(sent.expires_on - sent.inserted_on, timedelta(days=30))


def test_send_message_max_visibility_timeout(queue):
    sent = queue.send_message("a week", visibility_timeout=queue_helpers.SEVEN_DAYS)
    assert _close(sent.next_visible_on - sent.inserted_on, timedelta(days=7))


# --- Get Messages ------------------------------------------------------------------------------

def test_receive_message_fields(queue):
    sent = queue.send_message("work")
    got = queue.receive_message(visibility_timeout=30)
    assert (got.id, got.content, got.dequeue_count) == (sent.id, "work", 1)
    assert got.pop_receipt and got.pop_receipt != sent.pop_receipt
    assert got.inserted_on == sent.inserted_on
    assert got.expires_on == sent.expires_on
    assert _close(got.next_visible_on, queue_helpers.now() + timedelta(seconds=30), timedelta(minutes=5))
    # Hidden now.
    assert queue.receive_message() is None
    assert _peek_all(queue) == []


def test_receive_default_visibility_timeout_is_30_seconds(queue_url, queue):
    queue.send_message("default")
    resp = queue_helpers.raw("GET", f"{queue_url}/messages")
    assert resp.status_code == 200
    [message] = queue_helpers.parse_messages(resp)
    assert message["DequeueCount"] == "1"
    assert message["MessageText"] == "default"
    next_visible = queue_helpers.parse_http_date(message["TimeNextVisible"])
    assert _close(next_visible - queue_helpers.parse_http_date(resp.headers["Date"]), timedelta(seconds=30),
                  timedelta(seconds=2))


def test_receive_empty_queue(queue_url, queue):
    assert queue.receive_message() is None
    resp = queue_helpers.raw("GET", f"{queue_url}/messages?numofmessages=32")
    assert resp.status_code == 200
    assert queue_helpers.parse_messages(resp) == []


def test_receive_up_to_32_per_request_in_order(queue_url, queue):
    sent = [queue.send_message(f"m{i:02d}").id for i in range(40)]
    resp = queue_helpers.raw("GET", f"{queue_url}/messages?numofmessages=32&visibilitytimeout=60")
    assert resp.status_code == 200
    first = queue_helpers.parse_messages(resp)
    assert [m["MessageId"] for m in first] == sent[:32]
    assert [m["MessageText"] for m in first] == [f"m{i:02d}" for i in range(32)]
    resp = queue_helpers.raw("GET", f"{queue_url}/messages?numofmessages=32&visibilitytimeout=60")
    assert [m["MessageId"] for m in queue_helpers.parse_messages(resp)] == sent[32:]


def test_receive_messages_pages(queue):
    sent = [queue.send_message(f"p{i}").id for i in range(10)]
    pages = [[m.id for m in page]
             for page in queue.receive_messages(messages_per_page=4, visibility_timeout=60).by_page()]
    assert pages == [sent[0:4], sent[4:8], sent[8:10]]


def test_receive_messages_max_messages(queue):
    sent = [queue.send_message(f"x{i}").id for i in range(6)]
    got = list(queue.receive_messages(max_messages=4, visibility_timeout=60))
    assert [m.id for m in got] == sent[:4]
    assert [m.id for m in _peek_all(queue)] == sent[4:]


# --- Peek Messages -----------------------------------------------------------------------------

def test_peek_leaves_messages_alone(queue_url, queue):
    sent = [queue.send_message(f"k{i}").id for i in range(3)]
    for _ in range(2):
        peeked = _peek_all(queue)
        assert [m.id for m in peeked] == sent
        assert all(m.dequeue_count == 0 and m.pop_receipt is None for m in peeked)
    assert len(queue.peek_messages()) == 1
    resp = queue_helpers.raw("GET", f"{queue_url}/messages?peekonly=true&numofmessages=32")
    assert resp.status_code == 200
    messages = queue_helpers.parse_messages(resp)
    # Peek answers neither a pop receipt nor a next-visible time.
    assert all(set(m) == {"MessageId", "InsertionTime", "ExpirationTime", "DequeueCount", "MessageText"}
               for m in messages)
    # Nothing was hidden: a receive gets the first message.
    assert queue.receive_message(visibility_timeout=60).id == sent[0]


def test_peek_skips_invisible_and_reports_dequeue_count(queue):
    first = queue.send_message("first")
    second = queue.send_message("second")
    received = queue.receive_message(visibility_timeout=60)
    assert received.id == first.id
    assert [m.id for m in _peek_all(queue)] == [second.id]
    # Made visible again by Update Message: its dequeue count stays 1 and peeking does not raise it.
    queue.update_message(received, visibility_timeout=0)
    for _ in range(2):
        counts = {m.id: m.dequeue_count for m in _peek_all(queue)}
        assert counts == {first.id: 1, second.id: 0}


# --- Delete Message ----------------------------------------------------------------------------

def test_delete_received_message(queue):
    queue.send_message("done")
    queue.send_message("kept")
    got = queue.receive_message(visibility_timeout=60)
    statuses = queue_helpers.Statuses()
    queue.delete_message(got.id, got.pop_receipt, raw_response_hook=statuses)
    assert statuses.last == 204
    assert [m.content for m in _peek_all(queue)] == ["kept"]
    assert queue.get_queue_properties().approximate_message_count == 1


def test_delete_with_the_put_message_pop_receipt(queue):
    sent = queue.send_message("never received")
    queue.delete_message(sent.id, sent.pop_receipt)
    assert _peek_all(queue) == []


def test_delete_with_stale_pop_receipt(queue):
    queue.send_message("contended")
    first = queue.receive_message(visibility_timeout=60)
    # Update Message makes it visible at once (and gives a new receipt); another receive takes it.
    updated = queue.update_message(first, visibility_timeout=0)
    second = queue.receive_message(visibility_timeout=60)
    assert second.id == first.id and second.dequeue_count == 2
    assert len({first.pop_receipt, updated.pop_receipt, second.pop_receipt}) == 3
    for stale in (first.pop_receipt, updated.pop_receipt):
        with pytest.raises(HttpResponseError) as e:
            queue.delete_message(first.id, stale)
        queue_helpers.assert_sdk_error(e, 400, "PopReceiptMismatch")
    queue.delete_message(second.id, second.pop_receipt)
    assert _peek_all(queue) == []


def test_delete_unknown_message_id(queue):
    sent = queue.send_message("real")
    with pytest.raises(ResourceNotFoundError) as e:
        queue.delete_message(str(uuid.uuid4()), sent.pop_receipt)
    queue_helpers.assert_sdk_error(e, 404, "MessageNotFound")


def test_delete_twice(queue):
    queue.send_message("once")
    got = queue.receive_message(visibility_timeout=60)
    queue.delete_message(got)
    with pytest.raises(ResourceNotFoundError) as e:
        queue.delete_message(got)
    queue_helpers.assert_sdk_error(e, 404, "MessageNotFound")


# --- Update Message ----------------------------------------------------------------------------

def test_update_content_and_visibility(queue):
    queue.send_message("draft")
    got = queue.receive_message(visibility_timeout=60)
    statuses = queue_helpers.Statuses()
    updated = queue.update_message(got, content="final", visibility_timeout=0, raw_response_hook=statuses)
    assert statuses.last == 204
    assert updated.pop_receipt and updated.pop_receipt != got.pop_receipt
    assert _close(updated.next_visible_on, queue_helpers.now(), timedelta(minutes=5))
    [peeked] = _peek_all(queue)
    assert (peeked.id, peeked.content, peeked.dequeue_count) == (got.id, "final", 1)
    # The old receipt is stale from now on; the new one works.
    with pytest.raises(HttpResponseError) as e:
        queue.update_message(got.id, got.pop_receipt, "again", visibility_timeout=0)
    queue_helpers.assert_sdk_error(e, 400, "PopReceiptMismatch")
    queue.update_message(got.id, updated.pop_receipt, "again", visibility_timeout=0)
    assert _peek_all(queue)[0].content == "again"


def test_update_visibility_only_keeps_content(queue):
    queue.send_message("unchanged")
    got = queue.receive_message(visibility_timeout=60)
    updated = queue.update_message(got.id, got.pop_receipt, visibility_timeout=0)
    assert updated.pop_receipt != got.pop_receipt
    assert [m.content for m in _peek_all(queue)] == ["unchanged"]


def test_update_extends_invisibility(queue):
    queue.send_message("lease")
    got = queue.receive_message(visibility_timeout=1)
    updated = queue.update_message(got, visibility_timeout=60)
    assert _close(updated.next_visible_on - got.next_visible_on, timedelta(seconds=59), timedelta(seconds=5))
    assert _peek_all(queue) == []
    queue.delete_message(got.id, updated.pop_receipt)


def test_update_raw_response_headers(queue_url, queue):
    sent = queue.send_message("raw update")
    resp = queue_helpers.raw("PUT", f"{queue_url}/messages/{sent.id}?popreceipt={sent.pop_receipt}"
                                    "&visibilitytimeout=10", data=queue_helpers.message_body("updated"))
    assert resp.status_code == 204, resp.text
    assert resp.headers["x-ms-popreceipt"] and resp.headers["x-ms-popreceipt"] != sent.pop_receipt
    next_visible = queue_helpers.parse_http_date(resp.headers["x-ms-time-next-visible"])
    assert _close(next_visible - queue_helpers.parse_http_date(resp.headers["Date"]), timedelta(seconds=10),
                  timedelta(seconds=2))


def test_update_unknown_message_id(queue):
    sent = queue.send_message("real")
    with pytest.raises(ResourceNotFoundError) as e:
        queue.update_message(str(uuid.uuid4()), sent.pop_receipt, "x", visibility_timeout=0)
    queue_helpers.assert_sdk_error(e, 404, "MessageNotFound")


# --- Clear Messages ----------------------------------------------------------------------------

def test_clear_messages(queue):
    for i in range(5):
        queue.send_message(f"c{i}")
    queue.send_message("hidden", visibility_timeout=60)
    received = queue.receive_message(visibility_timeout=60)
    statuses = queue_helpers.Statuses()
    queue.clear_messages(raw_response_hook=statuses)
    assert statuses.last == 204
    assert queue.get_queue_properties().approximate_message_count == 0
    assert _peek_all(queue) == []
    # Invisible messages went too.
    with pytest.raises(ResourceNotFoundError) as e:
        queue.delete_message(received)
    queue_helpers.assert_sdk_error(e, 404, "MessageNotFound")
    # The queue itself is still there and usable.
    queue.send_message("after")
    assert [m.content for m in _peek_all(queue)] == ["after"]


def test_clear_empty_queue(queue):
    queue.clear_messages()
    assert _peek_all(queue) == []
