"""The Order and Notify apps end to end on loopback (docs/functions.md): Lapis, one daprd per app
(standalone mode, app ids `order` and `notify`, the Components of deploy/functions/components), the
two custom-handler binaries, and host_standin.py playing the Functions host for each app.

Binaries: LAPIS_BIN (default target/release/lapis), ORDER_HANDLER_BIN and NOTIFY_HANDLER_BIN
(default ${CARGO_TARGET_DIR:-target}/release/order-handler and notify-handler), DAPRD_BIN (default
the daprd that conformance/dapr/build-daprd.sh caches). Without daprd every test is skipped.

One stack serves the whole session; the tests that stop a piece (a daprd, Lapis, the Notify host)
start it again on the same ports before they end.
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))  # the temporary-folder hook shared by the suites

from pytest_scratch import use_own_basetemp  # noqa: E402
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
COMPONENTS = REPO / "deploy" / "functions" / "components"
ORDER_APP = REPO / "crates" / "order-function" / "app"
NOTIFY_APP = REPO / "crates" / "notify-function" / "app"
STATE_STORE = "orders-state"
TABLE = "orders"
QUEUE = "orders"
# Dapr prefixes keys with the store name (keyPrefix: name); the table component splits "store||key"
# into PartitionKey "orders-state" and RowKey "<key>", the JSON value in the "Value" property.
PARTITION = STATE_STORE

# Loopback only: never through a proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def target_dir():
    d = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return d if d.is_absolute() else REPO / d


def lapis_bin():
    return os.environ.get("LAPIS_BIN", str(REPO / "target" / "release" / "lapis"))


def handler_bin(app):
    return os.environ.get(f"{app.upper()}_HANDLER_BIN", str(target_dir() / "release" / f"{app}-handler"))


def daprd_bin():
    if os.environ.get("DAPRD_BIN"):
        return os.environ["DAPRD_BIN"]
    cache = os.environ.get("LAPIS_DAPRD_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lapis", "daprd")
    return os.path.join(cache, os.environ.get("DAPR_VERSION", "v1.18.0"), "daprd")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, interval=0.1, what="condition"):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not true after {timeout}s (last: {last!r})")


def http(method, url, body=None, headers=None, timeout=30):
    """(status, headers, parsed JSON body or raw text); never raises for an HTTP status."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    h = {"Content-Type": "application/json"} if data is not None else {}
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, headers=h, method=method)
    try:
        resp = OPENER.open(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        resp = e
    with resp:
        raw = resp.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return resp.getcode(), resp.headers, parsed


class Proc:
    """A child process with its output in a log file under the test's folder."""

    def __init__(self, name, args, log_dir, env=None, stdout_pipe=False):
        self.name, self.args, self.env = name, args, env
        self.log_path = Path(log_dir) / f"{name}.log"
        self.stdout_path = Path(log_dir) / f"{name}.stdout"
        self.proc = None
        self.stdout_pipe = stdout_pipe

    def start(self):
        self._log = open(self.log_path, "ab")
        self._out = None if self.stdout_pipe else open(self.stdout_path, "ab")
        self.proc = subprocess.Popen(self.args, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE if self.stdout_pipe else self._out,
                                     stderr=self._log)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self._log.close()
        if self._out:
            self._out.close()
        self.proc = None

    def log_tail(self, n=40):
        text = ""
        for p in (self.log_path, self.stdout_path):
            if p.exists():
                text += "".join(p.read_text(errors="replace").splitlines(True)[-n:])
        return text


class Stack:
    def __init__(self, tmp):
        self.tmp = Path(tmp)
        self.env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        self.ports = {name: free_port() for name in (
            "blob", "table", "queue", "admin",
            "order_http", "order_grpc", "order_internal", "order_metrics",
            "notify_http", "notify_grpc", "notify_internal", "notify_metrics",
            "order_handler", "notify_handler", "order_host", "notify_host")}
        self.lapis_dir = self.tmp / "lapis-data"
        self.blob_url = f"http://127.0.0.1:{self.ports['blob']}"
        self.table_url = f"http://127.0.0.1:{self.ports['table']}"
        self.queue_url = f"http://127.0.0.1:{self.ports['queue']}"
        self.conn_str = (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
                         f"BlobEndpoint={self.blob_url}/{ACCOUNT};TableEndpoint={self.table_url}/{ACCOUNT};"
                         f"QueueEndpoint={self.queue_url}/{ACCOUNT};")
        self.procs = {}
        self.order_url = f"http://127.0.0.1:{self.ports['order_host']}"

    # ---- Lapis ----------------------------------------------------------------------------

    def start_lapis(self):
        p = self.ports
        proc = Proc("lapis", [lapis_bin(), "--blobHost", "127.0.0.1", "--blobPort", str(p["blob"]),
                              "--tableHost", "127.0.0.1", "--tablePort", str(p["table"]),
                              "--queueHost", "127.0.0.1", "--queuePort", str(p["queue"]),
                              "--adminPort", str(p["admin"]), "--location", str(self.lapis_dir)],
                    self.tmp, env=self.env)
        self.procs["lapis"] = proc.start()
        wait_for(lambda: self._listening(p["queue"]) and self._listening(p["table"]) or not proc.alive(), 30,
                 what="lapis listening")
        assert proc.alive(), f"lapis exited:\n{proc.log_tail()}"

    @staticmethod
    def _listening(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    # ---- daprd ----------------------------------------------------------------------------

    def write_resources(self, app):
        """deploy/functions/components with only the in-cluster hosts replaced by the test's ports
        and auth.secretStore added, plus a secretstores.local.file Component serving the key, as
        conformance/dapr/daprd_test.go does for deploy/dapr."""
        folder = self.tmp / f"resources-{app}"
        folder.mkdir(exist_ok=True)
        replace = {"http://lapis.default.svc:10000": self.blob_url,
                   "http://lapis.default.svc:10001": self.queue_url,
                   "http://lapis.default.svc:10002": self.table_url}
        for src in sorted(COMPONENTS.glob("*.yaml")):
            text = src.read_text()
            for old, new in replace.items():
                text = text.replace(old, new)
            assert "lapis.default.svc" not in text, f"{src.name}: an endpoint was not substituted"
            (folder / src.name).write_text(text + "auth:\n  secretStore: lapis-secrets\n")
        secrets = self.tmp / f"secrets-{app}.json"  # outside the resources folder
        secrets.write_text(json.dumps({"lapis-storage": {"accountKey": KEY}}))
        (folder / "secretstore.yaml").write_text(f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: lapis-secrets
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - name: secretsFile
    value: {secrets}
  - name: multiValued
    value: "true"
""")
        return folder

    def start_daprd(self, app):
        p = self.ports
        args = [daprd_bin(), "--mode", "standalone", "--app-id", app,
                "--resources-path", str(self.tmp / f"resources-{app}"),
                "--dapr-listen-addresses", "127.0.0.1",
                "--dapr-http-port", str(p[f"{app}_http"]), "--dapr-grpc-port", str(p[f"{app}_grpc"]),
                "--dapr-internal-grpc-port", str(p[f"{app}_internal"]),
                "--dapr-internal-grpc-listen-address", "127.0.0.1",
                "--metrics-port", str(p[f"{app}_metrics"]), "--metrics-listen-address", "127.0.0.1",
                "--enable-metrics=true", "--log-level", "info"]
        proc = Proc(f"daprd-{app}", args, self.tmp, env=self.env)
        self.procs[f"daprd-{app}"] = proc.start()
        base = f"http://127.0.0.1:{p[f'{app}_http']}"

        def healthy():
            if not proc.alive():
                return "exited"
            try:
                return http("GET", base + "/v1.0/healthz", timeout=2)[0] == 204
            except OSError:
                return False

        assert wait_for(healthy, 60, interval=0.2, what=f"daprd {app} healthy") is True, \
            f"daprd {app} exited:\n{proc.log_tail()}"

    # ---- handlers and hosts ---------------------------------------------------------------

    def start_handler(self, app):
        env = dict(self.env, FUNCTIONS_CUSTOMHANDLER_PORT=str(self.ports[f"{app}_handler"]),
                   DAPR_HTTP_PORT=str(self.ports[f"{app}_http"]), DAPR_HOST="127.0.0.1",
                   ORDER_STATE_STORE=STATE_STORE, RUST_BACKTRACE="1")
        if app == "order":
            env["ORDER_QUEUE_BINDING"] = "orders-queue"
        proc = Proc(f"{app}-handler", [handler_bin(app)], self.tmp, env=env)
        self.procs[f"{app}-handler"] = proc.start()
        wait_for(lambda: self._listening(self.ports[f"{app}_handler"]) or not proc.alive(), 30,
                 what=f"{app}-handler listening")
        assert proc.alive(), f"{app}-handler exited:\n{proc.log_tail()}"

    def start_host(self, app, name=None, folder=None, port=None, lease=10):
        name = name or f"{app}-host"
        folder = folder or (ORDER_APP if app == "order" else NOTIFY_APP)
        port = port if port is not None else self.ports[f"{app}_host"]
        env = dict(self.env, AzureWebJobsStorage=self.conn_str, PYTHONDONTWRITEBYTECODE="1")
        args = [sys.executable, str(HERE / "host_standin.py"), "--app", str(folder), "--port", str(port),
                "--handler-port", str(self.ports[f"{app}_handler"]), "--poll-interval", "0.5",
                "--lease", str(lease)]
        proc = Proc(name, args, self.tmp, env=env, stdout_pipe=True)
        self.procs[name] = proc.start()
        url = proc.proc.stdout.readline().decode().strip()
        assert url.startswith("http://"), f"{name} did not start:\n{proc.log_tail()}"
        return url

    def stop(self, name, sig=signal.SIGTERM):
        proc = self.procs.pop(name, None)
        if proc:
            proc.stop(sig)

    def handler_stdout(self, app):
        return (self.tmp / f"{app}-handler.stdout").read_text(errors="replace")

    def start_all(self):
        self.start_lapis()
        for app in ("order", "notify"):
            self.write_resources(app)
            self.start_daprd(app)
            self.start_handler(app)
            self.start_host(app)

    def stop_all(self):
        for name in list(self.procs)[::-1]:
            self.stop(name)

    def logs(self):
        return "\n".join(f"--- {name}:\n{p.log_tail(25)}" for name, p in self.procs.items())

    # ---- the Order API through the host ---------------------------------------------------

    def post_order(self, body, headers=None, timeout=30):
        return http("POST", f"{self.order_url}/api/orders", body, headers, timeout=timeout)

    def get_order(self, order_id):
        return http("GET", f"{self.order_url}/api/orders/{order_id}")

    # ---- what Dapr wrote into Lapis, through the Azure SDK --------------------------------

    def table(self):
        from azure.data.tables import TableClient
        return TableClient.from_connection_string(self.conn_str, TABLE)

    def entity(self, key):
        from azure.core.exceptions import ResourceNotFoundError
        try:
            return self.table().get_entity(PARTITION, key)
        except ResourceNotFoundError:
            return None

    def state(self, key):
        e = self.entity(key)
        return json.loads(e["Value"]) if e else None

    def entities(self, prefix):
        q = f"PartitionKey eq '{PARTITION}' and RowKey ge '{prefix}' and RowKey lt '{prefix}~'"
        return list(self.table().query_entities(q))

    def queue(self, name=QUEUE):
        from azure.storage.queue import QueueClient
        return QueueClient.from_connection_string(self.conn_str, name)

    def queue_count(self, name=QUEUE):
        from azure.core.exceptions import ResourceNotFoundError
        try:
            return self.queue(name).get_queue_properties().approximate_message_count
        except ResourceNotFoundError:
            return 0

    def peek_raw(self, name=QUEUE):
        """The visible messages of a queue as they are ([] when the queue does not exist)."""
        from azure.core.exceptions import ResourceNotFoundError
        try:
            return self.queue(name).peek_messages(max_messages=32)
        except ResourceNotFoundError:
            return []

    def peek(self, name=QUEUE):
        """The visible messages of a queue, decoded (base64, as the binding writes them) and parsed."""
        return [(m, json.loads(base64.b64decode(m.content))) for m in self.peek_raw(name)]

    def notified_lines(self):
        """The order.notified log lines of the Notify handler, parsed."""
        lines = []
        for line in self.handler_stdout("notify").splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if isinstance(doc, dict) and doc.get("event") == "order.notified":
                lines.append(doc)
        return lines


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    use_own_basetemp(config)


def prerequisites():
    missing = []
    if not (os.path.isfile(daprd_bin()) and os.access(daprd_bin(), os.X_OK)):
        pytest.skip(f"daprd not found at {daprd_bin()}: build it with conformance/dapr/build-daprd.sh "
                    "(or set DAPRD_BIN); the Order and Notify end-to-end tests need a real daprd")
    for what, path in (("LAPIS_BIN", lapis_bin()), ("ORDER_HANDLER_BIN", handler_bin("order")),
                       ("NOTIFY_HANDLER_BIN", handler_bin("notify"))):
        if not os.path.isfile(path):
            missing.append(f"{what}={path}")
    for folder in (ORDER_APP, NOTIFY_APP):
        if not (folder / "host.json").is_file():
            missing.append(f"{folder}/host.json")
    if missing:
        pytest.fail("missing (build with cargo build --release): " + ", ".join(missing), pytrace=False)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    prerequisites()
    tmp = tmp_path_factory.mktemp("functions-e2e")
    s = Stack(tmp)
    try:
        s.start_all()
    except BaseException:
        print(s.logs())
        s.stop_all()
        raise
    yield s
    s.stop_all()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def notify_paused(stack):
    """Notify's host stopped for the test (messages stay on the queue), started again after it."""
    stack.stop("notify-host")
    yield stack
    if "notify-host" not in stack.procs:
        stack.start_host("notify")


@pytest.fixture(autouse=True)
def dump_logs_on_failure(request):
    yield
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed and "stack" in request.fixturenames:
        print(request.getfixturevalue("stack").logs())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
