//! The results: Markdown tables for stdout and for the SCALE and SCALE QUEUE markers of
//! docs/performance.md, headed by what the machine was and how busy it was.

use std::path::Path;

use crate::load::LoadRun;

/// The markers around the blob and table figures, and around the queue figures.
pub const SCALE: (&str, &str) = ("<!-- SCALE BEGIN -->", "<!-- SCALE END -->");
pub const SCALE_QUEUE: (&str, &str) = ("<!-- SCALE QUEUE BEGIN -->", "<!-- SCALE QUEUE END -->");

#[derive(Default)]
pub struct Report {
    /// (figure, value, unit) in the order measured.
    rows: Vec<(String, String, String)>,
}

impl Report {
    pub fn add(&mut self, figure: impl Into<String>, value: impl Into<String>, unit: &str) {
        let row = (figure.into(), value.into(), unit.to_owned());
        println!("{}: {} {}", row.0, row.1, row.2);
        self.rows.push(row);
    }

    pub fn ms(&mut self, figure: impl Into<String>, ms: f64) {
        self.add(figure, num(ms), "ms");
    }

    /// Time, rate and the RSS figures of a bulk load of `what` (e.g. "blob PUT").
    pub fn load(&mut self, what: &str, unit: &str, items_per_job: u64, run: &LoadRun) {
        self.add(format!("{what}: load time"), num(run.seconds), "s");
        self.add(
            format!("{what}: rate"),
            num(run.rate() * items_per_job as f64),
            unit,
        );
        let (min, max) = run.rss_min_max();
        self.add(
            format!("{what}: lapis RSS min / max"),
            pair(min, max),
            "MiB",
        );
        let at: Vec<String> = [10, 50, 100].iter().map(|&p| mib(run.rss_at(p))).collect();
        self.add(
            format!("{what}: lapis RSS at 10 / 50 / 100 % of the load"),
            at.join(" / "),
            "MiB",
        );
    }

    pub fn markdown(&self, header: &str) -> String {
        let mut out = format!("{header}\n\n| Figure | Value | Unit |\n|---|---:|---|\n");
        for (figure, value, unit) in &self.rows {
            out.push_str(&format!("| {figure} | {value} | {unit} |\n"));
        }
        out
    }
}

/// Like benches/compare/report.py: no decimals from 100 up, thousands separated.
pub fn num(v: f64) -> String {
    if v >= 100.0 {
        let digits = format!("{:.0}", v);
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

/// A count: thousands separated, never decimals.
pub fn int(n: u64) -> String {
    if n >= 100 {
        num(n as f64)
    } else {
        n.to_string()
    }
}

pub fn mib(kib: u64) -> String {
    num(kib as f64 / 1024.0)
}

fn pair(a_kib: u64, b_kib: u64) -> String {
    format!("{} / {}", mib(a_kib), mib(b_kib))
}

/// The 1-, 5- and 15-minute load averages, as `/proc/loadavg` prints them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Cores, CPU model, RAM and kernel, from `/proc`.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = read_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "?".into());
    let ram_kib: f64 = read_field("/proc/meminfo", "MemTotal")
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores ({cpu}), {:.1} GiB RAM, Linux {}",
        ram_kib / 1024.0 / 1024.0,
        kernel.trim()
    )
}

/// The value after `name:` on the first line of `path` that starts with `name`.
fn read_field(path: &str, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(name))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

pub fn now_utc() -> String {
    utc(time::OffsetDateTime::now_utc())
}

pub fn utc(t: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.format(&format).unwrap_or_default()
}

/// Replaces the text between the `markers` of `doc`, keeping everything else.
pub fn write_doc(doc: &Path, markers: (&str, &str), table: &str) -> Result<(), String> {
    let (begin, end) = markers;
    let text = std::fs::read_to_string(doc).map_err(|e| format!("{}: {e}", doc.display()))?;
    let (head, rest) = text
        .split_once(begin)
        .ok_or_else(|| format!("{} has no {begin}", doc.display()))?;
    let (_, tail) = rest
        .split_once(end)
        .ok_or_else(|| format!("{} has no {end}", doc.display()))?;
    let new = format!("{head}{begin}\n{table}{end}{tail}");
    std::fs::write(doc, new).map_err(|e| format!("{}: {e}", doc.display()))
}
