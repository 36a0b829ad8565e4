"""Helpers of the Queue suite. The Queue service signs Shared Key requests exactly as Blob does (REST
reference "Authorize with Shared Key"), so raw requests reuse helpers.py's signer; this module adds
the Queue URLs, names, the XML of message lists and a status recorder for SDK calls."""

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import helpers

ACCOUNT = helpers.ACCOUNT
KEY = helpers.KEY
raw = helpers.raw
assert_error = helpers.assert_error

# 64 KiB: the largest message text Put Message and Update Message accept (version 2011-08-18 on).
MAX_MESSAGE_BYTES = 64 * 1024
SEVEN_DAYS = 7 * 24 * 3600


def connection_string(endpoint, account=ACCOUNT, key=KEY):
    return (
        "DefaultEndpointsProtocol=http;"
        f"AccountName={account};AccountKey={key};QueueEndpoint={endpoint};"
    )


def queue_name(prefix="q"):
    """Queue names are 3-63 lowercase letters, digits and single dashes."""
    return f"{prefix}{uuid.uuid4().hex[:20]}"


def now():
    return datetime.now(timezone.utc)


def parse_iso(value):
    """An ISO 8601 UTC time as Azure writes it (0 to 7 fractional digits, Z) to a datetime; a
    datetime passes through."""
    if isinstance(value, datetime):
        return value
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?Z", value)
    assert match, value
    parsed = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return parsed.replace(microsecond=int((match.group(2) or "0").ljust(7, "0")[:6]))


def parse_http_date(value):
    """An RFC 1123 date (Date header, InsertionTime, TimeNextVisible ...) to a UTC datetime."""
    return parsedate_to_datetime(value).astimezone(timezone.utc)


def messages_url(endpoint, queue, message_id=None, query=""):
    url = f"{endpoint}/{queue}/messages"
    if message_id is not None:
        url += f"/{message_id}"
    if query:
        url += "?" + query
    return url


def message_body(text):
    """A Put Message / Update Message body; `text` is put in as is (escape it yourself)."""
    return f"<QueueMessage><MessageText>{text}</MessageText></QueueMessage>".encode("utf-8")


def parse_messages(resp):
    """The <QueueMessage> entries of a QueueMessagesList body, each as {element name: text}."""
    root = ET.fromstring(resp.content.decode("utf-8-sig").strip())
    assert root.tag == "QueueMessagesList", resp.content[:300]
    return [{child.tag: (child.text or "") for child in message} for message in root.findall("QueueMessage")]


def error_message(resp):
    """The <Message> of an Azure XML error body."""
    root = ET.fromstring(resp.content.decode("utf-8-sig").strip())
    return root.findtext("Message")


class Statuses:
    """A raw_response_hook that records the HTTP status of every response an SDK call saw:
    `client.op(..., raw_response_hook=statuses)` then `statuses.last`."""

    def __init__(self):
        self.seen = []

    def __call__(self, response):
        self.seen.append(response.http_response.status_code)

    @property
    def last(self):
        return self.seen[-1]


def error_code(exc):
    """The Azure error code of an SDK HttpResponseError, as a plain string."""
    code = getattr(exc, "error_code", None) or exc.response.headers.get("x-ms-error-code")
    return getattr(code, "value", code)


def assert_sdk_error(excinfo, status, code):
    """A pytest.raises result is the Azure error `code` with `status`, the header agreeing."""
    exc = excinfo.value
    assert exc.status_code == status, (exc.status_code, str(exc)[:300])
    assert error_code(exc) == code, (error_code(exc), str(exc)[:300])
    assert exc.response.headers.get("x-ms-error-code") == code, exc.response.headers
