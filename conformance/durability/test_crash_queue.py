"""Crash test for queues: producers and consumers under kill -9.

4 producers put uniquely numbered messages and record each one the server acknowledged (201);
4 consumers get messages with a 2 s visibility timeout and delete them, recording each delete
they sent and each the server acknowledged (204). The server is killed with SIGKILL mid-run and restarted on the
same folder. Then, once every visibility timeout has passed, the queue is drained: no
acknowledged message may be lost (each is either deleted or still there), no acknowledged delete
may come back, and nothing may appear that no producer sent. Messages gotten but not deleted
before the kill come back after their visibility timeout. Three rounds, each on its own queue.
"""

import sqlite3
import threading
import time

from azure.core.exceptions import AzureError
from azure.storage.queue import QueueServiceClient

from lapis_proc import Lapis

PRODUCERS = 4
CONSUMERS = 4
ROUNDS = 3
VISIBILITY = 2


def client(server: Lapis) -> QueueServiceClient:
    # No retries: a put or delete counts as acknowledged only when the server itself said so.
    return QueueServiceClient.from_connection_string(server.queue_conn_str, retry_total=0)


def producer(server, queue, pid, stop, acked):
    q = client(server).get_queue_client(queue)
    i = 0
    while not stop.is_set():
        text = f"{pid}-{i}"
        try:
            q.send_message(text)
        except (AzureError, OSError):
            return
        acked.append(text)
        i += 1


def consumer(server, queue, stop, deleted, deleting):
    q = client(server).get_queue_client(queue)
    while not stop.is_set():
        try:
            batch = list(q.receive_messages(max_messages=16, visibility_timeout=VISIBILITY))
        except (AzureError, OSError):
            return
        for m in batch:
            deleting.append(m.content)
            try:
                q.delete_message(m)
            except (AzureError, OSError):
                return
            deleted.append(m.content)


def drain(server, queue):
    """Every message left, once all visibility timeouts have passed."""
    time.sleep(VISIBILITY + 0.5)
    q = client(server).get_queue_client(queue)
    left = []
    while True:
        batch = list(q.receive_messages(max_messages=32, visibility_timeout=300))
        if not batch:
            return left
        left.extend(m.content for m in batch)


def test_acknowledged_messages_survive_kill_9(tmp_path):
    location = tmp_path / "data"
    server = Lapis(location)
    totals = [0, 0]
    try:
        for round_no in range(ROUNDS):
            queue = f"crash-{round_no}"
            client(server).create_queue(queue)
            stop = threading.Event()
            acked = [[] for _ in range(PRODUCERS)]
            deleted, deleting = [], []
            threads = [
                threading.Thread(target=producer, args=(server, queue, p, stop, acked[p]))
                for p in range(PRODUCERS)
            ] + [
                threading.Thread(target=consumer, args=(server, queue, stop, deleted, deleting))
                for _ in range(CONSUMERS)
            ]
            for t in threads:
                t.start()
            time.sleep(2.0)
            server.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            sent = {text for a in acked for text in a}
            assert sent, "no put was acknowledged before the kill"
            assert deleted, "no delete was acknowledged before the kill"

            server = Lapis(location)
            left = drain(server, queue)
            assert len(left) == len(set(left)), "a message is in the queue twice"
            back = set(left) & set(deleted)
            assert not back, f"acknowledged deletes came back: {sorted(back)[:5]}"
            # A delete whose answer the kill cut off may or may not have happened.
            cut_off_deletes = set(deleting) - set(deleted)
            assert len(cut_off_deletes) <= CONSUMERS
            lost = sent - set(left) - set(deleted) - cut_off_deletes
            assert not lost, f"acknowledged messages lost: {sorted(lost)[:5]}"
            # Beyond the acknowledged puts: only those whose answer the kill cut off (one per producer).
            unexplained = set(left) - sent
            assert len(unexplained) <= PRODUCERS, f"messages no producer sent: {sorted(unexplained)[:5]}"
            for text in unexplained:
                pid, i = text.split("-")
                assert int(i) == len(acked[int(pid)]), f"{text} is not the put the kill cut off"
            totals[0] += len(sent)
            totals[1] += len(deleted)
    finally:
        assert server.stop() == 0, "lapis did not shut down cleanly"

    db = sqlite3.connect(location / "lapis.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    print(f"{totals[0]} acknowledged puts and {totals[1]} acknowledged deletes survived {ROUNDS} kill -9 rounds")
