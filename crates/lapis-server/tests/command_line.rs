//! The `lapis` binary as users start it: the access log's duration is readable.

mod common;

use common::{get, lapis, start};

/// Free ports for the three services.
const FREE_SERVICE_PORTS: [&str; 6] = ["--blobPort", "0", "--tablePort", "0", "--queuePort", "0"];

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
