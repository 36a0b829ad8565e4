//! The extent registry: every live extent as an `Arc<Extent>`, a free list of unsealed extents a
//! writer may check out exclusively, and pinning by reference count (readers, pending
//! `WrittenData` and writers hold `Arc`s; GC deletes only extents nobody else holds).

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};

use crate::extents::{ExtentBackend, ExtentFile};

pub(crate) struct Extent {
    pub(crate) id: i64,
    pub(crate) file: Box<dyn ExtentFile>,
    /// Bytes appended so far; only the writer that has it checked out appends.
    len: AtomicU64,
    /// Length known durable.
    synced: AtomicU64,
    sealed: AtomicBool,
}

impl fmt::Debug for Extent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Extent({}, len {})", self.id, self.len())
    }
}

impl Extent {
    pub(crate) fn len(&self) -> u64 {
        self.len.load(Ordering::SeqCst)
    }

    pub(crate) fn set_len(&self, len: u64) {
        self.len.store(len, Ordering::SeqCst);
    }

    pub(crate) fn is_sealed(&self) -> bool {
        self.sealed.load(Ordering::SeqCst)
    }

    /// fsyncs unless the first `end` bytes are already known durable.
    pub(crate) fn sync_to(&self, end: u64) -> io::Result<()> {
        if self.synced.load(Ordering::SeqCst) >= end {
            return Ok(());
        }
        let len = self.len();
        self.file.sync()?;
        self.synced.fetch_max(len, Ordering::SeqCst);
        Ok(())
    }
}

#[derive(Default)]
pub(crate) struct PoolState {
    pub(crate) all: HashMap<i64, Arc<Extent>>,
    pub(crate) free: Vec<Arc<Extent>>,
}

impl PoolState {
    /// Extents referenced by nothing but the registry (and the free list): safe to delete once
    /// metadata shows no live chunk in them.
    pub(crate) fn unpinned(&self) -> Vec<Arc<Extent>> {
        self.all
            .values()
            .filter(|e| {
                let in_free = self.free.iter().any(|f| f.id == e.id);
                Arc::strong_count(e) == 1 + usize::from(in_free)
            })
            .cloned()
            .collect()
    }

    pub(crate) fn remove(&mut self, id: i64) {
        self.all.remove(&id);
        self.free.retain(|e| e.id != id);
    }
}

pub(crate) struct ExtentPool {
    pub(crate) backend: Box<dyn ExtentBackend>,
    state: Mutex<PoolState>,
    next_id: AtomicI64,
    pub(crate) target_size: u64,
}

impl ExtentPool {
    pub(crate) fn new(
        backend: Box<dyn ExtentBackend>,
        target_size: u64,
        next_id: i64,
    ) -> ExtentPool {
        ExtentPool {
            backend,
            state: Mutex::new(PoolState::default()),
            next_id: AtomicI64::new(next_id),
            target_size,
        }
    }

    /// Registers an extent found at open.
    pub(crate) fn adopt(&self, id: i64, len: u64, file: Box<dyn ExtentFile>) {
        let sealed = len >= self.target_size;
        let ext = Arc::new(Extent {
            id,
            file,
            len: AtomicU64::new(len),
            synced: AtomicU64::new(len),
            sealed: AtomicBool::new(sealed),
        });
        let mut st = self.state.lock();
        if !sealed {
            st.free.push(ext.clone());
        }
        st.all.insert(id, ext);
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock()
    }

    pub(crate) fn get(&self, id: i64) -> Option<Arc<Extent>> {
        self.state.lock().all.get(&id).cloned()
    }

    /// Takes an unsealed extent for exclusive appending, creating one when none is free.
    pub(crate) fn checkout(&self) -> io::Result<Arc<Extent>> {
        if let Some(ext) = self.state.lock().free.pop() {
            return Ok(ext);
        }
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let file = self.backend.create(id)?;
        let ext = Arc::new(Extent {
            id,
            file,
            len: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            sealed: AtomicBool::new(false),
        });
        self.state.lock().all.insert(id, ext.clone());
        Ok(ext)
    }

    /// Returns a checked-out extent; one grown past the target size is sealed instead.
    pub(crate) fn checkin(&self, ext: Arc<Extent>) {
        if ext.len() >= self.target_size {
            ext.sealed.store(true, Ordering::SeqCst);
            return;
        }
        let mut st = self.state.lock();
        // GC may have dropped it from the registry only if it was unpinned, which a checked-out
        // extent never is; still, never resurrect an unregistered extent.
        if st.all.contains_key(&ext.id) {
            st.free.push(ext);
        }
    }

    pub(crate) fn totals(&self) -> (u64, u64) {
        let st = self.state.lock();
        (st.all.len() as u64, st.all.values().map(|e| e.len()).sum())
    }
}
