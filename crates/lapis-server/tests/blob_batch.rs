//! Blob Batch over raw HTTP: sub-requests signed one by one, malformed and mixed batches, and
//! the parts of the answer.

use std::net::SocketAddr;

use base64::Engine;
use lapis_auth::{sign_shared_key, Accounts, RequestInfo, Service, DEV_ACCOUNT, DEV_KEY};
use lapis_server::AppState;
use lapis_store::Store;

struct Server {
    base: String,
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
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        _stop: tx,
    }
}

fn now() -> String {
    httpdate::fmt_http_date(std::time::SystemTime::now())
}

/// The Shared Key `Authorization` value; `signed_path` is the path as the client signs it.
fn sign(
    method: &str,
    signed_path: &str,
    query: Option<&str>,
    headers: &[(String, String)],
) -> String {
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let info = RequestInfo {
        method,
        raw_path: signed_path,
        raw_query: query,
        headers: &pairs,
        account: DEV_ACCOUNT,
        client_ip: None,
        https: false,
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(DEV_KEY)
        .expect("key");
    sign_shared_key(DEV_ACCOUNT, &key, &info, Service::Blob, false)
}

/// One sub-request as the SDKs write it, signed over its own path (or unsigned).
fn part(id: usize, method: &str, path: &str, extra: &[(&str, &str)], signed: bool) -> String {
    let signed_over = signed.then_some(path);
    part_signed_over(id, method, path, extra, signed_over)
}

/// One sub-request sent with `path`, signed over `signed_over` (None: unsigned).
fn part_signed_over(
    id: usize,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    signed_over: Option<&str>,
) -> String {
    let mut headers: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    headers.push(("x-ms-date".into(), now()));
    if let Some(signed_over) = signed_over {
        let (p, q) = match signed_over.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (signed_over, None),
        };
        let auth = sign(method, p, q, &headers);
        headers.push(("Authorization".into(), auth));
    }
    let mut out = format!(
        "--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {id}\r\n\r\n{method} {path} HTTP/1.1\r\n"
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out
}

fn close(parts: Vec<String>) -> String {
    let mut body = parts.concat();
    body.push_str("--batch_1--\r\n");
    body
}

impl Server {
    /// A Shared Key request with a body.
    async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> reqwest::Response {
        let url = reqwest::Url::parse(&format!("{}{path_and_query}", self.base)).expect("url");
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.push(("x-ms-date".into(), now()));
        all.push(("x-ms-version".into(), "2025-01-05".into()));
        all.push(("Content-Length".into(), body.len().to_string()));
        let auth = sign(method, url.path(), url.query(), &all);
        let mut req = self
            .client
            .request(method.parse().expect("method"), url)
            .header("authorization", auth)
            .body(body);
        for (k, v) in &all {
            req = req.header(k, v);
        }
        req.send().await.expect("send")
    }

    async fn put_blob(&self, container: &str, blob: &str) -> String {
        let resp = self
            .send(
                "PUT",
                &format!("/{DEV_ACCOUNT}/{container}/{blob}"),
                &[("x-ms-blob-type", "BlockBlob")],
                b"hello".to_vec(),
            )
            .await;
        assert_eq!(resp.status(), 201, "{:?}", resp.headers());
        resp.headers()["etag"].to_str().unwrap().to_string()
    }

    async fn status_of(&self, container: &str, blob: &str) -> u16 {
        let path = format!("/{DEV_ACCOUNT}/{container}/{blob}");
        self.send("HEAD", &path, &[], Vec::new())
            .await
            .status()
            .as_u16()
    }

    async fn create_container(&self, name: &str) {
        let path = format!("/{DEV_ACCOUNT}/{name}?restype=container");
        assert_eq!(self.send("PUT", &path, &[], Vec::new()).await.status(), 201);
    }

    /// Submits a batch; returns the parts of the 202 answer as (head, body) text.
    async fn batch(
        &self,
        path_and_query: &str,
        content_type: Option<&str>,
        body: String,
    ) -> Vec<String> {
        let headers: Vec<(&str, &str)> = content_type
            .map(|ct| ("Content-Type", ct))
            .into_iter()
            .collect();
        let resp = self
            .send("POST", path_and_query, &headers, body.into_bytes())
            .await;
        assert_eq!(resp.status(), 202);
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        let boundary = ct
            .strip_prefix("multipart/mixed; boundary=")
            .expect("multipart answer")
            .to_string();
        assert!(boundary.starts_with("batchresponse_"), "{boundary}");
        let text = resp.text().await.expect("body");
        assert!(text.ends_with(&format!("--{boundary}--")), "{text}");
        text.split(&format!("--{boundary}"))
            .filter(|p| !p.is_empty() && *p != "--")
            .map(str::to_string)
            .collect()
    }
}

fn service_batch() -> String {
    format!("/{DEV_ACCOUNT}?comp=batch")
}

const CT: Option<&str> = Some("multipart/mixed; boundary=batch_1");

#[tokio::test]
async fn deletes_each_sub_request_on_its_own() {
    let s = start().await;
    s.create_container("cone").await;
    s.put_blob("cone", "a").await;
    s.put_blob("cone", "b").await;
    s.put_blob("cone", "c").await;
    let etag = s.put_blob("cone", "guarded").await;
    let body = close(vec![
        // Path-style, as the SDKs send to an emulator.
        part(0, "DELETE", &format!("/{DEV_ACCOUNT}/cone/a"), &[], true),
        // Relative to the account, as sent to Azure's own hosts and signed so.
        part(1, "DELETE", "/cone/b", &[], true),
        part(
            2,
            "DELETE",
            &format!("/{DEV_ACCOUNT}/cone/missing"),
            &[],
            true,
        ),
        // Conditions hold as in a request of its own.
        part(
            3,
            "DELETE",
            &format!("/{DEV_ACCOUNT}/cone/guarded"),
            &[("If-None-Match", &etag)],
            true,
        ),
        // No credentials: anonymous, so the private blob is not found.
        part(
            4,
            "DELETE",
            &format!("/{DEV_ACCOUNT}/cone/guarded"),
            &[],
            false,
        ),
        // Relative to the account but signed over the path-style URL, as object_store does.
        part_signed_over(
            5,
            "DELETE",
            "/cone/c",
            &[],
            Some(&format!("/{DEV_ACCOUNT}/cone/c")),
        ),
        // Signed over neither form.
        part_signed_over(6, "DELETE", "/cone/guarded", &[], Some("/cone/other")),
    ]);
    let parts = s.batch(&service_batch(), CT, body).await;
    assert_eq!(parts.len(), 7, "{parts:?}");
    let expect = [
        ("Content-ID: 0", "HTTP/1.1 202 Accepted", None),
        ("Content-ID: 1", "HTTP/1.1 202 Accepted", None),
        (
            "Content-ID: 2",
            "HTTP/1.1 404 The specified blob does not exist.",
            Some("BlobNotFound"),
        ),
        ("Content-ID: 3", "HTTP/1.1 412 ", Some("ConditionNotMet")),
        ("Content-ID: 4", "HTTP/1.1 404 ", Some("ResourceNotFound")),
        ("Content-ID: 5", "HTTP/1.1 202 Accepted", None),
        (
            "Content-ID: 6",
            "HTTP/1.1 403 ",
            Some("AuthenticationFailed"),
        ),
    ];
    for (p, (id, status, code)) in parts.iter().zip(expect) {
        assert!(
            p.starts_with(&format!(
                "\r\nContent-Type: application/http\r\n{id}\r\n\r\n{status}"
            )),
            "{p}"
        );
        assert!(p.contains("x-ms-request-id: "), "{p}");
        assert!(p.contains("x-ms-version: 2025-01-05"), "{p}");
        match code {
            None => assert!(p.contains("x-ms-delete-type-permanent: true\r\n"), "{p}"),
            Some(code) => {
                assert!(p.contains(&format!("x-ms-error-code: {code}\r\n")), "{p}");
                assert!(p.contains(&format!("<Code>{code}</Code>")), "{p}");
            }
        }
    }
    assert_eq!(s.status_of("cone", "a").await, 404);
    assert_eq!(s.status_of("cone", "b").await, 404);
    assert_eq!(s.status_of("cone", "c").await, 404);
    assert_eq!(s.status_of("cone", "guarded").await, 200);
}

/// The single part that answers a batch refused whole.
fn assert_refused(parts: &[String], status: &str, code: &str) {
    assert_eq!(parts.len(), 1, "{parts:?}");
    let p = &parts[0];
    assert!(!p.contains("Content-ID"), "{p}");
    assert!(p.contains(&format!("\r\n\r\nHTTP/1.1 {status}")), "{p}");
    assert!(p.contains(&format!("x-ms-error-code: {code}\r\n")), "{p}");
}

#[tokio::test]
async fn refuses_whole_batches_as_azure_does() {
    let s = start().await;
    s.create_container("cone").await;
    s.create_container("ctwo").await;
    s.put_blob("cone", "a").await;
    s.put_blob("ctwo", "b").await;
    let a = format!("/{DEV_ACCOUNT}/cone/a");
    let b = format!("/{DEV_ACCOUNT}/ctwo/b");

    let body = || close(vec![part(0, "DELETE", &a, &[], true)]);
    let parts = s.batch(&service_batch(), None, body()).await;
    assert_refused(&parts, "400 ", "MissingRequiredHeader");
    let parts = s
        .batch(&service_batch(), Some("multipart/mixed"), body())
        .await;
    assert_refused(&parts, "400 ", "InvalidHeaderValue");
    let parts = s
        .batch(&service_batch(), CT, "--batch_1--\r\n".into())
        .await;
    assert_refused(
        &parts,
        "400 One of the request inputs is not valid.",
        "InvalidInput",
    );

    // A container's batch touches only its own blobs.
    let scoped = format!("/{DEV_ACCOUNT}/cone?restype=container&comp=batch");
    let mixed = close(vec![
        part(0, "DELETE", &a, &[], true),
        part(1, "DELETE", &b, &[], true),
    ]);
    let parts = s.batch(&scoped, CT, mixed).await;
    assert_refused(&parts, "400 ", "InvalidInput");

    // One kind of operation per batch.
    let kinds = close(vec![
        part(0, "DELETE", &a, &[], true),
        part(
            1,
            "PUT",
            &format!("{b}?comp=tier"),
            &[("x-ms-access-tier", "Cool")],
            true,
        ),
    ]);
    let parts = s.batch(&service_batch(), CT, kinds).await;
    assert_refused(
        &parts,
        "400 All batch subrequests should be the same api.",
        "AllBatchSubRequestsShouldBeSameApi",
    );

    // Only Delete Blob and Set Blob Tier travel in a batch.
    let read = close(vec![part(0, "GET", &a, &[], true)]);
    let parts = s.batch(&service_batch(), CT, read).await;
    assert_refused(&parts, "400 ", "InvalidInput");

    // At most 256.
    let many = close((0..257).map(|i| part(i, "DELETE", &a, &[], true)).collect());
    let parts = s.batch(&service_batch(), CT, many).await;
    assert_refused(
        &parts,
        "400 The batch operation exceeds maximum number of allowed subrequests.",
        "ExceedsMaxBatchRequestCount",
    );

    // Nothing ran.
    assert_eq!(s.status_of("cone", "a").await, 200);
    assert_eq!(s.status_of("ctwo", "b").await, 200);

    // The container's own blobs, at the limit.
    let full = close((0..256).map(|i| part(i, "DELETE", &a, &[], true)).collect());
    let parts = s.batch(&scoped, CT, full).await;
    assert_eq!(parts.len(), 256);
    let accepted = parts
        .iter()
        .filter(|p| p.contains("HTTP/1.1 202 Accepted"))
        .count();
    assert_eq!(accepted, 1, "one delete finds the blob, the others do not");
    assert_eq!(s.status_of("cone", "a").await, 404);
}

#[tokio::test]
async fn an_unsigned_batch_is_refused_before_its_parts() {
    let s = start().await;
    let body = close(vec![part(
        0,
        "DELETE",
        &format!("/{DEV_ACCOUNT}/cone/a"),
        &[],
        true,
    )]);
    let resp = s
        .client
        .post(format!("{}{}", s.base, service_batch()))
        .header("content-type", CT.unwrap())
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["x-ms-error-code"],
        "NoAuthenticationInformation"
    );
}
