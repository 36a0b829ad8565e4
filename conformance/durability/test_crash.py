"""Crash test: acknowledged writes survive kill -9.

16 writers put 4 KiB blobs through the official SDK and record every upload the server
acknowledged; the server is killed with SIGKILL mid-run and restarted on the same folder; every
acknowledged blob must be there with its exact bytes, and SQLite's integrity check must pass.
"""

import hashlib
import sqlite3
import threading
import time

import pytest
from azure.core.exceptions import AzureError
from azure.storage.blob import BlobServiceClient

from lapis_proc import Lapis

WRITERS = 16
ROUNDS = 3


def payload(name: str) -> bytes:
    seed = hashlib.sha256(name.encode()).digest()
    return (seed * 128)[:4096]


def client(server: Lapis) -> BlobServiceClient:
    # No retries: an upload counts as acknowledged only when the server itself said 201.
    return BlobServiceClient.from_connection_string(server.blob_conn_str, retry_total=0)


def writer(server: Lapis, container: str, wid: int, stop: threading.Event, acked: list):
    cc = client(server).get_container_client(container)
    i = 0
    while not stop.is_set():
        name = f"r{wid:02d}/blob-{i:06d}"
        try:
            cc.upload_blob(name, payload(name), overwrite=True)
            acked.append(name)
        except (AzureError, OSError):
            # The server died under us; the outcome of this one upload is unknown.
            return
        i += 1


def test_acknowledged_writes_survive_kill_9(tmp_path):
    location = tmp_path / "data"
    acked_all = []
    server = Lapis(location)
    client(server).create_container("crash")
    try:
        for round_no in range(ROUNDS):
            stop = threading.Event()
            acked = [[] for _ in range(WRITERS)]
            threads = [
                threading.Thread(target=writer, args=(server, "crash", round_no * 100 + w, stop, acked[w]))
                for w in range(WRITERS)
            ]
            for t in threads:
                t.start()
            time.sleep(2.0)
            server.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            round_acked = [n for a in acked for n in a]
            assert round_acked, "no write was acknowledged before the kill"
            acked_all.extend(round_acked)

            server = Lapis(location)
            cc = client(server).get_container_client("crash")
            missing = []
            for name in acked_all:
                try:
                    data = cc.download_blob(name).readall()
                except AzureError as e:
                    missing.append((name, str(e).splitlines()[0]))
                    continue
                assert data == payload(name), f"{name}: bytes differ after restart"
            assert not missing, f"{len(missing)} acknowledged blobs lost, e.g. {missing[:3]}"
    finally:
        assert server.stop() == 0, "lapis did not shut down cleanly"

    db = sqlite3.connect(location / "lapis.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    print(f"{len(acked_all)} acknowledged writes survived {ROUNDS} kill -9 rounds")
