//! Integration tests of blob index tags: setting and reading them, tags given on upload, the
//! `x-ms-if-tags` condition, and Find Blobs by Tags through the index.

mod support;

use lapis_store::*;
use support::*;

fn tags(pairs: &[(&str, &str)]) -> BlobTags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn term(key: &str, op: TagOp, value: &str) -> TagTerm {
    TagTerm {
        key: key.into(),
        op,
        value: value.into(),
    }
}

fn set(s: &Store, c: &str, b: &str, t: &[(&str, &str)]) {
    s.set_blob_tags(ACCOUNT, c, b, None, &tags(t), &no_cond())
        .unwrap();
}

fn get(s: &Store, c: &str, b: &str) -> BlobTags {
    s.get_blob_tags(ACCOUNT, c, b, None, &no_cond()).unwrap()
}

fn when(condition: TagCondition) -> Conditions {
    Conditions {
        if_tags: Some(condition),
        ..Default::default()
    }
}

fn eq(key: &str, value: &str) -> TagCondition {
    TagCondition::Term(term(key, TagOp::Eq, value))
}

fn found(page: &TaggedBlobsPage) -> Vec<(String, String)> {
    page.items
        .iter()
        .map(|b| (b.container.clone(), b.name.clone()))
        .collect()
}

#[test]
fn set_get_and_replace_tags_without_touching_the_etag() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let before = put(s, "c", "b", b"x");
        set(s, "c", "b", &[("b", "2"), ("a", "1")]);
        assert_eq!(get(s, "c", "b"), tags(&[("a", "1"), ("b", "2")]));
        let p = s
            .get_blob_properties(ACCOUNT, "c", "b", &no_cond(), Access::Read, None)
            .unwrap();
        assert_eq!(p.tag_count, 2);
        assert_eq!(p.etag, before.etag, "tags are not content");
        set(s, "c", "b", &[("z", "")]);
        assert_eq!(get(s, "c", "b"), tags(&[("z", "")]));
        set(s, "c", "b", &[]);
        assert!(get(s, "c", "b").is_empty());
        assert!(matches!(
            s.get_blob_tags(ACCOUNT, "c", "none", None, &no_cond()),
            Err(StoreError::BlobNotFound)
        ));
        // Overwriting the blob drops the old tags; an upload may bring its own.
        set(s, "c", "b", &[("old", "1")]);
        put(s, "c", "b", b"y");
        assert!(get(s, "c", "b").is_empty());
        s.put_blob_tagged(
            ACCOUNT,
            "c",
            "b",
            write(s, b"z"),
            &BlobHttpProps::default(),
            &Vec::new(),
            None,
            &no_cond(),
            &tags(&[("new", "2")]),
        )
        .unwrap();
        assert_eq!(get(s, "c", "b"), tags(&[("new", "2")]));
        s.put_blob_inline_tagged(
            ACCOUNT,
            "c",
            "inline",
            bytes::Bytes::from_static(b"small"),
            &BlobHttpProps::default(),
            &Vec::new(),
            None,
            &no_cond(),
            None,
            &tags(&[("i", "1")]),
        )
        .unwrap();
        assert_eq!(get(s, "c", "inline"), tags(&[("i", "1")]));
        s.create_append_blob(
            ACCOUNT,
            "c",
            "log",
            &BlobHttpProps::default(),
            &Vec::new(),
            &no_cond(),
            None,
            &tags(&[("kind", "log")]),
        )
        .unwrap();
        assert_eq!(get(s, "c", "log"), tags(&[("kind", "log")]));
        // Deleting the blob deletes its tags with it.
        s.delete_blob(ACCOUNT, "c", "log", &no_cond()).unwrap();
        let q = TagQuery {
            container: None,
            terms: vec![term("kind", TagOp::Eq, "log")],
        };
        assert!(s
            .find_blobs_by_tags(ACCOUNT, &q, None, 10)
            .unwrap()
            .items
            .is_empty());
    });
}

#[test]
fn if_tags_guards_reads_and_writes() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        put(s, "c", "b", b"data");
        set(s, "c", "b", &[("state", "ready"), ("n", "5")]);
        let refused =
            |r: Result<()>| matches!(r, Err(StoreError::Refused(Refusal::TagConditionNotMet)));
        let read = |cond: &Conditions| s.read_blob(ACCOUNT, "c", "b", None, cond, None).map(|_| ());
        assert!(read(&when(eq("state", "ready"))).is_ok());
        assert!(refused(read(&when(eq("state", "busy")))));
        let either = TagCondition::Or(
            Box::new(eq("state", "busy")),
            Box::new(TagCondition::Term(term("n", TagOp::Gt, "4"))),
        );
        assert!(read(&when(either)).is_ok());
        assert!(refused(
            s.set_blob_metadata(
                ACCOUNT,
                "c",
                "b",
                &md(&[("m", "1")]),
                &when(eq("state", "x")),
                None
            )
            .map(|_| ())
        ));
        assert!(refused(s.delete_blob(
            ACCOUNT,
            "c",
            "b",
            &when(eq("state", "x"))
        )));
        assert!(refused(s.set_blob_tags(
            ACCOUNT,
            "c",
            "b",
            None,
            &tags(&[]),
            &when(eq("state", "x"))
        )));
        // A blob that does not exist satisfies no tag condition.
        let new = s.put_blob(
            ACCOUNT,
            "c",
            "new",
            write(s, b"n"),
            &BlobHttpProps::default(),
            &Vec::new(),
            None,
            &when(eq("state", "ready")),
        );
        assert!(refused(new.map(|_| ())));
        // The refused writes changed nothing.
        s.delete_blob(ACCOUNT, "c", "b", &when(eq("state", "ready")))
            .unwrap();
    });
}

#[test]
fn find_by_tags_in_the_account_or_one_container() {
    both(StoreOptions::default(), |s| {
        container(s, "c1");
        container(s, "c2");
        for (c, b, t) in [
            (
                "c1",
                "a",
                &[("Project", "Contoso"), ("Date", "2020-04-20")][..],
            ),
            (
                "c1",
                "b",
                &[("Project", "Contoso"), ("Date", "2020-04-26")][..],
            ),
            (
                "c2",
                "c",
                &[("Project", "Contoso"), ("Date", "2020-04-22")][..],
            ),
            (
                "c2",
                "d",
                &[("Project", "Other"), ("Date", "2020-04-21")][..],
            ),
        ] {
            put(s, c, b, b"x");
            set(s, c, b, t);
        }
        let contoso = |container: Option<&str>| TagQuery {
            container: container.map(str::to_string),
            terms: vec![term("Project", TagOp::Eq, "Contoso")],
        };
        let page = s
            .find_blobs_by_tags(ACCOUNT, &contoso(None), None, 10)
            .unwrap();
        let mut names = found(&page);
        names.sort();
        assert_eq!(
            names,
            [
                ("c1".into(), "a".into()),
                ("c1".into(), "b".into()),
                ("c2".into(), "c".into())
            ]
        );
        // Only the tags the expression names come back.
        assert!(page
            .items
            .iter()
            .all(|b| b.tags == tags(&[("Project", "Contoso")])));
        let in_c2 = s
            .find_blobs_by_tags(ACCOUNT, &contoso(Some("c2")), None, 10)
            .unwrap();
        assert_eq!(found(&in_c2), [("c2".into(), "c".into())]);
        // A date range AND a project.
        let q = TagQuery {
            container: None,
            terms: vec![
                term("Date", TagOp::Ge, "2020-04-20"),
                term("Date", TagOp::Lt, "2020-04-25"),
                term("Project", TagOp::Eq, "Contoso"),
            ],
        };
        let mut names = found(&s.find_blobs_by_tags(ACCOUNT, &q, None, 10).unwrap());
        names.sort();
        assert_eq!(
            names,
            [("c1".into(), "a".into()), ("c2".into(), "c".into())]
        );
        // Another account sees none of them.
        assert!(s
            .find_blobs_by_tags("other", &contoso(None), None, 10)
            .unwrap()
            .items
            .is_empty());
    });
}

#[test]
fn find_pages_with_markers() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        for i in 0..25 {
            let name = format!("b{i:02}");
            put(s, "c", &name, b"x");
            // Values spread over a range, some equal.
            set(s, "c", &name, &[("v", &format!("{:02}", i / 2))]);
        }
        let q = TagQuery {
            container: None,
            terms: vec![term("v", TagOp::Ge, "03")],
        };
        let mut all = Vec::new();
        let mut marker = None;
        loop {
            let page = s
                .find_blobs_by_tags(ACCOUNT, &q, marker.as_deref(), 4)
                .unwrap();
            assert!(page.items.len() <= 4);
            all.extend(found(&page));
            match page.next_marker {
                Some(m) => {
                    assert!(is_tag_marker(&m));
                    marker = Some(m);
                }
                None => break,
            }
        }
        let mut want: Vec<(String, String)> = (6..25)
            .map(|i| ("c".to_string(), format!("b{i:02}")))
            .collect();
        all.sort();
        want.sort();
        assert_eq!(all, want, "each match once, across pages");
    });
}

#[test]
fn find_reads_the_index_not_every_blob() {
    let fx = Fixture::memory(StoreOptions::default());
    let s = &fx.store;
    container(s, "c");
    for i in 0..20_000 {
        let name = format!("b{i:05}");
        let rare = if i % 2000 == 0 { "yes" } else { "no" };
        s.put_blob_inline_tagged(
            ACCOUNT,
            "c",
            &name,
            bytes::Bytes::from_static(b"x"),
            &BlobHttpProps::default(),
            &Vec::new(),
            None,
            &no_cond(),
            None,
            &tags(&[("rare", rare), ("seq", &format!("{i:05}"))]),
        )
        .unwrap();
    }
    let q = TagQuery {
        container: None,
        terms: vec![
            term("seq", TagOp::Ge, "00000"),
            term("rare", TagOp::Eq, "yes"),
        ],
    };
    let page = s.find_blobs_by_tags(ACCOUNT, &q, None, 100).unwrap();
    assert_eq!(page.items.len(), 10);
    // The equality drives the walk: 10 matches, 10 index entries read of 40,000.
    assert_eq!(page.examined, 10);
    let plan = s.explain_find_blobs_by_tags(&q).unwrap();
    assert!(
        plan.contains("SEARCH") && plan.contains("blob_tags_by_value") && !plan.contains("SCAN"),
        "{plan}"
    );
    assert!(
        !plan.contains("TEMP B-TREE"),
        "ordered by the index: {plan}"
    );
    // A range alone walks the range only.
    let range = TagQuery {
        container: None,
        terms: vec![
            term("seq", TagOp::Gt, "19990"),
            term("seq", TagOp::Le, "19995"),
        ],
    };
    let page = s.find_blobs_by_tags(ACCOUNT, &range, None, 100).unwrap();
    assert_eq!(page.items.len(), 5);
    assert_eq!(page.examined, 5);
}

#[test]
fn listing_shows_tags_when_asked() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        put(s, "c", "t", b"x");
        put(s, "c", "u", b"x");
        set(s, "c", "t", &[("k", "v")]);
        let q = |include_tags| ListBlobsQuery {
            max_results: 10,
            include_tags,
            ..Default::default()
        };
        let props = |page: ListBlobsPage| -> Vec<(u32, Option<BlobTags>)> {
            page.items
                .into_iter()
                .filter_map(|i| match i {
                    ListBlobsItem::Blob(p) => Some((p.tag_count, p.tags)),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(
            props(s.list_blobs(ACCOUNT, "c", &q(true)).unwrap()),
            [(1, Some(tags(&[("k", "v")]))), (0, None)]
        );
        assert_eq!(
            props(s.list_blobs(ACCOUNT, "c", &q(false)).unwrap()),
            [(1, None), (0, None)]
        );
    });
}
