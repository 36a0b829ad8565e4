//! Extent backends: append-only byte containers addressed by integer id. One trait, two
//! implementations (files under `dir/extents/`, or byte vectors in memory), so the engine logic
//! above them exists once.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

/// One extent's bytes. Offsets are absolute; the engine tracks the logical length itself.
pub(crate) trait ExtentFile: Send + Sync {
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()>;
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    fn sync(&self) -> io::Result<()>;
    /// Cuts the extent back to `len` bytes (drops an unreferenced tail).
    fn truncate(&self, len: u64) -> io::Result<()>;
}

/// An extent found in a backend: id, current length, handle.
pub(crate) type FoundExtent = (i64, u64, Box<dyn ExtentFile>);

/// Where extents live.
pub(crate) trait ExtentBackend: Send + Sync {
    fn create(&self, id: i64) -> io::Result<Box<dyn ExtentFile>>;
    /// Every extent present, with its current length.
    fn open_all(&self) -> io::Result<Vec<FoundExtent>>;
    fn remove(&self, id: i64) -> io::Result<()>;
}

pub(crate) fn is_storage_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

// ---------------------------------------------------------------------------------------------
// Files

pub(crate) struct FileBackend {
    dir: PathBuf,
}

impl FileBackend {
    pub(crate) fn new(dir: PathBuf) -> io::Result<FileBackend> {
        std::fs::create_dir_all(&dir)?;
        Ok(FileBackend { dir })
    }

    fn path(&self, id: i64) -> PathBuf {
        self.dir.join(format!("{id:016}.ext"))
    }

    /// Makes a created or removed directory entry durable.
    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }
}

struct FileExtent {
    file: File,
}

impl ExtentFile for FileExtent {
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, offset)
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }
    fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
    fn truncate(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }
}

impl ExtentBackend for FileBackend {
    fn create(&self, id: i64) -> io::Result<Box<dyn ExtentFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(self.path(id))?;
        self.sync_dir()?;
        Ok(Box::new(FileExtent { file }))
    }

    fn open_all(&self) -> io::Result<Vec<FoundExtent>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".ext"))
                .and_then(|n| n.parse::<i64>().ok())
            else {
                continue; // not ours
            };
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(entry.path())?;
            let len = file.metadata()?.len();
            out.push((
                id,
                len,
                Box::new(FileExtent { file }) as Box<dyn ExtentFile>,
            ));
        }
        Ok(out)
    }

    fn remove(&self, id: i64) -> io::Result<()> {
        match std::fs::remove_file(self.path(id)) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Memory

/// Extents as byte vectors, with an optional capacity so an in-memory emulator has bounded RAM
/// (and so disk-full handling can be exercised).
pub(crate) struct MemoryBackend {
    extents: Mutex<HashMap<i64, Arc<MemExtent>>>,
    usage: Arc<MemUsage>,
}

struct MemUsage {
    capacity: Option<u64>,
    used: Mutex<u64>,
}

struct MemExtent {
    bytes: RwLock<Vec<u8>>,
    usage: Arc<MemUsage>,
}

impl MemoryBackend {
    pub(crate) fn new(capacity: Option<u64>) -> MemoryBackend {
        MemoryBackend {
            extents: Mutex::new(HashMap::new()),
            usage: Arc::new(MemUsage {
                capacity,
                used: Mutex::new(0),
            }),
        }
    }
}

impl MemUsage {
    fn resize(&self, old: u64, new: u64) -> io::Result<()> {
        let mut used = self.used.lock();
        let next = used.saturating_sub(old) + new;
        if new > old && self.capacity.is_some_and(|cap| next > cap) {
            return Err(io::Error::from(io::ErrorKind::StorageFull));
        }
        *used = next;
        Ok(())
    }
}

impl Drop for MemExtent {
    fn drop(&mut self) {
        let len = self.bytes.get_mut().len() as u64;
        let _ = self.usage.resize(len, 0);
    }
}

/// Memory handles share the vector with the backend's map, so removing an extent from the map
/// leaves readers that still hold it untouched.
struct MemHandle(Arc<MemExtent>);

impl ExtentFile for MemHandle {
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut bytes = self.0.bytes.write();
        let start =
            usize::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let end = start + data.len();
        if end > bytes.len() {
            self.0.usage.resize(bytes.len() as u64, end as u64)?;
            bytes.resize(end, 0);
        }
        bytes[start..end].copy_from_slice(data);
        Ok(())
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let bytes = self.0.bytes.read();
        let start =
            usize::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let src = bytes
            .get(start..start + buf.len())
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn sync(&self) -> io::Result<()> {
        Ok(())
    }
    fn truncate(&self, len: u64) -> io::Result<()> {
        let mut bytes = self.0.bytes.write();
        let len = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        if len < bytes.len() {
            self.0.usage.resize(bytes.len() as u64, len as u64)?;
            bytes.truncate(len);
        }
        Ok(())
    }
}

impl ExtentBackend for MemoryBackend {
    fn create(&self, id: i64) -> io::Result<Box<dyn ExtentFile>> {
        let ext = Arc::new(MemExtent {
            bytes: RwLock::new(Vec::new()),
            usage: self.usage.clone(),
        });
        let mut map = self.extents.lock();
        if map.contains_key(&id) {
            return Err(io::Error::from(io::ErrorKind::AlreadyExists));
        }
        map.insert(id, ext.clone());
        Ok(Box::new(MemHandle(ext)))
    }

    fn open_all(&self) -> io::Result<Vec<FoundExtent>> {
        let map = self.extents.lock();
        Ok(map
            .iter()
            .map(|(id, ext)| {
                (
                    *id,
                    ext.bytes.read().len() as u64,
                    Box::new(MemHandle(ext.clone())) as Box<dyn ExtentFile>,
                )
            })
            .collect())
    }

    fn remove(&self, id: i64) -> io::Result<()> {
        self.extents.lock().remove(&id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(backend: &dyn ExtentBackend) {
        let ext = backend.create(7).unwrap();
        ext.write_at(0, b"hello").unwrap();
        ext.write_at(5, b" world").unwrap();
        ext.sync().unwrap();
        let mut buf = [0u8; 5];
        ext.read_at(6, &mut buf).unwrap();
        assert_eq!(&buf, b"world");
        let all = backend.open_all().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].0, all[0].1), (7, 11));
        backend.remove(7).unwrap();
        assert!(backend.open_all().unwrap().is_empty());
        // A handle opened before removal still reads.
        ext.read_at(0, &mut buf).unwrap();
        assert_eq!(&buf, b"hello");
    }

    #[test]
    fn file_backend_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        round_trip(&FileBackend::new(dir.path().join("extents")).unwrap());
    }

    #[test]
    fn memory_backend_round_trip() {
        round_trip(&MemoryBackend::new(None));
    }

    #[test]
    fn memory_capacity_is_enforced_and_freed() {
        let backend = MemoryBackend::new(Some(10));
        let ext = backend.create(1).unwrap();
        ext.write_at(0, &[1; 8]).unwrap();
        let err = ext.write_at(8, &[1; 8]).unwrap_err();
        assert!(is_storage_full(&err));
        ext.truncate(2).unwrap();
        ext.write_at(2, &[1; 8]).unwrap();
        drop(ext);
        backend.remove(1).unwrap();
        let ext2 = backend.create(2).unwrap();
        ext2.write_at(0, &[1; 10]).unwrap();
    }
}
