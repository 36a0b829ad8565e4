//! The blob database (`__azurite_db_blob__.json`) and the service properties document that the
//! queue and table databases share with it.

use serde::Deserialize;

use super::*;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionDoc {
    #[serde(default)]
    pub enabled: bool,
    pub days: Option<u32>,
    pub allow_permanent_delete: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggingDoc {
    pub version: Option<String>,
    #[serde(default, alias = "delete")]
    pub delete_property: bool,
    #[serde(default)]
    pub read: bool,
    #[serde(default)]
    pub write: bool,
    #[serde(default)]
    pub retention_policy: RetentionDoc,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsDoc {
    pub version: Option<String>,
    #[serde(default)]
    pub enabled: bool,
    #[serde(rename = "includeAPIs")]
    pub include_apis: Option<bool>,
    #[serde(default)]
    pub retention_policy: RetentionDoc,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorsDoc {
    #[serde(default)]
    pub allowed_origins: String,
    #[serde(default)]
    pub allowed_methods: String,
    #[serde(default)]
    pub allowed_headers: String,
    #[serde(default)]
    pub exposed_headers: String,
    #[serde(default)]
    pub max_age_in_seconds: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaticWebsiteDoc {
    #[serde(default)]
    pub enabled: bool,
    pub index_document: Option<String>,
    pub error_document404_path: Option<String>,
    pub default_index_document_path: Option<String>,
}

/// Service properties of one account (the same shape in the blob, queue and table databases).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDoc {
    pub account_name: String,
    pub cors: Option<Vec<CorsDoc>>,
    pub logging: Option<LoggingDoc>,
    pub hour_metrics: Option<MetricsDoc>,
    pub minute_metrics: Option<MetricsDoc>,
    pub default_service_version: Option<String>,
    pub delete_retention_policy: Option<RetentionDoc>,
    pub static_website: Option<StaticWebsiteDoc>,
}

impl ServiceDoc {
    /// The properties as Lapis stores them: the Set Service Properties document of what
    /// Azurite kept (sections it never had are left to Lapis's defaults).
    pub fn to_xml(&self) -> String {
        use lapis_wire::xml::{CorsRule, Logging, Metrics, RetentionPolicy, ServiceProperties};
        let retention = |r: &RetentionDoc| RetentionPolicy {
            enabled: r.enabled,
            days: r.days.filter(|_| r.enabled),
            allow_permanent_delete: None,
        };
        let metrics = |m: &MetricsDoc| Metrics {
            version: m.version.clone().unwrap_or_else(|| "1.0".into()),
            enabled: m.enabled,
            include_apis: m.include_apis.filter(|_| m.enabled),
            retention_policy: retention(&m.retention_policy),
        };
        ServiceProperties {
            logging: self.logging.as_ref().map(|l| Logging {
                version: l.version.clone().unwrap_or_else(|| "1.0".into()),
                read: l.read,
                write: l.write,
                delete: l.delete_property,
                retention_policy: retention(&l.retention_policy),
            }),
            hour_metrics: self.hour_metrics.as_ref().map(metrics),
            minute_metrics: self.minute_metrics.as_ref().map(metrics),
            cors: self.cors.as_ref().map(|rules| {
                rules
                    .iter()
                    .map(|r| CorsRule {
                        allowed_origins: r.allowed_origins.clone(),
                        allowed_methods: r.allowed_methods.clone(),
                        allowed_headers: r.allowed_headers.clone(),
                        exposed_headers: r.exposed_headers.clone(),
                        max_age_in_seconds: r.max_age_in_seconds,
                    })
                    .collect()
            }),
            default_service_version: self.default_service_version.clone(),
            delete_retention_policy: self.delete_retention_policy.as_ref().map(|r| {
                RetentionPolicy {
                    allow_permanent_delete: Some(r.allow_permanent_delete.unwrap_or(false)),
                    ..retention(r)
                }
            }),
            static_website: self
                .static_website
                .as_ref()
                .map(|s| lapis_wire::xml::StaticWebsite {
                    enabled: s.enabled,
                    index_document: s.index_document.clone(),
                    error_document_404_path: s.error_document404_path.clone(),
                    default_index_document_path: s.default_index_document_path.clone(),
                }),
        }
        .render()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPropsDoc {
    pub etag: String,
    pub last_modified: JsDate,
    pub lease_state: Option<String>,
    pub lease_duration: Option<String>,
    pub public_access: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerDoc {
    pub account_name: String,
    pub name: String,
    #[serde(default)]
    pub metadata: Option<Pairs>,
    pub properties: ContainerPropsDoc,
    #[serde(default)]
    pub container_acl: Option<Vec<AclDoc>>,
    #[serde(flatten)]
    pub lease: LeaseDoc,
    #[serde(default)]
    pub meta: Meta,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobPropsDoc {
    pub creation_time: Option<JsDate>,
    pub last_modified: JsDate,
    pub etag: String,
    #[serde(default)]
    pub content_length: u64,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    #[serde(rename = "contentMD5")]
    pub content_md5: Option<JsBytes>,
    pub content_disposition: Option<String>,
    pub cache_control: Option<String>,
    pub blob_sequence_number: Option<u64>,
    pub blob_type: String,
    pub lease_state: Option<String>,
    pub lease_duration: Option<String>,
    pub copy_id: Option<String>,
    pub copy_status: Option<String>,
    pub copy_source: Option<String>,
    pub copy_progress: Option<String>,
    pub copy_completion_time: Option<JsDate>,
    pub copy_status_description: Option<String>,
    pub incremental_copy: Option<bool>,
    pub access_tier: Option<String>,
    pub access_tier_inferred: Option<bool>,
    pub access_tier_change_time: Option<JsDate>,
    pub archive_status: Option<String>,
    pub rehydrate_priority: Option<String>,
    pub is_sealed: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TagDoc {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagsDoc {
    #[serde(default)]
    pub blob_tag_set: Vec<TagDoc>,
}

/// A block: in a blob's `committedBlocksInOrder` (an append blob's appended blocks too, with
/// empty names), or alone in the blocks collection (uncommitted ones).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockDoc {
    #[serde(default)]
    pub account_name: String,
    #[serde(default)]
    pub container_name: String,
    #[serde(default)]
    pub blob_name: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub size: u64,
    pub persistency: Persistency,
    #[serde(default)]
    pub is_committed: bool,
    #[serde(default)]
    pub meta: Meta,
}

/// A written page range, both ends inclusive.
#[derive(Debug, Clone, Deserialize)]
pub struct PageRangeDoc {
    pub start: u64,
    pub end: u64,
    pub persistency: Persistency,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobDoc {
    pub account_name: String,
    pub container_name: String,
    pub name: String,
    #[serde(default)]
    pub snapshot: String,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default = "yes")]
    pub is_committed: bool,
    pub properties: BlobPropsDoc,
    #[serde(default)]
    pub metadata: Option<Pairs>,
    #[serde(default)]
    pub blob_tags: Option<TagsDoc>,
    pub persistency: Option<Persistency>,
    #[serde(default)]
    pub committed_blocks_in_order: Option<Vec<BlockDoc>>,
    #[serde(default)]
    pub page_ranges_in_order: Option<Vec<PageRangeDoc>>,
    #[serde(flatten)]
    pub lease: LeaseDoc,
}

fn yes() -> bool {
    true
}

/// An extent file: `locationId` names the folder (Azurite's command line has only `Default`,
/// `__blobstorage__` or `__queuestorage__`), `path` the file in it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtentDoc {
    pub id: String,
    pub location_id: Option<String>,
    pub path: Option<String>,
}
