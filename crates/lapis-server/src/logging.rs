//! Logs: an access line per request (human-readable or JSON for Loki) on stderr, silenced by
//! `--silent`; `--debug FILE` adds a debug log of everything to a file. Keys and signatures are
//! never logged: the access line names the account, never the credential.

use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::sync::Mutex;

use tracing_subscriber::filter::{LevelFilter, Targets};
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
