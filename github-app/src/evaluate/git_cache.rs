//! One bare repository per GitHub repository under the cache directory, kept between events:
//! an event fetches only the refs it needs (`refs/pull/N/head` and the base branch, or a merge
//! group's commits) into it, and fetches nothing when the commits are already there.
//!
//! # Why the `git` command line
//!
//! Fetching runs the `git` program, not `git2`. `git2`'s network transports need its `https`
//! feature, which links OpenSSL (libgit2's TLS backend on Linux); the workspace builds `git2`
//! without network features and uses rustls everywhere else. The `git` program brings its own
//! TLS, protocol v2, partial negotiation (`have` lines from what the cache already holds) and
//! well-tested handling of proxies and `http.extraHeader`. The installation token goes to it
//! through the environment only (`GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_0`/`GIT_CONFIG_VALUE_0` set
//! `http.extraHeader: Authorization: Basic base64(x-access-token:TOKEN)`): never in argv
//! (visible in `ps`), in the URL (kept in the reflog and `FETCH_HEAD`) or in the cache's config.
//! `GIT_TERMINAL_PROMPT=0` makes a refused token an error instead of a prompt. The better route
//! for later: a pure-Rust client (`gix` with its `blocking-http-transport-reqwest-rust-tls`
//! feature) would drop the dependency on an installed `git` while staying off OpenSSL.

use base64::Engine;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// The repositories cached under one directory; one fetch per repository at a time.
pub struct GitCache {
    dir: PathBuf,
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

/// A fetch that failed; `transient` when the remote may answer later.
#[derive(Debug)]
pub struct FetchError {
    pub message: String,
    pub transient: bool,
}

impl GitCache {
    pub fn new(dir: &Path) -> GitCache {
        GitCache {
            dir: dir.to_path_buf(),
            locks: Mutex::default(),
        }
    }

    /// The bare repository of `owner/name`.
    pub fn path(&self, full_name: &str) -> PathBuf {
        self.dir
            .join(format!("{}.git", full_name.replace('/', "__")))
    }

    /// Makes `commits` present in the cache of `full_name`, fetching `refspecs` from `url` when
    /// one is missing. Returns the bare repository's path and whether a fetch ran.
    pub fn ensure(
        &self,
        full_name: &str,
        url: &str,
        token: &str,
        refspecs: &[String],
        commits: &[&str],
    ) -> Result<(PathBuf, bool), FetchError> {
        let lock = self
            .locks
            .lock()
            .unwrap()
            .entry(full_name.to_string())
            .or_default()
            .clone();
        let _held = lock.lock().unwrap();
        let path = self.path(full_name);
        if !path.join("HEAD").exists() {
            std::fs::create_dir_all(&path).map_err(|e| FetchError {
                message: format!("cannot create the cache {}: {e}", path.display()),
                transient: false,
            })?;
            run(&path, &["init", "--quiet", "--bare"], None)?;
        }
        if !commits.is_empty() && commits.iter().all(|c| has_commit(&path, c)) {
            return Ok((path, false));
        }
        let mut args = vec![
            "-c",
            "protocol.version=2",
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--",
            url,
        ];
        args.extend(refspecs.iter().map(String::as_str));
        run(&path, &args, Some(token))?;
        if let Some(missing) = commits.iter().find(|c| !has_commit(&path, c)) {
            return Err(FetchError {
                message: format!("{missing} is not in the fetched refs (pushed over since?)"),
                transient: true,
            });
        }
        Ok((path, true))
    }
}

fn has_commit(repo: &Path, sha: &str) -> bool {
    Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(["cat-file", "-e", &format!("{sha}^{{commit}}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `git --git-dir REPO ARGS`, with the token (if any) as an extra header from the
/// environment only.
fn run(repo: &Path, args: &[&str], token: Option<&str>) -> Result<(), FetchError> {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir")
        .arg(repo)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::null());
    if let Some(token) = token {
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"));
        cmd.env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "http.extraHeader")
            .env(
                "GIT_CONFIG_VALUE_0",
                format!("Authorization: Basic {basic}"),
            );
    }
    let out = cmd.output().map_err(|e| FetchError {
        message: format!("cannot run git: {e}"),
        transient: false,
    })?;
    if out.status.success() {
        return Ok(());
    }
    let mut stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if let Some(token) = token {
        stderr = super::api::scrub(&stderr, token);
    }
    let lower = stderr.to_ascii_lowercase();
    let refused = [
        "403",
        "401",
        "404",
        "not found",
        "authentication failed",
        "could not read username",
        "repository not exported",
    ]
    .iter()
    .any(|w| lower.contains(w));
    Err(FetchError {
        message: format!(
            "git {}: {}",
            args.iter()
                .find(|a| matches!(**a, "fetch" | "init"))
                .unwrap_or(&"failed"),
            cavra_forge::present::cut_chars(&stderr, 500)
        ),
        transient: !refused,
    })
}
