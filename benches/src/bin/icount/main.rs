//! The instruction-count ratchet: how many instructions a fixed set of requests costs the
//! server, counted by callgrind (so the figure does not depend on this machine's speed at the
//! minute), against a committed baseline (`benches/icount/baseline.txt`). An operation that costs
//! more than 5 % above its baseline fails the check.
//!
//!   icount                    measure under callgrind and check against the baseline
//!   icount --write-baseline   measure and write the baseline (say why in the commit)
//!   icount --measure          (internal) run the operations; expects to run under callgrind
//!
//! The server runs in this process (Blob and Table services on loopback, on disk in a temporary
//! folder); a minimal client sends requests prepared beforehand, so nearly every instruction
//! counted between a zeroing and a dump is the server's: parsing, routing, authentication (an
//! account SAS), the engine, SQLite, the answer.

mod callgrind;
mod client;
mod workloads;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use lapis_auth::Accounts;
use lapis_server::{AppState, ServiceKind};
use lapis_store::{Store, StoreOptions};

// The lapis binary's allocator and configuration (crates/lapis-server/src/main.rs): allocation
// is a good part of a request's instructions.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
#[export_name = "malloc_conf"]
static MALLOC_CONF: &[u8; 10] = b"narenas:1\0";

/// How far above its baseline an operation may go.
const TOLERANCE: f64 = 0.05;

fn baseline_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("icount/baseline.txt")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--measure") => {
            measure();
            ExitCode::SUCCESS
        }
        Some("--write-baseline") => match run_under_callgrind() {
            Ok(counts) => match write_baseline(&counts) {
                Ok(()) => {
                    println!("wrote {}", baseline_path().display());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            },
            Err(e) => fail(&e),
        },
        None => match run_under_callgrind().and_then(|counts| check(&counts)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        },
        Some(other) => fail(&format!("unknown argument {other}")),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("icount: {message}");
    ExitCode::FAILURE
}

/// Runs the operations (this process, under callgrind).
fn measure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = StoreOptions {
        // No collector pass in the middle of a measurement.
        gc_interval: Duration::from_secs(3600),
        ..StoreOptions::default()
    };
    let store = Store::open_with(dir.path(), options).expect("store");
    // One thread runs every connection: a work-stealing scheduler's idle workers search and
    // spin for as long as the other threads run, which valgrind's one-thread-at-a-time
    // scheduling turns into counts that follow timing rather than code.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let state = AppState::new(store.clone(), Accounts::dev());
    let listen = |kind| {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind loopback");
        let addr = listener.local_addr().expect("address");
        rt.spawn(lapis_server::serve(
            listener,
            state.clone(),
            kind,
            std::future::pending::<()>(),
        ));
        addr
    };
    let (blob, table) = (listen(ServiceKind::Blob), listen(ServiceKind::Table));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || rt.block_on(stopped));
    let sas = lapis_benches::dev_account_sas("2025-11-05");
    // Waits until the WAL is fully checkpointed (the background pass may hold a frame back).
    let quiet = || {
        for _ in 0..100 {
            if store.checkpoint().expect("checkpoint") {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the WAL could not be checkpointed");
    };
    workloads::blob(blob, &sas, &quiet);
    workloads::table(table, &sas, &quiet);
    let _ = stop.send(());
    let _ = server.join();
    store.close().expect("close the store");
}

/// Instructions per request, by operation, from one callgrind run of `--measure`.
fn run_under_callgrind() -> Result<BTreeMap<String, u64>, String> {
    let out = tempfile::tempdir().map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!(
            "--callgrind-out-file={}",
            out.path().join("callgrind.out").display()
        ))
        .arg("--quiet")
        // No gdbserver: its FIFOs (vgdb-pipe-*) would stay in the temporary folder when the run
        // is killed.
        .arg("--vgdb=no")
        .arg(&exe)
        .arg("--measure")
        .status()
        .map_err(|e| format!("cannot run valgrind (apt-get install valgrind): {e}"))?;
    if !status.success() {
        return Err(format!("the measured run failed: {status}"));
    }
    let mut counts = BTreeMap::new();
    for entry in std::fs::read_dir(out.path()).map_err(|e| e.to_string())? {
        let text = std::fs::read_to_string(entry.map_err(|e| e.to_string())?.path())
            .map_err(|e| e.to_string())?;
        if let Some((name, total)) = parse_dump(&text) {
            let runs = workloads::OPERATIONS
                .iter()
                .find(|o| o.name.to_str() == Ok(name.as_str()))
                .map(|o| o.runs as u64)
                .ok_or_else(|| format!("a dump for an unknown operation {name}"))?;
            counts.insert(name, total / runs);
        }
    }
    for op in workloads::OPERATIONS {
        let name = op.name.to_str().unwrap_or_default();
        if !counts.contains_key(name) {
            return Err(format!("no dump for {name}"));
        }
    }
    println!(
        "measured {} operations under callgrind in {:.0} s",
        counts.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(counts)
}

/// The operation a dump was triggered for, and its instruction total.
fn parse_dump(text: &str) -> Option<(String, u64)> {
    let name = text
        .lines()
        .find_map(|l| l.strip_prefix("desc: Trigger: Client Request: "))?
        .trim()
        .to_string();
    // `totals:` is the sum of every basic block's own cost in the window. Not `summary:`, which
    // also carries the inclusive costs of frames that were live across the zeroing (the server
    // thread's `block_on` never returns): that part moved by millions with unrelated changes.
    let total = text
        .lines()
        .find_map(|l| l.strip_prefix("totals: "))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((name, total))
}

fn read_baseline() -> Result<BTreeMap<String, u64>, String> {
    let text = std::fs::read_to_string(baseline_path())
        .map_err(|e| format!("{}: {e}", baseline_path().display()))?;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, value) = l
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("baseline line '{l}'"))?;
            let value = value
                .trim()
                .parse()
                .map_err(|_| format!("baseline line '{l}'"))?;
            Ok((name.to_string(), value))
        })
        .collect()
}

fn write_baseline(counts: &BTreeMap<String, u64>) -> Result<(), String> {
    let mut text = String::from(
        "# Instructions per request (callgrind, the server in-process), by operation: the ratchet of\n\
         # `cargo run --release -p lapis-benches --bin icount`. A measured operation more than 5 %\n\
         # above its line fails scripts/test. Written by `icount --write-baseline`; a commit that\n\
         # raises a line says why.\n",
    );
    for op in workloads::OPERATIONS {
        let name = op.name.to_str().unwrap_or_default();
        text.push_str(&format!("{name} {}\n", counts[name]));
    }
    std::fs::write(baseline_path(), text).map_err(|e| e.to_string())
}

fn check(counts: &BTreeMap<String, u64>) -> Result<(), String> {
    let baseline = read_baseline()?;
    let mut over = Vec::new();
    println!(
        "{:<20} {:>14} {:>14} {:>8}",
        "operation", "baseline", "measured", "change"
    );
    for (name, measured) in counts {
        let Some(&base) = baseline.get(name) else {
            return Err(format!(
                "{name} has no baseline: run icount --write-baseline"
            ));
        };
        let change = *measured as f64 / base as f64 - 1.0;
        let mark = if change > TOLERANCE {
            over.push(name.clone());
            "  over"
        } else if change < -2.0 * TOLERANCE {
            "  (lower the baseline)"
        } else {
            ""
        };
        println!(
            "{name:<20} {base:>14} {measured:>14} {:>+7.1}%{mark}",
            change * 100.0
        );
    }
    if over.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} cost more than {:.0} % above the baseline: find what grew (callgrind_annotate), \
             or raise the baseline with icount --write-baseline and say why in the commit",
            over.join(", "),
            TOLERANCE * 100.0
        ))
    }
}
