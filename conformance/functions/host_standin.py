"""A stand-in for the Azure Functions host, for custom handlers, small enough to read in one sitting.

The real host (`func start`, or the mcr.microsoft.com/azure-functions images) cannot run here, so
the end-to-end tests of the Order and Notify apps (docs/functions.md) use this instead. It reads an
app folder the way the host does (host.json, one folder per function with its function.json) and
plays the host's side of the custom-handler protocol, as documented:

  Custom handlers: https://learn.microsoft.com/azure/azure-functions/functions-custom-handlers
  Queue trigger:   https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger
  host.json queue settings:
                   https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue#hostjson-settings

HTTP triggers: it serves /{routePrefix}/{route} (routePrefix: host.json extensions.http.routePrefix,
default "api") for the function's methods. A function whose only bindings are the httpTrigger and
its http output is forwarded as is (the original method, path, query, headers and body, and the
handler's response returned as is) when host.json sets customHandler.enableForwardingHttpRequest
(or enableProxyingHttpRequest, the name newer docs use); otherwise the host POSTs the request
payload {"Data": {"<trigger name>": {Url, Method, Query, Headers, Params, Identities, Body}},
"Metadata": {...}} to /{FunctionName} and answers with the `res` output of the response payload
{"Outputs": {"res": {statusCode, headers, body}}, "Logs": [...], "ReturnValue": ...}.

Queue triggers: it polls the function's queueName on the account of the `connection` app setting
(a connection string, as AzureWebJobsStorage is), decodes each message per host.json
extensions.queues.messageEncoding (base64 by default, or none), and POSTs
{"Data": {"<trigger name>": <message text>}, "Metadata": {DequeueCount, ExpirationTime, Id,
InsertionTime, NextVisibleTime, PopReceipt, sys: {MethodName, UtcNow, RandGuid}}} to
/{FunctionName}. A 2xx answer deletes the message. Any other outcome is a failed try: "When a queue
trigger function fails, Azure Functions retries the function up to five times for a given queue
message, including the first try. If all five attempts fail, the functions runtime adds a message
to a queue named <originalqueuename>-poison" (maxDequeueCount, default 5); before that the message
is released with host.json's visibilityTimeout ("the time interval between retries when processing
of a message fails", default 00:00:00).

What it does not do, unlike the real host: start the handler process (run it yourself with
FUNCTIONS_CUSTOMHANDLER_PORT), keys and authLevel, output bindings other than http, other
triggers, scaling, the random exponential back-off of the polling algorithm (it polls every
--poll-interval while a queue is empty), renewing the lease of a message that takes long.

  python host_standin.py --app crates/notify-function/app --port 7072 --handler-port 7073
    env: AzureWebJobsStorage (or the setting a function.json `connection` names)
"""

import argparse
import base64
import binascii
import json
import os
import re
import signal
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length"}


def timespan_seconds(value, default):
    """host.json durations are .NET TimeSpans: "hh:mm:ss[.fff]" (or "d.hh:mm:ss")."""
    if value is None:
        return default
    m = re.fullmatch(r"(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)", str(value))
    if not m:
        raise ValueError(f"not a TimeSpan: {value!r}")
    days, h, mnt, s = m.groups()
    return int(days or 0) * 86400 + int(h) * 3600 + int(mnt) * 60 + float(s)


def iso(dt):
    return dt.astimezone(timezone.utc).isoformat() if dt else None


def load_json(path):
    # The host tolerates a UTF-8 byte order mark and comments in host.json; a BOM is enough here.
    return json.loads(Path(path).read_text(encoding="utf-8-sig"))


class App:
    """host.json and the functions of one app folder."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.host = load_json(self.folder / "host.json")
        handler = self.host.get("customHandler", {})
        self.forwarding = bool(handler.get("enableForwardingHttpRequest") or handler.get("enableProxyingHttpRequest"))
        extensions = self.host.get("extensions", {})
        prefix = extensions.get("http", {}).get("routePrefix", "api")
        self.route_prefix = prefix.strip("/")
        queues = extensions.get("queues", {})
        self.max_dequeue_count = int(queues.get("maxDequeueCount", 5))
        self.visibility_timeout = timespan_seconds(queues.get("visibilityTimeout"), 0.0)
        self.batch_size = min(int(queues.get("batchSize", 16)), 32)
        self.message_encoding = queues.get("messageEncoding", "base64").lower()
        if self.message_encoding not in ("base64", "none"):
            raise ValueError(f"host.json messageEncoding {self.message_encoding!r}: base64 or none")
        self.functions = {}
        for fj in sorted(self.folder.glob("*/function.json")):
            self.functions[fj.parent.name] = load_json(fj).get("bindings", [])

    def http_functions(self):
        for name, bindings in self.functions.items():
            trigger = next((b for b in bindings if b.get("type") == "httpTrigger"), None)
            if trigger:
                # Forwarding applies to HTTP-only functions: the trigger and at most an http output.
                others = [b for b in bindings if b is not trigger and b.get("type") != "http"]
                route = trigger.get("route") or name
                methods = [m.upper() for m in trigger.get("methods") or []]
                yield name, trigger, route, methods, not others

    def queue_functions(self):
        for name, bindings in self.functions.items():
            for b in bindings:
                if b.get("type") == "queueTrigger":
                    yield name, b


def route_regex(prefix, route):
    """/{prefix}/{route} with {name} and {name:constraint} segments (constraints not checked)."""
    parts = []
    for piece in re.split(r"(\{[^}]+\})", route.strip("/")):
        if piece.startswith("{"):
            name = piece[1:-1].split(":")[0].rstrip("?").lstrip("*")
            parts.append(f"(?P<{name}>[^/]+)")
        else:
            parts.append(re.escape(piece))
    path = "/".join(p for p in (re.escape(prefix), "".join(parts)) if p)
    return re.compile(f"^/{path}/?$", re.IGNORECASE)


# Loopback only: never through a proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Host:
    def __init__(self, app, handler_url, log):
        self.app = app
        self.handler_url = handler_url.rstrip("/")
        self.log = log
        self.routes = [(route_regex(app.route_prefix, route), name, trigger, methods, http_only)
                       for name, trigger, route, methods, http_only in app.http_functions()]
        self.stopping = threading.Event()
        self.invocations = 0

    def invoke(self, function, payload, timeout):
        """POSTs the request payload to /{FunctionName}; returns (status, parsed JSON or None)."""
        self.invocations += 1
        req = urllib.request.Request(f"{self.handler_url}/{function}", data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with OPENER.open(req, timeout=timeout) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as e:
            raw, status = e.read(), e.code
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        return status, body

    # ---- queue trigger -------------------------------------------------------------------

    def poll_queue(self, function, binding, poll_interval, lease):
        from azure.core.exceptions import AzureError, ResourceNotFoundError
        from azure.storage.queue import QueueClient

        setting = binding.get("connection") or "AzureWebJobsStorage"
        conn = os.environ.get(setting) or os.environ.get("AzureWebJobs" + setting)
        if not conn:
            self.log(f"{function}: app setting {setting} is not set")
            return
        queue_name = binding["queueName"]
        queue = QueueClient.from_connection_string(conn, queue_name)
        poison = QueueClient.from_connection_string(conn, f"{queue_name}-poison")
        trigger_name = binding["name"]
        while not self.stopping.is_set():
            try:
                messages = list(queue.receive_messages(messages_per_page=self.app.batch_size,
                                                       max_messages=self.app.batch_size, visibility_timeout=lease))
            except ResourceNotFoundError:
                messages = []  # the queue does not exist yet: keep polling
            except AzureError as e:
                self.log(f"{function}: polling {queue_name}: {type(e).__name__}: {e}")
                messages = []
            if not messages:
                self.stopping.wait(poll_interval)
                continue
            threads = [threading.Thread(target=self.process, args=(function, trigger_name, queue, poison, m))
                       for m in messages]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

    def process(self, function, trigger_name, queue, poison, msg):
        from azure.core.exceptions import AzureError

        try:
            if msg.dequeue_count > self.app.max_dequeue_count:
                # Already tried maxDequeueCount times (a host died mid-try): poison without a try.
                self.to_poison(queue, poison, msg)
                return
            ok = False
            try:
                text = msg.content or ""
                if self.app.message_encoding == "base64":
                    text = base64.b64decode(text, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as e:
                self.log(f"{function}: message {msg.id} does not decode ({e}): a failed try")
            else:
                payload = {
                    "Data": {trigger_name: text},
                    "Metadata": {
                        "DequeueCount": msg.dequeue_count,
                        "ExpirationTime": iso(msg.expires_on),
                        "Id": msg.id,
                        "InsertionTime": iso(msg.inserted_on),
                        "NextVisibleTime": iso(msg.next_visible_on),
                        "PopReceipt": msg.pop_receipt,
                        "sys": {"MethodName": function, "UtcNow": iso(datetime.now(timezone.utc)),
                                "RandGuid": str(uuid.uuid4())},
                    },
                }
                try:
                    status, _ = self.invoke(function, payload, timeout=30)
                    ok = 200 <= status < 300
                    if not ok:
                        self.log(f"{function}: message {msg.id} try {msg.dequeue_count}: handler answered {status}")
                except OSError as e:
                    self.log(f"{function}: message {msg.id} try {msg.dequeue_count}: {e}")
            if ok:
                queue.delete_message(msg.id, msg.pop_receipt)
            elif msg.dequeue_count >= self.app.max_dequeue_count:
                self.to_poison(queue, poison, msg)
            else:
                queue.update_message(msg.id, msg.pop_receipt, visibility_timeout=int(self.app.visibility_timeout))
        except AzureError as e:
            # Storage unreachable: the message comes back when its lease ends, as with the real host.
            self.log(f"{function}: message {msg.id}: {type(e).__name__}: {e}")

    def to_poison(self, queue, poison, msg):
        from azure.core.exceptions import ResourceExistsError

        try:
            poison.create_queue()
        except ResourceExistsError:
            pass
        poison.send_message(msg.content)  # the message text as it was on the queue (still encoded)
        queue.delete_message(msg.id, msg.pop_receipt)
        self.log(f"message {msg.id} moved to {poison.queue_name} after {msg.dequeue_count} tries")

    # ---- HTTP trigger --------------------------------------------------------------------

    def http_handler(self):
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def handle_any(self):
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                for regex, name, trigger, methods, http_only in host.routes:
                    m = regex.match(url.path)
                    if m and (not methods or self.command in methods):
                        try:
                            if http_only and host.app.forwarding:
                                self.forward(url, body)
                            else:
                                self.envelope(name, trigger, url, m.groupdict(), body)
                        except OSError as e:
                            host.log(f"{name}: handler unreachable: {e}")
                            self.answer(502, {"Content-Type": "text/plain"}, b"custom handler unreachable")
                        return
                self.answer(404, {}, b"")

            def forward(self, url, body):
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                req = urllib.request.Request(host.handler_url + self.path, data=body if body else None,
                                             headers=headers, method=self.command)
                try:
                    resp = OPENER.open(req, timeout=230)
                except urllib.error.HTTPError as e:
                    resp = e
                with resp:
                    data = resp.read()
                    out = {k: v for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP}
                    self.answer(resp.getcode(), out, data)

            def envelope(self, name, trigger, url, params, body):
                headers = {}
                for k, v in self.headers.items():
                    headers.setdefault(k, []).append(v)
                query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
                req = {
                    "Url": f"http://{self.headers.get('Host', '127.0.0.1')}{self.path}",
                    "Method": self.command,
                    "Query": query,
                    "Headers": headers,
                    "Params": params,
                    "Identities": [],
                    "Body": body.decode("utf-8", errors="replace"),
                }
                metadata = dict(params)
                metadata.update({"Query": query, "Headers": {k: v[0] for k, v in headers.items()},
                                 "sys": {"MethodName": name, "UtcNow": iso(datetime.now(timezone.utc)),
                                         "RandGuid": str(uuid.uuid4())}})
                status, answer = host.invoke(name, {"Data": {trigger["name"]: req}, "Metadata": metadata},
                                             timeout=230)
                if not 200 <= status < 300 or not isinstance(answer, dict):
                    self.answer(500, {}, b"")  # a failed invocation
                    return
                res = (answer.get("Outputs") or {}).get("res")
                if res is None:
                    res = answer.get("ReturnValue")
                    if isinstance(res, str):
                        try:
                            res = json.loads(res)
                        except ValueError:
                            res = {"body": res}
                res = res if isinstance(res, dict) else {}
                out_body = res.get("body", "")
                if not isinstance(out_body, (str, bytes)):
                    out_body = json.dumps(out_body)
                if isinstance(out_body, str):
                    out_body = out_body.encode()
                out_headers = {str(k): str(v) for k, v in (res.get("headers") or {}).items()}
                self.answer(int(res.get("statusCode") or 200), out_headers, out_body)

            def answer(self, status, headers, data):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any

        return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's default backlog, 5, resets parallel clients


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--app", required=True, help="the app folder (host.json, */function.json)")
    p.add_argument("--port", type=int, default=0, help="HTTP port of the host (0: any; printed)")
    p.add_argument("--handler-port", type=int, default=int(os.environ.get("FUNCTIONS_CUSTOMHANDLER_PORT", "0")),
                   help="the custom handler's port (default FUNCTIONS_CUSTOMHANDLER_PORT)")
    p.add_argument("--poll-interval", type=float, default=1.0,
                   help="seconds between polls of an empty queue "
                        "(the host's maxPollingInterval defaults to 1 min, 2 s locally)")
    p.add_argument("--lease", type=int, default=600,
                   help="visibility timeout of a message being processed (the host's is 10 minutes)")
    args = p.parse_args(argv)
    if not args.handler_port:
        p.error("--handler-port or FUNCTIONS_CUSTOMHANDLER_PORT is required")

    def log(text):
        print(f"[host-standin] {text}", file=sys.stderr, flush=True)

    app = App(args.app)
    host = Host(app, f"http://127.0.0.1:{args.handler_port}", log)
    server = Server(("127.0.0.1", args.port), host.http_handler())
    threads = [threading.Thread(target=host.poll_queue, daemon=True,
                                args=(name, binding, args.poll_interval, args.lease))
               for name, binding in app.queue_functions()]
    for t in threads:
        t.start()

    def stop(*_):
        host.stopping.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The first line on stdout is the host's URL (the tests read it).
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    log(f"{args.app}: HTTP functions {[r[1] for r in host.routes]}, queue functions "
        f"{[n for n, _ in app.queue_functions()]}, handler {host.handler_url}")
    server.serve_forever()
    for t in threads:
        t.join(timeout=35)
    return 0


if __name__ == "__main__":
    sys.exit(main())
