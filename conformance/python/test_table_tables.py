"""Tables: create, delete, query (filter, paging), ACL, names, and Shared Key failures.
Evidence: recordings TestListTables, TestCreateTableFromService, TestSetTooManyAccessPolicies and the
REST reference (Create Table, Query Tables, Get/Set Table ACL, Table Storage error codes)."""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.data.tables import TableAccessPolicy, TableServiceClient

import table_helpers as th
from table_conftest_fixtures import *  # noqa: F401,F403


def test_create_query_delete_table(table_service, table_endpoint):
    name = th.table_name("life")
    created = table_service.create_table(name)
    try:
        assert created.table_name == name
        listed = [t.name for t in table_service.query_tables("TableName eq @n", parameters={"n": name})]
        assert listed == [name]
        # A second create is 409 TableAlreadyExists.
        with pytest.raises(ResourceExistsError) as exc:
            table_service.create_table(name)
        assert th.sdk_error_code(exc.value) == "TableAlreadyExists"
    finally:
        table_service.delete_table(name)
    assert [t.name for t in table_service.query_tables(f"TableName eq '{name}'")] == []
    # Deleting it again is 404 ResourceNotFound (the SDK hides a 404, so ask directly).
    resp = th.raw("DELETE", f"{table_endpoint}/Tables('{name}')", {"Accept": th.JSON_MINIMAL})
    th.assert_table_error(resp, 404, "ResourceNotFound")


@pytest.mark.azurite_gap("Azurite sends no Location header on Create Table")
def test_create_table_response_shape(table_service, table_endpoint):
    """TestCreateTableFromService: 201, Location Tables('name'), body with odata.metadata and TableName."""
    name = th.table_name("shape")
    resp = th.raw("POST", f"{table_endpoint}/Tables", {"Accept": th.JSON_MINIMAL}, {"TableName": name})
    try:
        assert resp.status_code == 201, resp.content
        assert resp.headers["Location"].endswith(f"/Tables('{name}')")
        body = resp.json()
        assert body["TableName"] == name
        assert body["odata.metadata"].endswith("$metadata#Tables/@Element")
        # return-no-content: 204 with the preference echoed.
        other = th.table_name("shape")
        resp = th.raw("POST", f"{table_endpoint}/Tables",
                      {"Accept": th.JSON_MINIMAL, "Prefer": "return-no-content"}, {"TableName": other})
        assert resp.status_code == 204, resp.content
        assert resp.headers.get("Preference-Applied") == "return-no-content"
        table_service.delete_table(other)
    finally:
        table_service.delete_table(name)


def test_query_tables_paging_with_continuation(table_service):
    prefix = th.table_name("pg")[:12]
    names = sorted(f"{prefix}{i:02d}" for i in range(7))
    for n in names:
        table_service.create_table(n)
    try:
        flt = f"TableName ge '{prefix}' and TableName lt '{prefix}z'"
        pages = list(table_service.query_tables(flt, results_per_page=3).by_page())
        sizes = [len(list(p)) for p in pages]
        assert sizes == [3, 3, 1]
        # Each table exactly once, in name order, across the continuation (NextTableName).
        seen = [t.name for t in table_service.query_tables(flt, results_per_page=3)]
        assert seen == names
    finally:
        for n in names:
            table_service.delete_table(n)


def test_query_tables_top_returns_continuation_header(table_service, table_endpoint):
    prefix = th.table_name("tp")[:12]
    names = [f"{prefix}{i}" for i in range(3)]
    for n in names:
        table_service.create_table(n)
    try:
        resp = th.raw("GET", f"{table_endpoint}/Tables?$top=2&$filter=TableName%20ge%20'{prefix}'"
                             f"%20and%20TableName%20lt%20'{prefix}z'", {"Accept": th.JSON_MINIMAL})
        assert resp.status_code == 200, resp.content
        assert [t["TableName"] for t in resp.json()["value"]] == names[:2]
        assert resp.headers["x-ms-continuation-NextTableName"]
    finally:
        for n in names:
            table_service.delete_table(n)


@pytest.mark.azurite_gap("Azurite's table-name errors carry an empty odata.error code")
@pytest.mark.parametrize("name,code", [
    ("1startsdigit", "InvalidResourceName"),
    ("has-dash", "InvalidResourceName"),
    ("ab", "OutOfRangeInput"),
    ("x" * 64, "OutOfRangeInput"),
])
def test_invalid_table_names(table_endpoint, name, code):
    """Alphanumeric, starting with a letter (InvalidResourceName), 3-63 characters (OutOfRangeInput:
    "The specified resource name length is not within the permissible limits")."""
    resp = th.raw("POST", f"{table_endpoint}/Tables", {"Accept": th.JSON_MINIMAL}, {"TableName": name})
    th.assert_table_error(resp, 400, code)


def test_missing_table_entity_ops_are_table_not_found(table_endpoint):
    url = f"{table_endpoint}/{th.table_name('nope')}"
    resp = th.raw("POST", url, {"Accept": th.JSON_MINIMAL}, {"PartitionKey": "p", "RowKey": "r"})
    th.assert_table_error(resp, 404, "TableNotFound")


def test_table_acl_round_trip(table):
    start = datetime(2030, 1, 1, tzinfo=timezone.utc)
    policies = {
        "read-only": TableAccessPolicy(permission="r", start=start, expiry=start + timedelta(days=1)),
        "all": TableAccessPolicy(permission="raud", start=start, expiry=start + timedelta(days=2)),
    }
    table.set_table_access_policy(policies)
    got = table.get_table_access_policy()
    assert set(got) == {"read-only", "all"}
    assert got["read-only"].permission == "r"
    assert got["all"].permission == "raud"
    assert got["all"].expiry.startswith("2030-01-03T00:00:00") if isinstance(got["all"].expiry, str) \
        else got["all"].expiry.replace(tzinfo=timezone.utc) == start + timedelta(days=2)
    # TestSetEmptyAccessPolicy: an empty set clears them.
    table.set_table_access_policy({})
    assert table.get_table_access_policy() == {}


def test_table_acl_too_many_policies(table_url):
    """TestSetTooManyAccessPolicies: six identifiers are refused (Azure: 400 InvalidXmlDocument)."""
    ids = "".join(
        f"<SignedIdentifier><Id>id{i}</Id><AccessPolicy><Start>2030-01-01T00:00:00Z</Start>"
        f"<Expiry>2030-01-02T00:00:00Z</Expiry><Permission>r</Permission></AccessPolicy></SignedIdentifier>"
        for i in range(6))
    body = f'<?xml version="1.0" encoding="utf-8"?><SignedIdentifiers>{ids}</SignedIdentifiers>'
    resp = th.raw("PUT", f"{table_url}?comp=acl", {"Content-Type": "application/xml"}, body)
    assert resp.status_code == 400, resp.content[:300]


@pytest.mark.azurite_gap("Azurite answers a bad signature with AuthorizationFailure")
def test_bad_signature_is_403_authentication_failed(table_endpoint):
    wrong_key = "A" * 86 + "=="
    resp = th.raw("GET", f"{table_endpoint}/Tables", {"Accept": th.JSON_MINIMAL}, key=wrong_key)
    assert resp.status_code == 403, resp.content[:300]
    assert th.any_error_code(resp) == "AuthenticationFailed", resp.content[:300]
    conn = th.connection_string(table_endpoint, key=wrong_key)
    with pytest.raises(HttpResponseError) as exc:
        list(TableServiceClient.from_connection_string(conn).list_tables())
    assert exc.value.status_code == 403


def test_shared_key_lite_accepted(table_endpoint):
    """Shared Key Lite, Table form: Date + CanonicalizedResource."""
    url = f"{table_endpoint}/Tables"
    date = th.helpers.http_date()
    resource = f"/{th.ACCOUNT}{urlsplit(url).path}"
    digest = hmac.new(base64.b64decode(th.KEY), f"{date}\n{resource}".encode(), hashlib.sha256).digest()
    headers = {"x-ms-date": date, "x-ms-version": th.API_VERSION, "Accept": th.JSON_MINIMAL,
               "Authorization": f"SharedKeyLite {th.ACCOUNT}:{base64.b64encode(digest).decode()}"}
    resp = th.raw("GET", url, headers, signed=False)
    assert resp.status_code == 200, resp.content[:300]


@pytest.mark.azurite_gap("ignores $select on Query Tables")
def test_query_tables_select(table, table_endpoint):
    url = f"{table_endpoint}/Tables?$filter=TableName%20eq%20'{table.table_name}'"
    resp = th.raw("GET", f"{url}&$select=TableName", {"Accept": th.JSON_NO})
    assert resp.json()["value"] == [{"TableName": table.table_name}]
    resp = th.raw("GET", f"{url}&$select=Other", {"Accept": th.JSON_NO})
    assert resp.status_code == 200 and resp.json()["value"] == [{}]
