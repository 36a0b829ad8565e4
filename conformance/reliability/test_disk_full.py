"""Disk full: the data folder on a 64 MiB tmpfs. Writes past the space fail with a clean Azure
error (Lapis answers 503 ServerBusy by design; never a panic or a connection reset), what was
stored before reads back intact, tables keep working for reads, and after space returns writes
succeed again once the filesystem is remounted bigger.

test_deleting_blobs_on_a_full_disk_frees_space: a user who cannot grow the disk frees space
through the API (Delete Blob / Delete Container), as they would on Azure.
"""

import hashlib
import os
import sqlite3
import subprocess
import time

import pytest
from azure.core.exceptions import HttpResponseError
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from lapis_proc import Lapis, panics_in

MIB = 1024 * 1024


def mount_small(dir_path, size):
    """Mounts a tmpfs of `size` on dir_path; returns None or the reason it cannot."""
    if os.geteuid() != 0:
        return "not root: cannot mount a small filesystem"
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(dir_path)], capture_output=True, text=True)
    return None if r.returncode == 0 else f"mount -t tmpfs not permitted: {r.stderr.strip()}"


def payload(n: int) -> bytes:
    return hashlib.sha256(str(n).encode()).digest() * (MIB // 32)


def put_raw(server, name, body):
    """PUT a block blob with the SDK's signing but no retries; returns (status, error code)."""
    bc = BlobServiceClient.from_connection_string(server.blob_conn_str, retry_total=0).get_blob_client("full", name)
    try:
        bc.upload_blob(body, overwrite=True)
        return 201, None
    except HttpResponseError as e:
        return e.status_code, getattr(e.error_code, "value", e.error_code)


@pytest.fixture
def small_fs(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    reason = mount_small(mnt, "64m")
    if reason:
        pytest.skip(reason)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(server, limit=200):
    """Uploads 1 MiB blobs until three fail; returns (stored numbers, failures)."""
    stored, failures = [], []
    for n in range(limit):
        status, code = put_raw(server, f"b{n}", payload(n))
        if status == 201:
            stored.append(n)
        else:
            failures.append((n, status, code))
            if len(failures) >= 3:
                break
    return stored, failures


def test_disk_full_fails_cleanly_and_recovers(small_fs):
    location = small_fs / "data"
    server = Lapis(location)
    try:
        svc = BlobServiceClient.from_connection_string(server.blob_conn_str, retry_total=0)
        svc.create_container("full")
        tables = TableServiceClient.from_connection_string(server.table_conn_str, retry_total=0)
        table = tables.create_table("full")
        table.create_entity({"PartitionKey": "p", "RowKey": "before", "V": 1})

        stored, failures = fill(server)
        print(f"\nstored {len(stored)} MiB before the first failure; failures: {failures}")
        assert failures, "64 MiB filesystem never filled"
        for _, status, code in failures:
            assert status == 503 and code == "ServerBusy", failures
        assert server.alive()

        # Table writes on a full disk: also a clean error (or success if SQLite still had room).
        try:
            table.create_entity({"PartitionKey": "p", "RowKey": "during", "V": 2})
            entity_during = "201"
        except HttpResponseError as e:
            entity_during = f"{e.status_code} {e.error_code}"
            assert e.status_code == 503 and e.error_code == "ServerBusy", entity_during
        print(f"entity insert on the full disk: {entity_during}")

        # Nothing stored is harmed.
        cc = svc.get_container_client("full")
        for n in stored:
            assert cc.download_blob(f"b{n}").readall() == payload(n), f"b{n} damaged"
        assert table.get_entity("p", "before")["V"] == 1

        # Grow the filesystem: writes succeed again, and deletes work.
        subprocess.run(["mount", "-o", "remount,size=256m", str(small_fs)], check=True)
        status, code = put_raw(server, "after-remount", payload(1000))
        assert status == 201, (status, code)
        table.create_entity({"PartitionKey": "p", "RowKey": "after", "V": 3})
        for n in stored[: len(stored) // 2]:
            cc.delete_blob(f"b{n}")
        for n in stored[len(stored) // 2 :]:
            assert cc.download_blob(f"b{n}").readall() == payload(n), f"b{n} damaged"
        assert cc.download_blob("after-remount").readall() == payload(1000)
    finally:
        server.stop()
    assert not panics_in(server.stderr_text())
    db = sqlite3.connect(location / "lapis.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        db.close()


def test_deleting_blobs_on_a_full_disk_frees_space(small_fs):
    location = small_fs / "data"
    server = Lapis(location)
    try:
        svc = BlobServiceClient.from_connection_string(server.blob_conn_str, retry_total=0)
        cc = svc.create_container("full")
        stored, failures = fill(server)
        assert failures, "64 MiB filesystem never filled"
        for n in stored[: len(stored) // 2]:
            try:
                cc.delete_blob(f"b{n}")
            except HttpResponseError as e:
                pytest.fail(f"Delete Blob b{n} on a full disk answered {e.status_code} {e.error_code}")
        # The collector returns the deleted blobs' extents in the background.
        deadline, status, code = time.time() + 30, None, None
        while time.time() < deadline:
            status, code = put_raw(server, "after-delete", payload(999))
            if status == 201:
                break
            time.sleep(1)
        assert status == 201, f"no space back 30 s after deleting {len(stored) // 2} MiB: {status} {code}"
    finally:
        server.stop()
    assert not panics_in(server.stderr_text())
