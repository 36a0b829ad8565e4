//! A minimal keep-alive HTTP/1.1 client over a blocking socket: requests are built before the
//! measured loop, and sending one costs a write and a few reads, so nearly every instruction
//! counted is the server's.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

pub struct Client {
    stream: TcpStream,
    /// The answer read so far.
    buf: Vec<u8>,
    /// What one read fills: zeroed once here, not per read (a 64 KiB memset per request was a
    /// quarter of a small GET's count).
    chunk: Box<[u8]>,
}

/// One request as bytes on the wire.
pub fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect to the in-process server");
        stream.set_nodelay(true).expect("nodelay");
        Client {
            stream,
            buf: Vec::with_capacity(1 << 20),
            chunk: vec![0; 64 * 1024].into_boxed_slice(),
        }
    }

    /// Sends one request and reads the whole answer; returns its status.
    pub fn send(&mut self, request: &[u8]) -> u16 {
        self.stream.write_all(request).expect("write request");
        self.buf.clear();
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            self.fill();
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).expect("ASCII head");
        let status: u16 = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        while self.buf.len() < head_end + length {
            self.fill();
        }
        assert_eq!(self.buf.len(), head_end + length, "one answer per request");
        if status >= 400 {
            eprintln!("{}", String::from_utf8_lossy(&self.buf));
        }
        status
    }

    fn fill(&mut self) {
        let n = self.stream.read(&mut self.chunk).expect("read answer");
        assert!(n > 0, "the server closed the connection");
        self.buf.extend_from_slice(&self.chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
