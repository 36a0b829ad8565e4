"""Blob workloads: 4 KiB PUT/GET under wrk, a 512 MiB upload and download (Python and Go SDKs, curl),
listing 10,000 blobs."""

import hashlib
import os
import re
import statistics
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from azure.storage.blob import BlobServiceClient

import wrk

VERSION = "2021-08-06"
MIB = 1024 * 1024
LARGE_SIZE = 512 * MIB
BLOCK = 8 * MIB
LIST_COUNT = 10_000


def _put(session, url, data=b"", extra=None):
    headers = {"x-ms-version": VERSION, **(extra or {})}
    r = session.put(url, data=data, headers=headers)
    if r.status_code not in (200, 201):
        raise RuntimeError(f"PUT {url.split('?')[0]}: {r.status_code} {r.text[:200]}")


def small_blobs(server, seconds, record, over=""):
    """4 KiB PUT and GET under wrk at 32 and 1 connections; `over` names the transport in the
    labels (" over TLS" for the https rows)."""
    sas = server.blob_sas
    container = f"{server.blob}/small"
    s = requests.Session()
    if server.tls:
        s.verify = server.tls[0]
        s.trust_env = False  # else REQUESTS_CA_BUNDLE, when set, overrides verify
    _put(s, f"{container}?restype=container&{sas}")
    _put(s, f"{container}/get-4k?{sas}", os.urandom(4096), {"x-ms-blob-type": "BlockBlob"})
    for conns in (32, 1):
        put = wrk.run(container, ("thread_id.lua", "put_blob.lua"), [sas, VERSION], conns, seconds)
        record(f"blob PUT 4 KiB{over}, {conns} conn", put)
        get = wrk.run(f"{container}/get-4k?{sas}", ("get.lua",), [VERSION], conns, seconds)
        record(f"blob GET 4 KiB{over}, {conns} conn", get)


def large_blob(server, data, digest, record):
    """The SDK uploads in 8 MiB blocks, 4 at a time; curl and the SDK download. Every download
    is checked: curl by length, the SDK by SHA-256 of the bytes."""
    client = BlobServiceClient.from_connection_string(
        server.connection_string(), max_block_size=BLOCK, max_single_put_size=BLOCK,
        max_chunk_get_size=BLOCK, max_single_get_size=BLOCK,
    )
    cc = client.get_container_client("large")
    cc.create_container()
    blob = cc.get_blob_client("big.bin")
    t0 = time.perf_counter()
    blob.upload_blob(data, overwrite=True, max_concurrency=4)
    up = time.perf_counter() - t0
    record("512 MiB upload, SDK 8 MiB blocks x4", {"mbps": LARGE_SIZE / MIB / up})

    url = f"{server.blob}/large/big.bin?{server.blob_sas}"
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-H", f"x-ms-version: {VERSION}", "-w", "%{http_code} %{size_download} %{time_total}", url],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    code, size, secs = int(out[0]), int(out[1]), float(out[2])
    if code != 200 or size != LARGE_SIZE:
        raise RuntimeError(f"curl download: status {code}, {size} bytes")
    record("512 MiB download, curl", {"mbps": size / MIB / secs})

    t0 = time.perf_counter()
    got = blob.download_blob(max_concurrency=4).readall()
    down = time.perf_counter() - t0
    if len(got) != LARGE_SIZE or hashlib.sha256(got).digest() != digest:
        raise RuntimeError("SDK download: bytes differ from the upload")
    record("512 MiB download, SDK x4 (SHA-256 checked)", {"mbps": LARGE_SIZE / MIB / down})
    del got
    blob.delete_blob()


def large_blob_go(server, go_sdk, record):
    """The same 512 MiB through the Go SDK (benches/compare/go): UploadBuffer in 8 MiB blocks, 4
    in flight, then DownloadBuffer in 8 MiB ranges, 4 in flight, SHA-256 checked by the program."""
    figures = go_sdk(server, "upload")
    record("512 MiB upload, Go SDK 8 MiB blocks x4", {"mbps": figures["upload_mbps"]})
    record("512 MiB download, Go SDK x4 (SHA-256 checked)", {"mbps": figures["download_mbps"]})


def _list_all(session, url):
    """Pages through a listing with maxresults=5000; returns the number of blobs seen."""
    seen, marker = 0, ""
    while True:
        r = session.get(f"{url}&maxresults=5000&marker={marker}", headers={"x-ms-version": VERSION})
        if r.status_code != 200:
            raise RuntimeError(f"list: {r.status_code} {r.text[:200]}")
        seen += r.text.count("<Blob>")
        m = re.search(r"<NextMarker>([^<]+)</NextMarker>", r.text)
        if not m:
            return seen
        marker = requests.utils.quote(m.group(1), safe="")


def listing(server, record):
    sas = server.blob_sas
    container = f"{server.blob}/listing"
    _put(requests.Session(), f"{container}?restype=container&{sas}")

    def create(chunk):
        s = requests.Session()
        for i in chunk:
            _put(s, f"{container}/d{i % 10}/b{i:05}?{sas}", b"", {"x-ms-blob-type": "BlockBlob"})

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(create, [range(k, LIST_COUNT, 16) for k in range(16)]))
    session = requests.Session()
    for label, query, expected in (
        ("list 10,000 blobs flat (2 pages)", "", LIST_COUNT),
        ("list by prefix d3/ (1,000 of 10,000)", "&prefix=d3%2F", LIST_COUNT // 10),
    ):
        url = f"{container}?restype=container&comp=list&{sas}{query}"
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            n = _list_all(session, url)
            times.append(time.perf_counter() - t0)
            if n != expected:
                raise RuntimeError(f"{label}: saw {n} blobs, expected {expected}")
        record(label, {"ms": statistics.median(times) * 1000})
    cc.delete_container()



BATCH_SIZE = 256


def _raw_batch_body(container_path, names, sas):
    """A batch of Delete Blob sub-requests, each carrying the account SAS (no client signing)."""
    boundary = f"batch_{uuid.uuid4()}"
    parts = [
        f"--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        f"Content-ID: {i}\r\n\r\nDELETE {container_path}/{name}?{sas} HTTP/1.1\r\n"
        f"x-ms-version: {VERSION}\r\nContent-Length: 0\r\n\r\n"
        for i, name in enumerate(names)
    ]
    return boundary, ("".join(parts) + f"--{boundary}--\r\n").encode()


def batch_delete(server, record):
    """256 deletes as one Blob Batch against 256 single Delete Blob requests, one after another
    on one connection and from 16 threads: through the Python SDK (ContainerClient.delete_blobs,
    whose client-side work is most of its time), and as raw requests with an account SAS (no
    client signing, so the server's share shows). Each round deletes 256 freshly uploaded 1 KiB
    blobs; the median of 5 rounds is recorded."""
    client = BlobServiceClient.from_connection_string(server.connection_string())
    cc = client.get_container_client("batch")
    cc.create_container()
    names = [f"b{i:03}" for i in range(BATCH_SIZE)]
    sas = server.blob_sas
    container_url = f"{server.blob}/batch"
    container_path = container_url[container_url.index("/", len("http://")):]
    local = threading.local()

    def session():
        if not hasattr(local, "s"):
            local.s = requests.Session()
        return local.s

    def upload():
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda n: cc.upload_blob(n, b"x" * 1024, overwrite=True), names))

    def sdk_batch():
        parts = list(cc.delete_blobs(*names))
        if len(parts) != BATCH_SIZE or any(p.status_code != 202 for p in parts):
            raise RuntimeError("batch delete: not every sub-request answered 202")

    def raw_batch():
        boundary, body = _raw_batch_body(container_path, names, sas)
        # At the account: Azurite answers a container-scoped batch under an account SAS with 500.
        r = session().post(
            f"{server.blob}/?comp=batch&{sas}", data=body,
            headers={"x-ms-version": VERSION, "Content-Type": f"multipart/mixed; boundary={boundary}"},
        )
        if r.status_code != 202 or r.text.count("HTTP/1.1 202 Accepted") != BATCH_SIZE:
            raise RuntimeError(f"raw batch delete: {r.status_code} {r.text[:300]}")

    def sdk_single(name):
        cc.get_blob_client(name).delete_blob()

    def raw_single(name):
        r = session().delete(f"{container_url}/{name}?{sas}", headers={"x-ms-version": VERSION})
        if r.status_code != 202:
            raise RuntimeError(f"raw delete: {r.status_code} {r.text[:200]}")

    def singles(delete, threads):
        if threads == 1:
            for n in names:
                delete(n)
        else:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(delete, names))

    for label, run in (
        (f"{BATCH_SIZE} deletes, one Blob Batch (SDK)", sdk_batch),
        (f"{BATCH_SIZE} deletes, single requests, 1 conn (SDK)", lambda: singles(sdk_single, 1)),
        (f"{BATCH_SIZE} deletes, single requests, 16 threads (SDK)", lambda: singles(sdk_single, 16)),
        (f"{BATCH_SIZE} deletes, one Blob Batch (raw, SAS)", raw_batch),
        (f"{BATCH_SIZE} deletes, single requests, 1 conn (raw, SAS)", lambda: singles(raw_single, 1)),
        (f"{BATCH_SIZE} deletes, single requests, 16 conn (raw, SAS)", lambda: singles(raw_single, 16)),
    ):
        times = []
        for _ in range(5):
            upload()
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
            if any(True for _ in cc.list_blobs()):
                raise RuntimeError(f"{label}: blobs left after the deletes")
        record(label, {"ms": statistics.median(times) * 1000})
    cc.delete_container()


def blob_features(server, seconds, record):
    """The Blob API part 2: 4 KiB Append Blocks to one blob, random 4 KiB page writes into a
    1 GiB page blob (wrk, 1 and 16 connections), a lease acquired and released in turn (wrk, one
    connection), Get Page Ranges over 10,000 ranges and a snapshot of a 1 GiB block blob (median
    of 5 calls)."""
    sas = server.blob_sas
    container = f"{server.blob}/features"
    session = requests.Session()

    def call(method, url, ok, data=b"", headers=None):
        r = session.request(method, url, data=data, headers={"x-ms-version": VERSION, **(headers or {})})
        if r.status_code not in ok:
            raise RuntimeError(f"{method} {url.split('?')[0]}: {r.status_code} {r.text[:200]}")
        return r

    def median_ms(n, one):
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            one()
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000

    gib = 1024 * MIB
    call("PUT", f"{container}?restype=container&{sas}", (201,))
    call("PUT", f"{container}/disk?{sas}", (201,),
         headers={"x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": str(gib)})
    call("PUT", f"{container}/leased?{sas}", (201,), b"x", {"x-ms-blob-type": "BlockBlob"})
    for conns in (1, 16):
        # One blob per run, and 5 s: an append blob takes at most 50,000 blocks.
        call("PUT", f"{container}/log-{conns}?{sas}", (201,), headers={"x-ms-blob-type": "AppendBlob"})
        r = wrk.run(f"{container}/log-{conns}", ("append_block.lua",), [sas, VERSION], conns, min(seconds, 5))
        record(f"append 4 KiB block, {conns} conn", r)
        r = wrk.run(f"{container}/disk", ("thread_id.lua", "put_page.lua"), [sas, VERSION], conns, seconds)
        record(f"random 4 KiB page write, 1 GiB page blob, {conns} conn", r)
    r = wrk.run(f"{container}/leased", ("lease_pair.lua",), [sas, VERSION, str(uuid.uuid4())], 1, seconds)
    record("lease acquire or release, 1 conn", r)

    call("PUT", f"{container}/ranges?{sas}", (201,),
         headers={"x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": str(gib)})
    page = os.urandom(512)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: requests.put(
            f"{container}/ranges?comp=page&{sas}", data=page,
            headers={"x-ms-version": VERSION, "x-ms-page-write": "update",
                     "x-ms-range": f"bytes={i * 1024}-{i * 1024 + 511}"}).raise_for_status(),
            range(10_000)))

    def page_ranges():
        r = call("GET", f"{container}/ranges?comp=pagelist&{sas}", (200,))
        if r.text.count("<PageRange>") != 10_000:
            raise RuntimeError(f"Get Page Ranges: {r.text.count('<PageRange>')} ranges, not 10,000")
    record("Get Page Ranges over 10,000 ranges", {"ms": median_ms(5, page_ranges)})

    chunk = os.urandom(BLOCK)
    ids = [base64_id(i) for i in range(gib // BLOCK)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda b: requests.put(
            f"{container}/big?comp=block&blockid={b}&{sas}", data=chunk,
            headers={"x-ms-version": VERSION}).raise_for_status(), ids))
    body = "<BlockList>" + "".join(f"<Latest>{b}</Latest>" for b in ids) + "</BlockList>"
    call("PUT", f"{container}/big?comp=blocklist&{sas}", (201,), body.encode())
    record("snapshot of a 1 GiB blob", {"ms": median_ms(5, lambda: call(
        "PUT", f"{container}/big?comp=snapshot&{sas}", (201,)))})
    call("DELETE", f"{container}?restype=container&{sas}", (202,))


def base64_id(i):
    import base64
    return base64.b64encode(f"{i:08}".encode()).decode()
