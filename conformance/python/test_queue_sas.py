"""Shared access signatures on the Queue service ("Create a service SAS", "Create an account SAS")
and stored access policies (Set Queue ACL).

Queue service SAS permissions: r reads metadata and properties and peeks; a adds messages; u
updates them; p gets and deletes them. Anything else is refused with 403
AuthorizationPermissionMismatch. An account SAS must name the queue service (ss=q)."""

from datetime import timedelta

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.queue import (
    AccessPolicy,
    AccountSasPermissions,
    QueueClient,
    QueueSasPermissions,
    QueueServiceClient,
    ResourceTypes,
    Services,
    generate_account_sas,
    generate_queue_sas,
)

import queue_helpers

ACCOUNT, KEY = queue_helpers.ACCOUNT, queue_helpers.KEY


def _in(hours):
    return queue_helpers.now() + timedelta(hours=hours)


def _sas_queue(queue_endpoint, name, sas):
    return QueueClient.from_queue_url(f"{queue_endpoint}/{name}?{sas}")


def _queue_sas(queue, **kwargs):
    kwargs.setdefault("expiry", _in(1))
    return generate_queue_sas(ACCOUNT, queue.queue_name, KEY, **kwargs)


def _refused(call, status, *codes):
    with pytest.raises(HttpResponseError) as e:
        call()
    assert e.value.status_code == status, str(e.value)[:300]
    assert queue_helpers.error_code(e.value) in codes, str(e.value)[:300]


# --- one permission at a time --------------------------------------------------------------------

def _message_operations(owner, client):
    """Each operation a queue SAS may grant, run through `client`; `owner` (Shared Key) prepares
    what the operation needs."""
    def update():
        sent = owner.send_message("to update")
        client.update_message(sent.id, sent.pop_receipt, "updated", visibility_timeout=0)

    def delete():
        sent = owner.send_message("to delete")
        client.delete_message(sent.id, sent.pop_receipt)

    return {
        "get_queue_properties": client.get_queue_properties,
        "peek_messages": client.peek_messages,
        "send_message": lambda: client.send_message("added"),
        "update_message": update,
        "receive_message": lambda: client.receive_message(visibility_timeout=1),
        "delete_message": delete,
    }


ALLOWED = {
    "r": {"get_queue_properties", "peek_messages"},
    "a": {"send_message"},
    "u": {"update_message"},
    "p": {"receive_message", "delete_message"},
    "raup": {"get_queue_properties", "peek_messages", "send_message", "update_message", "receive_message",
             "delete_message"},
}


@pytest.mark.parametrize("permission", list(ALLOWED))
def test_queue_sas_permission_allows_exactly_its_operations(queue_endpoint, queue, permission):
    queue.send_message("seed")
    client = _sas_queue(queue_endpoint, queue.queue_name, _queue_sas(queue, permission=permission))
    for name, call in _message_operations(queue, client).items():
        if name in ALLOWED[permission]:
            call()
        else:
            _refused(call, 403, "AuthorizationPermissionMismatch")


def test_queue_sas_reads_count_and_metadata(queue_endpoint, queue):
    queue.set_queue_metadata({"owner": "ops"})
    queue.send_message("one")
    queue.send_message("two")
    client = _sas_queue(queue_endpoint, queue.queue_name, _queue_sas(queue, permission="r"))
    props = client.get_queue_properties()
    assert props.metadata == {"owner": "ops"}
    assert props.approximate_message_count == 2
    assert [m.content for m in client.peek_messages(max_messages=32)] == ["one", "two"]


def test_queue_sas_process_receives_and_deletes(queue_endpoint, queue):
    queue.send_message("job")
    sas = _queue_sas(queue, permission=QueueSasPermissions(process=True))
    client = _sas_queue(queue_endpoint, queue.queue_name, sas)
    got = client.receive_message(visibility_timeout=60)
    assert got.content == "job"
    client.delete_message(got)
    assert queue.peek_messages() == []


def test_queue_sas_cannot_manage_the_queue(queue_endpoint, queue):
    """Clearing, metadata, ACLs, deleting and creating queues are the account owner's."""
    client = _sas_queue(queue_endpoint, queue.queue_name, _queue_sas(queue, permission="raup"))
    calls = [client.clear_messages, lambda: client.set_queue_metadata({"a": "b"}),
             client.get_queue_access_policy, lambda: client.set_queue_access_policy({}), client.delete_queue]
    for call in calls:
        _refused(call, 403, "AuthorizationPermissionMismatch", "AuthorizationFailure")
    queue.get_queue_properties()


def test_queue_sas_is_bound_to_its_queue(queue_endpoint, queue, queue_service):
    other = queue_service.create_queue(queue_helpers.queue_name("other"))
    try:
        sas = _queue_sas(queue, permission="raup")
        _refused(lambda: _sas_queue(queue_endpoint, other.queue_name, sas).send_message("x"),
                 403, "AuthenticationFailed")
        assert other.peek_messages() == []
    finally:
        other.delete_queue()


def test_expired_queue_sas(queue_endpoint, queue):
    queue.send_message("x")
    sas = _queue_sas(queue, permission="raup", start=_in(-2), expiry=_in(-1))
    _refused(_sas_queue(queue_endpoint, queue.queue_name, sas).peek_messages, 403, "AuthenticationFailed")


def test_not_yet_valid_queue_sas(queue_endpoint, queue):
    sas = _queue_sas(queue, permission="raup", start=_in(1), expiry=_in(2))
    _refused(_sas_queue(queue_endpoint, queue.queue_name, sas).peek_messages, 403, "AuthenticationFailed")


def test_tampered_queue_sas(queue_endpoint, queue):
    sas = _queue_sas(queue, permission="r")
    tampered = sas.replace("sp=r", "sp=raup")
    assert tampered != sas
    _refused(lambda: _sas_queue(queue_endpoint, queue.queue_name, tampered).send_message("x"),
             403, "AuthenticationFailed")


# --- stored access policies ----------------------------------------------------------------------

def test_sas_bound_to_a_stored_access_policy(queue_endpoint, queue):
    """Works while the policy exists, stops when it is removed. (Azure may take up to 30 seconds
    to apply an ACL change; an emulator applies it at once.)"""
    queue.send_message("policy")
    queue.set_queue_access_policy({"workers": AccessPolicy(permission="rp", start=_in(-0.1), expiry=_in(1))})
    sas = generate_queue_sas(ACCOUNT, queue.queue_name, KEY, policy_id="workers")
    client = _sas_queue(queue_endpoint, queue.queue_name, sas)
    assert [m.content for m in client.peek_messages()] == ["policy"]
    got = client.receive_message(visibility_timeout=60)
    client.delete_message(got)
    _refused(lambda: client.send_message("x"), 403, "AuthorizationPermissionMismatch")
    queue.send_message("after")
    queue.set_queue_access_policy({})
    _refused(client.peek_messages, 403, "AuthenticationFailed")
    _refused(lambda: client.receive_message(), 403, "AuthenticationFailed")
    assert [m.content for m in queue.peek_messages()] == ["after"]


def test_sas_with_unknown_policy(queue_endpoint, queue):
    sas = generate_queue_sas(ACCOUNT, queue.queue_name, KEY, policy_id="ghost")
    _refused(_sas_queue(queue_endpoint, queue.queue_name, sas).peek_messages, 403, "AuthenticationFailed")


def test_expired_stored_access_policy(queue_endpoint, queue):
    queue.set_queue_access_policy({"old": AccessPolicy(permission="r", start=_in(-2), expiry=_in(-1))})
    sas = generate_queue_sas(ACCOUNT, queue.queue_name, KEY, policy_id="old")
    _refused(_sas_queue(queue_endpoint, queue.queue_name, sas).peek_messages, 403, "AuthenticationFailed")


# --- account SAS ---------------------------------------------------------------------------------

def _account_sas(services="q", resource_types="sco", permission="rwdlacup", **kwargs):
    kwargs.setdefault("expiry", _in(1))
    return generate_account_sas(ACCOUNT, KEY, resource_types=resource_types, permission=permission,
                                services=services, **kwargs)


def test_account_sas_for_the_queue_service(queue_endpoint):
    client = QueueServiceClient(account_url=queue_endpoint, credential=_account_sas(
        services=Services(queue=True), resource_types=ResourceTypes(service=True, container=True, object=True),
        permission=AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True,
                                         update=True, process=True)))
    name = queue_helpers.queue_name("acct")
    queue = client.create_queue(name, metadata={"via": "account-sas"})
    try:
        assert name in [q.name for q in client.list_queues(name_starts_with=name)]
        queue.send_message("hello")
        got = queue.receive_message(visibility_timeout=60)
        assert got.content == "hello"
        queue.delete_message(got)
        assert queue.get_queue_properties().metadata == {"via": "account-sas"}
        client.get_service_properties()
    finally:
        client.delete_queue(name)


@pytest.mark.parametrize("services", ["b", "bft"])
def test_account_sas_for_other_services(queue_endpoint, queue, services):
    """Recorded on Azure: 403 AuthorizationServiceMismatch."""
    sas = _account_sas(services=services)
    client = QueueServiceClient(account_url=queue_endpoint, credential=sas)
    _refused(lambda: list(client.list_queues()), 403, "AuthorizationServiceMismatch")
    _refused(lambda: _sas_queue(queue_endpoint, queue.queue_name, sas).send_message("x"),
             403, "AuthorizationServiceMismatch")
    assert queue.peek_messages() == []


def test_account_sas_resource_type_mismatch(queue_endpoint, queue):
    """Recorded on Azure: 403 AuthorizationResourceTypeMismatch. Messages are objects (o), a queue's
    metadata is the container level (c), list queues and service properties the service (s)."""
    object_only = _account_sas(resource_types="o")
    _sas_queue(queue_endpoint, queue.queue_name, object_only).send_message("object level")
    _refused(_sas_queue(queue_endpoint, queue.queue_name, object_only).get_queue_properties,
             403, "AuthorizationResourceTypeMismatch")
    service_only = QueueServiceClient(account_url=queue_endpoint, credential=_account_sas(resource_types="s"))
    service_only.get_service_properties()
    _refused(lambda: service_only.get_queue_client(queue.queue_name).send_message("x"),
             403, "AuthorizationResourceTypeMismatch")


def test_account_sas_permission_mismatch(queue_endpoint, queue):
    """Recorded on Azure: 403 AuthorizationPermissionMismatch."""
    queue.send_message("readable")
    client = _sas_queue(queue_endpoint, queue.queue_name, _account_sas(permission="r"))
    assert [m.content for m in client.peek_messages()] == ["readable"]
    _refused(lambda: client.send_message("x"), 403, "AuthorizationPermissionMismatch")
    _refused(client.clear_messages, 403, "AuthorizationPermissionMismatch")


def test_expired_account_sas(queue_endpoint, queue):
    sas = _account_sas(start=_in(-2), expiry=_in(-1))
    _refused(_sas_queue(queue_endpoint, queue.queue_name, sas).peek_messages, 403, "AuthenticationFailed")
    client = QueueServiceClient(account_url=queue_endpoint, credential=sas)
    _refused(lambda: list(client.list_queues()), 403, "AuthenticationFailed")
