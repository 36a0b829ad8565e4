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
