//! Streaming bytes in (`BlobWriter`) and out (`BlobReader`) of the extent store (or, for inline
//! blobs, out of memory).

use std::collections::VecDeque;
use std::sync::Arc;

use md5::{Digest, Md5};

use crate::cpk::new_iv;
use crate::engine::io_error;
use crate::pool::{Extent, ExtentPool};
use crate::{Chunk, ChunkCipher, CustomerKey, Result, StoreError, WrittenData};

/// Bytes gathered before one positional write to the extent.
const WRITE_BUFFER: usize = 256 * 1024;
/// Uploads at least this large fsync in the uploading thread (in parallel with other uploads)
/// instead of in the group-commit batch.
const SYNC_IN_CALLER: u64 = 1024 * 1024;

/// Streams a blob's bytes into an extent checked out for this writer alone.
pub struct BlobWriter {
    pool: Arc<ExtentPool>,
    current: Option<Arc<Extent>>,
    buf: Vec<u8>,
    chunks: Vec<Chunk>,
    pins: Vec<Arc<Extent>>,
    /// `None` when the caller has no use for the MD5 (see `without_md5`).
    md5: Option<Md5>,
    crc: crc64fast_nvme::Digest,
    len: u64,
    /// The customer-provided key and this upload's IV, when the bytes are kept encrypted.
    cipher: Option<(CustomerKey, [u8; 16])>,
}

impl BlobWriter {
    pub(crate) fn new(pool: Arc<ExtentPool>) -> BlobWriter {
        BlobWriter {
            pool,
            current: None,
            buf: Vec::new(),
            chunks: Vec::new(),
            pins: Vec::new(),
            md5: Some(Md5::new()),
            crc: crc64fast_nvme::Digest::new(),
            len: 0,
            cipher: None,
        }
    }

    /// Keeps the bytes encrypted under a customer-provided key (checksums stay those of the
    /// bytes as sent). Call it before the first write.
    pub fn encrypt_with(mut self, key: &CustomerKey) -> Result<BlobWriter> {
        self.cipher = Some((key.clone(), new_iv()?));
        Ok(self)
    }

    /// No MD5 for these bytes (`WrittenData::md5` is `None`): only CRC64. MD5 cannot go faster
    /// than about 600 MB/s per core and was 40 % of a large upload's CPU, while Put Block needs
    /// it only to check a `Content-MD5` the client sent. Call it before the first write.
    pub fn without_md5(mut self) -> BlobWriter {
        self.md5 = None;
        self
    }

    /// Appends `data`; hashes MD5 and CRC64 as it goes. Cheap for small slices (buffered).
    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        if let Some(md5) = &mut self.md5 {
            md5.update(data);
        }
        self.crc.write(data);
        let from = self.buf.len();
        self.buf.extend_from_slice(data);
        if let Some((key, iv)) = &self.cipher {
            key.apply(iv, self.len, &mut self.buf[from..]);
        }
        self.len += data.len() as u64;
        if self.buf.len() >= WRITE_BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let ext = match self.current.take() {
            Some(ext) if ext.len() < self.pool.target_size => ext,
            full => {
                if let Some(full) = full {
                    self.pool.checkin(full); // seals it
                }
                self.pool.checkout().map_err(io_error)?
            }
        };
        let offset = ext.len();
        let written = ext.file.write_at(offset, &self.buf);
        self.current = Some(ext.clone());
        if let Err(e) = written {
            // The logical length stays put, so the next append overwrites the partial tail;
            // cutting it now gives the space back at once (disk full).
            let _ = ext.file.truncate(offset);
            return Err(io_error(e));
        }
        ext.set_len(offset + self.buf.len() as u64);
        let len = self.buf.len() as u64;
        let chunk = Chunk {
            extent: ext.id,
            offset,
            len,
            // The buffer holds the upload's last `len` bytes so far.
            cipher: self.cipher.as_ref().map(|(_, iv)| ChunkCipher {
                iv: *iv,
                position: self.len - len,
            }),
        };
        match self.chunks.last_mut() {
            Some(last) if last.continued_by(&chunk) => last.len += len,
            _ => self.chunks.push(chunk),
        }
        if !self.pins.iter().any(|p| p.id == ext.id) {
            self.pins.push(ext);
        }
        self.buf.clear();
        Ok(())
    }

    /// Writes out what is buffered and returns the data's description. Large uploads are made
    /// durable here; small ones in the commit that references them (shared fsyncs).
    pub fn finish(mut self) -> Result<WrittenData> {
        self.flush()?;
        if self.len >= SYNC_IN_CALLER {
            for chunk in &self.chunks {
                if let Some(ext) = self.pins.iter().find(|p| p.id == chunk.extent) {
                    ext.sync_to(chunk.offset + chunk.len).map_err(io_error)?;
                }
            }
        }
        if let Some(ext) = self.current.take() {
            self.pool.checkin(ext);
        }
        Ok(WrittenData {
            len: self.len,
            md5: self.md5.take().map(|md5| md5.finalize().into()),
            crc64: self.crc.sum64(),
            key_sha256: self.cipher.as_ref().map(|(key, _)| key.sha256()),
            chunks: std::mem::take(&mut self.chunks),
            pins: std::mem::take(&mut self.pins),
        })
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if let Some(ext) = self.current.take() {
            self.pool.checkin(ext);
        }
    }
}

impl WrittenData {
    /// The extents to make durable before committing metadata that references this data.
    pub(crate) fn sync_list(&self) -> Vec<(Arc<Extent>, u64)> {
        self.pins
            .iter()
            .map(|p| {
                let end = self
                    .chunks
                    .iter()
                    .filter(|c| c.extent == p.id)
                    .map(|c| c.offset + c.len)
                    .max()
                    .unwrap_or(0);
                (p.clone(), end)
            })
            .collect()
    }
}

/// Where a reader's bytes come from.
enum Part {
    /// Bytes still to read from an extent: the chunk's remainder.
    Extent(Arc<Extent>, Chunk),
    /// Bytes of a small blob stored inline in the metadata database, already in memory (and
    /// already decrypted).
    Memory(bytes::Bytes),
    /// A hole in a sparse (page) blob: this many zero bytes, never stored.
    Zeros(u64),
}

/// What holes are read from: shared, so a hole costs no allocation.
static ZEROS: [u8; 1024 * 1024] = [0; 1024 * 1024];

/// A resolved byte range: the extents are pinned (or the bytes held), so overwrites, deletes and
/// GC cannot change or remove the bytes this reader returns.
pub struct BlobReader {
    parts: VecDeque<Part>,
    remaining: u64,
    /// Decrypts the chunks stored under a customer-provided key.
    key: Option<CustomerKey>,
}

impl BlobReader {
    pub(crate) fn new(parts: Vec<(Arc<Extent>, Chunk)>, key: Option<CustomerKey>) -> BlobReader {
        let remaining = parts.iter().map(|(_, ch)| ch.len).sum();
        BlobReader {
            parts: parts
                .into_iter()
                .map(|(ext, ch)| Part::Extent(ext, ch))
                .collect(),
            remaining,
            key,
        }
    }

    /// A reader over `[from, to)` of a sparse blob: `runs` are its stored runs in that range, in
    /// order, each with the blob offset it starts at; what they leave uncovered reads as zeros.
    pub(crate) fn sparse(
        runs: Vec<(u64, Arc<Extent>, Chunk)>,
        from: u64,
        to: u64,
        key: Option<CustomerKey>,
    ) -> BlobReader {
        let mut parts = VecDeque::with_capacity(runs.len() * 2 + 1);
        let mut at = from;
        for (start, ext, ch) in runs {
            if start > at {
                parts.push_back(Part::Zeros(start - at));
            }
            at = start + ch.len;
            parts.push_back(Part::Extent(ext, ch));
        }
        if to > at {
            parts.push_back(Part::Zeros(to - at));
        }
        BlobReader {
            parts,
            remaining: to.saturating_sub(from),
            key,
        }
    }

    /// A reader over bytes already in memory (an inline blob's range).
    pub(crate) fn from_bytes(data: bytes::Bytes) -> BlobReader {
        BlobReader {
            remaining: data.len() as u64,
            parts: VecDeque::from([Part::Memory(data)]),
            key: None,
        }
    }

    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Reads up to `max` bytes; `None` at the end.
    // The buffer is filled rather than calloc'd on purpose (see below).
    #[allow(clippy::slow_vector_initialization)]
    pub fn read_chunk(&mut self, max: usize) -> Result<Option<bytes::Bytes>> {
        let max = max.max(1);
        while let Some(part) = self.parts.front_mut() {
            match part {
                Part::Extent(_, ch) if ch.len == 0 => {
                    self.parts.pop_front();
                }
                Part::Memory(data) if data.is_empty() => {
                    self.parts.pop_front();
                }
                Part::Zeros(0) => {
                    self.parts.pop_front();
                }
                Part::Zeros(left) => {
                    let n = (*left).min(max as u64).min(ZEROS.len() as u64);
                    *left -= n;
                    self.remaining -= n;
                    return Ok(Some(bytes::Bytes::from_static(&ZEROS[..n as usize])));
                }
                Part::Extent(ext, ch) => {
                    let n = ch.len.min(max as u64) as usize;
                    // Not `vec![0; n]`: that is calloc, and jemalloc answers a large calloc
                    // with freshly purged pages, so every chunk paid 256 page faults (half of
                    // a download's CPU). Filling reused memory is far cheaper.
                    let mut buf = Vec::with_capacity(n);
                    buf.resize(n, 0u8);
                    ext.file.read_at(ch.offset, &mut buf).map_err(io_error)?;
                    match (&ch.cipher, &self.key) {
                        (None, _) => {}
                        (Some(c), Some(key)) => key.apply(&c.iv, c.position, &mut buf),
                        (Some(_), None) => return Err(StoreError::CustomerKeyRequired),
                    }
                    *ch = ch.part(n as u64, ch.len - n as u64);
                    self.remaining -= n as u64;
                    return Ok(Some(bytes::Bytes::from(buf)));
                }
                Part::Memory(data) => {
                    let out = data.split_to(data.len().min(max));
                    self.remaining -= out.len() as u64;
                    return Ok(Some(out));
                }
            }
        }
        Ok(None)
    }
}
