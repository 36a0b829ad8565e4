//! Disk space held back so that deletes can still commit on a full disk.
//!
//! SQLite needs room in its WAL even to delete rows. Without a reserve, a user whose disk filled
//! up could not free space through the API at all. The engine keeps a small file of zeros in the
//! data folder; when a delete fails for lack of space, the file is removed and the delete tried
//! once more. The garbage collector puts the reserve back when space allows.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

/// Enough for the WAL frames of a large delete.
const RESERVE_BYTES: u64 = 8 * 1024 * 1024;

pub(crate) struct Reserve {
    path: Option<PathBuf>,
}

impl Reserve {
    /// No reserve: the memory backend has no disk to run out of.
    pub(crate) fn none() -> Reserve {
        Reserve { path: None }
    }

    /// The reserve of a data folder. Not written here: the garbage collector's thread writes it
    /// as it starts (8 MiB written before the listeners bound was an eighth of a cold start).
    pub(crate) fn in_dir(dir: &std::path::Path) -> Reserve {
        Reserve {
            path: Some(dir.join("reserve.space")),
        }
    }

    /// Makes sure the reserve exists at full size; gives up quietly when the disk has no room.
    pub(crate) fn replenish(&self) {
        let Some(path) = &self.path else { return };
        if fs::metadata(path).is_ok_and(|m| m.len() >= RESERVE_BYTES) {
            return;
        }
        let written = (|| -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .open(path)?;
            let zeros = vec![0u8; 1024 * 1024];
            for _ in 0..RESERVE_BYTES / zeros.len() as u64 {
                f.write_all(&zeros)?;
            }
            // No fsync: the filesystem counts the space as taken once `write` returns (delayed
            // allocation reserves it), and a reserve lost in a crash is rewritten at the next
            // start. Flushing 8 MiB was most of a cold start on a busy disk (30-50 ms).
            Ok(())
        })();
        if written.is_err() {
            let _ = fs::remove_file(path);
        }
    }

    /// Frees the reserve; true when there was one to free.
    pub(crate) fn release(&self) -> bool {
        match &self.path {
            Some(path) => fs::remove_file(path).is_ok(),
            None => false,
        }
    }
}
