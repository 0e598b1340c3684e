//! A local mock of the GitHub REST API: it checks every request (route, token, headers, and the
//! body against GitHub's published request schema) and answers as GitHub does, unless a test
//! has scripted an error answer.

use crate::http::{Recorder, Request, Response, TestServer};
use crate::schema::Schema;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

/// The token the tests use; it must never appear in an error or an output.
pub const TOKEN: &str = "ghs_TESTtoken0123456789abcdefSECRET";

/// What a request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    CreateCheckRun,
    UpdateCheckRun(u64),
    CreateStatus,
}

/// A copied fixture.
pub fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/github")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The published request schema of `call`.
pub fn schema(call: Call) -> &'static Schema {
    static SCHEMAS: OnceLock<[Schema; 3]> = OnceLock::new();
    let all = SCHEMAS.get_or_init(|| {
        [
            Schema::draft7(&fixture("checks_create.request.schema.json")),
            Schema::draft7(&fixture("checks_update.request.schema.json")),
            Schema::draft7(&fixture("repos_create-commit-status.request.schema.json")),
        ]
    });
    match call {
        Call::CreateCheckRun => &all[0],
        Call::UpdateCheckRun(_) => &all[1],
        Call::CreateStatus => &all[2],
    }
}

/// A GitHub error answer (`{"message", "documentation_url"}`).
pub fn github_error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run",
            "status": status.to_string(),
        }),
    )
}

/// A mock GitHub serving `owner/repo` under `prefix` (`""`, or `/api/v3` for GHES).
pub struct MockGithub {
    server: TestServer,
    prefix: String,
    recorder: Recorder,
    script: Arc<Mutex<VecDeque<Option<Response>>>>,
    problems: Arc<Mutex<Vec<String>>>,
}

impl MockGithub {
    pub fn start(prefix: &str) -> MockGithub {
        let recorder = Recorder::default();
        let script: Arc<Mutex<VecDeque<Option<Response>>>> = Arc::default();
        let problems: Arc<Mutex<Vec<String>>> = Arc::default();
        let (rec, scr, prob, pre) = (
            recorder.clone(),
            script.clone(),
            problems.clone(),
            prefix.to_string(),
        );
        let next_id = Arc::new(Mutex::new(41u64));
        let server = TestServer::start(move |req| {
            rec.record(req);
            let call = match check(&pre, req) {
                Ok(call) => call,
                Err(problem) => {
                    prob.lock().unwrap().push(problem.clone());
                    return github_error(422, &format!("mock: {problem}"));
                }
            };
            if let Some(Some(scripted)) = scr.lock().unwrap().pop_front() {
                return scripted;
            }
            answer(call, req, &next_id)
        });
        MockGithub {
            server,
            prefix: prefix.to_string(),
            recorder,
            script,
            problems,
        }
    }

    /// The API URL to configure.
    pub fn api_url(&self) -> String {
        format!("{}{}", self.server.url(), self.prefix)
    }

    /// Answers the next requests with these, in order (then as GitHub would).
    pub fn script(&self, responses: impl IntoIterator<Item = Response>) {
        self.script
            .lock()
            .unwrap()
            .extend(responses.into_iter().map(Some));
    }

    /// Answers the next requests with these, in order; `None` answers as GitHub would.
    pub fn script_some(&self, responses: impl IntoIterator<Item = Option<Response>>) {
        self.script.lock().unwrap().extend(responses);
    }

    /// Every request so far, with what it was.
    pub fn calls(&self) -> Vec<(Call, Request)> {
        self.recorder
            .requests()
            .into_iter()
            .map(|r| (check(&self.prefix, &r).expect("checked when received"), r))
            .collect()
    }

    /// Panics when a request broke a rule.
    pub fn assert_no_problems(&self) {
        let problems = self.problems.lock().unwrap();
        assert!(problems.is_empty(), "bad requests: {problems:#?}");
    }
}

impl Drop for MockGithub {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_no_problems();
        }
    }
}

/// What `req` is, when it is a well-formed call: route, method, token, headers and body.
fn check(prefix: &str, req: &Request) -> Result<Call, String> {
    let path = req.path();
    let rest = path
        .strip_prefix(prefix)
        .and_then(|p| p.strip_prefix("/repos/octo-org/hello-world/"))
        .ok_or_else(|| format!("unexpected path {path}"))?;
    let segments: Vec<&str> = rest.split('/').collect();
    let call = match (req.method.as_str(), segments.as_slice()) {
        ("POST", ["check-runs"]) => Call::CreateCheckRun,
        ("PATCH", ["check-runs", id]) => {
            Call::UpdateCheckRun(id.parse().map_err(|_| format!("bad check run id {id}"))?)
        }
        ("POST", ["statuses", sha]) if sha.len() == 40 => Call::CreateStatus,
        (method, _) => return Err(format!("unexpected call {method} {path}")),
    };
    let auth = req.header("authorization").unwrap_or_default();
    if auth != format!("Bearer {TOKEN}") && auth != format!("token {TOKEN}") {
        return Err(format!(
            "{path}: the Authorization header does not carry the token"
        ));
    }
    let accept = req.header("accept").unwrap_or_default();
    if !accept.contains("application/vnd.github") && !accept.contains("application/json") {
        return Err(format!("{path}: Accept is {accept:?}"));
    }
    for name in ["accept", "user-agent", "authorization", "content-type"] {
        let count = req.headers.iter().filter(|(n, _)| n == name).count();
        if count != 1 {
            return Err(format!("{path}: {count} {name} headers"));
        }
    }
    if req.header("x-github-api-version").is_none() {
        return Err(format!("{path}: no X-GitHub-Api-Version"));
    }
    if req.header("user-agent").is_none_or(str::is_empty) {
        return Err(format!("{path}: no User-Agent"));
    }
    if !req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return Err(format!("{path}: the body is not sent as JSON"));
    }
    let body: Value =
        serde_json::from_slice(&req.body).map_err(|e| format!("{path}: body is not JSON: {e}"))?;
    schema(call)
        .check(&body)
        .map_err(|e| format!("{path}: the body does not validate: {e}"))?;
    Ok(call)
}

/// GitHub's answer to a well-formed call.
fn answer(call: Call, req: &Request, next_id: &Mutex<u64>) -> Response {
    let body = req.json();
    let base = "https://api.github.com/repos/octo-org/hello-world";
    let run = |id: u64, head_sha: &Value, status: &Value, conclusion: &Value| {
        json!({
            "id": id,
            "node_id": "CR_kwDOABCD",
            "head_sha": head_sha,
            "external_id": body["external_id"],
            "url": format!("{base}/check-runs/{id}"),
            "html_url": format!("https://github.com/octo-org/hello-world/runs/{id}"),
            "details_url": body["details_url"],
            "status": status,
            "conclusion": conclusion,
            "started_at": "2026-11-23T10:00:00Z",
            "completed_at": if conclusion.is_null() { Value::Null } else { json!("2026-11-23T10:00:05Z") },
            "output": {
                "title": body["output"]["title"],
                "summary": body["output"]["summary"],
                "text": null,
                "annotations_count": body["output"]["annotations"].as_array().map_or(0, Vec::len),
                "annotations_url": format!("{base}/check-runs/{id}/annotations"),
            },
            "name": "cavra/gate",
            "check_suite": {"id": 5},
            "app": {"id": 1, "slug": "github-actions"},
            "pull_requests": [],
        })
    };
    match call {
        Call::CreateCheckRun => {
            let mut next = next_id.lock().unwrap();
            *next += 1;
            Response::json(
                201,
                &run(
                    *next,
                    &body["head_sha"],
                    &body["status"],
                    &body["conclusion"],
                ),
            )
        }
        Call::UpdateCheckRun(id) => Response::json(
            200,
            &run(
                id,
                &json!("0000000000000000000000000000000000000000"),
                &json!("completed"),
                &json!("failure"),
            ),
        ),
        // Shaped after @octokit/fixtures' recorded create-status answer.
        Call::CreateStatus => {
            let sha = req
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            Response::json(
                201,
                &json!({
                    "url": format!("{base}/statuses/{sha}"),
                    "avatar_url": "https://avatars.githubusercontent.com/u/31898046?v=4",
                    "id": 1000,
                    "node_id": "MDA6RW50aXR5MQ==",
                    "state": body["state"],
                    "description": body["description"],
                    "target_url": body["target_url"],
                    "context": body["context"],
                    "created_at": "2017-10-10T16:00:00Z",
                    "updated_at": "2017-10-10T16:00:00Z",
                    "creator": {
                        "login": "octokit-fixture-user-a",
                        "id": 1000,
                        "node_id": "MDA6RW50aXR5MQ==",
                        "avatar_url": "https://avatars.githubusercontent.com/u/1000?v=4",
                        "gravatar_id": "",
                        "url": "https://api.github.com/users/octokit-fixture-user-a",
                        "html_url": "https://github.com/octokit-fixture-user-a",
                        "type": "User",
                        "site_admin": false
                    }
                }),
            )
        }
    }
}
