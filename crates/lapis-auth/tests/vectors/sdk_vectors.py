"""Prints Shared Key headers and SAS tokens that the Azure Python SDK generates for fixed inputs.

Its output is pasted into ../sdk_vectors.rs; rerun to regenerate:
    .venv/bin/python crates/lapis-auth/tests/vectors/sdk_vectors.py    (from the repository's root)
"""

from datetime import datetime, timezone

from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.transport import HttpRequest
from azure.storage.blob import (
    AccountSasPermissions,
    BlobSasPermissions,
    ContainerSasPermissions,
    ResourceTypes,
    generate_account_sas,
    generate_blob_sas,
    generate_container_sas,
)
from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy
from azure.core.credentials import AzureNamedKeyCredential
from azure.data.tables import TableSasPermissions, generate_table_sas
from azure.data.tables._authentication import SharedKeyCredentialPolicy as TableSharedKeyPolicy

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


blob_policy = SharedKeyCredentialPolicy(ACCOUNT, KEY)
emit(
    "shared_key_put_metadata",
    signed_header(
        blob_policy,
        "PUT",
        f"http://127.0.0.1:10000/{ACCOUNT}/cont/a%7C%7Cb%20c%2B%C3%BC?comp=metadata&timeout=30",
        {
            "x-ms-date": "Thu, 01 Jan 2026 00:00:00 GMT",
            "x-ms-version": "2026-10-06",
            "x-ms-meta-b": "two",
            "x-ms-meta-a": "one",
            "Content-Length": "0",
            "Content-Type": "application/octet-stream",
        },
    ),
)
emit(
    "shared_key_list_containers",
    signed_header(
        blob_policy,
        "GET",
        f"http://127.0.0.1:10000/{ACCOUNT}?comp=list&prefix=a%20b&include=metadata",
        {"x-ms-date": "Thu, 01 Jan 2026 00:00:00 GMT", "x-ms-version": "2026-10-06", "x-ms-range": "bytes=0-9"},
    ),
)

# (Python never signs the standard Range header; it sends x-ms-range.)
# Python sorts x-ms-* names with Azure's collation ('-' ignored first), unlike a plain byte sort.
emit(
    "shared_key_collation_order",
    signed_header(
        blob_policy,
        "PUT",
        f"http://127.0.0.1:10000/{ACCOUNT}/cont/blob",
        {
            "x-ms-date": "Thu, 01 Jan 2026 00:00:00 GMT",
            "x-ms-version": "2026-10-06",
            "x-ms-meta-a_b": "1",
            "x-ms-meta-a-c": "2",
            "x-ms-blob-type": "BlockBlob",
            "Content-Length": "5",
        },
    ),
)

table_policy = TableSharedKeyPolicy(AzureNamedKeyCredential(ACCOUNT, KEY))
emit(
    "shared_key_table_entity",
    signed_header(
        table_policy,
        "GET",
        f"http://127.0.0.1:10002/{ACCOUNT}/mytable(PartitionKey='p',RowKey='r')",
        {"x-ms-date": "Thu, 01 Jan 2026 00:00:00 GMT", "x-ms-version": "2019-02-02", "Content-Type": "application/json"},
    ),
)

emit(
    "blob_sas",
    generate_blob_sas(
        ACCOUNT,
        "cont",
        "dir/a||b c+\u00fc.txt",
        account_key=KEY,
        permission=BlobSasPermissions(read=True, write=True),
        expiry=EXPIRY,
        start=START,
        ip="127.0.0.1-127.0.0.9",
        protocol="https,http",
        content_disposition="attachment; filename=x.txt",
        content_type="text/plain",
    ),
)
emit(
    "container_sas_policy",
    generate_container_sas(ACCOUNT, "cont", account_key=KEY, policy_id="policy1", permission=ContainerSasPermissions(list=True)),
)
emit(
    "account_sas",
    generate_account_sas(
        ACCOUNT,
        KEY,
        ResourceTypes(container=True, object=True),
        AccountSasPermissions(read=True, list=True),
        EXPIRY,
        start=START,
        services="bt",
    ),
)
emit(
    "table_sas",
    generate_table_sas(
        AzureNamedKeyCredential(ACCOUNT, KEY),
        "MyTable",
        permission=TableSasPermissions(read=True, add=True),
        expiry=EXPIRY,
        start_pk="p1",
        end_pk="p9",
    ),
)
