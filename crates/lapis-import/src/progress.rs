//! Progress of an import: a bar per phase on a terminal (indicatif), plain lines otherwise (a
//! log, CI) — one when a phase starts, one every few seconds, one when it ends.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

/// What a phase counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Items,
}

fn amount(n: u64, unit: Unit) -> String {
    match unit {
        Unit::Bytes => HumanBytes(n).to_string(),
        Unit::Items => n.to_string(),
    }
}

/// How often a plain progress line is written.
const LINE_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    terminal: bool,
    quiet: bool,
    bar: Option<ProgressBar>,
    phase: String,
    unit: Unit,
    total: u64,
    done: u64,
    last_line: Instant,
}

impl Progress {
    /// Bars when stdout is a terminal, lines when it is not; nothing at all when `quiet`.
    pub fn new(quiet: bool) -> Progress {
        Progress {
            terminal: std::io::stdout().is_terminal(),
            quiet,
            bar: None,
            phase: String::new(),
            unit: Unit::Items,
            total: 0,
            done: 0,
            last_line: Instant::now(),
        }
    }

    /// A line of its own (not part of a phase).
    pub fn say(&mut self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
        }
    }

    pub fn start(&mut self, phase: &str, total: u64, unit: Unit) {
        self.finish();
        self.phase = phase.to_string();
        self.unit = unit;
        self.total = total;
        self.done = 0;
        self.last_line = Instant::now();
        if self.quiet {
            return;
        }
        if self.terminal {
            let template = match unit {
                Unit::Bytes => {
                    "{prefix:>10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {wide_msg}"
                }
                Unit::Items => "{prefix:>10} [{bar:30}] {pos}/{len} {wide_msg}",
            };
            let bar = ProgressBar::new(total).with_prefix(phase.to_string());
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            self.bar = Some(bar);
        } else {
            self.say(&format!("{phase}: {} to import", amount(total, unit)));
        }
    }

    /// `n` more of the phase's units are done.
    pub fn advance(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
        } else if !self.quiet && self.last_line.elapsed() >= LINE_EVERY {
            self.last_line = Instant::now();
            let line = format!(
                "{}: {} of {}",
                self.phase,
                amount(self.done, self.unit),
                amount(self.total, self.unit)
            );
            self.say(&line);
        }
    }

    /// What the bar shows beside the count (the object being imported).
    pub fn note(&self, text: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(text.to_string());
        }
    }

    pub fn finish(&mut self) {
        if self.phase.is_empty() {
            return;
        }
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let line = format!("{}: done, {}", self.phase, amount(self.done, self.unit));
        self.say(&line);
        self.phase.clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
