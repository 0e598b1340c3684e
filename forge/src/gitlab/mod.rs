//! GitLab: the `cavra/gate` commit status and one merge-request note, updated in place.
//!
//! The endpoints are the `gitlab` crate's (`CreateCommitStatus`, `MergeRequestNotes` with its
//! page-number pagination, `CreateMergeRequestNote`, `EditMergeRequestNote`): they build the
//! paths, escape the project path and encode the bodies. The transport is ours: `Transport`
//! implements the crate's documented extension point, `gitlab::api::Client`, over blocking
//! reqwest. The crate's own `Gitlab` client does not fit a CI gate:
//!
//! - it makes a live `GET /user` (`GET /job` for a job token) when it is built, one call more
//!   per run, and a failure there is not tied to the call that needed it;
//! - it builds its base URL as `{protocol}://{host}/api/v4/`, so a self-managed GitLab under a
//!   path prefix (`https://host/gitlab/api/v4`, what `CI_API_V4_URL` says) only works by
//!   smuggling the prefix into the host name; here the base URL is `CI_API_V4_URL` itself;
//! - it does not retry, and its `api::retry` wrapper retries only 5xx with its own backoff:
//!   `Retry-After` on a 429 is ignored, and once a query has turned the answer into an
//!   `ApiError` the headers are gone. `Transport::rest` sees each answer whole and asks
//!   [`RetryPolicy`] before the crate's query code turns it into a result;
//! - it follows redirects with the `PRIVATE-TOKEN` header, which is not a header reqwest knows
//!   to drop on a cross-host redirect. `Transport` follows none.
//!
//! The parts: `transport` (the crate's `Client` over the shared `crate::http` exchange),
//! `status` (the commit status) and `note` (the merge-request note).
//!
//! Tokens: `CAVRA_GITLAB_TOKEN` (a project or group access token with the `api` scope) goes in
//! `PRIVATE-TOKEN`; without it `CI_JOB_TOKEN` goes in `JOB-TOKEN`. GitLab does not let a job
//! token set commit statuses or write notes, so its 401/403/404 answers say which token to set.

mod note;
mod status;
mod transport;

use cavra_gate::Verdict;
use gitlab::api::common::NameOrId;
use gitlab::api::projects::repository::commits::CommitStatusState;

use crate::config::{api_root, var};
use crate::present::{GateState, cut_bytes};
use crate::retry::RetryPolicy;
use crate::{ForgeError, Posted, Token};
use transport::Transport;

const FORGE: &str = "GitLab";

/// GitLab's longest note body, in characters.
pub const NOTE_MAX_CHARS: usize = 1_000_000;

/// GitLab's longest commit-status `description`, `ref` and `target_url` (the crate checks bytes).
const FIELD_MAX_BYTES: usize = 255;

/// The state of the `cavra/gate` commit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusState {
    /// The gate has not started yet.
    Pending,
    /// The gate is running.
    Running,
    /// The change may merge.
    Success,
    /// The change must not merge (yet).
    Failed,
}

impl StatusState {
    /// GitLab's name for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusState::Pending => "pending",
            StatusState::Running => "running",
            StatusState::Success => "success",
            StatusState::Failed => "failed",
        }
    }

    fn endpoint_state(self) -> CommitStatusState {
        match self {
            StatusState::Pending => CommitStatusState::Pending,
            StatusState::Running => CommitStatusState::Running,
            StatusState::Success => CommitStatusState::Success,
            StatusState::Failed => CommitStatusState::Failed,
        }
    }

    /// The state of a verdict: `success` when it passes (audit mode too), else `failed`.
    pub fn of(verdict: &Verdict) -> StatusState {
        if GateState::of(verdict).passes() {
            StatusState::Success
        } else {
            StatusState::Failed
        }
    }
}

/// Which kind of token [`GitlabConfig::token`] is, which decides its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A project, group or personal access token (`CAVRA_GITLAB_TOKEN`): `PRIVATE-TOKEN`.
    Private,
    /// The job's `CI_JOB_TOKEN`: `JOB-TOKEN`.
    Job,
}

/// Where and how to report.
#[derive(Debug, Clone)]
pub struct GitlabConfig {
    /// The REST API root, e.g. `https://gitlab.com/api/v4` (`CI_API_V4_URL`); it may carry a
    /// path prefix (`https://host/gitlab/api/v4`). `http` only for loopback hosts.
    pub api_url: String,
    /// `CI_PROJECT_ID` (numeric) or a `group/project` path (URL-encoded when sent).
    pub project: String,
    /// `CI_MERGE_REQUEST_IID`; no note without it.
    pub merge_request_iid: Option<u64>,
    /// The token.
    pub token: Token,
    /// Its kind.
    pub token_kind: TokenKind,
    /// `CI_PIPELINE_ID`, so the status joins this pipeline.
    pub pipeline_id: Option<u64>,
    /// The pipeline's ref: `CI_MERGE_REQUEST_REF_PATH` in a merge request pipeline
    /// (`refs/merge-requests/<iid>/head`), else `CI_COMMIT_REF_NAME` (or
    /// `CI_MERGE_REQUEST_SOURCE_BRANCH_NAME`).
    pub ref_name: Option<String>,
    /// `CI_JOB_URL`: where the status links to.
    pub target_url: Option<String>,
    /// How requests are retried.
    pub retry: RetryPolicy,
}

impl GitlabConfig {
    /// Reads GitLab CI's variables. The error names every missing variable.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<GitlabConfig, ForgeError> {
        let get = |name: &str| var(env, name);
        let mut missing = Vec::new();
        let api_url = get("CI_API_V4_URL").or_else(|| {
            get("CI_SERVER_URL").map(|server| format!("{}/api/v4", server.trim_end_matches('/')))
        });
        if api_url.is_none() {
            missing.push("CI_API_V4_URL (the REST API root, e.g. https://gitlab.com/api/v4)");
        }
        let project = get("CI_PROJECT_ID").or_else(|| get("CI_PROJECT_PATH"));
        if project.is_none() {
            missing.push("CI_PROJECT_ID (the project's numeric id or its path)");
        }
        let token = Token::from_env(env, &["CAVRA_GITLAB_TOKEN", "CI_JOB_TOKEN"]);
        if token.is_none() {
            missing.push(
                "CAVRA_GITLAB_TOKEN (a project access token with the api scope; \
                 CI_JOB_TOKEN is used when it is not set, but GitLab does not let a job token \
                 set commit statuses or write notes)",
            );
        }
        let (Some(api_url), Some(project), Some((token, from))) = (api_url, project, token) else {
            return Err(ForgeError::Config(format!(
                "GitLab: missing {}",
                missing.join(", ")
            )));
        };
        let number = |name: &str| -> Result<Option<u64>, ForgeError> {
            get(name)
                .map(|v| {
                    v.parse::<u64>().map_err(|_| {
                        ForgeError::Config(format!("GitLab: {name} is not a number: {v:?}"))
                    })
                })
                .transpose()
        };
        let cfg = GitlabConfig {
            api_url,
            project,
            merge_request_iid: number("CI_MERGE_REQUEST_IID")?,
            token_kind: if from == "CI_JOB_TOKEN" {
                TokenKind::Job
            } else {
                TokenKind::Private
            },
            token,
            pipeline_id: number("CI_PIPELINE_ID")?,
            // A merge request pipeline's ref is `refs/merge-requests/<iid>/head`, not the branch:
            // with `pipeline_id`, GitLab looks the pipeline up by commit *and* ref.
            ref_name: get("CI_MERGE_REQUEST_REF_PATH")
                .or_else(|| get("CI_COMMIT_REF_NAME"))
                .or_else(|| get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")),
            target_url: get("CI_JOB_URL"),
            retry: RetryPolicy::default(),
        };
        check_api_url(&cfg.api_url)?;
        Ok(cfg)
    }

    fn project_id(&self) -> NameOrId<'_> {
        match self.project.parse::<u64>() {
            Ok(id) => NameOrId::Id(id),
            Err(_) => NameOrId::Name(self.project.trim_matches('/').into()),
        }
    }

    /// The merge request's web page, when the project is given by path.
    fn note_url(&self, iid: u64, note: u64) -> Option<String> {
        if self.project.parse::<u64>().is_ok() {
            return None;
        }
        let root = self.api_url.trim_end_matches('/').strip_suffix("/api/v4")?;
        Some(format!(
            "{root}/{}/-/merge_requests/{iid}#note_{note}",
            self.project.trim_matches('/')
        ))
    }
}

/// The API root (see [`api_root`]), or a configuration error that names it.
fn check_api_url(api_url: &str) -> Result<reqwest::Url, ForgeError> {
    api_root(api_url, "https://gitlab.com/api/v4")
        .map_err(|why| ForgeError::Config(format!("GitLab: API URL {why}")))
}

/// Posts the verdict: the `cavra/gate` commit status on the head commit, and, for a merge
/// request, cavra's note (created once, then updated in place).
pub fn report(
    cfg: &GitlabConfig,
    verdict: &Verdict,
    summary_markdown: &str,
) -> Result<Posted, ForgeError> {
    let client = Transport::new(cfg)?;
    let head = verdict.revisions.head.as_str();
    let description = cut_bytes(&cavra_report::title(verdict), FIELD_MAX_BYTES);
    let mut actions = vec![status::set(
        &client,
        cfg,
        head,
        StatusState::of(verdict),
        &description,
    )?];
    let mut url = None;
    if let Some(iid) = cfg.merge_request_iid {
        let body = note::body(summary_markdown);
        let (id, created) = note::upsert(&client, cfg, iid, &body)?;
        let what = if created { "created" } else { "updated" };
        actions.push(format!("merge request !{iid} note {id} {what}"));
        url = cfg.note_url(iid, id);
    }
    Ok(Posted { actions, url })
}

/// Sets the `cavra/gate` status before the verdict is known (`pending` or `running`).
pub fn pending(
    cfg: &GitlabConfig,
    head_sha: &str,
    state: StatusState,
) -> Result<Posted, ForgeError> {
    let client = Transport::new(cfg)?;
    let description = match state {
        StatusState::Pending => "cavra gate: waiting to run",
        StatusState::Running => "cavra gate: judging the change",
        StatusState::Success => "cavra gate: passed",
        StatusState::Failed => "cavra gate: failed",
    };
    let action = status::set(&client, cfg, head_sha, state, description)?;
    Ok(Posted {
        actions: vec![action],
        url: None,
    })
}
