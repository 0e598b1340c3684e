//! The GitHub REST calls an evaluation makes (pull requests, reviews, comments, team
//! membership, check runs, attestations), over a blocking `reqwest` client. Every call is
//! counted in the metrics with its status, and `X-RateLimit-Remaining` is recorded. Nothing
//! here retries: a failed call becomes [`ApiError`], which the worker turns into a retry of the
//! whole job (5xx, 429, rate limits, no answer) or a permanent failure (401, 403, 404, 422).

use crate::metrics::Metrics;
use cavra_forge::github::{
    ANNOTATIONS_PER_REQUEST, MAX_ANNOTATION_MESSAGE_BYTES, MAX_ANNOTATION_TITLE_CHARS,
    MAX_ANNOTATIONS, MAX_SUMMARY_CHARS,
};
use cavra_forge::present::{GateState, cut_bytes, cut_chars, truncate};
use cavra_report::{Annotation, Level};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Largest answer read (a page of reviews or comments is far smaller).
const MAX_ANSWER_BYTES: usize = 16 << 20;

/// A call that failed.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status, `None` when no answer came.
    pub status: Option<u16>,
    /// How long GitHub asks to wait (`Retry-After`, or a rate limit's reset).
    pub retry_after: Option<Duration>,
    /// What went wrong (never a token).
    pub message: String,
}

impl ApiError {
    /// An error that no retry mends.
    pub fn permanent(message: impl Into<String>) -> ApiError {
        ApiError {
            status: Some(0),
            retry_after: None,
            message: message.into(),
        }
    }

    /// True when trying again later may work: no answer, 5xx, 429 or a rate limit.
    pub fn transient(&self) -> bool {
        match self.status {
            None => true,
            Some(s) => s >= 500 || s == 429 || self.retry_after.is_some(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) if s > 0 => write!(f, "HTTP {s}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// The REST API root and the client that talks to it.
pub struct Http {
    api_url: String,
    metrics: Arc<Metrics>,
    // Built on first use, in the worker's (blocking) thread: a blocking client must not be
    // made or dropped inside an async runtime.
    client: OnceLock<reqwest::blocking::Client>,
}

impl Http {
    /// `api_url` ends with `/`.
    pub fn new(api_url: &str, metrics: Arc<Metrics>) -> Http {
        let mut api_url = api_url.to_string();
        if !api_url.ends_with('/') {
            api_url.push('/');
        }
        Http {
            api_url,
            metrics,
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> &reqwest::blocking::Client {
        self.client.get_or_init(|| {
            reqwest::blocking::Client::builder()
                .connect_timeout(Duration::from_secs(15))
                .timeout(Duration::from_secs(60))
                .user_agent(concat!("cavra-github-app/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("an HTTP client with rustls")
        })
    }

    /// Sends one request to `route` (relative to the API root) with `bearer` as token and
    /// reads the JSON answer (`Null` when empty).
    pub fn send(
        &self,
        endpoint: &'static str,
        method: reqwest::Method,
        route: &str,
        bearer: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let url = format!("{}{}", self.api_url, route.trim_start_matches('/'));
        let mut request = self
            .client()
            .request(method, &url)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .header("Authorization", format!("Bearer {bearer}"));
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(body).unwrap_or_default());
        }
        let answer = match request.send() {
            Ok(answer) => answer,
            Err(e) => {
                self.metrics.api_call(endpoint, 0);
                return Err(ApiError {
                    status: None,
                    retry_after: None,
                    message: scrub(&format!("{endpoint}: no answer: {}", chain(&e)), bearer),
                });
            }
        };
        let status = answer.status().as_u16();
        self.metrics.api_call(endpoint, status);
        let header = |name: &str| {
            answer
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
        };
        let remaining = header("x-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok());
        if let Some(left) = remaining {
            self.metrics.rate_limit_remaining(left);
        }
        let retry_after = header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs)
            .or_else(|| {
                let reset = header("x-ratelimit-reset")?.parse::<u64>().ok()?;
                (remaining == Some(0) && (status == 403 || status == 429)).then(|| {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default()
                        .as_secs();
                    Duration::from_secs(reset.saturating_sub(now).clamp(1, 3600))
                })
            });
        let bytes = answer.bytes().map_err(|e| ApiError {
            status: None,
            retry_after: None,
            message: scrub(&format!("{endpoint}: the answer was cut: {e}"), bearer),
        })?;
        if bytes.len() > MAX_ANSWER_BYTES {
            return Err(ApiError::permanent(format!(
                "{endpoint}: the answer is larger than {MAX_ANSWER_BYTES} bytes"
            )));
        }
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        if (200..300).contains(&status) {
            return Ok(value);
        }
        let message = value["message"].as_str().map_or_else(
            || String::from_utf8_lossy(&bytes).into_owned(),
            str::to_string,
        );
        Err(ApiError {
            status: Some(status),
            retry_after,
            message: scrub(&format!("{endpoint}: {}", cut_chars(&message, 300)), bearer),
        })
    }
}

/// `text` with `secret` masked.
pub fn scrub(text: &str, secret: &str) -> String {
    if secret.len() < 4 {
        return text.to_string();
    }
    text.replace(secret, "***")
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The calls on one repository with one installation token.
pub struct Repo<'a> {
    pub http: &'a Http,
    pub token: &'a str,
    /// `owner/name`.
    pub full_name: &'a str,
}

impl Repo<'_> {
    fn get(&self, endpoint: &'static str, route: &str) -> Result<Value, ApiError> {
        self.http
            .send(endpoint, reqwest::Method::GET, route, self.token, None)
    }

    /// Every item of a list, 100 a page (at most 30 pages).
    fn list(&self, endpoint: &'static str, route: &str) -> Result<Vec<Value>, ApiError> {
        let mut all = Vec::new();
        for page in 1..=30 {
            let items = self.get(endpoint, &format!("{route}?per_page=100&page={page}"))?;
            let items = items.as_array().cloned().unwrap_or_default();
            let last = items.len() < 100;
            all.extend(items);
            if last {
                break;
            }
        }
        Ok(all)
    }

    /// `GET /repos/{o}/{r}/pulls/{n}`.
    pub fn pull(&self, number: u64) -> Result<Value, ApiError> {
        self.get(
            "pulls.get",
            &format!("repos/{}/pulls/{number}", self.full_name),
        )
    }

    /// `GET /repos/{o}/{r}/pulls/{n}/reviews` (every page).
    pub fn reviews(&self, number: u64) -> Result<Vec<Value>, ApiError> {
        self.list(
            "pulls.reviews",
            &format!("repos/{}/pulls/{number}/reviews", self.full_name),
        )
    }

    /// `GET /repos/{o}/{r}/issues/{n}/comments` (every page).
    pub fn comments(&self, number: u64) -> Result<Vec<Value>, ApiError> {
        self.list(
            "issues.comments",
            &format!("repos/{}/issues/{number}/comments", self.full_name),
        )
    }

    /// `GET /repos/{o}/{r}`: the default branch.
    pub fn default_branch(&self) -> Result<String, ApiError> {
        let repo = self.get("repos.get", &format!("repos/{}", self.full_name))?;
        Ok(repo["default_branch"]
            .as_str()
            .unwrap_or("main")
            .to_string())
    }

    /// True when `user` is an active member of `org/slug`.
    pub fn team_member(&self, org: &str, slug: &str, user: &str) -> Result<bool, ApiError> {
        match self.get(
            "teams.membership",
            &format!("orgs/{org}/teams/{slug}/memberships/{user}"),
        ) {
            Ok(v) => Ok(v["state"] == "active"),
            Err(e) if e.status == Some(404) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates the `in_progress` check run on `head_sha`; its id.
    pub fn start_check_run(&self, head_sha: &str) -> Result<u64, ApiError> {
        let body = json!({
            "name": cavra_forge::STATUS_NAME,
            "head_sha": head_sha,
            "status": "in_progress",
            "output": {
                "title": "cavra gate is running",
                "summary": format!(
                    "{}\nThe gate is judging this change against the base revision's policy.",
                    cavra_forge::present::NOTE_MARKER
                ),
            },
        });
        let created = self.http.send(
            "checks.create",
            reqwest::Method::POST,
            &format!("repos/{}/check-runs", self.full_name),
            self.token,
            Some(&body),
        )?;
        created["id"]
            .as_u64()
            .ok_or_else(|| ApiError::permanent("the created check run has no id"))
    }

    /// Completes check run `id`: conclusion, title, summary, then the annotations 50 a request
    /// (GitHub appends each batch). Returns how many annotations were sent.
    pub fn complete_check_run(
        &self,
        id: u64,
        state: Option<GateState>,
        title: &str,
        summary: &str,
        annotations: &[Annotation],
    ) -> Result<usize, ApiError> {
        let shown = annotations.len().min(MAX_ANNOTATIONS);
        let mut summary = truncate(summary, MAX_SUMMARY_CHARS - 200);
        if shown < annotations.len() {
            summary.push_str(&format!(
                "\n\n> **Note:** {shown} of {} annotations are shown on this check run.\n",
                annotations.len()
            ));
        }
        let conclusion = match state {
            Some(GateState::Success) => "success",
            Some(GateState::Neutral) => "neutral",
            Some(GateState::ActionRequired) => "action_required",
            Some(GateState::Failure) | None => "failure",
        };
        let batches: Vec<&[Annotation]> = annotations[..shown]
            .chunks(ANNOTATIONS_PER_REQUEST)
            .collect();
        let route = format!("repos/{}/check-runs/{id}", self.full_name);
        let output = |batch: Option<&&[Annotation]>| {
            json!({
                "title": cut_chars(title, 255),
                "summary": summary,
                "annotations": batch.map_or_else(Vec::new, |b| b.iter().map(annotation).collect()),
            })
        };
        let first = json!({
            "status": "completed",
            "conclusion": conclusion,
            "output": output(batches.first()),
        });
        self.http.send(
            "checks.update",
            reqwest::Method::PATCH,
            &route,
            self.token,
            Some(&first),
        )?;
        for batch in batches.iter().skip(1) {
            self.http.send(
                "checks.update",
                reqwest::Method::PATCH,
                &route,
                self.token,
                Some(&json!({ "output": output(Some(batch)) })),
            )?;
        }
        Ok(shown)
    }

    /// `POST /repos/{o}/{r}/attestations` with a Sigstore bundle.
    pub fn upload_attestation(&self, bundle_json: &str) -> Result<Value, ApiError> {
        let bundle: Value = serde_json::from_str(bundle_json)
            .map_err(|e| ApiError::permanent(format!("the bundle is not JSON: {e}")))?;
        self.http.send(
            "attestations.create",
            reqwest::Method::POST,
            &format!("repos/{}/attestations", self.full_name),
            self.token,
            Some(&json!({ "bundle": bundle })),
        )
    }
}

/// One annotation as GitHub takes it.
fn annotation(a: &Annotation) -> Value {
    let line = a.line.max(1);
    json!({
        "path": a.path,
        "start_line": line,
        "end_line": line,
        "annotation_level": match a.level {
            Level::Notice => "notice",
            Level::Warning => "warning",
            Level::Failure => "failure",
        },
        "message": cut_bytes(&a.message, MAX_ANNOTATION_MESSAGE_BYTES),
        "title": cut_chars(&a.title, MAX_ANNOTATION_TITLE_CHARS),
    })
}
