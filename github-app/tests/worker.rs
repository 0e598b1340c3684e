//! The worker pool over a real SQLite store, with a scripted handler in place of the evaluator:
//! every job runs to an outcome once, retries are retried, a newer delivery supersedes an older
//! one for the same pull request, and shutdown puts held jobs back in the queue.

use cavra_github_app::evaluate::JobError;
use cavra_github_app::events::{self, Work};
use cavra_github_app::metrics::Metrics;
use cavra_github_app::store::{self, NewDelivery, Store};
use cavra_github_app::worker::{Handler, Pool, Shared};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A synchronize delivery for pull request `number`.
fn delivery(number: u64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "action": "synchronize",
        "installation": {"id": 7},
        "repository": {"full_name": "octo-org/app", "clone_url": "https://github.com/octo-org/app.git"},
        "pull_request": {"number": number, "head": {"sha": "0123456789012345678901234567890123456789"}},
    }))
    .unwrap()
}

fn enqueue(store: &dyn Store, id: &str, number: u64) {
    let payload = delivery(number);
    let value: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let key = events::coalescing_key(&events::classify("pull_request", &value));
    store
        .enqueue(&NewDelivery {
            id,
            event: "pull_request",
            payload: &payload,
            key: key.as_deref(),
        })
        .unwrap();
}

/// Counts runs per pull request; fails the first run of odd ones with a retry; blocks while
/// `hold` is set, until cancelled.
#[derive(Default)]
struct Scripted {
    runs: Mutex<BTreeMap<u64, u32>>,
    hold: AtomicBool,
}

impl Handler for Scripted {
    fn run(&self, work: &Work, cancelled: &dyn Fn() -> bool) -> Result<String, JobError> {
        let Work::PullRequest { number, .. } = work else {
            return Err(JobError::Permanent(format!("unexpected {work:?}")));
        };
        while self.hold.load(Ordering::SeqCst) {
            if cancelled() {
                return Ok("superseded".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let n = {
            let mut runs = self.runs.lock().unwrap();
            let n = runs.entry(*number).or_default();
            *n += 1;
            *n
        };
        if number % 2 == 1 && n == 1 {
            return Err(JobError::Retry {
                after: Duration::from_millis(20),
                reason: "GitHub answered 502".into(),
            });
        }
        Ok(format!("pull request {number}: success"))
    }
}

fn pool(store: Arc<dyn Store>, handler: Arc<Scripted>, rt: &tokio::runtime::Runtime) -> Pool {
    Pool::start(
        Shared {
            store,
            handler,
            metrics: Arc::new(Metrics::new()),
            lease: Duration::from_secs(5),
            stop: Arc::new(AtomicBool::new(false)),
            wake: Arc::new(tokio::sync::Notify::new()),
            runtime: rt.handle().clone(),
        },
        "test",
        3,
    )
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_job_reaches_an_outcome_once_and_retries_are_retried() {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&format!("sqlite:{}", dir.path().join("q.db").display())).unwrap();
    for n in 1..=12 {
        enqueue(&*store, &format!("d-{n}"), n);
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let handler = Arc::new(Scripted::default());
    let workers = pool(store.clone(), handler.clone(), &rt);
    wait_until("every job done", || store.depth().unwrap() == 0);
    workers.stop();
    for n in 1..=12u64 {
        let (state, completions) = store.state(&format!("d-{n}")).unwrap().unwrap();
        assert_eq!((state.as_str(), completions), ("done", 1), "d-{n}");
        let runs = handler.runs.lock().unwrap()[&n];
        assert_eq!(runs, if n % 2 == 1 { 2 } else { 1 }, "pull request {n}");
    }
}

#[test]
fn a_newer_delivery_supersedes_and_shutdown_requeues() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("q.db").display());
    let store = store::open(&url).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let handler = Arc::new(Scripted::default());
    handler.hold.store(true, Ordering::SeqCst);
    let workers = pool(store.clone(), handler.clone(), &rt);
    enqueue(&*store, "old", 2);
    wait_until("the old delivery running", || {
        store
            .state("old")
            .unwrap()
            .is_some_and(|(s, _)| s == "running")
    });
    // A newer push for the same pull request: the running evaluation is cancelled.
    enqueue(&*store, "new", 2);
    wait_until("the old delivery superseded", || {
        store
            .state("old")
            .unwrap()
            .is_some_and(|(s, _)| s == "done")
    });
    wait_until("the new delivery running", || {
        store
            .state("new")
            .unwrap()
            .is_some_and(|(s, _)| s == "running")
    });
    // Shutdown while it runs: the job goes back to the queue, not to done.
    workers.stop();
    assert_eq!(store.state("new").unwrap().unwrap().0, "queued");
    assert_eq!(store.depth().unwrap(), 1);
    // The next start runs it.
    handler.hold.store(false, Ordering::SeqCst);
    let again = store::open(&url).unwrap();
    let workers = pool(again.clone(), handler.clone(), &rt);
    wait_until("the new delivery done", || again.depth().unwrap() == 0);
    workers.stop();
    assert_eq!(
        again.state("new").unwrap().unwrap(),
        ("done".to_string(), 1)
    );
    assert_eq!(
        handler.runs.lock().unwrap()[&2],
        1,
        "only the newest push was judged"
    );
}
