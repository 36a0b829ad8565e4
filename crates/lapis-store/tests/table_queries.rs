//! Integration tests of Query Entities: order, paging, key ranges, filters, bounded scans and the
//! query plan on a large table.

mod support;

use std::sync::Arc;

use lapis_store::*;
use support::*;

fn no_merge() -> Arc<MergeFn> {
    Arc::new(|_: &[u8], new: &[u8]| Ok(new.to_vec()))
}

fn insert(pk: &str, rk: &str, props: &[u8]) -> EntityOp {
    EntityOp {
        partition_key: pk.into(),
        row_key: rk.into(),
        kind: EntityOpKind::Write {
            write: EntityWrite::Insert,
            properties: props.to_vec(),
        },
    }
}

/// Inserts `rks` into partition `pk` in batches of 100.
fn fill(s: &Store, table: &str, pk: &str, rks: &[String]) {
    for chunk in rks.chunks(100) {
        let ops = chunk
            .iter()
            .map(|rk| insert(pk, rk, rk.as_bytes()))
            .collect();
        s.execute_batch(ACCOUNT, table, ops, &no_merge()).unwrap();
    }
}

fn keys(page: &[EntityRecord]) -> Vec<(String, String)> {
    page.iter()
        .map(|e| (e.partition_key.clone(), e.row_key.clone()))
        .collect()
}

/// Follows continuations to the end; returns every entity and the number of pages.
fn query_all(s: &Store, table: &str, q: EntityQuery) -> (Vec<EntityRecord>, usize) {
    let (mut all, mut pages, mut next) = (Vec::new(), 0, None::<(String, String)>);
    loop {
        let mut this = q;
        this.start_at = next.as_ref().map(|(p, r)| (p.as_str(), r.as_str()));
        let (page, cont) = s.query_entities(ACCOUNT, table, &this).unwrap();
        assert!(page.len() <= q.limit);
        all.extend(page);
        pages += 1;
        match cont {
            Some(c) => next = Some(c),
            None => return (all, pages),
        }
    }
}

#[test]
fn pages_of_1000_visit_every_entity_once_in_order() {
    both(StoreOptions::default(), |s| {
        s.create_table(ACCOUNT, "t").unwrap();
        let mut expected = Vec::new();
        // Inserted out of order: partitions backwards, rows in a scrambled order.
        for p in (0..5).rev() {
            let pk = format!("p{p}");
            let rks: Vec<String> = (0..500).map(|i| format!("r{:04}", i * 7 % 500)).collect();
            fill(s, "t", &pk, &rks);
            expected.extend(rks.into_iter().map(|rk| (pk.clone(), rk)));
        }
        expected.sort();
        let all = |_: &EntityRow| true;
        let q = EntityQuery::new(1000, &all);
        let (page, next) = s.query_entities(ACCOUNT, "t", &q).unwrap();
        assert_eq!(page.len(), 1000);
        // The continuation names the first entity of the next page.
        assert_eq!(next.as_ref(), Some(&expected[1000]));
        let (got, pages) = query_all(s, "t", q);
        assert_eq!(pages, 3);
        assert_eq!(keys(&got), expected);
        // Limits above Azure's page size are clamped.
        let (page, _) = s
            .query_entities(ACCOUNT, "t", &EntityQuery::new(5000, &all))
            .unwrap();
        assert_eq!(page.len(), 1000);
        assert!(matches!(
            s.query_entities(ACCOUNT, "missing", &q),
            Err(StoreError::TableNotFound)
        ));
    });
}

#[test]
fn keys_sort_by_bytes() {
    both(StoreOptions::default(), |s| {
        s.create_table(ACCOUNT, "t").unwrap();
        let mut rks: Vec<String> = ["a", "B", "é", "_", "0", "aa", "Z", "~", "ß"]
            .iter()
            .map(|k| k.to_string())
            .collect();
        fill(s, "t", "p", &rks);
        let all = |_: &EntityRow| true;
        let (page, _) = s
            .query_entities(ACCOUNT, "t", &EntityQuery::new(100, &all))
            .unwrap();
        rks.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        let got: Vec<_> = page.into_iter().map(|e| e.row_key).collect();
        assert_eq!(got, rks);
    });
}

#[test]
fn key_ranges_return_exactly_the_entities_in_range() {
    both(StoreOptions::default(), |s| {
        s.create_table(ACCOUNT, "t").unwrap();
        let mut everything = Vec::new();
        for p in 0..5 {
            let pk = format!("p{p}");
            let rks: Vec<String> = (0..50).map(|i| format!("r{i:03}")).collect();
            fill(s, "t", &pk, &rks);
            everything.extend(rks.into_iter().map(|rk| (pk.clone(), rk)));
        }
        let all = |_: &EntityRow| true;
        let in_bound = |k: &str, b: Option<(&str, bool)>, lower: bool| match b {
            None => true,
            Some((v, inc)) if lower => k > v || (inc && k == v),
            Some((v, inc)) => k < v || (inc && k == v),
        };
        let bounds = [
            None,
            Some(("p1", true)),
            Some(("p1", false)),
            Some(("p3", true)),
            Some(("p9", false)),
        ];
        let rk_bounds = [
            None,
            Some(("r010", true)),
            Some(("r010", false)),
            Some(("r020", false)),
            Some(("r049", true)),
        ];
        let mut checked = 0;
        for pk_eq in [None, Some("p2"), Some("p7")] {
            for (pk_lower, pk_upper) in bounds
                .iter()
                .flat_map(|l| bounds.iter().map(move |u| (*l, *u)))
            {
                for (rk_lower, rk_upper) in rk_bounds
                    .iter()
                    .flat_map(|l| rk_bounds.iter().map(move |u| (*l, *u)))
                {
                    let mut q = EntityQuery::new(7, &all);
                    (q.pk_eq, q.pk_lower, q.pk_upper) = (pk_eq, pk_lower, pk_upper);
                    (q.rk_lower, q.rk_upper) = (rk_lower, rk_upper);
                    let want: Vec<_> = everything
                        .iter()
                        .filter(|(p, r)| {
                            pk_eq.is_none_or(|e| p == e)
                                && in_bound(p, pk_lower, true)
                                && in_bound(p, pk_upper, false)
                                // RowKey bounds apply within one partition only.
                                && (pk_eq.is_none()
                                    || (in_bound(r, rk_lower, true) && in_bound(r, rk_upper, false)))
                        })
                        .cloned()
                        .collect();
                    let (got, _) = query_all(s, "t", q);
                    assert_eq!(keys(&got), want, "{q:?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 3 * 25 * 25);
    });
}

#[test]
fn filter_closure_selects_and_pages_continue_after_filtered_rows() {
    both(StoreOptions::default(), |s| {
        s.create_table(ACCOUNT, "t").unwrap();
        let rks: Vec<String> = (0..300).map(|i| format!("r{i:03}")).collect();
        fill(s, "t", "a", &rks);
        fill(s, "t", "b", &rks);
        let every_row: Vec<(String, String)> = ["a", "b"]
            .iter()
            .flat_map(|p| rks.iter().map(move |r| (p.to_string(), r.clone())))
            .collect();
        let last_digit_in_036 = |rk: &str| matches!(rk.as_bytes().last(), Some(b'0' | b'3' | b'6'));
        let want: Vec<_> = every_row
            .iter()
            .filter(|(_, r)| last_digit_in_036(r))
            .cloned()
            .collect();
        // The filter sees the whole record: here it reads the properties (= the RowKey bytes).
        let filter = |e: &EntityRow| {
            last_digit_in_036(std::str::from_utf8(e.properties).unwrap_or_default())
        };
        let (page, next) = s
            .query_entities(ACCOUNT, "t", &EntityQuery::new(10, &filter))
            .unwrap();
        assert_eq!(keys(&page), want[..10]);
        // The continuation is the row right after the last match, whether it matches or not.
        let after = every_row.iter().position(|k| *k == want[9]).unwrap() + 1;
        assert_eq!(next.as_ref(), Some(&every_row[after]));
        let (got, _) = query_all(s, "t", EntityQuery::new(10, &filter));
        assert_eq!(keys(&got), want);
    });
}

#[test]
fn long_runs_of_rejected_rows_end_the_page_with_a_continuation() {
    both(StoreOptions::default(), |s| {
        s.create_table(ACCOUNT, "t").unwrap();
        let rks: Vec<String> = (0..10_050).map(|i| format!("r{i:05}")).collect();
        fill(s, "t", "p", &rks);
        let tail = |e: &EntityRow| e.row_key >= "r10040";
        let q = EntityQuery::new(1000, &tail);
        let (page, next) = s.query_entities(ACCOUNT, "t", &q).unwrap();
        assert!(page.is_empty());
        let (pk, rk) = next.expect("a bounded scan returns a continuation");
        assert_eq!((pk.as_str(), rk.as_str()), ("p", "r10000"));
        let (got, pages) = query_all(s, "t", q);
        assert_eq!(pages, 2);
        assert_eq!(
            keys(&got),
            (10_040..10_050)
                .map(|i| ("p".to_string(), format!("r{i:05}")))
                .collect::<Vec<_>>()
        );
    });
}

#[test]
fn key_queries_on_200k_entities_search_the_primary_key() {
    both(StoreOptions::default(), |s| {
        s.create_table(ACCOUNT, "big").unwrap();
        // 200 partitions of 1,000; several writers so batches share group commits.
        std::thread::scope(|scope| {
            for w in 0..4 {
                scope.spawn(move || {
                    for p in (w..200).step_by(4) {
                        let rks: Vec<String> = (0..1000).map(|i| format!("r{i:04}")).collect();
                        fill(s, "big", &format!("p{p:03}"), &rks);
                    }
                });
            }
        });
        let all = |_: &EntityRow| true;
        let mut q = EntityQuery::new(1000, &all);
        q.pk_eq = Some("p123");
        q.rk_lower = Some(("r0100", true));
        q.rk_upper = Some(("r0200", false));
        let plan = s.explain_entity_query(ACCOUNT, "big", &q).unwrap();
        assert!(plan.contains("SEARCH") && !plan.contains("SCAN"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "sorted by the index: {plan}");
        assert!(plan.contains("PRIMARY KEY"), "{plan}");
        let (page, next) = s.query_entities(ACCOUNT, "big", &q).unwrap();
        assert_eq!(next, None);
        let want: Vec<_> = (100..200)
            .map(|i| ("p123".to_string(), format!("r{i:04}")))
            .collect();
        assert_eq!(keys(&page), want);

        // Continuations and PartitionKey ranges are index ranges too.
        let mut q = EntityQuery::new(1000, &all);
        q.start_at = Some(("p150", "r0500"));
        q.pk_upper = Some(("p151", false));
        let plan = s.explain_entity_query(ACCOUNT, "big", &q).unwrap();
        assert!(plan.contains("SEARCH") && !plan.contains("SCAN"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "sorted by the index: {plan}");
        let (page, next) = s.query_entities(ACCOUNT, "big", &q).unwrap();
        assert_eq!(page.len(), 500);
        assert_eq!(page[0].row_key, "r0500");
        assert_eq!(next, None);
    });
}
