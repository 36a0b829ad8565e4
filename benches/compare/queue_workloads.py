"""Queue workloads under wrk with an account SAS: Put Message, and Get Messages followed by Delete
Message (the pair counted as one operation), at 32 and 1 connections."""

import math

import requests

import wrk
from blob_workloads import VERSION

QUEUE = "wrkqueue"
# The Get+Delete runs must never find the queue empty. Before each, the queue is filled to this
# many seconds of the 32-connection Put rate: a pair is two requests, each one durable commit in
# Lapis, so it runs below the Put rate.
FILL_SECONDS_PER_RUN_SECOND = 1.5


def _call(session, method, url, ok):
    r = session.request(method, url, headers={"x-ms-version": VERSION})
    if r.status_code not in ok:
        raise RuntimeError(f"{method} {url.split('?')[0]}: {r.status_code} {r.text[:200]}")
    return r


def _message_count(session, queue, sas):
    r = _call(session, "GET", f"{queue}?comp=metadata&{sas}", (200,))
    return int(r.headers["x-ms-approximate-messages-count"])


def _fill(session, queue, sas, want, put_rate):
    """Puts messages (32 connections under wrk, not recorded) until the queue holds `want`."""
    for _ in range(5):
        have = _message_count(session, queue, sas)
        if have >= want:
            return
        seconds = max(1, math.ceil((want - have) / put_rate))
        wrk.run(f"{queue}/messages?{sas}", ("queue_put.lua",), [VERSION], 32, seconds)
    raise RuntimeError(f"could not fill {queue.split('/')[-1]} to {want} messages")


def load(server, seconds, record):
    from sas import queue_account_sas

    sas = queue_account_sas()
    queue = f"{server.queue}/{QUEUE}"
    session = requests.Session()
    _call(session, "PUT", f"{queue}?{sas}", (201,))

    put_rate = None
    for conns in (32, 1):
        r = wrk.run(f"{queue}/messages?{sas}", ("queue_put.lua",), [VERSION], conns, seconds)
        record(f"queue Put Message, {conns} conn", r)
        put_rate = put_rate or r["rps"]

    want = math.ceil(put_rate * seconds * FILL_SECONDS_PER_RUN_SECOND)
    for conns in (32, 1):
        _fill(session, queue, sas, want, put_rate)
        print(f"  {server.name:8} {QUEUE} holds {_message_count(session, queue, sas):,} messages", flush=True)
        r = wrk.run(f"{queue}/messages", ("queue_get_delete.lua",), [sas, VERSION], conns, seconds)
        if r["empty"]:
            raise RuntimeError(f"Get+Delete, {conns} conn: the queue ran dry ({r['empty']} empty Gets); "
                               f"raise FILL_SECONDS_PER_RUN_SECOND")
        # ops/s counts pairs; the latencies are wrk's, of each request (a Get or a Delete).
        record(f"queue Get+Delete Message, {conns} conn",
               {"ops": r["ops"], "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"], "errors": r["errors"]})
