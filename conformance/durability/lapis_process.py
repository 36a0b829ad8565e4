"""Start and stop a real `lapis` process for the durability tests."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def lapis_binary() -> str:
    return os.environ.get("LAPIS_BIN", str(REPO / "target" / "release" / "lapis"))


class Lapis:
    """A lapis server on a free loopback port, data in `location`."""

    def __init__(self, location: Path, extra_args=()):
        self.proc = subprocess.Popen(
            [lapis_binary(), "--blobHost", "127.0.0.1", "--blobPort", "0", "--tablePort", "0", "--location", str(location), "--silent", *extra_args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            raise RuntimeError(f"lapis did not print its address: {line!r} {err}")
        self.url = f"{line}/{DEV_ACCOUNT}"
        table_line = self.proc.stdout.readline().strip()
        self.table_url = f"{table_line}/{DEV_ACCOUNT}"
        # Keep draining the pipes so the server never blocks on a full pipe.
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=stream.read, daemon=True).start()

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"BlobEndpoint={self.url};"
        )

    @property
    def table_connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"TableEndpoint={self.table_url};"
        )

    def rss_peak_kib(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmHWM")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def wait_until(predicate, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False
