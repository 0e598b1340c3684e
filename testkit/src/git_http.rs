//! A real git server on a loopback port: `git http-backend` (git's own smart-HTTP CGI) behind
//! the test HTTP server, serving the bare repositories under a root directory and refusing any
//! request without the expected `Authorization` header.

use crate::http::{Request, Response, TestServer};
use base64::Engine;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs the git program in `dir` with a fixed identity and no user or system configuration;
/// its trimmed stdout. Panics when git fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Writes `files` into the work tree `work` and commits them on its current branch; the commit.
pub fn commit(work: &Path, files: &[(&str, &str)], message: &str) -> String {
    for (path, text) in files {
        let path = work.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    git(work, &["add", "-A"]);
    git(work, &["commit", "-q", "-m", message]);
    git(work, &["rev-parse", "HEAD"])
}

/// The header a GitHub App's installation token is sent in when git fetches over HTTPS.
pub fn basic_token(token: &str) -> String {
    let raw = format!("x-access-token:{token}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// A running git server.
pub struct GitServer {
    /// The HTTP server (`url()` + `/owner/name.git`).
    pub server: TestServer,
    /// Fetches served (`git-upload-pack` POSTs).
    pub upload_packs: Arc<AtomicUsize>,
    /// Requests refused for a missing or wrong `Authorization`.
    pub refused: Arc<AtomicUsize>,
}

impl GitServer {
    /// Serves the repositories under `root`, accepting only `authorization`.
    pub fn start(root: PathBuf, authorization: String) -> GitServer {
        let upload_packs = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let (packs, no) = (upload_packs.clone(), refused.clone());
        let server = TestServer::start(move |req| {
            if req.header("authorization") != Some(authorization.as_str()) {
                no.fetch_add(1, Ordering::SeqCst);
                return Response::empty(401).with_header("WWW-Authenticate", "Basic realm=\"git\"");
            }
            if req.method == "POST" && req.path().ends_with("/git-upload-pack") {
                packs.fetch_add(1, Ordering::SeqCst);
            }
            cgi(&root, req)
        });
        GitServer {
            server,
            upload_packs,
            refused,
        }
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        self.server.url()
    }
}

/// Runs `git http-backend` for `req` and turns its CGI answer into a response.
fn cgi(root: &Path, req: &Request) -> Response {
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("REQUEST_METHOD", &req.method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env(
            "CONTENT_TYPE",
            req.header("content-type").unwrap_or_default(),
        )
        .env("CONTENT_LENGTH", req.body.len().to_string())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REMOTE_USER", "x-access-token")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(encoding) = req.header("content-encoding") {
        cmd.env("HTTP_CONTENT_ENCODING", encoding);
    }
    if let Some(protocol) = req.header("git-protocol") {
        cmd.env("GIT_PROTOCOL", protocol);
    }
    let Ok(mut child) = cmd.spawn() else {
        return Response::error(500, "cannot run git http-backend");
    };
    let mut stdin = child.stdin.take().expect("piped stdin");
    let body = req.body.clone();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let Ok(out) = child.wait_with_output() else {
        return Response::error(500, "git http-backend failed");
    };
    let _ = writer.join();
    let split = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| {
            out.stdout
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, 2))
        });
    let Some((end, skip)) = split else {
        return Response::error(500, &String::from_utf8_lossy(&out.stderr));
    };
    let head = String::from_utf8_lossy(&out.stdout[..end]).into_owned();
    let mut response = Response::empty(200);
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("status") {
            response.status = value
                .trim()
                .get(..3)
                .and_then(|s| s.parse().ok())
                .unwrap_or(500);
        } else {
            response = response.with_header(name.trim(), value.trim());
        }
    }
    response.body = out.stdout[end + skip..].to_vec();
    response
}
