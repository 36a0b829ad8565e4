//! Integration tests of the Queue service storage: queues, their metadata, ACLs and listing.
//! Messages are in `queue_messages.rs`.

mod support;

use lapis_store::*;
use support::*;
use time::macros::datetime;
use time::OffsetDateTime;

/// Far in the future, so the background collector (which uses the real clock) never expires a
/// test's messages.
const T0: OffsetDateTime = datetime!(2100-01-01 0:00 UTC);

fn names(page: &QueuePage) -> Vec<&str> {
    page.items.iter().map(|q| q.name.as_str()).collect()
}

#[test]
fn create_twice_with_the_same_metadata_exists_and_with_other_metadata_conflicts() {
    both(StoreOptions::default(), |s| {
        let m = md(&[("Color", "red"), ("size", "1")]);
        assert_eq!(
            s.create_queue(ACCOUNT, "q", &m).unwrap(),
            QueueCreated::Created
        );
        // Same pairs in another order and names in another case: the same metadata.
        let same = md(&[("SIZE", "1"), ("color", "red")]);
        assert_eq!(
            s.create_queue(ACCOUNT, "q", &same).unwrap(),
            QueueCreated::Existed
        );
        for other in [
            md(&[]),
            md(&[("color", "RED"), ("size", "1")]),
            md(&[("color", "red")]),
            md(&[("color", "red"), ("size", "1"), ("x", "")]),
        ] {
            assert!(
                matches!(
                    s.create_queue(ACCOUNT, "q", &other),
                    Err(StoreError::QueueAlreadyExists)
                ),
                "{other:?}"
            );
        }
        // The stored metadata is the first creation's, as given.
        assert_eq!(s.get_queue(ACCOUNT, "q").unwrap().metadata, m);

        // No metadata twice: exists.
        assert_eq!(
            s.create_queue(ACCOUNT, "bare", &[]).unwrap(),
            QueueCreated::Created
        );
        assert_eq!(
            s.create_queue(ACCOUNT, "bare", &[]).unwrap(),
            QueueCreated::Existed
        );
        // Another account has its own namespace.
        assert_eq!(
            s.create_queue("other", "q", &[]).unwrap(),
            QueueCreated::Created
        );
        assert!(s.get_queue("other", "q").unwrap().metadata.is_empty());
    });
}

#[test]
fn a_missing_queue_is_queue_not_found_for_every_operation() {
    both(StoreOptions::default(), |s| {
        let nf = |r: Result<()>| assert!(matches!(r, Err(StoreError::QueueNotFound)), "{r:?}");
        nf(s.delete_queue(ACCOUNT, "none"));
        nf(s.get_queue(ACCOUNT, "none").map(drop));
        nf(s.set_queue_metadata(ACCOUNT, "none", &md(&[("a", "b")])));
        nf(s.get_queue_acl(ACCOUNT, "none").map(drop));
        nf(s.set_queue_acl(ACCOUNT, "none", &[]));
        nf(s.put_message(ACCOUNT, "none", "x", T0, T0, None).map(drop));
        nf(s.get_messages(ACCOUNT, "none", 1, T0, T0).map(drop));
        nf(s.peek_messages(ACCOUNT, "none", 1, T0).map(drop));
        nf(s.delete_message(ACCOUNT, "none", "id", "r", T0));
        nf(s.update_message(ACCOUNT, "none", "id", "r", None, T0, T0)
            .map(drop));
        nf(s.clear_messages(ACCOUNT, "none"));
        // A queue of another account is not this account's.
        s.create_queue("other", "q", &[]).unwrap();
        nf(s.get_queue(ACCOUNT, "q").map(drop));
    });
}

#[test]
fn metadata_is_replaced_as_given() {
    both(StoreOptions::default(), |s| {
        s.create_queue(ACCOUNT, "q", &md(&[("a", "1")])).unwrap();
        let m = md(&[("Zeta", "z"), ("alpha", "")]);
        s.set_queue_metadata(ACCOUNT, "q", &m).unwrap();
        let q = s.get_queue(ACCOUNT, "q").unwrap();
        assert_eq!(q.name, "q");
        assert_eq!(q.metadata, m);
        assert_eq!(q.approximate_message_count, 0);
        s.set_queue_metadata(ACCOUNT, "q", &[]).unwrap();
        assert!(s.get_queue(ACCOUNT, "q").unwrap().metadata.is_empty());
    });
}

#[test]
fn acl_round_trips_and_is_replaced() {
    both(StoreOptions::default(), |s| {
        s.create_queue(ACCOUNT, "q", &[]).unwrap();
        assert!(s.get_queue_acl(ACCOUNT, "q").unwrap().is_empty());
        let ids = vec![
            SignedIdentifier {
                id: "policy-1".into(),
                start: Some("2030-01-01T00:00:00.0000000Z".into()),
                expiry: Some("2031-01-01T00:00:00Z".into()),
                permission: Some("raup".into()),
            },
            SignedIdentifier {
                id: "empty".into(),
                ..Default::default()
            },
        ];
        s.set_queue_acl(ACCOUNT, "q", &ids).unwrap();
        assert_eq!(s.get_queue_acl(ACCOUNT, "q").unwrap(), ids);
        s.set_queue_acl(ACCOUNT, "q", &ids[1..]).unwrap();
        assert_eq!(s.get_queue_acl(ACCOUNT, "q").unwrap(), &ids[1..]);
        s.set_queue_acl(ACCOUNT, "q", &[]).unwrap();
        assert!(s.get_queue_acl(ACCOUNT, "q").unwrap().is_empty());
        // The ACL and metadata do not touch each other.
        s.set_queue_acl(ACCOUNT, "q", &ids).unwrap();
        s.set_queue_metadata(ACCOUNT, "q", &md(&[("k", "v")]))
            .unwrap();
        assert_eq!(s.get_queue_acl(ACCOUNT, "q").unwrap(), ids);
    });
}

#[test]
fn listing_in_name_order_with_prefix_marker_and_max() {
    both(StoreOptions::default(), |s| {
        for n in ["b-2", "a", "b-1", "c", "b-3", "ba"] {
            s.create_queue(ACCOUNT, n, &md(&[("name", n)])).unwrap();
        }
        s.create_queue("other", "b-0", &[]).unwrap();
        s.put_message(ACCOUNT, "b-1", "m", T0, T0, None).unwrap();

        let all = s.list_queues(ACCOUNT, None, None, 100).unwrap();
        assert_eq!(names(&all), ["a", "b-1", "b-2", "b-3", "ba", "c"]);
        assert!(all.next_marker.is_none());
        assert_eq!(all.items[1].metadata, md(&[("name", "b-1")]));
        assert_eq!(all.items[1].approximate_message_count, 1);

        // Pages of two, each starting at the previous page's marker.
        let mut marker = None;
        let mut pages = Vec::new();
        loop {
            let page = s.list_queues(ACCOUNT, None, marker.as_deref(), 2).unwrap();
            pages.push(names(&page).join(","));
            match page.next_marker {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        assert_eq!(pages, ["a,b-1", "b-2,b-3", "ba,c"]);

        let p = s.list_queues(ACCOUNT, Some("b-"), None, 2).unwrap();
        assert_eq!(names(&p), ["b-1", "b-2"]);
        assert_eq!(p.next_marker.as_deref(), Some("b-3"));
        let p = s.list_queues(ACCOUNT, Some("b-"), Some("b-3"), 2).unwrap();
        assert_eq!(names(&p), ["b-3"]);
        assert!(p.next_marker.is_none(), "ba does not match the prefix");

        // A marker before the prefix starts at the prefix; one past everything is empty.
        let p = s.list_queues(ACCOUNT, Some("c"), Some("a"), 10).unwrap();
        assert_eq!(names(&p), ["c"]);
        let p = s.list_queues(ACCOUNT, None, Some("zzz"), 10).unwrap();
        assert!(p.items.is_empty() && p.next_marker.is_none());
        // A marker that is no queue's name starts at the next name.
        let p = s.list_queues(ACCOUNT, None, Some("b-15"), 1).unwrap();
        assert_eq!(names(&p), ["b-2"]);
        // max 0 is taken as 1; no match is an empty page.
        assert_eq!(
            names(&s.list_queues(ACCOUNT, None, None, 0).unwrap()),
            ["a"]
        );
        assert!(s
            .list_queues(ACCOUNT, Some("x"), None, 5)
            .unwrap()
            .items
            .is_empty());
        assert_eq!(
            names(&s.list_queues("other", None, None, 5).unwrap()),
            ["b-0"]
        );
        assert!(s
            .list_queues("nobody", None, None, 5)
            .unwrap()
            .items
            .is_empty());
    });
}

#[test]
fn deleting_a_queue_deletes_its_messages() {
    both(StoreOptions::default(), |s| {
        s.create_queue(ACCOUNT, "q", &[]).unwrap();
        s.create_queue(ACCOUNT, "keep", &[]).unwrap();
        let m = s.put_message(ACCOUNT, "q", "gone", T0, T0, None).unwrap();
        s.put_message(ACCOUNT, "keep", "kept", T0, T0, None)
            .unwrap();
        s.delete_queue(ACCOUNT, "q").unwrap();
        assert!(matches!(
            s.get_queue(ACCOUNT, "q"),
            Err(StoreError::QueueNotFound)
        ));
        assert!(matches!(
            s.delete_queue(ACCOUNT, "q"),
            Err(StoreError::QueueNotFound)
        ));
        // A new queue of the same name starts empty, and the old message's id means nothing.
        s.create_queue(ACCOUNT, "q", &[]).unwrap();
        assert_eq!(
            s.get_queue(ACCOUNT, "q").unwrap().approximate_message_count,
            0
        );
        assert!(s.peek_messages(ACCOUNT, "q", 32, T0).unwrap().is_empty());
        assert!(matches!(
            s.delete_message(ACCOUNT, "q", &m.id, &m.pop_receipt, T0),
            Err(StoreError::MessageNotFound)
        ));
        let kept = s.peek_messages(ACCOUNT, "keep", 32, T0).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].text, "kept");
        // A short queue is gone with its messages in the request itself.
        assert_eq!(s.queue_table_rows().unwrap(), (2, 1));
    });
}

/// Far more messages than Delete Queue and Clear Messages remove in the request (1,000): the
/// queue is detached and its messages left to the collector, which needs 30 jobs.
const LONG: usize = 30_000;

/// Far enough that the background pass never runs during a test: the tests run the collector.
fn no_background_gc() -> StoreOptions {
    StoreOptions {
        gc_interval: std::time::Duration::from_secs(3600),
        ..StoreOptions::default()
    }
}

/// `n` messages "0".."n-1" from 8 threads (group commit folds them together).
fn fill(s: &Store, queue: &str, n: usize) {
    std::thread::scope(|scope| {
        for t in 0..8 {
            scope.spawn(move || {
                for i in (t..n).step_by(8) {
                    s.put_message(ACCOUNT, queue, &i.to_string(), T0, T0, None)
                        .unwrap();
                }
            });
        }
    });
}

fn not_found<T: std::fmt::Debug>(r: Result<T>) {
    assert!(matches!(r, Err(StoreError::QueueNotFound)), "{r:?}");
}

#[test]
fn deleting_a_long_queue_detaches_it_at_once_and_the_collector_removes_its_messages() {
    both(no_background_gc(), |s| {
        s.create_queue(ACCOUNT, "long", &md(&[("k", "v")])).unwrap();
        s.create_queue(ACCOUNT, "keep", &[]).unwrap();
        fill(s, "long", LONG);
        s.put_message(ACCOUNT, "keep", "kept", T0, T0, None)
            .unwrap();
        let received = s
            .get_messages(ACCOUNT, "long", 1, T0, T0 + time::Duration::hours(1))
            .unwrap()
            .remove(0);

        s.delete_queue(ACCOUNT, "long").unwrap();
        // The request removed no message: it detached the queue.
        assert_eq!(s.queue_table_rows().unwrap(), (2, LONG as u64 + 1));
        // Gone for every operation, from the listing and from the metrics.
        not_found(s.get_queue(ACCOUNT, "long"));
        not_found(s.delete_queue(ACCOUNT, "long"));
        not_found(s.set_queue_metadata(ACCOUNT, "long", &[]));
        not_found(s.get_queue_acl(ACCOUNT, "long"));
        not_found(s.set_queue_acl(ACCOUNT, "long", &[]));
        not_found(s.put_message(ACCOUNT, "long", "x", T0, T0, None));
        not_found(s.get_messages(ACCOUNT, "long", 32, T0, T0));
        not_found(s.peek_messages(ACCOUNT, "long", 32, T0));
        not_found(s.delete_message(ACCOUNT, "long", &received.id, &received.pop_receipt, T0));
        not_found(s.update_message(
            ACCOUNT,
            "long",
            &received.id,
            &received.pop_receipt,
            None,
            T0,
            T0,
        ));
        not_found(s.clear_messages(ACCOUNT, "long"));
        assert_eq!(
            names(&s.list_queues(ACCOUNT, None, None, 100).unwrap()),
            ["keep"]
        );
        let stats = s.stats().unwrap();
        assert_eq!((stats.queues, stats.queue_messages), (1, 1));

        // The name is free at once, and none of the old messages shows in the new queue.
        assert_eq!(
            s.create_queue(ACCOUNT, "long", &[]).unwrap(),
            QueueCreated::Created
        );
        let q = s.get_queue(ACCOUNT, "long").unwrap();
        assert!(q.metadata.is_empty());
        assert_eq!(q.approximate_message_count, 0);
        assert!(s.peek_messages(ACCOUNT, "long", 32, T0).unwrap().is_empty());
        s.put_message(ACCOUNT, "long", "new", T0, T0, None).unwrap();
        assert!(matches!(
            s.delete_message(ACCOUNT, "long", &received.id, &received.pop_receipt, T0),
            Err(StoreError::MessageNotFound)
        ));

        let gc = s.collect_garbage().unwrap();
        assert_eq!(gc.messages_discarded, LONG as u64);
        assert_eq!(s.gc_totals().messages_discarded, LONG as u64);
        assert_eq!(s.queue_table_rows().unwrap(), (2, 2));
        assert_eq!(s.collect_garbage().unwrap().messages_discarded, 0);
        // The new queue and the other one kept theirs.
        let got = s
            .get_messages(ACCOUNT, "long", 32, T0, T0 + time::Duration::hours(1))
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text, "new");
        assert_eq!(
            s.peek_messages(ACCOUNT, "keep", 32, T0).unwrap()[0].text,
            "kept"
        );
    });
}

#[test]
fn a_queue_of_up_to_1000_messages_is_emptied_by_the_request_itself() {
    both(no_background_gc(), |s| {
        s.create_queue(ACCOUNT, "q", &[]).unwrap();
        fill(s, "q", 1_000);
        s.clear_messages(ACCOUNT, "q").unwrap();
        assert_eq!(s.queue_table_rows().unwrap(), (1, 0));
        fill(s, "q", 1_000);
        s.delete_queue(ACCOUNT, "q").unwrap();
        assert_eq!(s.queue_table_rows().unwrap(), (0, 0));
        // One more is left to the collector.
        s.create_queue(ACCOUNT, "q", &[]).unwrap();
        fill(s, "q", 1_001);
        s.clear_messages(ACCOUNT, "q").unwrap();
        assert_eq!(s.queue_table_rows().unwrap(), (2, 1_001));
        assert_eq!(
            s.get_queue(ACCOUNT, "q").unwrap().approximate_message_count,
            0
        );
        assert_eq!(s.collect_garbage().unwrap().messages_discarded, 1_001);
        assert_eq!(s.queue_table_rows().unwrap(), (1, 0));
    });
}

#[test]
fn clearing_a_long_queue_hides_every_message_at_once_and_keeps_the_queue() {
    both(no_background_gc(), |s| {
        let ids = vec![SignedIdentifier {
            id: "p".into(),
            permission: Some("r".into()),
            ..Default::default()
        }];
        s.create_queue(ACCOUNT, "q", &md(&[("k", "v")])).unwrap();
        s.set_queue_acl(ACCOUNT, "q", &ids).unwrap();
        fill(s, "q", LONG);
        let hour = T0 + time::Duration::hours(1);
        let received = s.get_messages(ACCOUNT, "q", 32, T0, hour).unwrap();
        assert_eq!(received.len(), 32);

        s.clear_messages(ACCOUNT, "q").unwrap();
        assert_eq!(s.queue_table_rows().unwrap(), (2, LONG as u64));
        let q = s.get_queue(ACCOUNT, "q").unwrap();
        assert_eq!(q.approximate_message_count, 0);
        assert_eq!(q.metadata, md(&[("k", "v")]));
        assert_eq!(s.get_queue_acl(ACCOUNT, "q").unwrap(), ids);
        assert_eq!(
            names(&s.list_queues(ACCOUNT, None, None, 100).unwrap()),
            ["q"]
        );
        assert_eq!(s.stats().unwrap().queue_messages, 0);
        // Neither the visible messages nor the received ones, at any time.
        assert!(s.peek_messages(ACCOUNT, "q", 32, T0).unwrap().is_empty());
        assert!(s
            .get_messages(ACCOUNT, "q", 32, hour, hour)
            .unwrap()
            .is_empty());
        for m in &received {
            assert!(matches!(
                s.delete_message(ACCOUNT, "q", &m.id, &m.pop_receipt, T0),
                Err(StoreError::MessageNotFound)
            ));
            assert!(matches!(
                s.update_message(ACCOUNT, "q", &m.id, &m.pop_receipt, Some("x"), T0, T0),
                Err(StoreError::MessageNotFound)
            ));
        }
        // Create Queue finds it as it was.
        assert_eq!(
            s.create_queue(ACCOUNT, "q", &md(&[("k", "v")])).unwrap(),
            QueueCreated::Existed
        );

        let new = s.put_message(ACCOUNT, "q", "new", T0, T0, None).unwrap();
        assert_eq!(s.collect_garbage().unwrap().messages_discarded, LONG as u64);
        assert_eq!(s.queue_table_rows().unwrap(), (1, 1));
        let got = s.get_messages(ACCOUNT, "q", 32, T0, hour).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, new.id);
        assert_eq!(
            s.get_queue(ACCOUNT, "q").unwrap().approximate_message_count,
            1
        );
    });
}

#[test]
fn a_reopen_in_the_middle_of_the_collector_s_work_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open_with(dir.path(), no_background_gc()).unwrap();
        s.create_queue(ACCOUNT, "deleted", &[]).unwrap();
        s.create_queue(ACCOUNT, "cleared", &[]).unwrap();
        fill(&s, "deleted", 20_000);
        fill(&s, "cleared", 12_000);
        s.delete_queue(ACCOUNT, "deleted").unwrap();
        s.clear_messages(ACCOUNT, "cleared").unwrap();
        assert_eq!(s.queue_table_rows().unwrap(), (3, 32_000));
        // Oldest detached first, never more than asked in one job.
        assert_eq!(s.purge_detached_queues(15_000).unwrap(), 15_000);
        assert_eq!(s.queue_table_rows().unwrap(), (3, 17_000));
        s.close().unwrap();
    }
    let s = Store::open_with(dir.path(), no_background_gc()).unwrap();
    not_found(s.get_queue(ACCOUNT, "deleted"));
    assert_eq!(
        s.get_queue(ACCOUNT, "cleared")
            .unwrap()
            .approximate_message_count,
        0
    );
    assert!(s
        .peek_messages(ACCOUNT, "cleared", 32, T0)
        .unwrap()
        .is_empty());
    // One job finishes one queue (its row goes) and goes on into the next.
    assert_eq!(s.purge_detached_queues(8_000).unwrap(), 8_000);
    assert_eq!(s.queue_table_rows().unwrap(), (2, 9_000));
    assert_eq!(s.collect_garbage().unwrap().messages_discarded, 9_000);
    assert_eq!(s.queue_table_rows().unwrap(), (1, 0));
    assert_eq!(s.purge_detached_queues(8_000).unwrap(), 0);
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

#[test]
fn queues_messages_and_acls_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let ids = vec![SignedIdentifier {
        id: "p".into(),
        permission: Some("r".into()),
        ..Default::default()
    }];
    {
        let s = Store::open(dir.path()).unwrap();
        s.create_queue(ACCOUNT, "q", &md(&[("k", "v")])).unwrap();
        s.set_queue_acl(ACCOUNT, "q", &ids).unwrap();
        s.put_message(ACCOUNT, "q", "m", T0, T0, None).unwrap();
        s.close().unwrap();
    }
    let s = Store::open(dir.path()).unwrap();
    let q = s.get_queue(ACCOUNT, "q").unwrap();
    assert_eq!(q.metadata, md(&[("k", "v")]));
    assert_eq!(q.approximate_message_count, 1);
    assert_eq!(s.get_queue_acl(ACCOUNT, "q").unwrap(), ids);
    assert_eq!(
        s.create_queue(ACCOUNT, "q", &md(&[("K", "v")])).unwrap(),
        QueueCreated::Existed
    );
    assert_eq!(s.integrity_check().unwrap(), "ok");
}
