//! A full request through the server in-process: accept, parse, route, authenticate (account
//! SAS), store, respond, over loopback HTTP/1.1 with a keep-alive client. The router is private,
//! so routing is measured as part of this whole path.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lapis_auth::{Accounts, DEV_ACCOUNT};
use lapis_benches::{payload, quick_criterion};
use lapis_server::{AppState, ServiceKind};
use lapis_store::Store;

const VERSION: &str = "2025-11-05";

/// Starts the Blob service on a free loopback port; returns its base URL. The server runs until
/// the runtime is dropped.
fn start(rt: &tokio::runtime::Runtime, store: Store) -> String {
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let state = AppState::new(store, Accounts::dev());
        tokio::spawn(lapis_server::serve(
            listener,
            state,
            ServiceKind::Blob,
            std::future::pending::<()>(),
        ));
        format!("http://{addr}/{DEV_ACCOUNT}")
    })
}

fn requests(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let sas = lapis_benches::dev_account_sas(VERSION);
    let client = reqwest::Client::new();
    let body = payload(4096);
    let dir = tempfile::tempdir().expect("temp dir");
    let engines = [
        ("memory", Store::in_memory().expect("in-memory store")),
        ("disk", Store::open(dir.path()).expect("on-disk store")),
    ];
    let mut group = c.benchmark_group("server_blob_4KiB");
    group.throughput(Throughput::Bytes(body.len() as u64));
    for (kind, store) in engines {
        let base = start(&rt, store);
        let container = format!("{base}/bench");
        let status = rt.block_on(async {
            client
                .put(format!("{container}?restype=container&{sas}"))
                .header("x-ms-version", VERSION)
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
        assert_eq!(status.ok(), Some(201), "create container");
        let put = |name: String| {
            let req = client
                .put(format!("{container}/{name}?{sas}"))
                .header("x-ms-version", VERSION)
                .header("x-ms-blob-type", "BlockBlob")
                .body(body.clone());
            async move { req.send().await.map(|r| r.status().as_u16()) }
        };
        assert_eq!(rt.block_on(put("get-me".into())).ok(), Some(201));
        let mut counter = 0u64;
        group.bench_function(BenchmarkId::new("put", kind), |b| {
            b.iter(|| {
                counter += 1;
                let status = rt.block_on(put(format!("put-{counter}")));
                assert_eq!(status.ok(), Some(201));
            })
        });
        let get_url = format!("{container}/get-me?{sas}");
        group.bench_function(BenchmarkId::new("get", kind), |b| {
            b.iter(|| {
                let got = rt.block_on(async {
                    let r = client
                        .get(&get_url)
                        .header("x-ms-version", VERSION)
                        .send()
                        .await?;
                    r.bytes().await
                });
                assert_eq!(got.map(|b| b.len()).ok(), Some(4096));
            })
        });
    }
    group.finish();
}

criterion_group! { name = benches; config = quick_criterion(); targets = requests }
criterion_main!(benches);
