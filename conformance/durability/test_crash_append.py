"""Crash test for append blobs: every acknowledged Append Block survives kill -9.

8 writers each append to their own append blob through the official SDK, mostly 4 KiB blocks
(made durable by the writer's group commit) and now and then a 1.5 MiB one (synced by the
uploading thread), recording the offset and bytes of every append the server acknowledged. The
server is killed with SIGKILL mid-run and restarted on the same folder: each blob must hold every
acknowledged block at its offset; past them there may be at most the one append whose answer
the kill cut off. Then the writers go on appending to the same blobs, for three rounds.
"""

import hashlib
import sqlite3
import threading
import time

from azure.core.exceptions import AzureError
from azure.storage.blob import BlobServiceClient

from lapis_proc import Lapis

WRITERS = 8
ROUNDS = 3
SMALL = 4096
LARGE = 1536 * 1024


def block(wid: int, i: int) -> bytes:
    size = LARGE if i % 16 == 15 else SMALL
    seed = hashlib.sha256(f"{wid}/{i}".encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def client(server: Lapis) -> BlobServiceClient:
    # No retries: an append counts as acknowledged only when the server itself said 201.
    return BlobServiceClient.from_connection_string(server.blob_conn_str, retry_total=0)


def writer(server: Lapis, wid: int, start: int, stop: threading.Event, acked: list):
    blob = client(server).get_blob_client("crash", f"log-{wid}")
    i = start
    while not stop.is_set():
        data = block(wid, i)
        try:
            done = blob.append_block(data)
        except (AzureError, OSError):
            # The server died under us; the outcome of this one append is unknown.
            return
        acked.append((int(done["blob_append_offset"]), data))
        i += 1


def test_acknowledged_appends_survive_kill_9(tmp_path):
    location = tmp_path / "data"
    server = Lapis(location)
    service = client(server)
    service.create_container("crash")
    for w in range(WRITERS):
        service.get_blob_client("crash", f"log-{w}").create_append_blob()
    acked = [[] for _ in range(WRITERS)]
    total = 0
    try:
        for round_no in range(ROUNDS):
            stop = threading.Event()
            before = [len(a) for a in acked]
            threads = [
                threading.Thread(target=writer, args=(server, w, round_no * 100_000, stop, acked[w]))
                for w in range(WRITERS)
            ]
            for t in threads:
                t.start()
            time.sleep(2.0)
            server.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            assert sum(len(a) for a in acked) > sum(before), "no append was acknowledged before the kill"

            server = Lapis(location)
            service = client(server)
            for w in range(WRITERS):
                content = service.get_blob_client("crash", f"log-{w}").download_blob().readall()
                end = 0
                for offset, data in acked[w]:
                    assert content[offset:offset + len(data)] == data, f"log-{w}: block at {offset} lost or changed"
                    end = max(end, offset + len(data))
                # Beyond the acknowledged blocks: nothing, or the one append cut off by the kill.
                extra = len(content) - end
                assert extra in (0, SMALL, LARGE), f"log-{w}: {extra} unexplained bytes after the last acknowledged block"
            total = sum(len(a) for a in acked)
    finally:
        assert server.stop() == 0, "lapis did not shut down cleanly"

    db = sqlite3.connect(location / "lapis.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    print(f"{total} acknowledged appends survived {ROUNDS} kill -9 rounds")
