//! Scale runner for issue 5: "1,000,000 entities in one table and 1,000,000 blobs in one container
//! load in minutes, with paged listing and a PartitionKey query still answering in milliseconds
//! and memory flat", and the same for 1,000,000 messages in one queue.
//!
//! Starts `release/lapis` of the target folder it was built in (`target/`, or `CARGO_TARGET_DIR`)
//! on disk in a fresh temp folder, loads N blobs and M entities over loopback HTTP with an account
//! SAS, times listings and queries against them (and, in a second account with blob versioning
//! on, listings of N/10 blobs with 10 versions each), samples the server's RSS throughout, prints a
//! table and, with `--write-doc`, rewrites the SCALE markers of docs/performance.md. Then, in a
//! lapis of its own, fills one queue with Q messages, times Get and Delete Message at 1,000,
//! 100,000 and Q messages, and writes the SCALE QUEUE markers; with `--azurite-messages A`,
//! Azurite's queue too, up to A messages.
//!
//! `cargo run --release -p lapis-benches --bin scale -- [--blobs N] [--entities M] [--messages Q]
//! [--azurite-messages A] [--write-doc]`

mod blobs;
mod http;
mod load;
mod queues;
mod report;
mod server;
mod tables;
mod versions;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;

use http::Target;
use report::{int, load_average, machine, mib, now_utc, num, Report};
use server::{folder_bytes, release_binary, status_kib, Server};

#[derive(Parser)]
#[command(about = "Loads N blobs and M entities into a fresh lapis and times listings and queries")]
struct Args {
    /// Blobs to PUT into one container (0 skips the blob part).
    #[arg(long, default_value_t = 1_000_000)]
    blobs: u64,
    /// Entities to insert into one table, a multiple of 1,000 (0 skips the table part).
    #[arg(long, default_value_t = 1_000_000)]
    entities: u64,
    /// Messages to put into one queue, in a lapis of its own (0 skips the queue part).
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// Then fill a queue of Azurite to this many messages too (0: no Azurite). Azurite puts about
    /// 350 messages a second here and its Get Messages sorts the whole queue: keep it small.
    #[arg(long, default_value_t = 0)]
    azurite_messages: u64,
    /// Azurite (default: conformance/azurite/node_modules/.bin/azurite of this workspace).
    #[arg(long)]
    azurite: Option<PathBuf>,
    /// Rewrite the SCALE markers of docs/performance.md with the results.
    #[arg(long)]
    write_doc: bool,
    /// The server binary (default: release/lapis of the target folder this program was built in,
    /// built there if missing).
    #[arg(long)]
    lapis: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scale: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    if !args.entities.is_multiple_of(tables::PER_PARTITION) {
        return Err("--entities must be a multiple of 1,000 (whole partitions)".into());
    }
    let binary = match &args.lapis {
        Some(path) => path.clone(),
        None => release_binary()?,
    };
    // Read before starting it: the binary may be rebuilt while the run goes on.
    let built = built_at(&binary);
    let mut blocks = Vec::new();
    if args.blobs > 0 || args.entities > 0 {
        let what = format!("{} blobs, {} entities", int(args.blobs), int(args.entities));
        let scenario = Scenario::BlobsAndTables {
            blobs: args.blobs,
            entities: args.entities,
        };
        let table = with_header(&built, "", &what, |report| {
            session(&binary, &scenario, report)
        })?;
        blocks.push((report::SCALE, table));
    }
    if args.messages > 0 {
        let mut what = format!("{} messages in one queue", int(args.messages));
        let azurite = match args.azurite_messages {
            0 => None,
            _ => Some(
                args.azurite
                    .clone()
                    .unwrap_or_else(|| workspace().join(AZURITE)),
            ),
        };
        if azurite.is_some() {
            what.push_str(&format!(
                ", then Azurite on disk (its queue to {} messages)",
                int(args.azurite_messages)
            ));
        }
        let scenario = Scenario::Queue {
            messages: args.messages,
        };
        let table = with_header(&built, " of its own", &what, |report| {
            session(&binary, &scenario, report)?;
            match &azurite {
                Some(path) => azurite_queue(path, args.azurite_messages, report),
                None => Ok(()),
            }
        })?;
        blocks.push((report::SCALE_QUEUE, table));
    }
    for (markers, table) in blocks {
        println!("\n{table}");
        if args.write_doc {
            let doc = workspace().join("docs/performance.md");
            report::write_doc(&doc, markers, &table)?;
            eprintln!("scale: wrote {}", doc.display());
        }
    }
    Ok(())
}

const AZURITE: &str = "conformance/azurite/node_modules/.bin/azurite";

fn workspace() -> PathBuf {
    let benches = Path::new(env!("CARGO_MANIFEST_DIR"));
    benches.parent().unwrap_or(Path::new("..")).to_path_buf()
}

/// What one lapis is loaded with.
enum Scenario {
    BlobsAndTables { blobs: u64, entities: u64 },
    Queue { messages: u64 },
}

/// Runs `measure` into a new report and returns it as Markdown, headed by the machine, the
/// binary, `what` was loaded and how busy the machine was before and after.
fn with_header(
    built: &str,
    folder: &str,
    what: &str,
    measure: impl FnOnce(&mut Report) -> Result<(), String>,
) -> Result<String, String> {
    let (load_before, date, started) = (load_average(), now_utc(), Instant::now());
    let mut report = Report::default();
    measure(&mut report)?;
    let header = format!(
        "Machine: {}; lapis (binary built {built}) on disk in a fresh temp folder{folder}, client \
         in the same process on the same cores; {what}; run took {:.0} s on {date}, load \
         average (1/5/15 min) {load_before} before and {} after.",
        machine(),
        started.elapsed().as_secs_f64(),
        load_average(),
    );
    Ok(report.markdown(&header))
}

/// Starts lapis, measures `scenario`, stops it and adds the size of its data folder.
fn session(binary: &Path, scenario: &Scenario, report: &mut Report) -> Result<(), String> {
    let mut server = Server::start(binary)?;
    let measured = measure(&server, scenario, report);
    let bytes_running = folder_bytes(server.dir.path());
    // SQLite's WAL file keeps its largest size while lapis runs; a clean stop truncates it.
    let wal_path = server.dir.path().join("lapis.sqlite-wal");
    let wal = std::fs::metadata(wal_path).map_or(0, |m| m.len());
    let stopped = server.stop();
    measured?;
    stopped?;
    report.add(
        "data folder at the end: running (of which SQLite WAL) / after clean stop",
        format!(
            "{} ({}) / {}",
            mib_of(bytes_running),
            mib_of(wal),
            mib_of(folder_bytes(server.dir.path()))
        ),
        "MiB",
    );
    Ok(())
}

/// Azurite's queue, filled to `messages` and measured as lapis's; its RSS idle and at its peak.
fn azurite_queue(binary: &Path, messages: u64, report: &mut Report) -> Result<(), String> {
    let mut server = Server::start_azurite(binary)?;
    let target = Arc::new(Target::new(&server));
    let rss = |field| status_kib(target.pid, field).unwrap_or(0);
    let measured = (|| {
        std::thread::sleep(std::time::Duration::from_secs(1));
        report.add(
            "azurite RSS, idle 1 s after start",
            mib(rss("VmRSS:")),
            "MiB",
        );
        runtime()?.block_on(queues::run(target.clone(), "azurite", messages, report))?;
        report.add("azurite peak RSS (VmHWM)", mib(rss("VmHWM:")), "MiB");
        Ok(())
    })();
    let stopped = server.stop();
    measured.and(stopped)
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

/// When `binary` was last written, so a table can be matched to the code it measured.
fn built_at(binary: &Path) -> String {
    let modified = std::fs::metadata(binary).and_then(|m| m.modified());
    modified.map_or_else(|_| "?".into(), |t| report::utc(t.into()))
}

fn mib_of(bytes: u64) -> String {
    num(bytes as f64 / 1024.0 / 1024.0)
}

/// Everything measured while the server runs.
fn measure(server: &Server, scenario: &Scenario, report: &mut Report) -> Result<(), String> {
    let target = Arc::new(Target::new(server));
    let rss = |field| status_kib(target.pid, field).unwrap_or(0);
    std::thread::sleep(std::time::Duration::from_secs(1));
    report.add("lapis RSS, idle 1 s after start", mib(rss("VmRSS:")), "MiB");
    runtime()?.block_on(async {
        match *scenario {
            Scenario::BlobsAndTables { blobs, entities } => {
                if blobs > 0 {
                    blobs::run(target.clone(), blobs, report).await?;
                    let versioned = Target::for_account(server, server::VERSIONED_ACCOUNT);
                    versions::run(
                        Arc::new(versioned),
                        (blobs / versions::VERSIONS).max(100),
                        report,
                    )
                    .await?;
                }
                if entities > 0 {
                    tables::run(target.clone(), entities, report).await?;
                }
            }
            Scenario::Queue { messages } => {
                queues::run(target.clone(), "lapis", messages, report).await?;
            }
        }
        Ok::<_, String>(())
    })?;
    let at_end = format!(
        "{} ({} / {})",
        mib(rss("VmRSS:")),
        mib(rss("RssAnon:")),
        mib(rss("RssFile:"))
    );
    report.add(
        "lapis RSS at the end (heap and stacks / mapped files)",
        at_end,
        "MiB",
    );
    report.add("lapis peak RSS (VmHWM)", mib(rss("VmHWM:")), "MiB");
    Ok(())
}
