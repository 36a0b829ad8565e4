//! Put Blob: replacing a blob's whole content in one transaction, shared by the extent path
//! (`put_blob`) and the inline path (`put_blob_inline`).

use std::sync::Arc;

use md5::Digest;
use rusqlite::Connection;
use time::OffsetDateTime;

use crate::blobs::Replacing;
use crate::chunks::insert_blob_chunks;
use crate::pool::Extent;
use crate::{
    AccessTier, BlobHttpProps, BlobProps, BlobTags, BlobType, Conditions, CopyProps, Metadata,
    Pending, Result, Store, WrittenData,
};

/// The MD5 and CRC64 of a body held in memory: computed once by whoever reads the body (the
/// server checks them against the client's headers) and handed to the engine with the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyDigest {
    pub md5: [u8; 16],
    pub crc64: u64,
}

impl BodyDigest {
    pub fn of(bytes: &[u8]) -> BodyDigest {
        let mut crc = crc64fast_nvme::Digest::new();
        crc.write(bytes);
        BodyDigest {
            md5: md5::Md5::digest(bytes).into(),
            crc64: crc.sum64(),
        }
    }
}

/// Length and checksums of a Put Blob body.
pub(crate) struct ContentSummary {
    pub(crate) len: u64,
    pub(crate) md5: Option<[u8; 16]>,
    pub(crate) crc64: u64,
    /// SHA-256 of the customer-provided key the content is encrypted with.
    pub(crate) key_sha256: Option<[u8; 32]>,
}

/// The owned arguments of a Put Blob, moved into the writer job.
pub(crate) struct PutTarget {
    account: String,
    container: String,
    blob: String,
    http: BlobHttpProps,
    metadata: Metadata,
    tier: Option<AccessTier>,
    cond: Conditions,
    tags: BlobTags,
    /// The source URL when the bytes are a copy's (`copy_fetched`): the new version then
    /// records a completed copy from it.
    copied_from: Option<String>,
}

impl PutTarget {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        account: &str,
        container: &str,
        blob: &str,
        http: &BlobHttpProps,
        metadata: &Metadata,
        tier: Option<AccessTier>,
        cond: &Conditions,
    ) -> PutTarget {
        PutTarget {
            account: account.to_owned(),
            container: container.to_owned(),
            blob: blob.to_owned(),
            http: http.clone(),
            metadata: metadata.clone(),
            tier,
            cond: cond.clone(),
            tags: Vec::new(),
            copied_from: None,
        }
    }

    /// The index tags the blob is put with (`x-ms-tags`).
    pub(crate) fn tagged(mut self, tags: &[(String, String)]) -> PutTarget {
        self.tags = tags.to_vec();
        self
    }

    /// The blob is the completed copy of `source_url` (`x-ms-copy-*` properties).
    pub(crate) fn copied_from(mut self, source_url: String) -> PutTarget {
        self.copied_from = Some(source_url);
        self
    }
}

impl Store {
    /// Replaces the blob's content, properties and metadata with `data` (Put Blob); `tier`,
    /// when given, is the tier the blob is put in (else it is the default, inferred).
    #[allow(clippy::too_many_arguments)]
    pub fn put_blob(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        data: WrittenData,
        http: &BlobHttpProps,
        metadata: &Metadata,
        tier: Option<AccessTier>,
        cond: &Conditions,
    ) -> Result<BlobProps> {
        let target = PutTarget::new(account, container, blob, http, metadata, tier, cond);
        self.put_blob_into(target, data)
    }

    /// `put_blob` with index `tags` (`x-ms-tags`), set in the same transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn put_blob_tagged(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        data: WrittenData,
        http: &BlobHttpProps,
        metadata: &Metadata,
        tier: Option<AccessTier>,
        cond: &Conditions,
        tags: &[(String, String)],
    ) -> Result<BlobProps> {
        let target = PutTarget::new(account, container, blob, http, metadata, tier, cond);
        self.put_blob_into(target.tagged(tags), data)
    }

    pub(crate) fn put_blob_into(&self, target: PutTarget, data: WrittenData) -> Result<BlobProps> {
        let sync = data.sync_list();
        let summary = ContentSummary {
            len: data.len,
            md5: data.md5,
            crc64: data.crc64,
            key_sha256: data.key_sha256,
        };
        // `data` moves into the job so its extent pins last until the commit.
        self.replace_blob(sync, target, summary, move |c, id| {
            insert_blob_chunks(c, id, &data.chunks)
        })
    }

    /// Put Blob's transaction: checks conditions, drops the old content and blocks, writes the
    /// row, then lets `store_content` record where the new bytes are.
    pub(crate) fn replace_blob(
        &self,
        sync: Vec<(Arc<Extent>, u64)>,
        target: PutTarget,
        summary: ContentSummary,
        store_content: impl FnOnce(&Connection, i64) -> Result<()> + Send + 'static,
    ) -> Result<BlobProps> {
        self.queue_replace_blob(sync, target, summary, store_content)?
            .wait()
    }

    /// `replace_blob`, answered through a `Pending`.
    pub(crate) fn queue_replace_blob(
        &self,
        sync: Vec<(Arc<Extent>, u64)>,
        target: PutTarget,
        summary: ContentSummary,
        store_content: impl FnOnce(&Connection, i64) -> Result<()> + Send + 'static,
    ) -> Result<Pending<BlobProps>> {
        let clock = self.core().clock.clone();
        let versioning = self.blob_versioning(&target.account);
        self.core().writer.queue(sync, move |c| {
            let PutTarget {
                account,
                container,
                blob,
                mut http,
                metadata,
                tier,
                cond,
                tags,
                copied_from,
            } = target;
            let target = Replacing::open(c, &account, &container, &blob, &cond, versioning)?;
            let now = OffsetDateTime::now_utc();
            http.content_md5 = http
                .content_md5
                .or_else(|| summary.md5.map(|md5| md5.to_vec()));
            let mut props = BlobProps {
                name: blob,
                blob_type: BlobType::BlockBlob,
                etag: clock.next(),
                last_modified: now,
                created: target.created(now),
                size: summary.len,
                http,
                metadata,
                content_crc64: Some(summary.crc64),
                committed_block_count: 0,
                access_tier: tier.map(|t| (t, now)),
                cpk_sha256: summary.key_sha256,
                ..BlobProps::new(String::new(), BlobType::BlockBlob, String::new(), now)
            };
            props.copy = copied_from.map(|source| CopyProps {
                id: uuid::Uuid::new_v4().to_string(),
                status: "success".into(),
                source,
                progress: format!("{0}/{0}", summary.len),
                completed: Some(now),
                status_description: None,
            });
            let id = target.write_row(c, &mut props, &tags)?;
            store_content(c, id)?;
            Ok(props)
        })
    }
}
