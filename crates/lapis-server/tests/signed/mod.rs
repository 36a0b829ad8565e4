//! A Shared Key request as the in-process tests send it: the caller's headers plus the date,
//! version and length every request carries, signed for the development account.

use base64::Engine;
use lapis_auth::{sign_shared_key, RequestInfo, Service, DEV_ACCOUNT, DEV_KEY};

pub async fn send(
    client: &reqwest::Client,
    service: Service,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> reqwest::Response {
    let url = reqwest::Url::parse(url).expect("url");
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    all.push((
        "x-ms-date".into(),
        httpdate::fmt_http_date(std::time::SystemTime::now()),
    ));
    all.push(("x-ms-version".into(), "2025-01-05".into()));
    all.push(("Content-Length".into(), body.len().to_string()));
    let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let info = RequestInfo {
        method,
        raw_path: url.path(),
        raw_query: url.query(),
        headers: &pairs,
        account: DEV_ACCOUNT,
        client_ip: None,
        https: url.scheme() == "https",
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(DEV_KEY)
        .expect("key");
    let auth = sign_shared_key(DEV_ACCOUNT, &key, &info, service, false);
    let mut req = client
        .request(method.parse().expect("method"), url)
        .header("authorization", auth)
        .body(body.to_vec());
    for (k, v) in &all {
        req = req.header(k, v);
    }
    req.send().await.expect("send")
}

/// A Blob service on a free loopback port in this process, with the container `cont` made;
/// it stops when dropped. Not every test file that signs requests starts one.
#[allow(dead_code)]
pub struct BlobServer {
    pub base: String,
    pub client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

#[allow(dead_code)]
impl BlobServer {
    pub async fn start(state: lapis_server::AppState) -> BlobServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
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
        let s = BlobServer {
            base: format!("http://{addr}/{DEV_ACCOUNT}"),
            client: reqwest::Client::new(),
            _stop: tx,
        };
        let made = s.send("PUT", "/cont?restype=container", &[], b"").await;
        assert_eq!(made.status(), 201, "create container cont");
        s
    }

    /// `path_and_query` under the account, signed with Shared Key.
    pub async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> reqwest::Response {
        let url = format!("{}{}", self.base, path_and_query);
        send(&self.client, Service::Blob, method, &url, headers, body).await
    }
}
