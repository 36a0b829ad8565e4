"""Visibility timeouts and time-to-live, with timeouts of 1-2 seconds: a received message is hidden
and comes back with its dequeue count raised, a message past its time-to-live is gone, and messages
are served in the order they became visible. Waits poll, so each test sleeps only as long as the
server needs."""

import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

import queue_helpers


def _ids(messages):
    return [m.id for m in messages]


def _poll(fetch, done, timeout):
    """Call fetch() every 0.1 s until done(result) or timeout seconds; returns every result seen."""
    seen = [fetch()]
    deadline = time.monotonic() + timeout
    while not done(seen[-1]) and time.monotonic() < deadline:
        time.sleep(0.1)
        seen.append(fetch())
    return seen


def test_received_message_comes_back_with_dequeue_count_2(queue):
    first = queue.send_message("retry me")
    second = queue.send_message("next")
    got = queue.receive_message(visibility_timeout=1)
    assert (got.id, got.dequeue_count) == (first.id, 1)
    # Hidden for the timeout: not received again, not peeked.
    assert _ids(queue.peek_messages(max_messages=32)) == [second.id]
    seen = _poll(lambda: queue.peek_messages(max_messages=32), lambda ms: len(ms) == 2, timeout=4)
    assert len(seen[-1]) == 2, "the message did not come back within 4 s of a 1 s visibility timeout"
    # It became visible after `second`, so it now comes after it.
    assert _ids(seen[-1]) == [second.id, first.id]
    assert [m.dequeue_count for m in seen[-1]] == [0, 1]
    again = list(queue.receive_messages(messages_per_page=32, visibility_timeout=30))
    assert _ids(again) == [second.id, first.id]
    redelivered = again[1]
    assert redelivered.dequeue_count == 2
    assert redelivered.content == "retry me"
    assert redelivered.pop_receipt != got.pop_receipt
    # The first delivery's receipt is stale.
    with pytest.raises(HttpResponseError) as e:
        queue.delete_message(got)
    queue_helpers.assert_sdk_error(e, 400, "PopReceiptMismatch")
    queue.delete_message(redelivered)


def test_messages_become_visible_in_order(queue):
    late = queue.send_message("late", visibility_timeout=2)
    middle = queue.send_message("middle", visibility_timeout=1)
    now = queue.send_message("now")
    expected = [now.id, middle.id, late.id]
    seen = _poll(lambda: _ids(queue.peek_messages(max_messages=32)), lambda ids: len(ids) == 3, timeout=5)
    assert seen[0] == [now.id]
    assert seen[-1] == expected, seen
    # Every state on the way was a prefix of the final order: nothing showed up early.
    for ids in seen:
        assert ids == expected[:len(ids)], seen
    assert all(m.dequeue_count == 0 for m in queue.peek_messages(max_messages=32))
    assert _ids(queue.receive_messages(messages_per_page=32, visibility_timeout=30)) == expected


def test_expired_messages_are_gone(queue):
    # `held` is received with a visibility timeout beyond its expiry (Get Messages allows that);
    # `brief` just sits in the queue. Both must be gone once their time-to-live has passed.
    held = queue.send_message("held", time_to_live=2)
    brief = queue.send_message("brief", time_to_live=1)
    sent_at = time.monotonic()
    got = queue.receive_message(visibility_timeout=10)
    assert got.id == held.id
    assert _ids(queue.peek_messages(max_messages=32)) == [brief.id]
    time.sleep(max(0.0, sent_at + 2.5 - time.monotonic()))
    assert queue.peek_messages(max_messages=32) == []
    assert queue.receive_message() is None
    for message_id, receipt in ((brief.id, brief.pop_receipt), (held.id, got.pop_receipt)):
        with pytest.raises(ResourceNotFoundError) as e:
            queue.delete_message(message_id, receipt)
        queue_helpers.assert_sdk_error(e, 404, "MessageNotFound")
        with pytest.raises(ResourceNotFoundError) as e:
            queue.update_message(message_id, receipt, "too late", visibility_timeout=0)
        queue_helpers.assert_sdk_error(e, 404, "MessageNotFound")


def test_never_expiring_message_outlives_short_ones(queue):
    keep = queue.send_message("keep", time_to_live=-1)
    queue.send_message("drop", time_to_live=1)
    seen = _poll(lambda: _ids(queue.peek_messages(max_messages=32)), lambda ids: ids == [keep.id], timeout=4)
    assert seen[-1] == [keep.id]
    [peeked] = queue.peek_messages()
    assert peeked.expires_on.year == 9999


def test_update_can_hide_a_visible_message(queue):
    sent = queue.send_message("hide me")
    # Update Message with the Put Message receipt: hidden for 1 s, then visible again, never received.
    updated = queue.update_message(sent, visibility_timeout=1)
    assert queue.peek_messages() == []
    seen = _poll(lambda: queue.peek_messages(), lambda ms: len(ms) == 1, timeout=4)
    assert _ids(seen[-1]) == [sent.id]
    assert seen[-1][0].dequeue_count == 0
    queue.delete_message(sent.id, updated.pop_receipt)
