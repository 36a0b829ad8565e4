"""Queue service level: Get/Set Queue Service Properties (logging, hour and minute metrics, CORS),
List Queues (prefix, metadata, paging by marker) and CORS preflight requests.

Service properties belong to the account: every test that changes them uses
restore_queue_service_properties, which puts the previous ones (the defaults) back."""

import xml.etree.ElementTree as ET

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.storage.queue import CorsRule, Metrics, QueueAnalyticsLogging, RetentionPolicy

import queue_helpers


# --- Get/Set Queue Service Properties -------------------------------------------------------

def test_service_properties_round_trip(queue_service, restore_queue_service_properties):
    logging = QueueAnalyticsLogging(version="1.0", delete=True, read=False, write=True,
                                    retention_policy=RetentionPolicy(enabled=True, days=3))
    hour = Metrics(version="1.0", enabled=True, include_apis=True,
                   retention_policy=RetentionPolicy(enabled=True, days=5))
    minute = Metrics(version="1.0", enabled=False, retention_policy=RetentionPolicy(enabled=False))
    cors = [
        CorsRule(["https://a.example", "https://b.example"], ["GET", "PUT"],
                 allowed_headers=["x-ms-meta-*"], exposed_headers=["x-ms-request-id"], max_age_in_seconds=60),
        CorsRule(["*"], ["DELETE"], max_age_in_seconds=0),
    ]
    statuses = queue_helpers.Statuses()
    queue_service.set_service_properties(analytics_logging=logging, hour_metrics=hour, minute_metrics=minute,
                                         cors=cors, raw_response_hook=statuses)
    assert statuses.last == 202
    got = queue_service.get_service_properties(raw_response_hook=statuses)
    assert statuses.last == 200
    log = got["analytics_logging"]
    assert (log.version, log.delete, log.read, log.write) == ("1.0", True, False, True)
    assert (log.retention_policy.enabled, log.retention_policy.days) == (True, 3)
    assert got["hour_metrics"].enabled is True and got["hour_metrics"].include_apis is True
    assert (got["hour_metrics"].retention_policy.enabled, got["hour_metrics"].retention_policy.days) == (True, 5)
    assert got["minute_metrics"].enabled is False
    assert got["minute_metrics"].retention_policy.enabled is False
    assert len(got["cors"]) == 2
    first, second = got["cors"]
    assert first.allowed_origins == "https://a.example,https://b.example"
    assert first.allowed_methods == "GET,PUT"
    assert first.allowed_headers == "x-ms-meta-*"
    assert first.exposed_headers == "x-ms-request-id"
    assert first.max_age_in_seconds == 60
    assert (second.allowed_origins, second.allowed_methods, second.max_age_in_seconds) == ("*", "DELETE", 0)


def test_service_properties_partial_update_keeps_others(queue_service, restore_queue_service_properties):
    queue_service.set_service_properties(cors=[CorsRule(["https://keep.example"], ["GET"])])
    queue_service.set_service_properties(hour_metrics=Metrics(
        version="1.0", enabled=True, include_apis=False, retention_policy=RetentionPolicy(enabled=True, days=2)))
    got = queue_service.get_service_properties()
    assert [r.allowed_origins for r in got["cors"]] == ["https://keep.example"]
    assert got["hour_metrics"].enabled is True
    assert got["hour_metrics"].retention_policy.days == 2
    # An empty <Cors/> removes every rule.
    queue_service.set_service_properties(cors=[])
    assert queue_service.get_service_properties()["cors"] == []


@pytest.mark.azurite_gap("accepts more than five CORS rules")
def test_more_than_five_cors_rules_rejected(queue_service, restore_queue_service_properties):
    rules = [CorsRule([f"https://o{i}.example"], ["GET"]) for i in range(6)]
    with pytest.raises(HttpResponseError) as e:
        queue_service.set_service_properties(cors=rules)
    queue_helpers.assert_sdk_error(e, 400, "InvalidXmlDocument")


# --- List Queues --------------------------------------------------------------------------------

def test_list_queues_prefix_and_metadata(queue_service):
    prefix = queue_helpers.queue_name("lq")
    created = [f"{prefix}{i}" for i in range(3)]
    for i, name in enumerate(created):
        queue_service.create_queue(name, metadata={"idx": str(i), "Colour": "blue"})
    other = queue_helpers.queue_name("other")
    queue_service.create_queue(other)
    try:
        listed = list(queue_service.list_queues(name_starts_with=prefix, include_metadata=True))
        assert [q.name for q in listed] == created
        assert [q.metadata for q in listed] == [{"idx": str(i), "Colour": "blue"} for i in range(3)]
        without = list(queue_service.list_queues(name_starts_with=prefix))
        assert [q.name for q in without] == created
        assert all(not q.metadata for q in without)
        assert other not in [q.name for q in queue_service.list_queues(name_starts_with=prefix)]
        assert other in [q.name for q in queue_service.list_queues(name_starts_with="other")]
    finally:
        for name in created + [other]:
            queue_service.delete_queue(name)


def test_list_queues_paging(queue_service):
    prefix = queue_helpers.queue_name("pg")
    created = [f"{prefix}{i:02d}" for i in range(5)]
    for name in created:
        queue_service.create_queue(name)
    try:
        pager = queue_service.list_queues(name_starts_with=prefix, results_per_page=2).by_page()
        pages = [[q.name for q in page] for page in pager]
        assert pages == [created[0:2], created[2:4], created[4:5]]
        # A continuation token (the NextMarker) resumes where the first page stopped.
        pager = queue_service.list_queues(name_starts_with=prefix, results_per_page=2).by_page()
        next(pager)
        token = pager.continuation_token
        assert token
        resumed = queue_service.list_queues(name_starts_with=prefix, results_per_page=10).by_page(token)
        assert [q.name for page in resumed for q in page] == created[2:]
    finally:
        for name in created:
            queue_service.delete_queue(name)


def test_list_queues_raw_body(queue_endpoint, queue_service):
    prefix = queue_helpers.queue_name("rw")
    created = [f"{prefix}{i}" for i in range(3)]
    for name in created:
        queue_service.create_queue(name)
    try:
        resp = queue_helpers.raw("GET", f"{queue_endpoint}/?comp=list&prefix={prefix}&maxresults=2")
        assert resp.status_code == 200, resp.text
        assert resp.headers["Content-Type"].startswith("application/xml")
        root = ET.fromstring(resp.content.decode("utf-8-sig").strip())
        assert root.tag == "EnumerationResults"
        assert root.attrib["ServiceEndpoint"].rstrip("/") == queue_endpoint.rstrip("/")
        assert root.findtext("Prefix") == prefix
        assert root.findtext("MaxResults") == "2"
        assert [q.findtext("Name") for q in root.find("Queues")] == created[:2]
        marker = root.findtext("NextMarker")
        assert marker
        resp = queue_helpers.raw("GET", f"{queue_endpoint}/?comp=list&prefix={prefix}&marker={marker}")
        root = ET.fromstring(resp.content.decode("utf-8-sig").strip())
        assert [q.findtext("Name") for q in root.find("Queues")] == created[2:]
        assert not root.findtext("NextMarker")
    finally:
        for name in created:
            queue_service.delete_queue(name)


# --- CORS ---------------------------------------------------------------------------------------

@pytest.fixture
def cors_rule(queue_service, restore_queue_service_properties):
    queue_service.set_service_properties(cors=[
        CorsRule(["https://allowed.example"], ["GET", "POST"],
                 allowed_headers=["x-ms-meta-*", "content-type"],
                 exposed_headers=["x-ms-request-id"], max_age_in_seconds=120),
    ])


def _preflight(url, origin, method, headers=None):
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        sent["Access-Control-Request-Headers"] = headers
    return requests.options(url, headers=sent, timeout=30)


def test_cors_preflight_allowed(queue_endpoint, queue, cors_rule):
    resp = _preflight(queue_helpers.messages_url(queue_endpoint, queue.queue_name),
                      "https://allowed.example", "POST", "x-ms-meta-a,content-type")
    assert resp.status_code == 200, resp.text
    assert resp.headers["Access-Control-Allow-Origin"] == "https://allowed.example"
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    allowed_headers = resp.headers["Access-Control-Allow-Headers"].lower()
    assert "x-ms-meta-a" in allowed_headers and "content-type" in allowed_headers
    assert resp.headers["Access-Control-Max-Age"] == "120"


def test_cors_preflight_origin_not_allowed(queue_endpoint, queue, cors_rule):
    resp = _preflight(queue_helpers.messages_url(queue_endpoint, queue.queue_name), "https://evil.example", "GET")
    queue_helpers.assert_error(resp, 403, "CorsPreflightFailure")


def test_cors_preflight_method_not_allowed(queue_endpoint, queue, cors_rule):
    resp = _preflight(queue_helpers.messages_url(queue_endpoint, queue.queue_name),
                      "https://allowed.example", "DELETE")
    queue_helpers.assert_error(resp, 403, "CorsPreflightFailure")


def test_cors_preflight_header_not_allowed(queue_endpoint, queue, cors_rule):
    resp = _preflight(queue_helpers.messages_url(queue_endpoint, queue.queue_name),
                      "https://allowed.example", "GET", "x-custom-header")
    queue_helpers.assert_error(resp, 403, "CorsPreflightFailure")


def test_cors_preflight_without_rules(queue_endpoint, queue, queue_service, restore_queue_service_properties):
    queue_service.set_service_properties(cors=[])
    resp = _preflight(queue_helpers.messages_url(queue_endpoint, queue.queue_name), "https://allowed.example", "GET")
    queue_helpers.assert_error(resp, 403, "CorsPreflightFailure")


def test_cors_actual_request_gets_cors_headers(queue_endpoint, queue, cors_rule):
    queue.send_message("hello")
    url = queue_helpers.messages_url(queue_endpoint, queue.queue_name, query="peekonly=true")
    resp = queue_helpers.raw("GET", url, headers={"Origin": "https://allowed.example"})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "https://allowed.example"
    assert "x-ms-request-id" in resp.headers["Access-Control-Expose-Headers"].lower()
    # The same request from an origin no rule names succeeds (Shared Key authorises it) without CORS headers.
    resp = queue_helpers.raw("GET", url, headers={"Origin": "https://evil.example"})
    assert resp.status_code == 200
    assert "Access-Control-Allow-Origin" not in resp.headers
