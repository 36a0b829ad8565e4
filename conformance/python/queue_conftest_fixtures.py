"""Fixtures of the Queue suite, loaded for every test by conftest.py's `pytest_plugins`, so the
test_queue_*.py files share one server per session.

LAPIS_QUEUE_ENDPOINT points at a Queue endpoint already running (e.g.
http://127.0.0.1:10001/devstoreaccount1); otherwise a server of the target (conftest.py's `target`
fixture: --target or LAPIS_TARGET) is started on a free loopback port with a temporary data folder:
azurite-queue for Azurite, and for Lapis `$LAPIS_BIN ... --queuePort 0`, which prints one address per
listener on stdout: Blob, Table, admin, then Queue (the 4th line)."""

import os
import shutil
import subprocess
import tempfile
import threading
from queue import Empty, Queue

import pytest
from azure.storage.queue import QueueServiceClient

import queue_helpers
from conftest import AZURITE_BIN, LAPIS_BIN, _drain, _free_port, _wait_for_port

AZURITE_QUEUE_BIN = AZURITE_BIN.parent / "azurite-queue"
LAPIS_QUEUE_LINE = 4


class QueueServer:
    """One emulator process with its own data folder; `endpoint` is the account's queue URL."""

    def __init__(self, target):
        self.location = tempfile.mkdtemp(prefix=f"conf-queue-{target}-")
        self.log = None
        if target == "azurite":
            if not AZURITE_QUEUE_BIN.exists():
                raise RuntimeError(f"{AZURITE_QUEUE_BIN} missing: run npm install in conformance/azurite")
            port = _free_port()
            cmd = [str(AZURITE_QUEUE_BIN), "--queueHost", "127.0.0.1", "--queuePort", str(port),
                   "--location", self.location, "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry"]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            threading.Thread(target=_drain, args=(self.proc.stdout,), daemon=True).start()
            _wait_for_port(port, self.proc)
            base = f"http://127.0.0.1:{port}"
        else:
            if not LAPIS_BIN.exists():
                raise RuntimeError(f"{LAPIS_BIN} missing: build with cargo build --release or set LAPIS_BIN")
            cmd = [str(LAPIS_BIN), "--blobHost", "127.0.0.1", "--blobPort", "0", "--tableHost", "127.0.0.1",
                   "--tablePort", "0", "--adminPort", "0", "--queuePort", "0", "--location", self.location]
            # stderr (logs) goes to its own file so it can never be mistaken for an address line.
            self.log = open(os.path.join(self.location, "lapis-stderr.log"), "wb")
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log)
            for _ in range(LAPIS_QUEUE_LINE):
                base = self._read_line(30.0)
            threading.Thread(target=_drain, args=(self.proc.stdout,), daemon=True).start()
        self.endpoint = f"{base}/{queue_helpers.ACCOUNT}"

    def _read_line(self, timeout):
        lines = Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=timeout).decode(errors="replace").strip()
        except Empty:
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
def queue_endpoint(target):
    given = os.environ.get("LAPIS_QUEUE_ENDPOINT")
    if given:
        yield given.rstrip("/")
        return
    server = QueueServer(target)
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def queue_conn_str(queue_endpoint):
    return queue_helpers.connection_string(queue_endpoint)


@pytest.fixture(scope="session")
def queue_service(queue_conn_str):
    return QueueServiceClient.from_connection_string(queue_conn_str)


@pytest.fixture
def queue(queue_service):
    """A fresh empty queue (QueueClient), deleted after the test."""
    client = queue_service.create_queue(queue_helpers.queue_name())
    yield client
    try:
        client.delete_queue()
    except Exception:
        pass


@pytest.fixture
def queue_url(queue_endpoint, queue):
    """The raw URL of the `queue` fixture's queue."""
    return f"{queue_endpoint}/{queue.queue_name}"


@pytest.fixture
def restore_queue_service_properties(queue_service):
    """Service properties are account-wide: put back what was there (the defaults on a fresh
    server) after a test changes them, CORS rules included."""
    before = queue_service.get_service_properties()
    yield
    queue_service.set_service_properties(
        analytics_logging=before["analytics_logging"],
        hour_metrics=before["hour_metrics"],
        minute_metrics=before["minute_metrics"],
        cors=before["cors"] or [],
    )
