//! A mock Azure DevOps for one pull request: it checks every request (method, path with
//! `api-version`, `Authorization`, and the body against the published request schemas in
//! `testkit/fixtures/azure-devops/`), answers iterations, keeps statuses and threads in memory so
//! updates are real, and can be scripted to fail.

use crate::http::{Recorder, Request, Response, TestServer};
use crate::schema::Schema;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A fixture file's text.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/azure-devops")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The published request schema for `operation` (`Pull_Request_Statuses_Create`, …).
pub fn schema(operation: &str) -> Schema {
    Schema::draft7(&fixture(&format!("{operation}.request.schema.json")))
}

/// What the mock holds.
pub struct State {
    /// The pull request's API path, e.g.
    /// `/acme/Fabrikam%20Fiber/_apis/git/repositories/r1/pullRequests/17`.
    pub prefix: String,
    /// The `Authorization` header every request must carry.
    pub authorization: String,
    /// `(iteration id, source commit)`.
    pub iterations: Vec<(u64, String)>,
    /// Every status posted (the request bodies).
    pub statuses: Vec<Value>,
    /// The threads, as Azure DevOps lists them.
    pub threads: Vec<Value>,
    /// Answers given before any handling, in order (failures to script).
    pub script: VecDeque<Response>,
    /// Requests that broke a rule (they were answered with 400).
    pub violations: Vec<String>,
    next_id: u64,
}

/// A running mock.
pub struct MockAzure {
    pub server: TestServer,
    pub state: Arc<Mutex<State>>,
    pub recorder: Recorder,
}

impl MockAzure {
    /// Serves the pull request at `prefix` (a path), accepting `authorization` only.
    pub fn start(prefix: &str, authorization: &str, iterations: Vec<(u64, String)>) -> MockAzure {
        let state = Arc::new(Mutex::new(State {
            prefix: prefix.to_string(),
            authorization: authorization.to_string(),
            iterations,
            statuses: Vec::new(),
            threads: Vec::new(),
            script: VecDeque::new(),
            violations: Vec::new(),
            next_id: 100,
        }));
        let recorder = Recorder::default();
        let schemas = Arc::new((
            schema("Pull_Request_Statuses_Create"),
            schema("Pull_Request_Threads_Create"),
        ));
        let (shared, rec) = (state.clone(), recorder.clone());
        let server = TestServer::start(move |req| {
            rec.record(req);
            let mut state = shared.lock().unwrap();
            if let Some(answer) = state.script.pop_front() {
                return answer;
            }
            match handle(&mut state, &schemas.0, &schemas.1, req) {
                Ok(answer) => answer,
                Err(why) => {
                    let why = format!("{} {}: {why}", req.method, req.target);
                    state.violations.push(why.clone());
                    Response::json(400, &azure_error(&why))
                }
            }
        });
        MockAzure {
            server,
            state,
            recorder,
        }
    }

    /// Queues answers given before normal handling.
    pub fn script(&self, answers: impl IntoIterator<Item = Response>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    /// The requests so far as `METHOD target`.
    pub fn calls(&self) -> Vec<String> {
        self.recorder
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.target))
            .collect()
    }

    /// The statuses posted so far.
    pub fn statuses(&self) -> Vec<Value> {
        self.state.lock().unwrap().statuses.clone()
    }

    /// The threads.
    pub fn threads(&self) -> Vec<Value> {
        self.state.lock().unwrap().threads.clone()
    }

    /// Adds a thread as another user (or an older cavra) left it.
    pub fn add_thread(&self, content: &str, status: &str, properties: Option<Value>) -> u64 {
        let mut state = self.state.lock().unwrap();
        let (thread_id, comment_id) = (state.id(), state.id());
        let mut thread = json!({
            "id": thread_id,
            "status": status,
            "isDeleted": false,
            "comments": [comment(comment_id, 0, content)],
        });
        if let Some(p) = properties {
            thread["properties"] = p;
        }
        state.threads.push(thread);
        thread_id
    }

    /// Panics when a request broke a rule.
    pub fn assert_clean(&self) {
        let violations = &self.state.lock().unwrap().violations;
        assert!(violations.is_empty(), "bad requests: {violations:#?}");
    }
}

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// The shape of Azure DevOps' error answers.
pub fn azure_error(message: &str) -> Value {
    json!({
        "$id": "1",
        "innerException": null,
        "message": message,
        "typeName": "Microsoft.TeamFoundation.Git.Server.GitPullRequestNotFoundException, Microsoft.TeamFoundation.Git.Server",
        "typeKey": "GitPullRequestNotFoundException",
        "errorCode": 0,
        "eventId": 3000
    })
}

fn comment(id: u64, parent: u64, content: &str) -> Value {
    json!({
        "id": id,
        "parentCommentId": parent,
        "author": {"displayName": "Project Collection Build Service (acme)", "id": "7a7b"},
        "content": content,
        "publishedDate": "2026-11-23T12:00:00Z",
        "lastUpdatedDate": "2026-11-23T12:00:00Z",
        "commentType": "text",
        "isDeleted": false,
    })
}

const THREAD_STATUSES: &[&str] = &[
    "unknown", "active", "fixed", "wontFix", "closed", "byDesign", "pending",
];

fn handle(
    state: &mut State,
    status_schema: &Schema,
    thread_schema: &Schema,
    req: &Request,
) -> Result<Response, String> {
    if req.header("authorization") != Some(state.authorization.as_str()) {
        return Ok(Response {
            status: 203,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: b"<html><head><title>Azure DevOps Services | Sign In</title></head></html>"
                .to_vec(),
            close_delimited: false,
        });
    }
    let rest = req
        .path()
        .strip_prefix(state.prefix.as_str())
        .ok_or("not this pull request's path")?
        .to_string();
    let query = req.target.split_once('?').map(|(_, q)| q);
    if query != Some("api-version=7.1") {
        return Err(format!("query {query:?}, want api-version=7.1"));
    }
    if req.method != "GET" && req.header("content-type") != Some("application/json") {
        return Err(format!("content-type {:?}", req.header("content-type")));
    }
    let body = req.json();
    let parts: Vec<&str> = rest.split('/').skip(1).collect();
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["iterations"]) => {
            let value: Vec<Value> = state
                .iterations
                .iter()
                .map(|(id, commit)| {
                    json!({"id": id, "sourceRefCommit": {"commitId": commit}, "commonRefCommit": {"commitId": "0000"}})
                })
                .collect();
            Ok(Response::json(
                200,
                &json!({"count": value.len(), "value": value}),
            ))
        }
        ("POST", ["statuses"]) => {
            status_schema.check(&body)?;
            for field in ["state", "description", "context"] {
                if body.get(field).is_none() {
                    return Err(format!("no {field}"));
                }
            }
            if let Some(id) = body.get("iterationId") {
                let id = id.as_u64().ok_or("iterationId is not a number")?;
                if !state.iterations.iter().any(|(i, _)| *i == id) {
                    return Err(format!("no iteration {id}"));
                }
            }
            state.statuses.push(body.clone());
            let mut answer = body;
            answer["id"] = json!(state.statuses.len());
            Ok(Response::json(200, &answer))
        }
        ("GET", ["threads"]) => Ok(Response::json(
            200,
            &json!({"count": state.threads.len(), "value": state.threads}),
        )),
        ("POST", ["threads"]) => {
            thread_schema.check(&body)?;
            let comments = body["comments"].as_array().ok_or("no comments")?;
            if comments.len() != 1 || comments[0]["parentCommentId"] != json!(0) {
                return Err("want one top-level comment".into());
            }
            let content = comments[0]["content"].as_str().ok_or("no content")?;
            if content.chars().count() > 150_000 {
                return Err("comment longer than 150,000 characters".into());
            }
            let thread_id = state.id();
            let comment_id = state.id();
            let mut thread = json!({
                "id": thread_id,
                "status": body.get("status").cloned().unwrap_or(json!("active")),
                "isDeleted": false,
                "comments": [comment(comment_id, 0, content)],
            });
            if let Some(p) = body.get("properties") {
                thread["properties"] = p.clone();
            }
            state.threads.push(thread.clone());
            Ok(Response::json(200, &thread))
        }
        ("PATCH", ["threads", thread, "comments", comment_id]) => {
            let object = body.as_object().ok_or("the body is not an object")?;
            let content = object
                .get("content")
                .and_then(Value::as_str)
                .ok_or("no content")?;
            if object.len() != 1 {
                return Err(format!("unexpected fields: {body}"));
            }
            if content.chars().count() > 150_000 {
                return Err("comment longer than 150,000 characters".into());
            }
            let thread = find(state, thread)?;
            let comments = thread["comments"].as_array_mut().unwrap();
            let comment = comments
                .iter_mut()
                .find(|c| {
                    c["id"]
                        .as_u64()
                        .is_some_and(|i| i.to_string() == *comment_id)
                })
                .ok_or("no such comment")?;
            comment["content"] = json!(content);
            Ok(Response::json(200, comment))
        }
        ("PATCH", ["threads", thread]) => {
            let object = body.as_object().ok_or("the body is not an object")?;
            let status = object
                .get("status")
                .and_then(Value::as_str)
                .ok_or("no status")?;
            if object.len() != 1 || !THREAD_STATUSES.contains(&status) {
                return Err(format!("bad thread update: {body}"));
            }
            let thread = find(state, thread)?;
            thread["status"] = json!(status);
            Ok(Response::json(200, thread))
        }
        _ => Ok(Response::json(
            404,
            &azure_error("The requested resource does not exist."),
        )),
    }
}

fn find<'a>(state: &'a mut State, id: &str) -> Result<&'a mut Value, String> {
    state
        .threads
        .iter_mut()
        .find(|t| t["id"].as_u64().is_some_and(|i| i.to_string() == id))
        .ok_or_else(|| format!("no thread {id}"))
}
