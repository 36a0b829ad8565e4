"""deploy/nginx/nginx.conf for real: the Debian nginx with the deploy's own configuration in front
of a real Lapis on loopback, serving a small site uploaded through the Python SDK into the public
container `site` of devstoreaccount1.

The configuration is the deploy file itself; only the upstream address, the listen address and
the two folders nginx writes in (/var/cache/nginx/, /tmp/) are replaced, and each replacement is
asserted to have happened the expected number of times."""

import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient, ContentSettings

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "deploy" / "nginx" / "nginx.conf"
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

INDEX = b"<!doctype html><html><head><link rel=stylesheet href=style.css></head><body>Lapis site</body></html>\n"
DOCS = b"<!doctype html><html><body>docs index</body></html>\n"
CSS = b"body { font-family: sans-serif; }\n"
# 1 MiB and a bit: the blob spans two of nginx's 1 MiB slices.
BIN = random.Random(17).randbytes(1024 * 1024 + 1000)
SLICE = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class LapisOnPort:
    """A lapis process whose Blob port stays the same across restarts (nginx's upstream)."""

    def __init__(self, location: Path, port: int):
        self.location, self.port = location, port
        self.log = location.parent / "lapis-stderr.log"
        self.proc = None

    def start(self):
        binary = os.environ.get("LAPIS_BIN", str(REPO / "target" / "release" / "lapis"))
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(
                [binary, "--blobPort", str(self.port), "--queuePort", "0", "--tablePort", "0",
                 "--adminPort", "0", "--location", str(self.location), "--logFormat", "json"],
                stdout=subprocess.DEVNULL, stderr=err)
        wait_port(self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=40)

    def access(self, path: str) -> list:
        """Lapis's access-log entries for `path`."""
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            fields = entry.get("fields", entry)
            if fields.get("path") == path:
                out.append(fields)
        return out


def deploy_config(upstream_port: int, listen_port: int, root: Path) -> str:
    """The deploy file with the four substitutions, each checked. Comment lines are left out
    first (they mention the paths too); no directive of the file is removed."""
    text = "\n".join(line for line in CONF.read_text().splitlines() if not line.lstrip().startswith("#"))
    subs = [
        ("server lapis.lapis.svc:10000;", f"server 127.0.0.1:{upstream_port};", 1),
        ("listen 8080;", f"listen 127.0.0.1:{listen_port};", 1),
        # /tmp/ first: the test's own folder may well lie under a .../tmp/.
        ("/tmp/", f"{root}/tmp/", 6),  # pid and the five temp folders
        ("/var/cache/nginx/", f"{root}/cache/", 1),
    ]
    for old, new, count in subs:
        assert text.count(old) == count, f"{CONF}: expected {count} x {old!r}, found {text.count(old)}"
        text = text.replace(old, new)
    assert "lapis.lapis.svc" not in text and "/var/cache/nginx" not in text
    # Every path under /tmp is now under the test's folder (which may itself lie under /tmp).
    left = [p for p in re.findall(r"(?<=\s)/tmp/\S*", text) if not p.startswith(f"{root}/")]
    assert not left, f"paths of the deploy file left under /tmp: {left}"
    return text


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("nginx-site")
    lapis = LapisOnPort(root / "lapis-data", free_port())
    lapis.start()
    nginx = None
    try:
        svc = BlobServiceClient.from_connection_string(
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
            f"BlobEndpoint=http://127.0.0.1:{lapis.port}/{ACCOUNT};")
        container = svc.create_container("site", public_access="blob")

        def put(name, data, content_type, cache_control=None):
            container.upload_blob(name, data, overwrite=True, content_settings=ContentSettings(
                content_type=content_type, cache_control=cache_control))

        put("index.html", INDEX, "text/html; charset=utf-8")
        put("docs/index.html", DOCS, "text/html; charset=utf-8")
        put("style.css", CSS, "text/css")
        put("data.bin", BIN, "application/octet-stream")
        # Fresh for one second only: the test of nginx's revalidation with Lapis.
        put("fresh.html", b"first version\n", "text/html", cache_control="max-age=1")
        # A private container: its blob must not be reachable through nginx.
        svc.create_container("private").upload_blob("secret.txt", b"secret")

        for d in ("cache", "tmp", "logs"):
            (root / d).mkdir()
        port = free_port()
        conf = root / "nginx.conf"
        conf.write_text(deploy_config(lapis.port, port, root))
        # In the container nginx runs as its own non-root user; run as root here, its workers
        # would switch to `nobody`, who cannot enter the test's folders.
        globals_ = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
        out = open(root / "nginx-stdout.log", "wb")
        err = open(root / "nginx-stderr.log", "wb")
        nginx = subprocess.Popen([NGINX, "-p", str(root), "-c", str(conf), "-e", "stderr", "-g", globals_],
                                 stdout=out, stderr=err)
        wait_port(port)
        yield {"port": port, "lapis": lapis, "container": container, "put": put, "root": root}
        assert nginx.poll() is None, (root / "nginx-stderr.log").read_text()
        errors = (root / "nginx-stderr.log").read_text()
        assert "[emerg]" not in errors and "[alert]" not in errors, errors
    finally:
        if nginx and nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)  # graceful stop
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait()
        lapis.stop()


def wait_until(predicate, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def get(site, path, headers=None, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", site["port"], timeout=60)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def test_index_page_and_directory_index(site):
    status, headers, body = get(site, "/")
    assert (status, body) == (200, INDEX)
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert not [h for h in headers if h.startswith("x-ms-")], headers
    status, _, body = get(site, "/docs/")
    assert (status, body) == (200, DOCS)
    status, _, body = get(site, "/index.html")
    assert (status, body) == (200, INDEX)


def test_content_type_of_the_blob_is_kept(site):
    status, headers, body = get(site, "/style.css")
    assert (status, headers["content-type"], body) == (200, "text/css", CSS)
    # The whole 1 MiB blob, put together from two slices.
    status, headers, body = get(site, "/data.bin")
    assert (status, headers["content-type"]) == (200, "application/octet-stream")
    assert int(headers["content-length"]) == len(BIN)
    assert hashlib.sha256(body).digest() == hashlib.sha256(BIN).digest()


def test_conditional_requests_answered_304(site):
    status, headers, _ = get(site, "/style.css")
    assert status == 200
    etag, modified = headers["etag"], headers["last-modified"]
    status, _, body = get(site, "/style.css", {"If-None-Match": etag})
    assert (status, body) == (304, b"")
    status, _, body = get(site, "/style.css", {"If-Modified-Since": modified})
    assert (status, body) == (304, b"")
    status, _, body = get(site, "/style.css", {"If-None-Match": '"0x0000000000000"'})
    assert (status, body) == (200, CSS)


def test_expired_entry_is_revalidated_with_lapis(site):
    path = "/devstoreaccount1/site/fresh.html"
    lapis = site["lapis"]

    def statuses_since(n):
        return [e["status"] for e in lapis.access(path)[n:] if e["method"] == "GET"]

    status, headers, body = get(site, "/fresh.html")
    assert (status, body) == (200, b"first version\n")
    status, headers, _ = get(site, "/fresh.html")
    assert headers["x-cache-status"] == "HIT"
    time.sleep(2.2)  # past the blob's max-age=1 (nginx counts whole seconds)
    before = len(lapis.access(path))
    status, headers, body = get(site, "/fresh.html")
    assert (status, body, headers["x-cache-status"]) == (200, b"first version\n", "REVALIDATED")
    # Nginx asked with If-None-Match/If-Modified-Since and Lapis answered 304: no bytes copied.
    assert statuses_since(before) == [304]
    # A changed blob: the conditional request gets the new bytes (206, the first slice).
    site["put"]("fresh.html", b"second version\n", "text/html", cache_control="max-age=1")
    time.sleep(2.2)
    before = len(lapis.access(path))
    status, headers, body = get(site, "/fresh.html")
    assert (status, body, headers["x-cache-status"]) == (200, b"second version\n", "EXPIRED")
    assert statuses_since(before) == [206]
    assert get(site, "/fresh.html")[1]["x-cache-status"] == "HIT"


@pytest.mark.parametrize("range_, first, last", [
    ("bytes=100-199", 100, 199),                       # inside the first slice
    ("bytes=1048000-1049000", 1048000, 1049000),       # across the two slices
    ("bytes=-10", len(BIN) - 10, len(BIN) - 1),        # the last ten bytes
    ("bytes=1048576-", 1048576, len(BIN) - 1),         # the second slice to the end
])
def test_range_request(site, range_, first, last):
    status, headers, body = get(site, "/data.bin", {"Range": range_})
    assert status == 206
    assert headers["content-range"] == f"bytes {first}-{last}/{len(BIN)}"
    assert headers["content-type"] == "application/octet-stream"
    assert body == BIN[first:last + 1]


def test_range_past_the_end_is_416(site):
    status, _, body = get(site, "/data.bin", {"Range": f"bytes={len(BIN) + 10}-"})
    assert status == 416 and BIN[:100] not in body


def test_empty_blob(site):
    # Lapis answers the first slice's Range on an empty blob with 416 (as Azure does).
    site["put"]("empty.txt", b"", "text/plain")
    status, _, body = get(site, "/empty.txt")
    assert (status, body) == (200, b"")


def test_range_of_an_uncached_blob_reads_one_slice_from_lapis(site):
    name = "big.bin"
    site["put"](name, BIN * 3, "application/octet-stream")  # 3 MiB and a bit: four slices
    status, _, body = get(site, f"/{name}", {"Range": "bytes=10-19"})
    assert (status, body) == (206, (BIN * 3)[10:20])
    entries = [e for e in site["lapis"].access(f"/{ACCOUNT}/site/{name}") if e["method"] == "GET"]
    # One request to Lapis, answered with a part (206), not the whole 3 MiB blob (200).
    assert [e["status"] for e in entries] == [206], entries


def test_missing_object_is_a_friendly_404(site):
    status, headers, body = get(site, "/no/such/page.html")
    assert status == 404
    assert headers["content-type"] == "text/html"
    assert b"Not found" in body and b"BlobNotFound" not in body and b"<?xml" not in body


def test_private_blobs_and_other_requests_stay_out(site):
    # The path maps into the public container only, and no client header reaches Lapis.
    auth = {"Authorization": f"SharedKey {ACCOUNT}:AAAA", "x-ms-version": "2021-08-06"}
    status, _, body = get(site, "/../private/secret.txt", auth)
    assert status in (400, 404) and b"secret" not in body
    # An x-ms-range from the client would make Lapis answer other bytes under the slice's key.
    site["put"]("headers.txt", b"0123456789" * 10, "text/plain")
    status, _, body = get(site, "/headers.txt", {"x-ms-range": "bytes=0-3"})
    assert (status, body) == (200, b"0123456789" * 10)
    assert get(site, "/headers.txt")[2] == b"0123456789" * 10
    # The query is dropped: not a container listing, just the index page.
    status, _, body = get(site, "/?restype=container&comp=list")
    assert (status, body) == (200, INDEX)
    # A static site is not written through nginx.
    for method in ("PUT", "DELETE", "POST"):
        assert get(site, "/index.html", method=method)[0] == 405
    assert get(site, "/index.html")[2] == INDEX
    status, _, _ = get(site, "/", method="HEAD")
    assert status == 200


def test_origin_down_served_from_cache_else_502_page(site):
    # Cached: /style.css (fresh) and /fresh.html (its max-age=1 lapses while Lapis is down).
    assert get(site, "/style.css")[0] == 200
    assert get(site, "/fresh.html")[0] == 200
    lapis = site["lapis"]
    lapis.stop()
    try:
        time.sleep(2.2)
        status, headers, body = get(site, "/style.css")
        assert (status, body, headers["content-type"]) == (200, CSS, "text/css")
        status, headers, body = get(site, "/fresh.html")
        assert (status, body, headers["x-cache-status"]) == (200, b"second version\n", "STALE")
        # Never fetched: nothing to serve, the site's own error page.
        status, headers, body = get(site, "/never-fetched.html")
        assert status == 502
        assert headers["content-type"] == "text/html"
        assert b"Site unavailable" in body
        # Nginx answers its own probe whatever the origin does.
        assert get(site, "/healthz")[:1] == (200,)
    finally:
        lapis.start()
    # Back: the same data folder, nginx reconnects.
    status, _, body = get(site, "/docs/index.html")
    assert (status, body) == (200, DOCS)


def test_origin_hung_504_page(site):
    # Lapis's port accepts connections (the kernel completes them into the backlog) but nothing
    # answers: after proxy_read_timeout (30 s) nginx gives up, with the site's own 504 page.
    lapis = site["lapis"]
    lapis.stop()
    hung = socket.socket()
    try:
        hung.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        hung.bind(("127.0.0.1", lapis.port))
        hung.listen(64)
        started = time.time()
        status, headers, body = get(site, "/never-fetched-either.html")
        assert (status, headers["content-type"]) == (504, "text/html")
        assert b"did not answer in time" in body
        assert 25 < time.time() - started < 45
    finally:
        hung.close()
        lapis.start()
    assert get(site, "/")[2] == INDEX
