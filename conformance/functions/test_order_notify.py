"""Order and Notify end to end (issue 16): the client talks to the Functions host stand-in, the apps
talk to their daprd, daprd talks to Lapis; what Dapr wrote into Lapis is read back with the Azure
SDK. The tests run in file order; the ones that stop a piece of the stack are last."""

import base64
import json
import re
import shutil
import signal
import socket
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime

from conftest import ORDER_APP, http, wait_for

AMOUNT = re.compile(r"^\d+\.\d\d$")


def order_body(customer=None, items=None):
    return {"customer": customer or f"customer-{uuid.uuid4().hex[:8]}",
            "items": items or [{"sku": "A-1", "quantity": 3, "unitPrice": "12.50"},
                               {"sku": "B-2", "quantity": 1, "unitPrice": "0.10"}]}


@contextmanager
def notify_stopped(stack):
    """Notify's host stopped (messages stay on the queue) until the block ends."""
    stack.stop("notify-host")
    try:
        yield
    finally:
        if "notify-host" not in stack.procs:
            stack.start_host("notify")


def wait_notified(stack, order_id, timeout=30):
    def notified():
        status, _, body = stack.get_order(order_id)
        return status == 200 and body.get("status") == "notified" and body
    return wait_for(notified, timeout, interval=0.2, what=f"order {order_id} notified")


def notified_count(stack, order_id):
    return sum(1 for line in stack.notified_lines() if line.get("orderId") == order_id)


def test_one_order_start_to_finish(stack):
    body = order_body(customer="Ada Lovelace")
    with notify_stopped(stack):
        status, headers, order = stack.post_order(body)
        assert status == 201, order
        order_id = order["id"]
        assert re.fullmatch(r"[0-9a-f]{32}", order_id), order_id
        assert headers["Location"] == f"/api/orders/{order_id}"
        assert order["customer"] == "Ada Lovelace"
        assert order["status"] == "accepted"
        # Exact decimal arithmetic: 3 x 12.50 + 1 x 0.10.
        assert [i["lineTotal"] for i in order["items"]] == ["37.50", "0.10"]
        assert order["total"] == "37.60"
        assert "requestHash" not in order and "queued" not in order

        status, _, got = stack.get_order(order_id)
        assert status == 200 and got["id"] == order_id and got["status"] == "accepted" and got["total"] == "37.60"

        # What Dapr's state store wrote into Lapis' Table service.
        saved = stack.state(f"order-{order_id}")
        assert saved is not None, "no entity order-<id> in the orders table"
        assert saved["status"] == "accepted" and saved["queued"] is True and saved["total"] == "37.60"
        assert saved["items"][0] == {"sku": "A-1", "quantity": 3, "unitPrice": "12.50", "lineTotal": "37.50"}

        # What the output binding put on Lapis' queue: one order-accepted message, base64 (the
        # Functions host's default messageEncoding).
        msgs = [(m, doc) for m, doc in stack.peek() if doc.get("orderId") == order_id]
        assert len(msgs) == 1, msgs
        raw, msg = msgs[0]
        assert raw.content != json.dumps(msg) and base64.b64decode(raw.content)
        assert msg["type"] == "order-accepted"
        assert msg["customer"] == "Ada Lovelace" and msg["total"] == "37.60"
        assert msg["itemCount"] == 2  # order lines
        assert msg["acceptedAt"]

    got = wait_notified(stack, order_id)
    assert got["notifiedAt"]
    note = stack.state(f"notification-{order_id}")
    assert note is not None, "no notification-<id> entity"
    assert note["orderId"] == order_id and note["customer"] == "Ada Lovelace" and note["total"] == "37.60"
    assert note["messageId"] == raw.id and note["notifiedAt"]
    assert stack.state(f"order-{order_id}")["status"] == "notified"
    wait_for(lambda: stack.queue_count() == 0, 10, what="orders queue drained")
    assert notified_count(stack, order_id) == 1

    status, _, err = stack.get_order("0" * 32)
    assert status == 404 and err["error"]["code"] == "OrderNotFound"


def test_order_through_the_invocation_envelope(stack, tmp_path):
    """The same app with forwarding off: the host POSTs {"Data": {"req": ...}, "Metadata": ...} to
    /CreateOrder and /GetOrder and answers with Outputs.res; Order answers that form too."""
    folder = tmp_path / "order-app"
    shutil.copytree(ORDER_APP, folder)
    host_json = json.loads((folder / "host.json").read_text(encoding="utf-8-sig"))
    host_json["customHandler"].pop("enableForwardingHttpRequest", None)
    host_json["customHandler"].pop("enableProxyingHttpRequest", None)
    (folder / "host.json").write_text(json.dumps(host_json))
    url = stack.start_host("order", name="order-envelope-host", folder=folder, port=0)
    try:
        status, headers, order = http("POST", f"{url}/api/orders", order_body())
        assert status == 201, order
        assert headers["Location"] == f"/api/orders/{order['id']}" and order["total"] == "37.60"
        status, _, got = http("GET", f"{url}/api/orders/{order['id']}")
        assert status == 200 and got["id"] == order["id"]
        status, _, err = http("GET", f"{url}/api/orders/{'0' * 32}")
        assert status == 404 and err["error"]["code"] == "OrderNotFound"
        status, _, err = http("POST", f"{url}/api/orders", {"customer": "x", "items": []})
        assert status == 400 and err["error"]["code"] == "InvalidOrder"
    finally:
        stack.stop("order-envelope-host")
    wait_notified(stack, order["id"])


def test_dapr_metrics_endpoint(stack):
    """What Prometheus scrapes (docs/functions.md): each daprd's metrics port, with the calls the
    apps made (runs after an order went through both apps)."""
    wanted = {"order": ["dapr_http_server_request_count", "dapr_component_state_count",
                        "dapr_component_output_binding_count"],
              "notify": ["dapr_http_server_request_count", "dapr_component_state_count"]}
    for app, names in wanted.items():
        status, _, text = http("GET", f"http://127.0.0.1:{stack.ports[app + '_metrics']}/metrics")
        assert status == 200
        for name in names:
            assert re.search(rf'^{name}\{{[^}}]*app_id="{app}"', text, re.M), (app, name)


def test_200_orders_from_20_clients_each_notified_once(stack):
    run = uuid.uuid4().hex[:6]

    def client(n):
        ids = []
        for k in range(10):
            status, _, order = stack.post_order(order_body(
                customer=f"load-{run}-{n}-{k}",
                items=[{"sku": f"S-{n}", "quantity": k + 1, "unitPrice": "1.05"}]))
            assert status == 201, order
            assert order["total"] == f"{(k + 1) * 105 // 100}.{(k + 1) * 105 % 100:02d}"
            ids.append(order["id"])
        return ids

    with ThreadPoolExecutor(20) as pool:
        ids = [i for chunk in pool.map(client, range(20)) for i in chunk]
    assert len(set(ids)) == 200

    def all_notified():
        orders = {e["RowKey"][len("order-"):]: json.loads(e["Value"]) for e in stack.entities("order-")}
        return sum(1 for i in ids if orders.get(i, {}).get("status") == "notified") == 200

    wait_for(all_notified, 120, interval=1, what="200 orders notified")
    notes = {e["RowKey"][len("notification-"):] for e in stack.entities("notification-")}
    assert set(ids) <= notes, f"{len(set(ids) - notes)} orders without a notification record"
    counts = Counter(line["orderId"] for line in stack.notified_lines())
    assert [i for i in ids if counts[i] != 1] == [], "orders not notified exactly once"
    wait_for(lambda: stack.queue_count() == 0, 20, what="orders queue drained")
    assert stack.queue_count("orders-poison") == 0


def test_retried_post_with_same_idempotency_key(stack):
    key = f"retry-{uuid.uuid4()}"
    body = order_body()
    with notify_stopped(stack):
        s1, h1, first = stack.post_order(body, {"Idempotency-Key": key})
        s2, h2, second = stack.post_order(body, {"Idempotency-Key": key})
        assert s1 == 201 and s2 == 201, (first, second)
        assert second["id"] == first["id"] and second["total"] == first["total"]
        assert h2.get("Idempotent-Replayed") == "true"
        assert h1.get("Idempotent-Replayed") in (None, "false")
        order_id = first["id"]
        # One entity (the key is the id, so a second order could only be a new id), one message.
        mine = [e["RowKey"] for e in stack.entities("order-") if body["customer"] in e["Value"]]
        assert mine == [f"order-{order_id}"]
        assert [doc["orderId"] for _, doc in stack.peek() if doc["orderId"] == order_id] == [order_id]
        # The same key with another body is a client error, not a second order.
        s3, _, err = stack.post_order(order_body(customer="someone else"), {"Idempotency-Key": key})
        assert s3 == 422 and err["error"]["code"] == "IdempotencyKeyReused"
        # A client order id works the same way.
        cbody = dict(order_body(), clientOrderId=f"client-{uuid.uuid4()}")
        c1, c2 = stack.post_order(cbody), stack.post_order(cbody)
        assert c1[0] == 201 and c2[0] == 201 and c1[2]["id"] == c2[2]["id"]
    wait_notified(stack, order_id)
    wait_notified(stack, c1[2]["id"])
    wait_for(lambda: stack.queue_count() == 0, 10, what="orders queue drained")
    assert notified_count(stack, order_id) == 1


def test_message_delivered_twice_gives_one_notification(stack):
    with notify_stopped(stack):
        status, _, order = stack.post_order(order_body())
        assert status == 201
        order_id = order["id"]
        [(raw, _)] = [(m, doc) for m, doc in stack.peek() if doc["orderId"] == order_id]
        stack.queue().send_message(raw.content)  # the queue is at-least-once: the same message again
        assert sorted(doc["orderId"] for _, doc in stack.peek() if doc["orderId"] == order_id) == [order_id] * 2
    wait_notified(stack, order_id)
    wait_for(lambda: stack.queue_count() == 0, 20, what="both deliveries processed")
    assert notified_count(stack, order_id) == 1
    assert stack.queue_count("orders-poison") == 0
    assert stack.state(f"notification-{order_id}")["orderId"] == order_id


BAD_ORDERS = [
    ({"items": [{"sku": "A", "quantity": 1, "unitPrice": "1.00"}]}, "customer"),
    ({"customer": "", "items": [{"sku": "A", "quantity": 1, "unitPrice": "1.00"}]}, "customer"),
    ({"customer": "x"}, "items"),
    ({"customer": "x", "items": []}, "items"),
    ({"customer": "x", "items": [{"sku": "A", "quantity": 0, "unitPrice": "1.00"}]}, "items[0].quantity"),
    ({"customer": "x", "items": [{"sku": "A", "quantity": -2, "unitPrice": "1.00"}]}, "items[0].quantity"),
    ({"customer": "x", "items": [{"sku": "A", "quantity": 1.5, "unitPrice": "1.00"}]}, "items[0].quantity"),
    ({"customer": "x", "items": [{"sku": "A", "quantity": "2", "unitPrice": "1.00"}]}, "items[0].quantity"),
    ({"customer": "x", "items": [{"sku": "A", "quantity": 1, "unitPrice": "12.345"}]}, "items[0].unitPrice"),
    ({"customer": "x", "items": [{"sku": "A", "quantity": 1, "unitPrice": 12.5}]}, "items[0].unitPrice"),
    ({"customer": "x", "items": [{"sku": "A", "quantity": 1, "unitPrice": "twelve"}]}, "items[0].unitPrice"),
    ({"customer": "x", "items": [{"sku": "A", "quantity": 1, "unitPrice": "-1.00"}]}, "items[0].unitPrice"),
    ({"customer": "x", "items": [{"quantity": 1, "unitPrice": "1.00"}]}, "items[0].sku"),
    ({"customer": "x", "items": [{"sku": "A", "quantity": 1, "unitPrice": "1.00"}] * 2
      + [{"sku": "C", "quantity": 0, "unitPrice": "1.00"}]}, "items[2].quantity"),
    ({"customer": "x", "items": [{"sku": "A", "quantity": 1, "unitPrice": "1.00"}] * 101}, "items"),
]


def test_bad_orders_answer_400_with_the_reason_and_write_nothing(stack):
    before_orders = len(stack.entities("order-"))
    with notify_stopped(stack):
        before_queue = stack.queue_count()
        for body, field in BAD_ORDERS:
            status, _, err = stack.post_order(body)
            assert status == 400, (body, status, err)
            assert err["error"]["code"] == "InvalidOrder", err
            assert field.lower() in err["error"]["message"].lower(), (field, err)
        status, _, err = stack.post_order(b"{not json")
        assert status == 400 and err["error"]["code"] == "InvalidOrder", err
        big = order_body(customer="x" * (64 * 1024 + 1))
        status, _, err = stack.post_order(big)
        assert status in (400, 413) and err["error"]["code"] in ("InvalidOrder", "RequestTooLarge"), (status, err)
        assert stack.queue_count() == before_queue, "a bad order put a message on the queue"
    assert len(stack.entities("order-")) == before_orders, "a bad order was saved"


def test_notify_failing_5_times_moves_the_message_to_orders_poison(stack):
    unknown = uuid.uuid4().hex
    text = json.dumps({"type": "order-accepted", "orderId": unknown, "customer": "nobody", "total": "1.00",
                       "itemCount": 1, "acceptedAt": "2026-01-01T00:00:00Z"})
    content = base64.b64encode(text.encode()).decode()
    stack.queue().send_message(content)

    def poisoned():
        return [m for m in stack.peek_raw("orders-poison") if m.content == content]

    [moved] = wait_for(poisoned, 90, interval=0.5, what="message in orders-poison")
    # The host gave up after maxDequeueCount (5) failed deliveries and deleted it from orders.
    wait_for(lambda: stack.queue_count() == 0, 10, what="message gone from orders")
    assert json.loads(base64.b64decode(moved.content))["orderId"] == unknown
    assert stack.state(f"notification-{unknown}") is None
    assert notified_count(stack, unknown) == 0
    # The stand-in's own log: five tries, each answered with a failure by Notify.
    host_log = stack.procs["notify-host"].log_path.read_text()
    for n in range(1, 6):
        assert f"try {n}: handler answered" in host_log, host_log[-2000:]
    assert "try 6:" not in host_log
    stack.queue("orders-poison").clear_messages()


def test_order_sidecar_down_or_hung_gives_503_within_5_seconds(stack):
    before = len(stack.entities("order-"))
    stack.stop("daprd-order", sig=signal.SIGKILL)
    try:
        t0 = time.monotonic()
        status, headers, err = stack.post_order(order_body(), timeout=10)
        elapsed = time.monotonic() - t0
        assert status == 503 and elapsed < 5, (status, elapsed, err)
        assert err["error"]["code"] == "ServiceUnavailable" and err["error"]["message"], err
        assert headers.get("Retry-After")
        # A sidecar that accepts connections and never answers: bounded too.
        with socket.socket() as hung:
            hung.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            hung.bind(("127.0.0.1", stack.ports["order_http"]))
            hung.listen(64)
            t0 = time.monotonic()
            status, _, err = stack.post_order(order_body(), timeout=10)
            elapsed = time.monotonic() - t0
            assert status == 503 and elapsed < 5, (status, elapsed, err)
            status, _, err = stack.get_order("0" * 32)
            assert status == 503, (status, err)
    finally:
        stack.start_daprd("order")
    assert len(stack.entities("order-")) == before, "an order was written while its sidecar was down"
    status, _, order = stack.post_order(order_body())
    assert status == 201, order
    wait_notified(stack, order["id"])


def test_lapis_restart_orders_accepted_before_are_notified_after(stack):
    with notify_stopped(stack):
        ids = []
        for _ in range(20):
            status, _, order = stack.post_order(order_body())
            assert status == 201, order
            ids.append(order["id"])
        stack.stop("lapis")
        t0 = time.monotonic()
        status, _, err = stack.post_order(order_body(), timeout=10)
        assert status == 503 and time.monotonic() - t0 < 5, (status, err)
        stack.start_host("notify")  # polls a Lapis that is down, and keeps polling
        time.sleep(2)
        stack.start_lapis()  # the same ports and data folder
    for order_id in ids:
        wait_notified(stack, order_id, timeout=60)
    counts = Counter(line["orderId"] for line in stack.notified_lines())
    assert [i for i in ids if counts[i] != 1] == []
    status, _, order = stack.post_order(order_body())
    assert status == 201, order


def parse_time(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_json_log_lines_carry_the_contract_fields(stack):
    """What Loki collects: every stdout line of both handlers is one JSON object with time (RFC 3339),
    level, app and event; Notify's order.notified lines carry the order and the delivery."""
    status, _, order = stack.post_order(order_body())
    assert status == 201
    wait_notified(stack, order["id"])
    for app in ("order", "notify"):
        lines = [line for line in stack.handler_stdout(app).splitlines() if line.strip()]
        assert lines, f"{app} logged nothing"
        for line in lines:
            doc = json.loads(line)
            assert isinstance(doc, dict), line
            assert parse_time(doc["time"]).tzinfo is not None, line
            assert doc["level"] in ("debug", "info", "warn", "error"), line
            assert doc["app"] == app and isinstance(doc["event"], str) and doc["event"], line
    notified = [d for d in stack.notified_lines() if d["orderId"] == order["id"]]
    assert len(notified) == 1
    line = notified[0]
    assert line["level"] == "info" and line["app"] == "notify"
    assert line["customer"] == order["customer"] and line["total"] == order["total"] and AMOUNT.match(line["total"])
    assert isinstance(line["messageId"], str) and line["messageId"]
    assert isinstance(line["dequeueCount"], int) and line["dequeueCount"] >= 1
