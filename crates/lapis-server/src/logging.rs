//! Logs: an access line per request (human-readable or JSON for Loki) on stderr, silenced by
//! `--silent`; `--debug FILE` adds a debug log of everything to a file. Keys and signatures are
//! never logged: the access line names the account, never the credential.
//!
//! Numbers with a fraction are written with three decimals in the text format
//! (`duration_ms=0.058`); the access line rounds its duration to the microsecond, so that JSON
//! carries the same figure (`"duration_ms":0.058`) and not `0.057565000000000005`.

use std::fmt;
use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use crate::config::Config;

pub fn init(config: &Config) -> Result<(), String> {
    let console_level = if config.silent {
        LevelFilter::WARN
    } else {
        LevelFilter::INFO
    };
    let console_filter = Targets::new().with_default(console_level);
    let console = if config.log_format == "json" {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(std::io::stderr)
            .with_filter(console_filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .fmt_fields(FixedFloats)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .with_filter(console_filter)
            .boxed()
    };
    let debug = match &config.debug {
        Some(path) => {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("cannot open debug log {}: {e}", path.display()))?;
            Some(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(FixedFloats)
                    .with_ansi(false)
                    .with_writer(Mutex::new(file))
                    .with_filter(LevelFilter::DEBUG),
            )
        }
        None => None,
    };
    tracing_subscriber::registry()
        .with(console)
        .with(debug)
        .try_init()
        .map_err(|e| e.to_string())
}

/// A duration in milliseconds, rounded to the microsecond, for log fields.
pub fn millis(seconds: f64) -> f64 {
    (seconds * 1_000_000.0).round() / 1000.0
}

/// The text format's fields, as tracing-subscriber writes them, except that an `f64` gets
/// three decimals.
struct FixedFloats;

impl<'a> MakeVisitor<Writer<'a>> for FixedFloats {
    type Visitor = FixedFloatVisitor<'a>;

    fn make_visitor(&self, target: Writer<'a>) -> Self::Visitor {
        FixedFloatVisitor(DefaultVisitor::new(target, true))
    }
}

struct FixedFloatVisitor<'a>(DefaultVisitor<'a>);

impl Visit for FixedFloatVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.record_debug(field, &format_args!("{value:.3}"))
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.record_str(field, value)
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.record_error(field, value)
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.record_debug(field, value)
    }
}

impl VisitOutput<fmt::Result> for FixedFloatVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.0.finish()
    }
}

impl VisitFmt for FixedFloatVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        self.0.writer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_are_rounded_to_the_microsecond() {
        assert_eq!(millis(0.000_057_565), 0.058);
        assert_eq!(millis(0.012_5), 12.5);
        assert_eq!(millis(1.0), 1000.0);
        // The duration of a real request: 57,565 ns, which `* 1000.0` printed as
        // 0.057565000000000005.
        let elapsed = std::time::Duration::from_nanos(57_565).as_secs_f64();
        assert_eq!(format!("{}", millis(elapsed)), "0.058");
    }
}
