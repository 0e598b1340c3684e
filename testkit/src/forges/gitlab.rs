//! A mock GitLab REST API for `forge/tests/gitlab.rs`: the commit-status and merge-request note
//! endpoints, with the notes kept in memory (so an update is real), every body checked against
//! the request shapes in `testkit/fixtures/gitlab/` (derived from GitLab's docs), the token checked
//! in the header its kind uses, and scriptable failures (401, 403, 404, 409, 429, 5xx).

use crate::http::{Recorder, Request, Response, TestServer};
use crate::schema::Schema;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const STATUS_SCHEMA: &str = include_str!("../../fixtures/gitlab/commit-status.request.schema.json");
const NOTE_CREATE_SCHEMA: &str =
    include_str!("../../fixtures/gitlab/mr-note-create.request.schema.json");
const NOTE_EDIT_SCHEMA: &str =
    include_str!("../../fixtures/gitlab/mr-note-edit.request.schema.json");

/// Which header the mock expects the token in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `PRIVATE-TOKEN` (an access token).
    Private,
    /// `JOB-TOKEN` (`CI_JOB_TOKEN`): GitLab answers 403 on statuses and notes.
    Job,
}

/// What the mock serves.
pub struct Setup {
    /// The token it accepts.
    pub token: String,
    pub auth: Auth,
    /// The API root's path, e.g. `/api/v4` or `/gitlab/api/v4`.
    pub prefix: String,
    /// The project as it must appear in the path: `42` or `group%2Fsub%2Fproject`.
    pub project_segment: String,
}

/// One scripted answer: the first request with this method whose path contains `path` gets it.
struct Scripted {
    method: String,
    path: String,
    response: Response,
    /// Serve the request as usual first (a note is created), then answer `response`.
    after: bool,
}

impl Scripted {
    fn matches(&self, req: &Request, path: &str, after: bool) -> bool {
        self.after == after && self.method == req.method && path.contains(&self.path)
    }
}

#[derive(Default)]
struct State {
    /// Notes per merge request iid, oldest first.
    notes: BTreeMap<u64, Vec<Value>>,
    next_note: u64,
    /// Commit statuses by `(sha, name)`.
    statuses: BTreeMap<(String, String), String>,
    script: Vec<Scripted>,
    /// Pipelines `(id, sha, ref)`; when there are any, a status's `pipeline_id` must name one
    /// with the status's commit and (when given) ref, as GitLab requires.
    pipelines: Vec<(u64, String, String)>,
    /// Bodies that did not match their schema (the mock also answers them with 400).
    violations: Vec<String>,
}

/// A running mock.
pub struct MockGitlab {
    server: TestServer,
    recorder: Recorder,
    state: Arc<Mutex<State>>,
    prefix: String,
}

impl MockGitlab {
    /// Starts a mock for `setup`.
    pub fn start(setup: Setup) -> MockGitlab {
        let recorder = Recorder::default();
        let state = Arc::new(Mutex::new(State {
            next_note: 100,
            ..State::default()
        }));
        let schemas = Arc::new(Schemas {
            status: (Schema::draft7(STATUS_SCHEMA), schema_types(STATUS_SCHEMA)),
            create: (
                Schema::draft7(NOTE_CREATE_SCHEMA),
                schema_types(NOTE_CREATE_SCHEMA),
            ),
            edit: (
                Schema::draft7(NOTE_EDIT_SCHEMA),
                schema_types(NOTE_EDIT_SCHEMA),
            ),
        });
        let prefix = setup.prefix.clone();
        let (rec, st) = (recorder.clone(), state.clone());
        let server = TestServer::start(move |req| {
            rec.record(req);
            let mut st = st.lock().unwrap();
            let response = handle(&setup, &schemas, &mut st, req);
            let path = req.path().strip_prefix(&setup.prefix).unwrap_or_default();
            match st.script.iter().position(|s| s.matches(req, path, true)) {
                Some(i) => st.script.remove(i).response,
                None => response,
            }
        });
        MockGitlab {
            server,
            recorder,
            state,
            prefix,
        }
    }

    /// The API root to configure, e.g. `http://127.0.0.1:4711/api/v4`.
    pub fn api_url(&self) -> String {
        format!("{}{}", self.server.url(), self.prefix)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.recorder.requests()
    }

    /// The requests so far, as `METHOD path?query` lines (the API prefix removed).
    pub fn lines(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| {
                let target = r.target.strip_prefix(&self.prefix).unwrap_or(&r.target);
                format!("{} {target}", r.method)
            })
            .collect()
    }

    /// Forgets the requests so far.
    pub fn clear(&self) {
        self.recorder.clear();
    }

    /// Answers the next `method` request whose path contains `path` with `response`.
    pub fn script(&self, method: &str, path: &str, response: Response) {
        self.state.lock().unwrap().script.push(Scripted {
            method: method.into(),
            path: path.into(),
            response,
            after: false,
        });
    }

    /// Serves the next `method` request whose path contains `path` as usual, then answers it
    /// with `response` (GitLab acted, the answer says otherwise).
    pub fn script_after(&self, method: &str, path: &str, response: Response) {
        self.state.lock().unwrap().script.push(Scripted {
            method: method.into(),
            path: path.into(),
            response,
            after: true,
        });
    }

    /// The notes on merge request `iid`.
    pub fn notes(&self, iid: u64) -> Vec<Value> {
        self.state
            .lock()
            .unwrap()
            .notes
            .get(&iid)
            .cloned()
            .unwrap_or_default()
    }

    /// Adds a note as someone else (or a system note), returning its id.
    pub fn add_note(&self, iid: u64, body: &str, system: bool, author: &str) -> u64 {
        let mut st = self.state.lock().unwrap();
        st.next_note += 1;
        let id = st.next_note;
        let note = note_json(id, body, system, author);
        st.notes.entry(iid).or_default().push(note);
        id
    }

    /// The state of commit status `name` on `sha`.
    pub fn status(&self, sha: &str, name: &str) -> Option<String> {
        let st = self.state.lock().unwrap();
        st.statuses.get(&(sha.into(), name.into())).cloned()
    }

    /// Registers a pipeline (see `State::pipelines`).
    pub fn pipeline(&self, id: u64, sha: &str, git_ref: &str) {
        let mut st = self.state.lock().unwrap();
        st.pipelines.push((id, sha.into(), git_ref.into()));
    }

    /// Bodies that did not match their schema.
    pub fn violations(&self) -> Vec<String> {
        self.state.lock().unwrap().violations.clone()
    }
}

struct Schemas {
    status: (Schema, BTreeMap<String, String>),
    create: (Schema, BTreeMap<String, String>),
    edit: (Schema, BTreeMap<String, String>),
}

/// Each property's declared `type`, for coercing form values.
fn schema_types(text: &str) -> BTreeMap<String, String> {
    let schema: Value = serde_json::from_str(text).unwrap();
    schema["properties"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v["type"].as_str()?.to_string())))
        .collect()
}

fn note_json(id: u64, body: &str, system: bool, author: &str) -> Value {
    json!({
        "id": id,
        "type": null,
        "body": body,
        "author": {"id": 7, "username": author, "name": author},
        "created_at": "2026-11-23T12:00:00.000Z",
        "updated_at": "2026-11-23T12:00:00.000Z",
        "system": system,
        "noteable_type": "MergeRequest",
        "resolvable": false,
        "internal": false,
    })
}

fn message(status: u16, text: &str) -> Response {
    Response::json(status, &json!({ "message": text }))
}

fn handle(setup: &Setup, schemas: &Schemas, st: &mut State, req: &Request) -> Response {
    let Some(path) = req.path().strip_prefix(&setup.prefix) else {
        return message(404, "404 Not Found");
    };
    let (header, other) = match setup.auth {
        Auth::Private => ("private-token", "job-token"),
        Auth::Job => ("job-token", "private-token"),
    };
    if req.header(header) != Some(setup.token.as_str())
        || req.header(other).is_some()
        || req.header("authorization").is_some()
    {
        return message(401, "401 Unauthorized");
    }
    if let Some(i) = st.script.iter().position(|s| s.matches(req, path, false)) {
        return st.script.remove(i).response;
    }
    if req.method == "GET" && path == "/user" {
        return Response::json(200, &json!({"id": 7, "username": "project_42_bot"}));
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let ["projects", project, rest @ ..] = segments.as_slice() else {
        return message(404, "404 Not Found");
    };
    if *project != setup.project_segment {
        return message(404, "404 Project Not Found");
    }
    if setup.auth == Auth::Job {
        // GitLab does not let job tokens call these endpoints.
        return message(403, "403 Forbidden");
    }
    match (req.method.as_str(), rest) {
        ("POST", ["statuses", sha]) => {
            let body = match checked(req, &schemas.status, st) {
                Ok(body) => body,
                Err(response) => return response,
            };
            if let Some(id) = body["pipeline_id"].as_u64() {
                let git_ref = body["ref"].as_str();
                let found = st.pipelines.iter().any(|(pid, psha, pref)| {
                    *pid == id && psha == sha && git_ref.is_none_or(|r| r == pref)
                });
                if !found && !st.pipelines.is_empty() {
                    return message(404, "404 Pipeline for pipeline_id, sha and ref Not Found");
                }
            }
            let state = body["state"].as_str().unwrap_or_default().to_string();
            let name = body["name"]
                .as_str()
                .or(body["context"].as_str())
                .unwrap_or("default")
                .to_string();
            let key = (sha.to_string(), name.clone());
            if st.statuses.get(&key) == Some(&state) {
                let event = match state.as_str() {
                    "pending" => "enqueue",
                    "running" => "run",
                    "success" => "succeed",
                    "failed" => "drop",
                    "canceled" => "cancel",
                    _ => "skip",
                };
                return message(
                    400,
                    &format!(
                        "Cannot transition status via :{event} from :{state} (Reason(s): Status cannot transition via \"{event}\")"
                    ),
                );
            }
            st.statuses.insert(key, state.clone());
            Response::json(
                201,
                &json!({"id": 93, "sha": sha, "ref": body["ref"], "status": state, "name": name,
                        "target_url": body["target_url"], "description": body["description"]}),
            )
        }
        ("GET", ["merge_requests", iid, "notes"]) => {
            let Ok(iid) = iid.parse::<u64>() else {
                return message(404, "404 Not Found");
            };
            let query = form(req.target.split_once('?').map_or("", |(_, q)| q));
            let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let per_page: usize = query
                .get("per_page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(20)
                .min(100);
            let mut notes = st.notes.get(&iid).cloned().unwrap_or_default();
            if query.get("sort").map(String::as_str) != Some("asc") {
                notes.reverse();
            }
            let total = notes.len();
            let page_notes: Vec<Value> = notes
                .into_iter()
                .skip((page.max(1) - 1) * per_page)
                .take(per_page)
                .collect();
            let mut response = Response::json(200, &Value::Array(page_notes))
                .with_header("X-Total", &total.to_string())
                .with_header("X-Page", &page.to_string())
                .with_header("X-Per-Page", &per_page.to_string());
            if page * per_page < total {
                response = response.with_header("X-Next-Page", &(page + 1).to_string());
            }
            response
        }
        ("POST", ["merge_requests", iid, "notes"]) => {
            let Ok(iid) = iid.parse::<u64>() else {
                return message(404, "404 Not Found");
            };
            let body = match checked(req, &schemas.create, st) {
                Ok(body) => body,
                Err(response) => return response,
            };
            st.next_note += 1;
            let note = note_json(
                st.next_note,
                body["body"].as_str().unwrap_or_default(),
                false,
                "project_42_bot",
            );
            st.notes.entry(iid).or_default().push(note.clone());
            Response::json(201, &note)
        }
        ("PUT", ["merge_requests", iid, "notes", id]) => {
            let (Ok(iid), Ok(id)) = (iid.parse::<u64>(), id.parse::<u64>()) else {
                return message(404, "404 Not Found");
            };
            let body = match checked(req, &schemas.edit, st) {
                Ok(body) => body,
                Err(response) => return response,
            };
            let notes = st.notes.entry(iid).or_default();
            let Some(note) = notes.iter_mut().find(|n| n["id"] == id) else {
                return message(404, "404 Note Not Found");
            };
            if note["author"]["username"] != "project_42_bot" {
                return message(403, "403 Forbidden");
            }
            note["body"] = body["body"].clone();
            note["updated_at"] = json!("2026-11-23T12:05:00.000Z");
            Response::json(200, note)
        }
        _ => message(404, "404 Not Found"),
    }
}

/// The request's form body as JSON, checked against its schema; a 400 answer when it does not
/// match (and the violation recorded for the test).
fn checked(
    req: &Request,
    (schema, types): &(Schema, BTreeMap<String, String>),
    st: &mut State,
) -> Result<Value, Response> {
    let content_type = req.header("content-type").unwrap_or_default();
    let body = if content_type.starts_with("application/x-www-form-urlencoded") {
        let fields = form(&req.text());
        let object = fields
            .into_iter()
            .map(|(k, v)| {
                let value = match types.get(&k).map(String::as_str) {
                    Some("integer") => v.parse::<i64>().map_or(json!(v), |n| json!(n)),
                    Some("number") => v.parse::<f64>().map_or(json!(v), |n| json!(n)),
                    Some("boolean") => match v.as_str() {
                        "true" => json!(true),
                        "false" => json!(false),
                        _ => json!(v),
                    },
                    _ => json!(v),
                };
                (k, value)
            })
            .collect();
        Value::Object(object)
    } else if content_type.starts_with("application/json") {
        req.json()
    } else {
        Value::Null
    };
    match schema.check(&body) {
        Ok(()) => Ok(body),
        Err(why) => {
            let text = format!("{} {}: {why}", req.method, req.path());
            st.violations.push(text.clone());
            Err(message(400, &text))
        }
    }
}

/// Decodes `application/x-www-form-urlencoded` text (a repeated key keeps its last value).
pub fn form(text: &str) -> BTreeMap<String, String> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).expect("form values are UTF-8")
}
