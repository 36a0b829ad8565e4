"""Fixtures of the Table suite, imported by the test_table_*.py files with `from table_conftest_fixtures import *`.

LAPIS_TABLE_ENDPOINT points at a Table endpoint already running; otherwise a server of the target
(conftest.py's `target` fixture: --target or LAPIS_TARGET) is started on a free loopback port."""

import os
import queue
import shutil
import subprocess
import tempfile
import threading

import pytest
from azure.data.tables import TableServiceClient

import table_helpers
from conftest import AZURITE_BIN, LAPIS_BIN, _drain, _free_port, _wait_for_port

AZURITE_TABLE_BIN = AZURITE_BIN.parent / "azurite-table"


class TableServer:
    """One emulator process with its own data folder; `endpoint` is the account's table URL."""

    def __init__(self, target):
        self.location = tempfile.mkdtemp(prefix=f"conf-table-{target}-")
        self.log = None
        if target == "azurite":
            if not AZURITE_TABLE_BIN.exists():
                raise RuntimeError(f"{AZURITE_TABLE_BIN} missing: run npm install in conformance/azurite")
            port = _free_port()
            cmd = [str(AZURITE_TABLE_BIN), "--tableHost", "127.0.0.1", "--tablePort", str(port),
                   "--location", self.location, "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry"]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            threading.Thread(target=_drain, args=(self.proc.stdout,), daemon=True).start()
            _wait_for_port(port, self.proc)
            base = f"http://127.0.0.1:{port}"
        else:
            if not LAPIS_BIN.exists():
                raise RuntimeError(f"{LAPIS_BIN} missing: build with cargo build --release or set LAPIS_BIN")
            cmd = [str(LAPIS_BIN), "--blobHost", "127.0.0.1", "--blobPort", "0", "--tableHost", "127.0.0.1",
                   "--tablePort", "0", "--queuePort", "0", "--adminPort", "0", "--location", self.location]
            self.log = open(os.path.join(self.location, "lapis-stderr.log"), "wb")
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log)
            # Lapis announces the blob address on line 1 and the table address on line 2.
            self._read_line(30.0)
            base = self._read_line(30.0)
            threading.Thread(target=_drain, args=(self.proc.stdout,), daemon=True).start()
        self.endpoint = f"{base}/{table_helpers.ACCOUNT}"

    def _read_line(self, timeout):
        lines = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=timeout).decode(errors="replace").strip()
        except queue.Empty:
            line = None
        if not line or not line.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"lapis did not announce its addresses (stdout line: {line!r})")
        return line

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()
        shutil.rmtree(self.location, ignore_errors=True)


@pytest.fixture(scope="session")
def table_endpoint(target):
    given = os.environ.get("LAPIS_TABLE_ENDPOINT")
    if given:
        yield given.rstrip("/")
        return
    server = TableServer(target)
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def table_conn_str(table_endpoint):
    return table_helpers.connection_string(table_endpoint)


@pytest.fixture(scope="session")
def table_service(table_conn_str):
    return TableServiceClient.from_connection_string(table_conn_str)


@pytest.fixture
def table(table_service):
    """A fresh table (TableClient), deleted after the test."""
    client = table_service.create_table(table_helpers.table_name())
    yield client
    try:
        table_service.delete_table(client.table_name)
    except Exception:
        pass


@pytest.fixture
def table_url(table_endpoint, table):
    """The raw URL of the `table` fixture's table."""
    return f"{table_endpoint}/{table.table_name}"


__all__ = ["table_endpoint", "table_conn_str", "table_service", "table", "table_url", "TableServer"]
