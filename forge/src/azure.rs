//! Azure DevOps (Azure Repos): the `cavra/gate` pull-request status and one pull-request thread.
//!
//! - The status (`POST …/pullRequests/{id}/statuses`, genre `cavra`, name `gate`) is attached to
//!   the iteration whose source commit is the one judged, so a branch policy's status check
//!   applies to the right push. Passing verdicts (also in audit mode) are `succeeded`; failing
//!   and waiting-for-approval verdicts are `failed`.
//! - The summary goes into one thread per pull request, found again by its property
//!   `cavra.gate` or by [`NOTE_MARKER`] in its first comment, and updated in place. The thread
//!   is `active` while the verdict blocks (so a "comments must be resolved" policy blocks too)
//!   and resolved (`fixed`, or `closed` when created resolved) once it passes.
//!
//! Authentication: `System.AccessToken` (an OAuth token, sent as `Bearer`) in
//! `SYSTEM_ACCESSTOKEN`, which a pipeline must map explicitly (`env:`); or a personal access
//! token in `CAVRA_AZURE_TOKEN` (sent as Basic `:PAT`). Requests are retried by
//! [`RetryPolicy`]; Azure DevOps answers throttling with 429 and `Retry-After`.

use crate::present::{GateState, NOTE_MARKER, truncate};
use crate::retry::{Answer, Next, RetryPolicy, now_unix};
use crate::{ForgeError, Posted, STATUS_NAME, Token};
use cavra_gate::Verdict;
use serde_json::{Value, json};
use std::time::Duration;

const FORGE: &str = "Azure DevOps";

/// The API version every request asks for.
pub const API_VERSION: &str = "7.1";

/// The status context's genre and name: together they read `cavra/gate` ([`STATUS_NAME`]).
pub const STATUS_GENRE: &str = "cavra";
/// The status context's name.
pub const STATUS_CONTEXT_NAME: &str = "gate";

/// The thread property that marks cavra's thread.
pub const THREAD_PROPERTY: &str = "cavra.gate";

/// The longest comment Azure DevOps accepts is 150,000 characters; stay well below it.
pub const MAX_COMMENT_CHARS: usize = 140_000;

/// The state of a pull-request status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrStatusState {
    /// The gate is running.
    Pending,
    /// The verdict passes (also in audit mode).
    Succeeded,
    /// The verdict fails or waits for approval.
    Failed,
}

impl PrStatusState {
    /// The status state for a gate outcome.
    pub fn of(state: GateState) -> PrStatusState {
        if state.passes() {
            PrStatusState::Succeeded
        } else {
            PrStatusState::Failed
        }
    }

    /// The API's name (`GitStatusState`).
    pub fn as_str(self) -> &'static str {
        match self {
            PrStatusState::Pending => "pending",
            PrStatusState::Succeeded => "succeeded",
            PrStatusState::Failed => "failed",
        }
    }
}

/// How the token is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AzureAuth {
    /// `Authorization: Bearer <token>`: `System.AccessToken` and other OAuth / Entra tokens.
    Bearer,
    /// `Authorization: Basic base64(":<token>")`: a personal access token.
    Basic,
}

/// Where and how to report, usually from the pipeline's variables ([`AzureConfig::from_env`]).
#[derive(Debug, Clone)]
pub struct AzureConfig {
    /// The organization or collection URL (`SYSTEM_COLLECTIONURI`), e.g.
    /// `https://dev.azure.com/acme/` or `https://ado.example.com/tfs/DefaultCollection/`.
    pub collection_url: String,
    /// The project's id or name (`SYSTEM_TEAMPROJECTID`, `SYSTEM_TEAMPROJECT`), not encoded.
    pub project: String,
    /// The repository's id (`BUILD_REPOSITORY_ID`).
    pub repository_id: String,
    /// The pull request (`SYSTEM_PULLREQUEST_PULLREQUESTID`).
    pub pull_request_id: u64,
    /// The pull request's source commit (`SYSTEM_PULLREQUEST_SOURCECOMMITID`), which picks the
    /// iteration the status belongs to.
    pub source_commit: Option<String>,
    /// The token.
    pub token: Token,
    /// How the token is sent.
    pub auth: AzureAuth,
    /// The build's results page, linked from the status.
    pub target_url: Option<String>,
    /// The REST API version ([`API_VERSION`]).
    pub api_version: String,
    /// How requests are retried.
    pub retry: RetryPolicy,
}

impl AzureConfig {
    /// Reads the pipeline's predefined variables. Every missing variable is named in the error.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<AzureConfig, ForgeError> {
        let get = |name: &str| {
            env(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut missing: Vec<&str> = Vec::new();
        let mut problems: Vec<String> = Vec::new();

        if let Some(provider) = get("BUILD_REPOSITORY_PROVIDER")
            && !provider.eq_ignore_ascii_case("TfsGit")
        {
            problems.push(format!(
                "the repository is hosted on {provider}, not Azure Repos: pull-request statuses \
                 and threads need an Azure Repos Git repository"
            ));
        }
        let collection_url = get("SYSTEM_COLLECTIONURI");
        if collection_url.is_none() {
            missing.push("SYSTEM_COLLECTIONURI");
        }
        let project = get("SYSTEM_TEAMPROJECTID").or_else(|| get("SYSTEM_TEAMPROJECT"));
        if project.is_none() {
            missing.push("SYSTEM_TEAMPROJECTID (or SYSTEM_TEAMPROJECT)");
        }
        let repository_id = get("BUILD_REPOSITORY_ID");
        if repository_id.is_none() {
            missing.push("BUILD_REPOSITORY_ID");
        }
        let pull_request_id = match get("SYSTEM_PULLREQUEST_PULLREQUESTID") {
            None => {
                missing.push("SYSTEM_PULLREQUEST_PULLREQUESTID (is this a pull-request build?)");
                None
            }
            Some(v) => match v.parse::<u64>() {
                Ok(id) if id > 0 => Some(id),
                _ => {
                    problems.push(format!(
                        "SYSTEM_PULLREQUEST_PULLREQUESTID is {v:?}, not a pull request number"
                    ));
                    None
                }
            },
        };
        let token = Token::from_env(env, &["SYSTEM_ACCESSTOKEN", "CAVRA_AZURE_TOKEN"]);
        if token.is_none() {
            missing.push(
                "SYSTEM_ACCESSTOKEN (or CAVRA_AZURE_TOKEN); System.AccessToken reaches a script \
                 only when the YAML maps it with `env: { SYSTEM_ACCESSTOKEN: $(System.AccessToken) }`",
            );
        }
        if let Some((token, from)) = &token
            && token.expose().starts_with("$(")
        {
            problems.push(format!(
                "{from} holds an unexpanded macro: map it as \
                 `env: {{ SYSTEM_ACCESSTOKEN: $(System.AccessToken) }}` in the step"
            ));
        }
        if let Some(url) = &collection_url
            && let Err(why) = check_url(url)
        {
            problems.push(format!("SYSTEM_COLLECTIONURI: {why}"));
        }
        if !missing.is_empty() {
            problems.insert(0, format!("missing {}", missing.join(", ")));
        }
        let (
            Some(collection_url),
            Some(project),
            Some(repository_id),
            Some(pull_request_id),
            Some((token, from)),
        ) = (
            collection_url,
            project,
            repository_id,
            pull_request_id,
            token,
        )
        else {
            return Err(config_error(&problems));
        };
        if !problems.is_empty() {
            return Err(config_error(&problems));
        }
        let auth = match from {
            "SYSTEM_ACCESSTOKEN" => AzureAuth::Bearer,
            _ if looks_like_jwt(token.expose()) => AzureAuth::Bearer,
            _ => AzureAuth::Basic,
        };
        let target_url = match (get("SYSTEM_TEAMPROJECT"), get("BUILD_BUILDID")) {
            (Some(name), Some(build)) => Some(format!(
                "{}/{}/_build/results?buildId={}",
                collection_url.trim_end_matches('/'),
                encode_segment(&name),
                encode_segment(&build)
            )),
            _ => None,
        };
        Ok(AzureConfig {
            collection_url,
            project,
            repository_id,
            pull_request_id,
            source_commit: get("SYSTEM_PULLREQUEST_SOURCECOMMITID"),
            token,
            auth,
            target_url,
            api_version: API_VERSION.to_string(),
            retry: RetryPolicy::default(),
        })
    }

    /// The pull request's web page.
    pub fn pull_request_url(&self) -> String {
        format!(
            "{}/{}/_git/{}/pullrequest/{}",
            self.collection_url.trim_end_matches('/'),
            encode_segment(&self.project),
            encode_segment(&self.repository_id),
            self.pull_request_id
        )
    }
}

fn config_error(problems: &[String]) -> ForgeError {
    ForgeError::Config(format!("Azure DevOps: {}", problems.join("; ")))
}

/// A JSON Web Token (three base64url parts, the first a JSON object): an OAuth token.
fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ") && token.split('.').count() == 3
}

/// `https://…`, or `http://` to a loopback host (a local test server).
fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err(format!(
            "{url} uses http://; the token is only sent over https:// (http:// only to a loopback host)"
        )),
        other => Err(format!("{url}: unsupported scheme {other}")),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Percent-encodes one path segment (a project name with spaces, `&`, non-ASCII).
pub fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reports `verdict`: the pull-request status (on the judged iteration) and the thread.
/// `summary_markdown` is [`crate::present::summary`]'s text; it is cut to fit a comment.
pub fn report(
    cfg: &AzureConfig,
    verdict: &Verdict,
    summary_markdown: &str,
) -> Result<Posted, ForgeError> {
    let client = Client::new(cfg)?;
    let gate = GateState::of(verdict);
    let commits = [
        cfg.source_commit.as_deref(),
        Some(verdict.revisions.head.as_str()),
    ];
    let iteration = client.iteration(&commits)?;
    let description = cavra_report::title(verdict);
    let mut actions = vec![client.post_status(PrStatusState::of(gate), &description, iteration)?];
    let body = if summary_markdown.contains(NOTE_MARKER) {
        summary_markdown.to_string()
    } else {
        format!("{NOTE_MARKER}\n{summary_markdown}")
    };
    let (action, thread) = client.upsert_thread(&truncate(&body, MAX_COMMENT_CHARS), gate)?;
    actions.push(action);
    Ok(Posted {
        actions,
        url: Some(format!("{}?discussionId={thread}", cfg.pull_request_url())),
    })
}

/// Marks the gate as running on the iteration of `head_sha` (or of the configured source
/// commit).
pub fn pending(cfg: &AzureConfig, head_sha: &str) -> Result<Posted, ForgeError> {
    let client = Client::new(cfg)?;
    let commits = [Some(head_sha), cfg.source_commit.as_deref()];
    let iteration = client.iteration(&commits)?;
    let action = client.post_status(PrStatusState::Pending, "cavra gate is running", iteration)?;
    Ok(Posted {
        actions: vec![action],
        url: Some(cfg.pull_request_url()),
    })
}

/// Sends requests for one pull request.
struct Client<'a> {
    cfg: &'a AzureConfig,
    http: reqwest::blocking::Client,
    /// `{collection}/{project}/_apis/git/repositories/{repo}/pullRequests/{id}`.
    base: String,
}

impl<'a> Client<'a> {
    fn new(cfg: &'a AzureConfig) -> Result<Client<'a>, ForgeError> {
        check_url(&cfg.collection_url)
            .map_err(|why| ForgeError::Config(format!("Azure DevOps collection URL: {why}")))?;
        for (name, value) in [
            ("project", &cfg.project),
            ("repository id", &cfg.repository_id),
        ] {
            if value.trim().is_empty() {
                return Err(ForgeError::Config(format!(
                    "Azure DevOps: the {name} is empty"
                )));
            }
        }
        if cfg.token.expose().is_empty() {
            return Err(ForgeError::Config(
                "Azure DevOps: the token is empty".into(),
            ));
        }
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("cavra/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ForgeError::Transport {
                forge: FORGE,
                operation: "start an HTTP client".into(),
                message: e.to_string(),
            })?;
        let base = format!(
            "{}/{}/_apis/git/repositories/{}/pullRequests/{}",
            cfg.collection_url.trim_end_matches('/'),
            encode_segment(&cfg.project),
            encode_segment(&cfg.repository_id),
            cfg.pull_request_id
        );
        Ok(Client { cfg, http, base })
    }

    fn url(&self, path: &str) -> String {
        let version = match self.cfg.api_version.trim() {
            "" => API_VERSION,
            v => v,
        };
        format!(
            "{}{path}?api-version={}",
            self.base,
            encode_segment(version)
        )
    }

    /// The iteration whose source commit is the first of `commits` that has one, else the
    /// latest; `None` when the pull request lists no iterations.
    fn iteration(&self, commits: &[Option<&str>]) -> Result<Option<u64>, ForgeError> {
        let list = self.send(
            reqwest::Method::GET,
            &self.url("/iterations"),
            None,
            "list pull request iterations",
        )?;
        let iterations: Vec<(u64, String)> = values(&list)
            .iter()
            .filter_map(|it| {
                let id = it.get("id")?.as_u64()?;
                let commit = it
                    .pointer("/sourceRefCommit/commitId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Some((id, commit.to_ascii_lowercase()))
            })
            .collect();
        for commit in commits.iter().flatten() {
            let commit = commit.trim().to_ascii_lowercase();
            if commit.is_empty() {
                continue;
            }
            if let Some((id, _)) = iterations.iter().rev().find(|(_, c)| *c == commit) {
                return Ok(Some(*id));
            }
        }
        Ok(iterations.iter().map(|(id, _)| *id).max())
    }

    fn post_status(
        &self,
        state: PrStatusState,
        description: &str,
        iteration: Option<u64>,
    ) -> Result<String, ForgeError> {
        let mut body = json!({
            "state": state.as_str(),
            "description": description,
            "context": {"genre": STATUS_GENRE, "name": STATUS_CONTEXT_NAME},
        });
        if let Some(url) = &self.cfg.target_url {
            body["targetUrl"] = json!(url);
        }
        if let Some(id) = iteration {
            body["iterationId"] = json!(id);
        }
        self.send(
            reqwest::Method::POST,
            &self.url("/statuses"),
            Some(&body),
            "create pull request status",
        )?;
        let on = iteration.map_or(String::new(), |id| format!(" (iteration {id})"));
        Ok(format!(
            "pull request {} status {STATUS_NAME} = {}{on}",
            self.cfg.pull_request_id,
            state.as_str()
        ))
    }

    /// Creates or updates cavra's thread; returns the action and the thread's id.
    fn upsert_thread(&self, content: &str, gate: GateState) -> Result<(String, u64), ForgeError> {
        let pr = self.cfg.pull_request_id;
        let list = self.send(
            reqwest::Method::GET,
            &self.url("/threads"),
            None,
            "list pull request threads",
        )?;
        let threads: Vec<Found> = values(&list).iter().filter_map(ours).collect();
        // A thread carrying the property wins over one found by the marker alone.
        let found = threads
            .iter()
            .find(|t| t.marked)
            .or_else(|| threads.first());
        let Some(found) = found else {
            let status = if gate.passes() { "closed" } else { "active" };
            let body = json!({
                "comments": [{"parentCommentId": 0, "content": content, "commentType": "text"}],
                "status": status,
                "properties": {THREAD_PROPERTY: {"$type": "System.String", "$value": "1"}},
            });
            let created = self.send(
                reqwest::Method::POST,
                &self.url("/threads"),
                Some(&body),
                "create pull request thread",
            )?;
            let id = created.get("id").and_then(Value::as_u64).ok_or_else(|| {
                self.unexpected("create pull request thread", "the answer has no thread id")
            })?;
            return Ok((
                format!("pull request {pr} thread {id} created ({status})"),
                id,
            ));
        };

        let mut changes = Vec::new();
        if found.content != content {
            self.send(
                reqwest::Method::PATCH,
                &self.url(&format!("/threads/{}/comments/{}", found.id, found.comment)),
                Some(&json!({"content": content})),
                "update pull request thread comment",
            )?;
            changes.push("updated".to_string());
        }
        let resolved = !matches!(found.status.as_str(), "active" | "pending" | "unknown" | "");
        let status = match (gate.passes(), resolved) {
            (true, false) => Some("fixed"),
            (false, true) => Some("active"),
            _ => None,
        };
        if let Some(status) = status {
            self.send(
                reqwest::Method::PATCH,
                &self.url(&format!("/threads/{}", found.id)),
                Some(&json!({"status": status})),
                "update pull request thread status",
            )?;
            changes.push(status.to_string());
        }
        let what = if changes.is_empty() {
            "unchanged".to_string()
        } else {
            changes.join(", ")
        };
        Ok((
            format!("pull request {pr} thread {} {what}", found.id),
            found.id,
        ))
    }

    fn unexpected(&self, operation: &str, message: &str) -> ForgeError {
        ForgeError::Api {
            forge: FORGE,
            operation: operation.into(),
            status: 200,
            message: message.into(),
        }
    }

    /// Sends one request, retrying as the policy says; the JSON answer (`Null` when empty).
    fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
        operation: &str,
    ) -> Result<Value, ForgeError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self
                .http
                .request(method.clone(), url)
                .header("Accept", "application/json");
            request = match self.cfg.auth {
                AzureAuth::Bearer => request.bearer_auth(self.cfg.token.expose()),
                AzureAuth::Basic => request.basic_auth("", Some(self.cfg.token.expose())),
            };
            if let Some(body) = body {
                request = request.json(body);
            }
            let (status, headers, text, error) = match request.send() {
                Err(e) => (None, Default::default(), String::new(), Some(e.to_string())),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    match response.text() {
                        Ok(text) => (Some(status), headers, text, None),
                        Err(e) => (None, headers, String::new(), Some(e.to_string())),
                    }
                }
            };
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let html = header("content-type").is_some_and(|t| t.contains("text/html"));
            // Azure DevOps answers a request it cannot authenticate with a sign-in page:
            // 203 (or a redirect, or a 200 HTML page). That is a 401.
            let (status, message) = match status {
                Some(s) if s == 203 || ((200..400).contains(&s) && (html || s >= 300)) => (
                    Some(401),
                    format!(
                        "the token was not accepted (Azure DevOps answered HTTP {s} with a sign-in page)"
                    ),
                ),
                Some(s) if (200..300).contains(&s) => {
                    if text.trim().is_empty() {
                        return Ok(Value::Null);
                    }
                    return serde_json::from_str(&text).map_err(|e| {
                        self.unexpected(operation, &format!("the answer is not JSON: {e}"))
                    });
                }
                Some(403) if header("retry-after").is_none() => (
                    Some(403),
                    format!(
                        "{}; with System.AccessToken, allow the build service identity \
                         \"Contribute to pull requests\" on the repository",
                        error_message(&text)
                    ),
                ),
                Some(s) => (Some(s), error_message(&text)),
                None => (None, error.unwrap_or_default()),
            };
            let answer = Answer {
                status,
                header: &header,
                now_unix: now_unix(),
            };
            match self.cfg.retry.next(attempt, &answer) {
                Next::RetryAfter(wait) => std::thread::sleep(wait),
                Next::GiveUp(why) => {
                    let message = match why {
                        Some(why) if !message.is_empty() => format!("{message} ({why})"),
                        Some(why) => why,
                        None => message,
                    };
                    let message = self.cfg.token.scrub(&message);
                    return Err(match status {
                        Some(status) => ForgeError::Api {
                            forge: FORGE,
                            operation: operation.into(),
                            status,
                            message,
                        },
                        None => ForgeError::Transport {
                            forge: FORGE,
                            operation: operation.into(),
                            message,
                        },
                    });
                }
            }
        }
    }
}

/// The `value` array of a list answer.
fn values(list: &Value) -> &[Value] {
    list.get("value")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// cavra's thread, as found in a list.
struct Found {
    id: u64,
    comment: u64,
    content: String,
    status: String,
    /// It carries [`THREAD_PROPERTY`].
    marked: bool,
}

/// `thread` when it is cavra's: it carries [`THREAD_PROPERTY`] or its first comment holds
/// [`NOTE_MARKER`].
fn ours(thread: &Value) -> Option<Found> {
    if thread.get("isDeleted").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let id = thread.get("id")?.as_u64()?;
    let first = thread
        .get("comments")?
        .as_array()?
        .iter()
        .filter(|c| c.get("isDeleted").and_then(Value::as_bool) != Some(true))
        .min_by_key(|c| c.get("id").and_then(Value::as_u64).unwrap_or(u64::MAX))?;
    let content = first
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let marked = thread
        .pointer("/properties")
        .and_then(Value::as_object)
        .is_some_and(|p| p.contains_key(THREAD_PROPERTY));
    if !marked && !content.contains(NOTE_MARKER) {
        return None;
    }
    Some(Found {
        id,
        comment: first.get("id")?.as_u64()?,
        content: content.to_string(),
        status: thread
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        marked,
    })
}

/// Azure DevOps' own words from an error answer (`{"message": "TF401019: …", …}`), else the
/// start of the body.
fn error_message(text: &str) -> String {
    if let Ok(value) = serde_json::from_str::<Value>(text)
        && let Some(message) = value.get("message").and_then(Value::as_str)
    {
        return message.to_string();
    }
    let text = text.trim();
    if text.is_empty() {
        return "no message".into();
    }
    let cut: String = text.chars().take(300).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_and_tokens_classified() {
        assert_eq!(
            encode_segment("Fabrikam Fiber & Co/é"),
            "Fabrikam%20Fiber%20%26%20Co%2F%C3%A9"
        );
        assert_eq!(encode_segment("6ce954b1-ce1f"), "6ce954b1-ce1f");
        assert!(looks_like_jwt("eyJ0eXAi.eyJzdWIi.c2ln"));
        assert!(!looks_like_jwt(
            "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst"
        ));
        assert!(check_url("http://[::1]:8080/tfs/").is_ok());
        assert!(check_url("http://localhost/").is_ok());
        assert!(check_url("http://ado.example.com/").is_err());
        assert!(check_url("ftp://ado.example.com/").is_err());
    }

    #[test]
    fn error_messages_come_from_the_json_body() {
        let body = r#"{"$id":"1","innerException":null,"message":"TF401180: not found","typeKey":"X","errorCode":0}"#;
        assert_eq!(error_message(body), "TF401180: not found");
        assert_eq!(error_message(""), "no message");
        assert_eq!(error_message(&"x".repeat(400)).chars().count(), 301);
    }
}
