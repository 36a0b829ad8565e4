//! The accept loop: one hyper connection per socket, with two things axum::serve cannot give us.
//!
//! - Metadata names keep the case the client sent. Azure stores `x-ms-meta-Foo` as `Foo`, but
//!   hyper hands handlers lowercase header names. Each connection's bytes are scanned for
//!   `x-ms-meta-` header lines as they are read, and the request carries a map from lowercase
//!   name to the name as sent.
//!   Answers go the other way: a handler lists the metadata names of its answer in a
//!   `ResponseMetadataCase` extension, and the connection writes those header names with that
//!   case (same length, so only letters change, only inside the header block).
//! - Slow clients cannot hold a connection forever: a request's headers must arrive within a time
//!   limit, counted from the end of the previous answer on a keep-alive connection (so it is
//!   also the idle keep-alive timeout: `--blobKeepAliveTimeout` and its siblings set it).
//!
//! With `--cert`, TLS ends here too: each socket's handshake runs in the connection's own task
//! (a slow client holds up no one), then the decrypted stream is served as above. Every request
//! carries the connection's `Scheme`, which decides the URLs Lapis writes and a SAS's `spr`.
//! A plain-http request to a TLS port is answered with a plain-text 400 and the socket closed.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::tls::TlsConfig;

/// Most header lines a request may carry.
const MAX_HEADERS: usize = 1000;
/// How long in-flight requests get to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Bound on the names remembered per connection (a client could send many distinct ones).
const MAX_REMEMBERED_NAMES: usize = 4096;
const META_PREFIX: &[u8] = b"x-ms-meta-";
/// Longest unfinished line kept between reads; a longer one cannot be a metadata header line.
const MAX_CARRIED_LINE: usize = 1024;
/// How long a client may take over the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The first byte of a TLS record carrying a handshake message (the ClientHello).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// How the connection a request came on is carried. Every request has it as an extension.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scheme {
    #[default]
    Http,
    Https,
}

impl Scheme {
    /// The scheme of the connection a request came on (`Http` when none is set, as in tests
    /// that call a router directly).
    pub fn of(extensions: &http::Extensions) -> Scheme {
        extensions.get::<Scheme>().copied().unwrap_or_default()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    pub fn is_https(self) -> bool {
        self == Scheme::Https
    }
}

/// Metadata names as the client spelled them, keyed by their lowercase form.
#[derive(Clone, Default)]
pub struct MetadataNameCase(Arc<Mutex<HashMap<String, String>>>);

impl MetadataNameCase {
    /// The name as sent, or the lowercase name when it was not seen.
    pub fn original(&self, lowercase: &str) -> String {
        self.0
            .lock()
            .ok()
            .and_then(|m| m.get(lowercase).cloned())
            .unwrap_or_else(|| lowercase.to_string())
    }

    fn remember(&self, name: &[u8]) {
        let Ok(name) = std::str::from_utf8(name) else {
            return;
        };
        let Ok(mut m) = self.0.lock() else { return };
        if !name.bytes().any(|b| b.is_ascii_uppercase()) {
            // Lowercase needs no mapping, and must undo an earlier request's spelling.
            m.remove(name);
            return;
        }
        if m.len() >= MAX_REMEMBERED_NAMES {
            m.clear();
        }
        m.insert(name.to_ascii_lowercase(), name.to_string());
    }

    /// Scans bytes for header lines starting with `x-ms-meta-` (any case) and remembers the name.
    /// `carry` holds the unfinished last line of the previous read. Every byte read goes
    /// through here, bodies included (the stream does not know where a body ends), so lines are
    /// found with `memchr` and only a line split across two reads is copied: the byte-by-byte
    /// version over a whole copy of each read was 14 % of a large upload's CPU.
    fn scan(&self, carry: &mut Vec<u8>, fresh: &[u8]) {
        let mut rest = fresh;
        if !carry.is_empty() {
            let Some(end) = memchr::memchr(b'\n', rest) else {
                keep_unfinished(carry, rest);
                return;
            };
            carry.extend_from_slice(&rest[..end]);
            self.scan_line(carry);
            carry.clear();
            rest = &rest[end + 1..];
        }
        let mut line_start = 0;
        for end in memchr::memchr_iter(b'\n', rest) {
            self.scan_line(&rest[line_start..end]);
            line_start = end + 1;
        }
        keep_unfinished(carry, &rest[line_start..]);
    }

    fn scan_line(&self, line: &[u8]) {
        if line.len() <= META_PREFIX.len()
            || !line[..META_PREFIX.len()].eq_ignore_ascii_case(META_PREFIX)
        {
            return;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return;
        };
        self.remember(&line[META_PREFIX.len()..colon]);
    }
}

/// Appends the unfinished end of a read to `carry`, unless the line is already too long to be a
/// header line (then it is body bytes, and dropped).
fn keep_unfinished(carry: &mut Vec<u8>, tail: &[u8]) {
    if carry.len() + tail.len() <= MAX_CARRIED_LINE {
        carry.extend_from_slice(tail);
    } else {
        carry.clear();
    }
}

/// Metadata names of an answer, spelled as stored; set by handlers as a response extension.
#[derive(Clone, Debug, Default)]
pub struct ResponseMetadataCase(pub Vec<String>);

/// A socket whose incoming bytes are scanned for metadata header names, and whose outgoing
/// header blocks get the stored spelling of metadata names.
struct ScannedStream<S> {
    inner: S,
    names: MetadataNameCase,
    carry: Vec<u8>,
    /// Names to respell in the next answer's header block; emptied when that block ends.
    respell: Arc<Mutex<Vec<String>>>,
}

/// Rewrites `x-ms-meta-<name>:` lines of a header block to the spelling in `names`. Returns
/// whether the block's end (an empty line) was in `data`.
fn respell_header_block(data: &mut [u8], names: &[String]) -> bool {
    let end = data.windows(4).position(|w| w == b"\r\n\r\n");
    let limit = end.unwrap_or(data.len());
    let mut i = 0;
    while i < limit {
        let line_end = data[i..limit]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(limit, |p| i + p);
        let line = &data[i..line_end];
        if line.len() > META_PREFIX.len()
            && line[..META_PREFIX.len()].eq_ignore_ascii_case(META_PREFIX)
        {
            if let Some(colon) = line.iter().position(|&b| b == b':') {
                let name_range = i + META_PREFIX.len()..i + colon;
                if let Some(spelled) = names
                    .iter()
                    .find(|n| n.as_bytes().eq_ignore_ascii_case(&data[name_range.clone()]))
                {
                    data[name_range].copy_from_slice(spelled.as_bytes());
                }
            }
        }
        i = line_end + 1;
    }
    end.is_some()
}

impl<S: AsyncRead + Unpin> AsyncRead for ScannedStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &result {
            let fresh = &buf.filled()[before..];
            if !fresh.is_empty() {
                this.names.scan(&mut this.carry, fresh);
            }
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ScannedStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let names = match this.respell.lock() {
            Ok(mut pending) if !pending.is_empty() => std::mem::take(&mut *pending),
            _ => return Pin::new(&mut this.inner).poll_write(cx, data),
        };
        let mut copy = data.to_vec();
        let block_ended = respell_header_block(&mut copy, &names);
        let result = Pin::new(&mut this.inner).poll_write(cx, &copy);
        // Until the header block has been handed over whole, later writes still need respelling.
        let done = block_ended && matches!(result, Poll::Ready(Ok(n)) if n == copy.len());
        if !done {
            if let Ok(mut pending) = this.respell.lock() {
                *pending = names;
            }
        }
        result
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let respelling = self.respell.lock().map(|p| !p.is_empty()).unwrap_or(false);
        if respelling {
            // One slice at a time while a header block is being respelled.
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &b[..]);
            return self.poll_write(cx, first);
        }
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Accepts connections until `shutdown` completes, then lets in-flight requests finish. With
/// `tls`, each connection is a TLS one. `idle_timeout` bounds the wait for a request's headers:
/// from the connection's start, and on a keep-alive connection from the end of the previous
/// answer (hyper's header read timer starts when it waits for the next request), after which
/// the connection is closed.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<TlsConfig>,
    idle_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(idle_timeout)
        // Azure bounds metadata by size (8 KiB), not by count: many small x-ms-meta-* headers
        // are legal, so allow far more than hyper's default of 100 headers.
        .max_headers(MAX_HEADERS);
    // Shared by every connection (an Arc: a connection task needs its own handle).
    let builder = Arc::new(builder);
    let acceptor = tls.map(|t| tokio_rustls::TlsAcceptor::from(t.0));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // Tells handshakes still under way at shutdown to give up (they are not connections yet).
    let (stopping, stop_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = socket.set_nodelay(true);
        let connection = Connection {
            builder: builder.clone(),
            router: router.clone(),
            peer,
        };
        match &acceptor {
            None => {
                let served = connection.serve(socket, Scheme::Http);
                let served = graceful.watch(served);
                tokio::spawn(async move {
                    if let Err(e) = served.await {
                        tracing::debug!(error = %e, peer = %peer, "connection ended with an error");
                    }
                });
            }
            Some(acceptor) => {
                let (acceptor, watcher) = (acceptor.clone(), graceful.watcher());
                let mut stop = stop_rx.clone();
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(
                        TLS_HANDSHAKE_TIMEOUT,
                        tls_handshake(&acceptor, socket, peer),
                    );
                    let stream = tokio::select! {
                        done = handshake => match done {
                            Ok(Some(stream)) => stream,
                            Ok(None) => return,
                            Err(_) => {
                                tracing::debug!(peer = %peer, "TLS handshake timed out");
                                return;
                            }
                        },
                        _ = stop.wait_for(|stopping| *stopping) => return,
                    };
                    let served = watcher.watch(connection.serve(stream, Scheme::Https));
                    if let Err(e) = served.await {
                        tracing::debug!(error = %e, peer = %peer, "connection ended with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    let _ = stopping.send(true);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some requests did not finish within the shutdown grace period");
    }
    Ok(())
}

/// What serving one accepted connection needs.
struct Connection {
    builder: Arc<auto::Builder<TokioExecutor>>,
    router: axum::Router,
    peer: SocketAddr,
}

impl Connection {
    /// Serves HTTP on `stream` (a socket, or a TLS stream over one) until the client leaves.
    fn serve<S>(
        self,
        stream: S,
        scheme: Scheme,
    ) -> impl hyper_util::server::graceful::GracefulConnection<
        Error = Box<dyn std::error::Error + Send + Sync>,
    >
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            builder,
            router,
            peer,
        } = self;
        let names = MetadataNameCase::default();
        let respell = Arc::new(Mutex::new(Vec::new()));
        let stream = ScannedStream {
            inner: stream,
            names: names.clone(),
            carry: Vec::new(),
            respell: respell.clone(),
        };
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req.extensions_mut().insert(names.clone());
            if scheme.is_https() {
                // Absent means http (`Scheme::of`): plain requests skip the insert.
                req.extensions_mut().insert(scheme);
            }
            let (router, respell) = (router.clone(), respell.clone());
            async move {
                let mut resp = router.oneshot(req.map(Body::new)).await?;
                if let Some(ResponseMetadataCase(spelled)) = resp.extensions_mut().remove() {
                    if let Ok(mut pending) = respell.lock() {
                        *pending = spelled;
                    }
                }
                Ok::<_, std::convert::Infallible>(resp)
            }
        });
        builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned()
    }
}

/// The TLS handshake of a new connection; `None` when it fails (logged), or when the client
/// spoke plain HTTP (answered with a 400 that says to use https).
async fn tls_handshake(
    acceptor: &tokio_rustls::TlsAcceptor,
    socket: TcpStream,
    peer: SocketAddr,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let mut first = [0u8; 1];
    match socket.peek(&mut first).await {
        Ok(1) => {}
        _ => return None,
    }
    if first[0] != TLS_HANDSHAKE_RECORD && first[0].is_ascii_alphabetic() {
        tracing::debug!(peer = %peer, "plain HTTP on a TLS port");
        answer_plain_http(socket).await;
        return None;
    }
    match acceptor.accept(socket).await {
        Ok(stream) => Some(stream),
        Err(e) => {
            tracing::debug!(error = %e, peer = %peer, "TLS handshake failed");
            None
        }
    }
}

/// Most bytes of a plain-HTTP request read before answering it (so that closing the socket does
/// not reset it before the client reads the answer).
const PLAIN_HTTP_DRAIN: usize = 64 * 1024;

/// Tells a client that spoke plain HTTP to a TLS port to use https, then closes.
async fn answer_plain_http(mut socket: TcpStream) {
    const BODY: &str = "This port serves HTTPS (Lapis was started with --cert): use https://.\n";
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    let mut buf = vec![0u8; 8192];
    let mut seen = Vec::new();
    // The request head first, then the answer, then whatever body follows, briefly.
    while memchr::memmem::find(&seen, b"\r\n\r\n").is_none() && seen.len() < PLAIN_HTTP_DRAIN {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    if socket.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    let _ = socket.shutdown().await;
    let drain = async {
        let mut drained = 0;
        while drained < PLAIN_HTTP_DRAIN {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_mixed_case_names_across_reads() {
        let names = MetadataNameCase::default();
        let mut carry = Vec::new();
        names.scan(&mut carry, b"PUT /a HTTP/1.1\r\nx-ms-meta-Fo");
        names.scan(
            &mut carry,
            b"o: bar\r\nX-MS-META-MixedCase: 1\r\nx-ms-meta-lower: 2\r\n\r\n",
        );
        assert_eq!(names.original("foo"), "Foo");
        assert_eq!(names.original("mixedcase"), "MixedCase");
        assert_eq!(names.original("lower"), "lower");
        assert_eq!(names.original("unseen"), "unseen");
    }

    #[test]
    fn respells_only_listed_names_inside_the_header_block() {
        let mut data = b"HTTP/1.1 200 OK\r\nx-ms-meta-mixedcase: v\r\nx-ms-meta-other: w\r\n\r\nx-ms-meta-mixedcase: body".to_vec();
        assert!(respell_header_block(&mut data, &["MixedCase".to_string()]));
        let text = String::from_utf8(data).unwrap();
        assert!(text.contains("\r\nx-ms-meta-MixedCase: v\r\n"));
        assert!(text.contains("x-ms-meta-other: w"));
        assert!(text.ends_with("\r\n\r\nx-ms-meta-mixedcase: body"));
    }

    #[test]
    fn names_split_across_two_reads_at_any_byte_are_remembered() {
        let request: &[u8] =
            b"PUT /a HTTP/1.1\r\nX-Ms-Meta-First: 1\r\nx-ms-meta-SecondName: 2\r\n\r\nbody\nx-ms-meta-Third: 3\n";
        for split in 0..=request.len() {
            let names = MetadataNameCase::default();
            let mut carry = Vec::new();
            names.scan(&mut carry, &request[..split]);
            names.scan(&mut carry, &request[split..]);
            assert_eq!(names.original("first"), "First", "split at {split}");
            assert_eq!(
                names.original("secondname"),
                "SecondName",
                "split at {split}"
            );
            assert_eq!(names.original("third"), "Third", "split at {split}");
        }
    }

    #[test]
    fn long_unterminated_lines_are_not_kept() {
        let names = MetadataNameCase::default();
        let mut carry = Vec::new();
        names.scan(&mut carry, &vec![b'a'; 5000]);
        assert!(carry.is_empty());
    }
}
