//! Reading a LokiJS database file as Azurite writes it (LokiJS 1.5, `serializationMethod:
//! "normal"`): one JSON document, `{"filename": ..., "collections": [{"name": ..., "data":
//! [document, ...], ...}, ...], ...}`.
//!
//! The file is read as a stream: each document of each collection is handed to a callback as
//! raw JSON as soon as it is parsed, so a large table never sits in memory as a tree, and a
//! file cut short (a crash while Azurite wrote it, a partial copy) still yields every document
//! before the damage, with the place of the damage.

use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Why a database file could not be read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LokiError {
    /// The file could not be opened or read.
    Io(String),
    /// Not a JSON document, or not a LokiJS database (no `collections` list).
    NotLoki(String),
    /// The JSON breaks off or is damaged at this place; what was read before it is kept.
    Damaged {
        line: usize,
        column: usize,
        what: String,
    },
}

impl fmt::Display for LokiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LokiError::Io(e) => write!(f, "cannot be read: {e}"),
            LokiError::NotLoki(e) => write!(f, "is not a LokiJS database: {e}"),
            LokiError::Damaged { line, column, what } => {
                write!(f, "is damaged at line {line}, column {column}: {what}")
            }
        }
    }
}

/// What was read of a database file.
#[derive(Debug, Default)]
pub struct LokiRead {
    /// The collections found, in file order, with their document counts.
    pub collections: Vec<(String, usize)>,
    /// Set when the file could not be read to its end; the documents before the damage were
    /// handed over all the same.
    pub error: Option<LokiError>,
}

/// Reads the database at `path`, calling `each(collection, index, document)` for every document
/// in file order. Nothing is written: the file is opened read-only.
pub fn read_file(path: &Path, each: &mut dyn FnMut(&str, usize, &RawValue)) -> LokiRead {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            return LokiRead {
                collections: Vec::new(),
                error: Some(LokiError::Io(e.to_string())),
            }
        }
    };
    read_from(
        serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 20, file)),
        each,
    )
}

/// `read_file` over text already in memory (the tests' fixtures).
pub fn read_str(text: &str, each: &mut dyn FnMut(&str, usize, &RawValue)) -> LokiRead {
    read_from(serde_json::Deserializer::from_str(text), each)
}

fn read_from<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    each: &mut dyn FnMut(&str, usize, &RawValue),
) -> LokiRead {
    let mut read = LokiRead::default();
    let outcome = Database {
        each,
        collections: &mut read.collections,
    }
    .deserialize(&mut de)
    .and_then(|found| {
        de.end()?;
        Ok(found)
    });
    read.error = match outcome {
        Ok(true) => None,
        Ok(false) => Some(LokiError::NotLoki("it has no \"collections\" list".into())),
        Err(e) => Some(classify(e, read.collections.is_empty())),
    };
    read
}

fn classify(e: serde_json::Error, nothing_read: bool) -> LokiError {
    use serde_json::error::Category;
    let (line, column) = (e.line(), e.column());
    let what = match e.classify() {
        Category::Eof => "the file ends in the middle of the data (truncated)".to_string(),
        Category::Io => return LokiError::Io(e.to_string()),
        _ => strip_position(&e.to_string()),
    };
    if nothing_read && line <= 1 && column <= 1 {
        return LokiError::NotLoki(what);
    }
    LokiError::Damaged { line, column, what }
}

/// serde_json's message without its own " at line L column C" (we say where ourselves).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// The top-level object; answers whether it had a `collections` list.
struct Database<'a, 'b> {
    each: &'a mut dyn FnMut(&str, usize, &RawValue),
    collections: &'b mut Vec<(String, usize)>,
}

impl<'de> DeserializeSeed<'de> for Database<'_, '_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Database<'_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a LokiJS database object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "collections" {
                map.next_value_seed(Collections {
                    each: &mut *self.each,
                    collections: &mut *self.collections,
                })?;
                found = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

struct Collections<'a, 'b> {
    each: &'a mut dyn FnMut(&str, usize, &RawValue),
    collections: &'b mut Vec<(String, usize)>,
}

impl<'de> DeserializeSeed<'de> for Collections<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Collections<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of collections")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let collection = Collection {
                each: &mut *self.each,
                collections: &mut *self.collections,
            };
            if seq.next_element_seed(collection)?.is_none() {
                return Ok(());
            }
        }
    }
}

/// One collection object. Its `name` comes before its `data` in what LokiJS writes; documents
/// met before the name are kept raw and handed over once the name is known.
struct Collection<'a, 'b> {
    each: &'a mut dyn FnMut(&str, usize, &RawValue),
    collections: &'b mut Vec<(String, usize)>,
}

impl<'de> DeserializeSeed<'de> for Collection<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Collection<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a collection object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut name: Option<String> = None;
        let mut early: Vec<Box<RawValue>> = Vec::new();
        let slot = self.collections.len();
        self.collections.push((String::new(), 0));
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => {
                    let n: String = map.next_value()?;
                    self.collections[slot].0 = n.clone();
                    for (i, doc) in early.drain(..).enumerate() {
                        (self.each)(&n, i, &doc);
                        self.collections[slot].1 += 1;
                    }
                    name = Some(n);
                }
                "data" => match &name {
                    Some(n) => map.next_value_seed(Documents {
                        name: n,
                        each: &mut *self.each,
                        count: &mut self.collections[slot].1,
                    })?,
                    None => early = map.next_value()?,
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if name.is_none() && !early.is_empty() {
            return Err(de::Error::custom(format!(
                "a collection has {} documents but no name",
                early.len()
            )));
        }
        Ok(())
    }
}

struct Documents<'a, 'b, 'c> {
    name: &'a str,
    each: &'b mut dyn FnMut(&str, usize, &RawValue),
    count: &'c mut usize,
}

impl<'de> DeserializeSeed<'de> for Documents<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Documents<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of documents")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(doc) = seq.next_element::<Box<RawValue>>()? {
            (self.each)(self.name, *self.count, &doc);
            *self.count += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str) -> (Vec<(String, usize, String)>, LokiRead) {
        let mut docs = Vec::new();
        let read = read_str(text, &mut |c, i, d| {
            docs.push((c.to_string(), i, d.get().to_string()))
        });
        (docs, read)
    }

    #[test]
    fn hands_over_every_document_of_every_collection_in_order() {
        let text = r#"{"filename":"x.json","collections":[
            {"name":"$A$","data":[{"a":1},{"a":2}],"idIndex":[1,2],"binaryIndices":{}},
            {"name":"$B$","data":[],"maxId":0},
            {"name":"t$T","data":[{"PartitionKey":"p","properties":{"x":[1,{"y":null}]}}]}
        ],"databaseVersion":1.5,"options":{"serializationMethod":"normal"}}"#;
        let (docs, read) = collect(text);
        assert_eq!(read.error, None);
        assert_eq!(
            read.collections,
            vec![("$A$".into(), 2), ("$B$".into(), 0), ("t$T".into(), 1)]
        );
        assert_eq!(docs[0], ("$A$".into(), 0, r#"{"a":1}"#.into()));
        assert_eq!(docs[1], ("$A$".into(), 1, r#"{"a":2}"#.into()));
        assert_eq!(docs[2].0, "t$T");
        assert!(docs[2].2.contains(r#""y":null"#));
    }

    #[test]
    fn documents_before_the_name_wait_for_it() {
        let (docs, read) = collect(r#"{"collections":[{"data":[{"n":1}],"name":"late"}]}"#);
        assert_eq!(read.error, None);
        assert_eq!(docs, vec![("late".into(), 0, r#"{"n":1}"#.into())]);
    }

    #[test]
    fn a_truncated_file_keeps_what_came_before_and_says_where() {
        let text = r#"{"collections":[{"name":"$A$","data":[{"a":1},{"a":2},{"a":"#;
        let (docs, read) = collect(text);
        assert_eq!(docs.len(), 2);
        match read.error {
            Some(LokiError::Damaged {
                line: 1,
                column,
                what,
            }) => {
                assert!(column > 40, "{column}");
                assert!(what.contains("truncated"), "{what}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_inside_is_damage_with_its_place() {
        let text = "{\"collections\":[{\"name\":\"$A$\",\"data\":[{\"a\":1},\n{\"a\" 2}]}]}";
        let (docs, read) = collect(text);
        assert_eq!(docs.len(), 1);
        match read.error {
            Some(LokiError::Damaged { line: 2, what, .. }) => {
                assert!(what.contains("expected"), "{what}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn not_a_database_is_said_so() {
        for text in ["", "[1,2]", "{\"a\":1}", "hello"] {
            let (docs, read) = collect(text);
            assert!(docs.is_empty());
            assert!(
                matches!(
                    read.error,
                    Some(LokiError::NotLoki(_)) | Some(LokiError::Damaged { .. })
                ),
                "{text:?}: {:?}",
                read.error
            );
        }
        let (_, read) = collect("{\"a\":1}");
        assert!(matches!(read.error, Some(LokiError::NotLoki(_))));
        let (_, read) = collect("");
        assert!(
            matches!(read.error, Some(LokiError::NotLoki(_))),
            "{:?}",
            read.error
        );
    }

    #[test]
    fn trailing_garbage_after_the_database_is_damage() {
        let (docs, read) = collect(r#"{"collections":[{"name":"A","data":[{"a":1}]}]} xyz"#);
        assert_eq!(docs.len(), 1);
        assert!(matches!(read.error, Some(LokiError::Damaged { .. })));
    }
}
