//! HTTPS (`--cert`, `--key`, `--pwd`): a certificate authority and a server certificate made at
//! test time (rcgen), PEM and PKCS#12 (written by p12-keystore), signed requests over https
//! through reqwest trusting that authority; the URLs Lapis writes and a SAS's `spr=https` over
//! TLS; a plain-http request to a TLS port; and the start-up errors, through the binary.

mod signed;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use lapis_auth::{sign_service_sas, Accounts, SasParams, Service, DEV_ACCOUNT, DEV_KEY};
use lapis_server::{AppState, ServiceKind, TlsConfig};
use lapis_store::Store;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A test certificate authority and a server certificate it signed for 127.0.0.1 and localhost.
struct Certs {
    ca_pem: String,
    ca_der: Vec<u8>,
    leaf_pem: String,
    leaf_der: Vec<u8>,
    key_pem: String,
    key_der: Vec<u8>,
}

fn make_certs() -> Certs {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Lapis test CA");
    let ca_key = KeyPair::generate().expect("ca key");
    let ca = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = Issuer::new(ca_params, ca_key);
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("leaf params");
    params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    let key = KeyPair::generate().expect("leaf key");
    let leaf = params.signed_by(&key, &issuer).expect("leaf cert");
    Certs {
        ca_pem: ca.pem(),
        ca_der: ca.der().to_vec(),
        leaf_pem: leaf.pem(),
        leaf_der: leaf.der().to_vec(),
        key_pem: key.serialize_pem(),
        key_der: key.serialize_der(),
    }
}

/// A PKCS#12 file holding the server key, its certificate and the authority's.
fn make_pfx(certs: &Certs, password: &str) -> Vec<u8> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let chain = PrivateKeyChain::new(
        b"lapis-test".as_slice(),
        PrivateKey::from_der(&certs.key_der).expect("pkcs8 key"),
        [
            Certificate::from_der(&certs.leaf_der).expect("leaf"),
            Certificate::from_der(&certs.ca_der).expect("ca"),
        ],
    );
    let mut store = KeyStore::new();
    store.add_entry("lapis", KeyStoreEntry::PrivateKeyChain(chain));
    store.writer(password).write().expect("write pkcs12")
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write file");
    path
}

/// Blob, Table and Queue over TLS, and Blob over plain http, on one in-memory store.
struct Servers {
    blob: String,
    table: String,
    queue: String,
    plain_blob: String,
    client: reqwest::Client,
}

async fn listen() -> (tokio::net::TcpListener, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    (listener, addr)
}

async fn start(tls: TlsConfig, ca_pem: &str) -> Servers {
    let state = AppState::new(Store::in_memory().expect("store"), Accounts::dev());
    let mut urls = Vec::new();
    for kind in [ServiceKind::Blob, ServiceKind::Table, ServiceKind::Queue] {
        let (listener, addr) = listen().await;
        tokio::spawn(lapis_server::serve_with(
            listener,
            state.clone(),
            kind,
            lapis_server::ServeOptions {
                tls: Some(tls.clone()),
                ..Default::default()
            },
            std::future::pending(),
        ));
        urls.push(format!("https://{addr}/{DEV_ACCOUNT}"));
    }
    let (listener, addr) = listen().await;
    tokio::spawn(lapis_server::serve(
        listener,
        state,
        ServiceKind::Blob,
        std::future::pending(),
    ));
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("ca"))
        .build()
        .expect("client");
    Servers {
        blob: urls[0].clone(),
        table: urls[1].clone(),
        queue: urls[2].clone(),
        plain_blob: format!("http://{addr}/{DEV_ACCOUNT}"),
        client,
    }
}

fn dev_key() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(DEV_KEY)
        .expect("key")
}

impl Servers {
    /// A request signed with Shared Key (the signature is the same over http and https).
    async fn signed(
        &self,
        service: Service,
        method: &str,
        url: &str,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> reqwest::Response {
        signed::send(&self.client, service, method, url, extra, body).await
    }
}

/// A blob round trip, the https URLs of the three services' answers and a SAS for https only.
async fn exercise(servers: &Servers) {
    let s = servers;
    let resp = s
        .signed(
            Service::Blob,
            "PUT",
            &format!("{}/tls?restype=container", s.blob),
            &[],
            b"",
        )
        .await;
    assert_eq!(resp.status(), 201, "create container over https");
    let resp = s
        .signed(
            Service::Blob,
            "PUT",
            &format!("{}/tls/hello.txt", s.blob),
            &[("x-ms-blob-type", "BlockBlob")],
            b"hello over TLS",
        )
        .await;
    assert_eq!(resp.status(), 201, "put blob over https");
    let resp = s
        .signed(
            Service::Blob,
            "GET",
            &format!("{}/tls/hello.txt", s.blob),
            &[],
            b"",
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "hello over TLS");

    let resp = s
        .signed(
            Service::Blob,
            "GET",
            &format!("{}?comp=list", s.blob),
            &[],
            b"",
        )
        .await;
    let listing = resp.text().await.unwrap();
    assert!(
        listing.contains(&format!("ServiceEndpoint=\"{}/\"", s.blob)),
        "the listing names the https endpoint: {listing}"
    );

    let resp = s
        .signed(
            Service::Table,
            "POST",
            &format!("{}/Tables", s.table),
            &[
                ("Content-Type", "application/json"),
                ("Accept", "application/json;odata=minimalmetadata"),
            ],
            br#"{"TableName":"tls"}"#,
        )
        .await;
    assert_eq!(resp.status(), 201, "create table over https");
    let created = resp.text().await.unwrap();
    assert!(
        created.contains(&format!("\"odata.metadata\":\"{}/$metadata", s.table)),
        "odata.metadata is an https URL: {created}"
    );

    let resp = s
        .signed(
            Service::Queue,
            "GET",
            &format!("{}?comp=list", s.queue),
            &[],
            b"",
        )
        .await;
    assert_eq!(resp.status(), 200);
    let queues = resp.text().await.unwrap();
    assert!(
        queues.contains(&format!("ServiceEndpoint=\"{}/\"", s.queue)),
        "the queue listing names the https endpoint: {queues}"
    );

    // A SAS for https only: honoured over TLS, refused over plain http.
    let params = SasParams {
        version: "2025-01-05".into(),
        permissions: "r".into(),
        expiry: "2099-01-01T00:00:00Z".into(),
        protocol: "https".into(),
        resource: "b".into(),
        ..Default::default()
    };
    let sas = sign_service_sas(
        DEV_ACCOUNT,
        &dev_key(),
        Service::Blob,
        "tls",
        Some("hello.txt"),
        &params,
    );
    let resp = s
        .client
        .get(format!("{}/tls/hello.txt?{sas}", s.blob))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "spr=https over https");
    assert_eq!(resp.text().await.unwrap(), "hello over TLS");
    let resp = s
        .client
        .get(format!("{}/tls/hello.txt?{sas}", s.plain_blob))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "spr=https over http");
    assert_eq!(
        resp.headers()["x-ms-error-code"],
        "AuthorizationProtocolMismatch"
    );
}

#[tokio::test]
async fn pem_certificate_and_key_serve_https() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs();
    let cert = write(dir.path(), "cert.pem", &certs.leaf_pem);
    let key = write(dir.path(), "key.pem", &certs.key_pem);
    let tls = TlsConfig::load(&cert, Some(&key), None).expect("load PEM");
    exercise(&start(tls, &certs.ca_pem).await).await;
}

#[tokio::test]
async fn pkcs12_file_serves_https_whatever_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs();
    // Told by content, not extension.
    let pfx = write(dir.path(), "server.cert", make_pfx(&certs, "secret"));
    let tls = TlsConfig::load(&pfx, None, Some("secret")).expect("load PFX");
    exercise(&start(tls, &certs.ca_pem).await).await;

    let no_password = write(dir.path(), "open.pfx", make_pfx(&certs, ""));
    TlsConfig::load(&no_password, None, Some("")).expect("a PFX without a password");
}

#[tokio::test]
async fn plain_http_to_a_tls_port_is_answered_and_closed() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs();
    let cert = write(dir.path(), "cert.pem", &certs.leaf_pem);
    let key = write(dir.path(), "key.pem", &certs.key_pem);
    let servers = start(
        TlsConfig::load(&cert, Some(&key), None).unwrap(),
        &certs.ca_pem,
    )
    .await;
    let addr = servers
        .blob
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap()
        .to_string();

    // Sends `bytes` and reads until the server closes (within 10 s: no hang).
    let exchange = |bytes: &'static [u8]| {
        let addr = addr.clone();
        async move {
            let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
            conn.write_all(bytes).await.unwrap();
            let mut answer = Vec::new();
            let read = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut answer));
            match read.await.expect("the server closes the connection") {
                Ok(_) => answer,
                // A reset after garbage is a clean refusal too.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => answer,
                Err(e) => panic!("{e}"),
            }
        }
    };
    // An HTTP request, with a body: a 400 saying to use https, then the socket closes.
    let answer = exchange(
        b"PUT /devstoreaccount1/c/b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    )
    .await;
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(answer.contains("https://"), "{answer}");

    // Bytes that are neither HTTP nor TLS: closed without an HTTP answer.
    let answer = exchange(&[0u8; 64]).await;
    assert!(
        !answer.starts_with(b"HTTP/"),
        "no HTTP answer to garbage: {answer:?}"
    );

    // The listener still serves https afterwards.
    let resp = servers
        .client
        .get(format!("{}?comp=list", servers.blob))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "anonymous listing refused, over TLS");
}

#[test]
fn bad_certificate_files_are_named_with_their_problem() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs();
    let other = make_certs();
    let cert = write(dir.path(), "cert.pem", &certs.leaf_pem);
    let key = write(dir.path(), "key.pem", &certs.key_pem);
    let other_key = write(dir.path(), "other-key.pem", &other.key_pem);
    let pfx = write(dir.path(), "cert.pfx", make_pfx(&certs, "secret"));
    let missing = dir.path().join("missing.pem");
    let err = |cert: &Path, key: Option<&Path>, pwd: Option<&str>| {
        TlsConfig::load(cert, key, pwd).expect_err("must fail")
    };

    let e = err(&missing, Some(&key), None);
    assert!(
        e.contains("missing.pem") && e.contains("cannot read"),
        "{e}"
    );
    let e = err(&cert, Some(&missing), None);
    assert!(e.contains("--key") && e.contains("missing.pem"), "{e}");
    let e = err(&cert, Some(&other_key), None);
    assert!(
        e.contains("other-key.pem") && e.contains("does not match"),
        "{e}"
    );
    let e = err(&cert, None, None);
    assert!(e.contains("cert.pem") && e.contains("--key"), "{e}");
    let e = err(&key, Some(&key), None);
    assert!(e.contains("key.pem") && e.contains("no certificate"), "{e}");
    let e = err(&cert, Some(&cert), None);
    assert!(e.contains("no private key"), "{e}");
    let e = err(&pfx, None, Some("wrong"));
    assert!(
        e.contains("cert.pfx") && e.contains("wrong password"),
        "{e}"
    );
    let e = err(&pfx, None, None);
    assert!(e.contains("cert.pfx") && e.contains("--pwd"), "{e}");
    let e = err(&pfx, Some(&key), Some("secret"));
    assert!(e.contains("--key"), "{e}");
    let junk = write(dir.path(), "junk.bin", [0x30u8, 0x03, 1, 2, 3]);
    let e = err(&junk, None, Some(""));
    assert!(e.contains("junk.bin") && e.contains("PKCS#12"), "{e}");
}

fn lapis(data: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lapis"));
    cmd.arg("--location").arg(data).args([
        "--silent",
        "--blobPort",
        "0",
        "--tablePort",
        "0",
        "--queuePort",
        "0",
        "--adminPort",
        "0",
    ]);
    cmd.args(extra).stdin(Stdio::null());
    cmd
}

#[test]
fn lapis_refuses_to_start_on_a_bad_certificate_before_touching_its_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs();
    let other = make_certs();
    let cert = write(dir.path(), "cert.pem", &certs.leaf_pem);
    let other_key = write(dir.path(), "other-key.pem", &other.key_pem);
    let pfx = write(dir.path(), "cert.pfx", make_pfx(&certs, "secret"));
    let p = |p: &Path| p.to_str().unwrap().to_string();
    let cases: [(Vec<String>, &str); 4] = [
        (
            vec!["--cert".into(), p(&pfx), "--pwd".into(), "wrong".into()],
            "wrong password",
        ),
        (
            vec![
                "--cert".into(),
                p(&dir.path().join("nowhere.pem")),
                "--key".into(),
                p(&other_key),
            ],
            "nowhere.pem",
        ),
        (
            vec!["--cert".into(), p(&cert), "--key".into(), p(&other_key)],
            "does not match",
        ),
        (vec!["--key".into(), p(&other_key)], "--key needs --cert"),
    ];
    for (args, expected) in cases {
        let data = dir.path().join("data");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = lapis(&data, &args).output().expect("run lapis");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing listens");
        assert!(!data.exists(), "{args:?}: the data folder is untouched");
    }
}

#[tokio::test]
async fn lapis_prints_https_addresses_and_serves_tls() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs();
    let cert = write(dir.path(), "cert.pem", &certs.leaf_pem);
    let key = write(dir.path(), "key.pem", &certs.key_pem);
    let mut child = lapis(
        &dir.path().join("data"),
        &[
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn lapis");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..4 {
        let mut line = String::new();
        out.read_line(&mut line).expect("read an address");
        lines.push(line.trim().to_string());
    }
    let schemes: Vec<&str> = lines
        .iter()
        .map(|l| l.split("://").next().unwrap())
        .collect();
    // Blob, Table, admin (plain http), Queue.
    assert_eq!(schemes, ["https", "https", "http", "https"], "{lines:?}");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(certs.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let resp = client
        .get(format!("{}/devstoreaccount1?comp=list", lines[0]))
        .send()
        .await;
    let admin = client.get(format!("{}/healthz", lines[2])).send().await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(resp.expect("blob over https").status(), 401);
    assert_eq!(admin.expect("admin over http").status(), 200);
}
