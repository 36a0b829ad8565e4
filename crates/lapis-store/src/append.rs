//! Append blobs: Put Blob of type AppendBlob (an empty blob), Append Block, Seal.
//!
//! An append writes its bytes to an extent first (a `BlobWriter`, as Put Block does); one writer
//! transaction then checks the conditions, the lease, the seal and the append conditions against
//! the blob as it is at that moment, and adds the bytes as chunks from the blob's old end. No
//! byte already in the blob is copied, and appends racing each other are ordered by the writer.

use time::OffsetDateTime;

use crate::blobs::{find_blob, upsert_blob, Replacing};
use crate::chunks::insert_chunks_at;
use crate::conditions::check_blob_row;
use crate::containers::load_container;
use crate::cpk::check_key;
use crate::{
    Access, BlobHttpProps, BlobProps, BlobType, Conditions, CustomerKey, Metadata, Refusal, Result,
    Store, StoreError, WrittenData,
};

/// Azure's limit on the blocks of one append blob.
pub const MAX_APPEND_BLOCKS: u32 = 50_000;

/// `x-ms-blob-condition-appendpos` and `x-ms-blob-condition-maxsize`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendConditions {
    /// The append goes ahead only if the blob is exactly this long.
    pub position: Option<u64>,
    /// The append goes ahead only if the blob is at most this long after it.
    pub max_size: Option<u64>,
}

/// What Append Block answers: the blob after the append and where the block starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub props: BlobProps,
    /// `x-ms-blob-append-offset`: the blob's length before this block.
    pub offset: u64,
}

fn refused(r: Refusal) -> StoreError {
    StoreError::Refused(r)
}

/// The committed blob named, which must be an append blob.
fn append_blob(props: &BlobProps) -> Result<()> {
    match props.blob_type {
        BlobType::AppendBlob => Ok(()),
        _ => Err(refused(Refusal::InvalidBlobType)),
    }
}

fn check_position(props: &BlobProps, position: Option<u64>) -> Result<()> {
    match position {
        Some(p) if p != props.size => Err(refused(Refusal::AppendPositionConditionNotMet)),
        _ => Ok(()),
    }
}

impl Store {
    /// Creates (or replaces with) an empty append blob with index `tags`. Under a
    /// customer-provided `key`, every append and read then needs that key.
    #[allow(clippy::too_many_arguments)]
    pub fn create_append_blob(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        http: &BlobHttpProps,
        metadata: &Metadata,
        cond: &Conditions,
        key: Option<&CustomerKey>,
        tags: &[(String, String)],
    ) -> Result<BlobProps> {
        let tags = tags.to_vec();
        let (account, container, blob) =
            (account.to_owned(), container.to_owned(), blob.to_owned());
        let (http, metadata, cond) = (http.clone(), metadata.clone(), cond.clone());
        let key_sha256 = key.map(CustomerKey::sha256);
        let clock = self.core().clock.clone();
        let versioning = self.blob_versioning(&account);
        self.core().writer.submit(Vec::new(), move |c| {
            let target = Replacing::open(c, &account, &container, &blob, &cond, versioning)?;
            let now = OffsetDateTime::now_utc();
            let mut props = BlobProps {
                http,
                metadata,
                created: target.created(now),
                cpk_sha256: key_sha256,
                ..BlobProps::new(blob, BlobType::AppendBlob, clock.next(), now)
            };
            target.write_row(c, &mut props, &tags)?;
            Ok(props)
        })
    }

    /// Appends `data` at the end of an append blob (Append Block). The bytes are durable and
    /// referenced when this returns; on any refusal they stay unreferenced (garbage).
    #[allow(clippy::too_many_arguments)]
    pub fn append_block(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        data: WrittenData,
        cond: &Conditions,
        append: AppendConditions,
        key: Option<&CustomerKey>,
    ) -> Result<Appended> {
        let (account, container, blob) =
            (account.to_owned(), container.to_owned(), blob.to_owned());
        let cond = cond.clone();
        let key = key.cloned();
        let clock = self.core().clock.clone();
        let sync = data.sync_list();
        // `data` moves into the job so its extent pins last until the commit.
        self.core().writer.submit(sync, move |c| {
            let cont = load_container(c, &account, &container)?;
            let row = find_blob(c, cont.id, &blob)?
                .filter(|b| b.committed)
                .ok_or(StoreError::BlobNotFound)?;
            append_blob(&row.props)?;
            check_key(row.props.cpk_sha256.as_ref(), key.as_ref())?;
            check_blob_row(c, &cond, &row, Access::Write)?;
            let mut props = row.props;
            if props.sealed {
                return Err(refused(Refusal::BlobIsSealed));
            }
            check_position(&props, append.position)?;
            if append
                .max_size
                .is_some_and(|max| props.size + data.len > max)
            {
                return Err(refused(Refusal::MaxBlobSizeConditionNotMet));
            }
            if props.committed_block_count >= MAX_APPEND_BLOCKS {
                return Err(refused(Refusal::BlockCountExceedsLimit));
            }
            let offset = props.size;
            insert_chunks_at(c, row.id, offset, &data.chunks)?;
            props.size += data.len;
            props.committed_block_count += 1;
            props.etag = clock.next();
            props.last_modified = OffsetDateTime::now_utc();
            upsert_blob(c, cont.id, Some(row.id), true, &props)?;
            Ok(Appended { props, offset })
        })
    }

    /// Seals an append blob: it takes no more appends. `position` is the append position
    /// condition, which a seal may carry too.
    pub fn seal_blob(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        cond: &Conditions,
        position: Option<u64>,
    ) -> Result<BlobProps> {
        self.update_blob(account, container, blob, cond, false, move |p| {
            append_blob(p)?;
            check_position(p, position)?;
            p.sealed = true;
            Ok(())
        })
    }
}
