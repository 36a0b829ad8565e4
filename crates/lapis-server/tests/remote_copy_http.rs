//! Copy sources on another host (`--allowRemoteCopySources`), over raw HTTP: a tiny source
//! server on a loopback port of its own stands for the other host. Without the flag nothing is
//! fetched; with it each copy operation stores the source's bytes, and the source's failures
//! come back as Azure answers them.

mod signed;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use lapis_auth::{Accounts, Service, DEV_ACCOUNT};
use lapis_server::AppState;
use lapis_store::Store;
use md5::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------------------------------------
// The source: a minimal HTTP/1.1 server that answers one request per connection.

const FILE: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const TOKEN: &str = "Bearer good-token";
const ETAG: &str = "\"v1\"";

fn pages() -> Vec<u8> {
    (0..1024u32).map(|i| (i % 251) as u8).collect()
}

/// What the source was asked: the path and the headers (names lowercase).
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Source {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Source {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn last(&self, path: &str) -> Seen {
        self.requests()
            .into_iter()
            .rev()
            .find(|s| s.path == path)
            .unwrap_or_else(|| panic!("the source was never asked for {path}"))
    }
}

async fn start_source() -> Source {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(serve_one(conn, log.clone()));
        }
    });
    Source { addr, seen }
}

/// An answer: status, headers, body, and a Content-Length to declare instead of the body's.
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    declared: Option<u64>,
}

fn answer(status: u16, body: &[u8]) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
        declared: None,
    }
}

async fn serve_one(mut conn: TcpStream, log: Arc<Mutex<Vec<Seen>>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let mut lines = text.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or_default()
        .to_string();
    let headers: Vec<(String, String)> = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let seen = Seen { path, headers };
    log.lock().unwrap().push(seen.clone());
    let a = respond(&seen).await;
    let mut out = format!("HTTP/1.1 {} X\r\n", a.status);
    for (k, v) in &a.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    let len = a.declared.unwrap_or(a.body.len() as u64);
    out.push_str(&format!(
        "Content-Length: {len}\r\nConnection: close\r\n\r\n"
    ));
    let _ = conn.write_all(out.as_bytes()).await;
    let _ = conn.write_all(&a.body).await;
    let _ = conn.shutdown().await;
}

/// `Range: bytes=a-b` of `data`: 206 with those bytes.
fn ranged(seen: &Seen, data: &[u8]) -> Answer {
    let Some((a, b)) = seen
        .header("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
    else {
        return answer(200, data);
    };
    if a >= data.len() {
        return answer(416, b"");
    }
    let b = b.min(data.len() - 1);
    let mut ans = answer(206, &data[a..=b]);
    ans.headers
        .push(("Content-Range", format!("bytes {a}-{b}/{}", data.len())));
    ans
}

async fn respond(seen: &Seen) -> Answer {
    match seen.path.as_str() {
        "/file.txt" | "/private" => {
            if seen.path == "/private" && seen.header("authorization") != Some(TOKEN) {
                let mut a = answer(403, b"");
                a.headers
                    .push(("x-ms-error-code", "AuthenticationFailed".into()));
                return a;
            }
            if seen.header("if-match").is_some_and(|v| v != ETAG) {
                return answer(412, b"");
            }
            if seen.header("if-none-match") == Some(ETAG) {
                return answer(304, b"");
            }
            let mut a = ranged(seen, FILE);
            let md5 = md5::Md5::digest(FILE);
            a.headers.extend([
                ("ETag", ETAG.to_string()),
                ("Content-Type", "text/plain".into()),
                ("Content-Language", "en".into()),
                ("Cache-Control", "max-age=60".into()),
                ("Content-Disposition", "inline".into()),
                ("x-ms-meta-origin", "remote".into()),
            ]);
            if a.status == 200 {
                a.headers.push((
                    "Content-MD5",
                    base64::engine::general_purpose::STANDARD.encode(md5),
                ));
            }
            a
        }
        // A source that knows nothing of ranges.
        "/norange" => answer(200, FILE),
        "/pages" => ranged(seen, &pages()),
        "/missing" => {
            let mut a = answer(404, b"");
            a.headers.push(("x-ms-error-code", "BlobNotFound".into()));
            a
        }
        "/broken" => answer(503, b""),
        "/redirect" => {
            let mut a = answer(302, b"");
            a.headers.push(("Location", "http://127.0.0.1:1/".into()));
            a
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(4)).await;
            answer(200, FILE)
        }
        // Says it is one byte over 256 MiB (and sends only a little of it).
        "/huge" => Answer {
            declared: Some(256 * 1024 * 1024 + 1),
            ..answer(200, b"just the start")
        },
        _ => answer(404, b""),
    }
}

// ---------------------------------------------------------------------------------------------
// Lapis.

struct Server {
    addr: SocketAddr,
    base: String,
    client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start(remote: bool) -> Server {
    let state = AppState::new(Store::in_memory().expect("store"), Accounts::dev())
        .with_remote_copy_sources(remote)
        .with_remote_copy_timeout(Duration::from_secs(1));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(lapis_server::serve(
        listener,
        state,
        lapis_server::ServiceKind::Blob,
        async move {
            let _ = rx.await;
        },
    ));
    let s = Server {
        addr,
        base: format!("http://{addr}/{DEV_ACCOUNT}"),
        client: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client"),
        _stop: tx,
    };
    assert_eq!(
        s.send("PUT", "/cont?restype=container", &[], b"")
            .await
            .status(),
        201
    );
    s
}

impl Server {
    /// A request signed with Shared Key, with the date, version and length every one carries.
    async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> reqwest::Response {
        let url = format!("{}{}", self.base, path_and_query);
        signed::send(&self.client, Service::Blob, method, &url, headers, body).await
    }

    async fn content(&self, blob: &str) -> Vec<u8> {
        let got = self.send("GET", &format!("/cont/{blob}"), &[], b"").await;
        assert_eq!(got.status(), 200, "GET {blob}");
        got.bytes().await.expect("body").to_vec()
    }
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Status, `x-ms-error-code` and body of an answer.
async fn failure(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let code = header(&resp, "x-ms-error-code")
        .unwrap_or_default()
        .to_string();
    (status, code, resp.text().await.unwrap_or_default())
}

const SYNC: (&str, &str) = ("x-ms-requires-sync", "true");

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn without_the_flag_other_hosts_are_refused_and_nothing_is_fetched() {
    let source = start_source().await;
    let s = start(false).await;
    let other_host = "http://files.example.invalid/file.txt";
    let (status, code, body) = failure(
        s.send(
            "PUT",
            "/cont/dst",
            &[SYNC, ("x-ms-copy-source", other_host)],
            b"",
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (401, "CannotVerifyCopySource"));
    assert!(
        body.contains("--allowRemoteCopySources"),
        "the refusal names the flag: {body}"
    );
    // A loopback URL is this Lapis, whatever its port, as before: here a blob that does not
    // exist (Copy Blob, which reads its own account's blobs by key).
    let loopback = source.url(&format!("/{DEV_ACCOUNT}/cont/none"));
    let (status, code, _) = failure(
        s.send("PUT", "/cont/dst", &[("x-ms-copy-source", &loopback)], b"")
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (404, "CannotVerifyCopySource"));
    // A token for a source is refused as before.
    let (status, code, _) = failure(
        s.send(
            "PUT",
            "/cont/dst",
            &[
                SYNC,
                ("x-ms-copy-source", other_host),
                ("x-ms-copy-source-authorization", TOKEN),
            ],
            b"",
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (501, "NotImplemented"));
    assert!(source.requests().is_empty(), "Lapis fetched a source");
}

#[tokio::test]
async fn copy_blob_from_url_stores_the_source_and_its_properties() {
    let source = start_source().await;
    let s = start(true).await;
    let url = source.url("/file.txt");
    let copied = s
        .send("PUT", "/cont/dst", &[SYNC, ("x-ms-copy-source", &url)], b"")
        .await;
    assert_eq!(copied.status(), 202);
    assert_eq!(header(&copied, "x-ms-copy-status"), Some("success"));
    let copy_id = header(&copied, "x-ms-copy-id")
        .expect("copy id")
        .to_string();
    let md5 = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(FILE));
    assert_eq!(header(&copied, "content-md5"), Some(md5.as_str()));

    let asked = source.last("/file.txt");
    assert_eq!(asked.header("x-ms-version"), Some("2025-01-05"));
    assert_eq!(asked.header("range"), None);
    assert_eq!(asked.header("host"), Some(source.addr.to_string().as_str()));

    assert_eq!(s.content("dst").await, FILE);
    let head = s.send("HEAD", "/cont/dst", &[], b"").await;
    assert_eq!(header(&head, "x-ms-blob-type"), Some("BlockBlob"));
    assert_eq!(header(&head, "content-type"), Some("text/plain"));
    assert_eq!(header(&head, "content-language"), Some("en"));
    assert_eq!(header(&head, "cache-control"), Some("max-age=60"));
    assert_eq!(header(&head, "content-disposition"), Some("inline"));
    assert_eq!(header(&head, "content-md5"), Some(md5.as_str()));
    assert_eq!(header(&head, "x-ms-meta-origin"), Some("remote"));
    assert_eq!(header(&head, "x-ms-copy-id"), Some(copy_id.as_str()));
    assert_eq!(header(&head, "x-ms-copy-status"), Some("success"));
    assert_eq!(header(&head, "x-ms-copy-source"), Some(url.as_str()));
    let progress = format!("{0}/{0}", FILE.len());
    assert_eq!(header(&head, "x-ms-copy-progress"), Some(progress.as_str()));
    assert!(header(&head, "x-ms-copy-completion-time").is_some());

    // Metadata given replaces the source's.
    let copied = s
        .send(
            "PUT",
            "/cont/mine",
            &[SYNC, ("x-ms-copy-source", &url), ("x-ms-meta-mine", "1")],
            b"",
        )
        .await;
    assert_eq!(copied.status(), 202);
    let head = s.send("HEAD", "/cont/mine", &[], b"").await;
    assert_eq!(header(&head, "x-ms-meta-mine"), Some("1"));
    assert_eq!(header(&head, "x-ms-meta-origin"), None);

    // The source MD5 the client gives is checked against the bytes fetched.
    let wrong = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
    let (status, code, _) = failure(
        s.send(
            "PUT",
            "/cont/md5",
            &[
                SYNC,
                ("x-ms-copy-source", &url),
                ("x-ms-source-content-md5", &wrong),
            ],
            b"",
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "Md5Mismatch"));
    let ok = s
        .send(
            "PUT",
            "/cont/md5",
            &[
                SYNC,
                ("x-ms-copy-source", &url),
                ("x-ms-source-content-md5", &md5),
            ],
            b"",
        )
        .await;
    assert_eq!(ok.status(), 202);
}

#[tokio::test]
async fn copy_blob_completes_at_once_from_another_host() {
    let source = start_source().await;
    let s = start(true).await;
    let url = source.url("/file.txt");
    let copied = s
        .send(
            "PUT",
            "/cont/async",
            &[("x-ms-copy-source", &url), ("x-ms-access-tier", "Cool")],
            b"",
        )
        .await;
    assert_eq!(copied.status(), 202);
    assert_eq!(header(&copied, "x-ms-copy-status"), Some("success"));
    assert_eq!(s.content("async").await, FILE);
    let head = s.send("HEAD", "/cont/async", &[], b"").await;
    assert_eq!(header(&head, "x-ms-copy-source"), Some(url.as_str()));
    assert_eq!(header(&head, "x-ms-access-tier"), Some("Cool"));
    assert_eq!(header(&head, "x-ms-meta-origin"), Some("remote"));
}

#[tokio::test]
async fn put_blob_from_url_forwards_the_source_token() {
    let source = start_source().await;
    let s = start(true).await;
    let url = source.url("/private");
    let block = ("x-ms-blob-type", "BlockBlob");
    let (status, code, body) = failure(
        s.send("PUT", "/cont/p", &[block, ("x-ms-copy-source", &url)], b"")
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "CannotVerifyCopySource"));
    assert!(body.contains("<CopySourceStatusCode>403</CopySourceStatusCode>"));
    assert!(body.contains("<CopySourceErrorCode>AuthenticationFailed</CopySourceErrorCode>"));

    let put = s
        .send(
            "PUT",
            "/cont/p",
            &[
                block,
                ("x-ms-copy-source", &url),
                ("x-ms-copy-source-authorization", TOKEN),
            ],
            b"",
        )
        .await;
    assert_eq!(put.status(), 201);
    assert_eq!(source.last("/private").header("authorization"), Some(TOKEN));
    assert_eq!(s.content("p").await, FILE);
    let head = s.send("HEAD", "/cont/p", &[], b"").await;
    assert_eq!(header(&head, "content-type"), Some("text/plain"));
    // Put Blob From URL sets the metadata given, none if none.
    assert_eq!(header(&head, "x-ms-meta-origin"), None);
    assert_eq!(header(&head, "x-ms-copy-status"), Some("success"));

    // A token for a blob of this Lapis has nowhere to go: refused as before.
    let here = format!("http://{}/{DEV_ACCOUNT}/cont/p", s.addr);
    let (status, code, _) = failure(
        s.send(
            "PUT",
            "/cont/q",
            &[
                block,
                ("x-ms-copy-source", &here),
                ("x-ms-copy-source-authorization", TOKEN),
            ],
            b"",
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (501, "NotImplemented"));
}

#[tokio::test]
async fn from_url_writes_take_the_source_range() {
    let source = start_source().await;
    let s = start(true).await;
    let file = source.url("/file.txt");

    // Put Block From URL: one block from a source that serves ranges, one from one that does
    // not, then the list.
    let staged = s
        .send(
            "PUT",
            "/cont/blocks?comp=block&blockid=QUFBQQ==",
            &[
                ("x-ms-copy-source", &file),
                ("x-ms-source-range", "bytes=2-5"),
            ],
            b"",
        )
        .await;
    assert_eq!(staged.status(), 201);
    assert_eq!(source.last("/file.txt").header("range"), Some("bytes=2-5"));
    let norange = source.url("/norange");
    let staged = s
        .send(
            "PUT",
            "/cont/blocks?comp=block&blockid=QkJCQg==",
            &[
                ("x-ms-copy-source", &norange),
                ("x-ms-source-range", "bytes=10-12"),
            ],
            b"",
        )
        .await;
    assert_eq!(staged.status(), 201);
    let list = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>QUFBQQ==</Latest><Latest>QkJCQg==</Latest></BlockList>";
    let committed = s
        .send("PUT", "/cont/blocks?comp=blocklist", &[], list)
        .await;
    assert_eq!(committed.status(), 201);
    assert_eq!(s.content("blocks").await, b"2345abc");

    // Append Block From URL.
    let created = s
        .send("PUT", "/cont/log", &[("x-ms-blob-type", "AppendBlob")], b"")
        .await;
    assert_eq!(created.status(), 201);
    for range in ["bytes=0-3", "bytes=30-35"] {
        let appended = s
            .send(
                "PUT",
                "/cont/log?comp=appendblock",
                &[("x-ms-copy-source", &file), ("x-ms-source-range", range)],
                b"",
            )
            .await;
        assert_eq!(appended.status(), 201, "append {range}");
    }
    assert_eq!(s.content("log").await, b"0123uvwxyz");

    // Put Page From URL.
    let created = s
        .send(
            "PUT",
            "/cont/disk",
            &[
                ("x-ms-blob-type", "PageBlob"),
                ("x-ms-blob-content-length", "1024"),
            ],
            b"",
        )
        .await;
    assert_eq!(created.status(), 201);
    let written = s
        .send(
            "PUT",
            "/cont/disk?comp=page",
            &[
                ("x-ms-page-write", "update"),
                ("x-ms-range", "bytes=512-1023"),
                ("x-ms-copy-source", &source.url("/pages")),
                ("x-ms-source-range", "bytes=0-511"),
            ],
            b"",
        )
        .await;
    assert_eq!(written.status(), 201);
    let disk = s.content("disk").await;
    assert_eq!(&disk[..512], &[0u8; 512][..]);
    assert_eq!(&disk[512..], &pages()[..512]);

    // A range past the source's end is the source's 416.
    let (status, code, _) = failure(
        s.send(
            "PUT",
            "/cont/blocks?comp=block&blockid=Q0NDQw==",
            &[
                ("x-ms-copy-source", &norange),
                ("x-ms-source-range", "bytes=100-200"),
            ],
            b"",
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (416, "CannotVerifyCopySource"));
}

#[tokio::test]
async fn source_failures_are_answered_as_azure_answers_them() {
    let source = start_source().await;
    let s = start(true).await;
    let s = &s;
    let copy = |path: String| async move {
        failure(
            s.send(
                "PUT",
                "/cont/dst",
                &[SYNC, ("x-ms-copy-source", &path)],
                b"",
            )
            .await,
        )
        .await
    };

    let (status, code, body) = copy(source.url("/missing")).await;
    assert_eq!((status, code.as_str()), (404, "CannotVerifyCopySource"));
    assert!(body.contains("<CopySourceStatusCode>404</CopySourceStatusCode>"));
    assert!(body.contains("<CopySourceErrorCode>BlobNotFound</CopySourceErrorCode>"));

    let (status, code, _) = copy(source.url("/broken")).await;
    assert_eq!((status, code.as_str()), (503, "CannotVerifyCopySource"));

    let (status, code, body) = copy(source.url("/redirect")).await;
    assert_eq!((status, code.as_str()), (500, "CannotVerifyCopySource"));
    assert!(body.contains("<CopySourceStatusCode>302</CopySourceStatusCode>"));

    let https = format!("https://{}/file.txt", source.addr);
    let (status, code, body) = copy(https).await;
    assert_eq!((status, code.as_str()), (501, "NotImplemented"));
    assert!(body.contains("http://"), "{body}");

    let (status, code, body) = copy(source.url("/huge")).await;
    assert_eq!((status, code.as_str()), (409, "CannotVerifyCopySource"));
    assert!(body.contains("(256MB)"), "{body}");

    let (status, code, body) = copy(source.url("/slow")).await;
    assert_eq!((status, code.as_str()), (500, "CannotVerifyCopySource"));
    assert!(body.contains("within"), "{body}");

    // Nothing listens on a port just released.
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let (status, code, body) = copy(format!("http://127.0.0.1:{port}/file.txt")).await;
    assert_eq!((status, code.as_str()), (500, "CannotVerifyCopySource"));
    assert!(body.contains("Could not reach the copy source"), "{body}");

    // None of these left a blob behind.
    let head = s.send("HEAD", "/cont/dst", &[], b"").await;
    assert_eq!(head.status(), 404);
}

#[tokio::test]
async fn source_and_destination_conditions() {
    let source = start_source().await;
    let s = start(true).await;
    let url = source.url("/file.txt");
    let copy = |extra: (&'static str, &'static str)| {
        let url = url.clone();
        let s = &s;
        async move {
            s.send(
                "PUT",
                "/cont/dst",
                &[SYNC, ("x-ms-copy-source", &url), extra],
                b"",
            )
            .await
        }
    };
    let (status, code, _) = failure(copy(("x-ms-source-if-match", "\"other\"")).await).await;
    assert_eq!((status, code.as_str()), (412, "SourceConditionNotMet"));
    assert_eq!(
        source.last("/file.txt").header("if-match"),
        Some("\"other\"")
    );
    let (status, code, _) = failure(copy(("x-ms-source-if-none-match", ETAG)).await).await;
    assert_eq!((status, code.as_str()), (412, "SourceConditionNotMet"));
    let since = "Wed, 01 Jan 2020 00:00:00 GMT";
    assert_eq!(
        copy(("x-ms-source-if-modified-since", since))
            .await
            .status(),
        202
    );
    assert_eq!(
        source.last("/file.txt").header("if-modified-since"),
        Some(since)
    );
    assert_eq!(copy(("x-ms-source-if-match", ETAG)).await.status(), 202);

    // The destination's own conditions and lease hold as for a copy within Lapis.
    let (status, code, _) = failure(copy(("If-Match", "\"not-its-etag\"")).await).await;
    assert_eq!((status, code.as_str()), (412, "TargetConditionNotMet"));
    let lease = s
        .send(
            "PUT",
            "/cont/dst?comp=lease",
            &[
                ("x-ms-lease-action", "acquire"),
                ("x-ms-lease-duration", "-1"),
            ],
            b"",
        )
        .await;
    assert_eq!(lease.status(), 201);
    let lease_id = header(&lease, "x-ms-lease-id")
        .expect("lease id")
        .to_string();
    let (status, code, _) = failure(copy(("x-ms-meta-a", "b")).await).await;
    assert_eq!((status, code.as_str()), (412, "LeaseIdMissing"));
    let leased = s
        .send(
            "PUT",
            "/cont/dst",
            &[
                SYNC,
                ("x-ms-copy-source", &url),
                ("x-ms-lease-id", &lease_id),
            ],
            b"",
        )
        .await;
    assert_eq!(leased.status(), 202);
}
