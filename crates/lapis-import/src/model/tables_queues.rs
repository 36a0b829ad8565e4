//! The table database (`__azurite_db_table__.json`) and the queue database
//! (`__azurite_db_queue__.json`).

use serde::Deserialize;
use time::OffsetDateTime;

use super::*;

// ---- Table database (`__azurite_db_table__.json`) ----

/// A table; its entities are the collection named `account$table`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableDoc {
    pub account: String,
    pub table: String,
    #[serde(default)]
    pub table_acl: Option<Vec<AclDoc>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityDoc {
    #[serde(rename = "PartitionKey")]
    pub partition_key: String,
    #[serde(rename = "RowKey")]
    pub row_key: String,
    pub properties: Ordered,
    pub last_modified_time: Option<String>,
}

// ---- Queue database (`__azurite_db_queue__.json`) ----

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueDoc {
    pub account_name: String,
    pub name: String,
    #[serde(default)]
    pub metadata: Option<Pairs>,
    #[serde(default)]
    pub queue_acl: Option<Vec<AclDoc>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDoc {
    pub account_name: String,
    pub queue_name: String,
    pub message_id: String,
    pub pop_receipt: String,
    pub time_next_visible: JsDate,
    pub insertion_time: JsDate,
    pub expiration_time: JsDate,
    #[serde(default)]
    pub dequeue_count: u64,
    pub persistency: Persistency,
}

/// Azurite's "never expires" (`messagettl=-1`): 9999-12-31T23:59:59.999Z.
pub fn never_expires(t: OffsetDateTime) -> bool {
    t.year() >= 9999
}
