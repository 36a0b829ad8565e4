//! One JSON object per line on stdout, the shape Loki collects:
//! `{"time": RFC 3339, "level", "app", "event", ...fields}`.

use std::io::Write;

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Now, in UTC, as RFC 3339 (`2026-05-01T12:00:00.123456789Z`).
pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// The line for one event: `time`, `level`, `app` and `event` first, then `fields` (a field with
/// one of those four names is left out rather than written twice).
pub fn log_line(
    time: &str,
    level: &str,
    app: &str,
    event: &str,
    fields: &Map<String, Value>,
) -> String {
    let mut line = String::with_capacity(128);
    line.push('{');
    let fixed = [
        ("time", time),
        ("level", level),
        ("app", app),
        ("event", event),
    ];
    for (i, (name, value)) in fixed.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_pair(&mut line, name, &Value::String((*value).to_owned()));
    }
    for (name, value) in fields {
        if fixed.iter().any(|(fixed_name, _)| fixed_name == name) {
            continue;
        }
        line.push(',');
        push_pair(&mut line, name, value);
    }
    line.push('}');
    line
}

fn push_pair(line: &mut String, name: &str, value: &Value) {
    line.push_str(&Value::String(name.to_owned()).to_string());
    line.push(':');
    line.push_str(&value.to_string());
}

/// Writes one event line to stdout, now.
pub fn emit(level: &str, app: &str, event: &str, fields: &Map<String, Value>) {
    let line = log_line(&now_rfc3339(), level, app, event, fields);
    let mut out = std::io::stdout().lock();
    // A closed stdout must not take the handler down; the line is lost either way.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_fixed_fields_come_first_and_the_line_is_one_json_object() {
        let fields =
            json!({"orderId": "ab12", "total": "37.50", "dequeueCount": 2, "app": "ignored"});
        let line = log_line(
            "2026-05-01T12:00:00Z",
            "info",
            "notify",
            "order.notified",
            fields.as_object().unwrap(),
        );
        assert_eq!(
            line,
            r#"{"time":"2026-05-01T12:00:00Z","level":"info","app":"notify","event":"order.notified","dequeueCount":2,"orderId":"ab12","total":"37.50"}"#
        );
        assert!(!line.contains('\n'));
        let parsed: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["app"], "notify");
    }

    #[test]
    fn now_is_rfc3339_utc() {
        let now = now_rfc3339();
        assert!(now.ends_with('Z'), "{now}");
        assert!(OffsetDateTime::parse(&now, &Rfc3339).is_ok());
    }
}
