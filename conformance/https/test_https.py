"""The Python SDKs against a Lapis serving HTTPS with a certificate run.sh made (it sets
LAPIS_HTTPS_CONNECTION_STRING and LAPIS_HTTPS_CA): a blob, a table entity and a queue message
round trip, a customer-provided key (which the SDK sends over https only) and a SAS for https
only."""

import base64
import hashlib
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from azure.data.tables import TableServiceClient
from azure.storage.blob import (AccountSasPermissions, BlobSasPermissions, BlobServiceClient,
                                CustomerProvidedEncryptionKey, ResourceTypes, generate_account_sas,
                                generate_blob_sas)
from azure.storage.queue import QueueServiceClient

CONN = os.environ.get("LAPIS_HTTPS_CONNECTION_STRING")
CA = os.environ.get("LAPIS_HTTPS_CA")
if not CONN or not CA:
    # A suite that silently skips looks green in CI; refuse to run instead.
    raise RuntimeError("LAPIS_HTTPS_CONNECTION_STRING and LAPIS_HTTPS_CA are not set: run conformance/https/run.sh")

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CPK_KEY = os.urandom(32)
CPK = CustomerProvidedEncryptionKey(
    key_value=base64.b64encode(CPK_KEY).decode(),
    key_hash=base64.b64encode(hashlib.sha256(CPK_KEY).digest()).decode(),
)


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@pytest.fixture
def blob_service():
    return BlobServiceClient.from_connection_string(CONN, connection_verify=CA, retry_total=0)


@pytest.fixture
def container(blob_service):
    client = blob_service.create_container(unique("https"))
    yield client
    client.delete_container()


def test_the_connection_string_is_https():
    assert "DefaultEndpointsProtocol=https" in CONN
    assert "BlobEndpoint=https://" in CONN


def test_blob_upload_and_download(container):
    blob = container.get_blob_client("hello.txt")
    blob.upload_blob(b"hello over TLS")
    assert blob.download_blob().readall() == b"hello over TLS"
    assert blob.url.startswith("https://")


def test_customer_provided_key_round_trip(container):
    blob = container.get_blob_client("cpk.bin")
    data = os.urandom(5000)
    blob.upload_blob(data, cpk=CPK)
    assert blob.download_blob(cpk=CPK).readall() == data
    props = blob.get_blob_properties(cpk=CPK)
    assert props.server_encrypted
    assert props.encryption_key_sha256 == CPK.key_hash
    # Without the key the content stays unreadable.
    with pytest.raises(Exception) as refused:
        blob.download_blob().readall()
    assert getattr(refused.value, "status_code", None) == 409


def test_sas_for_https_only(container):
    blob = container.get_blob_client("sas.txt")
    blob.upload_blob(b"https only")
    sas = generate_blob_sas(ACCOUNT, container.container_name, "sas.txt", account_key=KEY,
                            permission=BlobSasPermissions(read=True), protocol="https",
                            expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    assert "spr=https" in sas
    resp = requests.get(f"{blob.url}?{sas}", verify=CA, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.content == b"https only"


def test_listing_names_the_https_endpoint(blob_service, container):
    endpoint = blob_service.url.rstrip("/")
    sas = generate_account_sas(ACCOUNT, KEY, ResourceTypes(service=True), AccountSasPermissions(list=True),
                               expiry=datetime.now(timezone.utc) + timedelta(hours=1), protocol="https")
    resp = requests.get(f"{endpoint}?comp=list&prefix={container.container_name}&{sas}", verify=CA, timeout=30)
    assert resp.status_code == 200, resp.text
    assert f'ServiceEndpoint="{endpoint}/"' in resp.text
    assert endpoint.startswith("https://")


def test_table_insert_and_get():
    service = TableServiceClient.from_connection_string(CONN, connection_verify=CA, retry_total=0)
    table = service.create_table(unique("https"))
    try:
        table.create_entity({"PartitionKey": "p", "RowKey": "r", "Value": 42})
        got = table.get_entity("p", "r")
        assert got["Value"] == 42
        assert table.url.startswith("https://")
    finally:
        service.delete_table(table.table_name)


def test_queue_put_and_get():
    service = QueueServiceClient.from_connection_string(CONN, connection_verify=CA, retry_total=0)
    queue = service.create_queue(unique("https"))
    try:
        queue.send_message("hello over TLS")
        messages = list(queue.receive_messages())
        assert [m.content for m in messages] == ["hello over TLS"]
        queue.delete_message(messages[0])
    finally:
        service.delete_queue(queue.queue_name)
