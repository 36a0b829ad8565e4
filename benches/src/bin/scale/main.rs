//! Scale runner for issue 5: "1,000,000 entities in one table and 1,000,000 blobs in one container
//! load in minutes, with paged listing and a PartitionKey query still answering in milliseconds
//! and memory flat."
//!
//! Starts `target/release/lapis` on disk in a fresh temp folder, loads N blobs and M entities
//! over loopback HTTP with an account SAS, times listings and queries against them, samples the
//! server's RSS throughout, prints a table and, with `--write-doc`, rewrites the SCALE markers of
//! docs/performance.md.
//!
//! `cargo run --release -p lapis-benches --bin scale -- [--blobs N] [--entities M] [--write-doc]`

mod blobs;
mod http;
mod load;
mod report;
mod server;
mod tables;

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
    /// Rewrite the SCALE markers of docs/performance.md with the results.
    #[arg(long)]
    write_doc: bool,
    /// The server binary (default: target/release/lapis of this workspace, built if missing).
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
    let (load_before, date, started) = (load_average(), now_utc(), Instant::now());
    let mut server = Server::start(&binary)?;
    let mut report = Report::default();
    let measured = measure(&server, args, &mut report);
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
    drop(server);

    let header = format!(
        "Machine: {}; lapis (binary built {}) on disk in a fresh temp folder, client in the same \
         process on the same cores; {} blobs, {} entities; run took {:.0} s on {date}, load \
         average (1/5/15 min) {load_before} before and {} after.",
        machine(),
        built,
        int(args.blobs),
        int(args.entities),
        started.elapsed().as_secs_f64(),
        load_average(),
    );
    let table = report.markdown(&header);
    println!("\n{table}");
    if args.write_doc {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or(Path::new(".."));
        let doc = root.join("docs/performance.md");
        report::write_doc(&doc, &table)?;
        eprintln!("scale: wrote {}", doc.display());
    }
    Ok(())
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
fn measure(server: &Server, args: &Args, report: &mut Report) -> Result<(), String> {
    let target = Arc::new(Target::new(&server.blob, &server.table, server.pid()));
    let rss = |field| status_kib(target.pid, field).unwrap_or(0);
    std::thread::sleep(std::time::Duration::from_secs(1));
    report.add("lapis RSS, idle 1 s after start", mib(rss("VmRSS:")), "MiB");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async {
        if args.blobs > 0 {
            blobs::run(target.clone(), args.blobs, report).await?;
        }
        if args.entities > 0 {
            tables::run(target.clone(), args.entities, report).await?;
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
