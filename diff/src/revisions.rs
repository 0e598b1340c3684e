//! Choosing base, head and merge base: from flags, the CI environment, or the default branch.

use crate::Error;
use crate::error::fetch_hint;
use git2::{Oid, Repository};

/// The revisions a change is read between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revisions {
    /// The target branch tip: the policy is read from here.
    pub base: Oid,
    /// The proposed head.
    pub head: Oid,
    /// Where head forked from base: the diff starts here.
    pub merge_base: Oid,
    /// How the base was chosen (for the report), e.g. `--base`, `GITHUB_BASE_REF`.
    pub base_source: String,
}

/// What the caller asked for; unset fields are detected.
#[derive(Debug, Clone, Default)]
pub struct RevisionsRequest {
    /// A ref or SHA for the base.
    pub base: Option<String>,
    /// A ref or SHA for the head (default `HEAD`).
    pub head: Option<String>,
}

/// Resolves the request against `repo`, reading CI variables through `env`.
pub fn resolve(
    repo: &Repository,
    request: &RevisionsRequest,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Revisions, Error> {
    let head_spec = request.head.clone().unwrap_or_else(|| "HEAD".to_string());
    let head = commit_of(repo, "head", &head_spec)?;
    let (base_spec, base_source) = match &request.base {
        Some(spec) => (spec.clone(), "--base".to_string()),
        None => detect_base(repo, env)?,
    };
    let base = commit_of(repo, "base", &base_spec)?;
    let merge_base = repo
        .merge_base(base, head)
        .map_err(|_| Error::NoMergeBase {
            base: base.to_string(),
            head: head.to_string(),
            hint: if repo.is_shallow() {
                fetch_hint(true)
            } else {
                "\n  the two revisions have unrelated histories".to_string()
            },
        })?;
    Ok(Revisions {
        base,
        head,
        merge_base,
        base_source,
    })
}

fn commit_of(repo: &Repository, what: &'static str, spec: &str) -> Result<Oid, Error> {
    let unknown = |reason: String| Error::UnknownRevision {
        what,
        spec: spec.to_string(),
        reason,
        hint: fetch_hint(repo.is_shallow()),
    };
    let object = repo
        .revparse_single(spec)
        .map_err(|e| unknown(e.message().to_string()))?;
    let commit = object
        .peel_to_commit()
        .map_err(|e| unknown(e.message().to_string()))?;
    Ok(commit.id())
}

fn non_empty(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

/// The remote-tracking name for a branch, falling back to a local branch of that name.
fn branch_ref(repo: &Repository, branch: &str) -> String {
    let branch = branch.strip_prefix("refs/heads/").unwrap_or(branch);
    let remote = format!("origin/{branch}");
    if repo.revparse_single(&remote).is_ok() {
        remote
    } else {
        branch.to_string()
    }
}

fn detect_base(
    repo: &Repository,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, String), Error> {
    if env("GITHUB_ACTIONS").as_deref() == Some("true") {
        if let Some(sha) = github_event_base(env) {
            return Ok((sha, "GITHUB_EVENT_PATH".into()));
        }
        if let Some(branch) = non_empty(env, "GITHUB_BASE_REF") {
            return Ok((branch_ref(repo, &branch), "GITHUB_BASE_REF".into()));
        }
    }
    if let Some(sha) = non_empty(env, "CI_MERGE_REQUEST_DIFF_BASE_SHA") {
        return Ok((sha, "CI_MERGE_REQUEST_DIFF_BASE_SHA".into()));
    }
    if let Some(branch) = non_empty(env, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME") {
        return Ok((
            branch_ref(repo, &branch),
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME".into(),
        ));
    }
    if let Some(branch) = non_empty(env, "SYSTEM_PULLREQUEST_TARGETBRANCH") {
        return Ok((
            branch_ref(repo, &branch),
            "SYSTEM_PULLREQUEST_TARGETBRANCH".into(),
        ));
    }
    default_branch(repo)
        .map(|b| (b, "default branch".to_string()))
        .ok_or_else(|| {
            Error::NoBase(
                "no CI variables name a target branch and none of origin/HEAD, main, master \
                 exists; pass --base <ref-or-sha>"
                    .to_string(),
            )
        })
}

/// The base SHA from a GitHub Actions event file (pull_request or merge_group events).
fn github_event_base(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let path = non_empty(env, "GITHUB_EVENT_PATH")?;
    let text = std::fs::read(path).ok()?;
    let event: serde_json::Value = serde_json::from_slice(&text).ok()?;
    let sha = event
        .pointer("/pull_request/base/sha")
        .or_else(|| event.pointer("/merge_group/base_sha"))?
        .as_str()?;
    Some(sha.to_string())
}

fn default_branch(repo: &Repository) -> Option<String> {
    if let Ok(reference) = repo.find_reference("refs/remotes/origin/HEAD")
        && let Ok(Some(target)) = reference.symbolic_target()
    {
        return Some(target.trim_start_matches("refs/remotes/").to_string());
    }
    ["origin/main", "origin/master", "main", "master"]
        .into_iter()
        .find(|name| repo.revparse_single(name).is_ok())
        .map(str::to_string)
}
