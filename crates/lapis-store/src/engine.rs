//! The engine: opening and recovery, the read-connection pool, the writer, the extent pool and
//! the background GC thread. Operations live in their own modules as `impl Core` / `impl Store`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use parking_lot::{Mutex, RwLock};

use crate::reserve::Reserve;
use rusqlite::{Connection, OpenFlags};

use crate::codec::EtagClock;
use crate::extents::{is_storage_full, ExtentBackend, FileBackend, MemoryBackend};
use crate::pool::ExtentPool;
use crate::writer::Writer;
use crate::{schema, Result, StoreError, StoreOptions};

/// Idle read connections kept around.
const MAX_IDLE_READERS: usize = 8;

/// Set when a write found the disk full: the collector then runs within a second instead of
/// waiting for its interval, so that space freed by deletes comes back promptly.
static DISK_FULL_SEEN: AtomicBool = AtomicBool::new(false);

/// How soon the collector runs after the disk was found full.
const GC_AFTER_DISK_FULL: std::time::Duration = std::time::Duration::from_secs(1);

pub(crate) fn io_error(e: io::Error) -> StoreError {
    if is_storage_full(&e) {
        DISK_FULL_SEEN.store(true, Ordering::Relaxed);
        StoreError::StorageFull
    } else {
        StoreError::Io(e)
    }
}

/// Folds the many shapes of "disk full" into `StorageFull`.
pub(crate) fn normalize(e: StoreError) -> StoreError {
    match e {
        StoreError::Sqlite(ref s)
            if s.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) =>
        {
            DISK_FULL_SEEN.store(true, Ordering::Relaxed);
            StoreError::StorageFull
        }
        StoreError::Io(io) => io_error(io),
        other => other,
    }
}

/// A copy of a batch-wide failure for each caller in the batch (`StoreError` is not `Clone`).
pub(crate) fn batch_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::StorageFull => StoreError::StorageFull,
        other => StoreError::Internal(other.to_string()),
    }
}

/// SQLite's unix VFS in its exclusive form: the first connection takes a POSIX lock on the
/// whole database for the process, and from then on every connection of this process locks in
/// memory only, with the WAL index in heap memory instead of a `-shm` file. Without it, every
/// read transaction made two `fcntl` calls (lock, unlock) and contended on SQLite's inode mutex:
/// 6 % of a small GET. The price is that no other process can open the database while Lapis
/// runs, which also keeps a second server off the same data folder.
const SQLITE_VFS: &str = "unix-excl";

/// A connection to the database file through [`SQLITE_VFS`].
fn open_file(path: &Path, flags: OpenFlags) -> Result<Connection> {
    Ok(Connection::open_with_flags_and_vfs(
        path, flags, SQLITE_VFS,
    )?)
}

pub(crate) enum Readers {
    /// On disk: WAL lets readers run beside the writer, each on its own connection.
    Pool {
        path: PathBuf,
        idle: Mutex<Vec<Connection>>,
    },
    /// In memory: one database, one connection, shared with the writer thread.
    Shared(Arc<Mutex<Connection>>),
}

impl Readers {
    fn open_reader(path: &Path) -> Result<Connection> {
        let conn = open_file(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch("PRAGMA query_only = ON")?;
        Ok(conn)
    }

    /// Runs `f` in a read transaction: one consistent snapshot for all its statements.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        // BEGIN and ROLLBACK are cached statements: parsing them anew was a tenth of the CPU of
        // a point read. Read-only, so rolling back is how a read ends.
        fn in_tx<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
            conn.prepare_cached("BEGIN")?.execute([])?;
            let out = f(conn);
            conn.prepare_cached("ROLLBACK")?.execute([])?;
            out
        }
        match self {
            Readers::Shared(conn) => {
                let conn = conn.lock();
                let out = in_tx(&conn, f);
                if !conn.is_autocommit() {
                    // Never hand the writer a connection still inside a read transaction.
                    let _ = conn.execute_batch("ROLLBACK");
                }
                out.map_err(normalize)
            }
            Readers::Pool { path, idle } => {
                let conn = match idle.lock().pop() {
                    Some(c) => c,
                    None => Self::open_reader(path)?,
                };
                let out = in_tx(&conn, f);
                // A connection whose transaction could not be ended is not reused.
                if conn.is_autocommit() {
                    let mut idle = idle.lock();
                    if idle.len() < MAX_IDLE_READERS {
                        idle.push(conn);
                    }
                }
                out.map_err(normalize)
            }
        }
    }
}

pub(crate) struct Core {
    pub(crate) opts: StoreOptions,
    pub(crate) writer: Writer,
    pub(crate) readers: Readers,
    pub(crate) pool: Arc<ExtentPool>,
    pub(crate) clock: Arc<EtagClock>,
    /// Readers hold it shared from starting their snapshot until their extents are pinned;
    /// GC holds it exclusively while it decides which extents to delete.
    pub(crate) gc_lock: RwLock<()>,
    /// Serialises GC passes (background thread vs `collect_garbage`).
    pub(crate) gc_pass: Mutex<()>,
    /// Running totals of every GC pass, for metrics.
    pub(crate) gc_totals: Mutex<crate::GcTotals>,
    /// Disk held back for deletes on a full disk.
    pub(crate) reserve: Reserve,
    /// The accounts whose blob writes make versions.
    pub(crate) versioned: crate::versions::VersionedAccounts,
    pub(crate) closed: std::sync::atomic::AtomicBool,
}

pub(crate) struct Engine {
    pub(crate) core: Arc<Core>,
    gc_thread: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
    /// On disk only: moves WAL frames into the database file in the background.
    checkpointer: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
}

impl Engine {
    pub(crate) fn open(dir: &Path) -> Result<Engine> {
        Self::open_with(dir, StoreOptions::default())
    }

    pub(crate) fn in_memory() -> Result<Engine> {
        Self::in_memory_with(StoreOptions::default())
    }

    pub(crate) fn open_with(dir: &Path, opts: StoreOptions) -> Result<Engine> {
        std::fs::create_dir_all(dir).map_err(io_error)?;
        let path = dir.join("lapis.sqlite");
        let mut conn = open_file(&path, OpenFlags::default())?;
        // The first statement takes the process-wide lock of `SQLITE_VFS`; another process
        // holding it is a second server on this folder, to be told at once rather than after a
        // busy wait.
        conn.busy_timeout(std::time::Duration::ZERO)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                    StoreError::Internal(format!(
                        "{} is in use by another process (is another Lapis running on this data folder?)",
                        path.display()
                    ))
                }
                _ => e.into(),
            })?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Internal(format!(
                "could not enable WAL (journal_mode = {mode})"
            )));
        }
        // Checkpoints run on their own thread (see `spawn_checkpointer`), never inside a
        // commit: an automatic checkpoint in the single writer stalls every waiting caller.
        // The writer starts the WAL over once it passes `wal_rewind_bytes` (see
        // `writer::WalRewind`); the file is kept at that size and reused, not cut shorter:
        // growing it again costs a block allocation per commit, which showed as 70 ms p99.
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;",
        )?;
        // PRAGMA takes no bound parameters; the value is our own integer.
        conn.execute_batch(&format!(
            "PRAGMA journal_size_limit = {}",
            opts.wal_rewind_bytes
        ))?;
        schema::migrate(&mut conn)?;
        let backend = FileBackend::new(dir.join("extents")).map_err(io_error)?;
        let conn = Arc::new(Mutex::new(conn));
        let checkpointer = spawn_checkpointer(&path)?;
        let readers = Readers::Pool {
            path,
            idle: Mutex::new(Vec::new()),
        };
        let engine = Self::start(conn, readers, Box::new(backend), opts, Reserve::in_dir(dir))?;
        *engine.checkpointer.lock() = Some(checkpointer);
        Ok(engine)
    }

    pub(crate) fn in_memory_with(opts: StoreOptions) -> Result<Engine> {
        // One private connection per store, shared by the writer thread and readers.
        let mut conn = Connection::open_in_memory()?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        schema::migrate(&mut conn)?;
        let backend = MemoryBackend::new(opts.memory_capacity);
        let conn = Arc::new(Mutex::new(conn));
        let readers = Readers::Shared(conn.clone());
        Self::start(conn, readers, Box::new(backend), opts, Reserve::none())
    }

    fn start(
        conn: Arc<Mutex<Connection>>,
        readers: Readers,
        backend: Box<dyn ExtentBackend>,
        opts: StoreOptions,
        reserve: Reserve,
    ) -> Result<Engine> {
        let (pool, etag_mark) = {
            let conn = conn.lock();
            let pool = recover_extents(&conn, backend, opts.extent_target_size)?;
            let mark: i64 = conn.query_row(
                "SELECT value FROM meta WHERE key = 'etag_high_water'",
                [],
                |r| r.get(0),
            )?;
            (pool, mark as u64)
        };
        let clock = Arc::new(EtagClock::new(etag_mark));
        let writer = Writer::start(conn, clock.clone(), opts.wal_rewind_bytes)?;
        let core = Arc::new(Core {
            opts,
            writer,
            readers,
            pool: Arc::new(pool),
            clock,
            gc_lock: RwLock::new(()),
            gc_pass: Mutex::new(()),
            gc_totals: Mutex::new(crate::GcTotals::default()),
            reserve,
            versioned: Default::default(),
            closed: std::sync::atomic::AtomicBool::new(false),
        });
        let gc_thread = spawn_gc(core.clone())?;
        Ok(Engine {
            core,
            gc_thread: Mutex::new(Some(gc_thread)),
            checkpointer: Mutex::new(None),
        })
    }

    /// Stops GC, drains the writer, checkpoints the WAL. Idempotent.
    pub(crate) fn close(&self) -> Result<()> {
        self.core.closed.store(true, Ordering::SeqCst);
        for slot in [&self.gc_thread, &self.checkpointer] {
            if let Some((stop, thread)) = slot.lock().take() {
                drop(stop);
                let _ = thread.join();
            }
        }
        self.core.writer.stop();
        if let Readers::Pool { idle, .. } = &self.core.readers {
            idle.lock().clear();
        }
        Ok(())
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// How often the background checkpoint runs when the WAL is small.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);
/// Frames copied in one pass (about 4 MiB) that make the next pass start at once: under
/// sustained writes the backlog stays small, and so does the writer's own checkpoint when it
/// starts the WAL over (`writer::WalRewind`), which every commit waits for.
const BUSY_CHECKPOINT_FRAMES: i64 = 1024;

/// A thread with its own connection that checkpoints the WAL (PASSIVE: it never blocks the
/// writer or readers; frames a reader still needs are left for the next pass).
fn spawn_checkpointer(path: &Path) -> Result<(mpsc::Sender<()>, JoinHandle<()>)> {
    let conn = open_file(path, OpenFlags::default())?;
    conn.busy_timeout(std::time::Duration::from_secs(1))?;
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("lapis-store-checkpoint".into())
        .spawn(move || {
            let mut wait = CHECKPOINT_INTERVAL;
            // Frames in the WAL and frames checkpointed, as the last pass left them.
            let mut last = (0i64, 0i64);
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                let pass = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                });
                wait = match pass {
                    Ok((frames, done)) => {
                        // A WAL that shrank was started over: everything checkpointed is new.
                        let copied = if frames >= last.0 {
                            done - last.1
                        } else {
                            done
                        };
                        last = (frames, done);
                        if copied >= BUSY_CHECKPOINT_FRAMES {
                            std::time::Duration::from_millis(1)
                        } else {
                            CHECKPOINT_INTERVAL
                        }
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "background checkpoint skipped");
                        CHECKPOINT_INTERVAL
                    }
                };
            }
        })?;
    Ok((stop, thread))
}

fn spawn_gc(core: Arc<Core>) -> Result<(mpsc::Sender<()>, JoinHandle<()>)> {
    let (stop, stopped) = mpsc::channel::<()>();
    let interval = core.opts.gc_interval;
    let thread = std::thread::Builder::new()
        .name("lapis-store-gc".into())
        .spawn(move || {
            // The disk reserve is written here, off the path to the first request (the thread
            // is joined at close, so it never writes into a folder being removed).
            core.reserve.replenish();
            // Waits in short slices so that a full disk is noticed within a second; any message
            // or a dropped sender ends the loop.
            let mut waited = std::time::Duration::ZERO;
            loop {
                let slice = interval.min(GC_AFTER_DISK_FULL);
                match stopped.recv_timeout(slice) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    _ => break,
                }
                waited += slice;
                if waited < interval && !DISK_FULL_SEEN.swap(false, Ordering::Relaxed) {
                    continue;
                }
                waited = std::time::Duration::ZERO;
                if let Err(e) = core.collect_garbage() {
                    tracing::warn!(error = %e, "garbage collection pass failed");
                }
            }
        })?;
    Ok((stop, thread))
}

/// Registers the extents found at open. Extents no committed metadata references are bytes of
/// writes that never committed (crash, abandoned upload): deleted now. Referenced ones lose only
/// their unreferenced tail and are appended to past it.
fn recover_extents(
    conn: &Connection,
    backend: Box<dyn ExtentBackend>,
    target: u64,
) -> Result<ExtentPool> {
    let mut rows = std::collections::HashMap::new();
    {
        let mut st = conn.prepare(
            "SELECT id, live_bytes > 0
                 OR EXISTS (SELECT 1 FROM blob_chunks WHERE extent = extents.id)
                 OR EXISTS (SELECT 1 FROM block_chunks WHERE extent = extents.id)
             FROM extents",
        )?;
        let mut q = st.query([])?;
        while let Some(r) = q.next()? {
            rows.insert(r.get::<_, i64>(0)?, r.get::<_, bool>(1)?);
        }
    }
    let files = backend.open_all().map_err(io_error)?;
    let mut max_id = rows.keys().copied().max().unwrap_or(0);
    let mut keep = Vec::new();
    for (id, len, file) in files {
        max_id = max_id.max(id);
        match rows.get(&id) {
            Some(true) => keep.push((id, len, file)),
            _ => {
                drop(file);
                backend.remove(id).map_err(io_error)?;
            }
        }
    }
    let mut forget = conn.prepare("DELETE FROM extents WHERE id = ?1")?;
    for (id, referenced) in &rows {
        if *referenced {
            if !keep.iter().any(|k| k.0 == *id) {
                tracing::error!(extent = id, "extent file referenced by metadata is missing");
            }
        } else {
            forget.execute([id])?;
        }
    }
    // Bytes past the last referenced one were written by uploads that never committed.
    let mut end_of = conn.prepare(
        "SELECT COALESCE(MAX(e), 0) FROM (
             SELECT MAX(offset + len) AS e FROM blob_chunks WHERE extent = ?1
             UNION ALL SELECT MAX(offset + len) FROM block_chunks WHERE extent = ?1)",
    )?;
    let pool = ExtentPool::new(backend, target, max_id + 1);
    for (id, len, file) in keep {
        let end = end_of.query_row([id], |r| r.get::<_, i64>(0))? as u64;
        let len = if end < len {
            file.truncate(end).map_err(io_error)?;
            end
        } else {
            len
        };
        pool.adopt(id, len, file);
    }
    Ok(pool)
}
