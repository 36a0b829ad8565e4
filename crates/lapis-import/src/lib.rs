//! `lapis import-azurite`: moves an Azurite data folder (the `--location` of Azurite 3.x: its
//! LokiJS databases and the extent files they point into) into a Lapis data folder.
//!
//! Three steps:
//! 1. **Read** (`source`, `loki`, `model`, `entity`): the five databases are streamed into
//!    typed documents; the folder is only ever opened read-only.
//! 2. **Check** (`plan`): every object is checked (its container or queue exists, its bytes lie
//!    within their extent file, its sizes add up, its values have their types). A damaged
//!    source is refused here, before anything is written, unless the import is told to do its
//!    best: then the damaged objects are left out and listed.
//! 3. **Write** (`run`): through `lapis_store`'s public API only — the `import_*` functions keep
//!    ETags, times, leases, snapshot names, entity timestamps and message ids as Azurite had
//!    them. An object Lapis already holds as it is is left alone, so running the import again
//!    changes nothing. The Lapis folder is opened like the server opens it, so a running Lapis
//!    on it is refused.

pub mod entity;
pub mod loki;
pub mod model;
pub mod plan;
mod progress;
mod run;
pub mod source;

use std::fmt;
use std::path::{Path, PathBuf};

use lapis_store::{ImportOutcome, Store};
use time::OffsetDateTime;

use crate::plan::{Plan, Skipped};
use crate::progress::Progress;
use crate::source::{Problem, Source};

/// What the command was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Azurite's data folder (its `--location`).
    pub source: PathBuf,
    /// The Lapis data folder (created if missing).
    pub target: PathBuf,
    /// Import what can be read, leaving out (and listing) damaged objects.
    pub best_effort: bool,
    /// No progress output (the summary is still returned).
    pub quiet: bool,
}

/// Objects of one kind: added, replaced (another version was there), left as they were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub created: u64,
    pub replaced: u64,
    pub unchanged: u64,
    /// Content bytes of the objects (blobs and snapshots).
    pub bytes: u64,
}

impl Tally {
    pub(crate) fn count(&mut self, outcome: ImportOutcome) {
        match outcome {
            ImportOutcome::Created => self.created += 1,
            ImportOutcome::Replaced => self.replaced += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.created + self.replaced + self.unchanged
    }
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub source: PathBuf,
    pub target: PathBuf,
    pub accounts: Vec<String>,
    pub services: Tally,
    pub containers: Tally,
    pub blobs: Tally,
    pub snapshots: Tally,
    pub tables: Tally,
    /// Entities and messages: `created` counts the added or changed ones.
    pub entities: Tally,
    pub queues: Tally,
    pub messages: Tally,
    /// Valid objects deliberately not imported, and why.
    pub skipped: Vec<Skipped>,
    /// Damage found in the source, left out (only with `best_effort`).
    pub problems: Vec<Problem>,
    /// Objects that could not be written (only with `best_effort`).
    pub failed: Vec<Skipped>,
    /// Values imported in another form than Azurite's, and other remarks.
    pub notes: Vec<String>,
}

fn human_bytes(n: u64) -> String {
    indicatif::HumanBytes(n).to_string()
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Imported {} into {}",
            self.source.display(),
            self.target.display()
        )?;
        writeln!(f, "  accounts: {}", self.accounts.join(", "))?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, t: &Tally, bytes: bool| {
            write!(
                f,
                "  {name:<20} {:>9}  ({} new, {} replaced, {} already there)",
                t.total(),
                t.created,
                t.replaced,
                t.unchanged
            )?;
            if bytes {
                write!(f, ", {}", human_bytes(t.bytes))?;
            }
            writeln!(f)
        };
        row(f, "service properties", &self.services, false)?;
        row(f, "containers", &self.containers, false)?;
        row(f, "blobs", &self.blobs, true)?;
        row(f, "snapshots", &self.snapshots, true)?;
        row(f, "tables", &self.tables, false)?;
        let changed = |f: &mut fmt::Formatter<'_>, name: &str, t: &Tally| {
            writeln!(
                f,
                "  {name:<20} {:>9}  ({} new or changed, {} already there)",
                t.total(),
                t.created,
                t.unchanged
            )
        };
        changed(f, "entities", &self.entities)?;
        row(f, "queues", &self.queues, false)?;
        changed(f, "messages", &self.messages)?;
        let list = |f: &mut fmt::Formatter<'_>, title: &str, items: Vec<String>| {
            if items.is_empty() {
                return Ok(());
            }
            writeln!(f, "{title} ({}):", items.len())?;
            for i in items {
                writeln!(f, "  - {i}")?;
            }
            Ok(())
        };
        let skipped = |s: &Vec<Skipped>| {
            s.iter()
                .map(|s| format!("{}: {}", s.object, s.why))
                .collect()
        };
        list(f, "Not imported, by design", skipped(&self.skipped))?;
        list(
            f,
            "Not imported: damaged in the Azurite folder (--best-effort)",
            self.problems.iter().map(|p| p.to_string()).collect(),
        )?;
        list(
            f,
            "Not imported: could not be written (--best-effort)",
            skipped(&self.failed),
        )?;
        list(f, "Notes", self.notes.clone())?;
        Ok(())
    }
}

/// How many problems an error message lists before it says how many more there are.
const PROBLEMS_SHOWN: usize = 50;

fn refusal(problems: &[Problem]) -> String {
    let mut out = format!(
        "the Azurite folder has {} problem(s); nothing was imported:\n",
        problems.len()
    );
    for p in problems.iter().take(PROBLEMS_SHOWN) {
        out.push_str(&format!("  - {p}\n"));
    }
    if problems.len() > PROBLEMS_SHOWN {
        out.push_str(&format!(
            "  ... and {} more\n",
            problems.len() - PROBLEMS_SHOWN
        ));
    }
    out.push_str(
        "Run again with --best-effort to import everything else and list what is left out.",
    );
    out
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Runs the import. An error means nothing was imported, unless it says otherwise (a failure
/// while writing: what was written stays, and running the import again continues from it).
pub fn import(opts: &Options) -> Result<Summary, String> {
    let mut progress = Progress::new(opts.quiet);
    let source = canonical(&opts.source);
    std::fs::create_dir_all(&opts.target)
        .map_err(|e| format!("cannot create {}: {e}", opts.target.display()))?;
    let target = canonical(&opts.target);
    if target.starts_with(&source) || source.starts_with(&target) {
        return Err(format!(
            "the Lapis folder {} and the Azurite folder {} must not contain each other: the \
             import never writes into Azurite's folder",
            target.display(),
            source.display()
        ));
    }
    progress.say(&format!("Reading the Azurite folder {}", source.display()));
    let mut src = Source::read(&source, &mut |file| progress.say(&format!("  {file}")))?;
    let mut plan = Plan::make(&mut src, OffsetDateTime::now_utc());
    if !src.problems.is_empty() && !opts.best_effort {
        return Err(refusal(&src.problems));
    }
    for p in &src.problems {
        progress.say(&format!("left out: {p}"));
    }
    let store = Store::open(&target)
        .map_err(|e| format!("cannot open the Lapis folder {}: {e}", target.display()))?;
    let mut summary = Summary {
        source: source.clone(),
        target: target.clone(),
        accounts: plan.accounts.iter().cloned().collect(),
        skipped: std::mem::take(&mut plan.skipped),
        problems: std::mem::take(&mut src.problems),
        ..Default::default()
    };
    if summary.accounts.iter().any(|a| a != "devstoreaccount1") {
        summary.notes.push(
            "accounts other than devstoreaccount1 are served when AZURITE_ACCOUNTS names them, \
             as in Azurite"
                .into(),
        );
    }
    let outcome = run::Runner {
        store: &store,
        progress: &mut progress,
        best_effort: opts.best_effort,
        summary: &mut summary,
    }
    .run(&plan, &src.blob_extents, &src.queue_extents);
    let closed = store.close();
    outcome.map_err(|e| {
        format!(
            "the import stopped: {e}\nWhat was imported before stays in {}; running the import \
             again imports the rest.",
            target.display()
        )
    })?;
    closed.map_err(|e| format!("closing the Lapis folder: {e}"))?;
    Ok(summary)
}
