//! GitHub: the verdict as a check run with line annotations (or, where the token may not write
//! checks, a commit status), the job's step summary and workflow-command annotations.
//!
//! The calls go through [`octocrab`] on a current-thread tokio runtime made for each call of
//! the blocking API. Octocrab's own retry layer is switched off: every request is retried by
//! [`RetryPolicy`] only, so a 5xx is never retried twice over, and a 401, 404, 409 or 422 is
//! reported at once with GitHub's own message.
//!
//! - [`report`]: a completed check run named [`STATUS_NAME`] on the verdict's head commit. The
//!   first 50 annotations go with the create request, the rest in batches of 50 through
//!   updates (GitHub appends them). [`GithubMode::Auto`] falls back to a commit status when
//!   GitHub answers 403 without a rate limit (a token without `checks: write`, as on pull
//!   requests from forks).
//! - [`pending`]: an `in_progress` check run (or a `pending` status) while the gate runs.
//! - [`workflow_commands`] and [`append_step_summary`]: what a GitHub Actions step prints and
//!   writes to `$GITHUB_STEP_SUMMARY`, which need no token at all.

use crate::present::{self, GateState};
use crate::retry::{self, Answer, Next, RetryPolicy};
use crate::{ForgeError, Posted, STATUS_NAME, Token};
use cavra_gate::Verdict;
use cavra_report::{Annotation, Level};
use octocrab::Octocrab;
use octocrab::models::StatusState;
use octocrab::params::checks::{
    CheckRunConclusion, CheckRunOutput, CheckRunOutputAnnotation, CheckRunOutputAnnotationLevel,
    CheckRunStatus,
};
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

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
        let var = |name: &str| {
            env(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let (token, _) =
            Token::from_env(env, &["CAVRA_GITHUB_TOKEN", "GITHUB_TOKEN"]).ok_or_else(|| {
                ForgeError::Config(
                    "GitHub: no token: set CAVRA_GITHUB_TOKEN or GITHUB_TOKEN (in a workflow: \
                     `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` with `permissions: \
                     checks: write`)"
                        .to_string(),
                )
            })?;
        let api_url = var("GITHUB_API_URL").unwrap_or_else(|| DEFAULT_API_URL.to_string());
        let api_url = check_api_url(&api_url, "GITHUB_API_URL")?;
        let repository = var("GITHUB_REPOSITORY").ok_or_else(|| {
            ForgeError::Config(
                "GitHub: GITHUB_REPOSITORY is not set (it names the repository as owner/name)"
                    .to_string(),
            )
        })?;
        split_repository(&repository)?;
        let details_url = match (var("GITHUB_SERVER_URL"), var("GITHUB_RUN_ID")) {
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

/// `url` without a trailing slash, when it is an http(s) URL.
fn check_api_url(url: &str, name: &str) -> Result<String, ForgeError> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(url.to_string()),
        _ => Err(ForgeError::Config(format!(
            "GitHub: {name} must be an http(s) URL such as {DEFAULT_API_URL} or \
             https://HOST/api/v3, not {url:?}"
        ))),
    }
}

/// `(owner, name)` of `owner/name` (letters, digits, `-`, `_` and `.`: safe in a URL path).
fn split_repository(repository: &str) -> Result<(&str, &str), ForgeError> {
    let part = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repository.split_once('/') {
        Some((owner, name)) if part(owner) && part(name) => Ok((owner, name)),
        _ => Err(ForgeError::Config(format!(
            "GitHub: the repository must be given as owner/name (GITHUB_REPOSITORY), not \
             {repository:?}"
        ))),
    }
}

/// Posts `verdict` on its head commit: a completed check run with annotations, or a commit
/// status (see [`GithubMode`]). `summary_markdown` is the check run's summary
/// ([`present::summary`]); it is cut to GitHub's limit with a note.
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
    if matches!(sha.len(), 40 | 64) && sha.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(ForgeError::Config(format!(
            "GitHub: {sha:?} is not a full commit id (40 or 64 hexadecimal digits)"
        )))
    }
}

/// The commit status state of `state`. A missing approval is a `failure` whose description
/// (the title) says who must approve: `pending` would claim that something is still running.
fn status_of(state: GateState) -> StatusState {
    match state {
        GateState::Success | GateState::Neutral => StatusState::Success,
        GateState::ActionRequired | GateState::Failure => StatusState::Failure,
    }
}

/// The conclusion of a completed check run.
fn conclusion_of(state: GateState) -> (CheckRunConclusion, &'static str) {
    match state {
        GateState::Success => (CheckRunConclusion::Success, "success"),
        GateState::Neutral => (CheckRunConclusion::Neutral, "neutral"),
        GateState::ActionRequired => (CheckRunConclusion::ActionRequired, "action_required"),
        GateState::Failure => (CheckRunConclusion::Failure, "failure"),
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

/// A request that failed for good.
struct Refused {
    error: ForgeError,
    /// GitHub's answer was a rate limit (a header or the message says so).
    rate_limited: bool,
}

impl Refused {
    /// A 403 that is not a rate limit: the token may not write checks (a fork's pull request,
    /// a workflow without `checks: write`).
    fn forbids_checks(&self) -> bool {
        self.error.status() == Some(403) && !self.rate_limited
    }
}

/// A failed step: the check run's create request (which may fall back to a status), or a
/// later one.
enum Failure {
    Create(Refused),
    Later(ForgeError),
}

impl Failure {
    fn into_error(self) -> ForgeError {
        match self {
            Failure::Create(Refused { error, .. }) | Failure::Later(error) => error,
        }
    }
}

impl From<Refused> for Failure {
    fn from(refused: Refused) -> Failure {
        Failure::Later(refused.error)
    }
}

/// The check run's body for create and update requests.
#[derive(Serialize)]
struct CheckRunBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    head_sha: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<CheckRunStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conclusion: Option<CheckRunConclusion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<CheckRunOutput>,
}

/// The commit status body.
#[derive(Serialize)]
struct StatusBody<'a> {
    state: StatusState,
    context: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_url: Option<&'a str>,
    description: String,
}

/// The parts of GitHub's answer that are used (lenient, so a new field never breaks a report).
#[derive(serde::Deserialize)]
struct Created {
    id: Option<u64>,
    html_url: Option<String>,
}

/// One octocrab client on its own runtime.
struct Client<'a> {
    cfg: &'a GithubConfig,
    owner: &'a str,
    name: &'a str,
    runtime: tokio::runtime::Runtime,
    crab: Octocrab,
}

impl<'a> Client<'a> {
    fn new(cfg: &'a GithubConfig) -> Result<Client<'a>, ForgeError> {
        let (owner, name) = split_repository(&cfg.repository)?;
        let api_url = check_api_url(&cfg.api_url, "the API URL")?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ForgeError::Config(format!("GitHub: cannot start a runtime: {e}")))?;
        let base = format!("{api_url}/");
        // Octocrab spawns its request worker, so it is built inside the runtime.
        let crab = runtime
            .block_on(async {
                Octocrab::builder()
                    .base_uri(base.as_str())?
                    .personal_token(cfg.token.expose().to_string())
                    .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
                    .add_header(http::header::ACCEPT, "application/vnd.github+json".into())
                    .set_connect_timeout(Some(Duration::from_secs(15)))
                    .set_read_timeout(Some(Duration::from_secs(60)))
                    .set_write_timeout(Some(Duration::from_secs(60)))
                    .build()
            })
            .map_err(|e| {
                ForgeError::Config(cfg.token.scrub(&format!(
                    "GitHub: cannot use the API URL {api_url:?}: {}",
                    chain(&e)
                )))
            })?;
        Ok(Client {
            cfg,
            owner,
            name,
            runtime,
            crab,
        })
    }

    /// Sends `body` with `method` to `route`, retrying as the policy says.
    fn send<B: Serialize>(
        &self,
        operation: &str,
        method: http::Method,
        route: &str,
        body: &B,
    ) -> Result<Created, Refused> {
        self.runtime.block_on(async {
            let mut attempt = 0;
            loop {
                attempt += 1;
                let result: Result<serde_json::Value, octocrab::Error> =
                    if method == http::Method::PATCH {
                        self.crab.patch(route, Some(body)).await
                    } else {
                        self.crab.post(route, Some(body)).await
                    };
                let error = match result {
                    Ok(value) => {
                        return serde_json::from_value::<Created>(value).or(Ok(Created {
                            id: None,
                            html_url: None,
                        }));
                    }
                    Err(error) => error,
                };
                let failed = Failed::of(&error, &self.cfg.token);
                let lookup = |name: &str| failed.header(name);
                let answer = Answer {
                    status: failed.status,
                    header: &lookup,
                    now_unix: retry::now_unix(),
                };
                let next = if failed.retryable {
                    self.cfg.retry.next(attempt, &answer)
                } else {
                    Next::GiveUp(None)
                };
                match next {
                    Next::RetryAfter(wait) => tokio::time::sleep(wait).await,
                    Next::GiveUp(why) => {
                        return Err(Refused {
                            rate_limited: failed.rate_limited(),
                            error: failed.into_error(operation, why),
                        });
                    }
                }
            }
        })
    }

    fn check_run(
        &self,
        verdict: &Verdict,
        state: GateState,
        title: &str,
        summary_markdown: &str,
    ) -> Result<Posted, Failure> {
        let all = cavra_report::annotations(verdict);
        let shown = all.len().min(MAX_ANNOTATIONS);
        let summary = check_run_summary(summary_markdown, all.len(), shown);
        let (conclusion, word) = conclusion_of(state);
        let batches: Vec<&[Annotation]> = all[..shown].chunks(ANNOTATIONS_PER_REQUEST).collect();
        let output = |batch: Option<&&[Annotation]>| CheckRunOutput {
            title: title.to_string(),
            summary: summary.clone(),
            text: None,
            annotations: batch.map_or_else(Vec::new, |b| b.iter().map(annotation).collect()),
            images: Vec::new(),
        };
        let create = CheckRunBody {
            name: Some(STATUS_NAME),
            head_sha: Some(&verdict.revisions.head),
            details_url: self.cfg.details_url.as_deref(),
            external_id: Some(verdict.policy.sha256.as_str()).filter(|s| !s.is_empty()),
            status: Some(CheckRunStatus::Completed),
            conclusion: Some(conclusion),
            output: Some(output(batches.first())),
        };
        let route = format!("/repos/{}/{}/check-runs", self.owner, self.name);
        let created = self
            .send("create check run", http::Method::POST, &route, &create)
            .map_err(Failure::Create)?;
        let id = created.id.ok_or_else(|| {
            Failure::Later(ForgeError::Api {
                forge: FORGE,
                operation: "create check run".to_string(),
                status: 201,
                message: "the answer holds no check run id".to_string(),
            })
        })?;
        let mut sent = batches.first().map_or(0, |b| b.len());
        for batch in batches.iter().skip(1) {
            let update = CheckRunBody {
                name: None,
                head_sha: None,
                details_url: None,
                external_id: None,
                status: None,
                conclusion: None,
                output: Some(output(Some(batch))),
            };
            let operation = format!(
                "update check run {id} (annotations {}-{} of {shown}; the check run itself was \
                 created)",
                sent + 1,
                sent + batch.len()
            );
            self.send(
                &operation,
                http::Method::PATCH,
                &format!("{route}/{id}"),
                &update,
            )?;
            sent += batch.len();
        }
        let mut line = format!(
            "check run {id} created: {word}, {shown} annotation{} in {} request{}",
            plural(shown),
            batches.len().max(1),
            plural(batches.len().max(1)),
        );
        if shown < all.len() {
            line.push_str(&format!(
                " ({} more left out: at most {MAX_ANNOTATIONS} go on a check run; the SARIF report has all)",
                all.len() - shown
            ));
        }
        Ok(Posted {
            actions: vec![line],
            url: created.html_url,
        })
    }

    fn pending_check_run(&self, head_sha: &str) -> Result<Posted, Failure> {
        let body = CheckRunBody {
            name: Some(STATUS_NAME),
            head_sha: Some(head_sha),
            details_url: self.cfg.details_url.as_deref(),
            external_id: None,
            status: Some(CheckRunStatus::InProgress),
            conclusion: None,
            output: Some(CheckRunOutput {
                title: "cavra gate is running".to_string(),
                summary: format!(
                    "{}\nThe gate is judging this change against the base revision's policy.",
                    present::NOTE_MARKER
                ),
                text: None,
                annotations: Vec::new(),
                images: Vec::new(),
            }),
        };
        let route = format!("/repos/{}/{}/check-runs", self.owner, self.name);
        let created = self
            .send("create check run", http::Method::POST, &route, &body)
            .map_err(Failure::Create)?;
        let id = created
            .id
            .map_or_else(|| "?".to_string(), |id| id.to_string());
        Ok(Posted {
            actions: vec![format!("check run {id} created: in_progress")],
            url: created.html_url,
        })
    }

    /// Sets the `cavra/gate` commit status; `notes` come first in the actions.
    fn status(
        &self,
        sha: &str,
        state: StatusState,
        description: &str,
        mut notes: Vec<String>,
    ) -> Result<Posted, Failure> {
        let body = StatusBody {
            state,
            context: STATUS_NAME,
            target_url: self.cfg.details_url.as_deref(),
            description: cut_chars(description, MAX_STATUS_DESCRIPTION_CHARS),
        };
        let route = format!("/repos/{}/{}/statuses/{sha}", self.owner, self.name);
        self.send("create commit status", http::Method::POST, &route, &body)?;
        let word = match state {
            StatusState::Success => "success",
            StatusState::Failure => "failure",
            StatusState::Pending => "pending",
            _ => "error",
        };
        notes.push(format!(
            "commit status {STATUS_NAME} set on {}: {word} ({})",
            short(sha),
            body.description
        ));
        Ok(Posted {
            actions: notes,
            url: self.cfg.details_url.clone(),
        })
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// The summary within GitHub's limit, saying when annotations were left out.
fn check_run_summary(summary: &str, total: usize, shown: usize) -> String {
    if shown >= total {
        return present::truncate(summary, MAX_SUMMARY_CHARS);
    }
    let note = format!(
        "\n\n> **Note:** {shown} of {total} annotations are shown on this check run; the SARIF \
         report and the job's artifacts hold all of them.\n"
    );
    let room = MAX_SUMMARY_CHARS - note.chars().count();
    format!("{}{note}", present::truncate(summary, room).trim_end())
}

/// One annotation as GitHub takes it.
fn annotation(a: &Annotation) -> CheckRunOutputAnnotation {
    let line = a.line.max(1);
    CheckRunOutputAnnotation {
        path: a.path.clone(),
        start_line: line,
        end_line: line,
        start_column: None,
        end_column: None,
        annotation_level: match a.level {
            Level::Notice => CheckRunOutputAnnotationLevel::Notice,
            Level::Warning => CheckRunOutputAnnotationLevel::Warning,
            Level::Failure => CheckRunOutputAnnotationLevel::Failure,
        },
        message: cut_bytes(&a.message, MAX_ANNOTATION_MESSAGE_BYTES),
        title: Some(cut_chars(&a.title, MAX_ANNOTATION_TITLE_CHARS)),
        raw_details: None,
    }
}

/// `text` cut to `max` characters, ending with `…` when cut.
fn cut_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some(_) => {
            let end = text
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(0, |(i, _)| i);
            format!("{}…", &text[..end])
        }
    }
}

/// `text` cut to `max` bytes on a character boundary, ending with `…` when cut.
fn cut_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// An octocrab error, read for the retry policy and the message.
struct Failed {
    status: Option<u16>,
    headers: Option<http::HeaderMap>,
    message: String,
    retryable: bool,
}

impl Failed {
    fn of(error: &octocrab::Error, token: &Token) -> Failed {
        match error {
            octocrab::Error::GitHub { source, .. } => {
                let mut message = source.message.clone();
                if let Some(errors) = source.errors.as_ref().filter(|e| !e.is_empty()) {
                    let details = serde_json::to_string(errors).unwrap_or_default();
                    message.push_str(": ");
                    message.push_str(&cut_chars(&details, 500));
                }
                Failed {
                    status: Some(source.status_code.as_u16()),
                    headers: source.headers.clone(),
                    message: token.scrub(&message),
                    retryable: true,
                }
            }
            // No answer came (connection refused or reset, timeout): retried.
            octocrab::Error::Hyper { .. } | octocrab::Error::Service { .. } => Failed {
                status: None,
                headers: None,
                message: token.scrub(&chain(error)),
                retryable: true,
            },
            // Anything else (the answer could not be read) is not retried: the request may
            // well have been carried out.
            other => Failed {
                status: None,
                headers: None,
                message: token.scrub(&chain(other)),
                retryable: false,
            },
        }
    }

    fn header(&self, name: &str) -> Option<String> {
        let value = self.headers.as_ref()?.get(name)?;
        value.to_str().ok().map(str::to_string)
    }

    /// A rate limit, primary or secondary: 429, `Retry-After`, `X-RateLimit-Remaining: 0`,
    /// or a message that says so.
    fn rate_limited(&self) -> bool {
        self.status == Some(429)
            || self.header("retry-after").is_some()
            || self
                .header("x-ratelimit-remaining")
                .is_some_and(|v| v.trim() == "0")
            || self.message.to_ascii_lowercase().contains("rate limit")
    }

    fn into_error(self, operation: &str, why: Option<String>) -> ForgeError {
        let mut message = self.message;
        if let Some(why) = why {
            message = format!("{message} ({why})");
        }
        match self.status {
            Some(status) => ForgeError::Api {
                forge: FORGE,
                operation: operation.to_string(),
                status,
                message,
            },
            None => ForgeError::Transport {
                forge: FORGE,
                operation: operation.to_string(),
                message,
            },
        }
    }
}

/// An error with its causes, `: `-joined (octocrab's own text is often just the outer one).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    // Octocrab's `Display` of some variants appends a backtrace section; keep the first line.
    text.lines().next().unwrap_or_default().to_string()
}

/// The findings as GitHub Actions workflow commands (`::error file=…,line=…,title=…::message`),
/// one per line, failures first. GitHub shows 10 per level and step, so at most that many of
/// each level are written; a last `::notice` says how many more the check run and the SARIF
/// report hold.
pub fn workflow_commands(verdict: &Verdict) -> String {
    let all = cavra_report::annotations(verdict);
    let omitted_any = [Level::Failure, Level::Warning, Level::Notice]
        .iter()
        .any(|l| all.iter().filter(|a| a.level == *l).count() > WORKFLOW_COMMANDS_PER_LEVEL);
    let mut out = String::new();
    let mut written = 0;
    let mut per_level = [0usize; 3];
    for a in &all {
        let (command, slot, cap) = match a.level {
            Level::Failure => ("error", 0, WORKFLOW_COMMANDS_PER_LEVEL),
            Level::Warning => ("warning", 1, WORKFLOW_COMMANDS_PER_LEVEL),
            // Room for the closing notice.
            Level::Notice if omitted_any => ("notice", 2, WORKFLOW_COMMANDS_PER_LEVEL - 1),
            Level::Notice => ("notice", 2, WORKFLOW_COMMANDS_PER_LEVEL),
        };
        if per_level[slot] >= cap {
            continue;
        }
        per_level[slot] += 1;
        written += 1;
        out.push_str(&format!(
            "::{command} file={},line={},title={}::{}\n",
            escape_property(&a.path),
            a.line.max(1),
            escape_property(&a.title),
            escape_data(&a.message)
        ));
    }
    if written < all.len() {
        let more = all.len() - written;
        out.push_str(&format!(
            "::notice title={}::{}\n",
            escape_property(STATUS_NAME),
            escape_data(&format!(
                "{more} more finding{} not shown here (GitHub shows {WORKFLOW_COMMANDS_PER_LEVEL} \
                 annotations per level and step): see the {STATUS_NAME} check run or the SARIF \
                 report for all {}.",
                plural(more),
                all.len()
            ))
        ));
    }
    out
}

/// A workflow command's message: `%`, CR and LF escaped.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: as a message, and `:` and `,` escaped too.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Appends `summary_markdown` to the step summary file at `path` (`$GITHUB_STEP_SUMMARY`),
/// never truncating what earlier commands wrote. GitHub takes 1 MiB per step; a summary that
/// would pass that is cut at a line, with a note.
pub fn append_step_summary(path: &Path, summary_markdown: &str) -> std::io::Result<()> {
    const NOTE: &str = "\n\n… (truncated: the step summary is limited to 1 MiB; the full report \
                        is in the job's artifacts)\n";
    let existing = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e),
    };
    let separator = if existing > 0 { "\n" } else { "" };
    let room = MAX_STEP_SUMMARY_BYTES.saturating_sub(existing + separator.len() as u64);
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    let mut text = String::with_capacity(summary_markdown.len().min(room) + 2);
    text.push_str(separator);
    let newline = if summary_markdown.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    if summary_markdown.len() + newline.len() <= room {
        text.push_str(summary_markdown);
        text.push_str(newline);
    } else if room > NOTE.len() {
        let mut end = room - NOTE.len();
        while !summary_markdown.is_char_boundary(end) {
            end -= 1;
        }
        // Do not leave half a line (a broken table row) before the note.
        let end = summary_markdown[..end].rfind('\n').unwrap_or(end);
        text.push_str(&summary_markdown[..end]);
        text.push_str(NOTE);
    } else {
        // No room left at all: write nothing rather than pass the limit.
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_actions_toolkit() {
        assert_eq!(escape_data("50%\r\nnext: a,b"), "50%25%0D%0Anext: a,b");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn cuts_respect_characters() {
        assert_eq!(cut_chars("abcdef", 4), "abc…");
        assert_eq!(cut_chars("abcd", 4), "abcd");
        let cut = cut_bytes(&"é".repeat(10), 7);
        assert!(cut.len() <= 7, "{cut}");
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn modes_parse() {
        assert_eq!(GithubMode::parse("Check-Run"), Some(GithubMode::CheckRun));
        assert_eq!(GithubMode::parse("status"), Some(GithubMode::Status));
        assert_eq!(GithubMode::parse("auto"), Some(GithubMode::Auto));
        assert_eq!(GithubMode::parse("x"), None);
    }
}
