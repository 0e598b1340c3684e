//! GitHub: the verdict as a check run with line annotations (or, where the token may not write
//! checks, a commit status), the job's step summary and workflow-command annotations.
//!
//! The calls go through [`octocrab`] on a current-thread tokio runtime made for each call of
//! the blocking API. Octocrab's own retry layer is switched off: every request is retried by
//! [`RetryPolicy`] only, so a 5xx is never retried twice over, and a 401, 404, 409 or 422 is
//! reported at once with GitHub's own message.
//!
//! - [`report`]: a completed check run named [`STATUS_NAME`](crate::STATUS_NAME) on the verdict's head commit. The
//!   first 50 annotations go with the create request, the rest in batches of 50 through
//!   updates (GitHub appends them). [`GithubMode::Auto`] falls back to a commit status when
//!   GitHub answers 403 without a rate limit (a token without `checks: write`, as on pull
//!   requests from forks).
//! - [`pending`]: an `in_progress` check run (or a `pending` status) while the gate runs.
//! - [`workflow_commands`] and [`append_step_summary`]: what a GitHub Actions step prints and
//!   writes to `$GITHUB_STEP_SUMMARY`, which need no token at all.
//!
//! The parts: `client` (octocrab on its runtime, and the retry loop), `check_run`, `status`
//! (the commit status) and `workflow` (what a step prints and writes).

mod check_run;
mod client;
mod status;
mod workflow;

pub use workflow::{append_step_summary, workflow_commands};

use crate::config::{api_root, var};
use crate::present::GateState;
use crate::retry::RetryPolicy;
use crate::{ForgeError, Posted, Token};
use cavra_gate::Verdict;
use client::{Client, Failure};
use octocrab::models::StatusState;
use status::status_of;

/// The public API's address.
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// Annotations GitHub takes in one create or update request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// Annotations put on one check run; the rest are counted in the summary.
pub const MAX_ANNOTATIONS: usize = 1_000;
/// Characters in a check run's `output.summary`.
pub const MAX_SUMMARY_CHARS: usize = 65_535;
/// Characters in an annotation title.
pub const MAX_ANNOTATION_TITLE_CHARS: usize = 255;
/// Bytes in an annotation message (64 KB).
pub const MAX_ANNOTATION_MESSAGE_BYTES: usize = 64 * 1024;
/// Characters in a commit status description.
pub const MAX_STATUS_DESCRIPTION_CHARS: usize = 140;
/// Bytes of `$GITHUB_STEP_SUMMARY` per step (1 MiB).
pub const MAX_STEP_SUMMARY_BYTES: u64 = 1024 * 1024;
/// Workflow-command annotations GitHub shows per level and step.
pub const WORKFLOW_COMMANDS_PER_LEVEL: usize = 10;

const FORGE: &str = "GitHub";

/// What to post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GithubMode {
    /// A check run, or a commit status when the token may not create check runs.
    #[default]
    Auto,
    /// A check run only (a 403 is an error).
    CheckRun,
    /// A commit status only (no annotations).
    Status,
}

impl GithubMode {
    /// `auto`, `check-run` (or `check_run`, `checks`) or `status`.
    pub fn parse(text: &str) -> Option<GithubMode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(GithubMode::Auto),
            "check-run" | "check_run" | "checkrun" | "checks" => Some(GithubMode::CheckRun),
            "status" | "commit-status" => Some(GithubMode::Status),
            _ => None,
        }
    }
}

/// Where and how to post. `Debug` never shows the token.
#[derive(Debug, Clone)]
pub struct GithubConfig {
    /// The REST API root: `https://api.github.com`, or `https://HOST/api/v3` for GitHub
    /// Enterprise Server.
    pub api_url: String,
    /// `owner/name`.
    pub repository: String,
    /// A token that may write checks (or statuses).
    pub token: Token,
    /// Check run, status, or check run with a fallback to a status.
    pub mode: GithubMode,
    /// A link to the run, shown on the check run or status.
    pub details_url: Option<String>,
    /// How requests are retried.
    pub retry: RetryPolicy,
}

impl GithubConfig {
    /// The configuration GitHub Actions gives a job: the token from `CAVRA_GITHUB_TOKEN` or
    /// `GITHUB_TOKEN`, `GITHUB_API_URL` (default `https://api.github.com`),
    /// `GITHUB_REPOSITORY`, and a link to the run from `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`
    /// and `GITHUB_RUN_ID`. The mode is [`GithubMode::Auto`].
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<GithubConfig, ForgeError> {
        let get = |name: &str| var(env, name);
        let (token, _) =
            Token::from_env(env, &["CAVRA_GITHUB_TOKEN", "GITHUB_TOKEN"]).ok_or_else(|| {
                ForgeError::Config(
                    "GitHub: no token: set CAVRA_GITHUB_TOKEN or GITHUB_TOKEN (in a workflow: \
                     `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` with `permissions: \
                     checks: write`)"
                        .to_string(),
                )
            })?;
        let api_url = get("GITHUB_API_URL").unwrap_or_else(|| DEFAULT_API_URL.to_string());
        let api_url = check_api_url(&api_url, "GITHUB_API_URL")?;
        let repository = get("GITHUB_REPOSITORY").ok_or_else(|| {
            ForgeError::Config(
                "GitHub: GITHUB_REPOSITORY is not set (it names the repository as owner/name)"
                    .to_string(),
            )
        })?;
        split_repository(&repository)?;
        let details_url = match (get("GITHUB_SERVER_URL"), get("GITHUB_RUN_ID")) {
            (Some(server), Some(run)) => Some(format!(
                "{}/{repository}/actions/runs/{run}",
                server.trim_end_matches('/')
            )),
            _ => None,
        };
        Ok(GithubConfig {
            api_url,
            repository,
            token,
            mode: GithubMode::Auto,
            details_url,
            retry: RetryPolicy::default(),
        })
    }
}

/// The API root (see [`api_root`]) without its trailing slash, or an error that names `name`.
fn check_api_url(url: &str, name: &str) -> Result<String, ForgeError> {
    api_root(url, &format!("{DEFAULT_API_URL} or https://HOST/api/v3"))
        .map(|url| url.as_str().trim_end_matches('/').to_string())
        .map_err(|why| ForgeError::Config(format!("GitHub: {name}: {why}")))
}

/// `(owner, name)` of `owner/name` when both parts are letters, digits, `-`, `_` and `.` (and
/// neither is `.` or `..`): safe in a URL path. The App reads webhook payloads with it too.
pub fn repository_parts(repository: &str) -> Option<(&str, &str)> {
    let part = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    repository
        .split_once('/')
        .filter(|(owner, name)| part(owner) && part(name))
}

/// True for a full commit id: 40 or 64 hexadecimal digits.
pub fn is_commit_id(sha: &str) -> bool {
    matches!(sha.len(), 40 | 64) && sha.bytes().all(|b| b.is_ascii_hexdigit())
}

/// [`repository_parts`], or an error naming where the repository came from.
fn split_repository(repository: &str) -> Result<(&str, &str), ForgeError> {
    repository_parts(repository).ok_or_else(|| {
        ForgeError::Config(format!(
            "GitHub: the repository must be given as owner/name (GITHUB_REPOSITORY), not \
             {repository:?}"
        ))
    })
}

/// Posts `verdict` on its head commit: a completed check run with annotations, or a commit
/// status (see [`GithubMode`]). `summary_markdown` is the check run's summary
/// ([`crate::present::summary`]); it is cut to GitHub's limit with a note.
pub fn report(
    cfg: &GithubConfig,
    verdict: &Verdict,
    summary_markdown: &str,
) -> Result<Posted, ForgeError> {
    let sha = verdict.revisions.head.as_str();
    check_sha(sha)?;
    let client = Client::new(cfg)?;
    let state = GateState::of(verdict);
    let title = cavra_report::title(verdict);
    match cfg.mode {
        GithubMode::Status => client.status(sha, status_of(state), &title, Vec::new()),
        GithubMode::CheckRun => client.check_run(verdict, state, &title, summary_markdown),
        GithubMode::Auto => match client.check_run(verdict, state, &title, summary_markdown) {
            Err(Failure::Create(refused)) if refused.forbids_checks() => {
                let note = fallback_note(&refused.error);
                client.status(sha, status_of(state), &title, vec![note])
            }
            other => other,
        },
    }
    .map_err(Failure::into_error)
}

/// Marks `head_sha` as being judged: an `in_progress` check run, or a `pending` commit status
/// (see [`GithubMode`]).
pub fn pending(cfg: &GithubConfig, head_sha: &str) -> Result<Posted, ForgeError> {
    check_sha(head_sha)?;
    let client = Client::new(cfg)?;
    let pending = StatusState::Pending;
    let running = "cavra gate is running";
    match cfg.mode {
        GithubMode::Status => client.status(head_sha, pending, running, Vec::new()),
        GithubMode::CheckRun => client.pending_check_run(head_sha),
        GithubMode::Auto => match client.pending_check_run(head_sha) {
            Err(Failure::Create(refused)) if refused.forbids_checks() => {
                let note = fallback_note(&refused.error);
                client.status(head_sha, pending, running, vec![note])
            }
            other => other,
        },
    }
    .map_err(Failure::into_error)
}

/// A full commit id (SHA-1 or SHA-256, hexadecimal), as GitHub needs it.
fn check_sha(sha: &str) -> Result<(), ForgeError> {
    if is_commit_id(sha) {
        Ok(())
    } else {
        Err(ForgeError::Config(format!(
            "GitHub: {sha:?} is not a full commit id (40 or 64 hexadecimal digits)"
        )))
    }
}

/// The action line that says why a commit status was posted instead of a check run.
fn fallback_note(e: &ForgeError) -> String {
    let reason = match e {
        ForgeError::Api {
            status, message, ..
        } => format!("HTTP {status}: {message}"),
        other => other.to_string(),
    };
    format!(
        "check run not allowed ({reason}); reported as a commit status instead (the token needs \
         `checks: write` for a check run with annotations)"
    )
}

/// `s` unless `n` is one.
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The short form of a commit id.
fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!(GithubMode::parse("Check-Run"), Some(GithubMode::CheckRun));
        assert_eq!(GithubMode::parse("status"), Some(GithubMode::Status));
        assert_eq!(GithubMode::parse("auto"), Some(GithubMode::Auto));
        assert_eq!(GithubMode::parse("x"), None);
    }
}
