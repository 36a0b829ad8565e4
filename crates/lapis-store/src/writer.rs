//! The single writer thread and its group commit.
//!
//! Callers send a job and wait. The thread takes every queued job, makes the extent bytes they
//! reference durable (one fsync per extent), runs each job in its own SAVEPOINT inside one
//! transaction (a failing job rolls back only itself), COMMITs once and answers everyone.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use parking_lot::{Mutex, RwLock};
use rusqlite::Connection;

use crate::codec::EtagClock;
use crate::engine::{batch_error, io_error, normalize};
use crate::pool::Extent;
use crate::{Result, StoreError};

/// Most jobs per transaction, so one huge burst still answers in bounded time.
const MAX_BATCH: usize = 512;

trait JobFn: Send {
    /// Runs inside the job's savepoint; false = roll the savepoint back.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller: its own result if the batch committed, else `failure`.
    fn finish(self: Box<Self>, failure: Option<StoreError>);
}

struct TypedJob<T, F> {
    work: Option<F>,
    result: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

/// The answer to a queued job: a thread waits for it with [`Pending::wait`], async code awaits
/// it, which leaves the task's worker free instead of parking a thread per write.
#[must_use = "a queued write is answered through its Pending"]
pub struct Pending<T>(oneshot::Receiver<Result<T>>);

impl<T> Pending<T> {
    /// Blocks the calling thread until the job is committed (or failed).
    pub fn wait(self) -> Result<T> {
        futures::executor::block_on(self)
    }
}

impl<T> Future for Pending<T> {
    type Output = Result<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|answer| answer.map_err(|_| closed())?.map_err(normalize))
    }
}

impl<T: Send, F: FnOnce(&Connection) -> Result<T> + Send> JobFn for TypedJob<T, F> {
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let result = work(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, failure: Option<StoreError>) {
        let answer = match (failure, self.result) {
            (Some(e), Some(Ok(_)) | None) => Err(e),
            (_, Some(result)) => result,
            (None, None) => Err(StoreError::Internal("job was not run".into())),
        };
        let _ = self.reply.send(answer);
    }
}

struct Job {
    sync: Vec<(Arc<Extent>, u64)>,
    work: Box<dyn JobFn>,
}

pub(crate) struct Writer {
    tx: RwLock<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// `wal_rewind_bytes`: see `StoreOptions::wal_rewind_bytes`.
    pub(crate) fn start(
        conn: Arc<Mutex<Connection>>,
        clock: Arc<EtagClock>,
        wal_rewind_bytes: u64,
    ) -> Result<Writer> {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("lapis-store-writer".into())
            .spawn(move || {
                let mut wal = WalRewind::for_connection(&conn.lock(), wal_rewind_bytes);
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    let conn = conn.lock();
                    run_batch(&conn, batch, &clock);
                    if let Some(wal) = &mut wal {
                        wal.between_batches(&conn);
                    }
                }
                // Closing: fold the WAL into the database file.
                if let Err(e) = conn.lock().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
                    tracing::warn!(error = %e, "WAL checkpoint at close failed");
                }
            })?;
        Ok(Writer {
            tx: RwLock::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Runs `work` in the writer's transaction after `sync` extents are durable up to the given
    /// lengths; returns once the transaction is committed.
    pub(crate) fn submit<T, F>(&self, sync: Vec<(Arc<Extent>, u64)>, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.queue(sync, work)?.wait()
    }

    /// `submit` without waiting: the answer comes through the returned `Pending`.
    pub(crate) fn queue<T, F>(&self, sync: Vec<(Arc<Extent>, u64)>, work: F) -> Result<Pending<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            sync,
            work: Box::new(TypedJob {
                work: Some(work),
                result: None,
                reply,
            }),
        };
        {
            let tx = self.tx.read();
            let tx = tx.as_ref().ok_or_else(closed)?;
            tx.send(job).map_err(|_| closed())?;
        }
        Ok(Pending(answer))
    }

    /// Stops accepting jobs, lets the thread finish the queue, checkpoint and exit.
    pub(crate) fn stop(&self) {
        self.tx.write().take();
        if let Some(thread) = self.thread.lock().take() {
            let _ = thread.join();
        }
    }
}

/// How often the writer looks at the WAL's size.
const WAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// Keeps the WAL bounded under sustained writes. SQLite starts a WAL over only once every frame
/// in it has been checkpointed, and the background PASSIVE checkpoint never catches up with
/// back-to-back commits: the WAL grew to 6 GB over a million small PUTs. Between two batches
/// nothing is appended, so a checkpoint run there can finish; the next commit then writes from
/// the WAL's start, over the same file (`journal_size_limit` keeps it at the threshold).
struct WalRewind {
    path: PathBuf,
    threshold: u64,
    last_check: Instant,
}

impl WalRewind {
    /// None for an in-memory database, which has no WAL.
    fn for_connection(conn: &Connection, threshold: u64) -> Option<WalRewind> {
        let db = conn.path().filter(|p| !p.is_empty())?;
        Some(WalRewind {
            path: PathBuf::from(format!("{db}-wal")),
            threshold,
            last_check: Instant::now(),
        })
    }

    fn between_batches(&mut self, conn: &Connection) {
        if self.last_check.elapsed() < WAL_CHECK_INTERVAL {
            return;
        }
        self.last_check = Instant::now();
        let size = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        if size < self.threshold {
            return;
        }
        // PASSIVE: frames an open reader still needs stay, and the next check tries again.
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::debug!(error = %e, "writer checkpoint skipped");
        }
    }
}

fn closed() -> StoreError {
    StoreError::Internal("store is closed".into())
}

fn run_batch(conn: &Connection, batch: Vec<Job>, clock: &EtagClock) {
    // 1. Extent bytes first: the metadata we are about to commit must never point at bytes a
    //    power loss could take away. One fsync per extent for the whole batch.
    let mut ends: HashMap<i64, (Arc<Extent>, u64)> = HashMap::new();
    for job in &batch {
        for (ext, end) in &job.sync {
            let slot = ends.entry(ext.id).or_insert_with(|| (ext.clone(), 0));
            slot.1 = slot.1.max(*end);
        }
    }
    let mut failed: HashMap<i64, StoreError> = HashMap::new();
    for (id, (ext, end)) in ends {
        if let Err(e) = ext.sync_to(end) {
            failed.insert(id, io_error(e));
        }
    }

    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let e = normalize(e.into());
        for job in batch {
            job.work.finish(Some(batch_error(&e)));
        }
        return;
    }

    // 2. Each job in its own savepoint.
    let mut done: Vec<(Box<dyn JobFn>, Option<StoreError>)> = Vec::with_capacity(batch.len());
    // The jobs' extent pins stay held until every caller is answered: GC must not see an extent
    // unpinned before the metadata referencing it is committed.
    let mut pins: Vec<Vec<(Arc<Extent>, u64)>> = Vec::with_capacity(batch.len());
    for Job { sync, mut work } in batch {
        let failure = sync
            .iter()
            .find_map(|(ext, _)| failed.get(&ext.id))
            .map(batch_error);
        pins.push(sync);
        if let Some(e) = failure {
            done.push((work, Some(e)));
            continue;
        }
        if let Err(e) = run_cached(conn, "SAVEPOINT job") {
            done.push((work, Some(normalize(e.into()))));
            continue;
        }
        let ok = work.run(conn);
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (disk full, I/O error): everything
            // before this job is lost too. Fail them and start a new transaction.
            let e = StoreError::Internal("transaction rolled back by SQLite".into());
            for (_, failure) in done.iter_mut() {
                failure.get_or_insert_with(|| batch_error(&e));
            }
            done.push((work, Some(batch_error(&e))));
            if conn.execute_batch("BEGIN IMMEDIATE").is_err() {
                finish_all(done, Some(StoreError::StorageFull));
                return;
            }
            continue;
        }
        let end = if ok {
            run_cached(conn, "RELEASE job")
        } else {
            run_cached(conn, "ROLLBACK TO job").and_then(|_| run_cached(conn, "RELEASE job"))
        };
        match end {
            Ok(()) => done.push((work, None)),
            Err(e) => done.push((work, Some(normalize(e.into())))),
        }
    }

    // 3. One commit for all, carrying the ETag high-water mark.
    let commit = conn
        .prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'etag_high_water'")
        .and_then(|mut st| st.execute([clock.high_water() as i64]))
        .and_then(|_| conn.execute_batch("COMMIT"));
    match commit {
        Ok(()) => finish_all(done, None),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            finish_all(done, Some(normalize(e.into())));
        }
    }
    drop(pins);
}

/// Runs a parameterless statement through the statement cache: the writer runs SAVEPOINT and
/// RELEASE once per job, and parsing them each time showed in profiles.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn finish_all(done: Vec<(Box<dyn JobFn>, Option<StoreError>)>, failure: Option<StoreError>) {
    for (work, own) in done {
        let failure = own.or_else(|| failure.as_ref().map(batch_error));
        work.finish(failure);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(conn: &Mutex<Connection>, v: i64) -> i64 {
        conn.lock()
            .query_row("SELECT COUNT(*) FROM t WHERE v = ?1", [v], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_failing_job_rolls_back_only_itself() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER); CREATE TABLE t (v INTEGER);",
        )
        .unwrap();
        let conn = Arc::new(Mutex::new(conn));
        let writer =
            Arc::new(Writer::start(conn.clone(), Arc::new(EtagClock::new(0)), u64::MAX).unwrap());
        // Hold the connection so the jobs below queue up and share batches.
        let held = conn.lock();
        let handles: Vec<_> = (0..8i64)
            .map(|v| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    writer.submit(Vec::new(), move |c| {
                        c.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                        if v % 2 == 1 {
                            return Err(StoreError::InvalidBlockList);
                        }
                        Ok(v)
                    })
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(held);
        for (v, h) in handles.into_iter().enumerate() {
            let result = h.join().unwrap();
            if v % 2 == 1 {
                assert!(matches!(result, Err(StoreError::InvalidBlockList)));
                assert_eq!(count(&conn, v as i64), 0);
            } else {
                assert_eq!(result.unwrap(), v as i64);
                assert_eq!(count(&conn, v as i64), 1);
            }
        }
        writer.stop();
        assert!(writer.submit(Vec::new(), |_| Ok(())).is_err());
    }
}
