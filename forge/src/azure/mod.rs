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
//!
//! The parts: `client` (requests over the shared `crate::http` exchange, and what Azure
//! DevOps' answers mean), `status` (the iteration and its status) and `thread`.

mod client;
mod status;
mod thread;

use crate::config::{api_root, var};
use crate::present::{GateState, NOTE_MARKER, truncate};
use crate::retry::RetryPolicy;
use crate::{ForgeError, Posted, Token};
use cavra_gate::Verdict;
use client::Client;

const FORGE: &str = "Azure DevOps";

/// The API version every request asks for.
pub const API_VERSION: &str = "7.1";

/// The status context's genre and name: together they read `cavra/gate` ([`crate::STATUS_NAME`]).
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
        let get = |name: &str| var(env, name);
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

/// The collection URL, checked as an API root ([`api_root`]).
fn check_url(url: &str) -> Result<reqwest::Url, String> {
    api_root(url, "https://dev.azure.com/ORGANIZATION/")
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
}
