//! Azure DevOps reports against a local mock (`cavra_testkit::forges::azure`): real verdicts from a temporary
//! git repository, requests checked against the published request schemas.

use cavra_forge::azure::{self, AzureAuth, AzureConfig, PrStatusState};
use cavra_forge::present::{self, GateState, NOTE_MARKER};
use cavra_forge::retry::RetryPolicy;
use cavra_forge::{ForgeError, Posted, Token};
use cavra_gate::Verdict;
use cavra_testkit::forges::azure::{MockAzure, azure_error, fixture, schema};
use cavra_testkit::http::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

mod common;

use common::verdicts;

const TOKEN: &str = "oauth-system-access-token-SECRET-0123456789";
const PAT: &str = "testpat-0123456789abcdef";
/// base64(":testpat-0123456789abcdef").
const PAT_BASIC: &str = "Basic OnRlc3RwYXQtMDEyMzQ1Njc4OWFiY2RlZg==";
const REPO: &str = "b92c8408-a0c9-4292-88af-bc005a1b8272";
const PROJECT: &str = "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c";
const PR: u64 = 17;

// ---------------------------------------------------------------------------------------------
// Real verdicts

fn summary(v: &Verdict) -> String {
    present::summary(v, None).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Set-up

/// The pull request's API path under a collection path and project segment.
fn prefix(collection_path: &str, project_segment: &str) -> String {
    format!("{collection_path}{project_segment}/_apis/git/repositories/{REPO}/pullRequests/{PR}")
}

/// Iterations 1..=3; iteration 2's source commit is `head` (neither the first nor the latest).
fn iterations(head: &str) -> Vec<(u64, String)> {
    vec![
        (1, "1111111111111111111111111111111111111111".into()),
        (2, head.into()),
        (3, "3333333333333333333333333333333333333333".into()),
    ]
}

fn config(mock: &MockAzure, source_commit: Option<&str>) -> AzureConfig {
    AzureConfig {
        collection_url: format!("{}/acme/", mock.server.url()),
        project: PROJECT.into(),
        repository_id: REPO.into(),
        pull_request_id: PR,
        source_commit: source_commit.map(str::to_string),
        token: Token::new(TOKEN),
        auth: AzureAuth::Bearer,
        target_url: Some(
            "https://dev.azure.com/acme/Fabrikam%20Fiber/_build/results?buildId=42".into(),
        ),
        api_version: "7.1".into(),
        retry: RetryPolicy::fast(),
    }
}

fn mock_for(head: &str) -> MockAzure {
    MockAzure::start(
        &prefix("/acme/", PROJECT),
        &format!("Bearer {TOKEN}"),
        iterations(head),
    )
}

fn assert_no_token(text: &str) {
    assert!(!text.contains(TOKEN), "the token leaked: {text}");
    assert!(!text.contains(PAT), "the PAT leaked: {text}");
}

fn api(path: &str) -> String {
    format!("{}{path}?api-version=7.1", prefix("/acme/", PROJECT))
}

// ---------------------------------------------------------------------------------------------
// The copied schemas are real checks

#[test]
fn the_published_examples_fit_the_copied_schema_and_wrong_bodies_do_not() {
    let statuses = schema("Pull_Request_Statuses_Create");
    for example in [
        "httpExamples/POST_git_pullRequestStatuses_status.json",
        "httpExamples/POST_git_pullRequestStatuses_statusIterationInBody.json",
    ] {
        let doc: Value = serde_json::from_str(&fixture(example)).unwrap();
        statuses.check(&doc["parameters"]["body"]).unwrap();
    }
    assert!(statuses.check(&json!({"state": "passed"})).is_err());
    assert!(statuses.check(&json!({"iterationId": "3"})).is_err());
    let threads = schema("Pull_Request_Threads_Create");
    threads
        .check(&json!({"comments": [{"parentCommentId": 0, "content": "x", "commentType": "text"}], "status": "active"}))
        .unwrap();
    assert!(threads.check(&json!({"status": "resolved"})).is_err());
    assert!(
        threads
            .check(&json!({"comments": [{"commentType": "markdown"}]}))
            .is_err()
    );
}

// ---------------------------------------------------------------------------------------------
// Statuses and the thread

#[test]
fn pending_then_failed_on_the_judged_iteration_with_a_new_active_thread() {
    let v = &verdicts().deny;
    let head = v.revisions.head.as_str();
    let mock = mock_for(head);
    let cfg = config(&mock, Some(head));

    let posted = azure::pending(&cfg, head).unwrap();
    assert_eq!(
        posted.actions,
        [format!(
            "pull request {PR} status cavra/gate = pending (iteration 2)"
        )]
    );
    let posted = azure::report(&cfg, v, &summary(v)).unwrap();
    mock.assert_clean();
    let thread_id = mock.threads()[0]["id"].as_u64().unwrap();
    assert_eq!(
        posted.actions,
        [
            format!("pull request {PR} status cavra/gate = failed (iteration 2)"),
            format!("pull request {PR} thread {thread_id} created (active)"),
        ]
    );
    assert_eq!(
        posted.url.as_deref(),
        Some(
            format!(
                "{}/acme/{PROJECT}/_git/{REPO}/pullrequest/{PR}?discussionId={thread_id}",
                mock.server.url()
            )
            .as_str()
        )
    );
    assert_eq!(
        mock.calls(),
        [
            format!("GET {}", api("/iterations")),
            format!("POST {}", api("/statuses")),
            format!("GET {}", api("/iterations")),
            format!("POST {}", api("/statuses")),
            format!("GET {}", api("/threads")),
            format!("POST {}", api("/threads")),
        ]
    );
    let target = "https://dev.azure.com/acme/Fabrikam%20Fiber/_build/results?buildId=42";
    assert_eq!(
        mock.statuses(),
        [
            json!({
                "state": "pending",
                "description": "cavra gate is running",
                "context": {"genre": "cavra", "name": "gate"},
                "targetUrl": target,
                "iterationId": 2,
            }),
            json!({
                "state": "failed",
                "description": cavra_report::title(v),
                "context": {"genre": "cavra", "name": "gate"},
                "targetUrl": target,
                "iterationId": 2,
            }),
        ]
    );
    for request in mock.recorder.requests() {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
    let created = mock.recorder.requests()[5].json();
    assert_eq!(
        created,
        json!({
            "comments": [{"parentCommentId": 0, "content": summary(v), "commentType": "text"}],
            "status": "active",
            "properties": {"cavra.gate": {"$type": "System.String", "$value": "1"}},
        })
    );
    let threads = mock.threads();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0]["status"], "active");
    assert!(
        threads[0]["comments"][0]["content"]
            .as_str()
            .unwrap()
            .starts_with(NOTE_MARKER)
    );
    assert_no_token(&format!("{posted:?} {cfg:?}"));
}

#[test]
fn gate_states_map_to_status_states() {
    assert_eq!(
        PrStatusState::of(GateState::Success),
        PrStatusState::Succeeded
    );
    assert_eq!(
        PrStatusState::of(GateState::Neutral),
        PrStatusState::Succeeded
    );
    assert_eq!(
        PrStatusState::of(GateState::ActionRequired),
        PrStatusState::Failed
    );
    assert_eq!(PrStatusState::of(GateState::Failure), PrStatusState::Failed);
    assert_eq!(PrStatusState::Pending.as_str(), "pending");

    // A verdict waiting for approval fails the status (the policy blocks until approved).
    let v = &verdicts().approval;
    let head = v.revisions.head.as_str();
    let mock = mock_for(head);
    azure::report(&config(&mock, Some(head)), v, &summary(v)).unwrap();
    mock.assert_clean();
    assert_eq!(mock.statuses()[0]["state"], "failed");
    assert!(
        mock.statuses()[0]["description"]
            .as_str()
            .unwrap()
            .contains("awaiting approval")
    );
    assert_eq!(mock.threads()[0]["status"], "active");
}

#[test]
fn the_thread_is_updated_in_place_and_resolved_when_the_verdict_passes() {
    let all = verdicts();
    let head = all.deny.revisions.head.as_str();
    let mock = mock_for(head);
    // Someone else's thread, which must be left alone.
    let foreign = mock.add_thread("LGTM, but see the key file", "active", None);
    let cfg = config(&mock, Some(head));

    azure::report(&cfg, &all.deny, &summary(&all.deny)).unwrap();
    let ours = mock.threads()[1]["id"].as_u64().unwrap();
    let comment = mock.threads()[1]["comments"][0]["id"].as_u64().unwrap();

    // The fix: the same pull request now passes.
    mock.recorder.clear();
    let cfg = config(&mock, Some(&all.pass.revisions.head));
    let posted = azure::report(&cfg, &all.pass, &summary(&all.pass)).unwrap();
    mock.assert_clean();
    assert_eq!(
        posted.actions,
        [
            // The pass head is no iteration's source commit: the latest iteration.
            format!("pull request {PR} status cavra/gate = succeeded (iteration 3)"),
            format!("pull request {PR} thread {ours} updated, fixed"),
        ]
    );
    assert_eq!(
        mock.calls(),
        [
            format!("GET {}", api("/iterations")),
            format!("POST {}", api("/statuses")),
            format!("GET {}", api("/threads")),
            format!(
                "PATCH {}",
                api(&format!("/threads/{ours}/comments/{comment}"))
            ),
            format!("PATCH {}", api(&format!("/threads/{ours}"))),
        ]
    );
    let requests = mock.recorder.requests();
    assert_eq!(requests[3].json(), json!({"content": summary(&all.pass)}));
    assert_eq!(requests[4].json(), json!({"status": "fixed"}));
    let threads = mock.threads();
    assert_eq!(threads.len(), 2, "still one cavra thread");
    assert_eq!(threads[0]["id"], foreign);
    assert_eq!(
        threads[0]["comments"][0]["content"],
        "LGTM, but see the key file"
    );
    assert_eq!(threads[1]["status"], "fixed");
    assert_eq!(threads[1]["comments"][0]["content"], summary(&all.pass));
    assert_eq!(mock.statuses().last().unwrap()["state"], "succeeded");

    // The same verdict again: nothing to change in the thread.
    mock.recorder.clear();
    let posted = azure::report(&cfg, &all.pass, &summary(&all.pass)).unwrap();
    assert_eq!(
        posted.actions[1],
        format!("pull request {PR} thread {ours} unchanged")
    );
    assert!(!mock.calls().iter().any(|c| c.starts_with("PATCH")));

    // A later push needs approval: the thread becomes active again.
    mock.recorder.clear();
    let posted = azure::report(&cfg, &all.approval, &summary(&all.approval)).unwrap();
    mock.assert_clean();
    assert_eq!(
        posted.actions[1],
        format!("pull request {PR} thread {ours} updated, active")
    );
    assert_eq!(mock.threads()[1]["status"], "active");
    assert_eq!(mock.threads().len(), 2);
}

#[test]
fn a_thread_is_found_by_its_marker_or_its_property() {
    let v = &verdicts().pass;
    let head = v.revisions.head.as_str();

    // An older cavra thread without the property: found by the marker in its first comment.
    let mock = mock_for(head);
    let old = mock.add_thread(&format!("{NOTE_MARKER}\nold report"), "active", None);
    let posted = azure::report(&config(&mock, Some(head)), v, &summary(v)).unwrap();
    mock.assert_clean();
    assert_eq!(
        posted.actions[1],
        format!("pull request {PR} thread {old} updated, fixed")
    );
    assert_eq!(mock.threads().len(), 1);

    // A thread with the property whose text was edited by hand: found by the property.
    let mock = mock_for(head);
    let marked = mock.add_thread(
        "edited by someone",
        "closed",
        Some(json!({"cavra.gate": {"$type": "System.String", "$value": "1"}})),
    );
    let posted = azure::report(&config(&mock, Some(head)), v, &summary(v)).unwrap();
    assert_eq!(
        posted.actions[1],
        format!("pull request {PR} thread {marked} updated")
    );
    assert_eq!(mock.threads()[0]["status"], "closed");
    assert_eq!(mock.threads().len(), 1);

    // Both: the thread with the property is cavra's.
    let mock = mock_for(head);
    mock.add_thread(&format!("{NOTE_MARKER}\nquoted by hand"), "active", None);
    let marked = mock.add_thread(
        &format!("{NOTE_MARKER}\nold report"),
        "active",
        Some(json!({"cavra.gate": {"$type": "System.String", "$value": "1"}})),
    );
    let posted = azure::report(&config(&mock, Some(head)), v, &summary(v)).unwrap();
    assert_eq!(
        posted.actions[1],
        format!("pull request {PR} thread {marked} updated, fixed")
    );
    assert_eq!(
        mock.threads()[0]["comments"][0]["content"],
        format!("{NOTE_MARKER}\nquoted by hand")
    );

    // A passing verdict on a pull request with no cavra thread: created resolved.
    let mock = mock_for(head);
    let posted = azure::report(&config(&mock, Some(head)), v, &summary(v)).unwrap();
    let id = mock.threads()[0]["id"].as_u64().unwrap();
    assert_eq!(
        posted.actions[1],
        format!("pull request {PR} thread {id} created (closed)")
    );
    assert_eq!(mock.threads()[0]["status"], "closed");
}

#[test]
fn a_long_summary_is_cut_to_fit_a_comment() {
    let v = &verdicts().deny;
    let head = v.revisions.head.as_str();
    let mock = mock_for(head);
    let long = format!("{}{}", summary(v), "| row | cell |\n".repeat(20_000));
    azure::report(&config(&mock, Some(head)), v, &long).unwrap();
    mock.assert_clean();
    let content = mock.threads()[0]["comments"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(content.chars().count() <= 150_000);
    assert!(content.starts_with(NOTE_MARKER));
    assert!(content.contains("truncated"));
}

#[test]
fn without_a_matching_commit_the_latest_iteration_and_without_iterations_none() {
    let v = &verdicts().deny;
    let mock = mock_for("not-the-head");
    // No source commit configured: the verdict's head is looked for, then the latest is used.
    let posted = azure::report(&config(&mock, None), v, &summary(v)).unwrap();
    assert!(posted.actions[0].ends_with("(iteration 3)"), "{posted:?}");

    // The source commit wins over the verdict's head (a PR build checks out a merge commit).
    let mock = mock_for(&v.revisions.head);
    mock.state.lock().unwrap().iterations[0].1 = "abcdef0123".into();
    let cfg = config(&mock, Some("ABCDEF0123"));
    let posted = azure::report(&cfg, v, &summary(v)).unwrap();
    assert!(posted.actions[0].ends_with("(iteration 1)"), "{posted:?}");

    let mock = MockAzure::start(
        &prefix("/acme/", PROJECT),
        &format!("Bearer {TOKEN}"),
        vec![],
    );
    let posted = azure::pending(&config(&mock, None), "abc").unwrap();
    mock.assert_clean();
    assert_eq!(
        posted.actions,
        [format!("pull request {PR} status cavra/gate = pending")]
    );
    assert!(mock.statuses()[0].get("iterationId").is_none());
}

// ---------------------------------------------------------------------------------------------
// Servers, projects and tokens

#[test]
fn an_azure_devops_server_collection_and_a_project_name_with_spaces() {
    let v = &verdicts().deny;
    let head = v.revisions.head.as_str();
    let mock = MockAzure::start(
        &prefix("/tfs/DefaultCollection/", "Fabrikam%20Fiber%20%26%20Co"),
        &format!("Bearer {TOKEN}"),
        iterations(head),
    );
    let cfg = AzureConfig {
        collection_url: format!("{}/tfs/DefaultCollection/", mock.server.url()),
        project: "Fabrikam Fiber & Co".into(),
        ..config(&mock, Some(head))
    };
    let posted = azure::report(&cfg, v, &summary(v)).unwrap();
    mock.assert_clean();
    assert_eq!(posted.actions.len(), 2);
    assert!(
        mock.calls()
            .iter()
            .all(|c| c.contains("/tfs/DefaultCollection/Fabrikam%20Fiber%20%26%20Co/_apis/git/")),
        "{:#?}",
        mock.calls()
    );
}

#[test]
fn a_personal_access_token_is_sent_as_basic_auth() {
    let v = &verdicts().pass;
    let head = v.revisions.head.as_str();
    let mock = MockAzure::start(
        &prefix("/acme/", "Fabrikam%20Fiber"),
        PAT_BASIC,
        iterations(head),
    );
    let url = mock.server.url();
    let env = move |name: &str| -> Option<String> {
        Some(match name {
            "SYSTEM_COLLECTIONURI" => format!("{url}/acme/"),
            "SYSTEM_TEAMPROJECT" => "Fabrikam Fiber".into(),
            "BUILD_REPOSITORY_ID" => REPO.into(),
            "BUILD_REPOSITORY_PROVIDER" => "TfsGit".into(),
            "SYSTEM_PULLREQUEST_PULLREQUESTID" => PR.to_string(),
            "SYSTEM_PULLREQUEST_SOURCECOMMITID" => head.to_string(),
            "CAVRA_AZURE_TOKEN" => format!("{PAT}\n"),
            _ => return None,
        })
    };
    let mut cfg = AzureConfig::from_env(&env).unwrap();
    assert_eq!(cfg.auth, AzureAuth::Basic);
    cfg.retry = RetryPolicy::fast();
    let posted = azure::report(&cfg, v, &summary(v)).unwrap();
    mock.assert_clean();
    assert_eq!(
        posted.actions[0],
        format!("pull request {PR} status cavra/gate = succeeded (iteration 2)")
    );
    assert_no_token(&format!("{posted:?} {cfg:?}"));
}

#[test]
fn configuration_from_the_pipeline_variables() {
    let vars: HashMap<&str, &str> = HashMap::from([
        ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/acme/"),
        ("SYSTEM_TEAMPROJECT", "Fabrikam Fiber"),
        ("SYSTEM_TEAMPROJECTID", PROJECT),
        ("BUILD_REPOSITORY_ID", REPO),
        ("BUILD_REPOSITORY_PROVIDER", "TfsGit"),
        ("BUILD_BUILDID", "4711"),
        ("SYSTEM_PULLREQUEST_PULLREQUESTID", "17"),
        ("SYSTEM_PULLREQUEST_SOURCECOMMITID", "a1b2c3"),
        ("SYSTEM_ACCESSTOKEN", TOKEN),
    ]);
    let with = |changes: &[(&'static str, Option<&'static str>)]| {
        let mut vars = vars.clone();
        for (k, v) in changes {
            match v {
                Some(v) => vars.insert(k, v),
                None => vars.remove(k),
            };
        }
        move |k: &str| vars.get(k).map(|v| v.to_string())
    };
    let cfg = AzureConfig::from_env(&with(&[])).unwrap();
    assert_eq!(cfg.collection_url, "https://dev.azure.com/acme/");
    assert_eq!(cfg.project, PROJECT);
    assert_eq!(cfg.repository_id, REPO);
    assert_eq!(cfg.pull_request_id, 17);
    assert_eq!(cfg.source_commit.as_deref(), Some("a1b2c3"));
    assert_eq!(cfg.auth, AzureAuth::Bearer);
    assert_eq!(cfg.api_version, "7.1");
    assert_eq!(
        cfg.target_url.as_deref(),
        Some("https://dev.azure.com/acme/Fabrikam%20Fiber/_build/results?buildId=4711")
    );
    assert_no_token(&format!("{cfg:?}"));

    // The project name when there is no id.
    let cfg = AzureConfig::from_env(&with(&[("SYSTEM_TEAMPROJECTID", None)])).unwrap();
    assert_eq!(cfg.project, "Fabrikam Fiber");

    // Nothing set: every variable is named, with how to map the token.
    let err = AzureConfig::from_env(&|_| None).unwrap_err();
    assert!(matches!(err, ForgeError::Config(_)), "{err:?}");
    let text = err.to_string();
    for name in [
        "SYSTEM_COLLECTIONURI",
        "SYSTEM_TEAMPROJECTID",
        "BUILD_REPOSITORY_ID",
        "SYSTEM_PULLREQUEST_PULLREQUESTID",
        "SYSTEM_ACCESSTOKEN",
        "CAVRA_AZURE_TOKEN",
        "env:",
    ] {
        assert!(text.contains(name), "{name} not in {text}");
    }
    // Only the token missing (the usual mistake): named alone.
    let text = AzureConfig::from_env(&with(&[("SYSTEM_ACCESSTOKEN", None)]))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("SYSTEM_ACCESSTOKEN") && text.contains("env:"),
        "{text}"
    );
    assert!(!text.contains("BUILD_REPOSITORY_ID"), "{text}");

    let bad = [
        (
            ("SYSTEM_COLLECTIONURI", Some("http://ado.example.com/tfs/")),
            "https://",
        ),
        (
            ("SYSTEM_PULLREQUEST_PULLREQUESTID", Some("abc")),
            "not a pull request number",
        ),
        (("BUILD_REPOSITORY_PROVIDER", Some("GitHub")), "Azure Repos"),
        (
            ("SYSTEM_ACCESSTOKEN", Some("$(System.AccessToken)")),
            "unexpanded",
        ),
    ];
    for (change, want) in bad {
        let err = AzureConfig::from_env(&with(&[change])).unwrap_err();
        assert!(err.to_string().contains(want), "{err}");
        assert_no_token(&format!("{err} {err:?}"));
    }
    // http:// to a loopback host is allowed (a local server).
    AzureConfig::from_env(&with(&[(
        "SYSTEM_COLLECTIONURI",
        Some("http://127.0.0.1:8080/tfs/"),
    )]))
    .unwrap();
}

#[test]
fn an_http_collection_url_is_refused_before_sending_the_token() {
    let v = &verdicts().deny;
    let mock = mock_for(&v.revisions.head);
    let cfg = AzureConfig {
        collection_url: "http://ado.example.com/tfs/DefaultCollection/".into(),
        ..config(&mock, None)
    };
    let err = azure::report(&cfg, v, &summary(v)).unwrap_err();
    assert!(matches!(err, ForgeError::Config(_)), "{err:?}");
    assert!(mock.calls().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Failures

fn run_failing(answers: Vec<Response>) -> (MockAzure, Result<Posted, ForgeError>) {
    let v = &verdicts().deny;
    let head = v.revisions.head.as_str();
    let mock = mock_for(head);
    mock.script(answers);
    let result = azure::report(&config(&mock, Some(head)), v, &summary(v));
    (mock, result)
}

#[test]
fn server_errors_are_retried() {
    let (mock, result) = run_failing(vec![
        Response::json(503, &azure_error("TF400898: An internal error occurred.")),
        Response::json(500, &azure_error("TF246017: the database is busy")),
    ]);
    let posted = result.unwrap();
    mock.assert_clean();
    assert_eq!(posted.actions.len(), 2);
    let calls = mock.calls();
    assert_eq!(
        calls[..3],
        [calls[0].clone(), calls[0].clone(), calls[0].clone()]
    );
    assert_eq!(mock.statuses().len(), 1);
}

#[test]
fn throttling_waits_as_long_as_retry_after_says() {
    let started = Instant::now();
    let (mock, result) = run_failing(vec![
        Response::json(
            429,
            &azure_error("TF400733: The request has been throttled."),
        )
        .with_header("Retry-After", "1"),
    ]);
    result.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(mock.threads().len(), 1);

    // A wait longer than the policy allows fails at once, saying why.
    let (mock, result) = run_failing(vec![
        Response::json(
            429,
            &azure_error("TF400733: The request has been throttled."),
        )
        .with_header("Retry-After", "3600"),
    ]);
    let err = result.unwrap_err();
    assert_eq!(err.status(), Some(429));
    assert!(err.to_string().contains("3600s"), "{err}");
    assert_eq!(mock.calls().len(), 1);
}

#[test]
fn retries_run_out() {
    let answers = (0..4)
        .map(|_| Response::json(502, &azure_error("Bad gateway")))
        .collect();
    let (mock, result) = run_failing(answers);
    let err = result.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert!(
        err.to_string().contains("gave up after 4 attempts"),
        "{err}"
    );
    assert_eq!(mock.calls().len(), 4);
}

#[test]
fn client_errors_are_not_retried_and_say_what_azure_said() {
    let sign_in = Response {
        status: 203,
        headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
        body: b"<html><title>Azure DevOps Services | Sign In</title></html>".to_vec(),
        close_delimited: false,
    };
    let cases = [
        (
            Response::json(
                401,
                &azure_error(&format!("TF400813: The user is not authorized ({TOKEN})")),
            ),
            401,
            "TF400813",
        ),
        (sign_in, 401, "sign-in page"),
        (
            Response::json(
                403,
                &azure_error(
                    "TF401027: You need the Git 'ContributeToPullRequests' permission to perform this action.",
                ),
            ),
            403,
            "ContributeToPullRequests",
        ),
        (
            Response::json(
                404,
                &azure_error("TF401180: The requested pull request was not found."),
            ),
            404,
            "TF401180",
        ),
        (
            Response::json(409, &azure_error("TF401181: conflicting update")),
            409,
            "TF401181",
        ),
        (
            Response::json(302, &json!({}))
                .with_header("Location", "https://login.microsoftonline.com/"),
            401,
            "sign-in page",
        ),
    ];
    for (answer, status, words) in cases {
        let (mock, result) = run_failing(vec![answer]);
        let err = result.unwrap_err();
        assert_eq!(err.status(), Some(status), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with("Azure DevOps list pull request iterations: HTTP"),
            "{text}"
        );
        assert!(text.contains(words), "{words} not in {text}");
        assert_eq!(mock.calls().len(), 1, "retried: {text}");
        assert_no_token(&format!("{text} {err:?}"));
    }
}

#[test]
fn a_wrong_token_is_a_clear_401() {
    let v = &verdicts().deny;
    let head = v.revisions.head.as_str();
    let mock = mock_for(head);
    let cfg = AzureConfig {
        token: Token::new("wrong-token-0123456789"),
        ..config(&mock, Some(head))
    };
    let err = azure::pending(&cfg, head).unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(err.to_string().contains("expired or invalid"), "{err}");
    assert!(!format!("{err} {err:?}").contains("wrong-token-0123456789"));
    assert_eq!(mock.calls().len(), 1);
}

#[test]
fn an_unreachable_server_is_a_transport_error() {
    let url = {
        let mock = MockAzure::start("/", "x", vec![]);
        mock.server.url()
    };
    std::thread::sleep(Duration::from_millis(50));
    let mock = mock_for("x");
    let cfg = AzureConfig {
        collection_url: format!("{url}/acme/"),
        ..config(&mock, None)
    };
    match azure::pending(&cfg, "abc") {
        Err(err @ ForgeError::Transport { .. }) => {
            assert!(
                err.to_string()
                    .starts_with("Azure DevOps list pull request iterations")
            );
            assert_no_token(&format!("{err} {err:?}"));
        }
        // The port may have been taken by another test's server meanwhile.
        Err(ForgeError::Api { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_oversized_answer_is_refused_not_read_whole() {
    let mock = mock_for("x");
    let huge = vec![b' '; (16 << 20) + 10];
    mock.script([Response {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: huge,
        close_delimited: false,
    }]);
    let err = azure::pending(&config(&mock, None), "abc").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("larger than 16777216 bytes"), "{text}");
    assert_eq!(
        mock.calls().len(),
        1,
        "an oversized answer is not asked for again"
    );
}
