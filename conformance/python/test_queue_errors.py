"""Refused requests, sent raw (signed with Shared Key) where the SDK would refuse them itself: query
parameters out of range ("Get Messages", "Peek Messages", "Put Message", "Update Message"), missing
or malformed ones, malformed bodies, the shape of the XML error body, and authentication failures."""

import base64
import os

import pytest
import requests
from azure.core.exceptions import HttpResponseError

import helpers
import queue_helpers

NO_CODE_GAP = "refuses it with a bare 400 that has no error code"
BODY = queue_helpers.message_body("x")


def _messages(queue_url, query=""):
    return f"{queue_url}/messages" + (f"?{query}" if query else "")


# --- numofmessages: 1 to 32 for Get Messages and Peek Messages -----------------------------------

@pytest.mark.parametrize("query", [
    pytest.param("numofmessages=0", marks=pytest.mark.azurite_gap(NO_CODE_GAP)),
    "numofmessages=33",
    pytest.param("peekonly=true&numofmessages=0", marks=pytest.mark.azurite_gap(NO_CODE_GAP)),
    "peekonly=true&numofmessages=33",
])
def test_numofmessages_out_of_range(queue_url, queue, query):
    queue.send_message("present")
    resp = queue_helpers.raw("GET", _messages(queue_url, query))
    queue_helpers.assert_error(resp, 400, "OutOfRangeQueryParameterValue")
    # Nothing was dequeued by the refused request.
    assert queue.peek_messages()[0].dequeue_count == 0


def test_numofmessages_33_through_the_sdk(queue):
    """receive_messages passes messages_per_page through unchecked (peek_messages refuses 33 itself)."""
    queue.send_message("present")
    with pytest.raises(HttpResponseError) as e:
        list(queue.receive_messages(messages_per_page=33))
    queue_helpers.assert_sdk_error(e, 400, "OutOfRangeQueryParameterValue")


@pytest.mark.azurite_gap(NO_CODE_GAP)
def test_numofmessages_not_a_number(queue_url):
    resp = queue_helpers.raw("GET", _messages(queue_url, "numofmessages=many"))
    queue_helpers.assert_error(resp, 400, "InvalidQueryParameterValue")


@pytest.mark.parametrize("count", [1, 32])
def test_numofmessages_bounds_accepted(queue_url, queue, count):
    for i in range(33):
        queue.send_message(f"b{i}")
    for query in (f"peekonly=true&numofmessages={count}", f"numofmessages={count}&visibilitytimeout=60"):
        resp = queue_helpers.raw("GET", _messages(queue_url, query))
        assert resp.status_code == 200, resp.text
        assert len(queue_helpers.parse_messages(resp)) == count


# --- visibilitytimeout ---------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["0", "604801", "-1"])
def test_get_messages_visibility_timeout_out_of_range(queue_url, queue, value):
    """Get Messages: at least 1 second, at most 7 days."""
    queue.send_message("stays visible")
    resp = queue_helpers.raw("GET", _messages(queue_url, f"visibilitytimeout={value}"))
    queue_helpers.assert_error(resp, 400, "OutOfRangeQueryParameterValue")
    assert len(queue.peek_messages()) == 1


@pytest.mark.parametrize("value", ["-1", "604801"])
def test_put_message_visibility_timeout_out_of_range(queue_url, queue, value):
    """Put Message: 0 to 7 days."""
    resp = queue_helpers.raw("POST", _messages(queue_url, f"visibilitytimeout={value}"), data=BODY)
    queue_helpers.assert_error(resp, 400, "OutOfRangeQueryParameterValue")
    assert queue.get_queue_properties().approximate_message_count == 0


@pytest.mark.parametrize("value", ["-1", "604801"])
def test_update_message_visibility_timeout_out_of_range(queue_url, queue, value):
    """Update Message: 0 to 7 days."""
    sent = queue.send_message("x")
    resp = queue_helpers.raw("PUT", f"{queue_url}/messages/{sent.id}?popreceipt={sent.pop_receipt}"
                                    f"&visibilitytimeout={value}", data=BODY)
    queue_helpers.assert_error(resp, 400, "OutOfRangeQueryParameterValue")


def test_put_message_visibility_timeout_not_below_ttl(queue_url, queue):
    """Recorded on Azure: 400 InvalidQueryParameterValue, "messagettl must be greater than visibilitytimeout"."""
    resp = queue_helpers.raw("POST", _messages(queue_url, "visibilitytimeout=30&messagettl=30"), data=BODY)
    queue_helpers.assert_error(resp, 400, "InvalidQueryParameterValue")
    assert "visibilitytimeout" in resp.text
    resp = queue_helpers.raw("POST", _messages(queue_url, "visibilitytimeout=29&messagettl=30"), data=BODY)
    assert resp.status_code == 201, resp.text


# --- pop receipts and bodies ---------------------------------------------------------------------

@pytest.mark.azurite_gap("answers PopReceiptMismatch to a pop receipt that is not one at all")
def test_malformed_pop_receipt(queue_url, queue):
    """Recorded on Azure: 400 InvalidQueryParameterValue, "Invalid pop receipt format"."""
    sent = queue.send_message("x")
    resp = queue_helpers.raw("DELETE", f"{queue_url}/messages/{sent.id}?popreceipt=invalid")
    queue_helpers.assert_error(resp, 400, "InvalidQueryParameterValue")
    assert len(queue.peek_messages()) == 1


@pytest.mark.azurite_gap(NO_CODE_GAP)
@pytest.mark.parametrize("method", ["DELETE", "PUT"])
def test_missing_pop_receipt(queue_url, queue, method):
    sent = queue.send_message("x")
    query = "" if method == "DELETE" else "?visibilitytimeout=0"
    resp = queue_helpers.raw(method, f"{queue_url}/messages/{sent.id}{query}",
                             data=BODY if method == "PUT" else None)
    queue_helpers.assert_error(resp, 400, "MissingRequiredQueryParameter")


@pytest.mark.azurite_gap(NO_CODE_GAP)
def test_malformed_xml_body(queue_url, queue):
    resp = queue_helpers.raw("POST", _messages(queue_url), data=b"<QueueMessage><MessageText>oops</QueueMessage>")
    queue_helpers.assert_error(resp, 400, "InvalidXmlDocument")
    assert queue.peek_messages() == []


def test_body_without_message_text(queue_url, queue):
    resp = queue_helpers.raw("POST", _messages(queue_url), data=b"<QueueMessage></QueueMessage>")
    queue_helpers.assert_error(resp, 400, "InvalidXmlDocument")
    assert queue.peek_messages() == []


# --- error shape ---------------------------------------------------------------------------------

def test_error_body_shape(queue_endpoint):
    resp = queue_helpers.raw("GET", f"{queue_endpoint}/{queue_helpers.queue_name('none')}/messages?peekonly=true")
    queue_helpers.assert_error(resp, 404, "QueueNotFound")
    assert resp.headers["Content-Type"].startswith("application/xml")
    assert resp.headers["x-ms-request-id"]
    assert resp.headers["x-ms-version"]
    message = queue_helpers.error_message(resp)
    assert message.startswith("The specified queue does not exist.")
    assert f"RequestId:{resp.headers['x-ms-request-id']}" in message
    assert "\nTime:" in message


def test_not_found_head_has_code_header_only(queue_endpoint):
    resp = queue_helpers.raw("HEAD", f"{queue_endpoint}/{queue_helpers.queue_name('none')}?comp=metadata")
    assert resp.status_code == 404
    assert resp.headers["x-ms-error-code"] == "QueueNotFound"
    assert resp.content == b""


# --- authentication ------------------------------------------------------------------------------

@pytest.mark.azurite_gap("answers 403 AuthenticationFailed to a request without any credentials")
def test_request_without_credentials(queue_endpoint, queue_url, queue):
    """No Authorization and no SAS, at a version that knows bearer challenges (2019-12-12 on):
    401 NoAuthenticationInformation, for the account as for a queue and its messages."""
    headers = {"x-ms-version": helpers.API_VERSION}
    for url in (f"{queue_endpoint}/?comp=list", f"{queue_url}?comp=metadata", _messages(queue_url),
                _messages(queue_url, "peekonly=true")):
        queue_helpers.assert_error(requests.get(url, headers=headers, timeout=30), 401, "NoAuthenticationInformation")
    resp = requests.post(_messages(queue_url), headers=headers, data=BODY, timeout=30)
    queue_helpers.assert_error(resp, 401, "NoAuthenticationInformation")
    assert queue.peek_messages() == []


def test_wrong_account_key(queue_url, queue):
    wrong = base64.b64encode(os.urandom(64)).decode()
    resp = queue_helpers.raw("GET", _messages(queue_url, "peekonly=true"), key=wrong)
    queue_helpers.assert_error(resp, 403, "AuthenticationFailed")
    resp = queue_helpers.raw("POST", _messages(queue_url), data=BODY, key=wrong)
    queue_helpers.assert_error(resp, 403, "AuthenticationFailed")
    assert queue.peek_messages() == []


def test_tampered_request_refused(queue_url, queue):
    """The signature covers the query: changing it after signing must break the request."""
    url = _messages(queue_url, "numofmessages=1&visibilitytimeout=30")
    headers = {}
    helpers.sign("GET", url, headers)
    resp = requests.get(url.replace("numofmessages=1", "numofmessages=2"), headers=headers, timeout=30)
    queue_helpers.assert_error(resp, 403, "AuthenticationFailed")
