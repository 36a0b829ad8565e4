"""Competing consumers: 4 threads drain 1,000 messages with a visibility timeout far longer than the
processing takes. Every message must be processed exactly once: a received message is hidden from
the other consumers until deleted, so none is delivered twice and none is lost."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from azure.storage.queue import QueueClient

MESSAGES = 1000
CONSUMERS = 4
PRODUCERS = 4
VISIBILITY = 120


def _client(queue_conn_str, name):
    # One client (and so one connection pool) per thread.
    return QueueClient.from_connection_string(queue_conn_str, name)


def test_four_consumers_drain_1000_messages_exactly_once(queue_conn_str, queue):
    def produce(worker):
        client = _client(queue_conn_str, queue.queue_name)
        for i in range(worker, MESSAGES, PRODUCERS):
            client.send_message(f"job-{i:04d}")

    with ThreadPoolExecutor(PRODUCERS) as pool:
        list(pool.map(produce, range(PRODUCERS)))
    assert queue.get_queue_properties().approximate_message_count == MESSAGES

    processed = []
    dequeue_counts = []
    lock = threading.Lock()
    start = threading.Barrier(CONSUMERS)

    def consume(_):
        client = _client(queue_conn_str, queue.queue_name)
        start.wait()
        while True:
            page = list(client.receive_messages(messages_per_page=32, max_messages=32,
                                                visibility_timeout=VISIBILITY))
            if not page:
                return
            for message in page:
                client.delete_message(message)
            with lock:
                processed.extend(m.content for m in page)
                dequeue_counts.extend(m.dequeue_count for m in page)

    with ThreadPoolExecutor(CONSUMERS) as pool:
        list(pool.map(consume, range(CONSUMERS)))

    duplicates = [content for content, n in Counter(processed).items() if n > 1]
    assert duplicates == []
    assert sorted(processed) == [f"job-{i:04d}" for i in range(MESSAGES)]
    assert set(dequeue_counts) == {1}
    assert queue.peek_messages(max_messages=32) == []
    assert queue.get_queue_properties().approximate_message_count == 0
