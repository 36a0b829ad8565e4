//! Requests to the server under test: URLs with the account SAS, one call that returns status,
//! headers and body, and the median of repeated timings.

use std::future::Future;
use std::time::Instant;

use lapis_auth::DEV_ACCOUNT;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Url};

use crate::server::Server;

/// The Blob service version sent on every blob request (and the SAS's signed version).
pub const BLOB_VERSION: &str = "2025-11-05";
/// What the Python and JS Tables SDKs send.
pub const TABLE_VERSION: &str = "2019-02-02";
/// The Queue service version sent on every queue request.
pub const QUEUE_VERSION: &str = "2025-11-05";

/// Where the server listens and how to authenticate.
pub struct Target {
    pub client: reqwest::Client,
    /// `http://127.0.0.1:PORT/<account>`
    pub blob: String,
    pub table: String,
    pub queue: String,
    /// The whole account SAS query string (services b, q and t, every permission).
    pub sas: String,
    pub pid: u32,
}

impl Target {
    pub fn new(server: &Server) -> Target {
        Target::for_account(server, DEV_ACCOUNT)
    }

    /// The same server, as `account` (served with the dev account's key).
    pub fn for_account(server: &Server, account: &str) -> Target {
        Target {
            client: reqwest::Client::new(),
            blob: format!("{}/{account}", server.blob),
            table: format!("{}/{account}", server.table),
            queue: format!("{}/{account}", server.queue),
            sas: lapis_benches::dev_key_sas_for(account, BLOB_VERSION, "bqt"),
            pid: server.pid(),
        }
    }

    /// `base` + `path`, then the SAS, then `pairs` form-encoded.
    pub fn url(&self, base: &str, path: &str, pairs: &[(&str, &str)]) -> Url {
        let mut url = Url::parse(&format!("{base}{path}?{}", self.sas)).expect("valid URL");
        url.query_pairs_mut().extend_pairs(pairs);
        url
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// An error unless the status is `want`, quoting the start of the body.
    pub fn expect(self, want: u16, what: &str) -> Result<Reply, String> {
        if self.status == want {
            return Ok(self);
        }
        let body: String = self.body.chars().take(300).collect();
        Err(format!(
            "{what}: status {} (want {want}): {body}",
            self.status
        ))
    }
}

/// Sends `req` and reads the whole body.
pub async fn send(req: RequestBuilder) -> Result<Reply, String> {
    let res = req.send().await.map_err(|e| format!("request: {e}"))?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.text().await.map_err(|e| format!("body: {e}"))?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// The median wall time of `runs` calls of `f`, in milliseconds; any error stops the timing.
pub async fn median_ms<F, Fut>(runs: usize, mut f: F) -> Result<f64, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f().await?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// How many times `needle` occurs in `haystack`: the only client-side parsing the timings pay.
pub fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// An error when `got` differs from `want`.
pub fn check(what: &str, got: usize, want: usize) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got}, want {want}"))
    }
}
