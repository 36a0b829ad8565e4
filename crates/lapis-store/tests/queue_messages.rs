//! Integration tests of Queue service messages: put, get, peek, delete, update, clear,
//! visibility, expiry, order, reopen and concurrent consumers. The random model test is
//! `queue_model.rs`.

mod support;

use std::collections::HashSet;

use lapis_store::*;
use support::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// Far in the future, so the background collector (which uses the real clock) never expires a
/// test's messages.
const T0: OffsetDateTime = datetime!(2100-01-01 0:00 UTC);

/// `T0` plus `secs` seconds.
fn at(secs: i64) -> OffsetDateTime {
    T0 + Duration::seconds(secs)
}

fn queue(s: &Store) {
    s.create_queue(ACCOUNT, "q", &[]).unwrap();
}

/// A message put at T0, visible at once, never expiring.
fn put(s: &Store, text: &str) -> QueueMessage {
    s.put_message(ACCOUNT, "q", text, at(0), at(0), None)
        .unwrap()
}

fn get(s: &Store, count: u32, now: i64, visible_at: i64) -> Vec<QueueMessage> {
    s.get_messages(ACCOUNT, "q", count, at(now), at(visible_at))
        .unwrap()
}

fn peek(s: &Store, now: i64) -> Vec<QueueMessage> {
    s.peek_messages(ACCOUNT, "q", 32, at(now)).unwrap()
}

fn texts(messages: &[QueueMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.text.as_str()).collect()
}

fn count(s: &Store) -> u64 {
    s.get_queue(ACCOUNT, "q").unwrap().approximate_message_count
}

fn delete(s: &Store, m_id: &str, receipt: &str, now: i64) -> Result<()> {
    s.delete_message(ACCOUNT, "q", m_id, receipt, at(now))
}

#[test]
fn put_get_delete() {
    both(StoreOptions::default(), |s| {
        queue(s);
        let put = s
            .put_message(ACCOUNT, "q", "hello", at(0), at(0), Some(at(3600)))
            .unwrap();
        assert_eq!(put.text, "hello");
        assert_eq!(put.dequeue_count, 0);
        assert_eq!((put.inserted, put.next_visible), (at(0), at(0)));
        assert_eq!(put.expires, Some(at(3600)));
        let uuid = uuid::Uuid::parse_str(&put.id).unwrap();
        assert_eq!(
            put.id,
            uuid.hyphenated().to_string(),
            "lowercase hyphenated"
        );
        assert_eq!(put.pop_receipt.len(), 22, "unpadded base64 of 16 bytes");
        assert_eq!(count(s), 1);

        let got = get(s, 32, 0, 30);
        assert_eq!(got.len(), 1);
        let m = &got[0];
        assert_eq!((m.id.as_str(), m.text.as_str()), (put.id.as_str(), "hello"));
        assert_eq!(m.dequeue_count, 1);
        assert_eq!(
            (m.inserted, m.expires, m.next_visible),
            (at(0), Some(at(3600)), at(30))
        );
        assert_ne!(m.pop_receipt, put.pop_receipt);
        assert_eq!(count(s), 1, "receiving a message does not remove it");

        delete(s, &m.id, &m.pop_receipt, 1).unwrap();
        assert_eq!(count(s), 0);
        assert!(peek(s, 100).is_empty());
        assert!(get(s, 32, 100, 130).is_empty());
        assert!(matches!(
            delete(s, &m.id, &m.pop_receipt, 2),
            Err(StoreError::MessageNotFound)
        ));
        assert!(matches!(
            delete(s, "00000000-0000-0000-0000-000000000000", "x", 2),
            Err(StoreError::MessageNotFound)
        ));
    });
}

#[test]
fn only_the_current_pop_receipt_deletes_or_updates() {
    both(StoreOptions::default(), |s| {
        queue(s);
        // The receipt Put Message returns is valid until someone receives the message.
        let a = put(s, "a");
        delete(s, &a.id, &a.pop_receipt, 0).unwrap();
        let b = put(s, "b");
        let updated = s
            .update_message(ACCOUNT, "q", &b.id, &b.pop_receipt, None, at(0), at(0))
            .unwrap();
        assert!(matches!(
            delete(s, &b.id, &b.pop_receipt, 0),
            Err(StoreError::PopReceiptMismatch)
        ));
        delete(s, &b.id, &updated.pop_receipt, 0).unwrap();

        let c = put(s, "c");
        let first = get(s, 1, 0, 10).remove(0);
        assert!(matches!(
            delete(s, &c.id, &c.pop_receipt, 1),
            Err(StoreError::PopReceiptMismatch)
        ));
        // Its visibility timeout ends; a second consumer receives it.
        let second = get(s, 1, 10, 20).remove(0);
        assert_eq!(second.dequeue_count, 2);
        assert_ne!(second.pop_receipt, first.pop_receipt);
        for stale in [
            &first.pop_receipt,
            &c.pop_receipt,
            &"AAAAAAAAAAAAAAAAAAAAAA==".to_string(),
        ] {
            assert!(matches!(
                delete(s, &c.id, stale, 11),
                Err(StoreError::PopReceiptMismatch)
            ));
            assert!(matches!(
                s.update_message(ACCOUNT, "q", &c.id, stale, Some("x"), at(11), at(11)),
                Err(StoreError::PopReceiptMismatch)
            ));
        }
        delete(s, &c.id, &second.pop_receipt, 11).unwrap();
        assert_eq!(count(s), 0);
    });
}

#[test]
fn a_received_message_is_hidden_until_its_visibility_timeout_ends() {
    both(StoreOptions::default(), |s| {
        queue(s);
        let m = put(s, "m");
        let first = get(s, 32, 0, 10);
        assert_eq!(first.len(), 1);
        for now in [0, 5, 9] {
            assert!(get(s, 32, now, now + 100).is_empty(), "at {now}");
            assert!(peek(s, now).is_empty(), "at {now}");
        }
        // Visible again exactly at its visibility time.
        assert_eq!(peek(s, 10).len(), 1);
        let again = get(s, 32, 10, 20);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].id, m.id);
        assert_eq!(again[0].dequeue_count, 2);
        assert_ne!(again[0].pop_receipt, first[0].pop_receipt);
        assert_eq!(again[0].next_visible, at(20));

        // The current receipt still works after the timeout, if nobody received it since.
        delete(s, &m.id, &again[0].pop_receipt, 500).unwrap();

        // A message put with a visibility timeout appears only then.
        let later = s
            .put_message(ACCOUNT, "q", "later", at(0), at(60), None)
            .unwrap();
        assert_eq!(later.next_visible, at(60));
        assert!(get(s, 32, 59, 100).is_empty());
        assert_eq!(texts(&get(s, 32, 60, 100)), ["later"]);
    });
}

#[test]
fn peek_changes_nothing() {
    both(StoreOptions::default(), |s| {
        queue(s);
        for t in ["a", "b", "c"] {
            put(s, t);
        }
        let p1 = s.peek_messages(ACCOUNT, "q", 2, at(0)).unwrap();
        assert_eq!(texts(&p1), ["a", "b"]);
        for m in &p1 {
            assert_eq!(m.pop_receipt, "");
            assert_eq!(m.dequeue_count, 0);
            assert_eq!(m.next_visible, at(0));
        }
        assert_eq!(s.peek_messages(ACCOUNT, "q", 2, at(0)).unwrap(), p1);
        let got = get(s, 1, 0, 10);
        assert_eq!(got[0].id, p1[0].id);
        assert_eq!(got[0].dequeue_count, 1, "peeks are not dequeues");
        // The peeked message's dequeue count shows once it is visible again.
        assert_eq!(texts(&peek(s, 10)), ["b", "c", "a"]);
        assert_eq!(peek(s, 10)[2].dequeue_count, 1);
    });
}

#[test]
fn expired_messages_are_never_served_and_are_purged() {
    both(StoreOptions::default(), |s| {
        queue(s);
        let m = s
            .put_message(ACCOUNT, "q", "short", at(0), at(0), Some(at(10)))
            .unwrap();
        let forever = put(s, "forever");
        assert_eq!(texts(&peek(s, 9)), ["short", "forever"]);
        // Gone at its expiry time, for every operation.
        assert_eq!(texts(&peek(s, 10)), ["forever"]);
        assert!(matches!(
            delete(s, &m.id, &m.pop_receipt, 10),
            Err(StoreError::MessageNotFound)
        ));
        assert!(matches!(
            s.update_message(
                ACCOUNT,
                "q",
                &m.id,
                &m.pop_receipt,
                Some("x"),
                at(10),
                at(10)
            ),
            Err(StoreError::MessageNotFound)
        ));
        assert_eq!(texts(&get(s, 32, 10, 20)), ["forever"]);
        // Counted until purged (the count may be higher than what is live, never lower).
        assert_eq!(count(s), 2);
        assert_eq!(s.purge_expired_messages(at(9), 100).unwrap(), 0);
        assert_eq!(s.purge_expired_messages(at(10), 100).unwrap(), 1);
        assert_eq!(count(s), 1);
        assert_eq!(s.purge_expired_messages(at(10), 100).unwrap(), 0);

        // messagettl -1: never expires, whatever the time.
        let far = datetime!(2250-01-01 0:00 UTC);
        assert_eq!(s.purge_expired_messages(far, 100).unwrap(), 0);
        let left = s.peek_messages(ACCOUNT, "q", 32, far).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(
            (left[0].id.as_str(), left[0].expires),
            (forever.id.as_str(), None)
        );
    });
}

#[test]
fn purge_works_in_bounded_batches_across_queues() {
    both(StoreOptions::default(), |s| {
        queue(s);
        s.create_queue(ACCOUNT, "other", &[]).unwrap();
        for i in 0..3 {
            s.put_message(ACCOUNT, "q", "x", at(0), at(0), Some(at(i + 1)))
                .unwrap();
            s.put_message(ACCOUNT, "other", "y", at(0), at(0), Some(at(i + 1)))
                .unwrap();
        }
        s.put_message(ACCOUNT, "other", "z", at(0), at(0), Some(at(100)))
            .unwrap();
        assert_eq!(s.purge_expired_messages(at(50), 0).unwrap(), 0);
        let mut removed = Vec::new();
        loop {
            let n = s.purge_expired_messages(at(50), 4).unwrap();
            removed.push(n);
            if n == 0 {
                break;
            }
        }
        assert_eq!(removed, [4, 2, 0]);
        assert_eq!(count(s), 0);
        assert_eq!(
            s.get_queue(ACCOUNT, "other")
                .unwrap()
                .approximate_message_count,
            1
        );
    });
}

#[test]
fn the_collector_purges_expired_messages() {
    both(StoreOptions::default(), |s| {
        queue(s);
        // Real time here: the collector uses the clock.
        let now = OffsetDateTime::now_utc();
        let hour = Duration::hours(1);
        for _ in 0..3 {
            s.put_message(
                ACCOUNT,
                "q",
                "old",
                now - hour * 2,
                now - hour * 2,
                Some(now - hour),
            )
            .unwrap();
        }
        s.put_message(ACCOUNT, "q", "new", now, now, Some(now + hour))
            .unwrap();
        s.put_message(ACCOUNT, "q", "forever", now, now, None)
            .unwrap();
        let before = s.gc_totals().messages_expired;
        let stats = s.collect_garbage().unwrap();
        assert_eq!(stats.messages_expired, 3);
        assert_eq!(s.gc_totals().messages_expired, before + 3);
        assert_eq!(count(s), 2);
        assert_eq!(s.collect_garbage().unwrap().messages_expired, 0);
    });
}

#[test]
fn update_text_only_or_visibility_only() {
    both(StoreOptions::default(), |s| {
        queue(s);
        let m = put(s, "old text");
        let got = get(s, 1, 0, 30).remove(0);
        // New text, visible at once (visibility timeout 0).
        let u1 = s
            .update_message(
                ACCOUNT,
                "q",
                &m.id,
                &got.pop_receipt,
                Some("new text"),
                at(1),
                at(1),
            )
            .unwrap();
        assert_eq!(u1.next_visible, at(1));
        assert_ne!(u1.pop_receipt, got.pop_receipt);
        let seen = peek(s, 1);
        assert_eq!(texts(&seen), ["new text"]);
        assert_eq!(seen[0].dequeue_count, 1, "an update is not a dequeue");
        assert_eq!(seen[0].next_visible, at(1));
        assert!(matches!(
            s.update_message(ACCOUNT, "q", &m.id, &got.pop_receipt, None, at(1), at(1)),
            Err(StoreError::PopReceiptMismatch)
        ));
        // Visibility only: the text stays.
        let u2 = s
            .update_message(ACCOUNT, "q", &m.id, &u1.pop_receipt, None, at(2), at(50))
            .unwrap();
        assert_eq!(u2.next_visible, at(50));
        assert!(peek(s, 49).is_empty());
        let back = get(s, 1, 50, 60).remove(0);
        assert_eq!(back.text, "new text");
        assert_eq!(back.dequeue_count, 2);
        // An empty text is a text.
        let u3 = s
            .update_message(
                ACCOUNT,
                "q",
                &m.id,
                &back.pop_receipt,
                Some(""),
                at(51),
                at(51),
            )
            .unwrap();
        assert_eq!(texts(&peek(s, 51)), [""]);
        delete(s, &m.id, &u3.pop_receipt, 51).unwrap();
    });
}

#[test]
fn clear_deletes_every_message_of_the_queue_only() {
    both(StoreOptions::default(), |s| {
        queue(s);
        s.create_queue(ACCOUNT, "other", &[]).unwrap();
        let kept = s
            .put_message(ACCOUNT, "other", "kept", at(0), at(0), None)
            .unwrap();
        let mut old = Vec::new();
        for i in 0..5 {
            old.push(put(s, &format!("m{i}")));
        }
        get(s, 2, 0, 100);
        s.clear_messages(ACCOUNT, "q").unwrap();
        assert_eq!(count(s), 0);
        assert!(peek(s, 1000).is_empty());
        assert!(matches!(
            delete(s, &old[4].id, &old[4].pop_receipt, 0),
            Err(StoreError::MessageNotFound)
        ));
        assert_eq!(
            s.peek_messages(ACCOUNT, "other", 32, at(0)).unwrap()[0].id,
            kept.id
        );
        assert_eq!(
            s.get_queue(ACCOUNT, "other")
                .unwrap()
                .approximate_message_count,
            1
        );
        // Clearing an empty queue is fine; the queue goes on.
        s.clear_messages(ACCOUNT, "q").unwrap();
        put(s, "after");
        assert_eq!(count(s), 1);
    });
}

#[test]
fn messages_are_served_in_the_order_they_became_visible() {
    both(StoreOptions::default(), |s| {
        queue(s);
        for t in ["a", "b", "c"] {
            put(s, t);
        }
        // Inserted later but visible earlier: served first.
        s.put_message(ACCOUNT, "q", "e", at(0), at(3), None)
            .unwrap();
        s.put_message(ACCOUNT, "q", "f", at(0), at(1), None)
            .unwrap();
        // a goes back to the queue at 5; b and c became visible at 0, f at 1, e at 3.
        assert_eq!(texts(&get(s, 1, 0, 5)), ["a"]);
        assert_eq!(texts(&peek(s, 6)), ["b", "c", "f", "e", "a"]);
        assert_eq!(
            texts(&s.peek_messages(ACCOUNT, "q", 2, at(6)).unwrap()),
            ["b", "c"]
        );
        assert_eq!(texts(&get(s, 3, 6, 100)), ["b", "c", "f"]);
        assert_eq!(texts(&get(s, 32, 6, 100)), ["e", "a"]);
        assert!(get(s, 32, 6, 100).is_empty());
        // At 100 all five are back, in the order they were received (same visibility time:
        // insertion order).
        assert_eq!(texts(&peek(s, 100)), ["a", "b", "c", "e", "f"]);
    });
}

#[test]
fn the_message_count_follows_puts_deletes_and_clears() {
    both(StoreOptions::default(), |s| {
        queue(s);
        let ms: Vec<_> = (0..10).map(|i| put(s, &i.to_string())).collect();
        assert_eq!(count(s), 10);
        let got = get(s, 4, 0, 100);
        assert_eq!(count(s), 10);
        for m in &got {
            delete(s, &m.id, &m.pop_receipt, 1).unwrap();
        }
        assert_eq!(count(s), 6);
        // A failed delete changes nothing.
        assert!(delete(s, &ms[9].id, "wrong", 1).is_err());
        assert_eq!(count(s), 6);
        let listed = s.list_queues(ACCOUNT, Some("q"), None, 1).unwrap();
        assert_eq!(listed.items[0].approximate_message_count, 6);
    });
}

#[test]
fn long_and_unicode_texts_round_trip() {
    both(StoreOptions::default(), |s| {
        queue(s);
        let long: String = "é😀x".repeat(64 * 1024 / 7);
        for t in [long.as_str(), "", "<xml> & \"quotes\"\n\0 nul"] {
            let m = put(s, t);
            let got = get(s, 1, 0, 10).remove(0);
            assert_eq!(got.text, t);
            delete(s, &m.id, &got.pop_receipt, 0).unwrap();
        }
    });
}

#[test]
fn visibility_and_receipts_hold_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (held, to_delete, fresh);
    {
        let s = Store::open(dir.path()).unwrap();
        queue(&s);
        let a = put(&s, "held");
        put(&s, "to-delete");
        fresh = put(&s, "fresh");
        let got = get(&s, 2, 0, 60);
        assert_eq!(texts(&got), ["held", "to-delete"]);
        (held, to_delete) = (got[0].clone(), got[1].clone());
        assert_eq!(held.id, a.id);
        s.close().unwrap();
    }
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(count(&s), 3);
    // Still hidden until 60, with nothing having run in between.
    assert_eq!(texts(&peek(&s, 0)), ["fresh"]);
    assert_eq!(texts(&peek(&s, 59)), ["fresh"]);
    // The receipt handed out before the restart is still the current one.
    delete(&s, &to_delete.id, &to_delete.pop_receipt, 30).unwrap();
    assert_eq!(texts(&peek(&s, 60)), ["fresh", "held"]);
    let again = get(&s, 32, 60, 120);
    assert_eq!(texts(&again), ["fresh", "held"]);
    assert_eq!(
        (again[0].id.as_str(), again[0].dequeue_count),
        (fresh.id.as_str(), 1)
    );
    assert_eq!(again[1].dequeue_count, 2);
    assert!(matches!(
        delete(&s, &held.id, &held.pop_receipt, 61),
        Err(StoreError::PopReceiptMismatch)
    ));
    s.close().unwrap();
    // And the deletion stayed.
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(count(&s), 2);
    assert!(matches!(
        delete(&s, &to_delete.id, &to_delete.pop_receipt, 61),
        Err(StoreError::MessageNotFound)
    ));
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

#[test]
fn concurrent_consumers_receive_each_message_exactly_once() {
    const MESSAGES: usize = 1000;
    both(StoreOptions::default(), |s| {
        queue(s);
        // Filled from several threads so group commit folds the puts together on disk.
        let mut put_ids: Vec<String> = std::thread::scope(|scope| {
            let fillers: Vec<_> = (0..8)
                .map(|t| {
                    scope.spawn(move || {
                        (0..MESSAGES / 8)
                            .map(|i| put(s, &format!("{t}-{i}")).id)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            fillers
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let received: Vec<Vec<QueueMessage>> = std::thread::scope(|scope| {
            let consumers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(move || {
                        let mut mine = Vec::new();
                        loop {
                            // Visibility timeout of an hour: nothing comes back during the test.
                            let batch = get(s, 32, 0, 3600);
                            if batch.is_empty() {
                                return mine;
                            }
                            mine.extend(batch);
                        }
                    })
                })
                .collect();
            consumers.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut ids: Vec<String> = received.iter().flatten().map(|m| m.id.clone()).collect();
        assert!(received.iter().flatten().all(|m| m.dequeue_count == 1));
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "a message was received twice");
        ids.sort();
        put_ids.sort();
        assert_eq!(ids, put_ids);
    });
}
