"""Table workloads, through the Python SDK from 8 threads, the Go SDK from 8 goroutines and under
wrk with an account SAS."""

import random
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from azure.data.tables import TableServiceClient

import wrk

THREADS = 8
INSERTS = 5_000
GETS = 1_000
QUERIES = 40
BATCHES = 16
SDK_TABLE = "sdkbench"
FILTER = "PartitionKey eq 'p3' and Count gt 2500"
FILTER_EXPECTED = sum(1 for i in range(INSERTS) if i % 8 == 3 and i > 2500)


def entity(pk, rk, n):
    return {
        "PartitionKey": pk, "RowKey": rk, "Name": f"widget-{n}", "Count": n, "Price": 19.99,
        "Active": True, "Note": "the quick brown fox jumps over the lazy dog",
    }


def _timed(server, work, items):
    """Runs work(client, item) over items from THREADS threads, one TableClient per thread;
    returns the seconds it took."""
    conn = server.connection_string()

    def run(chunk):
        client = TableServiceClient.from_connection_string(conn).get_table_client(SDK_TABLE)
        for item in chunk:
            work(client, item)

    chunks = [items[k::THREADS] for k in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        t0 = time.perf_counter()
        list(pool.map(run, chunks))
        return time.perf_counter() - t0


def sdk(server, record):
    service = TableServiceClient.from_connection_string(server.connection_string())
    service.create_table(SDK_TABLE)

    secs = _timed(server, lambda c, i: c.create_entity(entity(f"p{i % 8}", f"r{i:05}", i)), list(range(INSERTS)))
    record("table insert, SDK 8 threads", {"ops": INSERTS / secs})

    rng = random.Random(7)
    keys = [rng.randrange(INSERTS) for _ in range(GETS)]

    def get(c, i):
        e = c.get_entity(f"p{i % 8}", f"r{i:05}")
        if e["Count"] != i:
            raise RuntimeError(f"entity r{i:05} has Count {e['Count']}")

    secs = _timed(server, get, keys)
    record("table point get, SDK 8 threads", {"ops": GETS / secs})

    def query(c, _):
        n = sum(1 for _ in c.query_entities(FILTER))
        if n != FILTER_EXPECTED:
            raise RuntimeError(f"filtered query returned {n}, expected {FILTER_EXPECTED}")

    secs = _timed(server, query, list(range(QUERIES)))
    record(f"table filtered query ({FILTER_EXPECTED} rows), SDK 8 threads", {"ops": QUERIES / secs})

    def batch(c, b):
        ops = [("create", entity(f"batch{b}", f"r{i:05}", i)) for i in range(100)]
        c.submit_transaction(ops)

    secs = _timed(server, batch, list(range(BATCHES)))
    record("table 100-entity batch, SDK 8 threads", {"ops": BATCHES / secs})


def sdk_go(server, go_sdk, record):
    """The same four workloads through the Go SDK (benches/compare/go: aztables, 8 goroutines, one
    client each) into its own table, gosdkbench; the program checks values and counts itself."""
    figures = go_sdk(server, "table")
    if figures["query_rows"] != FILTER_EXPECTED:
        raise RuntimeError(f"the Go program expects {figures['query_rows']} rows, this file {FILTER_EXPECTED}")
    record("table insert, Go SDK 8 goroutines", {"ops": figures["insert_ops"]})
    record("table point get, Go SDK 8 goroutines", {"ops": figures["get_ops"]})
    record(f"table filtered query ({FILTER_EXPECTED} rows), Go SDK 8 goroutines", {"ops": figures["query_ops"]})
    record("table 100-entity batch, Go SDK 8 goroutines", {"ops": figures["batch_ops"]})


def load(server, seconds, record):
    """The same operations under wrk (32 connections); the SAS makes each request self-signed."""
    from sas import table_account_sas

    sas = table_account_sas()
    service = TableServiceClient.from_connection_string(server.connection_string())
    service.create_table("wrkinsert")
    service.create_table("wrkbatch")
    common = ("thread_id.lua", "table_common.lua")
    runs = (
        ("table insert, wrk 32 conn", f"{server.table}/wrkinsert", "table_insert.lua", []),
        ("table point get, wrk 32 conn", f"{server.table}/{SDK_TABLE}", "table_get.lua", [str(INSERTS)]),
        (f"table filtered query ({FILTER_EXPECTED} rows), wrk 32 conn", f"{server.table}/{SDK_TABLE}",
         "table_query.lua", [quote(FILTER, safe="")]),
        ("table 100-entity batch, wrk 32 conn", f"{server.table}/wrkbatch", "table_batch.lua",
         [f"{server.table}/wrkbatch"]),
    )
    for label, url, script, args in runs:
        record(label, wrk.run(url, common + (script,), [sas, *args], 32, seconds))
