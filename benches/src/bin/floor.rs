//! The machine's floor for one connection: the smallest HTTP/1.1 server on Lapis's own stack
//! (a tokio multi-thread runtime, hyper 1 through hyper-util), which `benches/compare` drives
//! with the same wrk as Lapis to report Lapis's one-connection figures as a fraction of it.
//!
//!   GET any path   200 with a fixed 4 KiB body
//!   PUT any path   reads the body, appends it to one file and `fdatasync`s it, then 201
//!
//!   floor DIR      serves on a free loopback port, prints `http://127.0.0.1:PORT` first,
//!                  appends to DIR/floor.log, runs until killed
//!
//! The sync runs on a blocking thread, as Lapis's durable commits run on its writer thread: a
//! hand-off each way is part of what a durable PUT costs either way.

use std::convert::Infallible;
use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

/// What a GET answers: the size of the compare runner's small blob.
const BODY_SIZE: usize = 4096;

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .ok_or_else(|| std::io::Error::other("usage: floor DIR"))?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(std::path::Path::new(&dir).join("floor.log"))?;
    let file = Arc::new(Mutex::new(file));
    let body = Bytes::from(vec![b'x'; BODY_SIZE]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("http://{}", listener.local_addr()?);
        loop {
            let (socket, _) = listener.accept().await?;
            socket.set_nodelay(true)?;
            let (file, body) = (file.clone(), body.clone());
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req| answer(req, file.clone(), body.clone()));
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(socket), service)
                    .await;
            });
        }
    })
}

async fn answer(
    req: Request<Incoming>,
    file: Arc<Mutex<std::fs::File>>,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let status = match *req.method() {
        Method::GET => return Ok(Response::new(Full::new(body))),
        Method::PUT => match req.into_body().collect().await {
            Ok(data) => {
                let data = data.to_bytes();
                let appended = tokio::task::spawn_blocking(move || {
                    let mut file = file.lock().map_err(|_| std::io::Error::other("poisoned"))?;
                    file.write_all(&data)?;
                    file.sync_data()
                })
                .await;
                match appended {
                    Ok(Ok(())) => StatusCode::CREATED,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                }
            }
            Err(_) => StatusCode::BAD_REQUEST,
        },
        _ => StatusCode::METHOD_NOT_ALLOWED,
    };
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    Ok(response)
}
