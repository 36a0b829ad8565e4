"""A real `lapis` process for the reliability and durability tests: start on free ports, kill -9,
restart."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def lapis_binary() -> str:
    return os.environ.get("LAPIS_BIN", str(REPO / "target" / "release" / "lapis"))


class Lapis:
    """One lapis process on free loopback ports with its data in `location`."""

    def __init__(self, location: Path, extra_args: list[str] = ()):
        self.location = Path(location)
        self.stderr_path = self.location.parent / f"{self.location.name}-stderr.log"
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [lapis_binary(), "--blobPort", "0", "--tablePort", "0", "--queuePort", "0", "--adminPort", "0",
             "--webPort", "0", "--location", str(location), *extra_args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        blob = self.proc.stdout.readline().strip()
        table = self.proc.stdout.readline().strip()
        self.proc.stdout.readline()  # the admin listener
        queue = self.proc.stdout.readline().strip()
        web = self.proc.stdout.readline().strip()  # the static website endpoint
        if not all(u.startswith("http://") for u in (blob, table, queue)):
            self.proc.kill()
            raise RuntimeError(f"lapis did not print its addresses: {blob!r} {table!r} {queue!r}, see {self.stderr_path}")
        self.blob_url = f"{blob}/{ACCOUNT}"
        self.table_url = f"{table}/{ACCOUNT}"
        self.queue_url = f"{queue}/{ACCOUNT}"
        self.web_url = f"{web}/{ACCOUNT}" if web.startswith("http://") else None
        self.blob_port = int(blob.rsplit(":", 1)[1])
        self.table_port = int(table.rsplit(":", 1)[1])
        # Drain stdout so the server never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    @property
    def blob_conn_str(self) -> str:
        return f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};BlobEndpoint={self.blob_url};"

    @property
    def queue_conn_str(self) -> str:
        return f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};QueueEndpoint={self.queue_url};"

    @property
    def table_conn_str(self) -> str:
        return f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};TableEndpoint={self.table_url};"

    def rss_kib(self, field="VmRSS") -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise RuntimeError(f"no {field}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._stderr.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()
        return self.proc.returncode

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def panics_in(text: str) -> list:
    return [line for line in text.splitlines() if "panicked" in line]


def wait_until(predicate, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False
