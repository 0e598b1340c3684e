//! The worker pool: each worker claims a job, works out what it asks for, runs it and records
//! the outcome. While a job runs its lease is renewed; a newer delivery for the same pull
//! request cancels it; on shutdown, jobs still held go back to the queue for the next start.

use crate::evaluate::JobError;
use crate::events::{self, Work};
use crate::log;
use crate::metrics::Metrics;
use crate::store::{Job, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Attempts (claims) before a job that keeps asking to be retried is given up.
pub const MAX_ATTEMPTS: u32 = 8;

/// What runs one piece of work (the evaluator; a fake in tests).
pub trait Handler: Send + Sync + 'static {
    /// Runs `work` to completion, or stops early when `cancelled()` says so.
    fn run(&self, work: &Work, cancelled: &dyn Fn() -> bool) -> Result<String, JobError>;
}

impl Handler for crate::evaluate::Evaluator {
    fn run(&self, work: &Work, cancelled: &dyn Fn() -> bool) -> Result<String, JobError> {
        crate::evaluate::Evaluator::run(self, work, cancelled)
    }
}

/// What the workers share.
#[derive(Clone)]
pub struct Shared {
    /// The queue.
    pub store: Arc<dyn Store>,
    /// Runs the work.
    pub handler: Arc<dyn Handler>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// How long a claim holds a job.
    pub lease: Duration,
    /// Set to stop: workers finish (or cancel) their job and return.
    pub stop: Arc<AtomicBool>,
    /// Wakes an idle worker when a delivery is queued.
    pub wake: Arc<tokio::sync::Notify>,
    /// The runtime `wake` is awaited on.
    pub runtime: tokio::runtime::Handle,
}

/// The running workers.
pub struct Pool {
    shared: Shared,
    workers: Vec<(String, JoinHandle<()>)>,
}

impl Pool {
    /// Starts `count` workers named `<prefix>-<n>` (the prefix tells replicas apart).
    pub fn start(shared: Shared, prefix: &str, count: usize) -> Pool {
        let workers = (0..count)
            .map(|n| {
                let name = format!("{prefix}-{n}");
                let s = shared.clone();
                let id = name.clone();
                let handle = std::thread::Builder::new()
                    .name(name.clone())
                    .spawn(move || work_loop(&s, &id))
                    .expect("spawn a worker thread");
                (name, handle)
            })
            .collect();
        Pool { shared, workers }
    }

    /// Stops the workers: each finishes or cancels its job; whatever is still held goes back
    /// to the queue.
    pub fn stop(self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.notify_waiters();
        for (name, handle) in self.workers {
            let _ = handle.join();
            match self.shared.store.release(&name) {
                Ok(0) => {}
                Ok(n) => log::event(
                    "info",
                    "jobs returned to the queue",
                    &[("worker", &name), ("jobs", &n.to_string())],
                ),
                Err(e) => log::event(
                    "error",
                    "could not release jobs",
                    &[("worker", &name), ("error", &e.to_string())],
                ),
            }
        }
    }
}

fn work_loop(s: &Shared, worker: &str) {
    while !s.stop.load(Ordering::SeqCst) {
        match s.store.claim(worker, s.lease) {
            Ok(Some(job)) => run_job(s, worker, job),
            Ok(None) => {
                let wake = s.wake.clone();
                s.runtime.block_on(async move {
                    let _ = tokio::time::timeout(Duration::from_millis(500), wake.notified()).await;
                });
            }
            Err(e) => {
                log::event(
                    "error",
                    "claim failed",
                    &[("worker", worker), ("error", &e.to_string())],
                );
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// Runs one claimed job and records what became of it.
fn run_job(s: &Shared, worker: &str, job: Job) {
    if let Ok(depth) = s.store.depth() {
        s.metrics.queue_depth(depth);
    }
    let payload: serde_json::Value = serde_json::from_slice(&job.payload).unwrap_or_default();
    let work = events::classify(&job.event, &payload);
    if let Work::Ignore(why) = &work {
        record(s, &job, s.store.complete(&job, &format!("ignored: {why}")));
        return;
    }
    if s.store.superseded(&job).unwrap_or(false) {
        s.metrics.evaluation(0.0, "superseded");
        record(
            s,
            &job,
            s.store.complete(&job, "superseded by a newer delivery"),
        );
        return;
    }
    let lost = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let renewer = renew_lease(s, worker, &job, &lost, &done);
    let started = Instant::now();
    let cancelled = || {
        s.stop.load(Ordering::SeqCst)
            || lost.load(Ordering::SeqCst)
            || s.store.superseded(&job).unwrap_or(false)
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.handler.run(&work, &cancelled)
    }))
    .unwrap_or_else(|_| {
        Err(JobError::Retry {
            after: Duration::from_secs(30),
            reason: "the evaluation panicked".into(),
        })
    });
    done.store(true, Ordering::SeqCst);
    let _ = renewer.join();
    let seconds = started.elapsed().as_secs_f64();
    if lost.load(Ordering::SeqCst) {
        // Another worker holds it now; it records the outcome.
        log::event("warn", "lease lost", &[("delivery", &job.delivery_id)]);
        return;
    }
    let outcome = match result {
        Ok(_) if s.stop.load(Ordering::SeqCst) && !s.store.superseded(&job).unwrap_or(false) => {
            // Cancelled by shutdown: it runs again after the restart.
            s.metrics.evaluation(seconds, "retry");
            s.store
                .retry_later(&job, Duration::ZERO, "interrupted by shutdown")
        }
        Ok(line) => {
            s.metrics.evaluation(seconds, "success");
            log::event(
                "info",
                "evaluated",
                &[("delivery", &job.delivery_id), ("outcome", &line)],
            );
            s.store.complete(&job, &line)
        }
        Err(JobError::Retry { after, reason }) if job.attempts < MAX_ATTEMPTS => {
            s.metrics.evaluation(seconds, "retry");
            log::event(
                "warn",
                "will retry",
                &[("delivery", &job.delivery_id), ("reason", &reason)],
            );
            s.store.retry_later(&job, after, &reason)
        }
        Err(JobError::Retry { reason, .. }) | Err(JobError::Permanent(reason)) => {
            s.metrics.evaluation(seconds, "failure");
            log::event(
                "error",
                "gave up",
                &[("delivery", &job.delivery_id), ("reason", &reason)],
            );
            s.store.fail(&job, &reason)
        }
    };
    record(s, &job, outcome);
}

/// Renews `job`'s lease every third of it until `done`; sets `lost` if another worker took it.
fn renew_lease(
    s: &Shared,
    worker: &str,
    job: &Job,
    lost: &Arc<AtomicBool>,
    done: &Arc<AtomicBool>,
) -> JoinHandle<()> {
    let (store, lease, job, worker) = (s.store.clone(), s.lease, job.clone(), worker.to_string());
    let (lost, done) = (lost.clone(), done.clone());
    std::thread::spawn(move || {
        let step = (lease / 3).max(Duration::from_millis(100));
        let mut last = Instant::now();
        while !done.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
            if last.elapsed() < step {
                continue;
            }
            last = Instant::now();
            if !store.heartbeat(&job, &worker, lease).unwrap_or(true) {
                lost.store(true, Ordering::SeqCst);
                return;
            }
        }
    })
}

fn record(s: &Shared, job: &Job, result: Result<(), crate::store::StoreError>) {
    if let Err(e) = result {
        log::event(
            "error",
            "could not record a job's outcome",
            &[("delivery", &job.delivery_id), ("error", &e.to_string())],
        );
    }
    if let Ok(depth) = s.store.depth() {
        s.metrics.queue_depth(depth);
    }
}
