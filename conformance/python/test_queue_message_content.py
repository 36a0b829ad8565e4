"""Message text: the 64 KiB limit (counted on the message text as sent, in UTF-8, after any encoding
the client applies, not on the XML-escaped request body), 413 RequestBodyTooLarge beyond it, and
exact round trips of Unicode, XML-special characters, whitespace and the empty message.

The SDK's default NoEncodePolicy sends the text as is (XML-escaped in the body); TextBase64EncodePolicy
sends base64 of its UTF-8, which is what then counts against the limit."""

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

import queue_helpers

LIMIT = queue_helpers.MAX_MESSAGE_BYTES


def _peek_one(queue):
    [message] = queue.peek_messages()
    return message


def _assert_too_large(excinfo):
    queue_helpers.assert_sdk_error(excinfo, 413, "RequestBodyTooLarge")


@pytest.fixture
def base64_queue(queue_conn_str, queue):
    return QueueClient.from_connection_string(
        queue_conn_str, queue.queue_name,
        message_encode_policy=TextBase64EncodePolicy(), message_decode_policy=TextBase64DecodePolicy())


# --- Size limit ----------------------------------------------------------------------------------

def test_64_kib_ascii_accepted_and_round_trips(queue):
    text = "a" * LIMIT
    queue.send_message(text)
    assert _peek_one(queue).content == text
    got = queue.receive_message()
    assert got.content == text


def test_one_byte_over_64_kib_refused(queue):
    with pytest.raises(HttpResponseError) as e:
        queue.send_message("a" * (LIMIT + 1))
    _assert_too_large(e)
    assert queue.peek_messages() == []


def test_too_large_raw_error_body(queue_url):
    resp = queue_helpers.raw("POST", f"{queue_url}/messages", data=queue_helpers.message_body("b" * (LIMIT + 1)))
    queue_helpers.assert_error(resp, 413, "RequestBodyTooLarge")


@pytest.mark.azurite_gap("refuses a text of exactly 64 KiB of multi-byte UTF-8 with 413")
def test_64_kib_of_multibyte_utf8_accepted(queue):
    # 2-, 3- and 4-byte characters (and one ASCII), 65,536 bytes of UTF-8 in all.
    text = "é" * 10000 + "漢" * 10000 + "😀" * 3883 + "a" * 4
    assert len(text.encode("utf-8")) == LIMIT
    queue.send_message(text)
    assert _peek_one(queue).content == text


def test_multibyte_utf8_over_64_kib_refused(queue):
    text = "é" * (LIMIT // 2) + "a"
    with pytest.raises(HttpResponseError) as e:
        queue.send_message(text)
    _assert_too_large(e)


def test_limit_counts_the_text_not_the_escaped_body(queue):
    """"<" and "&" travel as &lt; and &amp; (4-5 bytes each) but count as one byte of text."""
    text = ("<&>" * (LIMIT // 3)) + "x" * (LIMIT % 3)
    assert len(text) == LIMIT
    queue.send_message(text)
    assert _peek_one(queue).content == text


def test_limit_counts_the_base64_text(base64_queue):
    """With base64 the encoded text is what counts: 48 KiB of data encode to exactly 64 KiB."""
    data = "z" * (LIMIT * 3 // 4)
    base64_queue.send_message(data)
    assert base64_queue.peek_messages()[0].content == data
    with pytest.raises(HttpResponseError) as e:
        base64_queue.send_message(data + "z")
    _assert_too_large(e)


def test_update_over_64_kib_refused(queue):
    queue.send_message("small")
    got = queue.receive_message(visibility_timeout=60)
    with pytest.raises(HttpResponseError) as e:
        queue.update_message(got, content="u" * (LIMIT + 1), visibility_timeout=0)
    _assert_too_large(e)
    # Refused as a whole: the message keeps its text and stays invisible.
    assert queue.peek_messages() == []
    updated = queue.update_message(got, content="u" * LIMIT, visibility_timeout=0)
    assert updated.pop_receipt
    assert _peek_one(queue).content == "u" * LIMIT


# --- Characters ----------------------------------------------------------------------------------

ROUND_TRIPS = [
    "plain ascii",
    "日本語のメッセージ",
    "emoji 😀🎉 and 𝄞 outside the BMP",
    "Ünïcödé àçcénts ß ø",
    "<xml attr=\"v\">&amp; &lt; 'quotes' \"double\"</xml>",
    "]]> <![CDATA[ not really ]]>",
    "tab\tand\nnewline",
    "  leading and trailing spaces  ",
    "&#x41; stays literal",
]


@pytest.mark.parametrize("text", ROUND_TRIPS)
def test_text_round_trips_exactly(queue, text):
    sent = queue.send_message(text)
    peeked = _peek_one(queue)
    assert peeked.content == text
    got = queue.receive_message(visibility_timeout=60)
    assert (got.id, got.content) == (sent.id, text)
    updated_text = text[::-1]
    queue.update_message(got, content=updated_text, visibility_timeout=0)
    assert _peek_one(queue).content == updated_text


@pytest.mark.parametrize("text", ["日本語 😀 <&>", "\x00\x01 control characters need base64"])
def test_base64_round_trips(base64_queue, text):
    base64_queue.send_message(text)
    assert base64_queue.peek_messages()[0].content == text
    assert base64_queue.receive_message().content == text


def test_empty_message(queue):
    sent = queue.send_message("")
    peeked = _peek_one(queue)
    assert (peeked.id, peeked.content) == (sent.id, "")
    assert queue.receive_message().content == ""


def test_whitespace_only_message(queue):
    queue.send_message("   ")
    assert _peek_one(queue).content == "   "


def test_raw_escaped_body_is_unescaped(queue_url, queue):
    resp = queue_helpers.raw("POST", f"{queue_url}/messages",
                             data=queue_helpers.message_body("&lt;b&gt; &amp; &#233; &#x1F600;"))
    assert resp.status_code == 201, resp.text
    assert _peek_one(queue).content == "<b> & é 😀"
    # And the text comes back escaped in the XML of Peek Messages, readable by any XML parser.
    resp = queue_helpers.raw("GET", f"{queue_url}/messages?peekonly=true")
    [message] = queue_helpers.parse_messages(resp)
    assert message["MessageText"] == "<b> & é 😀"
