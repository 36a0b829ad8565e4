"""Azure's entity limits and their errors (REST reference "Understanding the Table service data
model": 252 custom properties, 64 KiB per property, 1 MiB per entity, key characters, property names).
Raw requests, because the SDK's own checks must not stand in for the server's."""

import pytest

import table_helpers as th
from table_conftest_fixtures import *  # noqa: F401,F403


def _insert(table_url, entity):
    return th.raw("POST", table_url, {"Accept": th.JSON_MINIMAL, "Prefer": "return-no-content"}, entity)


@pytest.mark.azurite_gap("Azurite stores a 253rd custom property")
def test_252_properties_allowed_253_refused(table_url):
    ok = {"PartitionKey": "p", "RowKey": "ok", **{f"P{i}": i for i in range(252)}}
    assert _insert(table_url, ok).status_code == 204
    too_many = {"PartitionKey": "p", "RowKey": "bad", **{f"P{i}": i for i in range(253)}}
    th.assert_table_error(_insert(table_url, too_many), 400, "TooManyProperties")


def test_string_property_too_large(table_url):
    # 64 KiB is the limit in bytes of UTF-16: 32K characters.
    ok = {"PartitionKey": "p", "RowKey": "ok", "S": "a" * 32 * 1024}
    assert _insert(table_url, ok).status_code == 204
    big = {"PartitionKey": "p", "RowKey": "big", "S": "a" * (32 * 1024 + 1)}
    th.assert_table_error(_insert(table_url, big), 400, "PropertyValueTooLarge")


@pytest.mark.azurite_gap("Azurite stores entities larger than 1 MiB")
def test_entity_too_large(table_url):
    # Twenty 60 KiB (UTF-16) binary properties: each under the property limit, together over 1 MiB.
    import base64
    blob = base64.b64encode(b"x" * 60 * 1024).decode()
    entity = {"PartitionKey": "p", "RowKey": "huge"}
    for i in range(20):
        entity[f"B{i}"] = blob
        entity[f"B{i}@odata.type"] = "Edm.Binary"
    th.assert_table_error(_insert(table_url, entity), 400, "EntityTooLarge")


@pytest.mark.parametrize("bad", ["a/b", "a\\b", "a#b", "a?b", "a\tb"])
def test_bad_key_characters(table_url, bad):
    resp = _insert(table_url, {"PartitionKey": bad, "RowKey": "r"})
    assert resp.status_code == 400, (bad, resp.status_code, resp.content[:300])
    resp = _insert(table_url, {"PartitionKey": "p", "RowKey": bad})
    assert resp.status_code == 400, (bad, resp.status_code, resp.content[:300])


def test_key_too_long(table_url):
    resp = _insert(table_url, {"PartitionKey": "p", "RowKey": "k" * 1025})
    assert resp.status_code == 400, resp.content[:300]


@pytest.mark.azurite_gap("Azurite accepts property names that are not C# identifiers")
@pytest.mark.parametrize("name", ["1abc", "has space", "has-dash"])
def test_invalid_property_name(table_url, name):
    th.assert_table_error(_insert(table_url, {"PartitionKey": "p", "RowKey": "r", name: 1}), 400,
                          "PropertyNameInvalid")


@pytest.mark.azurite_gap("Azurite accepts property names longer than 255 characters")
def test_property_name_too_long(table_url):
    th.assert_table_error(_insert(table_url, {"PartitionKey": "p", "RowKey": "r", "n" * 256: 1}), 400,
                          "PropertyNameTooLong")


def test_atom_format_refused(table_url):
    """AtomPub is not offered: Azure refuses an Atom body (415 or 400), never stores it."""
    atom = ('<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom"><content '
            'type="application/xml"/></entry>')
    resp = th.raw("POST", table_url, {"Content-Type": "application/atom+xml", "Accept": "application/atom+xml"}, atom)
    assert resp.status_code in (400, 415), (resp.status_code, resp.content[:300])
