//! The command line as users of Azurite type it: every flag of `azurite --help` starts Lapis,
//! the ones Lapis cannot honour are named once on stderr, the keep-alive timeouts are applied,
//! an explicitly asked admin port is required, and the access log's duration is readable.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::{get, lapis, run_to_exit, start};

/// Free ports for the three services.
const FREE_SERVICE_PORTS: [&str; 6] = ["--blobPort", "0", "--tablePort", "0", "--queuePort", "0"];

/// Every option of `azurite --help`, Azurite 3.37.0 (`azurite-blob`, `azurite-queue` and
/// `azurite-table --help` list subsets of it), in its order, each short form as its own entry,
/// with a sample value, and the notice Lapis must print for it when it has no effect here.
/// `DIR` stands for a fresh folder, `FILE` for a file in one, `CERT`, `KEY` and `PFX` for a
/// self-signed certificate for 127.0.0.1 written there (PEM, and PKCS#12 with password `secret`). `-h`/`--help` and `-v`/`--version`
/// exit at once: see `help_and_version_exit_at_once`.
const AZURITE_FLAGS: &[(&[&str], Option<&str>)] = &[
    (&["--blobHost", "127.0.0.1"], None),
    (&["--blobKeepAliveTimeout", "5"], None),
    (&["--blobPort", "0"], None),
    // HTTPS: a PEM certificate and key, or a PKCS#12 file and its password.
    (&["--cert", "CERT", "--key", "KEY"], None),
    (&["--pwd", "secret", "--cert", "PFX"], None),
    (&["-d", "FILE"], None),
    (&["--debug", "FILE"], None),
    (&["--disableProductStyleUrl"], None),
    (&["--disableTelemetry"], None),
    (
        &["--extentMemoryLimit", "50"],
        Some("--extentMemoryLimit has no effect without --inMemoryPersistence"),
    ),
    (&["--inMemoryPersistence"], None),
    (
        &["--inMemoryPersistence", "--extentMemoryLimit", "50"],
        None,
    ),
    // Azurite's default, spelled out.
    (
        &["--inMemoryPersistence", "--extentMemoryLimit", "-1"],
        None,
    ),
    // Azurite refuses the pair; Lapis says that the folder is not used.
    (
        &["--inMemoryPersistence", "--location", "DIR"],
        Some("has no effect with --inMemoryPersistence"),
    ),
    (&["-l", "DIR"], None),
    (&["--location", "DIR"], None),
    (&["-L"], None),
    (&["--loose"], None),
    (&["--oauth", "basic"], Some("--oauth basic has no effect")),
    (&["--queueHost", "127.0.0.1"], None),
    (&["--queueKeepAliveTimeout", "5"], None),
    (&["--queuePort", "0"], None),
    (&["-s"], None),
    (&["--silent"], None),
    (&["--skipApiVersionCheck"], None),
    (&["--tableHost", "127.0.0.1"], None),
    (&["--tableKeepAliveTimeout", "5"], None),
    (&["--tablePort", "0"], None),
];

/// Free ports for every listener, and a data folder, unless the flag under test sets one.
fn arguments(sample: &[&str], dir: &std::path::Path) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    for (flag, value) in [
        ("--blobPort", "0"),
        ("--tablePort", "0"),
        ("--queuePort", "0"),
        ("--adminPort", "0"),
        ("--webPort", "0"),
    ] {
        if !sample.contains(&flag) {
            args.extend([flag.to_string(), value.to_string()]);
        }
    }
    let sets_location = sample
        .iter()
        .any(|a| matches!(*a, "-l" | "--location" | "--inMemoryPersistence"));
    if !sets_location {
        args.extend([
            "--location".to_string(),
            dir.join("data").display().to_string(),
        ]);
    }
    for a in sample {
        args.push(match *a {
            "DIR" => dir.join("given").display().to_string(),
            "FILE" => dir.join("debug.log").display().to_string(),
            "CERT" | "KEY" | "PFX" => write_certificate(dir, a),
            other => other.to_string(),
        });
    }
    args
}

/// The path `which` names in a sample: `CERT` writes a self-signed certificate for 127.0.0.1
/// and its key (`KEY`, named after it in the samples); `PFX` writes the same kind of pair as a
/// PKCS#12 file with password `secret`.
fn write_certificate(dir: &std::path::Path, which: &str) -> String {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let (cert, key, pfx) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("cert.pfx"),
    );
    let made = || rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    match which {
        "CERT" => {
            let made = made();
            std::fs::write(&cert, made.cert.pem()).unwrap();
            std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
            cert.display().to_string()
        }
        "KEY" => key.display().to_string(),
        _ => {
            let made = made();
            let chain = PrivateKeyChain::new(
                b"lapis".as_slice(),
                PrivateKey::from_der(&made.signing_key.serialize_der()).unwrap(),
                [Certificate::from_der(made.cert.der()).unwrap()],
            );
            let mut store = KeyStore::new();
            store.add_entry("lapis", KeyStoreEntry::PrivateKeyChain(chain));
            std::fs::write(&pfx, store.writer("secret").write().unwrap()).unwrap();
            pfx.display().to_string()
        }
    }
}

#[test]
fn every_azurite_flag_starts_lapis_and_the_ineffective_ones_say_so() {
    for (sample, notice) in AZURITE_FLAGS {
        let dir = tempfile::tempdir().unwrap();
        let args = arguments(sample, dir.path());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let running = match start(lapis(dir.path(), &args)) {
            Ok(r) => r,
            Err(e) => panic!("lapis {sample:?} did not start: {}\n{}", e.status, e.stderr),
        };
        // Blob, Table, admin, Queue, web: all five bound; the services over https with a
        // certificate, the admin listener always plain http.
        let tls = sample.contains(&"--cert");
        for (i, line) in running.lines.iter().enumerate() {
            let scheme = if tls && i != 2 { "https" } else { "http" };
            assert!(
                line.starts_with(&format!("{scheme}://127.0.0.1:")),
                "{sample:?}: {:?}",
                running.lines
            );
        }
        assert!(
            get(&running.addr(0), "/devstoreaccount1?comp=list").starts_with("HTTP/1.1 "),
            "{sample:?}: no answer"
        );
        let stderr = running.stop();
        match notice {
            Some(notice) => {
                assert_eq!(
                    stderr.matches(notice).count(),
                    1,
                    "{sample:?}: the notice {notice:?} once, in:\n{stderr}"
                );
                assert!(stderr.contains("WARN"), "{sample:?}: a warning:\n{stderr}");
            }
            None => assert!(
                !stderr.contains("has no effect"),
                "{sample:?}: no notice expected:\n{stderr}"
            ),
        }
        assert!(
            !stderr.contains("secret"),
            "{sample:?}: a password in the log:\n{stderr}"
        );
        if sample.contains(&"FILE") {
            let log = std::fs::read_to_string(dir.path().join("debug.log")).unwrap();
            assert!(
                log.contains("Lapis listening"),
                "{sample:?}: debug log {log:?}"
            );
        }
        if sample.contains(&"DIR") && !sample.contains(&"--inMemoryPersistence") {
            assert!(
                dir.path().join("given/lapis.sqlite").is_file(),
                "{sample:?}"
            );
        }
        if sample.contains(&"--inMemoryPersistence") {
            let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert!(left.is_empty(), "{sample:?} wrote {left:?}");
        }
    }
}

#[test]
fn help_and_version_exit_at_once() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let out = lapis(dir.path(), args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let help = String::from_utf8(out.stdout).unwrap();
        for (sample, _) in AZURITE_FLAGS {
            for flag in sample.iter().filter(|a| a.starts_with("--")) {
                assert!(help.contains(flag), "{args:?} does not list {flag}");
            }
        }
        for short in [
            "-d, --debug",
            "-l, --location",
            "-L, --loose",
            "-s, --silent",
        ] {
            assert!(help.contains(short), "{args:?} does not list {short}");
        }
    }
    for args in [&["--version"][..], &["-v"], &["-V"], &["version"]] {
        let out = lapis(dir.path(), args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let version = String::from_utf8(out.stdout).unwrap();
        assert!(version.starts_with("lapis "), "{args:?}: {version:?}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Whether the server closed `conn` (after a complete answer) within `within`.
fn closed_within(conn: &mut TcpStream, within: Duration) -> bool {
    conn.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // the rest of the answer
            Err(_) => return false,
        }
    }
}

/// Opens a keep-alive connection and reads the start of one answer.
fn keep_alive_request(addr: &str) -> TcpStream {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.write_all(b"GET /devstoreaccount1?comp=list HTTP/1.1\r\nHost: lapis\r\n\r\n")
        .unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut first = [0u8; 12];
    conn.read_exact(&mut first).unwrap();
    assert_eq!(&first[..9], b"HTTP/1.1 ");
    conn
}

#[test]
fn keep_alive_timeouts_close_idle_connections() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(lapis(
        dir.path(),
        &[
            "--inMemoryPersistence",
            "--blobPort",
            "0",
            "--tablePort",
            "0",
            "--queuePort",
            "0",
            "--adminPort",
            "0",
            "--blobKeepAliveTimeout",
            "1",
            "--queueKeepAliveTimeout",
            "1",
            "--tableKeepAliveTimeout",
            "1.5",
        ],
    ))
    .unwrap_or_else(|e| panic!("{}", e.stderr));
    for i in [0, 1, 3] {
        let mut conn = keep_alive_request(&running.addr(i));
        let started = Instant::now();
        assert!(
            closed_within(&mut conn, Duration::from_secs(10)),
            "line {i}"
        );
        let idle = started.elapsed();
        assert!(
            idle >= Duration::from_millis(800) && idle < Duration::from_secs(8),
            "line {i}: closed after {idle:?}"
        );
    }
    running.stop();

    // Without the flags, an idle connection lives longer than that (30 s).
    let running = start(lapis(
        dir.path(),
        &[
            "--inMemoryPersistence",
            "--blobPort",
            "0",
            "--tablePort",
            "0",
            "--queuePort",
            "0",
            "--adminPort",
            "0",
        ],
    ))
    .unwrap_or_else(|e| panic!("{}", e.stderr));
    let mut conn = keep_alive_request(&running.addr(0));
    assert!(!closed_within(&mut conn, Duration::from_secs(3)));
    running.stop();
}

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

/// The static website endpoint: off by default (`web disabled`, the fifth line), on with
/// `--webPort`, where an account that has not enabled its website is `WebsiteDisabled`.
#[test]
fn the_web_endpoint_is_the_fifth_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = FREE_SERVICE_PORTS.to_vec();
    args.extend(["--adminPort", "0", "--inMemoryPersistence"]);
    let running = start(lapis(dir.path(), &args)).unwrap_or_else(|e| panic!("{}", e.stderr));
    assert_eq!(running.lines[4], "web disabled");
    running.stop();

    args.extend(["--webPort", "0"]);
    let running = start(lapis(dir.path(), &args)).unwrap_or_else(|e| panic!("{}", e.stderr));
    assert!(
        running.lines[4].starts_with("http://127.0.0.1:"),
        "{:?}",
        running.lines
    );
    let answer = get(&running.addr(4), "/devstoreaccount1/");
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        answer.contains("x-ms-error-code: WebsiteDisabled"),
        "{answer}"
    );
    // The services are where they were.
    assert!(get(&running.addr(0), "/devstoreaccount1?comp=list").starts_with("HTTP/1.1 "));
    running.stop();
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

/// Sends a request signed with the development account's Shared Key; returns the status line.
fn signed(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> String {
    use base64::Engine;
    use lapis_auth::{sign_shared_key, RequestInfo, Service, DEV_ACCOUNT, DEV_KEY};
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let length = body.len().to_string();
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.extend([
        ("x-ms-date", date.as_str()),
        ("x-ms-version", "2025-11-05"),
        ("Content-Length", length.as_str()),
    ]);
    let (raw_path, raw_query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let info = RequestInfo {
        method,
        raw_path,
        raw_query,
        headers: &all,
        account: DEV_ACCOUNT,
        client_ip: None,
        https: false,
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(DEV_KEY)
        .unwrap();
    let authorization = sign_shared_key(DEV_ACCOUNT, &key, &info, Service::Blob, false);
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: lapis\r\nConnection: close\r\n");
    for (name, value) in &all {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Authorization: {authorization}\r\n\r\n"));
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(request.as_bytes()).unwrap();
    conn.write_all(body).unwrap();
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    answer.lines().next().unwrap_or_default().to_string()
}

#[test]
fn the_extent_memory_limit_bounds_the_in_memory_store() {
    let dir = tempfile::tempdir().unwrap();
    // 100 KiB: past the 64 KiB kept inline with the metadata, so it goes to an extent.
    let blob = vec![7u8; 100 * 1024];
    for (limit, expected) in [("0.05", "HTTP/1.1 503 "), ("1", "HTTP/1.1 201 ")] {
        let mut args = FREE_SERVICE_PORTS.to_vec();
        args.extend([
            "--adminPort",
            "0",
            "--inMemoryPersistence",
            "--extentMemoryLimit",
            limit,
        ]);
        let running = start(lapis(dir.path(), &args)).unwrap_or_else(|e| panic!("{}", e.stderr));
        let addr = running.addr(0);
        let created = signed(
            &addr,
            "PUT",
            "/devstoreaccount1/limited?restype=container",
            &[],
            b"",
        );
        assert!(created.starts_with("HTTP/1.1 201 "), "{created}");
        let put = signed(
            &addr,
            "PUT",
            "/devstoreaccount1/limited/blob",
            &[("x-ms-blob-type", "BlockBlob")],
            &blob,
        );
        running.stop();
        assert!(put.starts_with(expected), "limit {limit} MB: {put}");
    }
}

/// `--accountConfig`: a file that cannot be read or holds a misspelt switch stops the start
/// before anything is written; a good one starts Lapis, and an account it names that is not
/// served is warned about.
#[test]
fn an_account_config_is_checked_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.display().to_string();
    let config = dir.path().join("accounts.json");
    let config_arg = config.display().to_string();
    let mut args = FREE_SERVICE_PORTS.to_vec();
    args.extend([
        "--adminPort",
        "0",
        "--location",
        &data_arg,
        "--accountConfig",
        &config_arg,
    ]);

    let exited = run_to_exit(lapis(dir.path(), &args));
    assert_eq!(exited.status.code(), Some(1), "{}", exited.stderr);
    assert!(exited.stderr.contains(&config_arg), "{}", exited.stderr);

    std::fs::write(
        &config,
        r#"{"accounts": {"devstoreaccount1": {"versioning": true}}}"#,
    )
    .unwrap();
    let exited = run_to_exit(lapis(dir.path(), &args));
    assert_eq!(exited.status.code(), Some(1), "{}", exited.stderr);
    assert!(exited.stderr.contains("versioning"), "{}", exited.stderr);
    assert!(!data.exists(), "a failed start created the data folder");

    std::fs::write(
        &config,
        r#"{"accounts": {"devstoreaccount1": {"blobVersioning": true}, "nosuchaccount": {}}}"#,
    )
    .unwrap();
    let running = start(lapis(dir.path(), &args)).unwrap_or_else(|e| panic!("{}", e.stderr));
    let stderr = running.stop();
    assert!(
        stderr.contains("names the account nosuchaccount, which is not served"),
        "{stderr}"
    );
}
