"""Load: 512 concurrent keep-alive connections of mixed blob and table operations (SAS URLs) for
LAPIS_LOAD_SECONDS (20 s by default, 60 s for the issue's long run): zero 5xx, every request
answered, resident memory bounded.
"""

import asyncio
import json
import os
import time
from datetime import datetime, timedelta, timezone

from azure.core.credentials import AzureNamedKeyCredential
from azure.data.tables import TableServiceClient
from azure.data.tables import generate_account_sas as table_account_sas
from azure.data.tables import ResourceTypes as TableResourceTypes, AccountSasPermissions as TablePerms
from azure.storage.blob import AccountSasPermissions, BlobServiceClient, ResourceTypes, generate_account_sas

from lapis_proc import ACCOUNT, KEY, Lapis, panics_in
from rawhttp import Conn

CONNECTIONS = int(os.environ.get("LAPIS_LOAD_CONNECTIONS", "512"))
SECONDS = float(os.environ.get("LAPIS_LOAD_SECONDS", "20"))
RSS_LIMIT_MIB = 512


def sas_tokens():
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    blob = generate_account_sas(
        ACCOUNT, KEY, ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True), expiry,
    )
    table = table_account_sas(
        AzureNamedKeyCredential(ACCOUNT, KEY), TableResourceTypes(service=True, container=True, object=True),
        TablePerms(read=True, write=True, delete=True, list=True, add=True, create=True, update=True), expiry,
    )
    return blob, table


async def client(cid, server, blob_sas, table_sas, deadline, stats):
    blob = Conn("127.0.0.1", server.blob_port)
    table = Conn("127.0.0.1", server.table_port)
    body4k = bytes([cid % 256]) * 4096
    n = 0
    while time.time() < deadline:
        op = (cid + n) % 6
        try:
            if op == 0:
                s, _, _ = await blob.request("PUT", f"/{ACCOUNT}/load/c{cid}-{n}?{blob_sas}", {"x-ms-blob-type": "BlockBlob"}, body4k)
            elif op in (1, 2):
                s, _, data = await blob.request("GET", f"/{ACCOUNT}/load/hot?{blob_sas}")
                if s == 200 and len(data) != 4096:
                    stats["bad"].append(f"hot blob came back with {len(data)} bytes")
            elif op == 3:
                s, _, _ = await blob.request("GET", f"/{ACCOUNT}/load?restype=container&comp=list&maxresults=20&prefix=c{cid}-&{blob_sas}")
            elif op == 4:
                entity = json.dumps({"PartitionKey": f"p{cid}", "RowKey": str(n), "V": n}).encode()
                s, _, _ = await table.request("POST", f"/{ACCOUNT}/load?{table_sas}", {"Content-Type": "application/json", "Accept": "application/json;odata=nometadata", "Prefer": "return-no-content"}, entity)
            else:
                s, _, _ = await table.request("GET", f"/{ACCOUNT}/load(PartitionKey='hot',RowKey='hot')?{table_sas}", {"Accept": "application/json;odata=nometadata"})
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError) as e:
            stats["conn_errors"].append(f"{op}: {e!r}")
            blob.close()
            table.close()
            n += 1
            continue
        stats["total"] += 1
        if s >= 500:
            stats["5xx"].append((op, s))
        elif s >= 400:
            stats["4xx"].append((op, s))
        n += 1
    blob.close()
    table.close()


async def sample_rss(server, deadline, samples):
    while time.time() < deadline:
        samples.append(server.rss_kib())
        await asyncio.sleep(0.5)


async def run(server, blob_sas, table_sas, stats, samples):
    deadline = time.time() + SECONDS
    await asyncio.gather(
        sample_rss(server, deadline, samples),
        *(client(c, server, blob_sas, table_sas, deadline, stats) for c in range(CONNECTIONS)),
    )


def test_512_connections_of_mixed_load(tmp_path):
    server = Lapis(tmp_path / "data")
    try:
        svc = BlobServiceClient.from_connection_string(server.blob_conn_str)
        svc.create_container("load").upload_blob("hot", b"h" * 4096)
        tsc = TableServiceClient.from_connection_string(server.table_conn_str)
        tsc.create_table("load").create_entity({"PartitionKey": "hot", "RowKey": "hot", "V": 1})
        idle_kib = server.rss_kib()
        blob_sas, table_sas = sas_tokens()
        stats = {"total": 0, "5xx": [], "4xx": [], "conn_errors": [], "bad": []}
        samples = []
        started = time.time()
        asyncio.run(run(server, blob_sas, table_sas, stats, samples))
        elapsed = time.time() - started
        peak_mib = max(samples) / 1024
        print(
            f"\n{CONNECTIONS} connections, {elapsed:.0f} s: {stats['total']} requests ({stats['total'] / elapsed:.0f}/s), "
            f"5xx {len(stats['5xx'])}, 4xx {len(stats['4xx'])}, connection errors {len(stats['conn_errors'])}; "
            f"RSS idle {idle_kib / 1024:.1f} MiB, peak {peak_mib:.1f} MiB, last {samples[-1] / 1024:.1f} MiB"
        )
        assert stats["total"] > CONNECTIONS * 2
        assert not stats["5xx"], stats["5xx"][:10]
        assert not stats["4xx"], stats["4xx"][:10]
        assert not stats["conn_errors"], stats["conn_errors"][:10]
        assert not stats["bad"], stats["bad"][:10]
        assert peak_mib < RSS_LIMIT_MIB, f"peak RSS {peak_mib:.0f} MiB"
        # Still answering afterwards.
        assert svc.get_container_client("load").download_blob("hot").readall() == b"h" * 4096
    finally:
        server.stop()
    assert not panics_in(server.stderr_text())
