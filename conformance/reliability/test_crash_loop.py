"""Crash loop: 8 client threads run mixed writes (blob puts, staged blocks + block lists, entity
inserts, 10-entity batches) while lapis is kill -9'd and restarted 20 times on the same folder.

Afterwards every acknowledged write is present with its exact content, every write whose outcome
is unknown (in flight at a kill) is either wholly there or wholly absent (a batch: all 10 entities
or none), the server never answered a 5xx, and SQLite's integrity_check says "ok".
"""

import base64
import hashlib
import os
import sqlite3
import threading
import time

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError, ServiceResponseError
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobBlock, BlobServiceClient

from lapis_proc import Lapis, panics_in

THREADS = 8
RESTARTS = int(os.environ.get("LAPIS_CRASH_RESTARTS", "20"))
RUN_SECONDS = (1.0, 2.5)  # load time between kills, alternating
CONTAINER = "crashloop"
TABLE = "crashloop"


def payload(name: str, size: int) -> bytes:
    seed = hashlib.sha256(name.encode()).digest()
    return (seed * (size // 32 + 1))[:size]


def entity(pk: str, rk: str) -> dict:
    return {"PartitionKey": pk, "RowKey": rk, "Value": hashlib.sha256(f"{pk}/{rk}".encode()).hexdigest(), "N": len(rk)}


class Current:
    """The running server's endpoints; the generation changes at each restart."""

    def __init__(self, server):
        self.lock = threading.Lock()
        self.gen = 0
        self.server = server

    def set(self, server):
        with self.lock:
            self.server = server
            self.gen += 1

    def get(self):
        with self.lock:
            return self.gen, self.server


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.acked = []  # (kind, key, detail)
        self.unknown = []
        self.server_errors = []

    def add(self, which, item):
        with self.lock:
            getattr(self, which).append(item)


def worker(wid, current, stop, ledger):
    gen, clients = -1, None
    i = 0
    while not stop.is_set():
        g, server = current.get()
        if g != gen or clients is None:
            gen = g
            # No retries: a write counts as acknowledged only when the server itself said so.
            clients = (
                BlobServiceClient.from_connection_string(server.blob_conn_str, retry_total=0, connection_timeout=2, read_timeout=10).get_container_client(CONTAINER),
                TableServiceClient.from_connection_string(server.table_conn_str, retry_total=0, connection_timeout=2, read_timeout=10).get_table_client(TABLE),
            )
        blobs, table = clients
        kind = ("blob", "blocks", "entity", "batch")[i % 4]
        key = f"w{wid}-{i:05d}"
        try:
            if kind == "blob":
                size = 512 + (i * 7919) % 70000
                blobs.upload_blob(f"b/{key}", payload(key, size), overwrite=True)
                detail = size
            elif kind == "blocks":
                bc = blobs.get_blob_client(f"k/{key}")
                ids = []
                for n in range(3):
                    bid = base64.b64encode(f"{key}-{n}".encode()).decode()
                    bc.stage_block(bid, payload(f"{key}-{n}", 3000 + n))
                    ids.append(BlobBlock(block_id=bid))
                bc.commit_block_list(ids)
                detail = None
            elif kind == "entity":
                table.create_entity(entity(f"e{wid}", key))
                detail = None
            else:
                table.submit_transaction([("create", entity(f"batch-{key}", f"{n:02d}")) for n in range(10)])
                detail = None
            ledger.add("acked", (kind, key, detail))
        except (ServiceRequestError, ServiceResponseError, ConnectionError, OSError):
            # The server died under us: the outcome of this write is unknown.
            ledger.add("unknown", (kind, key, (512 + (i * 7919) % 70000) if kind == "blob" else None))
            time.sleep(0.05)
        except HttpResponseError as e:
            ledger.add("unknown", (kind, key, (512 + (i * 7919) % 70000) if kind == "blob" else None))
            if e.status_code is not None and e.status_code >= 500:
                ledger.add("server_errors", (kind, key, e.status_code, e.error_code))
            time.sleep(0.05)
        i += 1


def check_write(blobs, table, kind, key, detail, must_exist):
    """Returns a problem description, or None when the write is whole (or, if allowed, absent)."""
    if kind in ("blob", "blocks"):
        name = f"b/{key}" if kind == "blob" else f"k/{key}"
        expected = payload(key, detail) if kind == "blob" else b"".join(payload(f"{key}-{n}", 3000 + n) for n in range(3))
        try:
            got = blobs.download_blob(name).readall()
        except ResourceNotFoundError:
            return f"acknowledged {kind} {name} missing" if must_exist else None
        return None if got == expected else f"{kind} {name}: {len(got)} bytes, not the {len(expected)} written"
    if kind == "entity":
        try:
            got = table.get_entity(f"e{key.split('-')[0][1:]}", key)
        except ResourceNotFoundError:
            return f"acknowledged entity {key} missing" if must_exist else None
        want = entity(f"e{key.split('-')[0][1:]}", key)
        return None if got["Value"] == want["Value"] and got["N"] == want["N"] else f"entity {key} differs: {dict(got)}"
    rows = list(table.query_entities(f"PartitionKey eq 'batch-{key}'"))
    if len(rows) == 10 and all(r["Value"] == entity(f"batch-{key}", r["RowKey"])["Value"] for r in rows):
        return None
    if not rows and not must_exist:
        return None
    return f"batch {key}: {len(rows)} of 10 entities visible"


def test_crash_loop_keeps_acknowledged_writes_whole(tmp_path):
    location = tmp_path / "data"
    server = Lapis(location)
    BlobServiceClient.from_connection_string(server.blob_conn_str).create_container(CONTAINER)
    TableServiceClient.from_connection_string(server.table_conn_str).create_table(TABLE)
    current = Current(server)
    ledger = Ledger()
    stop = threading.Event()
    threads = [threading.Thread(target=worker, args=(w, current, stop, ledger), daemon=True) for w in range(THREADS)]
    for t in threads:
        t.start()
    panics = []
    started = time.time()
    try:
        for n in range(RESTARTS):
            time.sleep(RUN_SECONDS[n % 2])
            server.kill9()
            panics += panics_in(server.stderr_text())
            server = Lapis(location)
            current.set(server)
        time.sleep(RUN_SECONDS[0])
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    load_seconds = time.time() - started

    # One more kill, so the verification reads only what recovery brings back.
    server.kill9()
    server = Lapis(location)
    try:
        blobs = BlobServiceClient.from_connection_string(server.blob_conn_str).get_container_client(CONTAINER)
        table = TableServiceClient.from_connection_string(server.table_conn_str).get_table_client(TABLE)
        problems = [p for (k, key, d) in ledger.acked if (p := check_write(blobs, table, k, key, d, True))]
        problems += [p for (k, key, d) in ledger.unknown if (p := check_write(blobs, table, k, key, d, False))]
    finally:
        server.stop()
    panics += panics_in(server.stderr_text())

    counts = {k: sum(1 for a in ledger.acked if a[0] == k) for k in ("blob", "blocks", "entity", "batch")}
    print(f"\n{RESTARTS} kill -9s in {load_seconds:.0f} s; acknowledged {counts}; unknown outcome {len(ledger.unknown)}")
    assert sum(counts.values()) > 200 and all(counts.values()), f"too little load got through: {counts}"
    assert not problems, problems[:20]
    assert not ledger.server_errors, ledger.server_errors[:20]
    assert not panics, panics[:5]
    db = sqlite3.connect(location / "lapis.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        db.close()
