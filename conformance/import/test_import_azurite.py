"""`lapis import-azurite` end to end: a real Azurite on disk is written to through the official SDKs
(blobs of every type with their properties, a snapshot, tags, leases, a 1 GiB blob, tables with
entities of every EDM type and 100,000 entities in batches, queues with messages), stopped, imported
into a Lapis folder, and Lapis then answers the SDKs what Azurite answered. Also: importing again
changes nothing, a damaged database imports nothing (or, with --best-effort, all the rest), and a
Lapis folder in use is refused."""

import concurrent.futures
import datetime
import hashlib
import io
import json
import os
import shutil
import threading
import time
import uuid

import pytest
from azure.core import MatchConditions
from azure.data.tables import (EdmType, EntityProperty, TableAccessPolicy, TableCorsRule,
                               TableServiceClient, UpdateMode)
from azure.storage.blob import (AccessPolicy, BlobServiceClient, ContainerSasPermissions,
                                ContentSettings, CorsRule, Metrics, PublicAccess, RetentionPolicy,
                                StandardBlobTier)
from azure.storage.queue import AccessPolicy as QueueAccessPolicy
from azure.storage.queue import QueueSasPermissions, QueueServiceClient

from conftest import Azurite, run_import
from lapis_proc import Lapis

GIB = 1024 * 1024 * 1024
ENTITIES = 100_000
# The 100,000 entities are spread over ten tables.
BIG_TABLES = 10
PER_TABLE = ENTITIES // BIG_TABLES
UTC = datetime.timezone.utc
LEASE_ID = "fe22e649-44ae-4814-8f77-db4a67a72c1e"


class Pattern(io.RawIOBase):
    """`size` bytes of a fixed non-trivial pattern, made on the fly and hashed as read."""

    def __init__(self, size):
        self.remaining = size
        self.block = hashlib.sha256(b"azurite to lapis").digest() * 32768  # 1 MiB
        self.offset = 0
        self.digest = hashlib.sha256()

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.remaining)
        filled = 0
        while filled < n:
            start = (self.offset + filled) % len(self.block)
            piece = self.block[start:start + (n - filled)]
            b[filled:filled + len(piece)] = piece
            filled += len(piece)
        self.digest.update(memoryview(b)[:n])
        self.offset += n
        self.remaining -= n
        return n


def sha256_of(blob_client, **kwargs) -> str:
    digest = hashlib.sha256()
    for chunk in blob_client.download_blob(max_concurrency=1, **kwargs).chunks():
        digest.update(chunk)
    return digest.hexdigest()


def big_table(i):
    """The table of entity i."""
    return f"Many{i // PER_TABLE}"


def the_entity(i):
    """Entity i of the big tables: partitions of 100 rows, so that every batch is one partition."""
    return {"PartitionKey": f"p{i // 100:04d}", "RowKey": f"r{i % 100:03d}", "i": i, "s": f"value {i}",
            "d": i / 7}


def typed_entity():
    return {
        "PartitionKey": "types", "RowKey": "all",
        "str": "text ünïcödé", "int32": 2147483647, "neg32": -5,
        "int64": EntityProperty(2 ** 53 + 1, EdmType.INT64), "big64": EntityProperty(-(2 ** 63), EdmType.INT64),
        "double": 1.5, "whole_double": EntityProperty(2.0, EdmType.DOUBLE), "tiny": 5e-324,
        "nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"),
        "yes": True, "no": False,
        "when": datetime.datetime(2020, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        "guid": uuid.UUID("12345678-1234-1234-1234-1234567890ab"),
        "bytes": b"\x00\x01\xfe\xff",
    }


def typed(value):
    """A comparable (type, value) of what the Tables SDK returns for a property."""
    if isinstance(value, EntityProperty):
        return ("EntityProperty", str(value.edm_type), repr(value.value))
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, datetime.datetime):
        return ("datetime", value.isoformat())
    return (type(value).__name__, repr(value))


def entity_view(e):
    """Properties with types, plus the version: the ETag's time (Lapis writes it without
    trailing zeros in the fraction) and the Timestamp."""
    stamp = e.metadata["etag"].split("'")[1].replace("%3A", ":")
    when = datetime.datetime.fromisoformat(stamp.rstrip("Z").ljust(27, "0")[:26] + "+00:00")
    return {"props": {k: typed(v) for k, v in e.items()}, "etag_time": when,
            "timestamp": e.metadata["timestamp"]}


def blob_view(props):
    cs = props.content_settings
    return {
        "name": props.name, "snapshot": props.snapshot, "type": str(props.blob_type), "size": props.size,
        "etag": props.etag, "last_modified": props.last_modified, "created": props.creation_time,
        "content": (cs.content_type, cs.content_encoding, cs.content_language, cs.content_disposition,
                    cs.cache_control, bytes(cs.content_md5) if cs.content_md5 else None),
        "metadata": dict(props.metadata), "tier": props.blob_tier,
        # Azurite answers x-ms-access-tier-inferred: false for an explicit tier, Lapis (as Azure) leaves it out.
        "tier_inferred": bool(props.blob_tier_inferred),
        # A snapshot has no lease: Azurite sends no lease headers for one, Lapis says available.
        "lease": None if props.snapshot else (props.lease.status, props.lease.state, props.lease.duration),
        "sequence_number": props.page_blob_sequence_number,
        "append_blocks": props.append_blob_committed_block_count,
    }


def container_view(cc):
    p = cc.get_container_properties()
    policy = cc.get_container_access_policy()
    return {
        "etag": p.etag, "last_modified": p.last_modified, "metadata": dict(p.metadata),
        "public_access": p.public_access, "lease": (p.lease.status, p.lease.state, p.lease.duration),
        "acl": [(i.id, i.access_policy.permission, i.access_policy.start, i.access_policy.expiry)
                for i in policy["signed_identifiers"]],
    }


def blob_state(blob_service):
    """Everything the comparison looks at in the Blob service, read through the SDK."""
    out = {"service": blob_service.get_service_properties(), "containers": {}, "blobs": {}}
    out["service"] = {
        "cors": [(r.allowed_origins, r.allowed_methods, r.allowed_headers, r.exposed_headers, r.max_age_in_seconds)
                 for r in out["service"]["cors"]],
        "hour_metrics": (out["service"]["hour_metrics"].enabled, out["service"]["hour_metrics"].include_apis),
    }
    for c in blob_service.list_containers():
        cc = blob_service.get_container_client(c.name)
        out["containers"][c.name] = container_view(cc)
        for b in cc.list_blobs(include=["snapshots", "uncommittedblobs"]):
            client = cc.get_blob_client(b.name, snapshot=b.snapshot)
            key = (c.name, b.name, b.snapshot)
            if b.name == "staged-only":
                out["blobs"][key] = {"uncommitted": [(x.id, x.size) for x in client.get_block_list("uncommitted")[1]]}
                continue
            view = blob_view(client.get_blob_properties())
            view["tags"] = client.get_blob_tags()
            if b.name != "one-gib":  # hashed from its generator instead (see the fixture)
                view["sha256"] = sha256_of(client)
            if str(b.blob_type) == "BlobType.BLOCKBLOB" and b.name != "one-gib":
                committed, uncommitted = client.get_block_list("all")
                view["blocks"] = ([(x.id, x.size) for x in committed], [(x.id, x.size) for x in uncommitted])
            if str(b.blob_type) == "BlobType.PAGEBLOB":
                ranges, _ = client.get_page_ranges()
                view["pages"] = [(r["start"], r["end"]) for r in ranges]
            out["blobs"][key] = view
    return out


def table_state(table_service):
    out = {"service_cors": [(r.allowed_origins, r.allowed_methods) for r in table_service.get_service_properties()["cors"]],
           "tables": sorted(t.name for t in table_service.list_tables())}
    types = table_service.get_table_client("Types")
    out["types_acl"] = {k: (v.permission, v.start, v.expiry) for k, v in types.get_table_access_policy().items()}
    out["types"] = {(e["PartitionKey"], e["RowKey"]): entity_view(e) for e in types.list_entities()}
    return out


def queue_state(queue_service):
    q = queue_service.get_queue_client("jobs")
    props = q.get_queue_properties()
    return {
        "queues": sorted(x.name for x in queue_service.list_queues()),
        "metadata": dict(props.metadata), "count": props.approximate_message_count,
        "acl": {k: (v.permission, v.start, v.expiry) for k, v in q.get_queue_access_policy().items()},
        "peeked": [(m.id, m.content, m.inserted_on, m.expires_on, m.dequeue_count)
                   for m in q.peek_messages(max_messages=32)],
        "service_cors": [(r.allowed_origins, r.allowed_methods) for r in queue_service.get_service_properties()["cors"]],
    }


def write_azurite(conn_str):
    """Writes the data through the SDKs; returns what the SDKs must find again, and the pop
    receipt of the received message."""
    started = time.monotonic()

    def lap(what):
        print(f"azurite: {what} written at {time.monotonic() - started:.1f}s")
    blobs = BlobServiceClient.from_connection_string(conn_str, max_block_size=8 * 1024 * 1024,
                                                     max_single_put_size=8 * 1024 * 1024)
    blobs.set_service_properties(
        cors=[CorsRule(["http://app.example"], ["GET", "PUT"], allowed_headers=["x-ms-meta-*"],
                       exposed_headers=["x-ms-meta-a"], max_age_in_seconds=60)],
        hour_metrics=Metrics(enabled=True, include_apis=True, retention_policy=RetentionPolicy(enabled=True, days=7)))
    media = blobs.create_container("media", metadata={"Team": "blue", "cost": "12"}, public_access=PublicAccess.Blob)
    media.set_container_access_policy(
        {"readers": AccessPolicy(permission=ContainerSasPermissions(read=True, list=True),
                                 start=datetime.datetime(2024, 1, 1, tzinfo=UTC),
                                 expiry=datetime.datetime(2030, 1, 1, tzinfo=UTC))},
        public_access=PublicAccess.Blob)
    doc = media.upload_blob("docs/readme.txt", b"first version\n", metadata={"Author": "ann", "rev": "1"},
                            content_settings=ContentSettings(content_type="text/plain; charset=utf-8",
                                                             content_language="en", cache_control="no-cache",
                                                             content_disposition="inline", content_encoding="identity"))
    doc.set_blob_tags({"project": "import", "stage": "draft one"})
    snapshot = doc.create_snapshot()["snapshot"]
    doc.upload_blob(b"second version\n", overwrite=True, metadata={"Author": "bob"},
                    content_settings=ContentSettings(content_type="text/markdown"))
    blocks = media.get_blob_client("blocks.bin")
    blocks.stage_block("block-1", os.urandom(300_000))
    blocks.stage_block("block-2", b"b" * 1000)
    blocks.commit_block_list(["block-1", "block-2"], metadata={"kind": "blocks"})
    blocks.stage_block("block-3", b"c" * 50)  # left uncommitted
    media.get_blob_client("staged-only").stage_block("only-1", b"never committed")
    log = media.get_blob_client("events.log")
    log.create_append_blob(metadata={"kind": "append"})
    for i in range(3):
        log.append_block(f"event {i}\n".encode())
    disk = media.get_blob_client("disk.vhd")
    disk.create_page_blob(4 * 1024 * 1024, sequence_number=7)
    disk.upload_page(os.urandom(512), offset=0, length=512)
    disk.upload_page(os.urandom(8192), offset=1024 * 1024, length=8192)
    media.upload_blob("cool.bin", os.urandom(70_000), standard_blob_tier=StandardBlobTier.COOL)
    leased = media.upload_blob("leased.txt", b"locked")
    leased.acquire_lease(lease_duration=-1, lease_id=LEASE_ID)
    archive = blobs.create_container("archive")
    archive.acquire_lease(lease_duration=-1)

    lap("blobs")
    tables = TableServiceClient.from_connection_string(conn_str)
    tables.set_service_properties(cors=[TableCorsRule(["http://tables.example"], ["GET"], allowed_headers=["*"],
                                                      exposed_headers=["*"], max_age_in_seconds=5)])
    types = tables.create_table("Types")
    types.create_entity(typed_entity())
    types.create_entity({"PartitionKey": "types", "RowKey": "plain", "n": 1})
    types.set_table_access_policy({"tp": TableAccessPolicy(permission="r", start=datetime.datetime(2024, 1, 1, tzinfo=UTC),
                                                           expiry=datetime.datetime(2030, 1, 1, tzinfo=UTC))})
    for t in range(BIG_TABLES):
        tables.create_table(f"Many{t}")
    # Four batches in flight: Azurite's ~0.1 s per batch overlaps with the SDK's own work.
    local = threading.local()

    def batch(first):
        if not hasattr(local, "service"):
            local.service = TableServiceClient.from_connection_string(conn_str)
        local.service.get_table_client(big_table(first)).submit_transaction(
            [("create", the_entity(i)) for i in range(first, first + 100)])

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(batch, range(0, ENTITIES, 100)))

    lap(f"{ENTITIES} entities")
    queues = QueueServiceClient.from_connection_string(conn_str)
    queues.set_service_properties(cors=[CorsRule(["http://queues.example"], ["GET"], allowed_headers=["*"],
                                                 exposed_headers=["*"], max_age_in_seconds=5)])
    jobs = queues.create_queue("jobs", metadata={"Purpose": "import test"})
    jobs.set_queue_access_policy({"consumer": QueueAccessPolicy(permission=QueueSasPermissions(process=True),
                                                                start=datetime.datetime(2024, 1, 1, tzinfo=UTC),
                                                                expiry=datetime.datetime(2030, 1, 1, tzinfo=UTC))})
    jobs.send_message("received once")
    received = jobs.receive_message(visibility_timeout=3600)
    for text in ("first", "second ünïcödé", "<xml>&amp;</xml>"):
        jobs.send_message(text)
    jobs.send_message("forever", time_to_live=-1)
    jobs.send_message("hidden for an hour", visibility_timeout=3600)
    queues.create_queue("empty")

    # Last, so that a failure above shows before the long upload.
    big = Pattern(GIB)
    archive.upload_blob("one-gib", io.BufferedReader(big, 8 * 1024 * 1024), length=GIB, max_concurrency=2)

    lap("1 GiB blob")
    expected = {"blob": blob_state(blobs), "table": table_state(tables), "queue": queue_state(queues),
                "snapshot": snapshot, "one_gib_sha256": big.digest.hexdigest(),
                "types_etag": types.get_entity("types", "all").metadata["etag"]}
    lap("expectations read back")
    for client in (blobs, tables, queues):
        client.close()
    return expected, (received.id, received.pop_receipt)


def summary_rows(stdout):
    """The summary's rows by their first word (the summary follows the progress lines)."""
    summary = stdout[stdout.index("\nImported "):]
    return {l.split()[0]: l for l in summary.splitlines() if l.startswith("  ")}


@pytest.fixture(scope="module")
def azurite_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("import")
    azurite = Azurite(root / "azurite")
    try:
        expected, received = write_azurite(azurite.conn_str())
    finally:
        started = time.monotonic()
        azurite.stop()
        print(f"azurite: stopped (databases saved) in {time.monotonic() - started:.1f}s")
    return root / "azurite", expected, received


@pytest.fixture(scope="module")
def imported(azurite_folder, tmp_path_factory):
    folder, expected, received = azurite_folder
    target = tmp_path_factory.mktemp("lapis") / "data"
    first = run_import(folder, target)
    assert first.returncode == 0, first.stderr
    assert "Imported" in first.stdout
    # Again: every object is found as it is, nothing is copied or added twice.
    again = run_import(folder, target)
    assert again.returncode == 0, again.stderr
    rows = summary_rows(again.stdout)
    for kind in ("service", "containers", "blobs", "snapshots", "tables", "queues"):
        assert "(0 new, 0 replaced," in rows[kind], rows[kind]
    for kind in ("entities", "messages"):
        assert "(0 new or changed," in rows[kind], rows[kind]
    server = Lapis(target)
    yield server, expected, received, first.stdout
    server.stop()


def test_blob_service_answers_as_azurite_did(imported):
    server, expected, _, _ = imported
    service = BlobServiceClient.from_connection_string(server.blob_conn_str)
    got = blob_state(service)
    assert got["service"] == expected["blob"]["service"]
    assert got["containers"] == expected["blob"]["containers"]
    assert sorted(got["blobs"], key=str) == sorted(expected["blob"]["blobs"], key=str)
    differences = {key: {k: (v, got["blobs"][key].get(k)) for k, v in want.items() if got["blobs"][key].get(k) != v}
                   for key, want in expected["blob"]["blobs"].items() if got["blobs"][key] != want}
    assert differences == {}
    # The snapshot is found by its Azurite name and holds the first version.
    snap = service.get_blob_client("media", "docs/readme.txt", snapshot=expected["snapshot"])
    assert snap.download_blob().readall() == b"first version\n"
    # The 1 GiB blob, byte for byte.
    big = service.get_blob_client("archive", "one-gib")
    assert sha256_of(big) == expected["one_gib_sha256"]
    # The imported lease holds: writing without it is refused, with it allowed.
    leased = service.get_blob_client("media", "leased.txt")
    with pytest.raises(Exception) as refused:
        leased.upload_blob(b"x", overwrite=True)
    assert "LeaseIdMissing" in str(refused.value)
    leased.set_blob_metadata({"k": "v"}, lease=LEASE_ID)
    # The staged block can still be committed.
    blocks = service.get_blob_client("media", "blocks.bin")
    committed, _ = blocks.get_block_list("committed")
    blocks.commit_block_list([b.id for b in committed] + ["block-3"])
    assert blocks.get_blob_properties().size == 300_000 + 1000 + 50


def test_tables_keep_every_type_and_all_entities(imported):
    server, expected, _, _ = imported
    service = TableServiceClient.from_connection_string(server.table_conn_str)
    got = table_state(service)
    assert got == expected["table"]
    # Azurite's ETag still works as a condition.
    types = service.get_table_client("Types")
    types.update_entity({"PartitionKey": "types", "RowKey": "all", "extra": 1}, mode=UpdateMode.MERGE,
                        etag=expected["types_etag"], match_condition=MatchConditions.IfNotModified)
    count, total = 0, 0
    for t in range(BIG_TABLES):
        many = service.get_table_client(f"Many{t}")
        for e in many.list_entities(select=["PartitionKey", "RowKey", "i", "s", "d"], results_per_page=1000):
            i = e["i"]
            assert big_table(i) == f"Many{t}" and e == the_entity(i), i
            count += 1
            total += i
    assert count == ENTITIES
    assert total == ENTITIES * (ENTITIES - 1) // 2


def test_queues_keep_messages_times_and_receipts(imported):
    server, expected, received, _ = imported
    service = QueueServiceClient.from_connection_string(server.queue_conn_str)
    assert queue_state(service) == expected["queue"]
    jobs = service.get_queue_client("jobs")
    # The message received from Azurite is deleted with the pop receipt Azurite gave.
    jobs.delete_message(*received)
    assert jobs.get_queue_properties().approximate_message_count == expected["queue"]["count"] - 1
    got = [m.content for m in jobs.receive_messages(max_messages=32)]
    assert got == ["first", "second ünïcödé", "<xml>&amp;</xml>", "forever"]


def test_the_summary_counts_what_was_imported(imported):
    _, _, _, summary = imported
    lines = summary_rows(summary)
    assert "devstoreaccount1" in lines["accounts:"]
    assert " 2  (2 new" in lines["containers"]
    assert "1.0 GiB" in lines["blobs"] or "1.00 GiB" in lines["blobs"], lines["blobs"]
    assert " 1  (1 new" in lines["snapshots"]
    assert f"{ENTITIES + 2}  ({ENTITIES + 2} new or changed" in lines["entities"]


def copy_folder(src, dst):
    """The folder's databases copied, its extent files linked (no bytes copied)."""
    os.makedirs(dst)
    for entry in os.scandir(src):
        if entry.is_dir():
            os.makedirs(os.path.join(dst, entry.name))
            for f in os.scandir(entry.path):
                os.link(f.path, os.path.join(dst, entry.name, f.name))
        else:
            shutil.copyfile(entry.path, os.path.join(dst, entry.name))


def test_a_damaged_database_imports_nothing_unless_asked_for_best_effort(azurite_folder, tmp_path):
    folder, _, _ = azurite_folder
    damaged = tmp_path / "damaged"
    copy_folder(folder, damaged)
    # Without the 1 GiB blob (to keep the test short), and the table database cut in half.
    blob_db = damaged / "__azurite_db_blob__.json"
    db = json.loads(blob_db.read_text())
    for c in db["collections"]:
        if c["name"] == "$BLOBS_COLLECTION$":
            c["data"] = [b for b in c["data"] if b["name"] != "one-gib"]
    blob_db.write_text(json.dumps(db))
    table_db = damaged / "__azurite_db_table__.json"
    data = table_db.read_bytes()
    table_db.write_bytes(data[: len(data) // 2])

    target = tmp_path / "lapis"
    refused = run_import(damaged, target)
    assert refused.returncode == 1
    assert "__azurite_db_table__.json" in refused.stderr and "truncated" in refused.stderr, refused.stderr
    assert "nothing was imported" in refused.stderr
    server = Lapis(target)
    try:
        assert list(BlobServiceClient.from_connection_string(server.blob_conn_str).list_containers()) == []
        assert list(TableServiceClient.from_connection_string(server.table_conn_str).list_tables()) == []
    finally:
        server.stop()

    best = run_import(damaged, target, "--best-effort")
    assert best.returncode == 0, best.stderr
    assert "damaged in the Azurite folder" in best.stdout
    assert "__azurite_db_table__.json" in best.stdout
    server = Lapis(target)
    try:
        blobs = BlobServiceClient.from_connection_string(server.blob_conn_str)
        names = [b.name for b in blobs.get_container_client("media").list_blobs()]
        assert "docs/readme.txt" in names and "disk.vhd" in names
        tables = TableServiceClient.from_connection_string(server.table_conn_str)
        assert "Types" in [t.name for t in tables.list_tables()]
        kept = sum(1 for t in range(BIG_TABLES)
                   for _ in tables.get_table_client(f"Many{t}").list_entities(select=["RowKey"], results_per_page=1000))
        assert 0 < kept < ENTITIES, kept
    finally:
        server.stop()


def test_a_lapis_folder_in_use_is_refused(azurite_folder, tmp_path):
    folder, _, _ = azurite_folder
    server = Lapis(tmp_path / "busy")
    try:
        refused = run_import(folder, tmp_path / "busy")
        assert refused.returncode == 1
        assert "in use" in refused.stderr, refused.stderr
    finally:
        server.stop()
