"""Service-level operations: list containers, service properties, CORS, account information."""

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import (
    BlobAnalyticsLogging,
    CorsRule,
    Metrics,
    RetentionPolicy,
)

import helpers


@pytest.fixture
def restore_service_properties(service):
    """Service properties are account-wide: put them back after a test changes them."""
    before = service.get_service_properties()
    yield
    service.set_service_properties(
        analytics_logging=before["analytics_logging"],
        hour_metrics=before["hour_metrics"],
        minute_metrics=before["minute_metrics"],
        cors=before["cors"] or [],
        delete_retention_policy=before["delete_retention_policy"],
    )


def _names_of(pages):
    return [c.name for page in pages for c in page]


def test_list_containers_prefix_and_metadata(service):
    prefix = helpers.unique_name("lc")
    created = [f"{prefix}{i}" for i in range(3)]
    for i, name in enumerate(created):
        service.create_container(name, metadata={"idx": str(i)})
    other = helpers.unique_name("other")
    service.create_container(other)
    try:
        listed = list(service.list_containers(name_starts_with=prefix, include_metadata=True))
        assert [c.name for c in listed] == created
        assert [c.metadata for c in listed] == [{"idx": "0"}, {"idx": "1"}, {"idx": "2"}]
        assert all(c.etag.startswith('"0x') for c in listed)
        assert all(c.last_modified is not None for c in listed)
        without = list(service.list_containers(name_starts_with=prefix))
        assert all(not c.metadata for c in without)
    finally:
        for name in created + [other]:
            service.delete_container(name)


def test_list_containers_paging(service):
    prefix = helpers.unique_name("pg")
    created = [f"{prefix}{i:02d}" for i in range(5)]
    for name in created:
        service.create_container(name)
    try:
        pager = service.list_containers(name_starts_with=prefix, results_per_page=2).by_page()
        pages = [list(page) for page in pager]
        assert [len(p) for p in pages] == [2, 2, 1]
        assert _names_of(pages) == created
        # A continuation token resumes where the first page stopped.
        pager = service.list_containers(name_starts_with=prefix, results_per_page=2).by_page()
        next(pager)
        token = pager.continuation_token
        assert token
        resumed = service.list_containers(name_starts_with=prefix, results_per_page=10).by_page(token)
        assert _names_of(resumed) == created[2:]
    finally:
        for name in created:
            service.delete_container(name)


def test_service_properties_round_trip(service, restore_service_properties):
    logging = BlobAnalyticsLogging(
        version="1.0", delete=True, read=False, write=True,
        retention_policy=RetentionPolicy(enabled=True, days=3),
    )
    hour = Metrics(version="1.0", enabled=True, include_apis=True,
                   retention_policy=RetentionPolicy(enabled=True, days=5))
    minute = Metrics(version="1.0", enabled=False, retention_policy=RetentionPolicy(enabled=False))
    cors = [
        CorsRule(["https://a.example"], ["GET", "PUT"], allowed_headers=["x-ms-meta-*"],
                 exposed_headers=["x-ms-request-id"], max_age_in_seconds=60),
        CorsRule(["*"], ["HEAD"], max_age_in_seconds=0),
    ]
    service.set_service_properties(
        analytics_logging=logging, hour_metrics=hour, minute_metrics=minute, cors=cors,
        delete_retention_policy=RetentionPolicy(enabled=True, days=7),
    )
    got = service.get_service_properties()
    log = got["analytics_logging"]
    assert (log.delete, log.read, log.write) == (True, False, True)
    assert (log.retention_policy.enabled, log.retention_policy.days) == (True, 3)
    assert got["hour_metrics"].enabled and got["hour_metrics"].include_apis
    assert got["hour_metrics"].retention_policy.days == 5
    assert got["minute_metrics"].enabled is False
    assert len(got["cors"]) == 2
    first = got["cors"][0]
    assert first.allowed_origins == "https://a.example"
    assert first.allowed_methods == "GET,PUT"
    assert first.allowed_headers == "x-ms-meta-*"
    assert first.exposed_headers == "x-ms-request-id"
    assert first.max_age_in_seconds == 60
    assert got["delete_retention_policy"].enabled is True
    assert got["delete_retention_policy"].days == 7


def test_default_service_version_round_trip(service, restore_service_properties):
    service.set_service_properties(target_version="2019-12-12")
    assert service.get_service_properties()["target_version"] == "2019-12-12"


def test_service_properties_partial_update_keeps_others(service, restore_service_properties):
    service.set_service_properties(cors=[CorsRule(["https://keep.example"], ["GET"])])
    service.set_service_properties(delete_retention_policy=RetentionPolicy(enabled=True, days=2))
    got = service.get_service_properties()
    assert [r.allowed_origins for r in got["cors"]] == ["https://keep.example"]
    assert got["delete_retention_policy"].days == 2


@pytest.mark.azurite_gap("accepts more than five CORS rules")
def test_more_than_five_cors_rules_rejected(service, restore_service_properties):
    rules = [CorsRule([f"https://o{i}.example"], ["GET"]) for i in range(6)]
    with pytest.raises(HttpResponseError) as e:
        service.set_service_properties(cors=rules)
    assert e.value.status_code == 400
    assert e.value.error_code == "InvalidXmlDocument"


@pytest.mark.azurite_gap("rejects 0 retention days with a bare 400 that has no error code")
def test_delete_retention_days_too_small_rejected(service, restore_service_properties):
    # Recorded: TestAccountDeleteRetentionPolicyDaysTooSmall -> 400 InvalidXmlDocument.
    with pytest.raises(HttpResponseError) as e:
        service.set_service_properties(delete_retention_policy=RetentionPolicy(enabled=True, days=0))
    assert e.value.status_code == 400
    assert e.value.error_code == "InvalidXmlDocument"


def test_account_information(service):
    info = service.get_account_information()
    assert info["account_kind"] == "StorageV2"
    assert info["sku_name"] in {"Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS",
                                "Premium_LRS", "Standard_GZRS", "Standard_RAGZRS"}


def test_account_information_raw_headers(endpoint):
    resp = helpers.raw("GET", f"{endpoint}/?restype=account&comp=properties")
    assert resp.status_code == 200
    assert resp.headers["x-ms-account-kind"] == "StorageV2"
    assert resp.headers["x-ms-sku-name"].startswith(("Standard_", "Premium_"))
    assert resp.headers.get("x-ms-request-id")


# --- CORS ---------------------------------------------------------------------------------

@pytest.fixture
def cors_rule(service, restore_service_properties):
    service.set_service_properties(cors=[
        CorsRule(["https://allowed.example"], ["GET", "PUT"],
                 allowed_headers=["x-ms-meta-*", "content-type"],
                 exposed_headers=["x-ms-meta-*"], max_age_in_seconds=120),
    ])


def test_cors_preflight_allowed(endpoint, container, cors_rule):
    resp = requests.options(
        helpers.blob_url(endpoint, container.container_name, "blob.txt"),
        headers={"Origin": "https://allowed.example",
                 "Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "x-ms-meta-a,content-type"},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["Access-Control-Allow-Origin"] == "https://allowed.example"
    assert "PUT" in resp.headers["Access-Control-Allow-Methods"]
    allowed_headers = resp.headers["Access-Control-Allow-Headers"].lower()
    assert "x-ms-meta-a" in allowed_headers and "content-type" in allowed_headers
    assert resp.headers["Access-Control-Max-Age"] == "120"


def test_cors_preflight_origin_not_allowed(endpoint, container, cors_rule):
    resp = requests.options(
        helpers.blob_url(endpoint, container.container_name, "blob.txt"),
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        timeout=30,
    )
    helpers.assert_error(resp, 403, "CorsPreflightFailure")


def test_cors_preflight_method_not_allowed(endpoint, container, cors_rule):
    resp = requests.options(
        helpers.blob_url(endpoint, container.container_name, "blob.txt"),
        headers={"Origin": "https://allowed.example", "Access-Control-Request-Method": "DELETE"},
        timeout=30,
    )
    helpers.assert_error(resp, 403, "CorsPreflightFailure")


def test_cors_actual_request_gets_cors_headers(endpoint, container, cors_rule):
    container.upload_blob("blob.txt", b"hello", metadata={"colour": "red"})
    url = helpers.blob_url(endpoint, container.container_name, "blob.txt")
    resp = helpers.raw("GET", url, headers={"Origin": "https://allowed.example"})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "https://allowed.example"
    exposed = resp.headers["Access-Control-Expose-Headers"].lower()
    assert "x-ms-meta-colour" in exposed or "x-ms-meta-*" in exposed


def test_cors_actual_request_from_other_origin_has_no_cors_headers(endpoint, container, cors_rule):
    container.upload_blob("blob.txt", b"hello")
    url = helpers.blob_url(endpoint, container.container_name, "blob.txt")
    resp = helpers.raw("GET", url, headers={"Origin": "https://evil.example"})
    # The request itself is authorised by Shared Key, so it succeeds; CORS only withholds headers.
    assert resp.status_code == 200
    assert "Access-Control-Allow-Origin" not in resp.headers


@pytest.mark.azurite_gap("sets Vary: Origin on every method whenever an Origin is sent")
def test_cors_vary_origin_follows_the_reference(endpoint, container, cors_rule):
    """"Understanding how the Vary header is set": GET/HEAD answers vary by origin when a named
    origin matched or when no rule matched while CORS is on; other methods never say so."""
    container.upload_blob("blob.txt", b"hello")
    url = helpers.blob_url(endpoint, container.container_name, "blob.txt")
    for origin in ("https://allowed.example", "https://evil.example"):
        for method in ("GET", "HEAD"):
            resp = helpers.raw(method, url, headers={"Origin": origin})
            assert resp.headers.get("Vary") == "Origin", (origin, method, resp.headers)
    resp = helpers.raw("GET", url)
    assert resp.headers.get("Vary") == "Origin"
    resp = helpers.raw("PUT", url + "?comp=metadata", headers={"Origin": "https://allowed.example"})
    assert resp.status_code == 200 and "Vary" not in resp.headers
    assert resp.headers["Access-Control-Allow-Origin"] == "https://allowed.example"


def test_cors_subdomain_wildcard_and_allow_all(service, endpoint, container, restore_service_properties):
    service.set_service_properties(cors=[
        CorsRule(["http://*.contoso.com"], ["GET"]),
        CorsRule(["*"], ["PUT"], exposed_headers=["x-ms-request-id"]),
    ])
    container.upload_blob("blob.txt", b"hello")
    url = helpers.blob_url(endpoint, container.container_name, "blob.txt")
    preflight = requests.options(url, headers={"Origin": "http://www.contoso.com",
                                               "Access-Control-Request-Method": "GET"}, timeout=30)
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://www.contoso.com"
    resp = helpers.raw("GET", url, headers={"Origin": "http://www.contoso.com"})
    assert resp.headers["Access-Control-Allow-Origin"] == "http://www.contoso.com"
    for other in ("http://contoso.com", "https://www.contoso.com", "http://evilcontoso.com"):
        resp = helpers.raw("GET", url, headers={"Origin": other})
        assert "Access-Control-Allow-Origin" not in resp.headers, other
    # A rule open to every origin answers * and never varies.
    resp = helpers.raw("PUT", url + "?comp=metadata", headers={"Origin": "http://anywhere.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["Access-Control-Expose-Headers"] == "x-ms-request-id"
    assert "Vary" not in resp.headers
