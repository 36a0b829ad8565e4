"""Prints a Shared Key header and SAS tokens that the Azure Python SDK for queues generates for fixed inputs.

Its output is pasted into ../sdk_vectors.rs (the `python_queue_*` tests). It needs only azure-storage-queue
(12.18.1 made the values there); in a virtual environment of your own, outside the repository:
    python -m venv /path/to/venv && /path/to/venv/bin/pip install azure-storage-queue
    /path/to/venv/bin/python crates/lapis-auth/tests/vectors/queue_sdk_vectors.py
"""

from datetime import datetime, timezone

from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.transport import HttpRequest
from azure.storage.queue import (
    AccountSasPermissions,
    QueueSasPermissions,
    ResourceTypes,
    generate_account_sas,
    generate_queue_sas,
)
from azure.storage.queue._shared.authentication import SharedKeyCredentialPolicy

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
EXPIRY = datetime(2030, 1, 1, 12, 30, tzinfo=timezone.utc)


def emit(name, value):
    print(f"{name}: {value!r}")


def signed_header(policy, method, url, headers):
    request = HttpRequest(method, url, headers=headers)
    policy.on_request(PipelineRequest(request, PipelineContext(None)))
    return request.headers["Authorization"]


emit(
    "shared_key_put_message",
    signed_header(
        SharedKeyCredentialPolicy(ACCOUNT, KEY),
        "POST",
        f"http://127.0.0.1:10001/{ACCOUNT}/orders/messages?visibilitytimeout=0&messagettl=3600",
        {
            "x-ms-date": "Thu, 01 Jan 2026 00:00:00 GMT",
            "x-ms-version": "2026-10-06",
            "Content-Type": "application/xml",
            "Content-Length": "72",
        },
    ),
)
emit(
    "queue_sas",
    generate_queue_sas(
        ACCOUNT,
        "orders",
        KEY,
        permission=QueueSasPermissions(read=True, add=True, process=True),
        expiry=EXPIRY,
        start=START,
        ip="127.0.0.1-127.0.0.9",
        protocol="https,http",
    ),
)
emit("queue_sas_policy", generate_queue_sas(ACCOUNT, "orders", KEY, policy_id="policy1"))
emit(
    "account_sas",
    generate_account_sas(
        ACCOUNT,
        KEY,
        ResourceTypes(service=True, object=True),
        AccountSasPermissions(list=True, process=True),
        EXPIRY,
        start=START,
    ),
)
