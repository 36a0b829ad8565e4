//! Random sequences of message operations against a model of the queue: what each operation
//! returns, which messages a consumer receives in which order, and the stored count.

mod support;

use proptest::prelude::*;

use lapis_store::*;
use support::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2100-01-01 0:00 UTC);

fn at(secs: i64) -> OffsetDateTime {
    T0 + Duration::seconds(secs)
}

#[derive(Debug, Clone)]
enum Op {
    Put {
        visible_in: i64,
        ttl: Option<i64>,
    },
    Get {
        count: u32,
        timeout: i64,
    },
    Peek {
        count: u32,
    },
    /// `pick` chooses among every message ever put; `stale` uses a receipt that is not current.
    Delete {
        pick: usize,
        stale: bool,
    },
    Update {
        pick: usize,
        stale: bool,
        text: bool,
        timeout: i64,
    },
    Advance {
        secs: i64,
    },
    Purge,
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..3i64, prop::option::weighted(0.6, 1..8i64))
            .prop_map(|(visible_in, ttl)| Op::Put { visible_in, ttl }),
        6 => (1..4u32, 1..4i64).prop_map(|(count, timeout)| Op::Get { count, timeout }),
        2 => (1..5u32).prop_map(|count| Op::Peek { count }),
        4 => (any::<usize>(), prop::bool::weighted(0.3))
            .prop_map(|(pick, stale)| Op::Delete { pick, stale }),
        4 => (any::<usize>(), prop::bool::weighted(0.3), any::<bool>(), 0..4i64)
            .prop_map(|(pick, stale, text, timeout)| Op::Update { pick, stale, text, timeout }),
        6 => (0..3i64).prop_map(|secs| Op::Advance { secs }),
        2 => Just(Op::Purge),
        1 => Just(Op::Clear),
    ]
}

#[derive(Debug, Clone)]
struct Msg {
    id: String,
    text: String,
    seq: u64,
    expires: Option<i64>,
    visible_at: i64,
    dequeue_count: u64,
    receipt: String,
    /// Receipts this message had before its current one.
    stale: Vec<String>,
}

#[derive(Default)]
struct Model {
    now: i64,
    /// Stored messages, expired ones included until purged.
    stored: Vec<Msg>,
    /// Messages deleted, cleared or purged: (id, a receipt they had).
    gone: Vec<(String, String)>,
    puts: u64,
}

impl Model {
    fn live(&self, m: &Msg) -> bool {
        m.expires.is_none_or(|e| e > self.now)
    }

    /// Indexes into `stored` of what a consumer gets now, in order.
    fn next_visible(&self, count: u32) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.stored.len())
            .filter(|&i| self.live(&self.stored[i]) && self.stored[i].visible_at <= self.now)
            .collect();
        idx.sort_by_key(|&i| (self.stored[i].visible_at, self.stored[i].seq));
        idx.truncate(count as usize);
        idx
    }

    /// Which message `pick` names and the receipt to try: (index in `stored` or None for a
    /// gone one, id, receipt).
    fn target(&self, pick: usize, stale: bool) -> Option<(Option<usize>, String, String)> {
        let total = self.stored.len() + self.gone.len();
        if total == 0 {
            return None;
        }
        let k = pick % total;
        Some(match self.stored.get(k) {
            Some(m) => {
                let receipt = if stale {
                    m.stale.last().cloned().unwrap_or_else(|| "bogus".into())
                } else {
                    m.receipt.clone()
                };
                (Some(k), m.id.clone(), receipt)
            }
            None => {
                let (id, receipt) = &self.gone[k - self.stored.len()];
                (None, id.clone(), receipt.clone())
            }
        })
    }

    /// What Delete and Update Message must answer for this target.
    fn expect(
        &self,
        slot: Option<usize>,
        receipt: &str,
    ) -> std::result::Result<usize, &'static str> {
        match slot {
            None => Err("MessageNotFound"),
            Some(i) if !self.live(&self.stored[i]) => Err("MessageNotFound"),
            Some(i) if self.stored[i].receipt != receipt => Err("PopReceiptMismatch"),
            Some(i) => Ok(i),
        }
    }
}

fn outcome<T>(r: &Result<T>) -> std::result::Result<(), &'static str> {
    match r {
        Ok(_) => Ok(()),
        Err(StoreError::MessageNotFound) => Err("MessageNotFound"),
        Err(StoreError::PopReceiptMismatch) => Err("PopReceiptMismatch"),
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn run(ops: Vec<Op>) {
    let s = Store::in_memory().unwrap();
    s.create_queue(ACCOUNT, "q", &[]).unwrap();
    let mut model = Model::default();
    for op in ops {
        let now = model.now;
        match op {
            Op::Put { visible_in, ttl } => {
                model.puts += 1;
                let text = format!("m{}", model.puts);
                let expires = ttl.map(|t| now + t);
                let m = s
                    .put_message(
                        ACCOUNT,
                        "q",
                        &text,
                        at(now),
                        at(now + visible_in),
                        expires.map(at),
                    )
                    .unwrap();
                model.stored.push(Msg {
                    id: m.id,
                    text,
                    seq: model.puts,
                    expires,
                    visible_at: now + visible_in,
                    dequeue_count: 0,
                    receipt: m.pop_receipt,
                    stale: Vec::new(),
                });
            }
            Op::Get { count, timeout } => {
                let expected = model.next_visible(count);
                let got = s
                    .get_messages(ACCOUNT, "q", count, at(now), at(now + timeout))
                    .unwrap();
                assert_eq!(got.len(), expected.len(), "get at {now}");
                for (g, &i) in got.iter().zip(&expected) {
                    let m = &mut model.stored[i];
                    assert_eq!((&g.id, &g.text), (&m.id, &m.text));
                    m.dequeue_count += 1;
                    m.visible_at = now + timeout;
                    assert_eq!(g.dequeue_count, m.dequeue_count);
                    assert_eq!(g.next_visible, at(m.visible_at));
                    assert_eq!(g.expires, m.expires.map(at));
                    let old = std::mem::replace(&mut m.receipt, g.pop_receipt.clone());
                    m.stale.push(old);
                }
            }
            Op::Peek { count } => {
                let expected = model.next_visible(count);
                let seen = s.peek_messages(ACCOUNT, "q", count, at(now)).unwrap();
                let ids: Vec<_> = seen
                    .iter()
                    .map(|m| (&m.id, m.dequeue_count, m.next_visible))
                    .collect();
                let want: Vec<_> = expected
                    .iter()
                    .map(|&i| {
                        let m = &model.stored[i];
                        (&m.id, m.dequeue_count, at(m.visible_at))
                    })
                    .collect();
                assert_eq!(ids, want, "peek at {now}");
                assert!(seen.iter().all(|m| m.pop_receipt.is_empty()));
            }
            Op::Delete { pick, stale } => {
                let Some((slot, id, receipt)) = model.target(pick, stale) else {
                    continue;
                };
                let expected = model.expect(slot, &receipt);
                let r = s.delete_message(ACCOUNT, "q", &id, &receipt, at(now));
                assert_eq!(outcome(&r), expected.map(drop), "delete {id} at {now}");
                if let Ok(i) = expected {
                    let m = model.stored.remove(i);
                    model.gone.push((m.id, m.receipt));
                }
            }
            Op::Update {
                pick,
                stale,
                text,
                timeout,
            } => {
                let Some((slot, id, receipt)) = model.target(pick, stale) else {
                    continue;
                };
                let expected = model.expect(slot, &receipt);
                let new_text = text.then(|| format!("u{}-{now}", model.puts));
                let r = s.update_message(
                    ACCOUNT,
                    "q",
                    &id,
                    &receipt,
                    new_text.as_deref(),
                    at(now),
                    at(now + timeout),
                );
                assert_eq!(outcome(&r), expected.map(drop), "update {id} at {now}");
                if let (Ok(i), Ok(u)) = (expected, r) {
                    let m = &mut model.stored[i];
                    assert_eq!(u.next_visible, at(now + timeout));
                    m.visible_at = now + timeout;
                    if let Some(t) = new_text {
                        m.text = t;
                    }
                    let old = std::mem::replace(&mut m.receipt, u.pop_receipt);
                    m.stale.push(old);
                }
            }
            Op::Advance { secs } => model.now += secs,
            Op::Purge => {
                let expired: Vec<Msg> = model
                    .stored
                    .iter()
                    .filter(|m| !model.live(m))
                    .cloned()
                    .collect();
                assert_eq!(
                    s.purge_expired_messages(at(now), 1000).unwrap(),
                    expired.len() as u64
                );
                model.stored.retain(|m| m.expires.is_none_or(|e| e > now));
                model
                    .gone
                    .extend(expired.into_iter().map(|m| (m.id, m.receipt)));
            }
            Op::Clear => {
                s.clear_messages(ACCOUNT, "q").unwrap();
                model
                    .gone
                    .extend(model.stored.drain(..).map(|m| (m.id, m.receipt)));
            }
        }
        assert_eq!(
            s.get_queue(ACCOUNT, "q").unwrap().approximate_message_count,
            model.stored.len() as u64,
            "count after {:?}",
            model.now
        );
    }
    // Finally everything stored is peekable once visible, in the model's order and text.
    model.now += 100;
    let ids: Vec<_> = model
        .next_visible(u32::MAX)
        .into_iter()
        .map(|i| (model.stored[i].id.clone(), model.stored[i].text.clone()))
        .collect();
    let seen: Vec<_> = s
        .peek_messages(ACCOUNT, "q", u32::MAX, at(model.now))
        .unwrap()
        .into_iter()
        .map(|m| (m.id, m.text))
        .collect();
    assert_eq!(seen, ids);
    s.close().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn message_operations_match_the_model(ops in prop::collection::vec(op(), 1..60)) {
        run(ops);
    }
}
