"""Target selection and server fixtures for the Blob conformance suite.

LAPIS_TARGET=lapis|azurite (or --target) picks the server; LAPIS_BLOB_ENDPOINT points at one already
running, otherwise a server is started on a free loopback port with a temporary data folder."""

import os
import queue
import shutil
import socket
import sys
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

import helpers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pytest_scratch import use_own_basetemp  # noqa: E402

pytest_plugins = ["queue_conftest_fixtures"]  # the Queue suite's fixtures, shared by test_queue_*.py
REPO = Path(__file__).resolve().parents[2]
AZURITE_BIN = REPO / "conformance" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
LAPIS_BIN = Path(os.environ.get("LAPIS_BIN", REPO / "target" / "release" / "lapis"))


def pytest_addoption(parser):
    parser.addoption("--target", choices=["lapis", "azurite"], default=None,
                     help="server under test (default: $LAPIS_TARGET or lapis)")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # tmp_path (the account configurations and certificates some suites write) in a folder of
    # the session's own, removed at its end (conformance/pytest_scratch.py).
    use_own_basetemp(config)
    config.addinivalue_line("markers", "azurite_gap(reason): Azure behaviour Azurite lacks")


def _target(config):
    return config.getoption("--target") or os.environ.get("LAPIS_TARGET", "lapis")


def pytest_collection_modifyitems(config, items):
    if _target(config) != "azurite":
        return
    for item in items:
        gap = item.get_closest_marker("azurite_gap")
        if gap is not None:
            reason = gap.args[0] if gap.args else gap.kwargs.get("reason", "Azurite gap")
            item.add_marker(pytest.mark.xfail(reason=f"Azurite gap: {reason}", strict=True))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {timeout}s")


def _drain(stream):
    for _ in iter(stream.readline, b""):
        pass


class Server:
    """One emulator process with its own data folder; `endpoint` is the account's blob URL."""

    def __init__(self, target, extra_env=None, account=helpers.ACCOUNT, extra_args=()):
        self.target = target
        # The static website endpoint's base URL (Lapis's --webPort); Azurite has none.
        self.web_base = None
        self.location = tempfile.mkdtemp(prefix=f"conf-{target}-")
        env = dict(os.environ, **(extra_env or {}))
        if target == "azurite":
            if not AZURITE_BIN.exists():
                raise RuntimeError(f"{AZURITE_BIN} missing: run npm install in conformance/azurite")
            port = _free_port()
            cmd = [str(AZURITE_BIN), "--blobHost", "127.0.0.1", "--blobPort", str(port),
                   "--location", self.location, "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry"]
            self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT)
            threading.Thread(target=_drain, args=(self.proc.stdout,), daemon=True).start()
            _wait_for_port(port, self.proc)
            base = f"http://127.0.0.1:{port}"
        else:
            if not LAPIS_BIN.exists():
                raise RuntimeError(f"{LAPIS_BIN} missing: build with cargo build --release or set LAPIS_BIN")
            cmd = [str(LAPIS_BIN), "--blobHost", "127.0.0.1", "--blobPort", "0",
                   "--tableHost", "127.0.0.1", "--tablePort", "0", "--queuePort", "0", "--adminPort", "0",
                   "--webPort", "0", "--location", self.location, *extra_args]
            # stderr (logs) goes to its own file so it can never be mistaken for the address line.
            self.log = open(os.path.join(self.location, "lapis-stderr.log"), "wb")
            self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=self.log)
            base = self._read_announced_address(timeout=30.0)
            threading.Thread(target=_drain, args=(self.proc.stdout,), daemon=True).start()
        self.base = base
        self.endpoint = f"{base}/{account}"

    def _read_announced_address(self, timeout):
        """Lapis prints exactly http://127.0.0.1:<port> as the first line of stdout; the fifth is the
        static website endpoint (asked for with --webPort 0)."""
        lines = queue.Queue()

        def read_five():
            for _ in range(5):
                lines.put(self.proc.stdout.readline())

        threading.Thread(target=read_five, daemon=True).start()
        announced = []
        try:
            for _ in range(5):
                announced.append(lines.get(timeout=timeout).decode(errors="replace").strip())
        except queue.Empty:
            pass
        first = announced[0] if announced else None
        if not first or not first.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"lapis did not announce its address (first stdout line: {first!r})")
        if len(announced) == 5 and announced[4].startswith("http://"):
            self.web_base = announced[4]
        return first

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.location, ignore_errors=True)


@pytest.fixture(scope="session")
def target(pytestconfig):
    return _target(pytestconfig)


@pytest.fixture(scope="session")
def endpoint(target):
    given = os.environ.get("LAPIS_BLOB_ENDPOINT")
    if given:
        yield given.rstrip("/")
        return
    server = Server(target)
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def start_server(target):
    """Factory for extra servers (e.g. with other accounts, or Lapis command-line arguments such as
    --accountConfig, which Azurite has no counterpart of); each is stopped at session end."""
    started = []

    def start(extra_env=None, account=helpers.ACCOUNT, extra_args=()):
        """`extra_args` go to Lapis only (e.g. --accountConfig); Azurite takes none."""
        server = Server(target, extra_env, account, extra_args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def conn_str(endpoint):
    return helpers.connection_string(endpoint)


@pytest.fixture(scope="session")
def service(conn_str):
    return BlobServiceClient.from_connection_string(conn_str)


@pytest.fixture
def container_name():
    return helpers.unique_name("c")


@pytest.fixture
def container(service, container_name):
    """A fresh private container, deleted after the test."""
    client = service.create_container(container_name)
    yield client
    try:
        client.delete_container()
    except Exception:
        pass
