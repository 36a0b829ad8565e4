"""Static website hosting: the account's StaticWebsite service properties, set with the SDK, make
the web endpoint (Azure's <account>.z13.web.core.windows.net; Lapis's --webPort, path-style
http://host:port/<account>/<path>) serve the $web container anonymously: index documents for the
root and folders, the 404 document with status 404, HEAD, ranges, conditional GETs, and the
content headers stored with each blob. Plain `requests` calls, as a browser or a CDN origin
fetch would make them."""

import pytest
import requests
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient, ContentSettings, StaticWebsite

import helpers

pytestmark = pytest.mark.azurite_gap("Azurite has no static website endpoint")

HTML = ContentSettings(content_type="text/html; charset=utf-8", cache_control="max-age=60")


@pytest.fixture(scope="module")
def site(start_server):
    """A server of its own (the website settings are account-wide), with a site uploaded."""
    server = start_server()
    assert server.web_base, "no static website endpoint (Lapis: --webPort)"
    service = BlobServiceClient.from_connection_string(helpers.connection_string(server.endpoint))
    web = f"{server.web_base}/{helpers.ACCOUNT}"
    # Before the website is enabled, the endpoint serves nothing.
    disabled = requests.get(f"{web}/", timeout=30)
    assert disabled.status_code == 404
    assert disabled.headers.get("x-ms-error-code") == "WebsiteDisabled"
    service.set_service_properties(static_website=StaticWebsite(
        enabled=True, index_document="index.html", error_document404_path="404.html"))
    try:
        service.create_container("$web")
    except ResourceExistsError:
        pass
    container = service.get_container_client("$web")
    container.upload_blob("index.html", b"<h1>home</h1>", content_settings=HTML)
    container.upload_blob("404.html", b"<h1>missing</h1>", content_settings=HTML)
    container.upload_blob("docs/index.html", b"<h1>docs</h1>", content_settings=HTML)
    container.upload_blob("app.js", b"console.log(1)", content_settings=ContentSettings(
        content_type="application/javascript", content_encoding="identity",
        content_language="en", content_disposition="inline"))
    return service, web


def test_service_properties_keep_the_static_website(site):
    service, _ = site
    props = service.get_service_properties()["static_website"]
    assert props.enabled is True
    assert props.index_document == "index.html"
    assert props.error_document404_path == "404.html"


def test_root_and_folders_serve_the_index_document(site):
    _, web = site
    for path, body in [("/", b"<h1>home</h1>"), ("/docs/", b"<h1>docs</h1>"), ("/docs", b"<h1>docs</h1>")]:
        r = requests.get(web + path, timeout=30)
        assert r.status_code == 200, path
        assert r.content == body, path
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert r.headers["Cache-Control"] == "max-age=60"


def test_content_headers_come_from_the_blob(site):
    service, web = site
    r = requests.get(f"{web}/app.js", timeout=30)
    assert r.status_code == 200
    assert r.content == b"console.log(1)"
    assert r.headers["Content-Type"] == "application/javascript"
    assert r.headers["Content-Encoding"] == "identity"
    assert r.headers["Content-Language"] == "en"
    assert r.headers["Content-Disposition"] == "inline"
    props = service.get_blob_client("$web", "app.js").get_blob_properties()
    assert r.headers["ETag"] == props.etag
    assert r.headers["Last-Modified"]


def test_a_missing_page_is_the_404_document(site):
    _, web = site
    r = requests.get(f"{web}/nosuch/page.html", timeout=30)
    assert r.status_code == 404
    assert r.content == b"<h1>missing</h1>"
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"


def test_head_range_and_conditions(site):
    _, web = site
    head = requests.head(f"{web}/app.js", timeout=30)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == "14"
    assert head.content == b""
    part = requests.get(f"{web}/app.js", headers={"Range": "bytes=0-6"}, timeout=30)
    assert part.status_code == 206
    assert part.content == b"console"
    assert part.headers["Content-Range"] == "bytes 0-6/14"
    assert requests.get(f"{web}/app.js", headers={"Range": "bytes=99-"}, timeout=30).status_code == 416
    etag = head.headers["ETag"]
    assert requests.get(f"{web}/app.js", headers={"If-None-Match": etag}, timeout=30).status_code == 304
    assert requests.get(f"{web}/app.js", headers={"If-Match": '"other"'}, timeout=30).status_code == 412


def test_writes_are_refused(site):
    _, web = site
    r = requests.put(f"{web}/index.html", data=b"defaced", timeout=30)
    assert r.status_code == 405
    assert requests.get(f"{web}/", timeout=30).content == b"<h1>home</h1>"
