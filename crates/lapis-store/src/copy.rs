//! Copy Blob, Copy Blob From URL and Put Blob From URL for sources on this Lapis: the
//! destination's content rows are copies of the source's, pointing at the same extents, so a
//! copy writes no content bytes and completes in the transaction that records it. A source the
//! server fetched from elsewhere arrives as written bytes and is stored as Put Blob stores them
//! (`copy_fetched`).

use time::OffsetDateTime;

use crate::blobs::{clear_content, find_blob, find_blob_at, upsert_blob};
use crate::conditions::{check, check_blob, check_lease, LeaseHolder};
use crate::containers::find_container;
use crate::cpk::check_key;
use crate::deleted_blobs::{drop_if_other_type, keep_overwritten, retention};
use crate::put::PutTarget;
use crate::snapshots::share_content;
use crate::tags::{check_tags, write_tags};
use crate::versions::start_version;
use crate::{
    Access, AccessTier, BlobHttpProps, BlobType, Conditions, CopyProps, Metadata, Refusal, Result,
    Store, StoreError, WrittenData,
};

/// The blob a copy reads: a blob (or one of its snapshots) of an account this Lapis serves.
#[derive(Debug, Clone)]
pub struct CopySource {
    pub account: String,
    pub container: String,
    pub blob: String,
    pub snapshot: Option<String>,
    /// `x-ms-source-if-*` and `x-ms-source-lease-id`.
    pub cond: Conditions,
}

/// What the destination of a copy becomes, besides the source's content.
#[derive(Debug, Clone, Default)]
pub struct CopyInto {
    /// The source URL as the client gave it, for `x-ms-copy-source`.
    pub source_url: String,
    /// Replaces the source's metadata when given.
    pub metadata: Option<Metadata>,
    /// Replaces the source's content headers when given (Put Blob From URL).
    pub http: Option<BlobHttpProps>,
    pub tier: Option<AccessTier>,
    /// Put Blob From URL makes a block blob of any source; the copies keep the source's type.
    pub as_block_blob: bool,
    /// The largest source the operation takes (Copy Blob From URL: 256 MiB).
    pub max_size: Option<u64>,
    /// `x-ms-seal-blob`: whether the copy of an append blob is sealed (`None`: as its source).
    pub seal: Option<bool>,
    /// `x-ms-tags`: the copy's index tags (a source's tags are not copied).
    pub tags: Vec<(String, String)>,
}

/// What a copy answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyDone {
    /// The destination's new version, with versioning on.
    pub version_id: Option<String>,
    pub copy_id: String,
    pub etag: String,
    pub last_modified: OffsetDateTime,
    pub size: u64,
    pub content_md5: Option<Vec<u8>>,
}

/// A failed condition of the source or the destination, as Azure tells them apart.
fn recast(e: StoreError, as_: Refusal) -> StoreError {
    match e {
        StoreError::ConditionNotMet | StoreError::NotModified => StoreError::Refused(as_),
        other => other,
    }
}

impl Store {
    /// Copies `source` onto the destination blob at once (status `success`). `cond` holds the
    /// destination's conditions and lease.
    pub fn copy_blob(
        &self,
        source: &CopySource,
        account: &str,
        container: &str,
        blob: &str,
        into: CopyInto,
        cond: &Conditions,
    ) -> Result<CopyDone> {
        let (source, account, container, blob, cond) = (
            source.clone(),
            account.to_owned(),
            container.to_owned(),
            blob.to_owned(),
            cond.clone(),
        );
        let clock = self.core().clock.clone();
        let versioning = self.blob_versioning(&account);
        self.core().writer.submit(Vec::new(), move |c| {
            let not_found = || StoreError::Refused(Refusal::CopySourceNotFound);
            let src_cont =
                find_container(c, &source.account, &source.container)?.ok_or_else(not_found)?;
            let src = find_blob_at(
                c,
                src_cont.id,
                &source.blob,
                source.snapshot.as_deref().unwrap_or(""),
            )?
            .filter(|b| b.committed)
            .ok_or_else(not_found)?;
            // A keyed source's bytes can be read only with its key, which a copy does not carry.
            check_key(src.props.cpk_sha256.as_ref(), None)?;
            check(
                &source.cond,
                Some((&src.props.etag, src.props.last_modified)),
                Access::Write,
            )
            .map_err(|e| recast(e, Refusal::SourceConditionNotMet))?;
            check_lease(
                &src.props.lease,
                source.cond.lease_id.as_deref(),
                Access::Read,
                LeaseHolder::Blob,
            )?;
            // An archived source is copied only into an online tier (a rehydrating copy).
            let archived = src
                .props
                .access_tier
                .is_some_and(|(t, _)| t == AccessTier::Archive);
            let online = into.tier.is_some_and(|t| t != AccessTier::Archive);
            if archived && !online {
                return Err(StoreError::Refused(Refusal::BlobArchived));
            }
            // A page blob's content is sparse; a block blob's must be whole. Lapis does not
            // write out the zeros of a page blob to make a block blob of it.
            if into.as_block_blob && src.props.blob_type == BlobType::PageBlob {
                return Err(StoreError::Refused(Refusal::InvalidSourceBlobType));
            }
            if into.max_size.is_some_and(|max| src.props.size > max) {
                return Err(StoreError::Refused(Refusal::CannotVerifyCopySource));
            }

            let cont = crate::containers::load_container(c, &account, &container)?;
            let existing = find_blob(c, cont.id, &blob)?;
            let committed = existing.as_ref().filter(|b| b.committed);
            match committed {
                Some(d) => check_blob(&cond, &d.props, Access::Write)
                    .map_err(|e| recast(e, Refusal::TargetConditionNotMet))?,
                None => {
                    check(&cond, None, Access::Write)
                        .map_err(|e| recast(e, Refusal::TargetConditionNotMet))?;
                    check_lease(
                        &Default::default(),
                        cond.lease_id.as_deref(),
                        Access::Write,
                        LeaseHolder::Blob,
                    )?;
                }
            }

            check_tags(c, committed.map(|d| d.id), &cond)
                .map_err(|e| recast(e, Refusal::TargetConditionNotMet))?;
            let now = OffsetDateTime::now_utc();
            let mut props = src.props.clone();
            props.name = blob.clone();
            props.snapshot = None;
            props.etag = clock.next();
            props.last_modified = now;
            props.created = committed.map_or(now, |d| d.props.created);
            props.lease = committed.map(|d| d.props.lease.clone()).unwrap_or_default();
            props.access_tier = into.tier.map(|t| (t, now));
            props.archive_status = None;
            props.rehydrate_priority = None;
            props.tag_count = into.tags.len() as u32;
            if let Some(m) = into.metadata {
                props.metadata = m;
            }
            if let Some(http) = into.http {
                props.http = http;
            }
            if let (Some(seal), BlobType::AppendBlob) = (into.seal, props.blob_type) {
                props.sealed = seal;
            }
            if into.as_block_blob {
                props.blob_type = BlobType::BlockBlob;
                props.sealed = false;
                props.sequence_number = 0;
            }
            let copy_id = uuid::Uuid::new_v4().to_string();
            props.copy = Some(CopyProps {
                id: copy_id.clone(),
                status: "success".into(),
                source: into.source_url,
                progress: format!("{0}/{0}", props.size),
                completed: Some(now),
                status_description: None,
            });
            // Copy Blob makes a new version; a previous version copied over its blob is how
            // Azure restores one.
            let version = start_version(c, cont.id, &blob, existing.as_ref(), versioning, now)?;
            props.version_id = version.id;
            props.is_current_version = props.version_id.is_some();
            let same_row = existing.as_ref().is_some_and(|d| d.id == src.id);
            let id = existing.as_ref().map(|d| d.id);
            if !same_row {
                match committed {
                    Some(old) if !version.kept_previous => {
                        let kept = retention(c, &account)?;
                        keep_overwritten(c, cont.id, old, kept.as_ref())?;
                    }
                    Some(_) => {}
                    None => drop_if_other_type(c, cont.id, &blob, props.blob_type)?,
                }
                if let Some(id) = id {
                    clear_content(c, id)?;
                    c.prepare_cached("DELETE FROM blob_tags WHERE blob_id = ?1")?
                        .execute([id])?;
                }
            }
            let id = upsert_blob(c, cont.id, id, true, &props)?;
            if !same_row {
                share_content(c, src.id, id, false)?;
            }
            write_tags(c, id, &into.tags)?;
            Ok(CopyDone {
                version_id: props.version_id,
                copy_id,
                etag: props.etag,
                last_modified: now,
                size: props.size,
                content_md5: props.http.content_md5,
            })
        })
    }

    /// A copy whose source was read outside the engine (a URL on another host, fetched by the
    /// server): `data` is the source's bytes, already written, and `source_http` /
    /// `source_metadata` the properties it came with, which `into.http` / `into.metadata`
    /// replace when given. The destination becomes a block blob holding the bytes, with the
    /// copy's `x-ms-copy-*` properties, in one transaction checked against `cond`.
    #[allow(clippy::too_many_arguments)]
    pub fn copy_fetched(
        &self,
        data: WrittenData,
        source_http: BlobHttpProps,
        source_metadata: Metadata,
        account: &str,
        container: &str,
        blob: &str,
        into: CopyInto,
        cond: &Conditions,
    ) -> Result<CopyDone> {
        let http = into.http.unwrap_or(source_http);
        let metadata = into.metadata.unwrap_or(source_metadata);
        let target = PutTarget::new(account, container, blob, &http, &metadata, into.tier, cond)
            .tagged(&into.tags)
            .copied_from(into.source_url);
        let props = self
            .put_blob_into(target, data)
            .map_err(|e| recast(e, Refusal::TargetConditionNotMet))?;
        let copy_id = props.copy.map(|c| c.id).unwrap_or_default();
        Ok(CopyDone {
            version_id: props.version_id,
            copy_id,
            etag: props.etag,
            last_modified: props.last_modified,
            size: props.size,
            content_md5: props.http.content_md5,
        })
    }

    /// Abort Copy Blob: every copy within Lapis completes when it is made, so there is never a
    /// pending copy to abort: 409 `NoPendingCopyOperation` for the blob's last copy, or
    /// `CopyIdMismatch` for another id.
    pub fn abort_copy(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        copy_id: &str,
        cond: &Conditions,
    ) -> Result<()> {
        let props = self.get_blob_properties(
            account,
            container,
            blob,
            &Default::default(),
            Access::Read,
            None,
        );
        let props = match props {
            Err(StoreError::CustomerKeyRequired) => {
                return Err(StoreError::Refused(Refusal::NoPendingCopyOperation))
            }
            other => other?,
        };
        check_lease(
            &props.lease,
            cond.lease_id.as_deref(),
            Access::Write,
            LeaseHolder::Blob,
        )?;
        match props.copy {
            Some(c) if c.id.eq_ignore_ascii_case(copy_id) && c.status == "pending" => {
                Err(StoreError::Internal("a copy was left pending".into()))
            }
            Some(c) if !c.id.eq_ignore_ascii_case(copy_id) => {
                Err(StoreError::Refused(Refusal::CopyIdMismatch))
            }
            _ => Err(StoreError::Refused(Refusal::NoPendingCopyOperation)),
        }
    }
}
