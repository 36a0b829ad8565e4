//! Queue operations at scale: receiving from a queue of 1,000,000 messages costs what it costs on
//! a queue of 10 (an index range read from its start); clearing or deleting that queue answers
//! at once, and the collector then deletes the messages in bounded writer jobs while other writes
//! go on. Ignored by default (filling the queue takes a while); run with
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
    // The test runs the collector itself, to measure it.
    let fx = Fixture::disk(StoreOptions {
        gc_interval: Duration::from_secs(3600),
        ..StoreOptions::default()
    });
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
    let clear = Instant::now();
    s.clear_messages(ACCOUNT, "big").unwrap();
    let cleared = clear.elapsed();
    println!("clear messages of {BIG}: {cleared:?}");
    assert!(cleared < Duration::from_secs(1), "{cleared:?}");
    assert_eq!(
        s.get_queue(ACCOUNT, "big")
            .unwrap()
            .approximate_message_count,
        0
    );
    assert!(s.peek_messages(ACCOUNT, "big", 32, T0).unwrap().is_empty());
    collect_while_writing(s, (BIG - ROUNDS - 10) as u64);

    fill(s, "big", BIG);
    let delete = Instant::now();
    s.delete_queue(ACCOUNT, "big").unwrap();
    let deleted = delete.elapsed();
    println!("delete queue of {BIG}: {deleted:?}");
    assert!(deleted < Duration::from_secs(1), "{deleted:?}");
    assert!(matches!(
        s.get_queue(ACCOUNT, "big"),
        Err(StoreError::QueueNotFound)
    ));
    collect_while_writing(s, BIG as u64);
    assert_eq!(s.queue_table_rows().unwrap(), (1, 0));
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

/// Runs the collector over `discarded` messages of a detached queue while another thread puts
/// and deletes messages of queue "small" one at a time, and reports the collector's time and the
/// slowest of those writes: what a client waits at most while a long queue goes away.
fn collect_while_writing(s: &Store, discarded: u64) {
    let done = std::sync::atomic::AtomicBool::new(false);
    let (gc, mut waits) = std::thread::scope(|scope| {
        let collector = scope.spawn(|| {
            let start = Instant::now();
            let stats = s.collect_garbage().unwrap();
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            (stats, start.elapsed())
        });
        let mut waits = Vec::new();
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let start = Instant::now();
            let m = s.put_message(ACCOUNT, "small", "x", T0, T0, None).unwrap();
            s.delete_message(ACCOUNT, "small", &m.id, &m.pop_receipt, T0)
                .unwrap();
            waits.push(start.elapsed());
        }
        (collector.join().unwrap(), waits)
    });
    let (stats, took) = gc;
    assert_eq!(stats.messages_discarded, discarded);
    waits.sort();
    let p99 = waits[waits.len() * 99 / 100];
    let max = *waits.last().unwrap();
    println!(
        "collector: {discarded} messages in {took:?}; meanwhile {} put+delete, p99 {p99:?}, max {max:?}",
        waits.len()
    );
    assert!(
        max < Duration::from_secs(2),
        "a write waited {max:?} behind the collector"
    );
}
