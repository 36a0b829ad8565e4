//! The server in-process, driven by raw HTTP: the odd requests an SDK will not send.

use std::net::SocketAddr;

use base64::Engine;
use lapis_auth::{sign_shared_key, Accounts, RequestInfo, Service, DEV_ACCOUNT, DEV_KEY};
use lapis_server::AppState;
use lapis_store::Store;

struct Server {
    base: String,
    /// The Queue service of the same state (and so the same metrics).
    queue_base: String,
    admin: String,
    client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Server {
    let store = Store::in_memory().expect("store");
    let state = AppState::new(store, Accounts::dev());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let admin_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind admin");
    let admin = format!(
        "http://{}",
        admin_listener.local_addr().expect("admin addr")
    );
    tokio::spawn(lapis_server::serve_admin(
        admin_listener,
        state.clone(),
        std::future::pending(),
    ));
    let queue_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind queue");
    let queue_addr = queue_listener.local_addr().expect("queue addr");
    tokio::spawn(lapis_server::serve(
        queue_listener,
        state.clone(),
        lapis_server::ServiceKind::Queue,
        std::future::pending(),
    ));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(lapis_server::serve(
        listener,
        state,
        lapis_server::ServiceKind::Blob,
        async move {
            let _ = rx.await;
        },
    ));
    Server {
        base: format!("http://{addr}/{DEV_ACCOUNT}"),
        queue_base: format!("http://{queue_addr}/{DEV_ACCOUNT}"),
        admin,
        client: reqwest::Client::new(),
        _stop: tx,
    }
}

/// The caller's headers plus the date, version and length every request carries.
fn standard_headers(headers: &[(&str, &str)], body_len: usize) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    all.push((
        "x-ms-date".into(),
        httpdate::fmt_http_date(std::time::SystemTime::now()),
    ));
    all.push(("x-ms-version".into(), "2025-01-05".into()));
    all.push(("Content-Length".into(), body_len.to_string()));
    all
}

/// The Shared Key `Authorization` value for a request with these headers.
fn authorization(
    method: &str,
    url: &reqwest::Url,
    headers: &[(String, String)],
    service: Service,
) -> String {
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let info = RequestInfo {
        method,
        raw_path: url.path(),
        raw_query: url.query(),
        headers: &pairs,
        account: DEV_ACCOUNT,
        client_ip: None,
        https: false,
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(DEV_KEY)
        .expect("key");
    sign_shared_key(DEV_ACCOUNT, &key, &info, service, false)
}

impl Server {
    /// Sends a request signed with Shared Key (or unsigned), with extra headers and a body.
    async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        signed: bool,
    ) -> reqwest::Response {
        let url = format!("{}{}", self.base, path_and_query);
        self.send_to(Service::Blob, &url, method, headers, body, signed)
            .await
    }

    /// A signed request to the Queue service.
    async fn send_queue(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> reqwest::Response {
        let url = format!("{}{}", self.queue_base, path_and_query);
        self.send_to(Service::Queue, &url, method, &[], body, true)
            .await
    }

    async fn send_to(
        &self,
        service: Service,
        url: &str,
        method: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        signed: bool,
    ) -> reqwest::Response {
        let parsed = reqwest::Url::parse(url).expect("url");
        let mut all = standard_headers(headers, body.len());
        if signed {
            let auth = authorization(method, &parsed, &all, service);
            all.push(("authorization".into(), auth));
        }
        let mut req = self
            .client
            .request(method.parse().expect("method"), parsed)
            .body(body.to_vec());
        for (k, v) in &all {
            req = req.header(k, v);
        }
        req.send().await.expect("send")
    }
}

fn code(resp: &reqwest::Response) -> &str {
    resp.headers()
        .get("x-ms-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn authentication_comes_before_existence() {
    let s = start().await;
    let unsigned = s
        .send("GET", "/nosuch?restype=container", &[], b"", false)
        .await;
    assert_eq!(unsigned.status(), 404);
    assert_eq!(code(&unsigned), "ResourceNotFound");
    let signed = s
        .send("GET", "/nosuch?restype=container", &[], b"", true)
        .await;
    assert_eq!(signed.status(), 404);
    assert_eq!(code(&signed), "ContainerNotFound");
    let forged = s
        .send(
            "GET",
            "/nosuch?restype=container",
            &[("authorization", "SharedKey devstoreaccount1:AAAA")],
            b"",
            false,
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(code(&forged), "AuthenticationFailed");
    let body = forged.text().await.expect("body");
    assert!(body.contains("<Code>AuthenticationFailed</Code>"), "{body}");
    assert!(body.contains("<AuthenticationErrorDetail>"), "{body}");
}

/// Sends one signed request over a plain socket, header names spelled exactly as given (HTTP
/// client libraries in Rust lowercase them), and returns the raw answer.
async fn raw_exchange(
    s: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = reqwest::Url::parse(&format!("{}{}", s.base, path)).expect("url");
    let all = standard_headers(headers, body.len());
    let auth = authorization(method, &url, &all, Service::Blob);
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let mut text = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: {auth}\r\n",
        url.authority()
    );
    for (k, v) in &all {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    let mut sock = tokio::net::TcpStream::connect(url.authority())
        .await
        .expect("connect");
    sock.write_all(text.as_bytes()).await.expect("write");
    sock.write_all(body).await.expect("write body");
    let mut answer = Vec::new();
    sock.read_to_end(&mut answer).await.expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn metadata_names_keep_their_case_on_the_wire() {
    let s = start().await;
    assert_eq!(
        s.send("PUT", "/cased?restype=container", &[], b"", true)
            .await
            .status(),
        201
    );
    let put = raw_exchange(
        &s,
        "PUT",
        "/cased/b",
        &[
            ("x-ms-blob-type", "BlockBlob"),
            ("x-ms-meta-MixedCase", "v"),
        ],
        b"data",
    )
    .await;
    assert!(put.starts_with("HTTP/1.1 201"), "{put}");
    let head = raw_exchange(&s, "HEAD", "/cased/b", &[], b"").await;
    assert!(head.contains("\r\nx-ms-meta-MixedCase: v\r\n"), "{head}");
    let listing = s
        .send(
            "GET",
            "/cased?restype=container&comp=list&include=metadata",
            &[],
            b"",
            true,
        )
        .await;
    let xml = listing.text().await.expect("xml");
    assert!(xml.contains("<MixedCase>v</MixedCase>"), "{xml}");
}

#[tokio::test]
async fn unknown_operations_are_azure_errors_not_500() {
    let s = start().await;
    assert_eq!(
        s.send("PUT", "/cc1?restype=container", &[], b"", true)
            .await
            .status(),
        201
    );
    let bogus = s
        .send("GET", "/cc1?restype=container&comp=bogus", &[], b"", true)
        .await;
    assert_eq!(bogus.status(), 400);
    assert_eq!(code(&bogus), "InvalidQueryParameterValue");
    // Set Blob Expiry is routed but not served.
    let expiry = s
        .send(
            "PUT",
            "/cc1/b?comp=expiry",
            &[("x-ms-expiry-option", "NeverExpire")],
            b"",
            true,
        )
        .await;
    assert_eq!(expiry.status(), 501);
    assert_eq!(code(&expiry), "NotImplemented");
    let no_type = s.send("PUT", "/cc1/b", &[], b"abc", true).await;
    assert_eq!(no_type.status(), 400);
    assert_eq!(code(&no_type), "MissingRequiredHeader");
    // The body of the refused request was not read: the connection must not be reused.
    assert_eq!(no_type.headers()["connection"], "close");
}

#[tokio::test]
async fn common_headers_on_every_answer() {
    let s = start().await;
    let resp = s
        .send(
            "GET",
            "/?comp=list",
            &[("x-ms-client-request-id", "abc-123")],
            b"",
            true,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["x-ms-version"], "2025-01-05");
    assert_eq!(h["x-ms-client-request-id"], "abc-123");
    assert_eq!(h["x-ms-request-id"].len(), 36);
    assert!(h.contains_key("date"));
}

#[tokio::test]
async fn bad_md5_stores_nothing() {
    let s = start().await;
    assert_eq!(
        s.send("PUT", "/md5?restype=container", &[], b"", true)
            .await
            .status(),
        201
    );
    let wrong = base64::engine::general_purpose::STANDARD.encode([0u8; 16]);
    let put = s
        .send(
            "PUT",
            "/md5/b",
            &[("x-ms-blob-type", "BlockBlob"), ("content-md5", &wrong)],
            b"payload",
            true,
        )
        .await;
    assert_eq!(put.status(), 400);
    assert_eq!(code(&put), "Md5Mismatch");
    let get = s.send("GET", "/md5/b", &[], b"", true).await;
    assert_eq!(get.status(), 404);
    assert_eq!(code(&get), "BlobNotFound");
}

#[tokio::test]
async fn metrics_count_requests_by_operation_and_status() {
    let s = start().await;
    assert_eq!(
        s.send("PUT", "/metered?restype=container", &[], b"", true)
            .await
            .status(),
        201
    );
    assert_eq!(
        s.send(
            "PUT",
            "/metered/b",
            &[("x-ms-blob-type", "BlockBlob")],
            b"12345",
            true
        )
        .await
        .status(),
        201
    );
    assert_eq!(
        s.send("GET", "/metered/missing", &[], b"", true)
            .await
            .status(),
        404
    );
    let text = s
        .client
        .get(format!("{}/metrics", s.admin))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(r#"lapis_requests_total{service="blob",operation="PutBlob",status="201"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"lapis_requests_total{service="blob",operation="GetBlob",status="404"} 1"#),
        "{text}"
    );
    assert!(text.contains("lapis_blobs 1"), "{text}");
    assert!(text.contains("lapis_blob_bytes 5"), "{text}");
    assert!(text.contains("lapis_queues 0"), "{text}");
    let ready = s
        .client
        .get(format!("{}/readyz", s.admin))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn queue_requests_are_metered_under_their_own_service() {
    let s = start().await;
    assert_eq!(s.send_queue("PUT", "/metered", b"").await.status(), 201);
    let message = b"<QueueMessage><MessageText>hi</MessageText></QueueMessage>";
    let put = s.send_queue("POST", "/metered/messages", message).await;
    assert_eq!(put.status(), 201);
    let missing = s.send_queue("DELETE", "/missing", b"").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(code(&missing), "QueueNotFound");
    let text = s
        .client
        .get(format!("{}/metrics", s.admin))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    for line in [
        r#"lapis_requests_total{service="queue",operation="CreateQueue",status="201"} 1"#,
        r#"lapis_requests_total{service="queue",operation="PutMessage",status="201"} 1"#,
        r#"lapis_requests_total{service="queue",operation="DeleteQueue",status="404"} 1"#,
        "lapis_queues 1",
        "lapis_queue_messages 1",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
}

#[tokio::test]
async fn a_single_segment_path_is_a_blob_in_the_root_container() {
    let s = start().await;
    let missing = s.send("GET", "/rootblob", &[], b"", true).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(code(&missing), "ContainerNotFound");
    assert_eq!(
        s.send("PUT", "/$root?restype=container", &[], b"", true)
            .await
            .status(),
        201
    );
    let put = s
        .send(
            "PUT",
            "/rootblob",
            &[("x-ms-blob-type", "BlockBlob")],
            b"at the root",
            true,
        )
        .await;
    assert_eq!(put.status(), 201);
    let get = s.send("GET", "/$root/rootblob", &[], b"", true).await;
    assert_eq!(get.status(), 200);
    assert_eq!(get.bytes().await.expect("body").as_ref(), b"at the root");
}

#[tokio::test]
async fn page_blob_ranges_and_headers_on_the_wire() {
    let s = start().await;
    let ok = |r: &reqwest::Response, status: u16| assert_eq!(r.status(), status, "{}", code(r));
    ok(
        &s.send("PUT", "/pages?restype=container", &[], b"", true)
            .await,
        201,
    );
    let create = [
        ("x-ms-blob-type", "PageBlob"),
        ("x-ms-blob-content-length", "4096"),
        ("x-ms-blob-sequence-number", "3"),
    ];
    ok(&s.send("PUT", "/pages/p", &create, b"", true).await, 201);
    for range in ["bytes=0-511", "bytes=2048-2559"] {
        let put = s
            .send(
                "PUT",
                "/pages/p?comp=page",
                &[("x-ms-page-write", "update"), ("x-ms-range", range)],
                &[7u8; 512],
                true,
            )
            .await;
        ok(&put, 201);
        assert_eq!(put.headers()["x-ms-blob-sequence-number"], "3");
        assert!(put.headers().contains_key("x-ms-content-crc64"));
    }
    let list = s
        .send("GET", "/pages/p?comp=pagelist", &[], b"", true)
        .await;
    ok(&list, 200);
    assert_eq!(list.headers()["x-ms-blob-content-length"], "4096");
    assert_eq!(
        list.text().await.unwrap(),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><PageList>\
         <PageRange><Start>0</Start><End>511</End></PageRange>\
         <PageRange><Start>2048</Start><End>2559</End></PageRange></PageList>"
    );
    let first = s
        .send("GET", "/pages/p?comp=pagelist&maxresults=1", &[], b"", true)
        .await;
    assert!(first
        .text()
        .await
        .unwrap()
        .ends_with("<End>511</End></PageRange><NextMarker>512</NextMarker></PageList>"));
    let rest = s
        .send(
            "GET",
            "/pages/p?comp=pagelist&maxresults=1&marker=512",
            &[],
            b"",
            true,
        )
        .await;
    assert!(rest
        .text()
        .await
        .unwrap()
        .ends_with("<End>2559</End></PageRange><NextMarker /></PageList>"));
    let head = s.send("HEAD", "/pages/p", &[], b"", true).await;
    ok(&head, 200);
    assert_eq!(head.headers()["x-ms-blob-type"], "PageBlob");
    assert_eq!(head.headers()["x-ms-blob-sequence-number"], "3");
    assert!(!head.headers().contains_key("x-ms-access-tier"));
    // A body that is not the range is refused, and nothing is written.
    let short = s
        .send(
            "PUT",
            "/pages/p?comp=page",
            &[
                ("x-ms-page-write", "update"),
                ("x-ms-range", "bytes=1024-2047"),
            ],
            &[1u8; 512],
            true,
        )
        .await;
    ok(&short, 416);
    assert_eq!(code(&short), "InvalidPageRange");
    let bad_marker = s
        .send("GET", "/pages/p?comp=pagelist&marker=x", &[], b"", true)
        .await;
    ok(&bad_marker, 400);
    let zero = s
        .send("GET", "/pages/p?comp=pagelist&maxresults=0", &[], b"", true)
        .await;
    ok(&zero, 400);
    let get = s
        .send(
            "GET",
            "/pages/p",
            &[("x-ms-range", "bytes=0-1023")],
            b"",
            true,
        )
        .await;
    ok(&get, 206);
    let body = get.bytes().await.unwrap();
    assert_eq!(&body[..512], &[7u8; 512][..]);
    assert_eq!(&body[512..], &[0u8; 512][..]);
}
