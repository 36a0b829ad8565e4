//! Tables of the Table service and their ACLs. Entities live in `entities.rs`.

use rusqlite::{params, Connection, OptionalExtension};

use crate::codec::{decode_acl, encode_acl};
use crate::{Result, SignedIdentifier, Store, StoreError, TableInfo};

/// Table listing gives up after this many names rejected by the filter and returns a
/// continuation, so one request never walks an unbounded number of tables.
const MAX_TABLES_SCANNED: usize = 10_000;

/// Table names are case-insensitive (they are ASCII alphanumerics, so ASCII folding suffices).
fn table_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The row id of a table, for entity operations.
pub(crate) fn table_id(conn: &Connection, account: &str, name: &str) -> Result<i64> {
    let mut st = conn.prepare_cached("SELECT id FROM tables WHERE account = ?1 AND key = ?2")?;
    st.query_row(params![account, table_key(name)], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::TableNotFound)
}

fn find_table(conn: &Connection, account: &str, name: &str) -> Result<(i64, String, Vec<u8>)> {
    let mut st =
        conn.prepare_cached("SELECT id, name, acl FROM tables WHERE account = ?1 AND key = ?2")?;
    st.query_row(params![account, table_key(name)], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .optional()?
    .ok_or(StoreError::TableNotFound)
}

impl Store {
    /// Creates a table; `TableAlreadyExists` if one of the same name in any case exists.
    pub fn create_table(&self, account: &str, name: &str) -> Result<TableInfo> {
        let (account, name) = (account.to_owned(), name.to_owned());
        self.core().writer.submit(Vec::new(), move |c| {
            let mut st = c.prepare_cached(
                "INSERT INTO tables (account, key, name, acl) VALUES (?1, ?2, ?3, x'')
                 ON CONFLICT (account, key) DO NOTHING",
            )?;
            if st.execute(params![account, table_key(&name), name])? == 0 {
                return Err(StoreError::TableAlreadyExists);
            }
            Ok(TableInfo { name })
        })
    }

    /// Deletes a table with its entities (falling back on the disk reserve when full).
    pub fn delete_table(&self, account: &str, name: &str) -> Result<()> {
        self.freeing_space(|| self.delete_table_once(account, name))
    }

    /// Deletes a table and, in the same transaction, all its entities.
    fn delete_table_once(&self, account: &str, name: &str) -> Result<()> {
        let (account, name) = (account.to_owned(), name.to_owned());
        self.core().writer.submit(Vec::new(), move |c| {
            let id = table_id(c, &account, &name)?;
            // Explicit rather than relying on the foreign-key cascade being enabled.
            c.prepare_cached("DELETE FROM entities WHERE table_id = ?1")?
                .execute([id])?;
            c.prepare_cached("DELETE FROM tables WHERE id = ?1")?
                .execute([id])?;
            Ok(())
        })
    }

    pub fn get_table(&self, account: &str, name: &str) -> Result<TableInfo> {
        self.core().readers.read(|c| {
            let (_, name, _) = find_table(c, account, name)?;
            Ok(TableInfo { name })
        })
    }

    /// Lists tables in name order (case-insensitive), starting at `start_after_or_at` (the
    /// previous page's NextTableName, inclusive). `filter` sees each name; the page ends after
    /// `limit` matches or a bounded number of rejected names, with the next name to continue at.
    pub fn list_tables(
        &self,
        account: &str,
        start_after_or_at: Option<&str>,
        limit: u32,
        filter: &dyn Fn(&str) -> bool,
    ) -> Result<(Vec<TableInfo>, Option<String>)> {
        let start = table_key(start_after_or_at.unwrap_or(""));
        let limit = limit.max(1) as usize;
        self.core().readers.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT name FROM tables WHERE account = ?1 AND key >= ?2 ORDER BY key",
            )?;
            let mut rows = st.query(params![account, start])?;
            let (mut page, mut rejected) = (Vec::new(), 0usize);
            while let Some(r) = rows.next()? {
                let name: String = r.get(0)?;
                if page.len() == limit || rejected == MAX_TABLES_SCANNED {
                    return Ok((page, Some(name)));
                }
                if filter(&name) {
                    page.push(TableInfo { name });
                } else {
                    rejected += 1;
                }
            }
            Ok((page, None))
        })
    }

    /// The table's stored access policies.
    pub fn get_table_acl(&self, account: &str, name: &str) -> Result<Vec<SignedIdentifier>> {
        self.core().readers.read(|c| {
            let (_, _, acl) = find_table(c, account, name)?;
            decode_acl(&acl)
        })
    }

    /// Replaces the table's stored access policies.
    pub fn set_table_acl(&self, account: &str, name: &str, ids: &[SignedIdentifier]) -> Result<()> {
        let (account, name, acl) = (account.to_owned(), name.to_owned(), encode_acl(ids));
        self.core().writer.submit(Vec::new(), move |c| {
            let id = table_id(c, &account, &name)?;
            c.prepare_cached("UPDATE tables SET acl = ?2 WHERE id = ?1")?
                .execute(params![id, acl])?;
            Ok(())
        })
    }
}
