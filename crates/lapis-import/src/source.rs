//! Reading an Azurite data folder: its five LokiJS databases into documents, and where their
//! bytes are in the extent folders. Everything is opened read-only; what cannot be read is a
//! `Problem` naming the file and what is wrong.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use lapis_store::EntityRecord;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::entity;
use crate::loki::{self, LokiError};
use crate::model::*;

pub const BLOB_DB: &str = "__azurite_db_blob__.json";
pub const BLOB_EXTENT_DB: &str = "__azurite_db_blob_extent__.json";
pub const QUEUE_DB: &str = "__azurite_db_queue__.json";
pub const QUEUE_EXTENT_DB: &str = "__azurite_db_queue_extent__.json";
pub const TABLE_DB: &str = "__azurite_db_table__.json";
pub const BLOB_FILES: &str = "__blobstorage__";
pub const QUEUE_FILES: &str = "__queuestorage__";

/// Something in the source that cannot be imported as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The database file (or extent folder) concerned.
    pub file: String,
    /// The object concerned, when it is one object.
    pub object: Option<String>,
    pub what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.object {
            Some(o) => write!(f, "{}: {}: {}", self.file, o, self.what),
            None => write!(f, "{}: {}", self.file, self.what),
        }
    }
}

/// The extent files of one service: id to file.
#[derive(Debug, Default)]
pub struct Extents {
    dir: PathBuf,
    files: HashMap<String, PathBuf>,
}

impl Extents {
    /// The file holding extent `id`: where the extent database says, else by its id in the
    /// service's folder (Azurite names extent files by their ids).
    pub fn path(&self, id: &str) -> PathBuf {
        self.files
            .get(id)
            .cloned()
            .unwrap_or_else(|| self.dir.join(id))
    }

    /// Checks that `p` lies within its extent file; the file's length is looked up once.
    pub fn check(&self, p: &Persistency, lengths: &mut HashMap<String, u64>) -> Result<(), String> {
        let len = match lengths.get(&p.id) {
            Some(l) => *l,
            None => {
                let path = self.path(&p.id);
                let l = std::fs::metadata(&path)
                    .map_err(|e| format!("extent file {} cannot be read: {e}", path.display()))?
                    .len();
                lengths.insert(p.id.clone(), l);
                l
            }
        };
        if p.offset.checked_add(p.count).is_none_or(|end| end > len) {
            return Err(format!(
                "bytes {}..{} of extent {} are past its end ({len} bytes)",
                p.offset,
                p.offset.saturating_add(p.count),
                p.id
            ));
        }
        Ok(())
    }
}

/// What `Source::read_db` hands each document to: its collection, index, raw JSON, and the
/// list its problems go to.
type EachDocument<'a> = &'a mut dyn FnMut(&str, usize, &RawValue, &mut Vec<Problem>);

/// An entity ready for the engine, or why it is not.
pub struct EntityRead {
    pub record: EntityRecord,
    /// Properties whose untyped integers were widened to Int64.
    pub widened: usize,
}

/// Everything read from the folder.
#[derive(Default)]
pub struct Source {
    pub folder: PathBuf,
    /// The database files present.
    pub found: Vec<&'static str>,
    pub blob_services: Vec<ServiceDoc>,
    pub containers: Vec<ContainerDoc>,
    pub blobs: Vec<BlobDoc>,
    /// Uncommitted blocks.
    pub blocks: Vec<BlockDoc>,
    pub blob_extents: Extents,
    pub table_services: Vec<ServiceDoc>,
    pub tables: Vec<TableDoc>,
    /// Entities by collection (`account$table`), in stored order.
    pub entities: HashMap<String, Vec<EntityRead>>,
    pub queue_services: Vec<ServiceDoc>,
    pub queues: Vec<QueueDoc>,
    pub messages: Vec<MessageDoc>,
    pub queue_extents: Extents,
    pub problems: Vec<Problem>,
}

fn parse<T: DeserializeOwned>(
    raw: &RawValue,
    file: &str,
    collection: &str,
    index: usize,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match serde_json::from_str(raw.get()) {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(Problem {
                file: file.into(),
                object: Some(format!("{collection} document {}", index + 1)),
                what: e.to_string(),
            });
            None
        }
    }
}

impl Source {
    /// Reads the folder. Fails only when it is not an Azurite folder at all; damage inside is
    /// recorded in `problems`.
    pub fn read(folder: &Path, on_file: &mut dyn FnMut(&str)) -> Result<Source, String> {
        let meta = std::fs::metadata(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        if !meta.is_dir() {
            return Err(format!("{} is not a folder", folder.display()));
        }
        let mut src = Source {
            folder: folder.to_path_buf(),
            blob_extents: Extents {
                dir: folder.join(BLOB_FILES),
                ..Default::default()
            },
            queue_extents: Extents {
                dir: folder.join(QUEUE_FILES),
                ..Default::default()
            },
            ..Default::default()
        };
        for name in [BLOB_DB, BLOB_EXTENT_DB, TABLE_DB, QUEUE_DB, QUEUE_EXTENT_DB] {
            if folder.join(name).exists() {
                src.found.push(name);
            }
        }
        if src.found.is_empty() {
            return Err(format!(
                "{} holds no Azurite database ({BLOB_DB}, {TABLE_DB}, {QUEUE_DB}...): is it \
                 the folder given to Azurite's --location?",
                folder.display()
            ));
        }
        for name in src.found.clone() {
            on_file(name);
            match name {
                BLOB_DB => src.read_blob_db(),
                BLOB_EXTENT_DB => src.read_extent_db(name, true),
                QUEUE_EXTENT_DB => src.read_extent_db(name, false),
                TABLE_DB => src.read_table_db(),
                QUEUE_DB => src.read_queue_db(),
                _ => {}
            }
        }
        Ok(src)
    }

    fn read_db(&mut self, file: &'static str, each: EachDocument<'_>) {
        let mut problems = Vec::new();
        let read = loki::read_file(&self.folder.join(file), &mut |c, i, raw| {
            each(c, i, raw, &mut problems)
        });
        self.problems.append(&mut problems);
        if let Some(e) = read.error {
            let read_docs: usize = read.collections.iter().map(|(_, n)| n).sum();
            let what = match &e {
                LokiError::Damaged { .. } => format!(
                    "{e}; the {read_docs} documents before that place were read, the rest of the file is lost"
                ),
                _ => e.to_string(),
            };
            self.problems.push(Problem {
                file: file.into(),
                object: None,
                what,
            });
        }
    }

    fn read_blob_db(&mut self) {
        let (mut services, mut containers, mut blobs, mut blocks) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        self.read_db(BLOB_DB, &mut |c, i, raw, problems| match c {
            "$SERVICES_COLLECTION$" => services.extend(parse(raw, BLOB_DB, c, i, problems)),
            "$CONTAINERS_COLLECTION$" => containers.extend(parse(raw, BLOB_DB, c, i, problems)),
            "$BLOBS_COLLECTION$" => blobs.extend(parse(raw, BLOB_DB, c, i, problems)),
            "$BLOCKS_COLLECTION$" => blocks.extend(parse(raw, BLOB_DB, c, i, problems)),
            _ => {}
        });
        (self.blob_services, self.containers, self.blobs, self.blocks) =
            (services, containers, blobs, blocks);
    }

    fn read_extent_db(&mut self, file: &'static str, blob: bool) {
        let mut docs: Vec<ExtentDoc> = Vec::new();
        self.read_db(file, &mut |c, i, raw, problems| {
            if c == "$EXTENTS_COLLECTION$" {
                docs.extend(parse(raw, file, c, i, problems));
            }
        });
        let extents = if blob {
            &mut self.blob_extents
        } else {
            &mut self.queue_extents
        };
        for d in docs {
            // Azurite's command line keeps every extent in the one `Default` location.
            if d.location_id.as_deref().is_some_and(|l| l != "Default") {
                self.problems.push(Problem {
                    file: file.into(),
                    object: Some(format!("extent {}", d.id)),
                    what: format!(
                        "in location {:?}, which Azurite's command line does not make; looked for in {}",
                        d.location_id.unwrap_or_default(),
                        extents.dir.display()
                    ),
                });
                continue;
            }
            let path = extents.dir.join(d.path.as_deref().unwrap_or(&d.id));
            extents.files.insert(d.id, path);
        }
    }

    fn read_table_db(&mut self) {
        let (mut services, mut tables) = (Vec::new(), Vec::new());
        let mut entities: HashMap<String, Vec<EntityRead>> = HashMap::new();
        self.read_db(TABLE_DB, &mut |c, i, raw, problems| match c {
            "$TABLES_COLLECTION$" => tables.extend(parse(raw, TABLE_DB, c, i, problems)),
            "$SERVICES_COLLECTION$" => services.extend(parse(raw, TABLE_DB, c, i, problems)),
            _ if c.starts_with('$') => {}
            _ => {
                let Some(doc) = parse::<EntityDoc>(raw, TABLE_DB, c, i, problems) else {
                    return;
                };
                match entity_record(doc) {
                    Ok(e) => entities.entry(c.to_string()).or_default().push(e),
                    Err((keys, what)) => problems.push(Problem {
                        file: TABLE_DB.into(),
                        object: Some(format!("table {c}: entity {keys}")),
                        what,
                    }),
                }
            }
        });
        (self.table_services, self.tables, self.entities) = (services, tables, entities);
    }

    fn read_queue_db(&mut self) {
        let (mut services, mut queues, mut messages) = (Vec::new(), Vec::new(), Vec::new());
        self.read_db(QUEUE_DB, &mut |c, i, raw, problems| match c {
            "$SERVICES_COLLECTION$" => services.extend(parse(raw, QUEUE_DB, c, i, problems)),
            "$QUEUES_COLLECTION$" => queues.extend(parse(raw, QUEUE_DB, c, i, problems)),
            "$MESSAGES_COLLECTION$" => messages.extend(parse(raw, QUEUE_DB, c, i, problems)),
            _ => {}
        });
        (self.queue_services, self.queues, self.messages) = (services, queues, messages);
    }
}

/// An entity document as the engine stores it: keys, exact timestamp, encoded properties.
fn entity_record(doc: EntityDoc) -> Result<EntityRead, (String, String)> {
    let keys = format!("({:?}, {:?})", doc.partition_key, doc.row_key);
    let stamp = doc
        .last_modified_time
        .clone()
        .or_else(|| {
            doc.properties
                .0
                .iter()
                .find(|(k, _)| k == "Timestamp")
                .and_then(|(_, v)| v.as_str().map(str::to_string))
        })
        .ok_or_else(|| (keys.clone(), "no timestamp".to_string()))?;
    let timestamp = parse_date(&stamp)
        .ok_or_else(|| (keys.clone(), format!("timestamp {stamp:?} is not a date")))?;
    let converted = entity::convert(&doc.properties.0).map_err(|e| (keys.clone(), e))?;
    Ok(EntityRead {
        widened: converted.widened.len(),
        record: EntityRecord {
            partition_key: doc.partition_key,
            row_key: doc.row_key,
            timestamp,
            properties: lapis_odata::encode_properties(&converted.properties),
        },
    })
}
