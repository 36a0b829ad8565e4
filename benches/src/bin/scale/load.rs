//! A bulk load: `jobs` numbered requests with a fixed number in flight, while the server's RSS is
//! sampled every second to show whether memory grows with the data.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::server::status_kib;

/// Workers give up after this many failed jobs: a dead server would otherwise fail them all.
const MAX_FAILURES: u64 = 100;

pub struct RssSample {
    /// Jobs finished when the sample was taken.
    pub done: u64,
    pub kib: u64,
}

pub struct LoadRun {
    pub jobs: u64,
    pub seconds: f64,
    pub failures: u64,
    pub first_failure: Option<String>,
    /// One sample at the start, one a second, one at the end.
    pub rss: Vec<RssSample>,
}

impl LoadRun {
    pub fn rate(&self) -> f64 {
        self.jobs as f64 / self.seconds
    }

    /// RSS of the first sample taken once `percent` of the jobs were done.
    pub fn rss_at(&self, percent: u64) -> u64 {
        let target = self.jobs * percent / 100;
        self.rss
            .iter()
            .find(|s| s.done >= target)
            .or(self.rss.last())
            .map_or(0, |s| s.kib)
    }

    pub fn rss_min_max(&self) -> (u64, u64) {
        let kib = self.rss.iter().map(|s| s.kib);
        (kib.clone().min().unwrap_or(0), kib.max().unwrap_or(0))
    }
}

/// Runs `job(0..jobs)` with `in_flight` tasks, each taking the next number until none is left.
pub async fn run<F, Fut>(label: &str, jobs: u64, in_flight: usize, pid: u32, job: F) -> LoadRun
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let first_failure = Arc::new(Mutex::new(None));
    let finished = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let sampler = tokio::spawn(sample_rss(
        label.to_owned(),
        jobs,
        pid,
        done.clone(),
        finished.clone(),
    ));
    let workers: Vec<_> = (0..in_flight)
        .map(|_| {
            let (job, next, done) = (job.clone(), next.clone(), done.clone());
            let (failures, first_failure) = (failures.clone(), first_failure.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= jobs || failures.load(Ordering::Relaxed) >= MAX_FAILURES {
                        break;
                    }
                    if let Err(e) = job(i).await {
                        failures.fetch_add(1, Ordering::Relaxed);
                        first_failure.lock().unwrap().get_or_insert(e);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("load worker panicked");
    }
    let seconds = start.elapsed().as_secs_f64();
    finished.store(true, Ordering::Relaxed);
    let rss = sampler.await.expect("RSS sampler panicked");
    let first_failure = first_failure.lock().unwrap().take();
    LoadRun {
        jobs,
        seconds,
        failures: failures.load(Ordering::Relaxed),
        first_failure,
        rss,
    }
}

/// Samples VmRSS every second until `finished`, and prints progress every 10 s.
async fn sample_rss(
    label: String,
    jobs: u64,
    pid: u32,
    done: Arc<AtomicU64>,
    finished: Arc<AtomicBool>,
) -> Vec<RssSample> {
    let start = Instant::now();
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let is_last = finished.load(Ordering::Relaxed);
        let sample = RssSample {
            done: done.load(Ordering::Relaxed),
            kib: status_kib(pid, "VmRSS:").unwrap_or(0),
        };
        if samples.len() % 10 == 0 {
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "scale: {label} {}/{jobs} after {secs:.0} s ({:.0}/s), server RSS {:.1} MiB",
                sample.done,
                sample.done as f64 / secs.max(0.001),
                sample.kib as f64 / 1024.0
            );
        }
        samples.push(sample);
        if is_last {
            return samples;
        }
    }
}
