//! The App as it runs, for the end-to-end tests and the benchmark: a served repository, the mock
//! GitHub, and the `cavra-github-app` binary started with its configuration in the environment.

#![allow(dead_code)] // the tests and the benchmark use different parts

use cavra_testkit::forges::github::{Call, MockGithub, TOKEN, pull};
use cavra_testkit::git_http::{GitServer, basic_token, commit, git};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const APP_ID: u64 = 4242;
pub const INSTALLATION: u64 = 77;
pub const FULL_NAME: &str = "octo-org/hello-world";
pub const SECRET: &str = "webhook-secret-for-tests";

pub fn app_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
        key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
    })
}

/// A served repository, the mock GitHub, and where the App keeps its files.
pub struct World {
    pub dir: tempfile::TempDir,
    pub work: PathBuf,
    pub served: PathBuf,
    pub base: String,
    pub git: GitServer,
    pub github: MockGithub,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "-q", "-b", "main"]);
        let base = commit(&work, &[("README.md", "hello\n")], "base");
        let served = dir.path().join(format!("served/{FULL_NAME}.git"));
        std::fs::create_dir_all(served.parent().unwrap()).unwrap();
        git(
            dir.path(),
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().unwrap(),
                served.to_str().unwrap(),
            ],
        );
        let git = GitServer::start(dir.path().join("served"), basic_token(TOKEN));
        let github = MockGithub::start("");
        github.with_state(|s| s.app_id = Some(APP_ID));
        World {
            dir,
            work,
            served,
            base,
            git,
            github,
        }
    }

    /// Opens pull request `number` adding `files`; its head.
    pub fn open_pull(&self, number: u64, files: &[(&str, &str)]) -> String {
        git(
            &self.work,
            &["checkout", "-q", "-B", &format!("pr{number}"), "main"],
        );
        let head = commit(&self.work, files, &format!("pull request {number}"));
        git(
            &self.work,
            &[
                "push",
                "-q",
                "-f",
                self.served.to_str().unwrap(),
                &format!("{head}:refs/pull/{number}/head"),
            ],
        );
        let base = self.base.clone();
        self.github.with_state(|s| {
            s.pulls
                .insert(number, pull(number, &head, "main", &base, &[]))
        });
        head
    }

    /// Opens pull requests 1 to `count`, each adding a source file; their heads.
    pub fn open_pulls(&self, count: u64) -> Vec<String> {
        (1..=count)
            .map(|n| self.open_pull(n, &[(&format!("src/pr{n}.rs"), "pub fn f() {}\n")]))
            .collect()
    }

    /// Makes every GitHub answer wait `delay`, to hold evaluations mid-flight.
    pub fn slow_github(&self, delay: Duration) {
        self.github.with_state(|s| s.delay = Some(delay));
    }

    /// Waits until some evaluation has created its check run.
    pub fn wait_for_an_evaluation(&self) {
        wait_until("an evaluation in flight", Duration::from_secs(30), || {
            self.github
                .calls()
                .iter()
                .any(|(c, _)| *c == Call::CreateCheckRun)
        });
    }

    pub fn database(&self) -> PathBuf {
        self.dir.path().join("app.db")
    }

    /// Starts the App on the SQLite database; its address once it listens.
    pub fn start_app(&self) -> App {
        let url = format!("sqlite:{}", self.database().display());
        self.start_app_on(&url, "cache")
    }

    /// Starts an App (a replica) on `database_url`, with its own repository cache `cache`.
    pub fn start_app_on(&self, database_url: &str, cache: &str) -> App {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cavra-github-app"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("CAVRA_APP_ID", APP_ID.to_string())
            .env("CAVRA_APP_PRIVATE_KEY", app_key())
            .env("CAVRA_APP_WEBHOOK_SECRET", SECRET)
            .env("CAVRA_APP_API_URL", format!("{}/", self.github.api_url()))
            .env("CAVRA_APP_GIT_URL", self.git.url())
            .env("CAVRA_APP_DATABASE_URL", database_url)
            .env("CAVRA_APP_CACHE_DIR", self.dir.path().join(cache))
            .env("CAVRA_APP_LISTEN", "127.0.0.1:0")
            .env("CAVRA_APP_WORKERS", "2")
            .env("CAVRA_APP_LEASE_SECONDS", "2")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cavra-github-app");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Ok(v) = serde_json::from_str::<Value>(&line) {
                        if v["message"] == "listening" || v["msg"] == "listening" {
                            let _ = tx.send(v["addr"].as_str().unwrap_or_default().to_string());
                            sent = true;
                        }
                    }
                }
                let mut log = kept.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the App says where it listens");
        App { child, addr, log }
    }
}

pub struct App {
    pub child: Child,
    pub addr: String,
    /// Everything the App logged so far (JSON lines).
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl App {
    /// Panics when the log holds the webhook secret or the installation token, or a line that
    /// is not a JSON object.
    pub fn assert_log_is_clean(&self) {
        let log = self.log.lock().unwrap();
        assert!(!log.is_empty(), "the App logged nothing");
        assert!(!log.contains(SECRET), "the webhook secret was logged");
        assert!(!log.contains(TOKEN), "the installation token was logged");
        for line in log.lines() {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(v.is_object(), "{line}");
        }
    }

    /// GETs `path`; the status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// Posts a signed delivery; the status code.
    pub fn deliver(&self, id: &str, event: &str, body: &[u8]) -> u16 {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body);
        let signature = hex::encode(mac.finalize().into_bytes());
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        let head = format!(
            "POST /webhook HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nX-GitHub-Event: {event}\r\nX-GitHub-Delivery: {id}\r\nX-Hub-Signature-256: sha256={signature}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

/// Delivers `synchronize` for pull request `n + 1` at `heads[n]` as `ids[n]`, spreading the
/// deliveries over `apps` in turn; each must be accepted (202).
pub fn deliver_all(apps: &[&App], ids: &[String], heads: &[String]) {
    for (n, head) in heads.iter().enumerate() {
        let app = apps[n % apps.len()];
        let body = synchronize(n as u64 + 1, head);
        assert_eq!(
            app.deliver(&ids[n], "pull_request", &body),
            202,
            "{}",
            ids[n]
        );
    }
}

/// The published `pull_request.synchronize` example, pointed at our repository and head.
pub fn synchronize(number: u64, head: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testkit/fixtures/github-webhooks/examples/pull_request/synchronize.payload.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["installation"] = serde_json::json!({ "id": INSTALLATION });
    v["repository"]["full_name"] = FULL_NAME.into();
    v["repository"]["clone_url"] = "https://github.invalid/octo-org/hello-world.git".into();
    v["number"] = number.into();
    v["pull_request"]["number"] = number.into();
    v["pull_request"]["head"]["sha"] = head.into();
    serde_json::to_vec(&v).unwrap()
}

/// The conclusions of completed check runs, by head commit (as the mock GitHub keeps them).
pub fn conclusions(github: &MockGithub) -> Vec<(String, String)> {
    github.with_state(|s| {
        s.check_runs
            .values()
            .filter_map(|(head, conclusion)| Some((head.clone(), conclusion.clone()?)))
            .collect()
    })
}

pub fn wait_until(what: &str, limit: Duration, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// How many times each delivery was completed, read from the App's own database.
pub fn completions(db: &Path, ids: &[String]) -> Vec<(String, u32)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    ids.iter()
        .map(|id| {
            conn.query_row(
                "SELECT state, completions FROM jobs WHERE delivery_id = ?1",
                [id],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)),
            )
            .unwrap_or(("missing".to_string(), 0))
        })
        .collect()
}
