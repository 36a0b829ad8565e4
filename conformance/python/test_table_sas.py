"""Table SAS (permissions r/a/u/d, PartitionKey/RowKey ranges) and account SAS, through the SDK's
generate_table_sas / generate_account_sas (REST reference "Create a service SAS", Table form)."""

from datetime import datetime, timedelta, timezone

import pytest
from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential
from azure.core.exceptions import HttpResponseError
from azure.data.tables import (AccountSasPermissions, ResourceTypes, TableClient, TableSasPermissions,
                               TableServiceClient, UpdateMode, generate_account_sas, generate_table_sas)

import table_helpers as th
from table_conftest_fixtures import *  # noqa: F401,F403

CRED = AzureNamedKeyCredential(th.ACCOUNT, th.KEY)


def _expiry():
    return datetime.now(timezone.utc) + timedelta(hours=1)


def _sas_table(table_endpoint, name, **kwargs):
    token = generate_table_sas(CRED, name, expiry=_expiry(), **kwargs)
    return TableClient(endpoint=table_endpoint, table_name=name, credential=AzureSasCredential(token))


def _denied(call):
    with pytest.raises(HttpResponseError) as exc:
        call()
    assert exc.value.status_code == 403, exc.value
    return exc.value


def test_permissions_each_allow_only_their_operation(table_endpoint, table):
    table.create_entity({"PartitionKey": "p", "RowKey": "seed", "V": 0})
    name = table.table_name
    read = _sas_table(table_endpoint, name, permission=TableSasPermissions(read=True))
    assert read.get_entity("p", "seed")["V"] == 0
    assert len(list(read.list_entities())) == 1
    _denied(lambda: read.create_entity({"PartitionKey": "p", "RowKey": "r1"}))

    add = _sas_table(table_endpoint, name, permission=TableSasPermissions(add=True))
    add.create_entity({"PartitionKey": "p", "RowKey": "added"})
    _denied(lambda: add.get_entity("p", "seed"))
    _denied(lambda: add.delete_entity("p", "seed"))

    update = _sas_table(table_endpoint, name, permission=TableSasPermissions(update=True))
    update.update_entity({"PartitionKey": "p", "RowKey": "seed", "V": 1}, mode=UpdateMode.MERGE)
    _denied(lambda: update.get_entity("p", "seed"))

    delete = _sas_table(table_endpoint, name, permission=TableSasPermissions(delete=True))
    _denied(lambda: delete.update_entity({"PartitionKey": "p", "RowKey": "seed", "V": 2}))
    delete.delete_entity("p", "added")
    assert [(e["RowKey"], e["V"]) for e in table.list_entities()] == [("seed", 1)]


@pytest.mark.azurite_gap("Azurite ignores the spk/srk/epk/erk ranges of a table SAS")
def test_key_ranges(table_endpoint, table):
    for pk in ("a", "m", "z"):
        table.create_entity({"PartitionKey": pk, "RowKey": "1"})
    ranged = _sas_table(table_endpoint, table.table_name, permission=TableSasPermissions(read=True, add=True),
                        start_pk="b", start_rk="0", end_pk="n", end_rk="9")
    assert ranged.get_entity("m", "1")["PartitionKey"] == "m"
    _denied(lambda: ranged.get_entity("a", "1"))
    _denied(lambda: ranged.create_entity({"PartitionKey": "z", "RowKey": "2"}))
    ranged.create_entity({"PartitionKey": "c", "RowKey": "2"})
    # A query returns only the range.
    assert sorted(e["PartitionKey"] for e in ranged.list_entities()) == ["c", "m"]


def test_sas_for_another_table_is_refused(table_endpoint, table, table_service):
    other = table_service.create_table(th.table_name("other"))
    try:
        token = generate_table_sas(CRED, other.table_name, permission=TableSasPermissions(read=True),
                                   expiry=_expiry())
        wrong = TableClient(endpoint=table_endpoint, table_name=table.table_name,
                            credential=AzureSasCredential(token))
        _denied(lambda: list(wrong.list_entities()))
    finally:
        table_service.delete_table(other.table_name)


def test_expired_sas_is_refused(table_endpoint, table):
    token = generate_table_sas(CRED, table.table_name, permission=TableSasPermissions(read=True),
                               expiry=datetime.now(timezone.utc) - timedelta(minutes=5))
    client = TableClient(endpoint=table_endpoint, table_name=table.table_name, credential=AzureSasCredential(token))
    _denied(lambda: list(client.list_entities()))


def test_account_sas(table_endpoint):
    token = generate_account_sas(CRED, resource_types=ResourceTypes(service=True, container=True, object=True),
                                 permission=AccountSasPermissions(read=True, write=True, list=True, create=True,
                                                                  add=True, update=True, delete=True),
                                 expiry=_expiry())
    service = TableServiceClient(endpoint=table_endpoint, credential=AzureSasCredential(token))
    name = th.table_name("acct")
    client = service.create_table(name)
    try:
        client.create_entity({"PartitionKey": "p", "RowKey": "r", "V": 1})
        assert client.get_entity("p", "r")["V"] == 1
        assert name in [t.name for t in service.query_tables(f"TableName eq '{name}'")]
    finally:
        service.delete_table(name)
    read_only = generate_account_sas(CRED, resource_types=ResourceTypes(service=True, container=True, object=True),
                                     permission=AccountSasPermissions(read=True, list=True), expiry=_expiry())
    limited = TableServiceClient(endpoint=table_endpoint, credential=AzureSasCredential(read_only))
    _denied(lambda: limited.create_table(th.table_name("deny")))


@pytest.mark.azurite_gap("lets a table SAS with d delete the whole table")
def test_table_sas_cannot_delete_the_table_or_touch_its_acl(table_endpoint, table, table_url):
    """"Tables can't be created, deleted, or listed" with a table SAS, and its ACL is the account
    owner's: 403 AuthorizationFailure, the table and every partition intact."""
    table.create_entity({"PartitionKey": "m", "RowKey": "in-range"})
    table.create_entity({"PartitionKey": "z", "RowKey": "outside"})
    name = table.table_name
    token = generate_table_sas(CRED, name, expiry=_expiry(),
                               permission=TableSasPermissions(read=True, add=True, update=True, delete=True),
                               start_pk="m", end_pk="m")
    base = table_url[:table_url.rindex("/")]
    for method, url, body in (("DELETE", f"{base}/Tables('{name}')", None),
                              ("GET", f"{base}/{name}?comp=acl", None),
                              ("PUT", f"{base}/{name}?comp=acl", "<?xml version=\"1.0\" encoding=\"utf-8\"?><SignedIdentifiers />")):
        resp = th.raw(method, f"{url}{'&' if '?' in url else '?'}{token}", {"Accept": th.JSON_MINIMAL}, body,
                      signed=False)
        assert resp.status_code == 403, (method, url, resp.status_code, resp.text)
        assert resp.headers.get("x-ms-error-code") == "AuthorizationFailure", resp.text
    assert {e["RowKey"] for e in table.list_entities()} == {"in-range", "outside"}


@pytest.mark.azurite_gap("lets a SAS with only a or only u upsert")
def test_upsert_needs_add_and_update(table_endpoint, table):
    name = table.table_name
    for perms in (TableSasPermissions(add=True), TableSasPermissions(update=True)):
        client = _sas_table(table_endpoint, name, permission=perms)
        _denied(lambda: client.upsert_entity({"PartitionKey": "p", "RowKey": "u"}, mode=UpdateMode.MERGE))
        _denied(lambda: client.upsert_entity({"PartitionKey": "p", "RowKey": "u"}, mode=UpdateMode.REPLACE))
    both = _sas_table(table_endpoint, name, permission=TableSasPermissions(add=True, update=True))
    both.upsert_entity({"PartitionKey": "p", "RowKey": "u"}, mode=UpdateMode.MERGE)
    both.upsert_entity({"PartitionKey": "p", "RowKey": "u"}, mode=UpdateMode.REPLACE)


@pytest.mark.azurite_gap("does not check the sub-requests of a batch against the SAS")
def test_batch_through_a_table_sas_checks_each_operation(table_endpoint, table):
    """$batch names no table in its URL: each sub-request is authorised against the SAS."""
    name = table.table_name
    client = _sas_table(table_endpoint, name, permission=TableSasPermissions(add=True, update=True))
    client.submit_transaction([("create", {"PartitionKey": "b", "RowKey": "1"}),
                               ("upsert", {"PartitionKey": "b", "RowKey": "2"})])
    assert {e["RowKey"] for e in table.list_entities()} == {"1", "2"}
    add_only = _sas_table(table_endpoint, name, permission=TableSasPermissions(add=True))
    with pytest.raises(Exception):
        add_only.submit_transaction([("create", {"PartitionKey": "b", "RowKey": "3"}),
                                     ("delete", {"PartitionKey": "b", "RowKey": "1"})])
    assert {e["RowKey"] for e in table.list_entities()} == {"1", "2"}
