//! One server per data folder: a second `lapis` on the same folder stops at once with a clear
//! message, and the first keeps serving. (The engine's SQLite VFS takes a process-wide lock.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn lapis(folder: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lapis"));
    cmd.arg("--location")
        .arg(folder)
        .args([
            "--silent",
            "--blobPort",
            "0",
            "--tablePort",
            "0",
            "--queuePort",
            "0",
            "--adminPort",
            "0",
        ])
        .stdin(Stdio::null());
    cmd
}

/// Starts a server and returns it with its blob endpoint (the first line it prints).
fn start(folder: &std::path::Path) -> (Child, String) {
    let mut child = lapis(folder)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn lapis");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read the blob endpoint");
    assert!(
        line.starts_with("http://"),
        "unexpected first line {line:?}"
    );
    (child, line.trim().to_string())
}

/// Whether the server gives an HTTP answer (an anonymous listing is refused, which is enough).
fn answers(endpoint: &str) -> bool {
    let addr = endpoint.trim_start_matches("http://");
    let Ok(mut conn) = TcpStream::connect(addr) else {
        return false;
    };
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let request =
        "GET /devstoreaccount1?comp=list HTTP/1.1\r\nHost: lapis\r\nConnection: close\r\n\r\n";
    let mut answer = String::new();
    conn.write_all(request.as_bytes()).is_ok()
        && conn.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 ")
}

#[test]
fn a_second_server_on_the_same_folder_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let (mut first, endpoint) = start(folder.path());
    assert!(answers(&endpoint));

    let mut second = lapis(folder.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn a second lapis");
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            second.kill().unwrap();
            second.wait().unwrap();
            panic!("a second server on the same folder was still running after 5 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success(), "the second server must not start");
    let mut stderr = String::new();
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("in use by another process"), "{stderr}");
    assert!(answers(&endpoint), "the first server stopped serving");

    first.kill().unwrap();
    first.wait().unwrap();
    // The lock goes with the process, even after kill -9.
    let (mut third, endpoint) = start(folder.path());
    assert!(answers(&endpoint));
    third.kill().unwrap();
    third.wait().unwrap();
}
