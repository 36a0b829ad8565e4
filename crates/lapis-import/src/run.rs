//! Carrying out a plan through the engine's public API: service properties, containers, blobs
//! (bytes copied from Azurite's extent files into Lapis's), tables and entities, queues and
//! messages. Each object is compared with what the Lapis folder already holds first: the same
//! object is left alone, another version of it replaced, so running the import again changes
//! nothing and duplicates nothing.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use lapis_store::{
    Access, BlockListFilter, Conditions, ImportOutcome, ImportedBlob, ImportedBlock,
    ImportedContent, Store, StoreError, WrittenData, INLINE_BLOB_MAX,
};

use crate::model::Persistency;
use crate::plan::{BlobPlan, ContentPlan, Piece, Plan, Skipped};
use crate::progress::{Progress, Unit};
use crate::source::Extents;
use crate::Summary;

/// Entities or messages per engine call (one transaction each).
const BATCH: usize = 1000;
/// Bytes read from an extent file at a time.
const READ_PIECE: usize = 1 << 20;
/// Extent files kept open at once.
const OPEN_FILES: usize = 64;

/// Reads byte ranges of Azurite's extent files (opened read-only).
struct ExtentReader<'a> {
    extents: &'a Extents,
    open: HashMap<PathBuf, File>,
}

impl<'a> ExtentReader<'a> {
    fn new(extents: &'a Extents) -> Self {
        ExtentReader {
            extents,
            open: HashMap::new(),
        }
    }

    fn file(&mut self, id: &str) -> Result<&File, String> {
        let path = self.extents.path(id);
        if !self.open.contains_key(&path) {
            if self.open.len() >= OPEN_FILES {
                self.open.clear();
            }
            let f = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            self.open.insert(path.clone(), f);
        }
        Ok(&self.open[&path])
    }

    /// Calls `each` with the range's bytes, a piece at a time.
    fn read(
        &mut self,
        p: &Persistency,
        each: &mut dyn FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        let file = self.file(&p.id)?;
        let mut buf = vec![0u8; READ_PIECE.min(p.count as usize)];
        let mut done = 0u64;
        while done < p.count {
            let n = ((p.count - done) as usize).min(buf.len());
            file.read_exact_at(&mut buf[..n], p.offset + done)
                .map_err(|e| format!("reading extent {} at {}: {e}", p.id, p.offset + done))?;
            each(&buf[..n])?;
            done += n as u64;
        }
        Ok(())
    }

    fn read_all(&mut self, p: &Persistency) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(p.count as usize);
        self.read(p, &mut |b| {
            out.extend_from_slice(b);
            Ok(())
        })?;
        Ok(out)
    }
}

/// How the import treats a failure while writing.
pub(crate) struct Runner<'a> {
    pub store: &'a Store,
    pub progress: &'a mut Progress,
    pub best_effort: bool,
    pub summary: &'a mut Summary,
}

fn store_err(e: StoreError) -> String {
    e.to_string()
}

impl Runner<'_> {
    /// Records a failed object (best effort) or stops the import.
    fn failed(&mut self, object: String, why: String) -> Result<(), String> {
        if self.best_effort {
            self.progress.say(&format!("not imported: {object}: {why}"));
            self.summary.failed.push(Skipped { object, why });
            Ok(())
        } else {
            Err(format!("{object}: {why}"))
        }
    }

    pub fn run(
        &mut self,
        plan: &Plan,
        blob_extents: &Extents,
        queue_extents: &Extents,
    ) -> Result<(), String> {
        self.services(plan)?;
        self.containers(plan)?;
        self.blobs(plan, blob_extents)?;
        self.tables(plan)?;
        self.queues(plan, queue_extents)?;
        self.progress.finish();
        Ok(())
    }

    fn services(&mut self, plan: &Plan) -> Result<(), String> {
        for s in &plan.services {
            let stored = self
                .store
                .get_service_properties(&s.key)
                .map_err(store_err)?;
            if stored.as_deref() == Some(s.xml.as_str()) {
                self.summary.services.unchanged += 1;
                continue;
            }
            match self.store.set_service_properties(&s.key, &s.xml) {
                Ok(()) if stored.is_some() => self.summary.services.replaced += 1,
                Ok(()) => self.summary.services.created += 1,
                Err(e) => self.failed(format!("service properties of {}", s.key), store_err(e))?,
            }
        }
        Ok(())
    }

    fn containers(&mut self, plan: &Plan) -> Result<(), String> {
        self.progress
            .start("containers", plan.containers.len() as u64, Unit::Items);
        for c in &plan.containers {
            let label = format!("container {}/{}", c.account, c.props.name);
            match self.store.get_container_acl(&c.account, &c.props.name) {
                Ok((props, acl)) if props == c.props && acl == c.acl => {
                    self.summary.containers.unchanged += 1;
                }
                Ok(_) | Err(StoreError::ContainerNotFound) => {
                    match self.store.import_container(&c.account, &c.props, &c.acl) {
                        Ok(outcome) => self.summary.containers.count(outcome),
                        Err(e) => self.failed(label, store_err(e))?,
                    }
                }
                Err(e) => self.failed(label, store_err(e))?,
            }
            self.progress.advance(1);
        }
        Ok(())
    }

    fn blobs(&mut self, plan: &Plan, extents: &Extents) -> Result<(), String> {
        let total: u64 = plan.blobs.iter().map(BlobPlan::bytes).sum();
        self.progress.start("blobs", total, Unit::Bytes);
        // Ranges several blobs read (a snapshot and its base, mostly) are copied once and
        // shared, as Lapis's own snapshots share their bytes.
        let mut uses: HashMap<Persistency, usize> = HashMap::new();
        for b in &plan.blobs {
            for p in b.pieces() {
                *uses.entry(p.clone()).or_default() += 1;
            }
        }
        let mut copier = Copier {
            store: self.store,
            reader: ExtentReader::new(extents),
            uses,
            shared: HashMap::new(),
        };
        for b in &plan.blobs {
            self.progress.note(&b.props.name);
            let label = format!("blob {}", b.label());
            match self.blob(b, &mut copier) {
                Ok(Some(outcome)) => {
                    let tally = match b.props.snapshot {
                        Some(_) => &mut self.summary.snapshots,
                        None => &mut self.summary.blobs,
                    };
                    tally.count(outcome);
                    tally.bytes += b.props.size;
                }
                Ok(None) => {
                    let tally = match b.props.snapshot {
                        Some(_) => &mut self.summary.snapshots,
                        None => &mut self.summary.blobs,
                    };
                    tally.unchanged += 1;
                    tally.bytes += b.props.size;
                    self.progress.advance(b.bytes());
                }
                Err(e) => {
                    self.progress.advance(b.bytes());
                    self.failed(label, e)?
                }
            }
        }
        Ok(())
    }

    /// Imports one blob or snapshot; `None` when Lapis already holds it as it is.
    fn blob(&mut self, b: &BlobPlan, copier: &mut Copier) -> Result<Option<ImportOutcome>, String> {
        let snapshot = b.props.snapshot.as_deref();
        let (account, container, name) = (&b.account, &b.container, &b.props.name);
        let existing = match self.store.get_blob_properties_at(
            account,
            container,
            name,
            snapshot,
            &Conditions::default(),
            Access::Read,
            None,
        ) {
            Ok(p) => Some(p),
            Err(StoreError::BlobNotFound) => None,
            Err(e) => return Err(store_err(e)),
        };
        let mut props = b.props.clone();
        let same_version = b.committed
            && existing.as_ref().is_some_and(|e| {
                e.etag == props.etag
                    && e.size == props.size
                    && e.blob_type == props.blob_type
                    && e.last_modified == props.last_modified
                    && e.committed_block_count == props.committed_block_count
            });
        if let (true, Some(e)) = (same_version, &existing) {
            // Lapis's own checksum of the content it already has.
            props.content_crc64 = e.content_crc64;
        }
        let uncommitted_same = match &b.uncommitted {
            None => true,
            Some(list) => {
                let stored = match self.store.get_block_list_at(
                    account,
                    container,
                    name,
                    None,
                    BlockListFilter::Uncommitted,
                ) {
                    Ok(l) => l.uncommitted,
                    Err(StoreError::BlobNotFound | StoreError::Refused(_)) => Vec::new(),
                    Err(e) => return Err(store_err(e)),
                };
                stored.len() == list.len()
                    && stored
                        .iter()
                        .zip(list)
                        .all(|(s, p)| s.id == p.id && s.size == p.at.count)
            }
        };
        let placeholder_same = !b.committed && existing.is_none();
        if (same_version || placeholder_same) && uncommitted_same {
            let e = existing.as_ref();
            let mut tags = b.tags.clone();
            tags.sort();
            let tags_same = match e {
                None => tags.is_empty(),
                Some(e) if e.tag_count as usize != tags.len() => false,
                Some(_) if tags.is_empty() => true,
                Some(_) => {
                    self.store
                        .get_blob_tags(account, container, name, snapshot, &Conditions::default())
                        .map_err(store_err)?
                        == tags
                }
            };
            if tags_same && e.is_none_or(|e| *e == props) {
                return Ok(None);
            }
        }
        let content = if same_version {
            ImportedContent::Keep
        } else {
            copier.content(b, &mut *self.progress)?
        };
        if let (ImportedContent::Runs(runs), BlobPlanKind::Whole) = (&content, BlobPlanKind::of(b))
        {
            props.content_crc64 = runs.first().map(|(_, d)| d.crc64);
        }
        if let ImportedContent::Inline(bytes) = &content {
            props.content_crc64 = Some(lapis_store::BodyDigest::of(bytes).crc64);
        }
        let uncommitted = match (&b.uncommitted, uncommitted_same && same_version) {
            (Some(list), false) => Some(copier.blocks(list, &mut *self.progress)?),
            _ => None,
        };
        if same_version {
            // The kept content counts as done; copied blocks counted themselves.
            let copied: u64 = uncommitted.iter().flatten().map(|b| b.data.len).sum();
            self.progress.advance(b.bytes() - copied);
        }
        self.store
            .import_blob(
                account,
                container,
                ImportedBlob {
                    props,
                    committed: b.committed,
                    tags: b.tags.clone(),
                    content,
                    uncommitted,
                },
            )
            .map(Some)
            .map_err(store_err)
    }

    fn tables(&mut self, plan: &Plan) -> Result<(), String> {
        let total: u64 = plan.tables.iter().map(|t| t.entities.len() as u64).sum();
        self.progress.start("entities", total, Unit::Items);
        for t in &plan.tables {
            let label = format!("table {}/{}", t.account, t.name);
            self.progress.note(&t.name);
            let created = match self.store.create_table(&t.account, &t.name) {
                Ok(_) => true,
                Err(StoreError::TableAlreadyExists) => false,
                Err(e) => {
                    self.progress.advance(t.entities.len() as u64);
                    self.failed(label, store_err(e))?;
                    continue;
                }
            };
            let acl = self
                .store
                .get_table_acl(&t.account, &t.name)
                .map_err(store_err)?;
            let acl_same = acl == t.acl;
            if !acl_same {
                self.store
                    .set_table_acl(&t.account, &t.name, &t.acl)
                    .map_err(store_err)?;
            }
            match (created, acl_same) {
                (true, _) => self.summary.tables.created += 1,
                (false, true) => self.summary.tables.unchanged += 1,
                (false, false) => self.summary.tables.replaced += 1,
            }
            for batch in t.entities.chunks(BATCH) {
                match self
                    .store
                    .import_entities(&t.account, &t.name, batch.to_vec())
                {
                    Ok(changed) => {
                        self.summary.entities.created += changed;
                        self.summary.entities.unchanged += batch.len() as u64 - changed;
                    }
                    Err(e) => {
                        self.failed(format!("{} entities of {label}", batch.len()), store_err(e))?
                    }
                }
                self.progress.advance(batch.len() as u64);
            }
            if t.widened > 0 {
                self.summary.notes.push(format!(
                    "table {}/{}: {} entities have an integer property without a type past Int32's range; Lapis keeps it as Edm.Int64 (same value)",
                    t.account, t.name, t.widened
                ));
            }
        }
        Ok(())
    }

    fn queues(&mut self, plan: &Plan, extents: &Extents) -> Result<(), String> {
        let total: u64 = plan.queues.iter().map(|q| q.messages.len() as u64).sum();
        self.progress.start("messages", total, Unit::Items);
        let mut reader = ExtentReader::new(extents);
        for q in &plan.queues {
            let label = format!("queue {}/{}", q.account, q.name);
            self.progress.note(&q.name);
            let outcome = match self.store.get_queue(&q.account, &q.name) {
                Err(StoreError::QueueNotFound) => self
                    .store
                    .create_queue(&q.account, &q.name, &q.metadata)
                    .map(|_| Some(ImportOutcome::Created)),
                Ok(stored) if stored.metadata == q.metadata => Ok(None),
                Ok(_) => self
                    .store
                    .set_queue_metadata(&q.account, &q.name, &q.metadata)
                    .map(|_| Some(ImportOutcome::Replaced)),
                Err(e) => Err(e),
            };
            let mut outcome = match outcome {
                Ok(o) => o,
                Err(e) => {
                    self.progress.advance(q.messages.len() as u64);
                    self.failed(label, store_err(e))?;
                    continue;
                }
            };
            let acl = self
                .store
                .get_queue_acl(&q.account, &q.name)
                .map_err(store_err)?;
            if acl != q.acl {
                self.store
                    .set_queue_acl(&q.account, &q.name, &q.acl)
                    .map_err(store_err)?;
                outcome = outcome.or(Some(ImportOutcome::Replaced));
            }
            match outcome {
                Some(o) => self.summary.queues.count(o),
                None => self.summary.queues.unchanged += 1,
            }
            for batch in q.messages.chunks(BATCH) {
                let mut messages = Vec::with_capacity(batch.len());
                for (m, at) in batch {
                    let text = reader.read_all(at).and_then(|b| {
                        String::from_utf8(b).map_err(|_| "its text is not UTF-8".to_string())
                    });
                    match text {
                        Ok(text) => messages.push(lapis_store::QueueMessage { text, ..m.clone() }),
                        Err(e) => self.failed(format!("message {} of {label}", m.id), e)?,
                    }
                }
                let n = messages.len() as u64;
                match self.store.import_messages(&q.account, &q.name, messages) {
                    Ok(changed) => {
                        self.summary.messages.created += changed;
                        self.summary.messages.unchanged += n - changed;
                    }
                    Err(e) => self.failed(format!("{n} messages of {label}"), store_err(e))?,
                }
                self.progress.advance(batch.len() as u64);
            }
        }
        Ok(())
    }
}

/// Whether a plan's content came from one Put Blob (Lapis records its CRC64).
#[derive(PartialEq)]
enum BlobPlanKind {
    Whole,
    Other,
}

impl BlobPlanKind {
    fn of(b: &BlobPlan) -> BlobPlanKind {
        match b.content {
            ContentPlan::Whole(_) => BlobPlanKind::Whole,
            _ => BlobPlanKind::Other,
        }
    }
}

/// Copies byte ranges into Lapis's extents, sharing the copies of ranges read more than once.
struct Copier<'a> {
    store: &'a Store,
    reader: ExtentReader<'a>,
    /// How many blobs still read each range.
    uses: HashMap<Persistency, usize>,
    /// Copies kept for the blobs that read them again.
    shared: HashMap<Persistency, WrittenData>,
}

impl Copier<'_> {
    fn copy(&mut self, p: &Persistency, progress: &mut Progress) -> Result<WrittenData, String> {
        let left = self.uses.get_mut(p).map(|n| {
            *n = n.saturating_sub(1);
            *n
        });
        if let Some(data) = self.shared.get(p) {
            let data = data.clone();
            if left == Some(0) {
                self.shared.remove(p);
            }
            progress.advance(p.count);
            return Ok(data);
        }
        let mut writer = self.store.blob_writer().map_err(store_err)?.without_md5();
        self.reader.read(p, &mut |bytes| {
            writer.write(bytes).map_err(store_err)?;
            progress.advance(bytes.len() as u64);
            Ok(())
        })?;
        let data = writer.finish().map_err(store_err)?;
        if left.is_some_and(|n| n > 0) {
            self.shared.insert(p.clone(), data.clone());
        }
        Ok(data)
    }

    fn blocks(
        &mut self,
        list: &[Piece],
        progress: &mut Progress,
    ) -> Result<Vec<ImportedBlock>, String> {
        list.iter()
            .map(|b| {
                Ok(ImportedBlock {
                    id: b.id.clone(),
                    data: self.copy(&b.at, progress)?,
                    created: b.created,
                })
            })
            .collect()
    }

    /// The blob's content in Lapis's extents (or inline, for a small blob put whole).
    fn content(
        &mut self,
        b: &BlobPlan,
        progress: &mut Progress,
    ) -> Result<ImportedContent, String> {
        Ok(match &b.content {
            ContentPlan::Empty
                if b.committed && b.props.blob_type == lapis_store::BlobType::BlockBlob =>
            {
                ImportedContent::Inline(Vec::new())
            }
            ContentPlan::Empty => ImportedContent::Runs(Vec::new()),
            ContentPlan::Whole(p) if p.count as usize <= INLINE_BLOB_MAX => {
                let bytes = self.reader.read_all(p)?;
                if let Some(n) = self.uses.get_mut(p) {
                    *n = n.saturating_sub(1);
                }
                progress.advance(p.count);
                ImportedContent::Inline(bytes)
            }
            ContentPlan::Whole(p) => ImportedContent::Runs(vec![(0, self.copy(p, progress)?)]),
            ContentPlan::Runs(runs) => ImportedContent::Runs(
                runs.iter()
                    .map(|(at, p)| Ok((*at, self.copy(p, progress)?)))
                    .collect::<Result<_, String>>()?,
            ),
            ContentPlan::Blocks(blocks) => ImportedContent::Blocks(self.blocks(blocks, progress)?),
        })
    }
}
