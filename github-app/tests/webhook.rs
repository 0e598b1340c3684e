//! The webhook server driven over a real TCP listener: the router on 127.0.0.1:0 with a SQLite
//! store, requests from a blocking HTTP client (and a raw socket for the oversized bodies).

use cavra_github_app::events::{self, Work};
use cavra_github_app::metrics::Metrics;
use cavra_github_app::server::{self, AppState};
use cavra_github_app::store::{self, Enqueued, Job, NewDelivery, Store, StoreError, VerdictStore};
use cavra_github_app::webhook;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

const SECRET: &str = "It's a Secret to Everybody";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testkit/fixtures/github-webhooks")
}

struct Server {
    url: String,
    addr: std::net::SocketAddr,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
    wake: Arc<tokio::sync::Notify>,
    http: reqwest::blocking::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(max_body_bytes: usize) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store =
            store::open(&format!("sqlite:{}", dir.path().join("queue.db").display())).unwrap();
        Server::with_store(store, max_body_bytes, dir)
    }

    fn with_store(store: Arc<dyn Store>, max_body_bytes: usize, dir: tempfile::TempDir) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState {
            store: store.clone(),
            secret: SECRET.as_bytes().to_vec(),
            metrics: Arc::new(Metrics::new()),
            max_body_bytes,
            wake: Arc::new(tokio::sync::Notify::new()),
            ready: Arc::new(AtomicBool::new(false)),
        };
        let (metrics, ready, wake) = (
            state.metrics.clone(),
            state.ready.clone(),
            state.wake.clone(),
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                server::serve(listener, state, async {
                    let _ = rx.await;
                })
                .await
            })
        });
        Server {
            url: format!("http://{addr}"),
            addr,
            store,
            metrics,
            ready,
            wake,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            shutdown: Some(tx),
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// POSTs `body` to /webhook with the given headers (`None` leaves one out).
    fn post(
        &self,
        event: Option<&str>,
        delivery: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/webhook", self.url))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(e) = event {
            req = req.header("X-GitHub-Event", e);
        }
        if let Some(d) = delivery {
            req = req.header("X-GitHub-Delivery", d);
        }
        if let Some(s) = signature {
            req = req.header("X-Hub-Signature-256", s);
        }
        let resp = req.send().unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A correctly signed delivery.
    fn deliver(&self, event: &str, delivery: &str, body: &[u8]) -> (u16, Value) {
        let sig = webhook::sign(SECRET.as_bytes(), body);
        self.post(Some(event), Some(delivery), Some(&sig), body)
    }

    fn get(&self, path: &str) -> (u16, String) {
        let resp = self.http.get(format!("{}{path}", self.url)).send().unwrap();
        (resp.status().as_u16(), resp.text().unwrap())
    }

    fn state(&self, delivery: &str) -> Option<String> {
        self.store.state(delivery).unwrap().map(|(s, _)| s)
    }

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.stop();
        }
    }
}

fn example(path: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("examples").join(path)).unwrap()
}

/// The value of a sample in a Prometheus text exposition.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[test]
fn every_example_is_queued_or_ignored_as_classified() {
    let server = Server::start(5 << 20);
    let vectors: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("hmac_vectors.json")).unwrap(),
    )
    .unwrap();
    let vectors = vectors["vectors"].as_array().unwrap();
    // Every example file has a vector (its event name and GitHub-style signature).
    let mut files = Vec::new();
    let mut stack = vec![fixtures().join("examples")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert_eq!(files.len(), vectors.len());
    let (mut queued, mut ignored) = (0, 0);
    for (i, v) in vectors.iter().enumerate() {
        let file = v["file"].as_str().unwrap();
        let event = v["X-GitHub-Event"].as_str().unwrap();
        let signature = v["X-Hub-Signature-256"].as_str().unwrap();
        let body = std::fs::read(fixtures().join(file)).unwrap();
        let payload: Value = serde_json::from_slice(&body).unwrap();
        let delivery = format!("example-{i}");
        let (status, answer) = server.post(Some(event), Some(&delivery), Some(signature), &body);
        match events::classify(event, &payload) {
            Work::Ignore(reason) => {
                assert_eq!(status, 200, "{file}: {answer}");
                assert_eq!(answer["ignored"], reason.as_str(), "{file}");
                assert_eq!(server.state(&delivery), None, "{file}");
                ignored += 1;
            }
            _ => {
                assert_eq!(status, 202, "{file}: {answer}");
                assert_eq!(answer["delivery"], delivery.as_str());
                assert_eq!(answer["queued"], true);
                assert_eq!(server.state(&delivery).as_deref(), Some("queued"), "{file}");
                queued += 1;
            }
        }
    }
    // The pings, the push, closed pull requests and completed checks are ignored; pull
    // requests, merge groups, re-runs and installations are queued.
    assert!(
        queued >= 8 && ignored >= 6,
        "{queued} queued, {ignored} ignored"
    );
    assert_eq!(server.store.depth().unwrap(), queued);
    assert_eq!(server.metrics.deliveries("accepted"), queued);
    assert_eq!(server.metrics.deliveries("ignored"), ignored);
    let (status, ping) = server.deliver("ping", "ping-1", &example("ping/payload.json"));
    assert_eq!(status, 200);
    assert!(
        ping["ignored"].as_str().unwrap().starts_with("ping"),
        "{ping}"
    );
}

#[test]
fn a_wrong_signature_is_401_and_nothing_is_stored() {
    let server = Server::start(5 << 20);
    let body = example("pull_request/opened.payload.json");
    let wrong = webhook::sign(b"another secret", &body);
    let (status, answer) = server.post(Some("pull_request"), Some("d-1"), Some(&wrong), &body);
    assert_eq!(status, 401, "{answer}");
    // A valid signature of other bytes.
    let other = webhook::sign(SECRET.as_bytes(), b"{}");
    let (status, _) = server.post(Some("pull_request"), Some("d-2"), Some(&other), &body);
    assert_eq!(status, 401);
    assert_eq!(server.state("d-1"), None);
    assert_eq!(server.state("d-2"), None);
    assert_eq!(server.store.depth().unwrap(), 0);
    assert_eq!(server.metrics.deliveries("bad_signature"), 2);
    // The same body correctly signed is then accepted under the same id.
    let (status, _) = server.deliver("pull_request", "d-1", &body);
    assert_eq!(status, 202);
}

#[test]
fn missing_or_malformed_headers_are_400() {
    let server = Server::start(5 << 20);
    let body = example("pull_request/opened.payload.json");
    let sig = webhook::sign(SECRET.as_bytes(), &body);
    let long = "a".repeat(101);
    let cases: [(Option<&str>, Option<&str>, Option<&str>); 8] = [
        (None, Some("d-1"), Some(&sig)),
        (Some("pull_request"), None, Some(&sig)),
        (Some("pull_request"), Some("d-1"), None),
        (Some("pull_request"), Some("d 1"), Some(&sig)),
        (Some("pull_request"), Some(&long), Some(&sig)),
        (Some("pull_request"), Some("d-1"), Some("sha1=abc")),
        (
            Some("pull_request"),
            Some("d-1"),
            Some(&sig[..sig.len() - 2]),
        ),
        (Some("Pull Request"), Some("d-1"), Some(&sig)),
    ];
    for (i, (event, delivery, signature)) in cases.into_iter().enumerate() {
        let (status, answer) = server.post(event, delivery, signature, &body);
        assert_eq!(status, 400, "case {i}: {answer}");
        assert!(answer["error"].is_string(), "case {i}: {answer}");
    }
    assert_eq!(server.store.depth().unwrap(), 0);
    assert_eq!(server.metrics.deliveries("missing_header"), 8);
    // 100 characters is the longest id taken.
    let (status, _) = server.deliver("pull_request", &"a".repeat(100), &body);
    assert_eq!(status, 202);
}

#[test]
fn a_replayed_delivery_is_a_duplicate_stored_once_and_wakes_a_worker_once() {
    let server = Server::start(5 << 20);
    let body = example("pull_request/synchronize.payload.json");
    let id = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
    let (status, answer) = server.deliver("pull_request", id, &body);
    assert_eq!((status, &answer["queued"]), (202, &Value::Bool(true)));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let woken = |rt: &tokio::runtime::Runtime| {
        rt.block_on(async {
            tokio::time::timeout(Duration::from_millis(100), server.wake.notified())
                .await
                .is_ok()
        })
    };
    assert!(woken(&rt), "an accepted delivery wakes a worker");
    for _ in 0..3 {
        let (status, answer) = server.deliver("pull_request", id, &body);
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["duplicate"], true);
        assert_eq!(answer["delivery"], id);
    }
    assert!(!woken(&rt), "a duplicate wakes nobody");
    assert_eq!(server.store.depth().unwrap(), 1);
    assert_eq!(server.state(id).as_deref(), Some("queued"));
    assert_eq!(server.metrics.deliveries("accepted"), 1);
    assert_eq!(server.metrics.deliveries("duplicate"), 3);
}

/// Sends a request head and as much of a `len`-byte body as the server reads, and returns the
/// status line.
fn raw_post(addr: std::net::SocketAddr, head: &str, len: usize, chunked: bool) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let chunk = vec![b' '; 64 << 10];
        let mut sent = 0;
        while sent < len {
            let n = chunk.len().min(len - sent);
            let ok = if chunked {
                writer
                    .write_all(format!("{n:x}\r\n").as_bytes())
                    .and_then(|_| writer.write_all(&chunk[..n]))
                    .and_then(|_| writer.write_all(b"\r\n"))
            } else {
                writer.write_all(&chunk[..n])
            };
            if ok.is_err() {
                return sent;
            }
            sent += n;
        }
        if chunked {
            let _ = writer.write_all(b"0\r\n\r\n");
        }
        sent
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = sender.join();
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_10_mb_body_is_413_without_being_read_and_the_server_carries_on() {
    let server = Server::start(1 << 20);
    let len = 10 << 20;
    let sig = webhook::sign(SECRET.as_bytes(), b"whatever");
    let common = format!(
        "Host: x\r\nX-GitHub-Event: pull_request\r\nX-GitHub-Delivery: big-1\r\nX-Hub-Signature-256: {sig}\r\n"
    );
    // Declared too large: refused from the Content-Length alone.
    let status = raw_post(
        server.addr,
        &format!("POST /webhook HTTP/1.1\r\n{common}Content-Length: {len}\r\n\r\n"),
        len,
        false,
    );
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    // Not declared (chunked): refused once more than the limit came in.
    let status = raw_post(
        server.addr,
        &format!("POST /webhook HTTP/1.1\r\n{common}Transfer-Encoding: chunked\r\n\r\n"),
        len,
        true,
    );
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    assert_eq!(server.metrics.deliveries("too_large"), 2);
    assert_eq!(server.state("big-1"), None);
    // Still serving.
    assert_eq!(server.get("/healthz").0, 200);
    let (status, _) = server.deliver(
        "pull_request",
        "after-big",
        &example("pull_request/opened.payload.json"),
    );
    assert_eq!(status, 202);
    // Exactly at the limit is fine (then refused as not JSON, after the signature).
    let at_limit = vec![b' '; 1 << 20];
    let (status, answer) = server.deliver("pull_request", "at-limit", &at_limit);
    assert_eq!(status, 400, "{answer}");
}

#[test]
fn malformed_and_non_object_json_are_400_after_the_signature() {
    let server = Server::start(5 << 20);
    for (i, body) in [
        &b"{\"action\": \"opened\""[..],
        b"not json",
        b"",
        b"[1, 2]",
        b"\"a string\"",
        b"null",
        b"42",
    ]
    .into_iter()
    .enumerate()
    {
        let (status, answer) = server.deliver("pull_request", &format!("bad-{i}"), body);
        assert_eq!(status, 400, "{:?}: {answer}", String::from_utf8_lossy(body));
        // Unsigned garbage is 401: nothing is parsed before the signature.
        let (status, _) = server.post(
            Some("pull_request"),
            Some(&format!("bad-{i}")),
            Some(&webhook::sign(b"x", body)),
            body,
        );
        assert_eq!(status, 401);
    }
    assert_eq!(server.metrics.deliveries("malformed"), 7);
    assert_eq!(server.store.depth().unwrap(), 0);
}

#[test]
fn an_unknown_installation_is_queued_and_no_installation_is_ignored() {
    let server = Server::start(5 << 20);
    let mut payload: Value =
        serde_json::from_slice(&example("pull_request/opened.payload.json")).unwrap();
    // The server knows no installations: the worker finds out (its token request fails).
    payload["installation"]["id"] = 987_654_321.into();
    let (status, answer) = server.deliver(
        "pull_request",
        "unknown-installation",
        &serde_json::to_vec(&payload).unwrap(),
    );
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        server.state("unknown-installation").as_deref(),
        Some("queued")
    );
    payload.as_object_mut().unwrap().remove("installation");
    let (status, answer) = server.deliver(
        "pull_request",
        "no-installation",
        &serde_json::to_vec(&payload).unwrap(),
    );
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["ignored"]
            .as_str()
            .unwrap()
            .contains("no installation"),
        "{answer}"
    );
    assert_eq!(server.state("no-installation"), None);
}

#[test]
fn health_readiness_and_metrics() {
    let mut server = Server::start(5 << 20);
    assert_eq!(server.get("/healthz"), (200, "ok\n".to_string()));
    assert_eq!(server.get("/readyz").0, 503, "not ready before the flag");
    server.ready.store(true, Ordering::Release);
    assert_eq!(server.get("/readyz").0, 200);

    let body = example("pull_request/opened.payload.json");
    assert_eq!(server.deliver("pull_request", "m-1", &body).0, 202);
    assert_eq!(server.deliver("pull_request", "m-1", &body).0, 200);
    assert_eq!(
        server
            .deliver("push", "m-2", &example("push/payload.json"))
            .0,
        200
    );
    assert_eq!(
        server
            .post(
                Some("pull_request"),
                Some("m-3"),
                Some(&webhook::sign(b"x", &body)),
                &body
            )
            .0,
        401
    );
    assert_eq!(server.post(None, Some("m-4"), None, &body).0, 400);
    let resp = server
        .http
        .get(format!("{}/metrics", server.url))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = resp.text().unwrap();
    for (outcome, n) in [
        ("accepted", 1.0),
        ("duplicate", 1.0),
        ("ignored", 1.0),
        ("bad_signature", 1.0),
        ("missing_header", 1.0),
        ("too_large", 0.0),
    ] {
        assert_eq!(
            sample(
                &text,
                &format!("cavra_app_deliveries_total{{outcome=\"{outcome}\"}}")
            ),
            n,
            "{outcome}"
        );
    }
    assert_eq!(sample(&text, "cavra_app_queue_depth"), 1.0);
    for family in [
        "# TYPE cavra_app_deliveries_total counter",
        "# TYPE cavra_app_queue_depth gauge",
        "# TYPE cavra_app_evaluation_seconds histogram",
        "# TYPE cavra_app_github_api_calls_total counter",
        "# TYPE cavra_app_github_rate_limit_remaining gauge",
    ] {
        assert!(text.contains(family), "{family}");
    }
    assert!(!text.contains(SECRET));
    assert_eq!(server.get("/nothing-here").0, 404);
    assert_eq!(server.get("/webhook").0, 405);

    // Graceful shutdown: serve returns and the port closes.
    let addr = server.addr;
    server.stop();
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

/// A store whose database is down (enqueue and ready fail), or hangs for `hang` first.
struct DownStore {
    calls: AtomicU64,
    hang: Duration,
}

impl VerdictStore for DownStore {
    fn save_verdict(&self, _: &str, _: &str, _: &str, _: Option<&str>) -> Result<i64, StoreError> {
        unimplemented!()
    }
}

impl Store for DownStore {
    fn enqueue(&self, _: &NewDelivery<'_>) -> Result<Enqueued, StoreError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(self.hang);
        Err(StoreError::Db("connection refused".into()))
    }
    fn claim(&self, _: &str, _: Duration) -> Result<Option<Job>, StoreError> {
        unimplemented!()
    }
    fn heartbeat(&self, _: &Job, _: &str, _: Duration) -> Result<bool, StoreError> {
        unimplemented!()
    }
    fn complete(&self, _: &Job, _: &str) -> Result<(), StoreError> {
        unimplemented!()
    }
    fn retry_later(&self, _: &Job, _: Duration, _: &str) -> Result<(), StoreError> {
        unimplemented!()
    }
    fn fail(&self, _: &Job, _: &str) -> Result<(), StoreError> {
        unimplemented!()
    }
    fn release(&self, _: &str) -> Result<u64, StoreError> {
        unimplemented!()
    }
    fn superseded(&self, _: &Job) -> Result<bool, StoreError> {
        unimplemented!()
    }
    fn depth(&self) -> Result<u64, StoreError> {
        Err(StoreError::Db("connection refused".into()))
    }
    fn ready(&self) -> Result<(), StoreError> {
        Err(StoreError::Db("connection refused".into()))
    }
    fn verdict(
        &self,
        _: i64,
    ) -> Result<Option<(String, String, String, Option<String>)>, StoreError> {
        unimplemented!()
    }
    fn state(&self, _: &str) -> Result<Option<(String, u32)>, StoreError> {
        Ok(None)
    }
}

#[test]
fn a_store_error_is_503_so_github_redelivers() {
    let down = Arc::new(DownStore {
        calls: AtomicU64::new(0),
        hang: Duration::ZERO,
    });
    let server = Server::with_store(down.clone(), 5 << 20, tempfile::tempdir().unwrap());
    server.ready.store(true, Ordering::Release);
    let (status, answer) = server.deliver(
        "pull_request",
        "while-down",
        &example("pull_request/opened.payload.json"),
    );
    assert_eq!(status, 503, "{answer}");
    // The detail goes to the log, not to the caller.
    assert!(
        !answer.to_string().contains("connection refused"),
        "{answer}"
    );
    assert_eq!(down.calls.load(Ordering::Relaxed), 1);
    assert_eq!(server.metrics.deliveries("store_error"), 1);
    assert_eq!(server.get("/readyz").0, 503);
    // Ignored events never touch the store.
    assert_eq!(
        server
            .deliver("push", "push-1", &example("push/payload.json"))
            .0,
        200
    );
    assert_eq!(down.calls.load(Ordering::Relaxed), 1);
    // /metrics still renders.
    assert_eq!(server.get("/metrics").0, 200);
}

#[test]
fn a_hung_store_is_503_within_the_enqueue_timeout() {
    let hung = Arc::new(DownStore {
        calls: AtomicU64::new(0),
        hang: server::ENQUEUE_TIMEOUT + Duration::from_secs(1),
    });
    let server = Server::with_store(hung, 5 << 20, tempfile::tempdir().unwrap());
    let started = std::time::Instant::now();
    let (status, answer) = server.deliver(
        "pull_request",
        "while-hung",
        &example("pull_request/opened.payload.json"),
    );
    assert_eq!(status, 503, "{answer}");
    let took = started.elapsed();
    assert!(
        took >= server::ENQUEUE_TIMEOUT && took < server::ENQUEUE_TIMEOUT + Duration::from_secs(1),
        "{took:?}"
    );
}

#[test]
fn a_body_sent_too_slowly_is_408() {
    let server = Server::start(5 << 20);
    let body = example("pull_request/opened.payload.json");
    let sig = webhook::sign(SECRET.as_bytes(), &body);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(server::BODY_TIMEOUT + Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: pull_request\r\nX-GitHub-Delivery: slow-1\r\nX-Hub-Signature-256: {sig}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body[..10]).unwrap();
    let started = std::time::Instant::now();
    let mut answer = [0u8; 64];
    let n = stream.read(&mut answer).unwrap();
    assert!(
        answer[..n].starts_with(b"HTTP/1.1 408"),
        "{:?}",
        String::from_utf8_lossy(&answer[..n])
    );
    assert!(started.elapsed() >= server::BODY_TIMEOUT - Duration::from_secs(1));
    assert_eq!(server.state("slow-1"), None);
}
