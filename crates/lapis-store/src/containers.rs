//! Containers, their ACLs, and service properties.

use std::sync::LazyLock;

use rusqlite::{params, Connection, OptionalExtension, Row};
use time::OffsetDateTime;

use crate::blobs::lease_from_columns;
use crate::codec::{
    access_from_i64, access_to_i64, decode_acl, decode_metadata, encode_acl, encode_metadata,
    time_from_i64, time_to_i64,
};
use crate::conditions::check_container;
use crate::{
    Access, Conditions, ContainerDeletion, ContainerProps, DeleteRetention, Deletion,
    ListContainersPage, Metadata, PublicAccess, Result, SignedIdentifier, Store, StoreError,
};

const COLS: &str =
    "id, name, etag, last_modified, created, metadata, public_access, acl, lease_state, lease_id, \
     lease_duration, lease_until, deleted_version, deleted_at, purge_at";

pub(crate) struct ContainerRow {
    pub(crate) id: i64,
    pub(crate) props: ContainerProps,
    pub(crate) acl: Vec<SignedIdentifier>,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<(i64, ContainerProps, Vec<u8>, Vec<u8>)> {
    let props = ContainerProps {
        name: r.get(1)?,
        etag: r.get(2)?,
        last_modified: time_from_i64(r.get(3)?),
        created: time_from_i64(r.get(4)?),
        metadata: Vec::new(),
        public_access: access_from_i64(r.get(6)?),
        has_immutability_policy: false,
        has_legal_hold: false,
        lease: lease_from_columns(r, 8)?,
        deleted: deletion_from_columns(r, 12)?,
    };
    Ok((r.get(0)?, props, r.get(5)?, r.get(7)?))
}

/// The soft deletion of a container row (`deleted_version` non-empty), read at `first`.
fn deletion_from_columns(r: &Row<'_>, first: usize) -> rusqlite::Result<Option<ContainerDeletion>> {
    let version: String = r.get(first)?;
    if version.is_empty() {
        return Ok(None);
    }
    Ok(Some(ContainerDeletion {
        version,
        deletion: Deletion {
            deleted: time_from_i64(r.get::<_, Option<i64>>(first + 1)?.unwrap_or(0)),
            purge_at: time_from_i64(r.get::<_, Option<i64>>(first + 2)?.unwrap_or(0)),
        },
    }))
}

fn decode(raw: (i64, ContainerProps, Vec<u8>, Vec<u8>)) -> Result<ContainerRow> {
    let (id, mut props, metadata, acl) = raw;
    props.metadata = decode_metadata(&metadata)?;
    Ok(ContainerRow {
        id,
        props,
        acl: decode_acl(&acl)?,
    })
}

pub(crate) fn find_container(
    conn: &Connection,
    account: &str,
    name: &str,
) -> Result<Option<ContainerRow>> {
    // Built once: this runs on every blob request.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!("SELECT {COLS} FROM containers WHERE account = ?1 AND name = ?2 AND deleted_version = ''")
    });
    let mut st = conn.prepare_cached(&SQL)?;
    st.query_row(params![account, name], from_row)
        .optional()?
        .map(decode)
        .transpose()
}

pub(crate) fn load_container(conn: &Connection, account: &str, name: &str) -> Result<ContainerRow> {
    find_container(conn, account, name)?.ok_or(StoreError::ContainerNotFound)
}

/// Loads the container for a write and checks the preconditions against it; `lease` is how
/// strictly its lease applies (see `check_container`).
fn load_checked(
    conn: &Connection,
    account: &str,
    name: &str,
    cond: &Conditions,
    lease: Access,
) -> Result<ContainerRow> {
    let row = load_container(conn, account, name)?;
    check_container(cond, &row.props, lease)?;
    Ok(row)
}

impl Store {
    pub fn get_service_properties(&self, account: &str) -> Result<Option<String>> {
        let account = account.to_owned();
        self.core().readers.read(move |c| {
            let mut st =
                c.prepare_cached("SELECT xml FROM service_properties WHERE account = ?1")?;
            Ok(st.query_row([account], |r| r.get(0)).optional()?)
        })
    }

    pub fn set_service_properties(&self, account: &str, xml: &str) -> Result<()> {
        let (account, xml) = (account.to_owned(), xml.to_owned());
        self.core().writer.submit(Vec::new(), move |c| {
            let mut st = c.prepare_cached(
                "INSERT INTO service_properties (account, xml) VALUES (?1, ?2)
                 ON CONFLICT (account) DO UPDATE SET xml = excluded.xml",
            )?;
            st.execute([account, xml])?;
            Ok(())
        })
    }

    /// The Blob service's properties, and its DeleteRetentionPolicy (`None`: off), which the
    /// engine applies to every delete and overwrite of the account's blobs.
    pub fn set_blob_service_properties(
        &self,
        account: &str,
        xml: &str,
        retention: Option<DeleteRetention>,
    ) -> Result<()> {
        let (account, xml) = (account.to_owned(), xml.to_owned());
        self.core().writer.submit(Vec::new(), move |c| {
            let mut st = c.prepare_cached(
                "INSERT INTO service_properties (account, xml, soft_delete_days, allow_permanent_delete)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account) DO UPDATE SET xml = excluded.xml,
                 soft_delete_days = excluded.soft_delete_days,
                 allow_permanent_delete = excluded.allow_permanent_delete",
            )?;
            st.execute(params![
                account,
                xml,
                retention.map(|r| r.days as i64),
                retention.is_some_and(|r| r.allow_permanent_delete)
            ])?;
            Ok(())
        })
    }

    pub fn create_container(
        &self,
        account: &str,
        name: &str,
        metadata: &Metadata,
        access: PublicAccess,
    ) -> Result<ContainerProps> {
        let (account, name, metadata) = (account.to_owned(), name.to_owned(), metadata.clone());
        let clock = self.core().clock.clone();
        self.core().writer.submit(Vec::new(), move |c| {
            if find_container(c, &account, &name)?.is_some() {
                return Err(StoreError::ContainerAlreadyExists);
            }
            let now = OffsetDateTime::now_utc();
            let props = ContainerProps {
                name,
                etag: clock.next(),
                last_modified: now,
                created: now,
                metadata,
                public_access: access,
                has_immutability_policy: false,
                has_legal_hold: false,
                lease: Default::default(),
                deleted: None,
            };
            let mut st = c.prepare_cached(
                "INSERT INTO containers (account, name, etag, last_modified, created, metadata, public_access, acl)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, x'')",
            )?;
            st.execute(params![
                account,
                props.name,
                props.etag,
                time_to_i64(now),
                time_to_i64(now),
                encode_metadata(&props.metadata),
                access_to_i64(access)
            ])?;
            Ok(props)
        })
    }

    pub fn get_container(&self, account: &str, name: &str) -> Result<ContainerProps> {
        self.core()
            .readers
            .read(|c| Ok(load_container(c, account, name)?.props))
    }

    pub fn set_container_metadata(
        &self,
        account: &str,
        name: &str,
        metadata: &Metadata,
        cond: &Conditions,
    ) -> Result<ContainerProps> {
        let (account, name, metadata, cond) = (
            account.to_owned(),
            name.to_owned(),
            metadata.clone(),
            cond.clone(),
        );
        let clock = self.core().clock.clone();
        self.core().writer.submit(Vec::new(), move |c| {
            let mut props = load_checked(c, &account, &name, &cond, Access::Read)?.props;
            props.etag = clock.next();
            props.last_modified = OffsetDateTime::now_utc();
            props.metadata = metadata;
            let mut st = c.prepare_cached(
                "UPDATE containers SET etag = ?3, last_modified = ?4, metadata = ?5 WHERE account = ?1 AND name = ?2 AND deleted_version = ''",
            )?;
            st.execute(params![account, name, props.etag, time_to_i64(props.last_modified), encode_metadata(&props.metadata)])?;
            Ok(props)
        })
    }

    pub fn get_container_acl(
        &self,
        account: &str,
        name: &str,
    ) -> Result<(ContainerProps, Vec<SignedIdentifier>)> {
        self.core().readers.read(|c| {
            let row = load_container(c, account, name)?;
            Ok((row.props, row.acl))
        })
    }

    pub fn set_container_acl(
        &self,
        account: &str,
        name: &str,
        access: PublicAccess,
        ids: &[SignedIdentifier],
        cond: &Conditions,
    ) -> Result<ContainerProps> {
        let (account, name, ids, cond) = (
            account.to_owned(),
            name.to_owned(),
            ids.to_vec(),
            cond.clone(),
        );
        let clock = self.core().clock.clone();
        self.core().writer.submit(Vec::new(), move |c| {
            let mut props = load_checked(c, &account, &name, &cond, Access::Read)?.props;
            props.etag = clock.next();
            props.last_modified = OffsetDateTime::now_utc();
            props.public_access = access;
            let mut st = c.prepare_cached(
                "UPDATE containers SET etag = ?3, last_modified = ?4, public_access = ?5, acl = ?6
                 WHERE account = ?1 AND name = ?2 AND deleted_version = ''",
            )?;
            st.execute(params![
                account,
                name,
                props.etag,
                time_to_i64(props.last_modified),
                access_to_i64(access),
                encode_acl(&ids)
            ])?;
            Ok(props)
        })
    }

    /// Deletes a container with everything in it (falling back on the disk reserve when full).
    pub fn delete_container(&self, account: &str, name: &str, cond: &Conditions) -> Result<()> {
        self.freeing_space(|| self.delete_container_once(account, name, cond))
    }

    /// Deletes the container with all its blobs and blocks (their bytes become garbage for GC).
    fn delete_container_once(&self, account: &str, name: &str, cond: &Conditions) -> Result<()> {
        let (account, name, cond) = (account.to_owned(), name.to_owned(), cond.clone());
        self.core().writer.submit(Vec::new(), move |c| {
            let row = load_checked(c, &account, &name, &cond, Access::Write)?;
            c.prepare_cached("DELETE FROM containers WHERE id = ?1")?
                .execute([row.id])?;
            Ok(())
        })
    }

    pub fn list_containers(
        &self,
        account: &str,
        prefix: Option<&str>,
        marker: Option<&str>,
        max_results: u32,
    ) -> Result<ListContainersPage> {
        self.list_containers_including(account, prefix, marker, max_results, false)
    }

    /// List Containers; with `include_deleted`, soft-deleted containers within retention too
    /// (`ContainerProps::deleted`), after the live one of their name.
    pub fn list_containers_including(
        &self,
        account: &str,
        prefix: Option<&str>,
        marker: Option<&str>,
        max_results: u32,
        include_deleted: bool,
    ) -> Result<ListContainersPage> {
        let prefix = prefix.unwrap_or("");
        let start = match marker {
            Some(m) if m > prefix => m,
            _ => prefix,
        };
        let max = max_results.max(1) as usize;
        let now = time_to_i64(OffsetDateTime::now_utc());
        self.core().readers.read(|c| {
            // Stepped lazily, no LIMIT: one name's rows may overflow the page. Rows expired but
            // not yet purged are not listed.
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLS} FROM containers WHERE account = ?1 AND name >= ?2
                 AND (deleted_version = '' OR (?3 AND purge_at > ?4))
                 ORDER BY name, deleted_version"
            ))?;
            let mut q = st.query(params![account, start, include_deleted, now])?;
            let mut page = ListContainersPage::default();
            while let Some(r) = q.next()? {
                let row = decode(from_row(r)?)?;
                if !row.props.name.starts_with(prefix) {
                    break;
                }
                // The marker is a name: the rows of one name stay on one page.
                let same_name = page.items.last().is_some_and(|p| p.name == row.props.name);
                if page.items.len() >= max && !same_name {
                    page.next_marker = Some(row.props.name);
                    break;
                }
                page.items.push(row.props);
            }
            Ok(page)
        })
    }
}
