//! A local mock of the GitHub REST API: it checks every request (route, token, headers, and the
//! body against GitHub's published request schema) and answers as GitHub does, unless a test
//! has scripted an error answer.
//!
//! Besides check runs and statuses it plays what a GitHub App needs: installation tokens (the
//! App JWT is checked for shape and claims; the answer is [`TOKEN`]), pull requests, their
//! reviews and comments, team memberships and attestation uploads, all from [`GithubState`]
//! that the test fills in.

use crate::http::{Recorder, Request, Response, TestServer};
use crate::schema::Schema;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

/// The token the tests use; it must never appear in an error or an output.
pub const TOKEN: &str = "ghs_TESTtoken0123456789abcdefSECRET";

/// What a request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    CreateCheckRun,
    UpdateCheckRun(u64),
    CreateStatus,
    /// `POST /app/installations/{id}/access_tokens` (authorized by the App JWT).
    CreateInstallationToken(u64),
    /// `GET /repos/{o}/{r}`.
    GetRepo,
    /// `GET /repos/{o}/{r}/pulls/{n}`.
    GetPull(u64),
    /// `GET /repos/{o}/{r}/pulls/{n}/reviews`.
    ListReviews(u64),
    /// `GET /repos/{o}/{r}/issues/{n}/comments`.
    ListComments(u64),
    /// `GET /orgs/{org}/teams/{slug}/memberships/{user}` (the path says who).
    TeamMembership,
    /// `POST /repos/{o}/{r}/attestations`.
    CreateAttestation,
}

impl Call {
    /// True for the calls that send a JSON body.
    pub fn has_body(self) -> bool {
        matches!(
            self,
            Call::CreateCheckRun
                | Call::UpdateCheckRun(_)
                | Call::CreateStatus
                | Call::CreateInstallationToken(_)
                | Call::CreateAttestation
        )
    }
}

/// What the mock knows beyond check runs: pull requests, reviews, comments, teams.
#[derive(Debug, Clone, Default)]
pub struct GithubState {
    /// Pull requests by number, as `GET /pulls/{n}` answers them (see [`pull`]).
    pub pulls: BTreeMap<u64, Value>,
    /// Reviews by pull request number, oldest first.
    pub reviews: BTreeMap<u64, Vec<Value>>,
    /// Issue comments by pull request number, oldest first.
    pub comments: BTreeMap<u64, Vec<Value>>,
    /// Active team members: `(org, team slug, login)`.
    pub team_members: BTreeSet<(String, String, String)>,
    /// The App id the JWT must name (`iss`); `None` accepts any.
    pub app_id: Option<u64>,
    /// The repository's default branch.
    pub default_branch: String,
    /// Every answer waits this long first (to hold evaluations mid-flight).
    pub delay: Option<std::time::Duration>,
    /// The check runs created, by id: their head commit and conclusion (once completed).
    pub check_runs: BTreeMap<u64, (String, Option<String>)>,
}

/// A pull request as `GET /repos/{o}/{r}/pulls/{n}` answers it (the fields an App reads).
pub fn pull(number: u64, head_sha: &str, base_ref: &str, base_sha: &str, labels: &[&str]) -> Value {
    json!({
        "number": number,
        "state": "open",
        "draft": false,
        "html_url": format!("https://github.com/octo-org/hello-world/pull/{number}"),
        "head": {"ref": "feature", "sha": head_sha, "repo": {"full_name": "octo-org/hello-world"}},
        "base": {"ref": base_ref, "sha": base_sha, "repo": {"full_name": "octo-org/hello-world"}},
        "labels": labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
        "user": {"login": "octocat"},
    })
}

/// A review as `GET .../pulls/{n}/reviews` lists it.
pub fn review(id: u64, login: &str, state: &str, commit_id: &str) -> Value {
    json!({
        "id": id,
        "user": {"login": login, "type": "User"},
        "state": state,
        "commit_id": commit_id,
        "body": "",
        "submitted_at": "2026-11-23T10:00:00Z",
    })
}

/// An issue comment as `GET .../issues/{n}/comments` lists it.
pub fn comment(id: u64, login: &str, body: &str) -> Value {
    json!({"id": id, "user": {"login": login, "type": "User"}, "body": body,
           "created_at": "2026-11-23T10:00:00Z"})
}

/// A copied fixture.
pub fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/github")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The published request schema of `call` (an empty object for calls without a published
/// request schema here: GETs, and attestations, which are checked by hand).
pub fn schema(call: Call) -> &'static Schema {
    static SCHEMAS: OnceLock<[Schema; 5]> = OnceLock::new();
    let all = SCHEMAS.get_or_init(|| {
        [
            Schema::draft7(&fixture("checks_create.request.schema.json")),
            Schema::draft7(&fixture("checks_update.request.schema.json")),
            Schema::draft7(&fixture("repos_create-commit-status.request.schema.json")),
            Schema::draft7(&fixture(
                "apps_create-installation-access-token.request.schema.json",
            )),
            Schema::draft7(r#"{"type": "object"}"#),
        ]
    });
    match call {
        Call::CreateCheckRun => &all[0],
        Call::UpdateCheckRun(_) => &all[1],
        Call::CreateStatus => &all[2],
        Call::CreateInstallationToken(_) => &all[3],
        _ => &all[4],
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
    state: Arc<Mutex<GithubState>>,
}

impl MockGithub {
    pub fn start(prefix: &str) -> MockGithub {
        let recorder = Recorder::default();
        let script: Arc<Mutex<VecDeque<Option<Response>>>> = Arc::default();
        let problems: Arc<Mutex<Vec<String>>> = Arc::default();
        let state = Arc::new(Mutex::new(GithubState {
            default_branch: "main".to_string(),
            ..GithubState::default()
        }));
        let (rec, scr, prob, pre, st) = (
            recorder.clone(),
            script.clone(),
            problems.clone(),
            prefix.to_string(),
            state.clone(),
        );
        let next_id = Arc::new(Mutex::new(41u64));
        let server = TestServer::start(move |req| {
            rec.record(req);
            let delay = st.lock().unwrap().delay;
            if let Some(delay) = delay {
                std::thread::sleep(delay);
            }
            let call = match check(&pre, req)
                .and_then(|call| check_app_jwt(call, req, st.lock().unwrap().app_id).map(|()| call))
            {
                Ok(call) => call,
                Err(problem) => {
                    prob.lock().unwrap().push(problem.clone());
                    return github_error(422, &format!("mock: {problem}"));
                }
            };
            if let Some(Some(scripted)) = scr.lock().unwrap().pop_front() {
                return scripted;
            }
            answer(call, req, &next_id, &mut st.lock().unwrap())
        });
        MockGithub {
            server,
            prefix: prefix.to_string(),
            recorder,
            script,
            problems,
            state,
        }
    }

    /// Changes what the mock knows (pull requests, reviews, comments, teams).
    pub fn with_state<T>(&self, change: impl FnOnce(&mut GithubState) -> T) -> T {
        change(&mut self.state.lock().unwrap())
    }

    /// Forgets the requests so far.
    pub fn clear_calls(&self) {
        self.recorder.clear();
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
    let local = path
        .strip_prefix(prefix)
        .ok_or_else(|| format!("unexpected path {path}"))?;
    let number = |n: &str| {
        n.parse::<u64>()
            .map_err(|_| format!("bad number {n} in {path}"))
    };
    let call = if let Some(rest) = local.strip_prefix("/app/installations/") {
        match (
            req.method.as_str(),
            rest.split('/').collect::<Vec<_>>().as_slice(),
        ) {
            ("POST", [id, "access_tokens"]) => Call::CreateInstallationToken(number(id)?),
            (method, _) => return Err(format!("unexpected call {method} {path}")),
        }
    } else if let Some(rest) = local.strip_prefix("/orgs/") {
        match (
            req.method.as_str(),
            rest.split('/').collect::<Vec<_>>().as_slice(),
        ) {
            ("GET", [_, "teams", _, "memberships", _]) => Call::TeamMembership,
            (method, _) => return Err(format!("unexpected call {method} {path}")),
        }
    } else if local == "/repos/octo-org/hello-world" && req.method == "GET" {
        Call::GetRepo
    } else {
        let rest = local
            .strip_prefix("/repos/octo-org/hello-world/")
            .ok_or_else(|| format!("unexpected path {path}"))?;
        let segments: Vec<&str> = rest.split('/').collect();
        match (req.method.as_str(), segments.as_slice()) {
            ("POST", ["check-runs"]) => Call::CreateCheckRun,
            ("PATCH", ["check-runs", id]) => {
                Call::UpdateCheckRun(id.parse().map_err(|_| format!("bad check run id {id}"))?)
            }
            ("POST", ["statuses", sha]) if sha.len() == 40 => Call::CreateStatus,
            ("GET", ["pulls", n]) => Call::GetPull(number(n)?),
            ("GET", ["pulls", n, "reviews"]) => Call::ListReviews(number(n)?),
            ("GET", ["issues", n, "comments"]) => Call::ListComments(number(n)?),
            ("POST", ["attestations"]) => Call::CreateAttestation,
            (method, _) => return Err(format!("unexpected call {method} {path}")),
        }
    };
    let auth = req.header("authorization").unwrap_or_default();
    if matches!(call, Call::CreateInstallationToken(_)) {
        if !auth.starts_with("Bearer ") || auth.matches('.').count() != 2 {
            return Err(format!("{path}: the Authorization header holds no App JWT"));
        }
    } else if auth != format!("Bearer {TOKEN}") && auth != format!("token {TOKEN}") {
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
        let expected = usize::from(name != "content-type" || call.has_body());
        if count != expected {
            return Err(format!("{path}: {count} {name} headers"));
        }
    }
    if req.header("x-github-api-version").is_none() {
        return Err(format!("{path}: no X-GitHub-Api-Version"));
    }
    if req.header("user-agent").is_none_or(str::is_empty) {
        return Err(format!("{path}: no User-Agent"));
    }
    if !call.has_body() {
        if !req.body.is_empty() {
            return Err(format!("{path}: a {} with a body", req.method));
        }
        return Ok(call);
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
    if call == Call::CreateAttestation
        && !body["bundle"]["mediaType"]
            .as_str()
            .is_some_and(|m| m.starts_with("application/vnd.dev.sigstore.bundle"))
    {
        return Err(format!("{path}: no Sigstore bundle in the body"));
    }
    Ok(call)
}

/// The App JWT of an installation token request: RS256, with `iss` (the App id when known),
/// `iat` and an `exp` at most ten minutes later. (The signature is the test's to verify.)
fn check_app_jwt(call: Call, req: &Request, app_id: Option<u64>) -> Result<(), String> {
    if !matches!(call, Call::CreateInstallationToken(_)) {
        return Ok(());
    }
    let jwt = req
        .header("authorization")
        .unwrap_or_default()
        .trim_start_matches("Bearer ");
    let part = |i: usize| -> Result<Value, String> {
        let text = jwt.split('.').nth(i).unwrap_or_default();
        let bytes = base64url(text).ok_or("the JWT is not base64url")?;
        serde_json::from_slice(&bytes).map_err(|e| format!("the JWT is not JSON: {e}"))
    };
    let (header, claims) = (part(0)?, part(1)?);
    if header["alg"] != "RS256" {
        return Err(format!("the App JWT is signed with {}", header["alg"]));
    }
    let iss = claims["iss"]
        .as_str()
        .map(str::to_string)
        .or_else(|| claims["iss"].as_u64().map(|n| n.to_string()))
        .ok_or("the App JWT has no iss")?;
    if let Some(app_id) = app_id
        && iss != app_id.to_string()
    {
        return Err(format!("the App JWT names App {iss}, not {app_id}"));
    }
    let (iat, exp) = (claims["iat"].as_u64(), claims["exp"].as_u64());
    match (iat, exp) {
        (Some(iat), Some(exp)) if exp > iat && exp - iat <= 600 => Ok(()),
        _ => Err(format!("the App JWT's iat/exp are wrong: {claims}")),
    }
}

/// Decodes unpadded base64url.
pub fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// GitHub's answer to a well-formed call.
fn answer(call: Call, req: &Request, next_id: &Mutex<u64>, state: &mut GithubState) -> Response {
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
            state.check_runs.insert(
                *next,
                (
                    body["head_sha"].as_str().unwrap_or_default().to_string(),
                    body["conclusion"].as_str().map(str::to_string),
                ),
            );
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
        Call::UpdateCheckRun(id) => {
            let known = state.check_runs.entry(id).or_default();
            if let Some(c) = body["conclusion"].as_str() {
                known.1 = Some(c.to_string());
            }
            let head = if known.0.is_empty() {
                "0000000000000000000000000000000000000000".to_string()
            } else {
                known.0.clone()
            };
            let conclusion = known.1.clone();
            Response::json(
                200,
                &run(
                    id,
                    &json!(head),
                    &json!(if conclusion.is_some() {
                        "completed"
                    } else {
                        "in_progress"
                    }),
                    &json!(conclusion),
                ),
            )
        }
        Call::CreateInstallationToken(_) => Response::json(
            201,
            &json!({
                "token": TOKEN,
                "expires_at": "2999-01-01T00:00:00Z",
                "permissions": {"checks": "write", "contents": "read", "pull_requests": "read"},
                "repository_selection": "all",
            }),
        ),
        Call::GetRepo => Response::json(
            200,
            &json!({"full_name": "octo-org/hello-world", "default_branch": state.default_branch}),
        ),
        Call::GetPull(n) => match state.pulls.get(&n) {
            Some(pr) => Response::json(200, pr),
            None => github_error(404, "Not Found"),
        },
        Call::ListReviews(n) => page(req, state.reviews.get(&n)),
        Call::ListComments(n) => page(req, state.comments.get(&n)),
        Call::TeamMembership => {
            let parts: Vec<&str> = req.path().rsplit('/').collect();
            // .../orgs/{org}/teams/{slug}/memberships/{user}, read from the end.
            let (user, slug, org) = (parts[0], parts[2], parts[4]);
            let key = (org.to_string(), slug.to_string(), user.to_string());
            if state.team_members.contains(&key) {
                Response::json(
                    200,
                    &json!({"url": "", "role": "member", "state": "active"}),
                )
            } else {
                github_error(404, "Not Found")
            }
        }
        Call::CreateAttestation => Response::json(201, &json!({"id": 7})),
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

/// One page (`page`, `per_page` from the query) of `items`.
fn page(req: &Request, items: Option<&Vec<Value>>) -> Response {
    let query = req.target.split_once('?').map_or("", |(_, q)| q);
    let param = |name: &str, default: usize| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (page, per_page) = (param("page", 1).max(1), param("per_page", 30).clamp(1, 100));
    let items = items.map_or(&[][..], Vec::as_slice);
    let slice: Vec<Value> = items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    Response::json(200, &Value::Array(slice))
}
