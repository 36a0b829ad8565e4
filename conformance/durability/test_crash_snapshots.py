"""Crash test for snapshots and copies: no snapshot or copy loses bytes across kill -9.

6 writers each loop over their own blob: overwrite it with new content (small ones inline,
larger ones in extents), take a snapshot of it, and copy it to a new blob, recording every
snapshot and copy the server acknowledged with the content it must hold. Every few rounds a
writer deletes its oldest snapshot (which must then stay gone). The server is killed with
SIGKILL mid-run and restarted on the same folder, three times: every acknowledged snapshot and
copy must read back exactly, though the blob they were taken from was overwritten since (their
bytes are shared, not copied), and no deleted snapshot may come back.
"""

import hashlib
import sqlite3
import threading
import time

from azure.core.exceptions import AzureError
from azure.storage.blob import BlobServiceClient

from lapis_proc import Lapis

WRITERS = 6
ROUNDS = 3


def content(wid: int, i: int) -> bytes:
    size = 300 if i % 3 == 0 else 96 * 1024 + i % 7 * 1000
    seed = hashlib.sha256(f"{wid}/{i}".encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def client(server: Lapis) -> BlobServiceClient:
    # No retries: an operation counts as acknowledged only when the server itself answered.
    return BlobServiceClient.from_connection_string(server.blob_conn_str, retry_total=0)


def writer(server: Lapis, wid: int, start: int, stop: threading.Event, snaps: dict, copies: dict, gone: set):
    service = client(server)
    container = service.get_container_client("crash")
    base = container.get_blob_client(f"base-{wid}")
    i = start
    while not stop.is_set():
        data = content(wid, i)
        try:
            base.upload_blob(data, overwrite=True)
            snap = base.create_snapshot()["snapshot"]
            snaps[snap] = data
            copy = container.get_blob_client(f"copy-{wid}-{i}")
            copy.start_copy_from_url(base.url)
            copies[copy.blob_name] = data
            if i % 4 == 3 and len(snaps) > 1:
                oldest = min(snaps)
                # Out of `snaps` before the call: a delete the kill cuts off may or may not have
                # happened, so that snapshot is neither required to exist nor to be gone.
                del snaps[oldest]
                container.get_blob_client(f"base-{wid}", snapshot=oldest).delete_blob()
                gone.add(oldest)
        except (AzureError, OSError):
            # The server died under us; the outcome of this last operation is unknown.
            return
        i += 1


def test_snapshots_and_copies_survive_kill_9(tmp_path):
    location = tmp_path / "data"
    server = Lapis(location)
    client(server).create_container("crash")
    snaps = [dict() for _ in range(WRITERS)]
    copies = [dict() for _ in range(WRITERS)]
    gone = [set() for _ in range(WRITERS)]
    try:
        for round_no in range(ROUNDS):
            stop = threading.Event()
            threads = [
                threading.Thread(target=writer, args=(
                    server, w, round_no * 100_000, stop, snaps[w], copies[w], gone[w]))
                for w in range(WRITERS)
            ]
            for t in threads:
                t.start()
            time.sleep(2.0)
            server.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            assert sum(len(s) for s in snaps) > 0, "no snapshot was acknowledged before the kill"

            server = Lapis(location)
            container = client(server).get_container_client("crash")
            for w in range(WRITERS):
                for snap, data in snaps[w].items():
                    got = container.get_blob_client(f"base-{w}", snapshot=snap).download_blob().readall()
                    assert got == data, f"base-{w} at {snap} lost or changed"
                for name, data in copies[w].items():
                    assert container.get_blob_client(name).download_blob().readall() == data, f"{name} lost or changed"
                listed = {b.snapshot for b in container.list_blobs(name_starts_with=f"base-{w}", include=["snapshots"])}
                assert not (gone[w] & listed), f"base-{w}: a deleted snapshot came back"
    finally:
        assert server.stop() == 0, "lapis did not shut down cleanly"

    db = sqlite3.connect(location / "lapis.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    print(f"{sum(len(s) for s in snaps)} snapshots and {sum(len(c) for c in copies)} copies survived {ROUNDS} kill -9 rounds")
