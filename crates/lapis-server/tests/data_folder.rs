//! One server per data folder: a second `lapis` on the same folder stops at once with a clear
//! message, and the first keeps serving. (The engine's SQLite VFS takes a process-wide lock.)
//! A folder Lapis cannot use is named with the reason, and a start that fails writes nothing.

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

mod common;

/// Free ports for every listener.
const FREE_PORTS: [&str; 8] = [
    "--blobPort",
    "0",
    "--tablePort",
    "0",
    "--queuePort",
    "0",
    "--adminPort",
    "0",
];

/// Runs a start that must fail, with `--location location` and `extra` (a port flag there
/// replaces the free one), and returns its stderr.
fn failed_start(cwd: &std::path::Path, location: &std::path::Path, extra: &[&str]) -> String {
    let location = location.display().to_string();
    let mut args: Vec<&str> = Vec::new();
    for pair in FREE_PORTS.chunks(2) {
        if !extra.contains(&pair[0]) {
            args.extend(pair);
        }
    }
    args.extend(["--location", &location]);
    args.extend(extra);
    let exited = common::run_to_exit(common::lapis(cwd, &args));
    assert_eq!(exited.status.code(), Some(1), "{}", exited.stderr);
    assert!(exited.stdout.is_empty(), "{}", exited.stdout);
    exited.stderr
}

#[test]
fn a_busy_port_stops_the_start_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for flag in ["--blobPort", "--tablePort", "--queuePort"] {
        // A folder to be created, and an empty one: neither gets anything.
        let missing = tmp.path().join("missing");
        let stderr = failed_start(tmp.path(), &missing, &[flag, &port]);
        assert!(
            stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
            "{flag}: {stderr}"
        );
        assert!(!missing.exists(), "{flag}: the data folder was created");
        let empty = tmp.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        failed_start(tmp.path(), &empty, &[flag, &port]);
        assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0, "{flag}");
    }
}

#[test]
fn a_file_as_the_data_folder_is_not_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("passwd");
    std::fs::write(&file, "root:x:0:0\n").unwrap();
    let stderr = failed_start(tmp.path(), &file, &[]);
    assert!(
        stderr.contains(&format!("data folder {}: not a directory", file.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("File exists"), "{stderr}");
    let stderr = failed_start(tmp.path(), &file.join("data"), &[]);
    assert!(
        stderr.contains(&format!("{} is a file, not a directory", file.display())),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "root:x:0:0\n");
}

/// Makes a folder unwritable for this process: by its mode for a user, by the immutable
/// attribute for root (who ignores modes); undone on drop.
struct Unwritable(std::path::PathBuf, bool);

impl Unwritable {
    fn new(dir: &std::path::Path) -> Option<Unwritable> {
        use std::os::unix::fs::PermissionsExt;
        let probe = dir.join("probe");
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        if std::fs::write(&probe, "").is_err() {
            return Some(Unwritable(dir.to_path_buf(), false));
        }
        // Root: the mode did not stop it.
        std::fs::remove_file(&probe).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let chattr = Command::new("chattr").arg("+i").arg(dir).status();
        if !matches!(chattr, Ok(s) if s.success()) {
            return None;
        }
        Some(Unwritable(dir.to_path_buf(), true))
    }
}

impl Drop for Unwritable {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.1 {
            let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
        } else {
            let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
        }
    }
}

#[test]
fn an_unwritable_data_folder_is_named_with_permission_denied() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("readonly");
    std::fs::create_dir(&dir).unwrap();
    let Some(_guard) = Unwritable::new(&dir) else {
        eprintln!(
            "skipped: running as root, and `chattr +i` is not available to make a folder \
             root cannot write"
        );
        return;
    };
    let stderr = failed_start(tmp.path(), &dir, &[]);
    assert!(
        stderr.contains(&format!(
            "data folder {} is not writable: permission denied",
            dir.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("unable to open database file"), "{stderr}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn in_memory_says_so_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = FREE_PORTS.to_vec();
    args.push("--inMemoryPersistence");
    let running =
        common::start(common::lapis(tmp.path(), &args)).unwrap_or_else(|e| panic!("{}", e.stderr));
    let stderr = running.stop();
    assert!(stderr.contains("data=in memory"), "{stderr}");
    assert!(!stderr.contains(".lapis"), "{stderr}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
