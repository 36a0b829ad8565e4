"""Crash test for the Table service: acknowledged entities and batches survive kill -9, and a
batch that was in flight when the server died is there wholly or not at all.

8 writers each submit 10-entity batches, one partition per batch; 4 more upsert single
entities. The server is killed with SIGKILL mid-run and restarted on the same folder.
"""

import sqlite3
import threading
import time

from azure.core.exceptions import AzureError
from azure.data.tables import TableServiceClient

from lapis_proc import Lapis

BATCH_WRITERS = 8
SINGLE_WRITERS = 4
ROWS = 10
ROUNDS = 3


def service(server: Lapis) -> TableServiceClient:
    # No retries: a write counts as acknowledged only when the server itself answered it.
    return TableServiceClient.from_connection_string(server.table_conn_str, retry_total=0)


def row(pk: str, rk: int) -> dict:
    return {"PartitionKey": pk, "RowKey": f"{rk:03d}", "value": f"{pk}/{rk}", "n": rk}


def batch_writer(server, wid, stop, acked, attempted):
    table = service(server).get_table_client("crash")
    i = 0
    while not stop.is_set():
        pk = f"b{wid:03d}-{i:06d}"
        attempted.append(pk)
        try:
            table.submit_transaction([("create", row(pk, r)) for r in range(ROWS)])
            acked.append(pk)
        except (AzureError, OSError):
            return
        i += 1


def single_writer(server, wid, stop, acked):
    table = service(server).get_table_client("crash")
    i = 0
    while not stop.is_set():
        entity = row(f"s{wid:03d}", i)
        try:
            table.upsert_entity(entity)
            acked.append((entity["PartitionKey"], entity["RowKey"]))
        except (AzureError, OSError):
            return
        i += 1


def test_acknowledged_entities_and_batches_survive_kill_9(tmp_path):
    location = tmp_path / "data"
    server = Lapis(location)
    service(server).create_table("crash")
    acked_batches, acked_rows, in_flight = [], [], []
    try:
        for round_no in range(ROUNDS):
            stop = threading.Event()
            batch_acks = [[] for _ in range(BATCH_WRITERS)]
            batch_tries = [[] for _ in range(BATCH_WRITERS)]
            single_acks = [[] for _ in range(SINGLE_WRITERS)]
            threads = [
                threading.Thread(target=batch_writer, args=(server, round_no * 100 + w, stop, batch_acks[w], batch_tries[w]))
                for w in range(BATCH_WRITERS)
            ] + [
                threading.Thread(target=single_writer, args=(server, round_no * 100 + w, stop, single_acks[w]))
                for w in range(SINGLE_WRITERS)
            ]
            for t in threads:
                t.start()
            time.sleep(2.0)
            server.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            for acks, tries in zip(batch_acks, batch_tries):
                acked_batches.extend(acks)
                in_flight.extend(p for p in tries if p not in acks)
            for acks in single_acks:
                acked_rows.extend(acks)
            assert acked_batches and acked_rows, "nothing was acknowledged before the kill"

            server = Lapis(location)
            table = service(server).get_table_client("crash")
            for pk in acked_batches:
                got = list(table.query_entities(f"PartitionKey eq '{pk}'"))
                assert sorted(e["RowKey"] for e in got) == [f"{r:03d}" for r in range(ROWS)], pk
                assert all(e["value"] == f"{pk}/{int(e['RowKey'])}" for e in got), pk
            for pk in in_flight:
                count = len(list(table.query_entities(f"PartitionKey eq '{pk}'")))
                assert count in (0, ROWS), f"batch {pk} half-written: {count} of {ROWS} rows"
            for pk, rk in acked_rows:
                entity = table.get_entity(pk, rk)
                assert entity["value"] == f"{pk}/{int(rk)}"
    finally:
        assert server.stop() == 0, "lapis did not shut down cleanly"

    db = sqlite3.connect(location / "lapis.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    print(f"{len(acked_batches)} batches and {len(acked_rows)} single entities survived {ROUNDS} kill -9 rounds; "
          f"{len(in_flight)} in-flight batches were whole or absent")
