"""Unit tests for the pure parts of the replay tool: signing, date shifting, value mapping,
body decoding, feature classification and the ratchet.  Run: pytest conformance/recordings"""

import base64
import os
import sys
from datetime import datetime, timezone
from urllib.parse import parse_qsl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import features  # noqa: E402
import ratchet  # noqa: E402
import signer  # noqa: E402
from live import Outcome, compare  # noqa: E402
from rewrite import (DateShifter, Endpoints, ValueMap, decode_body, error_code,  # noqa: E402
                     extract_values)

# The emulator account key published in the Azurite / Azure Storage emulator docs.
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


# ---------------------------------------------------------------- Shared Key

def test_canonicalized_resource_matches_rest_reference_examples():
    # "Authorize with Shared Key", Shared Key format for 2009-09-19 and later.
    assert signer.blob_canonicalized_resource(
        "myaccount", "/mycontainer?restype=container&comp=metadata"
    ) == "/myaccount/mycontainer\ncomp:metadata\nrestype:container"
    assert signer.blob_canonicalized_resource(
        "myaccount",
        "/mycontainer?restype=container&comp=list&include=snapshots&include=metadata&include=uncommittedblobs",
    ) == "/myaccount/mycontainer\ncomp:list\ninclude:metadata,snapshots,uncommittedblobs\nrestype:container"


def test_canonicalized_resource_decodes_query_values_but_keeps_path_encoding():
    got = signer.blob_canonicalized_resource("acc", "/acc/c/a%20b?blockid=AAAAAA%3D%3D&comp=block")
    assert got == "/acc/acc/c/a%20b\nblockid:AAAAAA==\ncomp:block"


def test_blob_string_to_sign_layout():
    headers = {"x-ms-version": "2020-10-02", "X-Ms-Date": "Thu, 11 Aug 2022 15:07:35 GMT",
               "Content-Length": "0", "If-Match": '"0x1"', "x-ms-meta-foo": "  a   b "}
    got = signer.blob_string_to_sign("put", headers, "acc", "/acc/c/b")
    lines = got.split("\n")
    assert lines[0] == "PUT"
    assert lines[3] == ""  # Content-Length 0 is signed as empty since 2015-02-21
    assert lines[8] == '"0x1"'  # If-Match line
    assert lines[12:] == ["x-ms-date:Thu, 11 Aug 2022 15:07:35 GMT", "x-ms-meta-foo:a b",
                          "x-ms-version:2020-10-02", "/acc/acc/c/b"]


def test_shared_key_signature_matches_an_independent_implementation():
    # Azurite 3.37 (debug log) computed this for the same request and the emulator key.
    headers = {"x-ms-version": "2020-10-02", "x-ms-date": "Wed, 25 Nov 2026 16:18:18 GMT"}
    got = signer.shared_key_header("blob", "GET", headers, "devstoreaccount1", DEV_KEY,
                                   "/devstoreaccount1/?comp=list")
    assert got == "SharedKey devstoreaccount1:mWn8c+Xa7okZSXZYGI2oYsxo6dac6S7PP7c72RE8zRs="


def test_table_string_to_sign_keeps_only_comp():
    headers = {"Content-Type": "application/json", "x-ms-date": "D", "x-ms-version": "2019-02-02"}
    got = signer.table_string_to_sign("GET", headers, "acc", "/acc/t()?%24top=1&comp=acl")
    assert got == "GET\n\napplication/json\nD\n/acc/acc/t()?comp=acl"


# ---------------------------------------------------------------- SAS

def test_service_sas_string_to_sign_2020_12_06_layout():
    params = {"sp": "r", "st": "S", "se": "E", "sv": "2021-06-08", "sr": "b", "ses": "scope", "rsct": "text/plain"}
    got = signer.service_sas_string_to_sign("blob", "acc", "/c/a%20b", params)
    assert got.split("\n") == ["r", "S", "E", "/blob/acc/c/a b", "", "", "", "2021-06-08", "b", "",
                               "scope", "", "", "", "", "text/plain"]


def test_service_sas_for_a_container_signs_the_container_only():
    params = {"sp": "rl", "se": "E", "sv": "2020-10-02", "sr": "c"}
    got = signer.service_sas_string_to_sign("blob", "acc", "/c/blob", params)
    assert got.split("\n")[3] == "/blob/acc/c"
    assert len(got.split("\n")) == 15  # no signedEncryptionScope before 2020-12-06


def test_account_sas_string_to_sign_ends_with_newline():
    params = {"sp": "rl", "ss": "b", "srt": "sco", "se": "E", "sv": "2020-10-02"}
    assert signer.account_sas_string_to_sign("acc", params) == "acc\nrl\nb\nsco\n\nE\n\n\n2020-10-02\n"


def test_resign_sas_replaces_only_sig():
    target = "/acc/c/b?sv=2020-10-02&sr=b&sp=r&se=2099-01-01T00%3A00%3A00Z&sig=FAKE"
    got = signer.resign_sas("blob", "acc", DEV_KEY, target)
    assert got.startswith("/acc/c/b?sv=2020-10-02&sr=b&sp=r&se=2099-01-01T00%3A00%3A00Z&sig=")
    sig = dict(parse_qsl(got.split("?")[1]))["sig"]
    expected = signer.hmac_sha256_b64(DEV_KEY, signer.service_sas_string_to_sign(
        "blob", "acc", "/c/b", {"sv": "2020-10-02", "sr": "b", "sp": "r", "se": "2099-01-01T00:00:00Z"}))
    assert sig == expected and sig != "FAKE"


def test_user_delegation_sas_cannot_be_resigned():
    try:
        signer.resign_sas("blob", "acc", DEV_KEY, "/acc/c?sv=2020-10-02&skoid=x&sig=FAKE")
    except signer.SasUnsupported:
        return
    raise AssertionError("expected SasUnsupported")


# ---------------------------------------------------------------- dates

def test_conditional_date_keeps_distance_to_resource_last_modified():
    shifter = DateShifter()
    shifter.observe("/c/b", "Thu, 11 Aug 2022 15:07:35 GMT", "Wed, 25 Nov 2026 10:00:00 GMT")
    now = datetime(2026, 11, 25, 10, 0, 1, tzinfo=timezone.utc)
    assert shifter.shift("Thu, 11 Aug 2022 15:07:25 GMT", "/c/b", None, now) == "Wed, 25 Nov 2026 09:59:50 GMT"
    assert shifter.shift("Thu, 11 Aug 2022 15:07:45 GMT", "/c/b", None, now) == "Wed, 25 Nov 2026 10:00:10 GMT"


def test_conditional_date_uses_own_resource_before_latest_anchor():
    shifter = DateShifter()
    shifter.observe("/c/b", "Thu, 11 Aug 2022 15:00:00 GMT", "Wed, 25 Nov 2026 10:00:00 GMT")
    shifter.observe("/c", "Thu, 11 Aug 2022 16:00:00 GMT", "Wed, 25 Nov 2026 10:00:05 GMT")
    now = datetime(2026, 11, 25, 10, 0, 5, tzinfo=timezone.utc)
    assert shifter.shift("Thu, 11 Aug 2022 15:00:00 GMT", "/c/b", None, now) == "Wed, 25 Nov 2026 10:00:00 GMT"
    assert shifter.shift("Thu, 11 Aug 2022 16:00:00 GMT", "/other", None, now) == "Wed, 25 Nov 2026 10:00:05 GMT"


def test_conditional_date_without_anchor_is_relative_to_request_date():
    now = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc)
    got = DateShifter().shift("Thu, 11 Aug 2022 15:07:45 GMT", "/c", "Thu, 11 Aug 2022 15:07:35 GMT", now)
    assert got == "Wed, 25 Nov 2026 10:00:10 GMT"


# ---------------------------------------------------------------- value mapping

def test_value_map_pairs_headers_and_listing_bodies():
    values = ValueMap()
    rec = extract_values({"ETag": '"0xREC"', "x-ms-snapshot": "2022-08-11T15:07:35.0825906Z"},
                         "<Blobs><Blob><Properties><Etag>0xAAA</Etag></Properties></Blob></Blobs>"
                         "<NextMarker>2!80!REC</NextMarker>")
    live = extract_values({"etag": '"0xLIVE"', "x-ms-snapshot": "2026-11-25T10:00:00.1234567Z"},
                          "<Blobs><Blob><Properties><Etag>0xBBB</Etag></Properties></Blob></Blobs>"
                          "<NextMarker>LIVEMARK</NextMarker>")
    values.learn(rec, live)
    assert values.apply('"0xREC"') == '"0xLIVE"'
    assert values.apply("0xAAA") == "0xBBB"
    assert values.apply("comp=list&marker=2%2180%21REC") == "comp=list&marker=LIVEMARK"
    assert values.apply("snapshot=2022-08-11T15%3A07%3A35.0825906Z") == \
        "snapshot=2026-11-25T10%3A00%3A00.1234567Z"


def test_deleted_container_versions_pair_by_container_name():
    # The live account also lists containers other recordings deleted, before this one.
    values = ValueMap()
    rec = extract_values({}, "<Containers><Container><Name>goccontainerrestore</Name><Deleted>true</Deleted>"
                             "<Version>01D8DEC8F3473469</Version></Container></Containers>")
    live = extract_values({}, "<Containers><Container><Name>gocaother</Name><Deleted>true</Deleted>"
                              "<Version>01DD000000000001</Version></Container>"
                              "<Container><Name>goccontainerrestore</Name><Deleted>true</Deleted>"
                              "<Version>01DD000000000002</Version></Container></Containers>")
    values.learn(rec, live)
    assert values.apply("01D8DEC8F3473469") == "01DD000000000002"


def test_value_map_pairs_table_json_etags_and_continuations():
    values = ValueMap()
    rec = extract_values({"x-ms-continuation-NextRowKey": "1!4!MQ--"},
                         {"value": [{"odata.etag": "W/\"datetime'2022-04-13T19%3A25%3A29.4Z'\""}]})
    live = extract_values({"x-ms-continuation-nextrowkey": "live-row"},
                          {"value": [{"odata.etag": "W/\"datetime'2026-11-25T10%3A00%3A00.1Z'\""}]})
    values.learn(rec, live)
    assert values.apply("NextRowKey=1%214%21MQ--") == "NextRowKey=live-row"
    assert values.apply("W/\"datetime'2022-04-13T19%3A25%3A29.4Z'\"") == "W/\"datetime'2026-11-25T10%3A00%3A00.1Z'\""


def test_value_map_ignores_short_and_unchanged_values():
    values = ValueMap()
    values.learn([("etag", "1"), ("x-ms-lease-id", "same-lease-id")], [("etag", "2"), ("x-ms-lease-id", "same-lease-id")])
    assert values.map == {}


# ---------------------------------------------------------------- bodies, URLs, errors

def test_decode_body_follows_the_test_proxy_encoding():
    assert decode_body(None, None) == b""
    assert decode_body("R29CbG9ja0Jsb2JEYXRh", "application/octet-stream") == b"GoBlockBlobData"
    assert decode_body(["<?xml?>\n", "<a/>"], "application/xml") == b"<?xml?>\n<a/>"
    assert decode_body({"TableName": "t1", "n": "é"}, "application/json") == '{"TableName":"t1","n":"é"}'.encode()
    assert decode_body(base64.b64encode(b"--batch\r\n").decode(), "multipart/mixed; boundary=b") == b"--batch\r\n"


def test_endpoints_rewrite_host_to_path_style_keeping_encoding():
    ep = Endpoints("http://127.0.0.1:1/", "http://127.0.0.1:2", "devstoreaccount1")
    assert ep.target("https://fakestorage.blob.core.windows.net/c/a%2Fb%20c?comp=block") == \
        "/devstoreaccount1/c/a%2Fb%20c?comp=block"
    assert ep.absolute("https://fakeaccount.table.core.windows.net/Tables") == "http://127.0.0.1:2/devstoreaccount1/Tables"
    assert ep.rewrite_text("x https://fakestorage.blob.core.windows.net/c/b?snapshot=1") == \
        "x http://127.0.0.1:1/devstoreaccount1/c/b?snapshot=1"


def test_error_code_from_header_xml_or_odata_json():
    assert error_code({"x-ms-error-code": "ConditionNotMet"}, None) == "ConditionNotMet"
    assert error_code({}, ["<?xml?><Error><Code>InvalidRange</Code></Error>"]) == "InvalidRange"
    assert error_code({}, {"odata.error": {"code": "ResourceNotFound"}}) == "ResourceNotFound"
    assert error_code({}, None) is None


def test_compare_status_and_error_code():
    class Live:
        def __init__(self, status, headers):
            self.status, self.headers = status, headers

        def parsed_body(self):
            return ""
    entry = {"StatusCode": 412, "ResponseHeaders": {"x-ms-error-code": "ConditionNotMet"}}
    assert compare(entry, Live(412, {"x-ms-error-code": "ConditionNotMet"}), False) is None
    assert compare(entry, Live(200, {}), False) == "expected 412/ConditionNotMet got 200/-"
    assert compare(entry, Live(412, {"x-ms-error-code": "Other"}), False) == \
        "expected 412/ConditionNotMet got 412/Other"


# ---------------------------------------------------------------- features, ratchet

def test_features_from_comp_headers_and_hosts():
    f = features.request_features
    assert f("https://a.blob.core.windows.net/c/b?comp=lease", "PUT", {}) == {"lease"}
    assert f("https://a.blob.core.windows.net/c/b", "PUT", {"x-ms-blob-type": "PageBlob"}) == {"page-blob"}
    assert f("https://a.blob.core.windows.net/c/b", "GET", {"x-ms-encryption-key": "k"}) == {"cpk"}
    assert f("https://a-secondary.table.core.windows.net/?comp=stats", "GET", {}) == {"secondary", "table"}
    assert f("https://a.blob.core.windows.net/c/b?comp=blocklist", "PUT", {}) == set()
    assert features.missing_features({"lease", "container-acl"}, {"container-acl": True}) == ["lease"]


def test_ratchet_adds_and_only_prunes_on_request(tmp_path):
    path = tmp_path / "agreeing.txt"
    path.write_text("blob/A\nblob/B  # note\n")
    outcomes = {"blob/A": Outcome("differs", "x"), "blob/B": Outcome("agrees"), "blob/C": Outcome("agrees")}
    listed = ratchet.read_ratchet(str(path))
    assert ratchet.check_ratchet(listed, outcomes) == ["blob/A"]
    assert ratchet.write_ratchet(str(path), listed, outcomes, prune=False) == (1, 0)
    assert path.read_text() == "blob/A\nblob/B\nblob/C\n"
    assert ratchet.write_ratchet(str(path), ratchet.read_ratchet(str(path)), outcomes, prune=True) == (0, 1)
    assert path.read_text() == "blob/B\nblob/C\n"
