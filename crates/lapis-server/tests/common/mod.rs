//! The `lapis` binary as a test runs it: started with arguments, its five stdout lines read
//! (Blob, Table, admin, Queue, web), stopped, and its stderr collected.
#![allow(dead_code)] // each test binary uses a part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a start or an exit may take (debug build, busy machine).
const PATIENCE: Duration = Duration::from_secs(30);

/// A `lapis` command run in `cwd`, so that a default `./.lapis` lands there.
pub fn lapis(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lapis"));
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A running server.
pub struct Running {
    child: Child,
    /// Its first five stdout lines: Blob, Table, admin (or `admin disabled`), Queue, web (or
    /// `web disabled`).
    pub lines: Vec<String>,
    stderr: JoinHandle<String>,
}

/// A server that stopped by itself.
pub struct Exited {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

fn collect(mut from: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = from.read_to_string(&mut text);
        text
    })
}

/// Starts `cmd`: the server once it printed its five lines, or how it exited before.
pub fn start(mut cmd: Command) -> Result<Running, Exited> {
    let mut child = cmd.spawn().expect("spawn lapis");
    let stderr = collect(child.stderr.take().unwrap());
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(line.trim_end().to_string()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let deadline = Instant::now() + PATIENCE;
    let mut lines = Vec::new();
    while lines.len() < 5 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().unwrap();
                return Err(Exited {
                    status,
                    stdout: lines.join("\n"),
                    stderr: stderr.join().unwrap(),
                });
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "lapis printed {lines:?} and no more within {PATIENCE:?}; stderr:\n{}",
                    stderr.join().unwrap()
                );
            }
        }
    }
    Ok(Running {
        child,
        lines,
        stderr,
    })
}

/// Runs `cmd` to its exit, which must come within the patience (a start that fails).
pub fn run_to_exit(cmd: Command) -> Exited {
    match start(cmd) {
        Ok(running) => {
            let lines = running.lines.clone();
            let stderr = running.stop();
            panic!("lapis started ({lines:?}) where it should have stopped; stderr:\n{stderr}");
        }
        Err(exited) => exited,
    }
}

impl Running {
    /// `host:port` of the line `i` (0 Blob, 1 Table, 2 admin, 3 Queue, 4 web), http or https.
    pub fn addr(&self, i: usize) -> String {
        let line = &self.lines[i];
        line.strip_prefix("http://")
            .or_else(|| line.strip_prefix("https://"))
            .unwrap_or_else(|| panic!("line {i} is {:?}", self.lines[i]))
            .to_string()
    }

    /// Kills the server and returns everything it wrote on stderr.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr.join().unwrap()
    }
}

/// Sends one request on a new connection and returns the whole answer (`Connection: close`).
pub fn get(addr: &str, path: &str) -> String {
    let mut conn = TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: lapis\r\nConnection: close\r\n\r\n");
    conn.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}
