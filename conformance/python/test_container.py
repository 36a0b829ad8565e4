"""Container operations: create, properties, metadata, ACL, delete, names."""

import time
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import AccessPolicy, ContainerSasPermissions, PublicAccess

import helpers


def _utc(dt):
    return dt.replace(microsecond=0, tzinfo=timezone.utc)


def test_create_with_metadata_and_public_access(service, container_name):
    client = service.create_container(container_name, metadata={"owner": "lapis", "n": "1"},
                                      public_access=PublicAccess.Blob)
    try:
        props = client.get_container_properties()
        assert props.name == container_name
        assert props.metadata == {"owner": "lapis", "n": "1"}
        assert props.public_access == "blob"
        assert props.etag.startswith('"0x') and props.etag.endswith('"')
        assert props.last_modified is not None
        assert client.get_container_access_policy()["public_access"] == "blob"
    finally:
        client.delete_container()


def test_create_with_container_public_access(service, container_name):
    client = service.create_container(container_name, public_access=PublicAccess.Container)
    try:
        assert client.get_container_properties().public_access == "container"
    finally:
        client.delete_container()


def test_private_container_has_no_public_access(container):
    assert container.get_container_properties().public_access is None
    assert container.get_container_access_policy()["public_access"] is None


def test_create_twice_conflicts(service, container):
    with pytest.raises(ResourceExistsError) as e:
        service.create_container(container.container_name)
    assert e.value.status_code == 409
    assert e.value.error_code == "ContainerAlreadyExists"


def test_missing_container_properties_404(service):
    with pytest.raises(ResourceNotFoundError) as e:
        service.get_container_client(helpers.unique_name("missing")).get_container_properties()
    assert e.value.status_code == 404
    assert e.value.error_code == "ContainerNotFound"


def test_missing_container_raw_error_body(endpoint):
    resp = helpers.raw("GET", f"{endpoint}/{helpers.unique_name('missing')}?restype=container&comp=list")
    helpers.assert_error(resp, 404, "ContainerNotFound")


def test_set_metadata_replaces_and_changes_etag(container):
    container.set_container_metadata({"a": "1", "b": "2"})
    first = container.get_container_properties()
    assert first.metadata == {"a": "1", "b": "2"}
    time.sleep(1)
    container.set_container_metadata({"c": "3"})
    second = container.get_container_properties()
    assert second.metadata == {"c": "3"}
    assert second.etag != first.etag
    container.set_container_metadata({})
    assert container.get_container_properties().metadata == {}


def test_set_metadata_missing_container(service):
    with pytest.raises(ResourceNotFoundError) as e:
        service.get_container_client(helpers.unique_name("missing")).set_container_metadata({"a": "b"})
    assert e.value.error_code == "ContainerNotFound"


def test_metadata_names_are_case_insensitive_and_keep_case(container):
    container.set_container_metadata({"MixedCase": "v"})
    assert container.get_container_properties().metadata == {"MixedCase": "v"}


def test_invalid_metadata_name_rejected(service, container_name):
    with pytest.raises(HttpResponseError) as e:
        service.create_container(container_name, metadata={"1bad": "x"})
    assert e.value.status_code == 400
    assert e.value.error_code == "InvalidMetadata"


def test_acl_round_trip(container):
    start = _utc(datetime.now(timezone.utc) - timedelta(hours=1))
    expiry = _utc(datetime.now(timezone.utc) + timedelta(days=1))
    policies = {
        "read-only": AccessPolicy(permission=ContainerSasPermissions(read=True, list=True),
                                  start=start, expiry=expiry),
        "writer": AccessPolicy(permission="rwdl", expiry=expiry),
    }
    container.set_container_access_policy(signed_identifiers=policies, public_access="container")
    got = container.get_container_access_policy()
    assert got["public_access"] == "container"
    by_id = {s.id: s.access_policy for s in got["signed_identifiers"]}
    assert set(by_id) == {"read-only", "writer"}
    assert by_id["read-only"].permission == "rl"
    assert by_id["writer"].permission == "rwdl"
    assert _as_datetime(by_id["read-only"].start) == start
    assert _as_datetime(by_id["read-only"].expiry) == expiry
    assert _as_datetime(by_id["writer"].expiry) == expiry


def _as_datetime(value):
    if isinstance(value, datetime):
        return _utc(value)
    text = value.rstrip("Z").split(".")[0]
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)


def test_acl_replace_removes_policies_and_public_access(container):
    container.set_container_access_policy(
        signed_identifiers={"p": AccessPolicy(permission="r",
                                              expiry=datetime.now(timezone.utc) + timedelta(hours=1))},
        public_access="blob")
    container.set_container_access_policy(signed_identifiers={})
    got = container.get_container_access_policy()
    assert got["signed_identifiers"] == []
    assert got["public_access"] is None


def _acl_body(count, id_len=8):
    expiry = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    items = "".join(
        f"<SignedIdentifier><Id>{str(i) * id_len if id_len else ''}</Id><AccessPolicy>"
        f"<Expiry>{expiry}</Expiry><Permission>r</Permission></AccessPolicy></SignedIdentifier>"
        for i in range(count)
    )
    return f'<?xml version="1.0" encoding="utf-8"?><SignedIdentifiers>{items}</SignedIdentifiers>'.encode()


@pytest.mark.azurite_gap("accepts more than five signed identifiers")
def test_acl_more_than_five_policies_rejected(endpoint, container):
    # The SDK refuses this client-side, so send it raw. Recorded: 400 InvalidXmlDocument.
    resp = helpers.raw("PUT", f"{endpoint}/{container.container_name}?restype=container&comp=acl",
                       headers={"Content-Type": "application/xml"}, data=_acl_body(6))
    helpers.assert_error(resp, 400, "InvalidXmlDocument")


def test_acl_five_policies_accepted(endpoint, container):
    resp = helpers.raw("PUT", f"{endpoint}/{container.container_name}?restype=container&comp=acl",
                       headers={"Content-Type": "application/xml"}, data=_acl_body(5))
    assert resp.status_code == 200, resp.text
    assert len(container.get_container_access_policy()["signed_identifiers"]) == 5


@pytest.mark.azurite_gap("accepts signed identifier ids longer than 64 characters")
def test_acl_identifier_too_long_rejected(endpoint, container):
    resp = helpers.raw("PUT", f"{endpoint}/{container.container_name}?restype=container&comp=acl",
                       headers={"Content-Type": "application/xml"}, data=_acl_body(1, id_len=65))
    helpers.assert_error(resp, 400, "InvalidXmlDocument")


def test_delete_then_404(service, container_name):
    client = service.create_container(container_name)
    client.delete_container()
    with pytest.raises(ResourceNotFoundError) as e:
        client.get_container_properties()
    assert e.value.error_code == "ContainerNotFound"
    with pytest.raises(ResourceNotFoundError) as e:
        client.delete_container()
    assert e.value.status_code == 404
    assert e.value.error_code == "ContainerNotFound"


def test_delete_if_modified_since(service, container_name):
    client = service.create_container(container_name)
    modified = client.get_container_properties().last_modified
    try:
        with pytest.raises(HttpResponseError) as e:
            client.delete_container(if_modified_since=modified + timedelta(minutes=10))
        assert e.value.status_code == 412
        assert e.value.error_code == "ConditionNotMet"
        with pytest.raises(HttpResponseError) as e:
            client.delete_container(if_unmodified_since=modified - timedelta(minutes=10))
        assert e.value.status_code == 412
        assert e.value.error_code == "ConditionNotMet"
        client.delete_container(if_modified_since=modified - timedelta(minutes=10))
    except BaseException:
        client.delete_container()
        raise
    with pytest.raises(ResourceNotFoundError):
        client.get_container_properties()


def test_delete_if_unmodified_since_passes(service, container_name):
    client = service.create_container(container_name)
    modified = client.get_container_properties().last_modified
    client.delete_container(if_unmodified_since=modified + timedelta(minutes=10))
    with pytest.raises(ResourceNotFoundError):
        client.get_container_properties()


@pytest.mark.parametrize("name", [
    "UPPERCASE",        # uppercase letters
    "double--dash",     # consecutive dashes
    "-leadingdash",     # must start with a letter or digit
    "under_score",      # only letters, digits, dashes
])
def test_invalid_container_names(service, name):
    with pytest.raises(HttpResponseError) as e:
        service.create_container(name)
    assert e.value.status_code == 400
    assert e.value.error_code == "InvalidResourceName"


# A name outside 3..63 characters is a length error: Azure answers OutOfRangeInput
# ("The specified resource name length is not within the permissible limits").
@pytest.mark.parametrize("name", ["ab", "a" * 64])
def test_container_name_length_out_of_range(service, name):
    with pytest.raises(HttpResponseError) as e:
        service.create_container(name)
    assert e.value.status_code == 400
    assert e.value.error_code == "OutOfRangeInput"


@pytest.mark.parametrize("name", ["abc", "a" * 63, "with-dash-9"])
def test_valid_container_name_edges(service, name):
    try:
        service.delete_container(name)
    except ResourceNotFoundError:
        pass
    client = service.create_container(name)
    client.delete_container()
