//! One queue filled with N small messages by Put Message (32 in flight), and at 1,000, 100,000 and
//! N messages: the latency of Get Messages and of Get + Delete Message, and the server's RSS.
//! Every timed Get + Delete is followed by an untimed Put, so the queue keeps its size while it
//! is measured.

use std::sync::Arc;
use std::time::Instant;

use crate::http::{check, send, Target, QUEUE_VERSION};
use crate::load::{self, LoadRun};
use crate::report::{int, mib, num, Report};
use crate::server::status_kib;

const QUEUE: &str = "scale";
const IN_FLIGHT: usize = 32;
/// The queue sizes measured below N; N is measured last.
const STEPS: [u64; 2] = [1_000, 100_000];
/// Timed Get + Delete pairs per size, one at a time on one connection...
const PAIRS: usize = 2_000;
/// ...or fewer (at least 100) once a size has taken this long: Azurite's Get Messages sorts the
/// whole queue.
const STEP_SECONDS: f64 = 20.0;

/// Message `i`'s text, 46 bytes.
fn text(i: u64) -> String {
    format!("message {i:09} of the scale run, 0123456789")
}

/// What was measured with the queue at one size.
struct Step {
    messages: u64,
    /// Milliseconds per Get Messages, and per Get + Delete, sorted.
    get: Vec<f64>,
    pair: Vec<f64>,
    rss_kib: u64,
}

/// Fills the queue of `target` to `n` messages in steps and measures each; `name` ("lapis",
/// "azurite") heads the figures.
pub async fn run(
    target: Arc<Target>,
    name: &str,
    n: u64,
    report: &mut Report,
) -> Result<(), String> {
    let url = target.url(&target.queue, &format!("/{QUEUE}"), &[]);
    let req = target.client.put(url).header("x-ms-version", QUEUE_VERSION);
    send(req).await?.expect(201, "create queue")?;

    let (mut loads, mut steps, mut have) = (Vec::new(), Vec::new(), 0);
    for size in STEPS.iter().copied().filter(|&s| s < n).chain([n]) {
        let run = load::run(
            &format!("{name} Put Message"),
            size - have,
            IN_FLIGHT,
            target.pid,
            {
                let target = target.clone();
                move |j| {
                    let target = target.clone();
                    async move { put(&target, have + j).await }
                }
            },
        )
        .await;
        if run.failures > 0 {
            let first = run.first_failure.unwrap_or_default();
            return Err(format!(
                "{} Put Messages failed; first: {first}",
                run.failures
            ));
        }
        loads.push(run);
        have = size;
        check(
            "messages after the fill",
            count(&target).await?,
            size as usize,
        )?;
        steps.push(measure(&target, size).await?);
        check(
            "messages after the timed pairs",
            count(&target).await?,
            size as usize,
        )?;
    }
    add_rows(report, name, n, &loads, &steps);
    Ok(())
}

async fn put(target: &Target, i: u64) -> Result<(), String> {
    let url = target.url(&target.queue, &format!("/{QUEUE}/messages"), &[]);
    let body = format!(
        "<QueueMessage><MessageText>{}</MessageText></QueueMessage>",
        text(i)
    );
    let req = target
        .client
        .post(url)
        .header("x-ms-version", QUEUE_VERSION)
        .header("Content-Type", "application/xml")
        .body(body);
    send(req).await?.expect(201, "put message").map(drop)
}

/// The queue's `x-ms-approximate-messages-count` (Get Queue Metadata).
async fn count(target: &Target) -> Result<usize, String> {
    let url = target.url(&target.queue, &format!("/{QUEUE}"), &[("comp", "metadata")]);
    let req = target.client.get(url).header("x-ms-version", QUEUE_VERSION);
    let reply = send(req).await?.expect(200, "get queue metadata")?;
    let value = reply
        .header("x-ms-approximate-messages-count")
        .unwrap_or("");
    value
        .parse()
        .map_err(|_| format!("x-ms-approximate-messages-count {value:?}"))
}

/// The text of the first `<tag>` of `xml`.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    Some(&xml[start..end])
}

/// Up to `PAIRS` timed Get Messages (one message, hidden for 30 s) + Delete Message, one at a
/// time, each followed by an untimed Put Message.
async fn measure(target: &Target, size: u64) -> Result<Step, String> {
    let get_url = target.url(
        &target.queue,
        &format!("/{QUEUE}/messages"),
        &[("visibilitytimeout", "30")],
    );
    let (mut get, mut pair) = (Vec::with_capacity(PAIRS), Vec::with_capacity(PAIRS));
    let started = Instant::now();
    for k in 0..PAIRS as u64 {
        if k >= 100 && started.elapsed().as_secs_f64() > STEP_SECONDS {
            break;
        }
        let t0 = Instant::now();
        let req = target
            .client
            .get(get_url.clone())
            .header("x-ms-version", QUEUE_VERSION);
        let reply = send(req).await?.expect(200, "get messages")?;
        let t1 = Instant::now();
        let id = element(&reply.body, "MessageId").ok_or("Get Messages answered no message")?;
        let receipt = element(&reply.body, "PopReceipt").ok_or("Get Messages: no PopReceipt")?;
        let url = target.url(
            &target.queue,
            &format!("/{QUEUE}/messages/{id}"),
            &[("popreceipt", receipt)],
        );
        let req = target
            .client
            .delete(url)
            .header("x-ms-version", QUEUE_VERSION);
        send(req).await?.expect(204, "delete message")?;
        get.push((t1 - t0).as_secs_f64() * 1000.0);
        pair.push(t0.elapsed().as_secs_f64() * 1000.0);
        put(target, size + k).await?;
    }
    get.sort_by(f64::total_cmp);
    pair.sort_by(f64::total_cmp);
    Ok(Step {
        messages: size,
        get,
        pair,
        rss_kib: status_kib(target.pid, "VmRSS:").unwrap_or(0),
    })
}

/// The nearest-rank percentile `p` of sorted `v`.
fn percentile(v: &[f64], p: usize) -> f64 {
    let rank = (v.len() * p).div_ceil(100).max(1);
    v[rank - 1]
}

fn add_rows(report: &mut Report, name: &str, n: u64, loads: &[LoadRun], steps: &[Step]) {
    let what = format!(
        "{name}: {} Put Message ({} B text, {IN_FLIGHT} in flight)",
        int(n),
        text(0).len()
    );
    let seconds: f64 = loads.iter().map(|l| l.seconds).sum();
    report.add(format!("{what}: load time"), num(seconds), "s");
    report.add(
        format!("{what}: rate"),
        num(n as f64 / seconds),
        "messages/s",
    );
    let kib = loads.iter().flat_map(|l| l.rss.iter().map(|s| s.kib));
    let (min, max) = (kib.clone().min().unwrap_or(0), kib.max().unwrap_or(0));
    report.add(
        format!("{what}: {name} RSS min / max"),
        format!("{} / {}", mib(min), mib(max)),
        "MiB",
    );

    let sizes = join(steps, |s| int(s.messages));
    let at = format!("at {sizes} messages");
    report.add(
        format!("{name}: timed Get + Delete pairs {at}"),
        join(steps, |s| int(s.get.len() as u64)),
        "pairs",
    );
    let get: fn(&Step) -> &[f64] = |s| &s.get;
    for (figure, times) in [("Get Messages", get), ("Get + Delete Message", |s| &s.pair)] {
        for p in [50, 99] {
            let value = join(steps, |s| num(percentile(times(s), p)));
            report.add(format!("{name}: {figure} p{p} {at}"), value, "ms");
        }
    }
    report.add(
        format!("{name} RSS {at} (after the timed pairs)"),
        join(steps, |s| mib(s.rss_kib)),
        "MiB",
    );
}

fn join(steps: &[Step], f: impl Fn(&Step) -> String) -> String {
    steps.iter().map(f).collect::<Vec<_>>().join(" / ")
}
