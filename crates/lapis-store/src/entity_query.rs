//! Query Entities: key bounds become a range of the (table_id, pk, rk) primary key; the rest of
//! the filter is the caller's closure, run on each row of the range.

use rusqlite::{params_from_iter, types::ToSql, Connection};

use crate::entities::ticks_to_time;
use crate::tables::table_id;
use crate::{EntityPage, EntityQuery, EntityRecord, EntityRow, Result, Store};

/// Most entities in one page (Azure's page size).
const MAX_PAGE: usize = 1000;

/// A page ends after this many rows rejected by the filter, with a continuation: Azure also
/// returns partial (even empty) pages rather than scanning a whole table in one request.
pub(crate) const MAX_REJECTED: usize = 10_000;

const COLUMNS: &str = "pk, rk, ts, props";

/// The SQL of a query and its parameters; `None` when the bounds exclude every row.
/// Only fixed fragments and parameter numbers go into the text; every key is bound.
fn plan<'q>(table: &'q i64, q: &'q EntityQuery<'q>) -> Option<(String, Vec<&'q dyn ToSql>)> {
    let mut sql = format!("SELECT {COLUMNS} FROM entities WHERE table_id = ?1");
    let mut args: Vec<&'q dyn ToSql> = vec![table];
    let mut bound = |sql: &mut String, column: &str, op: &str, value: &'q &'q str| {
        args.push(value);
        sql.push_str(&format!(" AND {column} {op} ?{}", args.len()));
    };
    let lower = |inclusive: bool| if inclusive { ">=" } else { ">" };
    let upper = |inclusive: bool| if inclusive { "<=" } else { "<" };

    if let Some(pk) = &q.pk_eq {
        bound(&mut sql, "pk", "=", pk);
    }
    if let Some((pk, inclusive)) = &q.pk_lower {
        bound(&mut sql, "pk", lower(*inclusive), pk);
    }
    if let Some((pk, inclusive)) = &q.pk_upper {
        bound(&mut sql, "pk", upper(*inclusive), pk);
    }
    if q.pk_eq.is_some() {
        if let Some((rk, inclusive)) = &q.rk_lower {
            bound(&mut sql, "rk", lower(*inclusive), rk);
        }
        if let Some((rk, inclusive)) = &q.rk_upper {
            bound(&mut sql, "rk", upper(*inclusive), rk);
        }
    }
    if let Some((spk, srk)) = &q.start_at {
        match q.pk_eq {
            // Within one partition the continuation is a RowKey bound, which keeps the search
            // a single index range.
            Some(pk) if pk == *spk => bound(&mut sql, "rk", ">=", srk),
            Some(pk) if pk < *spk => return None,
            Some(_) => {}
            None => {
                bound(&mut sql, "pk", ">=", spk);
                let p = args.len();
                args.push(srk);
                sql.push_str(&format!(" AND (pk > ?{p} OR rk >= ?{})", p + 1));
            }
        }
    }
    sql.push_str(" ORDER BY pk, rk");
    Some((sql, args))
}

fn run(conn: &Connection, table: i64, q: &EntityQuery) -> Result<EntityPage> {
    let Some((sql, args)) = plan(&table, q) else {
        return Ok((Vec::new(), None));
    };
    let limit = q.limit.clamp(1, MAX_PAGE);
    let mut st = conn.prepare_cached(&sql)?;
    let mut rows = st.query(params_from_iter(args))?;
    let (mut page, mut rejected) = (Vec::new(), 0usize);
    while let Some(r) = rows.next()? {
        let row = EntityRow {
            partition_key: r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?,
            row_key: r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?,
            timestamp: ticks_to_time(r.get(2)?),
            properties: r.get_ref(3)?.as_blob().map_err(rusqlite::Error::from)?,
        };
        if page.len() == limit || rejected == MAX_REJECTED {
            return Ok((page, Some((row.partition_key.into(), row.row_key.into()))));
        }
        if (q.filter)(&row) {
            page.push(EntityRecord {
                partition_key: row.partition_key.into(),
                row_key: row.row_key.into(),
                timestamp: row.timestamp,
                properties: row.properties.into(),
            });
        } else {
            rejected += 1;
        }
    }
    Ok((page, None))
}

impl Store {
    /// Entities in (PartitionKey, RowKey) byte order within the query's key bounds that pass its
    /// filter, with the keys to continue at when more may follow (the page can be short, or
    /// even empty, when many rows in range were rejected).
    pub fn query_entities(
        &self,
        account: &str,
        table: &str,
        q: &EntityQuery,
    ) -> Result<EntityPage> {
        self.core()
            .readers
            .read(|c| run(c, table_id(c, account, table)?, q))
    }

    /// SQLite's `EXPLAIN QUERY PLAN` for the statement `query_entities` runs, one line per step.
    pub fn explain_entity_query(
        &self,
        account: &str,
        table: &str,
        q: &EntityQuery,
    ) -> Result<String> {
        self.core().readers.read(|c| {
            let id = table_id(c, account, table)?;
            let Some((sql, args)) = plan(&id, q) else {
                return Ok("no rows: the key bounds exclude every entity".into());
            };
            let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let lines = st.query_map(params_from_iter(args), |r| r.get::<_, String>(3))?;
            Ok(lines.collect::<rusqlite::Result<Vec<_>>>()?.join("\n"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql_of(q: &EntityQuery) -> Option<String> {
        plan(&7, q).map(|(sql, args)| {
            // Every parameter is bound, and only those.
            let highest = sql
                .split('?')
                .skip(1)
                .map(|rest| {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    digits.parse::<usize>().unwrap()
                })
                .max();
            assert_eq!(highest, Some(args.len()));
            sql
        })
    }

    #[test]
    fn bounds_become_bound_parameters() {
        let all = |_: &EntityRow| true;
        let mut q = EntityQuery::new(10, &all);
        q.pk_eq = Some("p'); DROP TABLE entities; --");
        q.rk_lower = Some(("a", true));
        q.rk_upper = Some(("b", false));
        let sql = sql_of(&q).unwrap();
        assert!(sql.contains("pk = ?2 AND rk >= ?3 AND rk < ?4"), "{sql}");
        assert!(!sql.contains("DROP"));
    }

    #[test]
    fn rowkey_bounds_need_a_partition() {
        let all = |_: &EntityRow| true;
        let mut q = EntityQuery::new(10, &all);
        q.rk_lower = Some(("a", false));
        assert!(!sql_of(&q).unwrap().contains("AND rk"));
    }

    #[test]
    fn continuation_folds_into_the_partition() {
        let all = |_: &EntityRow| true;
        let mut q = EntityQuery::new(10, &all);
        q.pk_eq = Some("p");
        q.start_at = Some(("p", "r5"));
        assert!(sql_of(&q).unwrap().contains("rk >= ?3"));
        q.start_at = Some(("q", ""));
        assert!(sql_of(&q).is_none());
        q.start_at = Some(("a", "z"));
        assert!(!sql_of(&q).unwrap().contains("AND rk"));
        q.pk_eq = None;
        assert!(sql_of(&q)
            .unwrap()
            .contains("pk >= ?2 AND (pk > ?2 OR rk >= ?3)"));
    }
}
