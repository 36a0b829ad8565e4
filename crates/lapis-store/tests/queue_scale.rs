//! Queue operations at scale: receiving from a queue of 1,000,000 messages costs what it costs on
//! a queue of 10 (an index range read from its start), and deleting that queue takes seconds.
//! Ignored by default (filling the queue takes a while); run with
//! `cargo test --release -p lapis-store --test queue_scale -- --ignored --nocapture`.

mod support;

use std::time::{Duration, Instant};

use lapis_store::*;
use support::*;
use time::macros::datetime;
use time::OffsetDateTime;

const T0: OffsetDateTime = datetime!(2100-01-01 0:00 UTC);

/// `n` messages from 8 threads (group commit folds them together).
fn fill(s: &Store, queue: &str, n: usize) {
    std::thread::scope(|scope| {
        for t in 0..8 {
            scope.spawn(move || {
                for i in (t..n).step_by(8) {
                    s.put_message(ACCOUNT, queue, &format!("message {i}"), T0, T0, None)
                        .unwrap();
                }
            });
        }
    });
}

/// Time for `rounds` receive-and-delete cycles of one message each.
fn receive_and_delete(s: &Store, queue: &str, rounds: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..rounds {
        let m = s
            .get_messages(ACCOUNT, queue, 1, T0, T0 + time::Duration::hours(1))
            .unwrap()
            .remove(0);
        s.delete_message(ACCOUNT, queue, &m.id, &m.pop_receipt, T0)
            .unwrap();
    }
    start.elapsed()
}

#[test]
#[ignore = "fills a queue of 1,000,000 messages"]
fn receiving_from_a_million_messages_costs_what_it_costs_from_ten() {
    const BIG: usize = 1_000_000;
    const ROUNDS: usize = 2_000;
    let fx = Fixture::disk(StoreOptions::default());
    let s = &fx.store;
    s.create_queue(ACCOUNT, "small", &[]).unwrap();
    s.create_queue(ACCOUNT, "big", &[]).unwrap();
    fill(s, "small", ROUNDS + 10);
    let start = Instant::now();
    fill(s, "big", BIG);
    println!("filled {BIG} messages in {:?}", start.elapsed());
    // Warm both queues' pages and statements, then measure each.
    receive_and_delete(s, "small", 10);
    receive_and_delete(s, "big", 10);
    let small = receive_and_delete(s, "small", ROUNDS);
    let big = receive_and_delete(s, "big", ROUNDS);
    println!("{ROUNDS} receive+delete: queue of 10..{ROUNDS}: {small:?}, queue of {BIG}: {big:?}");
    assert!(
        big < small * 3,
        "a long queue must not be slower to receive from: {big:?} vs {small:?}"
    );
    let peek = Instant::now();
    assert_eq!(s.peek_messages(ACCOUNT, "big", 32, T0).unwrap().len(), 32);
    println!("peek 32 of {BIG}: {:?}", peek.elapsed());
    let count = Instant::now();
    assert_eq!(
        s.get_queue(ACCOUNT, "big")
            .unwrap()
            .approximate_message_count,
        (BIG - ROUNDS - 10) as u64
    );
    println!("get queue metadata: {:?}", count.elapsed());
    let delete = Instant::now();
    s.delete_queue(ACCOUNT, "big").unwrap();
    println!("delete queue of {BIG}: {:?}", delete.elapsed());
    assert_eq!(s.integrity_check().unwrap(), "ok");
}
