//! The `lapis` binary as users start it: an explicitly asked admin port is required, and the
//! access log's duration is readable.

mod common;

use std::net::TcpListener;

use common::{get, lapis, run_to_exit, start};

/// Free ports for the three services.
const FREE_SERVICE_PORTS: [&str; 6] = ["--blobPort", "0", "--tablePort", "0", "--queuePort", "0"];

#[test]
fn an_explicit_admin_port_that_is_taken_stops_the_start() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.display().to_string();
    let mut args = FREE_SERVICE_PORTS.to_vec();
    args.extend(["--adminPort", &port, "--location", &data_arg]);
    let exited = run_to_exit(lapis(dir.path(), &args));
    assert_eq!(exited.status.code(), Some(1), "{}", exited.stderr);
    assert!(
        exited.stderr.contains(&format!(
            "admin listener: cannot listen on 127.0.0.1:{port}"
        )),
        "{}",
        exited.stderr
    );
    assert!(exited.stdout.is_empty(), "{}", exited.stdout);
    assert!(!data.exists(), "a failed start created the data folder");
}

/// The default admin port (10010) taken: by this test, or already by another server on this
/// machine, which is just as taken.
#[test]
fn the_default_admin_port_taken_leaves_the_services_running() {
    let _taken = TcpListener::bind("127.0.0.1:10010");
    let dir = tempfile::tempdir().unwrap();
    let mut args = FREE_SERVICE_PORTS.to_vec();
    args.push("--inMemoryPersistence");
    let running = start(lapis(dir.path(), &args)).unwrap_or_else(|e| panic!("{}", e.stderr));
    assert_eq!(running.lines[2], "admin disabled");
    assert!(get(&running.addr(0), "/devstoreaccount1?comp=list").starts_with("HTTP/1.1 "));
    let stderr = running.stop();
    assert!(
        stderr.contains("admin listener disabled: cannot listen on 127.0.0.1:10010"),
        "{stderr}"
    );
    assert!(stderr.contains("/healthz"), "{stderr}");

    // Naming the admin address makes the listener required, even at the default port.
    args.extend(["--adminHost", "127.0.0.1"]);
    let exited = run_to_exit(lapis(dir.path(), &args));
    assert_eq!(exited.status.code(), Some(1), "{}", exited.stderr);
    assert!(
        exited
            .stderr
            .contains("admin listener: cannot listen on 127.0.0.1:10010"),
        "{}",
        exited.stderr
    );
}

/// The `duration_ms` of the access line that follows `key` in `log`.
fn logged_duration<'a>(log: &'a str, key: &str) -> &'a str {
    let line = log
        .lines()
        .find(|l| l.contains("lapis::access"))
        .unwrap_or_else(|| panic!("no access line in:\n{log}"));
    let start = line.find(key).unwrap_or_else(|| panic!("{line}")) + key.len();
    let rest = &line[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn the_access_log_gives_durations_in_milliseconds_to_the_microsecond() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["text", "json"] {
        let mut args = FREE_SERVICE_PORTS.to_vec();
        args.extend([
            "--adminPort",
            "0",
            "--inMemoryPersistence",
            "--logFormat",
            format,
        ]);
        let running = start(lapis(dir.path(), &args)).unwrap_or_else(|e| panic!("{}", e.stderr));
        get(&running.addr(0), "/devstoreaccount1?comp=list");
        let log = running.stop();
        let (key, value) = if format == "text" {
            let v = logged_duration(&log, "duration_ms=");
            // Exactly three decimals.
            let (whole, fraction) = v.split_once('.').unwrap_or_else(|| panic!("{v:?}"));
            assert!(!whole.is_empty() && fraction.len() == 3, "{v:?} in\n{log}");
            ("duration_ms=", v)
        } else {
            let v = logged_duration(&log, "\"duration_ms\":");
            // A JSON number, rounded to the microsecond.
            let decimals = v.split_once('.').map_or(0, |(_, f)| f.len());
            assert!(decimals <= 3, "{v:?} in\n{log}");
            ("\"duration_ms\":", v)
        };
        let ms: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("{key}{value:?} in\n{log}"));
        assert!((0.0..10_000.0).contains(&ms), "{ms}");
    }
}
