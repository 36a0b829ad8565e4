//! List Containers and List Blobs response bodies.
//!
//! Element order and spelling follow real Azure responses (API version 2020-10-02 recordings):
//! container ETags are quoted, blob ETags are not; empty properties render as `<X />`; every
//! blob carries an empty `<OrMetadata />`.

use base64::Engine;

use super::{bool_str, escape_attribute, push_element, push_optional, XML_DECLARATION};
use crate::time_format::rfc1123;

/// One container in a List Containers answer.
#[derive(Debug, Clone)]
pub struct ContainerEntry<'a> {
    pub name: &'a str,
    pub last_modified: time::OffsetDateTime,
    /// Unquoted, e.g. `0x8DA7BAB29755CDA`.
    pub etag: &'a str,
    /// `blob` or `container`; `None` for private containers.
    pub public_access: Option<&'a str>,
    /// `Some` when `include=metadata` was asked for (an empty slice renders `<Metadata />`).
    pub metadata: Option<&'a [(String, String)]>,
    pub has_immutability_policy: bool,
    pub has_legal_hold: bool,
    pub lease: LeaseEntry,
    /// A soft-deleted container (include=deleted).
    pub deleted: Option<DeletedContainerEntry<'a>>,
}

/// What List Containers include=deleted adds to a soft-deleted container.
#[derive(Debug, Clone, Copy)]
pub struct DeletedContainerEntry<'a> {
    /// `<Version>`, the name Restore Container takes it by.
    pub version: &'a str,
    pub deleted_time: time::OffsetDateTime,
    pub remaining_retention_days: i64,
}

/// What List Blobs include=deleted adds to a soft-deleted blob or snapshot.
#[derive(Debug, Clone, Copy)]
pub struct DeletedBlobEntry {
    pub deleted_time: time::OffsetDateTime,
    pub remaining_retention_days: i64,
}

/// A lease as listed: `LeaseStatus`, `LeaseState` and, while held, `LeaseDuration`.
#[derive(Debug, Clone, Copy)]
pub struct LeaseEntry {
    pub locked: bool,
    /// `available`, `leased`, `expired`, `breaking` or `broken`.
    pub state: &'static str,
    /// `infinite` or `fixed` while leased.
    pub duration: Option<&'static str>,
}

impl Default for LeaseEntry {
    fn default() -> Self {
        LeaseEntry {
            locked: false,
            state: "available",
            duration: None,
        }
    }
}

/// The copy properties of a blob made by a copy (`include=copy`).
#[derive(Debug, Clone)]
pub struct CopyEntry<'a> {
    pub id: &'a str,
    pub status: &'a str,
    pub source: &'a str,
    pub progress: &'a str,
    pub completed: Option<time::OffsetDateTime>,
    pub status_description: Option<&'a str>,
}

/// One blob in a List Blobs answer.
#[derive(Debug, Clone)]
pub struct BlobEntry<'a> {
    pub name: &'a str,
    pub last_modified: time::OffsetDateTime,
    pub created: time::OffsetDateTime,
    /// Unquoted.
    pub etag: &'a str,
    pub size: u64,
    pub content_type: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
    pub content_language: Option<&'a str>,
    pub content_disposition: Option<&'a str>,
    pub cache_control: Option<&'a str>,
    pub content_md5: Option<&'a [u8]>,
    /// `BlockBlob`, `AppendBlob` or `PageBlob`.
    pub blob_type: &'a str,
    /// `Some` when `include=metadata` was asked for.
    pub metadata: Option<&'a [(String, String)]>,
    /// `false` for the entries `include=uncommittedblobs` adds.
    pub committed: bool,
    /// The tier given on upload and when; `None` for the default (Hot), inferred.
    pub access_tier: Option<(&'a str, time::OffsetDateTime)>,
    /// SHA-256 of the customer-provided key the blob is encrypted with: its metadata is then
    /// withheld (`<Metadata Encrypted="true" />`).
    pub customer_key_sha256: Option<&'a [u8]>,
    /// The snapshot's time, for a snapshot (`include=snapshots`).
    pub snapshot: Option<&'a str>,
    /// The version's id, for a blob written with versioning on; a previous version (listed
    /// with `include=versions`) names no lease.
    pub version_id: Option<&'a str>,
    /// `<IsCurrentVersion>true</IsCurrentVersion>` on the current version.
    pub is_current_version: bool,
    pub lease: LeaseEntry,
    /// A page blob's sequence number.
    pub sequence_number: Option<u64>,
    /// `Some` when `include=copy` was asked for and the blob was made by a copy.
    pub copy: Option<CopyEntry<'a>>,
    pub incremental_copy: bool,
    /// A sealed append blob (`<Sealed>true</Sealed>`; nothing for any other blob).
    pub sealed: bool,
    pub tag_count: u32,
    /// `Some` when `include=tags` was asked for.
    pub tags: Option<&'a [(String, String)]>,
    pub archive_status: Option<&'a str>,
    pub rehydrate_priority: Option<&'a str>,
    /// A soft-deleted blob or snapshot (include=deleted).
    pub deleted: Option<DeletedBlobEntry>,
}

// Entries live for one answer and borrow their strings; boxing each would cost an allocation
// per listed blob.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum BlobListItem<'a> {
    Blob(BlobEntry<'a>),
    /// A `<BlobPrefix>` (virtual directory) when a delimiter was given.
    Prefix(&'a str),
}

/// Azure's ServiceEndpoint attribute ends with a slash.
pub(super) fn push_enumeration_start(
    out: &mut String,
    service_endpoint: &str,
    container: Option<&str>,
) {
    out.push_str(XML_DECLARATION);
    out.push_str("<EnumerationResults ServiceEndpoint=\"");
    out.push_str(&escape_attribute(service_endpoint));
    if !service_endpoint.ends_with('/') {
        out.push('/');
    }
    out.push('"');
    if let Some(container) = container {
        out.push_str(" ContainerName=\"");
        out.push_str(&escape_attribute(container));
        out.push('"');
    }
    out.push('>');
}

/// The echoed request parameters, each only when the request carried it.
pub(super) fn push_echoed(
    out: &mut String,
    prefix: Option<&str>,
    marker: Option<&str>,
    max_results: Option<u32>,
) {
    if let Some(prefix) = prefix {
        push_element(out, "Prefix", prefix);
    }
    if let Some(marker) = marker {
        push_element(out, "Marker", marker);
    }
    if let Some(max) = max_results {
        push_element(out, "MaxResults", &max.to_string());
    }
}

pub(super) fn push_metadata(out: &mut String, metadata: Option<&[(String, String)]>) {
    let Some(metadata) = metadata else { return };
    if metadata.is_empty() {
        out.push_str("<Metadata />");
        return;
    }
    out.push_str("<Metadata>");
    for (key, value) in metadata {
        push_element(out, key, value);
    }
    out.push_str("</Metadata>");
}

pub(super) fn push_end(out: &mut String, next_marker: Option<&str>) {
    push_optional(out, "NextMarker", next_marker);
    out.push_str("</EnumerationResults>");
}

pub fn render_list_containers(
    service_endpoint: &str,
    prefix: Option<&str>,
    marker: Option<&str>,
    max_results: Option<u32>,
    items: &[ContainerEntry],
    next_marker: Option<&str>,
) -> String {
    let mut out = String::with_capacity(256 + items.len() * 600);
    push_enumeration_start(&mut out, service_endpoint, None);
    push_echoed(&mut out, prefix, marker, max_results);
    if items.is_empty() {
        out.push_str("<Containers />");
    } else {
        out.push_str("<Containers>");
        for item in items {
            push_container(&mut out, item);
        }
        out.push_str("</Containers>");
    }
    push_end(&mut out, next_marker);
    out
}

fn push_container(out: &mut String, c: &ContainerEntry) {
    out.push_str("<Container>");
    push_element(out, "Name", c.name);
    if let Some(d) = &c.deleted {
        out.push_str("<Deleted>true</Deleted>");
        push_element(out, "Version", d.version);
    }
    out.push_str("<Properties>");
    push_element(out, "Last-Modified", &rfc1123(c.last_modified));
    push_element(out, "Etag", &format!("\"{}\"", c.etag));
    push_lease(out, &c.lease);
    if let Some(access) = c.public_access {
        push_element(out, "PublicAccess", access);
    }
    out.push_str("<DefaultEncryptionScope>$account-encryption-key</DefaultEncryptionScope>");
    out.push_str("<DenyEncryptionScopeOverride>false</DenyEncryptionScopeOverride>");
    push_element(
        out,
        "HasImmutabilityPolicy",
        bool_str(c.has_immutability_policy),
    );
    push_element(out, "HasLegalHold", bool_str(c.has_legal_hold));
    out.push_str(
        "<ImmutableStorageWithVersioningEnabled>false</ImmutableStorageWithVersioningEnabled>",
    );
    // After ImmutableStorageWithVersioningEnabled, as Azure sends them (the spec lists them
    // before it).
    if let Some(d) = &c.deleted {
        push_element(out, "DeletedTime", &rfc1123(d.deleted_time));
        push_element(
            out,
            "RemainingRetentionDays",
            &d.remaining_retention_days.to_string(),
        );
    }
    out.push_str("</Properties>");
    push_metadata(out, c.metadata);
    out.push_str("</Container>");
}

#[allow(clippy::too_many_arguments)]
pub fn render_list_blobs(
    service_endpoint: &str,
    container: &str,
    prefix: Option<&str>,
    marker: Option<&str>,
    max_results: Option<u32>,
    delimiter: Option<&str>,
    items: &[BlobListItem],
    next_marker: Option<&str>,
) -> String {
    let mut out = String::with_capacity(256 + items.len() * 900);
    push_enumeration_start(&mut out, service_endpoint, Some(container));
    push_echoed(&mut out, prefix, marker, max_results);
    if let Some(delimiter) = delimiter {
        push_element(&mut out, "Delimiter", delimiter);
    }
    if items.is_empty() {
        out.push_str("<Blobs />");
    } else {
        out.push_str("<Blobs>");
        for item in items {
            match item {
                BlobListItem::Blob(blob) => push_blob(&mut out, blob),
                BlobListItem::Prefix(name) => {
                    out.push_str("<BlobPrefix>");
                    push_blob_name(&mut out, name);
                    out.push_str("</BlobPrefix>");
                }
            }
        }
        out.push_str("</Blobs>");
    }
    push_end(&mut out, next_marker);
    out
}

/// The values are fixed words that need no escaping.
fn push_lease(out: &mut String, lease: &LeaseEntry) {
    out.push_str(if lease.locked {
        "<LeaseStatus>locked</LeaseStatus><LeaseState>"
    } else {
        "<LeaseStatus>unlocked</LeaseStatus><LeaseState>"
    });
    out.push_str(lease.state);
    out.push_str("</LeaseState>");
    if let Some(d) = lease.duration {
        out.push_str("<LeaseDuration>");
        out.push_str(d);
        out.push_str("</LeaseDuration>");
    }
}

fn push_blob(out: &mut String, b: &BlobEntry) {
    out.push_str("<Blob>");
    push_blob_name(out, b.name);
    if b.deleted.is_some() {
        out.push_str("<Deleted>true</Deleted>");
    }
    if let Some(snapshot) = b.snapshot {
        push_element(out, "Snapshot", snapshot);
    }
    // BlobItemInternal's order: Name, Deleted, Snapshot, VersionId, IsCurrentVersion, Properties.
    if let Some(version) = b.version_id {
        push_element(out, "VersionId", version);
    }
    if b.is_current_version {
        out.push_str("<IsCurrentVersion>true</IsCurrentVersion>");
    }
    out.push_str("<Properties>");
    push_element(out, "Creation-Time", &rfc1123(b.created));
    push_element(out, "Last-Modified", &rfc1123(b.last_modified));
    push_element(out, "Etag", b.etag);
    push_element(out, "Content-Length", &b.size.to_string());
    push_optional(out, "Content-Type", b.content_type);
    push_optional(out, "Content-Encoding", b.content_encoding);
    push_optional(out, "Content-Language", b.content_language);
    out.push_str("<Content-CRC64 />");
    let md5 = b
        .content_md5
        .map(|m| base64::engine::general_purpose::STANDARD.encode(m));
    push_optional(out, "Content-MD5", md5.as_deref());
    push_optional(out, "Cache-Control", b.cache_control);
    push_optional(out, "Content-Disposition", b.content_disposition);
    if let Some(n) = b.sequence_number {
        push_element(out, "x-ms-blob-sequence-number", &n.to_string());
    }
    push_element(out, "BlobType", b.blob_type);
    // Only committed block blobs have a tier; page and append blobs on standard accounts do not.
    if b.committed && b.blob_type == "BlockBlob" {
        match b.access_tier {
            Some((tier, changed)) => {
                push_element(out, "AccessTier", tier);
                push_element(out, "AccessTierChangeTime", &rfc1123(changed));
            }
            None => out.push_str(
                "<AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred>",
            ),
        }
    }
    if b.version_id.is_none() || b.is_current_version {
        push_lease(out, &b.lease);
    }
    if let Some(c) = &b.copy {
        push_element(out, "CopyId", c.id);
        push_element(out, "CopyStatus", c.status);
        push_element(out, "CopySource", c.source);
        push_element(out, "CopyProgress", c.progress);
        if let Some(t) = c.completed {
            push_element(out, "CopyCompletionTime", &rfc1123(t));
        }
        if let Some(d) = c.status_description {
            push_element(out, "CopyStatusDescription", d);
        }
    }
    out.push_str("<ServerEncrypted>true</ServerEncrypted>");
    if let Some(hash) = b.customer_key_sha256 {
        let hash = base64::engine::general_purpose::STANDARD.encode(hash);
        push_element(out, "CustomerProvidedKeySha256", &hash);
    }
    if b.incremental_copy {
        push_element(out, "IncrementalCopy", "true");
    }
    if let Some(d) = &b.deleted {
        push_element(out, "DeletedTime", &rfc1123(d.deleted_time));
        push_element(
            out,
            "RemainingRetentionDays",
            &d.remaining_retention_days.to_string(),
        );
    }
    if b.tag_count > 0 {
        push_element(out, "TagCount", &b.tag_count.to_string());
    }
    if let Some(p) = b.rehydrate_priority {
        push_element(out, "RehydratePriority", p);
    }
    if let Some(a) = b.archive_status {
        push_element(out, "ArchiveStatus", a);
    }
    if b.sealed {
        out.push_str("<Sealed>true</Sealed>");
    }
    out.push_str("</Properties>");
    match (b.customer_key_sha256, b.metadata) {
        (Some(_), Some(_)) => out.push_str("<Metadata Encrypted=\"true\" />"),
        _ => push_metadata(out, b.metadata),
    }
    if let Some(tags) = b.tags {
        out.push_str(&super::tags::tag_set(tags));
    }
    out.push_str("<OrMetadata />");
    out.push_str("</Blob>");
}

/// Names that XML 1.0 cannot carry are sent percent-encoded with `Encoded="true"`, as Azure does.
fn push_blob_name(out: &mut String, name: &str) {
    if name.chars().any(not_xml_char) {
        out.push_str("<Name Encoded=\"true\">");
        out.push_str(&percent_encode(name));
        out.push_str("</Name>");
    } else {
        push_element(out, "Name", name);
    }
}

fn not_xml_char(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[path = "listing_tests.rs"]
mod tests;
