//! The durable queue and verdict store, the same tests against SQLite (a temp file) and
//! PostgreSQL (when `CAVRA_TEST_POSTGRES_URL` names one: `eval "$(.ci/start-postgres.sh)"`;
//! without it the PostgreSQL half is skipped with a note, or fails when `CI` is set).

use cavra_github_app::store::{self, Enqueued, Job, NewDelivery, Store, StoreError};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(300);

/// A store under test and how to open it again.
struct Db {
    url: String,
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL schema to drop afterwards: (server URL, schema).
    schema: Option<(String, String)>,
}

impl Db {
    fn reopen(&mut self) {
        self.store = store::open(&self.url).expect("reopen");
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((url, schema)) = &self.schema
            && let Ok(mut client) = ::postgres::Client::connect(url, ::postgres::NoTls)
        {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("queue.db").display());
    Db {
        store: store::open(&url).expect("open sqlite"),
        url,
        _dir: Some(dir),
        schema: None,
    }
}

/// Each PostgreSQL test gets a schema of its own in the shared database (named by process, test
/// and time, so parallel tests and other test processes never see each other's tables), chosen
/// through the URL's `options=-csearch_path=...`, and dropped afterwards.
fn postgres() -> Option<Db> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let Ok(server) = std::env::var("CAVRA_TEST_POSTGRES_URL") else {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but CAVRA_TEST_POSTGRES_URL is not: run .ci/start-postgres.sh");
        }
        eprintln!("note: CAVRA_TEST_POSTGRES_URL unset, PostgreSQL store test skipped");
        return None;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!(
        "store_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut client = ::postgres::Client::connect(&server, ::postgres::NoTls).expect("connect");
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .expect("create schema");
    let sep = if server.contains('?') { '&' } else { '?' };
    let url = format!("{server}{sep}options=-csearch_path%3D{schema}");
    let db = Db {
        store: store::open(&url).expect("open postgres"),
        url,
        _dir: None,
        schema: Some((server, schema.clone())),
    };
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1",
            &[&schema],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 2, "the store's tables are in the test's schema");
    Some(db)
}

fn delivery<'a>(id: &'a str, key: Option<&'a str>) -> NewDelivery<'a> {
    NewDelivery {
        id,
        event: "pull_request",
        payload: b"{\"action\":\"opened\"}",
        key,
    }
}

fn enqueue(s: &dyn Store, id: &str) {
    assert_eq!(s.enqueue(&delivery(id, None)).unwrap(), Enqueued::Accepted);
}

fn claim(s: &dyn Store, worker: &str) -> Job {
    s.claim(worker, LONG).unwrap().expect("a job to claim")
}

fn state(s: &dyn Store, id: &str) -> (String, u32) {
    s.state(id).unwrap().expect("a known delivery")
}

fn enqueue_and_duplicate(db: &Db) {
    let s = &*db.store;
    let d = NewDelivery {
        id: "d1",
        event: "push",
        payload: b"{\"ref\":\"refs/heads/main\"}",
        key: Some("o/r#main"),
    };
    assert_eq!(s.enqueue(&d).unwrap(), Enqueued::Accepted);
    assert_eq!(s.enqueue(&d).unwrap(), Enqueued::Duplicate);
    assert_eq!(state(s, "d1"), ("queued".into(), 0));
    assert_eq!(s.state("unknown").unwrap(), None);
    assert_eq!(s.depth().unwrap(), 1);
    let job = claim(s, "w1");
    assert_eq!(job.delivery_id, "d1");
    assert_eq!(job.event, "push");
    assert_eq!(job.payload, b"{\"ref\":\"refs/heads/main\"}");
    assert_eq!(job.key.as_deref(), Some("o/r#main"));
    assert_eq!(job.attempts, 1);
    assert_eq!(state(s, "d1"), ("running".into(), 0));
    assert_eq!(s.enqueue(&d).unwrap(), Enqueued::Duplicate);
    s.complete(&job, "success").unwrap();
    assert_eq!(state(s, "d1"), ("done".into(), 1));
    // A replay after completion is still a duplicate, and nothing runs again.
    assert_eq!(s.enqueue(&d).unwrap(), Enqueued::Duplicate);
    assert!(s.claim("w1", LONG).unwrap().is_none());
    // Completing twice is refused and not counted.
    assert!(matches!(
        s.complete(&job, "again"),
        Err(StoreError::Lost(_))
    ));
    assert_eq!(state(s, "d1"), ("done".into(), 1));
    assert_eq!(s.depth().unwrap(), 0);
    s.ready().unwrap();
}

fn claim_order(db: &Db) {
    let s = &*db.store;
    for id in ["a", "b", "c"] {
        enqueue(s, id);
    }
    let order: Vec<String> = (0..3).map(|_| claim(s, "w").delivery_id).collect();
    assert_eq!(order, ["a", "b", "c"]);
    assert!(s.claim("w", LONG).unwrap().is_none());
}

fn concurrent_claims(db: &Db) {
    const THREADS: usize = 8;
    const JOBS: usize = THREADS * 200;
    let s = &db.store;
    // Enqueue from several threads too, while the claimers already run.
    let claimed: Vec<Vec<String>> = thread::scope(|scope| {
        for t in 0..4 {
            let s = s.clone();
            scope.spawn(move || {
                for i in (t..JOBS).step_by(4) {
                    enqueue(&*s, &format!("job-{i}"));
                }
            });
        }
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let s = s.clone();
                scope.spawn(move || {
                    let worker = format!("w{t}");
                    let mut got = Vec::new();
                    let deadline = Instant::now() + Duration::from_secs(120);
                    let mut idle = 0;
                    while idle < 50 && Instant::now() < deadline {
                        match s.claim(&worker, LONG).unwrap() {
                            Some(job) => {
                                idle = 0;
                                s.complete(&job, "ok").unwrap();
                                got.push(job.delivery_id);
                            }
                            None => {
                                idle += 1;
                                thread::sleep(Duration::from_millis(10));
                            }
                        }
                    }
                    got
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let all: Vec<&String> = claimed.iter().flatten().collect();
    let unique: HashSet<&String> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "a job was claimed twice");
    assert_eq!(all.len(), JOBS, "every job claimed once");
    assert!(claimed.iter().filter(|c| !c.is_empty()).count() > 1);
    for i in 0..JOBS {
        assert_eq!(state(&**s, &format!("job-{i}")), ("done".into(), 1));
    }
    assert_eq!(s.depth().unwrap(), 0);
}

fn expired_lease_reclaimed(db: &Db) {
    let s = &*db.store;
    enqueue(s, "x");
    let first = s.claim("w1", Duration::from_millis(100)).unwrap().unwrap();
    assert!(s.claim("w2", LONG).unwrap().is_none(), "held under a lease");
    thread::sleep(Duration::from_millis(250));
    let second = claim(s, "w2");
    assert_eq!(second.id, first.id);
    assert_eq!(second.attempts, 2);
    // The first worker lost it: no heartbeat, no completion.
    assert!(!s.heartbeat(&first, "w1", LONG).unwrap());
    assert!(matches!(
        s.complete(&first, "late"),
        Err(StoreError::Lost(_))
    ));
    assert!(matches!(s.fail(&first, "late"), Err(StoreError::Lost(_))));
    assert!(matches!(
        s.retry_later(&first, Duration::ZERO, "late"),
        Err(StoreError::Lost(_))
    ));
    assert_eq!(state(s, "x"), ("running".into(), 0));
    s.complete(&second, "ok").unwrap();
    assert_eq!(state(s, "x"), ("done".into(), 1));
}

fn heartbeat_keeps_lease(db: &Db) {
    let s = &*db.store;
    enqueue(s, "h");
    let lease = Duration::from_millis(400);
    let job = s.claim("w1", lease).unwrap().unwrap();
    for _ in 0..5 {
        thread::sleep(Duration::from_millis(150));
        assert!(s.heartbeat(&job, "w1", lease).unwrap());
        assert!(s.claim("w2", LONG).unwrap().is_none(), "the lease was kept");
    }
    // Another worker's name does not extend it.
    assert!(!s.heartbeat(&job, "w2", lease).unwrap());
    s.complete(&job, "ok").unwrap();
    assert!(
        !s.heartbeat(&job, "w1", lease).unwrap(),
        "finished jobs have no lease"
    );
}

fn retry_later_and_fail(db: &Db) {
    let s = &*db.store;
    enqueue(s, "r");
    let job = claim(s, "w1");
    s.retry_later(&job, Duration::from_millis(300), "rate limited")
        .unwrap();
    assert_eq!(state(s, "r"), ("queued".into(), 0));
    assert_eq!(s.depth().unwrap(), 1);
    assert!(
        s.claim("w1", LONG).unwrap().is_none(),
        "not before its time"
    );
    thread::sleep(Duration::from_millis(400));
    let again = claim(s, "w2");
    assert_eq!((again.id, again.attempts), (job.id, 2));
    s.retry_later(&again, Duration::ZERO, "flaky").unwrap();
    let third = claim(s, "w2");
    assert_eq!(third.attempts, 3);
    s.fail(&third, "gave up").unwrap();
    assert_eq!(state(s, "r"), ("failed".into(), 0));
    assert_eq!(s.depth().unwrap(), 0);
    assert!(
        s.claim("w1", LONG).unwrap().is_none(),
        "dead letters stay dead"
    );
    assert!(matches!(s.complete(&third, "ok"), Err(StoreError::Lost(_))));
}

fn release_on_shutdown(db: &Db) {
    let s = &*db.store;
    for id in ["r1", "r2", "r3"] {
        enqueue(s, id);
    }
    let a = claim(s, "w1");
    let b = claim(s, "w2");
    let c = claim(s, "w1");
    assert_eq!(s.release("w1").unwrap(), 2);
    assert_eq!(s.release("w1").unwrap(), 0);
    assert_eq!(state(s, "r1"), ("queued".into(), 0));
    assert_eq!(state(s, "r2"), ("running".into(), 0));
    assert!(!s.heartbeat(&a, "w1", LONG).unwrap());
    // Back at once, oldest first, to another worker.
    assert_eq!(claim(s, "w3").id, a.id);
    assert_eq!(claim(s, "w3").id, c.id);
    assert!(s.claim("w3", LONG).unwrap().is_none());
    s.complete(&b, "ok").unwrap();
    assert_eq!(s.depth().unwrap(), 2);
}

fn superseded_by_key(db: &Db) {
    let s = &*db.store;
    s.enqueue(&delivery("k1", Some("o/r#7"))).unwrap();
    s.enqueue(&delivery("k2", Some("o/r#8"))).unwrap();
    s.enqueue(&delivery("k3", None)).unwrap();
    let j1 = claim(s, "w");
    let j2 = claim(s, "w");
    let j3 = claim(s, "w");
    assert!(!s.superseded(&j1).unwrap());
    s.enqueue(&delivery("k4", Some("o/r#7"))).unwrap();
    assert!(
        s.superseded(&j1).unwrap(),
        "a newer push on the same pull request"
    );
    assert!(!s.superseded(&j2).unwrap());
    assert!(!s.superseded(&j3).unwrap(), "no key, never superseded");
    let j4 = claim(s, "w");
    assert_eq!(j4.delivery_id, "k4");
    assert!(!s.superseded(&j4).unwrap(), "the newest is not superseded");
}

fn depth_counts_queued_and_running(db: &Db) {
    let s = &*db.store;
    assert_eq!(s.depth().unwrap(), 0);
    for id in ["p1", "p2", "p3", "p4"] {
        enqueue(s, id);
    }
    assert_eq!(s.depth().unwrap(), 4);
    let a = claim(s, "w");
    assert_eq!(s.depth().unwrap(), 4);
    s.complete(&a, "ok").unwrap();
    let b = claim(s, "w");
    s.fail(&b, "no").unwrap();
    assert_eq!(s.depth().unwrap(), 2);
    let _c = claim(s, "w");
    assert_eq!(s.depth().unwrap(), 2);
}

fn verdicts(db: &Db) {
    let s = &*db.store;
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let a = s
        .save_verdict("o/r", sha, "{\"pass\":true}", Some("{\"mediaType\":\"x\"}"))
        .unwrap();
    let b = s
        .save_verdict("o/r", sha, "{\"pass\":false}", None)
        .unwrap();
    assert_ne!(a, b);
    assert_eq!(
        s.verdict(a).unwrap(),
        Some((
            "o/r".into(),
            sha.into(),
            "{\"pass\":true}".into(),
            Some("{\"mediaType\":\"x\"}".into())
        ))
    );
    assert_eq!(s.verdict(b).unwrap().unwrap().3, None);
    assert_eq!(s.verdict(b + 1000).unwrap(), None);
}

fn survives_reopen(db: &mut Db) {
    enqueue(&*db.store, "q1");
    enqueue(&*db.store, "q2");
    enqueue(&*db.store, "q3");
    let held = db
        .store
        .claim("dead-worker", Duration::from_millis(100))
        .unwrap()
        .unwrap();
    let done = claim(&*db.store, "w");
    db.store.complete(&done, "ok").unwrap();
    let verdict = db.store.save_verdict("o/r", "abc", "{}", None).unwrap();
    // The process state is gone: every handle dropped, the database opened again.
    db.reopen();
    let s = &*db.store;
    assert_eq!(state(s, "q1"), ("running".into(), 0));
    assert_eq!(state(s, "q2"), ("done".into(), 1));
    assert_eq!(state(s, "q3"), ("queued".into(), 0));
    assert_eq!(
        s.enqueue(&delivery("q2", None)).unwrap(),
        Enqueued::Duplicate
    );
    assert!(s.verdict(verdict).unwrap().is_some());
    assert_eq!(s.depth().unwrap(), 2);
    thread::sleep(Duration::from_millis(250));
    let again = claim(s, "w2");
    assert_eq!((again.id, again.attempts), (held.id, 2));
    assert_eq!(claim(s, "w2").delivery_id, "q3");
}

fn too_long_refused(db: &Db) {
    let s = &*db.store;
    let long = "x".repeat(101);
    let max = "y".repeat(100);
    let refused = |d: NewDelivery<'_>| matches!(s.enqueue(&d), Err(StoreError::Invalid(_)));
    assert!(refused(delivery(&long, None)));
    assert!(refused(delivery("", None)));
    assert!(refused(NewDelivery {
        id: "ok",
        event: &long,
        payload: b"{}",
        key: None,
    }));
    assert_eq!(
        s.enqueue(&delivery(&max, None)).unwrap(),
        Enqueued::Accepted
    );
    assert_eq!(s.state(&long).unwrap(), None);
    assert_eq!(s.state("ok").unwrap(), None);
    assert_eq!(s.depth().unwrap(), 1);
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                #[allow(unused_mut)]
                let mut db = super::sqlite();
                super::$name(&mut db);
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                #[allow(unused_mut)]
                if let Some(mut db) = super::postgres() {
                    super::$name(&mut db);
                }
            })*
        }
    };
}

both!(
    enqueue_and_duplicate,
    claim_order,
    concurrent_claims,
    expired_lease_reclaimed,
    heartbeat_keeps_lease,
    retry_later_and_fail,
    release_on_shutdown,
    superseded_by_key,
    depth_counts_queued_and_running,
    verdicts,
    survives_reopen,
    too_long_refused,
);

#[test]
fn urls() {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("bare.db");
    store::open(bare.to_str().unwrap())
        .unwrap()
        .ready()
        .unwrap();
    assert!(bare.exists());
    store::open("sqlite::memory:").unwrap().ready().unwrap();
    let err = store::open("mysql://cavra:hunter2@db/cavra").err().unwrap();
    assert!(matches!(err, StoreError::Url(_)));
    assert!(!err.to_string().contains("hunter2"), "{err}");
    // Nothing listens on port 1: the connection error names the database without its password.
    for url in [
        "postgres://cavra:hunter2@127.0.0.1:1/cavra",
        "postgresql://cavra:hunter2@127.0.0.1:1/cavra?connect_timeout=2",
    ] {
        let err = store::open(url).err().expect("nothing listens on port 1");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("cavra:***@127.0.0.1:1"), "{text}");
    }
}

/// A `kill -9` at any moment loses no accepted delivery: a child process (this test binary,
/// running `kill_child`) enqueues as fast as it can and reports each accepted id on stdout; it is
/// killed mid-stream, and every id it reported is in the file afterwards.
#[test]
fn sqlite_kill_9_loses_no_accepted_delivery() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("queue.db").display());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "kill_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CAVRA_STORE_KILL_CHILD", &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if let Some(id) = line.unwrap().strip_prefix("acked ") {
            acked.push(id.to_string());
            if acked.len() == 2000 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL
    // What it printed before dying was acknowledged too.
    for line in lines {
        if let Some(id) = line.unwrap().strip_prefix("acked ") {
            acked.push(id.to_string());
        }
    }
    child.wait().unwrap();
    assert!(acked.len() >= 2000);
    let s = store::open(&url).unwrap();
    for id in &acked {
        assert_eq!(state(&*s, id), ("queued".into(), 0), "{id} lost");
    }
    assert!(s.depth().unwrap() >= acked.len() as u64);
}

/// The child of `sqlite_kill_9_loses_no_accepted_delivery`.
#[test]
#[ignore = "run by sqlite_kill_9_loses_no_accepted_delivery"]
fn kill_child() {
    use std::io::Write;
    let Ok(url) = std::env::var("CAVRA_STORE_KILL_CHILD") else {
        return;
    };
    let s = store::open(&url).unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0.. {
        let id = format!("kill-{i}");
        enqueue(&*s, &id);
        writeln!(out, "acked {id}").unwrap();
        out.flush().unwrap();
    }
}

/// `cargo test --release -p cavra-github-app --test store -- --ignored --nocapture enqueue_rate`
#[test]
#[ignore = "a measurement, not a check"]
fn enqueue_rate() {
    let mut urls = vec![sqlite()];
    urls.extend(postgres());
    for db in &urls {
        let s = &db.store;
        let payload = vec![b'x'; 8 * 1024];
        let n = 5000;
        let start = Instant::now();
        let mut worst = Duration::ZERO;
        let mut lat = Vec::with_capacity(n);
        for i in 0..n {
            let t = Instant::now();
            let id = format!("single-{i}");
            s.enqueue(&NewDelivery {
                id: &id,
                event: "push",
                payload: &payload,
                key: Some("o/r#main"),
            })
            .unwrap();
            let d = t.elapsed();
            worst = worst.max(d);
            lat.push(d);
        }
        let single = n as f64 / start.elapsed().as_secs_f64();
        lat.sort();
        let p99 = lat[n * 99 / 100];
        let threads = 8;
        let start = Instant::now();
        let mut lat: Vec<Duration> = thread::scope(|scope| {
            let hs: Vec<_> = (0..threads)
                .map(|t| {
                    let s = s.clone();
                    let payload = &payload;
                    scope.spawn(move || {
                        (0..n / threads)
                            .map(|i| {
                                let id = format!("multi-{t}-{i}");
                                let at = Instant::now();
                                s.enqueue(&NewDelivery {
                                    id: &id,
                                    event: "push",
                                    payload,
                                    key: None,
                                })
                                .unwrap();
                                at.elapsed()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let multi = n as f64 / start.elapsed().as_secs_f64();
        lat.sort();
        let p99m = lat[lat.len() * 99 / 100];
        eprintln!(
            "{}: 8 KiB payloads, single thread {single:.0}/s (p99 {p99:?}, max {worst:?}), \
             {threads} threads {multi:.0}/s (p99 {p99m:?})",
            cavra_github_app::config::redact_url(&db.url)
        );
        // Then 4 workers drain the queue (claim + complete).
        let queued = s.depth().unwrap();
        let start = Instant::now();
        thread::scope(|scope| {
            for t in 0..4 {
                let s = s.clone();
                scope.spawn(move || {
                    let worker = format!("w{t}");
                    while let Some(job) = s.claim(&worker, LONG).unwrap() {
                        s.complete(&job, "ok").unwrap();
                    }
                });
            }
        });
        eprintln!(
            "  4 workers: {:.0} claim+complete/s over {queued} jobs",
            queued as f64 / start.elapsed().as_secs_f64()
        );
    }
}
