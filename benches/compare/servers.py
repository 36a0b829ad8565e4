"""Starting, timing, measuring and stopping the two emulators under test."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import requests

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_status_kib(pid, field):
    """VmRSS / VmHWM of a process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} missing for pid {pid}")


class Server:
    """One emulator on free loopback ports with its data in a fresh temp folder (on disk)."""

    def __init__(self, name, argv_for):
        self.name = name
        self._argv_for = argv_for
        self.proc = None
        self.data_dir = None
        # (certificate, key) PEM paths: serve https with them (Azurite's and Lapis's --cert/--key).
        self.tls = None

    def start(self):
        """Spawns the server and returns seconds until it answered a request with 200."""
        self.data_dir = tempfile.mkdtemp(prefix=f"compare-{self.name.lower()}-")
        self.blob_port, self.table_port, self.queue_port = free_port(), free_port(), free_port()
        argv = self._argv_for(self)
        scheme = "http"
        if self.tls:
            argv += ["--cert", self.tls[0], "--key", self.tls[1]]
            scheme = "https"
        self.blob = f"{scheme}://127.0.0.1:{self.blob_port}/{ACCOUNT}"
        self.table = f"{scheme}://127.0.0.1:{self.table_port}/{ACCOUNT}"
        self.queue = f"{scheme}://127.0.0.1:{self.queue_port}/{ACCOUNT}"
        probe = f"{self.blob}?restype=service&comp=properties"
        from sas import blob_account_sas  # local import: sas needs the SDK, servers does not

        self.blob_sas = blob_account_sas()
        session = requests.Session()
        if self.tls:
            session.verify = self.tls[0]
            session.trust_env = False  # else REQUESTS_CA_BUNDLE, when set, overrides verify
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.data_dir
        )
        deadline = t0 + 30
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} at start")
            try:
                r = session.get(f"{probe}&{self.blob_sas}", headers={"x-ms-version": "2021-08-06"}, timeout=2)
                if r.status_code == 200:
                    started = time.perf_counter() - t0
                    self._wait_for_port("table", self.table_port, deadline)
                    self._wait_for_port("queue", self.queue_port, deadline)
                    return started
            except requests.ConnectionError:
                pass
            time.sleep(0.002)
        raise RuntimeError(f"{self.name} did not answer within 30 s")

    def _wait_for_port(self, service, port, deadline):
        """Azurite's Queue and Table services listen a while after its Blob service answers."""
        while time.perf_counter() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError(f"{self.name}: nothing listens on {service} port {port}")

    def rss_mib(self):
        return read_status_kib(self.proc.pid, "VmRSS") / 1024

    def hwm_mib(self):
        return read_status_kib(self.proc.pid, "VmHWM") / 1024

    def connection_string(self):
        return (
            f"DefaultEndpointsProtocol={'https' if self.tls else 'http'};AccountName={ACCOUNT};AccountKey={KEY};"
            f"BlobEndpoint={self.blob};TableEndpoint={self.table};"
        )

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def lapis(binary):
    return Server(
        "Lapis",
        lambda s: [
            binary, "--blobPort", str(s.blob_port), "--tablePort", str(s.table_port),
            "--queuePort", str(s.queue_port), "--location", os.path.join(s.data_dir, "data"), "--silent",
        ],
    )


def azurite(binary):
    return Server(
        "Azurite",
        lambda s: [
            binary, "--blobPort", str(s.blob_port), "--tablePort", str(s.table_port),
            "--queuePort", str(s.queue_port), "--location", s.data_dir, "--silent",
            "--skipApiVersionCheck", "--loose", "--disableTelemetry",
        ],
    )


def make_certificate(folder):
    """A self-signed certificate for 127.0.0.1 (openssl), for the rows over TLS: (cert, key)."""
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-days", "2", "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key
