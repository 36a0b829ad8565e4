//! List Blobs, flat and hierarchical.

use axum::body::Body;
use http::{Response, StatusCode};
use lapis_store::{BlobProps, BlobType, ListBlobsItem, ListBlobsQuery};
use lapis_wire::xml::{render_list_blobs, BlobEntry, BlobListItem, CopyEntry, DeletedBlobEntry};

use super::any_blob::{blob_type_name, lease_entry};
use super::service::{includes, max_results};
use super::{blocking, Reply};
use crate::error::ApiResult;
use crate::handler::Ctx;

/// What List Blobs may `include`. Immutability policies do not exist in Lapis yet, so asking
/// for them lists nothing more.
const BLOB_INCLUDES: &[&str] = &[
    "metadata",
    "uncommittedblobs",
    "snapshots",
    "versions",
    "deleted",
    "deletedwithversions",
    "copy",
    "tags",
    "immutabilitypolicy",
    "legalhold",
    "permissions",
];

/// Where the scan begins: the continuation marker, or `startFrom` (a name to start at,
/// inclusive), whichever is further on.
fn start_at(marker: Option<&str>, start_from: Option<&str>) -> Option<String> {
    let marker = marker.filter(|m| !m.is_empty());
    let start_from = start_from.filter(|s| !s.is_empty());
    marker.max(start_from).map(str::to_string)
}

pub async fn list_blobs(ctx: Ctx) -> ApiResult<Response<Body>> {
    let (max, max_echo) = max_results(&ctx)?;
    let include = includes(&ctx, BLOB_INCLUDES)?;
    let has = |w: &str| include.iter().any(|i| i == w);
    let query = ListBlobsQuery {
        prefix: ctx.query.get("prefix").map(str::to_string),
        delimiter: ctx
            .query
            .get("delimiter")
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        marker: start_at(ctx.query.get("marker"), ctx.query.get("startFrom")),
        max_results: max,
        include_metadata: has("metadata"),
        include_uncommitted: has("uncommittedblobs"),
        include_snapshots: has("snapshots"),
        include_tags: has("tags"),
        include_versions: has("versions"),
        include_deleted: has("deleted"),
    };
    let (account, container, q) = (ctx.account(), ctx.container(), query.clone());
    let page = blocking(&ctx, move |s| s.list_blobs(&account, &container, &q)).await?;
    let empty_meta: Vec<(String, String)> = Vec::new();
    let items: Vec<BlobListItem> = page
        .items
        .iter()
        .map(|item| match item {
            ListBlobsItem::Prefix(p) => BlobListItem::Prefix(p),
            ListBlobsItem::Blob(b) => BlobListItem::Blob(entry(b, None, &query, &has)),
            ListBlobsItem::Deleted(b, d) => BlobListItem::Blob(entry(
                b,
                Some(DeletedBlobEntry {
                    deleted_time: d.deleted,
                    remaining_retention_days: d.remaining_days(ctx.now),
                }),
                &query,
                &has,
            )),
            ListBlobsItem::UncommittedBlob { name } => BlobListItem::Blob(BlobEntry {
                name,
                last_modified: ctx.now,
                created: ctx.now,
                etag: "",
                size: 0,
                content_type: None,
                content_encoding: None,
                content_language: None,
                content_disposition: None,
                cache_control: None,
                content_md5: None,
                blob_type: "BlockBlob",
                metadata: query.include_metadata.then_some(empty_meta.as_slice()),
                committed: false,
                access_tier: None,
                customer_key_sha256: None,
                snapshot: None,
                version_id: None,
                is_current_version: false,
                lease: Default::default(),
                sequence_number: None,
                copy: None,
                incremental_copy: false,
                sealed: false,
                tag_count: 0,
                tags: None,
                archive_status: None,
                rehydrate_priority: None,
                deleted: None,
            }),
        })
        .collect();
    let xml = render_list_blobs(
        &ctx.service_endpoint,
        &ctx.container(),
        query.prefix.as_deref(),
        ctx.query.get("marker"),
        max_echo,
        query.delimiter.as_deref(),
        &items,
        page.next_marker.as_deref(),
    );
    Ok(Reply::new(StatusCode::OK).xml(xml).finish())
}

/// A listed blob or snapshot, soft-deleted with `deleted`.
fn entry<'a>(
    b: &'a BlobProps,
    deleted: Option<DeletedBlobEntry>,
    query: &ListBlobsQuery,
    has: &dyn Fn(&str) -> bool,
) -> BlobEntry<'a> {
    BlobEntry {
        name: &b.name,
        last_modified: b.last_modified,
        created: b.created,
        etag: &b.etag,
        size: b.size,
        content_type: b.http.content_type.as_deref(),
        content_encoding: b.http.content_encoding.as_deref(),
        content_language: b.http.content_language.as_deref(),
        content_disposition: b.http.content_disposition.as_deref(),
        cache_control: b.http.cache_control.as_deref(),
        content_md5: b.http.content_md5.as_deref(),
        blob_type: blob_type_name(b.blob_type),
        metadata: query.include_metadata.then_some(b.metadata.as_slice()),
        committed: true,
        access_tier: b.access_tier.map(|(t, changed)| (t.name(), changed)),
        customer_key_sha256: b.cpk_sha256.as_ref().map(|h| h.as_slice()),
        snapshot: b.snapshot.as_deref(),
        // Azure names a versioned blob's version with or without include=versions.
        version_id: b.version_id.as_deref(),
        is_current_version: b.is_current_version,
        lease: lease_entry(&b.lease),
        sequence_number: (b.blob_type == BlobType::PageBlob).then_some(b.sequence_number),
        copy: b.copy.as_ref().filter(|_| has("copy")).map(|c| CopyEntry {
            id: &c.id,
            status: &c.status,
            source: &c.source,
            progress: &c.progress,
            completed: c.completed,
            status_description: c.status_description.as_deref(),
        }),
        incremental_copy: b.incremental_copy,
        sealed: b.sealed,
        tag_count: b.tag_count,
        tags: b.tags.as_deref(),
        archive_status: b.archive_status.as_deref(),
        rehydrate_priority: b.rehydrate_priority.as_deref(),
        deleted,
    }
}
