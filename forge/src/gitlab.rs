//! GitLab: the `cavra/gate` commit status and one merge-request note, updated in place.
//!
//! The endpoints are the `gitlab` crate's (`CreateCommitStatus`, `MergeRequestNotes` with its
//! page-number pagination, `CreateMergeRequestNote`, `EditMergeRequestNote`): they build the
//! paths, escape the project path and encode the bodies. The transport is ours: [`Transport`]
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
//!   `ApiError` the headers are gone. [`Transport::rest`] sees each answer whole and asks
//!   [`RetryPolicy`] before the crate's query code turns it into a result;
//! - it follows redirects with the `PRIVATE-TOKEN` header, which is not a header reqwest knows
//!   to drop on a cross-host redirect. [`Transport`] follows none.
//!
//! Tokens: `CAVRA_GITLAB_TOKEN` (a project or group access token with the `api` scope) goes in
//! `PRIVATE-TOKEN`; without it `CI_JOB_TOKEN` goes in `JOB-TOKEN`. GitLab does not let a job
//! token set commit statuses or write notes, so its 401/403/404 answers say which token to set.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use bytes::Bytes;
use cavra_gate::Verdict;
use gitlab::api::common::{NameOrId, SortOrder};
use gitlab::api::projects::merge_requests::notes::{
    CreateMergeRequestNote, EditMergeRequestNote, MergeRequestNotes,
};
use gitlab::api::projects::repository::commits::{CommitStatusState, CreateCommitStatus};
use gitlab::api::{self, ApiError, Pagination, Query};
use http::header::{HeaderName, HeaderValue};

use crate::present::{GateState, NOTE_MARKER, truncate};
use crate::retry::{Answer, Next, RetryPolicy, now_unix};
use crate::{ForgeError, Posted, STATUS_NAME, Token};

const FORGE: &str = "GitLab";

/// GitLab's longest note body, in characters.
pub const NOTE_MAX_CHARS: usize = 1_000_000;

/// GitLab's longest commit-status `description`, `ref` and `target_url` (the crate checks bytes).
const FIELD_MAX_BYTES: usize = 255;

/// How many notes are read, at most, looking for cavra's (20 pages of 100).
const MAX_NOTES: usize = 2_000;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

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
        let get = |name: &str| {
            env(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
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

/// `https`, or `http` to a loopback host (a test server); anything else is refused, so a token
/// never crosses the network in clear.
fn check_api_url(api_url: &str) -> Result<reqwest::Url, ForgeError> {
    let bad = |why: &str| ForgeError::Config(format!("GitLab: API URL {api_url:?} {why}"));
    let mut url = reqwest::Url::parse(api_url).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    let Some(host) = url.host_str() else {
        return Err(bad("has no host"));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(bad("must use https")),
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(bad(
            "must be a plain API root such as https://gitlab.com/api/v4",
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
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
    let mut actions = vec![set_status(
        &client,
        cfg,
        head,
        StatusState::of(verdict),
        &description,
    )?];
    let mut url = None;
    if let Some(iid) = cfg.merge_request_iid {
        let body = note_body(summary_markdown);
        let (id, created) = upsert_note(&client, cfg, iid, &body)?;
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
    let action = set_status(&client, cfg, head_sha, state, description)?;
    Ok(Posted {
        actions: vec![action],
        url: None,
    })
}

/// The note's body: the summary, starting with [`NOTE_MARKER`] (added when it does not), cut
/// to GitLab's limit.
fn note_body(summary: &str) -> String {
    let body = if summary.trim_start().starts_with(NOTE_MARKER) {
        summary.trim_start().to_string()
    } else {
        format!("{NOTE_MARKER}\n{summary}")
    };
    truncate(&body, NOTE_MAX_CHARS)
}

/// `text` cut to at most `max` bytes, on a character boundary.
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

/// `value` when GitLab accepts its length, else nothing (rather than failing the report).
fn fitting(value: Option<&String>) -> Option<&str> {
    value
        .map(String::as_str)
        .filter(|v| !v.is_empty() && v.len() <= FIELD_MAX_BYTES)
}

fn set_status(
    client: &Transport<'_>,
    cfg: &GitlabConfig,
    sha: &str,
    state: StatusState,
    description: &str,
) -> Result<String, ForgeError> {
    let sha = sha.trim();
    if sha.is_empty() {
        return Err(ForgeError::Config(
            "GitLab: no commit to set the status on".into(),
        ));
    }
    let short = sha.get(..7).unwrap_or(sha);
    let action = format!(
        "commit status {STATUS_NAME} = {} on {short}",
        state.as_str()
    );
    let post = |pipeline_id: Option<u64>| {
        let mut builder = CreateCommitStatus::builder();
        builder
            .project(cfg.project_id())
            .commit(sha)
            .state(state.endpoint_state())
            .name(STATUS_NAME)
            .description(description);
        if let Some(url) = fitting(cfg.target_url.as_ref()) {
            builder.target_url(url);
        }
        if let Some(name) = fitting(cfg.ref_name.as_ref()) {
            builder.ref_(name);
        }
        if let Some(id) = pipeline_id {
            builder.pipeline_id(id);
        }
        let endpoint = builder
            .build()
            .map_err(|e| ForgeError::Config(format!("GitLab: commit status: {e}")))?;
        Ok(api::raw(endpoint).query(client))
    };
    let mut answer = post(cfg.pipeline_id)?;
    let mut outside = None;
    // GitLab answers 404 "Pipeline for pipeline_id, sha and ref" when the pipeline ran on
    // another commit (a merged-results pipeline tests the merge commit, the gate reports on the
    // merge request's head) or another ref. Then the status goes on that commit's own pipeline
    // (or an external one GitLab makes) rather than failing the report.
    if let (Some(id), Err(e)) = (cfg.pipeline_id, &answer) {
        if no_such_pipeline(e) {
            client.forget_give_up();
            answer = post(None)?;
            outside = Some(id);
        }
    }
    match answer {
        Ok(_) => Ok(match outside {
            Some(id) => {
                format!("{action} (outside pipeline {id}, which ran on another commit or ref)")
            }
            None => action,
        }),
        Err(e) if already_in(&e, state) => {
            client.forget_give_up();
            Ok(format!("{action} (already set)"))
        }
        Err(e) => Err(client.error("set commit status", e)),
    }
}

/// `404 Pipeline for pipeline_id, sha and ref Not Found`.
fn no_such_pipeline(err: &ApiError<TransportError>) -> bool {
    matches!(err, ApiError::GitlabWithStatus { status, msg }
        if status.as_u16() == 404 && msg.contains("Pipeline for pipeline_id"))
}

/// GitLab refuses to re-post the state a status already has: `400 Cannot transition status via
/// :run from :running`. That is success.
fn already_in(err: &ApiError<TransportError>, state: StatusState) -> bool {
    match err {
        ApiError::GitlabWithStatus { status, msg } => {
            status.as_u16() == 400
                && msg.contains("Cannot transition status")
                && msg.contains(&format!("from :{}", state.as_str()))
        }
        _ => false,
    }
}

/// Updates cavra's note on merge request `iid`, or creates it; `(note id, created)`.
///
/// After a failure that may be stale (the note was changed, 409, or deleted, 404, since it was
/// listed) or may have taken effect (a create answered 5xx or not at all), the notes are listed
/// again, once, so a run never leaves a second cavra note.
fn upsert_note(
    client: &Transport<'_>,
    cfg: &GitlabConfig,
    iid: u64,
    body: &str,
) -> Result<(u64, bool), ForgeError> {
    let mut looked_again = false;
    loop {
        let result = match find_note(client, cfg, iid)? {
            None => create_note(client, cfg, iid, body).map(|id| (id, true)),
            Some(id) => edit_note(client, cfg, iid, id, body).map(|()| (id, false)),
        };
        match result {
            Err(e) if !looked_again && worth_a_second_look(&e) => looked_again = true,
            other => return other,
        }
    }
}

fn worth_a_second_look(err: &ForgeError) -> bool {
    match err {
        ForgeError::Transport { .. } => true,
        ForgeError::Api { status, .. } => matches!(status, 404 | 409 | 500..=599),
        ForgeError::Config(_) => false,
    }
}

/// cavra's note: the oldest note that is not a system note and whose body starts with
/// [`NOTE_MARKER`] (cavra's bodies always do). A body that merely contains the marker is someone
/// quoting or copying cavra's note (`> <!-- cavra:gate -->`), which cavra could not edit anyway.
fn find_note(
    client: &Transport<'_>,
    cfg: &GitlabConfig,
    iid: u64,
) -> Result<Option<u64>, ForgeError> {
    let endpoint = MergeRequestNotes::builder()
        .project(cfg.project_id())
        .merge_request(iid)
        .sort(SortOrder::Ascending)
        .build()
        .map_err(|e| ForgeError::Config(format!("GitLab: list notes: {e}")))?;
    let notes: Vec<serde_json::Value> = api::paged(endpoint, Pagination::Limit(MAX_NOTES))
        .query(client)
        .map_err(|e| client.error("list merge request notes", e))?;
    Ok(notes
        .iter()
        .filter(|n| n["system"].as_bool() != Some(true))
        .filter(|n| {
            n["body"]
                .as_str()
                .is_some_and(|body| body.trim_start().starts_with(NOTE_MARKER))
        })
        .find_map(|n| n["id"].as_u64()))
}

fn create_note(
    client: &Transport<'_>,
    cfg: &GitlabConfig,
    iid: u64,
    body: &str,
) -> Result<u64, ForgeError> {
    let endpoint = CreateMergeRequestNote::builder()
        .project(cfg.project_id())
        .merge_request(iid)
        .body(body)
        .build()
        .map_err(|e| ForgeError::Config(format!("GitLab: create note: {e}")))?;
    let operation = "create merge request note";
    client.at_most_once.set(true);
    let answer = api::raw(endpoint).query(client);
    client.at_most_once.set(false);
    let answer = answer.map_err(|e| client.error(operation, e))?;
    serde_json::from_slice::<serde_json::Value>(&answer)
        .ok()
        .and_then(|note| note["id"].as_u64())
        .ok_or_else(|| ForgeError::Transport {
            forge: FORGE,
            operation: operation.into(),
            message: "the answer holds no note id".into(),
        })
}

fn edit_note(
    client: &Transport<'_>,
    cfg: &GitlabConfig,
    iid: u64,
    note: u64,
    body: &str,
) -> Result<(), ForgeError> {
    let endpoint = EditMergeRequestNote::builder()
        .project(cfg.project_id())
        .merge_request(iid)
        .note(note)
        .body(body)
        .build()
        .map_err(|e| ForgeError::Config(format!("GitLab: update note: {e}")))?;
    api::raw(endpoint)
        .query(client)
        .map(|_| ())
        .map_err(|e| client.error("update merge request note", e))
}

/// A transport failure (connection, TLS, timeout), already scrubbed of the token.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct TransportError(String);

/// The `gitlab` crate's `Client` over blocking reqwest, with [`RetryPolicy`] applied to every
/// request and the token in the header its kind needs. See the module documentation for why.
struct Transport<'a> {
    http: reqwest::blocking::Client,
    rest_url: reqwest::Url,
    auth: (HeaderName, HeaderValue),
    token: &'a Token,
    kind: TokenKind,
    retry: &'a RetryPolicy,
    /// Why the last request stopped being retried, for its error message.
    gave_up: RefCell<Option<String>>,
    /// The request must not be repeated once GitLab may have acted on it (creating a note):
    /// a 5xx or a lost answer is returned at once; a 429 or refused connection is still retried.
    at_most_once: Cell<bool>,
}

impl<'a> Transport<'a> {
    fn new(cfg: &'a GitlabConfig) -> Result<Transport<'a>, ForgeError> {
        let rest_url = check_api_url(&cfg.api_url)?;
        if cfg.project.trim_matches('/').is_empty() {
            return Err(ForgeError::Config("GitLab: no project given".into()));
        }
        let name = match cfg.token_kind {
            TokenKind::Private => HeaderName::from_static("private-token"),
            TokenKind::Job => HeaderName::from_static("job-token"),
        };
        let mut value = HeaderValue::from_str(cfg.token.expose())
            .ok()
            .filter(|_| !cfg.token.expose().is_empty())
            .ok_or_else(|| {
                ForgeError::Config("GitLab: the token is empty or not a valid header value".into())
            })?;
        value.set_sensitive(true);
        let http = reqwest::blocking::Client::builder()
            .user_agent(concat!("cavra/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ForgeError::Transport {
                forge: FORGE,
                operation: "set up the HTTP client".into(),
                message: e.to_string(),
            })?;
        Ok(Transport {
            http,
            rest_url,
            auth: (name, value),
            token: &cfg.token,
            kind: cfg.token_kind,
            retry: &cfg.retry,
            gave_up: RefCell::new(None),
            at_most_once: Cell::new(false),
        })
    }

    fn forget_give_up(&self) {
        self.gave_up.borrow_mut().take();
    }

    /// The error for a failed query: GitLab's own `message`/`error`, scrubbed and bounded, why
    /// retries stopped, and for a job token which token to set instead.
    fn error(&self, operation: &str, err: ApiError<TransportError>) -> ForgeError {
        let reason = self.gave_up.borrow_mut().take();
        let with_reason = |message: String| match &reason {
            Some(why) => format!("{message} ({why})"),
            None => message,
        };
        let (status, message) = match err {
            ApiError::Client { source } => {
                return ForgeError::Transport {
                    forge: FORGE,
                    operation: operation.into(),
                    message: self.token.scrub(&with_reason(source.0)),
                };
            }
            ApiError::GitlabWithStatus { status, msg } => (status.as_u16(), msg),
            ApiError::GitlabObjectWithStatus { status, obj }
            | ApiError::GitlabUnrecognizedWithStatus { status, obj } => {
                (status.as_u16(), obj.to_string())
            }
            ApiError::GitlabService { status, data } => {
                let text = String::from_utf8_lossy(&data).trim().to_string();
                let text = if text.is_empty() {
                    status
                        .canonical_reason()
                        .unwrap_or("no message")
                        .to_string()
                } else {
                    text
                };
                (status.as_u16(), text)
            }
            ApiError::GitlabRateLimited { retry_after, .. } => (
                429,
                format!(
                    "rate limited (GitLab asks to wait {}s)",
                    retry_after.as_secs()
                ),
            ),
            other => {
                return ForgeError::Transport {
                    forge: FORGE,
                    operation: operation.into(),
                    message: self.token.scrub(&with_reason(bounded(&other.to_string()))),
                };
            }
        };
        let mut message = with_reason(bounded(&message));
        if self.kind == TokenKind::Job && matches!(status, 401 | 403 | 404) {
            message.push_str(
                ". GitLab does not let a CI job token (CI_JOB_TOKEN) set commit statuses or \
                 write merge request notes: set CAVRA_GITLAB_TOKEN to a project access token \
                 with the api scope and the Developer role (Reporter is enough for notes alone)",
            );
        }
        ForgeError::Api {
            forge: FORGE,
            operation: operation.into(),
            status,
            message: self.token.scrub(&message),
        }
    }
}

/// At most 500 characters of a message from the server.
fn bounded(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(500) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

impl api::RestClient for Transport<'_> {
    type Error = TransportError;

    fn rest_endpoint(&self, endpoint: &str) -> Result<reqwest::Url, ApiError<TransportError>> {
        Ok(self.rest_url.join(endpoint)?)
    }
}

impl api::Client for Transport<'_> {
    fn rest(
        &self,
        request: http::request::Builder,
        body: Vec<u8>,
    ) -> Result<http::Response<Bytes>, ApiError<TransportError>> {
        let method = request.method_ref().cloned().unwrap_or_default();
        let uri = request
            .uri_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        // The crate's queries leave an empty query (`…/notes?`) when there are no parameters.
        let uri = uri.strip_suffix('?').map(str::to_string).unwrap_or(uri);
        let mut headers = request.headers_ref().cloned().unwrap_or_default();
        headers.insert(self.auth.0.clone(), self.auth.1.clone());
        self.forget_give_up();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .http
                .request(method.clone(), &uri)
                .headers(headers.clone())
                .body(body.clone())
                .send()
                .and_then(|rsp| {
                    let status = rsp.status();
                    let headers = rsp.headers().clone();
                    rsp.bytes().map(|b| (status, headers, b))
                });
            let (status, rsp_headers, bytes) = match sent {
                Ok(answer) => answer,
                Err(e) => {
                    let answer = Answer {
                        status: None,
                        header: &|_| None,
                        now_unix: now_unix(),
                    };
                    let next = if self.at_most_once.get() && !e.is_connect() {
                        Next::GiveUp(Some(NOT_REPEATED.into()))
                    } else {
                        self.retry.next(attempt, &answer)
                    };
                    match next {
                        Next::RetryAfter(wait) => {
                            std::thread::sleep(wait);
                            continue;
                        }
                        Next::GiveUp(why) => {
                            let mut message = error_chain(&e);
                            if let Some(why) = why {
                                message = format!("{message} ({why})");
                            }
                            return Err(ApiError::client(TransportError(
                                self.token.scrub(&message),
                            )));
                        }
                    }
                }
            };
            if !status.is_success() {
                let lookup = |name: &str| {
                    rsp_headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                let answer = Answer {
                    status: Some(status.as_u16()),
                    header: &lookup,
                    now_unix: now_unix(),
                };
                let next = if self.at_most_once.get() && status.is_server_error() {
                    Next::GiveUp(Some(NOT_REPEATED.into()))
                } else {
                    self.retry.next(attempt, &answer)
                };
                match next {
                    Next::RetryAfter(wait) => {
                        std::thread::sleep(wait);
                        continue;
                    }
                    Next::GiveUp(why) => *self.gave_up.borrow_mut() = why,
                }
            }
            let mut response = http::Response::builder().status(status);
            if let Some(h) = response.headers_mut() {
                *h = rsp_headers;
            }
            return response
                .body(bytes)
                .map_err(|e| ApiError::client(TransportError(e.to_string())));
        }
    }
}

/// Why a request that may have taken effect was not repeated.
const NOT_REPEATED: &str = "not repeated, as GitLab may have acted on it";

/// An error with its causes (reqwest's own message leaves out why a connection failed).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_urls_are_https_or_loopback() {
        assert!(check_api_url("https://gitlab.com/api/v4").is_ok());
        let prefixed = check_api_url("https://example.com/gitlab/api/v4").unwrap();
        assert_eq!(
            prefixed.join("projects/1").unwrap().as_str(),
            "https://example.com/gitlab/api/v4/projects/1"
        );
        assert!(check_api_url("http://127.0.0.1:8080/api/v4").is_ok());
        assert!(check_api_url("http://localhost/api/v4").is_ok());
        assert!(check_api_url("http://gitlab.example.com/api/v4").is_err());
        assert!(check_api_url("https://user:pw@gitlab.com/api/v4").is_err());
    }

    #[test]
    fn long_descriptions_are_cut_on_a_character() {
        let text = "é".repeat(200);
        let cut = cut_bytes(&text, 255);
        assert!(cut.len() <= 255 && cut.ends_with('…'), "{cut}");
        assert_eq!(cut_bytes("short", 255), "short");
    }
}
