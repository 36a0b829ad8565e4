"""Crash test for page blobs: acknowledged page writes and clears survive kill -9.

8 writers each own a page blob and write or clear random pages through the official SDK,
keeping a model of every page the server acknowledged. The server is killed with SIGKILL
mid-run and restarted on the same folder: every page must read as the model says, except the
one page whose write was in flight at the kill, which may read either way. SQLite's integrity
check must pass.
"""

import hashlib
import random
import sqlite3
import threading
import time

from azure.core.exceptions import AzureError
from azure.storage.blob import BlobServiceClient

from lapis_proc import Lapis

WRITERS = 8
ROUNDS = 2
PAGES = 256
ZERO = bytes(512)


def content(wid: int, seq: int) -> bytes:
    return (hashlib.sha256(f"{wid}/{seq}".encode()).digest() * 16)[:512]


def client(server: Lapis) -> BlobServiceClient:
    # No retries: a write counts as acknowledged only when the server itself said 201.
    return BlobServiceClient.from_connection_string(server.blob_conn_str, retry_total=0)


class Writer:
    def __init__(self, wid: int):
        self.wid = wid
        self.pages = [ZERO] * PAGES
        self.in_flight = None  # (page, bytes) of a write whose answer never came
        self.seq = 0
        self.acked = 0

    def run(self, server: Lapis, stop: threading.Event):
        blob = client(server).get_blob_client("crash", f"disk-{self.wid}")
        rng = random.Random(self.wid * 1000 + self.seq)
        while not stop.is_set():
            page = rng.randrange(PAGES)
            self.seq += 1
            clear = rng.random() < 0.2
            data = ZERO if clear else content(self.wid, self.seq)
            self.in_flight = (page, data)
            try:
                if clear:
                    blob.clear_page(offset=page * 512, length=512)
                else:
                    blob.upload_page(data, offset=page * 512, length=512)
            except (AzureError, OSError):
                return  # the server died under us: this write's outcome is unknown
            self.pages[page] = data
            self.in_flight = None
            self.acked += 1

    def check(self, server: Lapis):
        blob = client(server).get_blob_client("crash", f"disk-{self.wid}")
        data = blob.download_blob().readall()
        assert len(data) == PAGES * 512
        for i in range(PAGES):
            got = data[i * 512:(i + 1) * 512]
            if got == self.pages[i]:
                continue
            assert self.in_flight and self.in_flight[0] == i and got == self.in_flight[1], \
                f"disk-{self.wid} page {i}: an acknowledged write was lost"
            self.pages[i] = got  # the in-flight write landed
        self.in_flight = None
        # What reads as written is what is listed: a cleared page is not a range.
        listed = set()
        for r in blob.list_page_ranges():
            listed.update(range(r.start // 512, (r.end + 1) // 512))
        assert listed == {i for i in range(PAGES) if self.pages[i] != ZERO}, f"disk-{self.wid}"


def test_acknowledged_page_writes_survive_kill_9(tmp_path):
    location = tmp_path / "data"
    server = Lapis(location)
    cc = client(server).create_container("crash")
    writers = [Writer(w) for w in range(WRITERS)]
    for w in writers:
        cc.get_blob_client(f"disk-{w.wid}").create_page_blob(PAGES * 512)
    try:
        for _ in range(ROUNDS):
            stop = threading.Event()
            threads = [threading.Thread(target=w.run, args=(server, stop)) for w in writers]
            for t in threads:
                t.start()
            time.sleep(2.0)
            server.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            assert sum(w.acked for w in writers), "no page write was acknowledged before the kill"
            server = Lapis(location)
            for w in writers:
                w.check(server)
    finally:
        assert server.stop() == 0, "lapis did not shut down cleanly"

    db = sqlite3.connect(location / "lapis.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    print(f"{sum(w.acked for w in writers)} acknowledged page writes survived {ROUNDS} kill -9 rounds")
