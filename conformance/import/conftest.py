"""A real Azurite on disk, written to through the official SDKs, then stopped, for the import test:
one Azurite folder per session (the 1 GiB blob and the 100,000 entities are written once)."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

# lapis_proc (the Lapis launcher) lives one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lapis_proc import ACCOUNT, KEY, REPO  # noqa: E402
from pytest_scratch import use_own_basetemp  # noqa: E402


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    use_own_basetemp(config)

AZURITE_BIN = REPO / "conformance" / "azurite" / "node_modules" / ".bin" / "azurite"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Azurite:
    """Azurite with all three services on free loopback ports and its data in `location`."""

    def __init__(self, location: Path):
        if not AZURITE_BIN.exists():
            raise RuntimeError(f"{AZURITE_BIN} missing: run npm ci in conformance/azurite")
        self.location = Path(location)
        self.ports = {"blob": free_port(), "queue": free_port(), "table": free_port()}
        self.log_path = self.location.parent / f"{self.location.name}-azurite.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(AZURITE_BIN), "--location", str(self.location),
             "--blobHost", "127.0.0.1", "--blobPort", str(self.ports["blob"]),
             "--queueHost", "127.0.0.1", "--queuePort", str(self.ports["queue"]),
             "--tableHost", "127.0.0.1", "--tablePort", str(self.ports["table"]),
             "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry"],
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        for port in self.ports.values():
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"azurite exited with {self.proc.returncode}: {self.log_path.read_text()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"azurite did not listen on {port}")
                    time.sleep(0.1)

    def conn_str(self) -> str:
        base = "http://127.0.0.1"
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
                f"BlobEndpoint={base}:{self.ports['blob']}/{ACCOUNT};"
                f"QueueEndpoint={base}:{self.ports['queue']}/{ACCOUNT};"
                f"TableEndpoint={base}:{self.ports['table']}/{ACCOUNT};")

    def stop(self):
        """A graceful stop: on SIGINT Azurite closes its services, and LokiJS saves each
        database on close (between saves it only autosaves every 5 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("azurite did not stop on SIGINT")
        self._log.close()
        closed = self.log_path.read_text(errors="replace")
        for service in ("Blob", "Queue", "Table"):
            assert f"Azurite {service} service successfully closed" in closed, closed


def lapis_cmd(*args) -> list:
    return [os.environ.get("LAPIS_BIN", str(REPO / "target" / "release" / "lapis")), *map(str, args)]


def run_import(source, target, *extra, timeout=600):
    """`lapis import-azurite` as a user runs it; returns the finished process."""
    started = time.monotonic()
    done = subprocess.run(lapis_cmd("import-azurite", source, "--location", target, *extra),
                          capture_output=True, text=True, timeout=timeout)
    print(f"lapis import-azurite {' '.join(map(str, extra))} took {time.monotonic() - started:.1f}s "
          f"(exit {done.returncode})\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done
