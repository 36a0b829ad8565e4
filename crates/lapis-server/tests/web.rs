//! The static website endpoint in-process: the Blob service to set the account's properties and
//! upload to `$web` (signed), the web endpoint read anonymously with plain HTTP.

mod signed;

use std::net::SocketAddr;

use lapis_auth::{Accounts, Service, DEV_ACCOUNT};
use lapis_server::{AppState, ServiceKind};
use lapis_store::Store;

struct Server {
    /// `http://addr/devstoreaccount1` of the Blob service.
    blob: String,
    /// `http://addr/devstoreaccount1` of the web endpoint.
    web: String,
    admin: String,
    client: reqwest::Client,
}

async fn listener() -> (tokio::net::TcpListener, SocketAddr) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    (l, addr)
}

async fn start() -> Server {
    let state = AppState::new(Store::in_memory().expect("store"), Accounts::dev());
    let (blob, blob_addr) = listener().await;
    let (web, web_addr) = listener().await;
    let (admin, admin_addr) = listener().await;
    for (l, kind) in [(blob, ServiceKind::Blob), (web, ServiceKind::Web)] {
        tokio::spawn(lapis_server::serve(
            l,
            state.clone(),
            kind,
            std::future::pending(),
        ));
    }
    tokio::spawn(lapis_server::serve_admin(
        admin,
        state,
        std::future::pending(),
    ));
    Server {
        blob: format!("http://{blob_addr}/{DEV_ACCOUNT}"),
        web: format!("http://{web_addr}/{DEV_ACCOUNT}"),
        admin: format!("http://{admin_addr}"),
        client: reqwest::Client::new(),
    }
}

impl Server {
    /// A Shared Key request to the Blob service.
    async fn blob_request(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> reqwest::Response {
        let url = format!("{}{}", self.blob, path_and_query);
        signed::send(&self.client, Service::Blob, method, &url, headers, body).await
    }

    /// Sets the account's StaticWebsite section (the XML elements inside it).
    async fn set_website(&self, inner: &str) {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties>\
             <StaticWebsite>{inner}</StaticWebsite></StorageServiceProperties>"
        );
        let r = self
            .blob_request(
                "PUT",
                "/?restype=service&comp=properties",
                &[],
                xml.as_bytes(),
            )
            .await;
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
    }

    /// Creates `$web` (private) and uploads a block blob to it with these extra headers.
    async fn upload(&self, name: &str, body: &[u8], headers: &[(&str, &str)]) {
        let _ = self
            .blob_request("PUT", "/$web?restype=container", &[], b"")
            .await;
        let mut all = vec![("x-ms-blob-type", "BlockBlob")];
        all.extend_from_slice(headers);
        let r = self
            .blob_request("PUT", &format!("/$web/{name}"), &all, body)
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }

    /// An anonymous request to the web endpoint.
    async fn web_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.client.request(
            method.parse().expect("method"),
            format!("{}{path}", self.web),
        );
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("send")
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.web_request("GET", path, &[]).await
    }

    /// A site with an index document, a 404 document, a folder and a page.
    async fn with_site() -> Server {
        let s = start().await;
        s.set_website(
            "<Enabled>true</Enabled><IndexDocument>index.html</IndexDocument>\
             <ErrorDocument404Path>404.html</ErrorDocument404Path>",
        )
        .await;
        let html = [("x-ms-blob-content-type", "text/html; charset=utf-8")];
        s.upload("index.html", b"<h1>home</h1>", &html).await;
        s.upload("404.html", b"<h1>not here</h1>", &html).await;
        s.upload("docs/index.html", b"<h1>docs</h1>", &html).await;
        s.upload("docs/page.html", b"0123456789", &html).await;
        s
    }
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn body(r: reqwest::Response) -> String {
    r.text().await.expect("body")
}

#[tokio::test]
async fn a_website_that_is_not_enabled_is_not_served() {
    let s = start().await;
    s.upload("index.html", b"home", &[]).await;
    for path in ["/", "/index.html"] {
        let r = s.get(path).await;
        assert_eq!(r.status(), 404);
        assert_eq!(header(&r, "x-ms-error-code"), "WebsiteDisabled");
        assert_eq!(header(&r, "content-type"), "text/html");
        assert!(body(r).await.contains("WebsiteDisabled"));
    }
    s.set_website("<Enabled>false</Enabled><IndexDocument>index.html</IndexDocument>")
        .await;
    let r = s.get("/").await;
    assert_eq!(header(&r, "x-ms-error-code"), "WebsiteDisabled");
    // An account Lapis does not serve has no website either.
    let other = s.web.replace(DEV_ACCOUNT, "nosuchaccount");
    let r = s.client.get(format!("{other}/")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(header(&r, "x-ms-error-code"), "WebsiteDisabled");
}

#[tokio::test]
async fn the_root_and_folders_serve_their_index_document_anonymously() {
    let s = Server::with_site().await;
    // The container is private: the Blob service refuses an anonymous read.
    let r = s
        .client
        .get(format!("{}/$web/index.html", s.blob))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    for (path, expected) in [
        ("/", "<h1>home</h1>"),
        ("", "<h1>home</h1>"),
        ("/index.html", "<h1>home</h1>"),
        ("/docs/", "<h1>docs</h1>"),
        ("/docs", "<h1>docs</h1>"),
        ("/docs/page.html", "0123456789"),
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(
            header(&r, "content-type"),
            "text/html; charset=utf-8",
            "{path}"
        );
        assert_eq!(body(r).await, expected, "{path}");
    }
}

#[tokio::test]
async fn paths_are_decoded_and_query_strings_ignored() {
    let s = Server::with_site().await;
    s.upload("a%20b.html", b"spaced", &[]).await;
    assert_eq!(body(s.get("/a%20b.html").await).await, "spaced");
    let r = s.get("/docs/page.html?v=3&comp=list").await;
    assert_eq!(r.status(), 200);
    assert_eq!(body(r).await, "0123456789");
}

#[tokio::test]
async fn an_enabled_website_without_a_web_container_is_a_plain_404() {
    let s = start().await;
    s.set_website(
        "<Enabled>true</Enabled><IndexDocument>index.html</IndexDocument>\
         <ErrorDocument404Path>404.html</ErrorDocument404Path>",
    )
    .await;
    let r = s.get("/").await;
    assert_eq!(r.status(), 404);
    assert_eq!(header(&r, "x-ms-error-code"), "WebContentNotFound");
}

#[tokio::test]
async fn a_blob_named_like_a_folder_wins_over_the_folder() {
    let s = Server::with_site().await;
    s.upload("docs", b"a file called docs", &[]).await;
    assert_eq!(body(s.get("/docs").await).await, "a file called docs");
    assert_eq!(body(s.get("/docs/").await).await, "<h1>docs</h1>");
}

#[tokio::test]
async fn content_headers_come_from_the_blob_properties() {
    let s = Server::with_site().await;
    s.upload(
        "app.js.gz",
        b"gzipped",
        &[
            ("x-ms-blob-content-type", "application/javascript"),
            ("x-ms-blob-content-encoding", "gzip"),
            ("x-ms-blob-cache-control", "public, max-age=60"),
            ("x-ms-blob-content-language", "en"),
            ("x-ms-blob-content-disposition", "inline"),
        ],
    )
    .await;
    let props = s.blob_request("HEAD", "/$web/app.js.gz", &[], b"").await;
    let r = s.get("/app.js.gz").await;
    assert_eq!(r.status(), 200);
    for (name, value) in [
        ("content-type", "application/javascript"),
        ("content-encoding", "gzip"),
        ("cache-control", "public, max-age=60"),
        ("content-language", "en"),
        ("content-disposition", "inline"),
        ("accept-ranges", "bytes"),
        ("content-length", "7"),
    ] {
        assert_eq!(header(&r, name), value, "{name}");
    }
    assert_eq!(header(&r, "etag"), header(&props, "etag"));
    assert!(!header(&r, "etag").is_empty());
    assert_eq!(header(&r, "last-modified"), header(&props, "last-modified"));
}

#[tokio::test]
async fn a_missing_page_is_the_404_document_with_status_404() {
    let s = Server::with_site().await;
    for path in ["/nosuch.html", "/nosuch/", "/docs/nosuch"] {
        let r = s.get(path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
        assert_eq!(body(r).await, "<h1>not here</h1>", "{path}");
    }
    // Ranges and conditions apply to the page asked for, not to the 404 document.
    let r = s
        .web_request(
            "GET",
            "/nosuch.html",
            &[("range", "bytes=0-1"), ("if-match", "\"x\"")],
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(body(r).await, "<h1>not here</h1>");
    let r = s.web_request("HEAD", "/nosuch.html", &[]).await;
    assert_eq!(r.status(), 404);
    assert_eq!(header(&r, "content-length"), "17");
}

#[tokio::test]
async fn without_a_404_document_a_missing_page_is_a_plain_404() {
    let s = start().await;
    s.set_website("<Enabled>true</Enabled><IndexDocument>index.html</IndexDocument>")
        .await;
    s.upload("page.html", b"page", &[]).await;
    for path in ["/", "/nosuch.html"] {
        let r = s.get(path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(header(&r, "x-ms-error-code"), "WebContentNotFound");
        let text = body(r).await;
        assert!(
            text.contains("The requested content does not exist."),
            "{text}"
        );
    }
    // A 404 document that names no blob: the plain 404.
    s.set_website("<Enabled>true</Enabled><ErrorDocument404Path>gone.html</ErrorDocument404Path>")
        .await;
    let r = s.get("/nosuch.html").await;
    assert_eq!(header(&r, "x-ms-error-code"), "WebContentNotFound");
}

#[tokio::test]
async fn the_default_index_document_path_serves_every_folder() {
    let s = start().await;
    s.set_website(
        "<Enabled>true</Enabled><DefaultIndexDocumentPath>app/shell.html</DefaultIndexDocumentPath>",
    )
    .await;
    s.upload("app/shell.html", b"shell", &[]).await;
    s.upload("style.css", b"css", &[]).await;
    for path in ["/", "/orders/", "/orders/42"] {
        let r = s.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(body(r).await, "shell", "{path}");
    }
    assert_eq!(body(s.get("/style.css").await).await, "css");
}

#[tokio::test]
async fn head_describes_without_a_body() {
    let s = Server::with_site().await;
    for path in ["/", "/docs", "/docs/page.html"] {
        let r = s.web_request("HEAD", path, &[]).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
        assert!(!header(&r, "etag").is_empty());
        assert!(body(r).await.is_empty());
    }
    let r = s.web_request("HEAD", "/docs/page.html", &[]).await;
    assert_eq!(header(&r, "content-length"), "10");
}

#[tokio::test]
async fn ranges_are_served_as_get_blob_serves_them() {
    let s = Server::with_site().await;
    let r = s
        .web_request("GET", "/docs/page.html", &[("range", "bytes=2-5")])
        .await;
    assert_eq!(r.status(), 206);
    assert_eq!(header(&r, "content-range"), "bytes 2-5/10");
    assert_eq!(body(r).await, "2345");
    let r = s
        .web_request("GET", "/docs/page.html", &[("range", "bytes=7-")])
        .await;
    assert_eq!(r.status(), 206);
    assert_eq!(body(r).await, "789");
    let r = s
        .web_request("GET", "/docs/page.html", &[("range", "bytes=50-60")])
        .await;
    assert_eq!(r.status(), 416);
    assert_eq!(header(&r, "content-range"), "bytes */10");
    // Folders' index documents take ranges too.
    let r = s
        .web_request("GET", "/docs/", &[("range", "bytes=0-3")])
        .await;
    assert_eq!(r.status(), 206);
    assert_eq!(body(r).await, "<h1>");
}

#[tokio::test]
async fn conditional_gets_answer_304_and_412() {
    let s = Server::with_site().await;
    let first = s.get("/docs/page.html").await;
    let etag = header(&first, "etag").to_string();
    let modified = header(&first, "last-modified").to_string();
    let past = "Sat, 01 Jan 2000 00:00:00 GMT";
    let future = httpdate::fmt_http_date(
        std::time::SystemTime::now() + std::time::Duration::from_secs(86_400),
    );
    for (name, value, status) in [
        ("if-none-match", etag.as_str(), 304),
        ("if-none-match", "\"other\"", 200),
        ("if-modified-since", modified.as_str(), 304),
        ("if-modified-since", past, 200),
        ("if-match", etag.as_str(), 200),
        ("if-match", "\"other\"", 412),
        ("if-unmodified-since", future.as_str(), 200),
        ("if-unmodified-since", past, 412),
    ] {
        let r = s
            .web_request("GET", "/docs/page.html", &[(name, value)])
            .await;
        assert_eq!(r.status(), status, "{name}: {value}");
        if status == 304 {
            assert!(body(r).await.is_empty());
        }
    }
    // The index document of a folder is conditional too.
    let index_etag = header(&s.get("/").await, "etag").to_string();
    let r = s
        .web_request("GET", "/", &[("if-none-match", &index_etag)])
        .await;
    assert_eq!(r.status(), 304);
    let r = s
        .web_request("HEAD", "/", &[("if-none-match", &index_etag)])
        .await;
    assert_eq!(r.status(), 304);
}

#[tokio::test]
async fn only_get_and_head_are_served() {
    let s = Server::with_site().await;
    for method in ["PUT", "POST", "DELETE", "PATCH", "OPTIONS"] {
        let r = s.web_request(method, "/index.html", &[]).await;
        assert_eq!(r.status(), 405, "{method}");
        assert_eq!(header(&r, "x-ms-error-code"), "UnsupportedHttpVerb");
        assert_eq!(header(&r, "allow"), "GET, HEAD");
    }
    assert_eq!(body(s.get("/index.html").await).await, "<h1>home</h1>");
}

#[tokio::test]
async fn web_requests_are_counted_under_their_own_service() {
    let s = Server::with_site().await;
    let _ = s.get("/").await;
    let _ = s.get("/nosuch").await;
    let text = body(
        s.client
            .get(format!("{}/metrics", s.admin))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let has = |needle: &str| {
        text.lines()
            .any(|l| l.starts_with("lapis_requests_total") && l.contains(needle))
    };
    assert!(
        has("service=\"web\",operation=\"GetWebContent\",status=\"200\""),
        "{text}"
    );
    assert!(
        has("service=\"web\",operation=\"GetWebContent\",status=\"404\""),
        "{text}"
    );
}
