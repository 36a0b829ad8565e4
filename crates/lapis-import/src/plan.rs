//! From Azurite's documents to what the engine will store: every object checked first (its
//! container or queue exists, its bytes lie within their extent file, its sizes add up), so
//! that a damaged source is refused before anything is written.

use std::collections::{BTreeSet, HashMap};

use lapis_store::{
    AccessTier, BlobHttpProps, BlobProps, BlobType, ContainerProps, CopyProps, EntityRecord, Lease,
    PublicAccess, QueueMessage, SignedIdentifier,
};
use time::OffsetDateTime;

use crate::model::*;
use crate::source::{Problem, Source, BLOB_DB, QUEUE_DB, TABLE_DB};

/// Bytes to copy from an extent file, and when they were staged (blocks).
#[derive(Debug, Clone)]
pub struct Piece {
    pub at: Persistency,
    pub id: String,
    pub created: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub enum ContentPlan {
    /// No bytes.
    Empty,
    /// One Put Blob's bytes.
    Whole(Persistency),
    /// Runs at their blob offsets: appended blocks, written page ranges.
    Runs(Vec<(u64, Persistency)>),
    /// Committed blocks in order.
    Blocks(Vec<Piece>),
}

#[derive(Debug, Clone)]
pub struct BlobPlan {
    pub account: String,
    pub container: String,
    pub props: BlobProps,
    pub committed: bool,
    pub tags: Vec<(String, String)>,
    pub content: ContentPlan,
    /// The base blob's uncommitted blocks (`None` for snapshots).
    pub uncommitted: Option<Vec<Piece>>,
}

impl BlobPlan {
    /// `account/container/blob[?snapshot=...]`, for messages.
    pub fn label(&self) -> String {
        match &self.props.snapshot {
            Some(s) => format!(
                "{}/{}/{}?snapshot={s}",
                self.account, self.container, self.props.name
            ),
            None => format!("{}/{}/{}", self.account, self.container, self.props.name),
        }
    }

    /// Bytes to copy if the content is written.
    pub fn bytes(&self) -> u64 {
        let content = match &self.content {
            ContentPlan::Empty => 0,
            ContentPlan::Whole(p) => p.count,
            ContentPlan::Runs(runs) => runs.iter().map(|(_, p)| p.count).sum(),
            ContentPlan::Blocks(blocks) => blocks.iter().map(|b| b.at.count).sum(),
        };
        content
            + self
                .uncommitted
                .iter()
                .flatten()
                .map(|b| b.at.count)
                .sum::<u64>()
    }

    /// Every extent range the blob reads.
    pub fn pieces(&self) -> Vec<&Persistency> {
        let mut out: Vec<&Persistency> = match &self.content {
            ContentPlan::Empty => Vec::new(),
            ContentPlan::Whole(p) => vec![p],
            ContentPlan::Runs(runs) => runs.iter().map(|(_, p)| p).collect(),
            ContentPlan::Blocks(blocks) => blocks.iter().map(|b| &b.at).collect(),
        };
        out.extend(self.uncommitted.iter().flatten().map(|b| &b.at));
        out
    }
}

#[derive(Debug, Clone)]
pub struct ContainerPlan {
    pub account: String,
    pub props: ContainerProps,
    pub acl: Vec<SignedIdentifier>,
}

pub struct TablePlan {
    pub account: String,
    pub name: String,
    pub acl: Vec<SignedIdentifier>,
    pub entities: Vec<EntityRecord>,
    /// Entities with an untyped integer past Int32's range (stored as Int64).
    pub widened: usize,
}

pub struct QueuePlan {
    pub account: String,
    pub name: String,
    pub metadata: Vec<(String, String)>,
    pub acl: Vec<SignedIdentifier>,
    /// Each message without its text, and where the text is.
    pub messages: Vec<(QueueMessage, Persistency)>,
}

/// Service properties: `key` is the account for the Blob service, `table:account` or
/// `queue:account` for the others (as Lapis stores them).
pub struct ServicePlan {
    pub key: String,
    pub xml: String,
}

/// Something valid that is deliberately not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub object: String,
    pub why: String,
}

#[derive(Default)]
pub struct Plan {
    pub services: Vec<ServicePlan>,
    pub containers: Vec<ContainerPlan>,
    pub blobs: Vec<BlobPlan>,
    pub tables: Vec<TablePlan>,
    pub queues: Vec<QueuePlan>,
    pub skipped: Vec<Skipped>,
    pub accounts: BTreeSet<String>,
}

fn problem(file: &str, object: String, what: impl Into<String>) -> Problem {
    Problem {
        file: file.into(),
        object: Some(object),
        what: what.into(),
    }
}

fn blob_type(name: &str) -> Option<BlobType> {
    match name {
        "BlockBlob" => Some(BlobType::BlockBlob),
        "PageBlob" => Some(BlobType::PageBlob),
        "AppendBlob" => Some(BlobType::AppendBlob),
        _ => None,
    }
}

fn public_access(value: Option<&str>) -> Result<PublicAccess, String> {
    match value {
        None | Some("") => Ok(PublicAccess::None),
        Some("blob") => Ok(PublicAccess::Blob),
        Some("container") => Ok(PublicAccess::Container),
        Some(other) => Err(format!("unknown public access level {other:?}")),
    }
}

fn container_plan(doc: &ContainerDoc) -> Result<ContainerPlan, String> {
    let p = &doc.properties;
    let last_modified = p.last_modified.0;
    Ok(ContainerPlan {
        account: doc.account_name.clone(),
        props: ContainerProps {
            name: doc.name.clone(),
            etag: bare_etag(&p.etag),
            last_modified,
            // Azurite keeps no creation time for containers: the time its document was made.
            created: doc.meta.created().unwrap_or(last_modified),
            metadata: doc.metadata.clone().unwrap_or_default().0,
            public_access: public_access(p.public_access.as_deref())?,
            has_immutability_policy: false,
            has_legal_hold: false,
            lease: lease(
                p.lease_state.as_deref(),
                p.lease_duration.as_deref(),
                &doc.lease,
            )?,
            deleted: None,
        },
        acl: signed_identifiers(&doc.container_acl),
    })
}

/// The engine's properties for a blob document.
fn blob_props(doc: &BlobDoc, kind: BlobType) -> Result<BlobProps, String> {
    let p = &doc.properties;
    let last_modified = p.last_modified.0;
    let snapshot = Some(doc.snapshot.clone()).filter(|s| !s.is_empty());
    let lease = match snapshot {
        Some(_) => Lease::default(),
        None => lease(
            p.lease_state.as_deref(),
            p.lease_duration.as_deref(),
            &doc.lease,
        )?,
    };
    let access_tier = match (&p.access_tier, p.access_tier_inferred) {
        // An inferred tier is the account's default, which Lapis infers too.
        (_, Some(true)) | (None, _) => None,
        (Some(t), _) => Some((
            AccessTier::from_name(t).ok_or_else(|| format!("unknown access tier {t:?}"))?,
            p.access_tier_change_time
                .as_ref()
                .map_or(last_modified, |d| d.0),
        )),
    };
    let tags = doc.blob_tags.as_ref().map_or(0, |t| t.blob_tag_set.len());
    let committed_block_count = match (&doc.committed_blocks_in_order, kind) {
        (Some(blocks), BlobType::BlockBlob | BlobType::AppendBlob) => blocks.len() as u32,
        _ => 0,
    };
    Ok(BlobProps {
        last_modified,
        created: p.creation_time.as_ref().map_or(last_modified, |d| d.0),
        size: p.content_length,
        http: BlobHttpProps {
            content_type: p.content_type.clone(),
            content_encoding: p.content_encoding.clone(),
            content_language: p.content_language.clone(),
            content_disposition: p.content_disposition.clone(),
            cache_control: p.cache_control.clone(),
            content_md5: p.content_md5.as_ref().map(|m| m.0.clone()),
        },
        metadata: doc.metadata.clone().unwrap_or_default().0,
        committed_block_count,
        access_tier,
        snapshot,
        lease,
        sealed: p.is_sealed.unwrap_or(false),
        sequence_number: p.blob_sequence_number.unwrap_or(0),
        copy: p.copy_id.as_ref().map(|id| CopyProps {
            id: id.clone(),
            status: p.copy_status.clone().unwrap_or_default(),
            source: p.copy_source.clone().unwrap_or_default(),
            progress: p.copy_progress.clone().unwrap_or_default(),
            completed: p.copy_completion_time.as_ref().map(|d| d.0),
            status_description: p.copy_status_description.clone(),
        }),
        incremental_copy: p.incremental_copy.unwrap_or(false),
        archive_status: p.archive_status.clone(),
        rehydrate_priority: p.rehydrate_priority.clone(),
        tag_count: tags as u32,
        ..BlobProps::new(doc.name.clone(), kind, bare_etag(&p.etag), last_modified)
    })
}

fn block_created(b: &BlockDoc, fallback: OffsetDateTime) -> OffsetDateTime {
    b.meta.created().unwrap_or(fallback)
}

/// What the blob's bytes are, with its sizes checked.
fn content_plan(doc: &BlobDoc, kind: BlobType, props: &BlobProps) -> Result<ContentPlan, String> {
    let size = props.size;
    let blocks = doc.committed_blocks_in_order.as_deref().unwrap_or(&[]);
    let sum = |it: &mut dyn Iterator<Item = u64>| it.sum::<u64>();
    let plan = match kind {
        BlobType::BlockBlob if !blocks.is_empty() => ContentPlan::Blocks(
            blocks
                .iter()
                .map(|b| Piece {
                    at: b.persistency.clone(),
                    id: b.name.clone(),
                    created: block_created(b, props.last_modified),
                })
                .collect(),
        ),
        BlobType::BlockBlob => match &doc.persistency {
            Some(p) => ContentPlan::Whole(p.clone()),
            None if size == 0 => ContentPlan::Empty,
            None => return Err(format!("a block blob of {size} bytes with no content")),
        },
        BlobType::AppendBlob => {
            let mut at = 0;
            let mut runs = Vec::new();
            for b in blocks {
                runs.push((at, b.persistency.clone()));
                at += b.persistency.count;
            }
            ContentPlan::Runs(runs)
        }
        BlobType::PageBlob => {
            let mut ranges: Vec<&PageRangeDoc> =
                doc.page_ranges_in_order.iter().flatten().collect();
            ranges.sort_by_key(|r| r.start);
            let mut end = 0;
            let mut runs = Vec::new();
            for r in ranges {
                if r.end < r.start || r.end - r.start + 1 != r.persistency.count {
                    return Err(format!(
                        "page range {}-{} holds {} bytes",
                        r.start, r.end, r.persistency.count
                    ));
                }
                if r.start < end || r.end >= size {
                    return Err(format!(
                        "page range {}-{} overlaps another or lies past the blob's {size} bytes",
                        r.start, r.end
                    ));
                }
                end = r.end + 1;
                runs.push((r.start, r.persistency.clone()));
            }
            ContentPlan::Runs(runs)
        }
    };
    let stored = match &plan {
        ContentPlan::Empty => 0,
        ContentPlan::Whole(p) => p.count,
        ContentPlan::Runs(runs) => sum(&mut runs.iter().map(|(_, p)| p.count)),
        ContentPlan::Blocks(b) => sum(&mut b.iter().map(|b| b.at.count)),
    };
    if kind != BlobType::PageBlob && stored != size {
        return Err(format!(
            "its content is {stored} bytes but its length says {size}"
        ));
    }
    Ok(plan)
}

impl Plan {
    /// Checks everything read and makes the plan; problems found go to `src.problems`.
    pub fn make(src: &mut Source, now: OffsetDateTime) -> Plan {
        let mut plan = Plan::default();
        let mut lengths: HashMap<String, u64> = HashMap::new();
        let mut problems = Vec::new();

        // Service properties, all three services.
        for (docs, prefix) in [
            (&src.blob_services, ""),
            (&src.table_services, "table:"),
            (&src.queue_services, "queue:"),
        ] {
            for d in docs {
                plan.accounts.insert(d.account_name.clone());
                plan.services.push(ServicePlan {
                    key: format!("{prefix}{}", d.account_name),
                    xml: d.to_xml(),
                });
            }
        }

        // Containers.
        let mut containers: BTreeSet<(String, String)> = BTreeSet::new();
        for doc in &src.containers {
            match container_plan(doc) {
                Ok(c) => {
                    containers.insert((c.account.clone(), c.props.name.clone()));
                    plan.accounts.insert(c.account.clone());
                    plan.containers.push(c);
                }
                Err(e) => problems.push(problem(
                    BLOB_DB,
                    format!("container {}/{}", doc.account_name, doc.name),
                    e,
                )),
            }
        }

        // Uncommitted blocks by blob, in staging order.
        let mut staged: HashMap<(String, String, String), Vec<Piece>> = HashMap::new();
        for b in src.blocks.iter().filter(|b| !b.is_committed) {
            staged
                .entry((
                    b.account_name.clone(),
                    b.container_name.clone(),
                    b.blob_name.clone(),
                ))
                .or_default()
                .push(Piece {
                    at: b.persistency.clone(),
                    id: b.name.clone(),
                    created: block_created(b, now),
                });
        }

        // Blobs and snapshots.
        for doc in &src.blobs {
            let label = match doc.snapshot.as_str() {
                "" => format!(
                    "blob {}/{}/{}",
                    doc.account_name, doc.container_name, doc.name
                ),
                s => format!(
                    "blob {}/{}/{}?snapshot={s}",
                    doc.account_name, doc.container_name, doc.name
                ),
            };
            if doc.deleted {
                plan.skipped.push(Skipped {
                    object: label,
                    why: "marked deleted in Azurite".into(),
                });
                continue;
            }
            if !containers.contains(&(doc.account_name.clone(), doc.container_name.clone())) {
                problems.push(problem(
                    BLOB_DB,
                    label,
                    "its container is not in the database",
                ));
                continue;
            }
            let Some(kind) = blob_type(&doc.properties.blob_type) else {
                problems.push(problem(
                    BLOB_DB,
                    label,
                    format!("unknown blob type {:?}", doc.properties.blob_type),
                ));
                continue;
            };
            let made = blob_props(doc, kind).and_then(|props| {
                let content = if doc.is_committed {
                    content_plan(doc, kind, &props)?
                } else {
                    ContentPlan::Empty
                };
                Ok((props, content))
            });
            let (props, content) = match made {
                Ok(v) => v,
                Err(e) => {
                    problems.push(problem(BLOB_DB, label, e));
                    continue;
                }
            };
            let uncommitted = match props.snapshot {
                Some(_) => None,
                None => Some(
                    staged
                        .remove(&(
                            doc.account_name.clone(),
                            doc.container_name.clone(),
                            doc.name.clone(),
                        ))
                        .unwrap_or_default(),
                ),
            };
            if !doc.is_committed && uncommitted.as_ref().is_none_or(|u| u.is_empty()) {
                plan.skipped.push(Skipped {
                    object: label,
                    why: "a blob that was never committed and has no staged blocks left".into(),
                });
                continue;
            }
            let blob = BlobPlan {
                account: doc.account_name.clone(),
                container: doc.container_name.clone(),
                props,
                committed: doc.is_committed,
                tags: doc
                    .blob_tags
                    .iter()
                    .flat_map(|t| &t.blob_tag_set)
                    .map(|t| (t.key.clone(), t.value.clone()))
                    .collect(),
                content,
                uncommitted,
            };
            let bad = blob
                .pieces()
                .into_iter()
                .find_map(|p| src.blob_extents.check(p, &mut lengths).err());
            match bad {
                Some(e) => problems.push(problem(BLOB_DB, label, e)),
                None => plan.blobs.push(blob),
            }
        }
        for ((account, container, blob), blocks) in staged {
            plan.skipped.push(Skipped {
                object: format!("blob {account}/{container}/{blob}"),
                why: format!(
                    "{} staged blocks of a blob Azurite has no record of",
                    blocks.len()
                ),
            });
        }

        // Tables and their entities.
        for doc in &src.tables {
            let collection = format!("{}${}", doc.account, doc.table);
            let entities = src.entities.remove(&collection).unwrap_or_default();
            plan.accounts.insert(doc.account.clone());
            plan.tables.push(TablePlan {
                account: doc.account.clone(),
                name: doc.table.clone(),
                acl: signed_identifiers(&doc.table_acl),
                widened: entities.iter().filter(|e| e.widened > 0).count(),
                entities: entities.into_iter().map(|e| e.record).collect(),
            });
        }
        let mut orphans: Vec<_> = src.entities.drain().collect();
        orphans.sort_by(|a, b| a.0.cmp(&b.0));
        for (collection, entities) in orphans {
            problems.push(problem(
                TABLE_DB,
                format!("table collection {collection}"),
                format!(
                    "{} entities of a table that is not in the tables collection",
                    entities.len()
                ),
            ));
        }

        // Queues and their messages.
        let mut by_queue: HashMap<(String, String), Vec<&MessageDoc>> = HashMap::new();
        for m in &src.messages {
            by_queue
                .entry((m.account_name.clone(), m.queue_name.clone()))
                .or_default()
                .push(m);
        }
        for doc in &src.queues {
            plan.accounts.insert(doc.account_name.clone());
            let mut messages = Vec::new();
            for m in by_queue
                .remove(&(doc.account_name.clone(), doc.name.clone()))
                .unwrap_or_default()
            {
                let label = format!(
                    "message {} of queue {}/{}",
                    m.message_id, doc.account_name, doc.name
                );
                let expires = Some(m.expiration_time.0).filter(|t| !never_expires(*t));
                if expires.is_some_and(|t| t <= now) {
                    plan.skipped.push(Skipped {
                        object: label,
                        why: "expired".into(),
                    });
                    continue;
                }
                if let Err(e) = src.queue_extents.check(&m.persistency, &mut lengths) {
                    problems.push(problem(QUEUE_DB, label, e));
                    continue;
                }
                messages.push((
                    QueueMessage {
                        id: m.message_id.clone(),
                        inserted: m.insertion_time.0,
                        expires,
                        next_visible: m.time_next_visible.0,
                        dequeue_count: m.dequeue_count,
                        pop_receipt: m.pop_receipt.clone(),
                        text: String::new(),
                    },
                    m.persistency.clone(),
                ));
            }
            plan.queues.push(QueuePlan {
                account: doc.account_name.clone(),
                name: doc.name.clone(),
                metadata: doc.metadata.clone().unwrap_or_default().0,
                acl: signed_identifiers(&doc.queue_acl),
                messages,
            });
        }
        let mut orphans: Vec<_> = by_queue.into_iter().collect();
        orphans.sort_by(|a, b| a.0.cmp(&b.0));
        for ((account, queue), messages) in orphans {
            problems.push(problem(
                QUEUE_DB,
                format!("queue {account}/{queue}"),
                format!(
                    "{} messages of a queue that is not in the queues collection",
                    messages.len()
                ),
            ));
        }
        src.problems.append(&mut problems);
        plan
    }
}
