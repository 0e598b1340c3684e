//! GitHub reports against a local mock (`cavra_testkit::forges::github`): real verdicts from a temporary git
//! repository and synthetic ones with many findings; every request is checked against GitHub's
//! published request schemas, and the exact requests are asserted.

use cavra_forge::github::{
    self, GithubConfig, GithubMode, append_step_summary, pending, report, workflow_commands,
};
use cavra_forge::present;
use cavra_forge::retry::RetryPolicy;
use cavra_forge::{ForgeError, Posted, Token};
use cavra_gate::Verdict;
use cavra_report::Level;
use cavra_testkit::forges::github::{Call, MockGithub, TOKEN, fixture, github_error, schema};
use cavra_testkit::http::Response;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

mod common;

use common::{ODD_KEY, verdicts};

const DETAILS: &str = "https://github.com/octo-org/hello-world/actions/runs/7";

/// The failing verdict with `n` denied keys (one finding each) instead of its own changes.
fn with_denied_keys(n: usize) -> Verdict {
    let mut v = verdicts().fail.clone();
    let mut template = v
        .changes
        .iter()
        .find(|c| c.path == "keys/server.pem")
        .unwrap()
        .clone();
    template
        .findings
        .retain(|f| f.decision == cavra_policy::Decision::Deny);
    template.findings.truncate(1);
    v.changes = (0..n)
        .map(|i| {
            let mut c = template.clone();
            c.path = format!("keys/k{i:04}.pem");
            c
        })
        .collect();
    v.counts.changes = n;
    v.counts.findings = n;
    v.counts.deny = n;
    v.counts.require_approval = 0;
    v.counts.audit = 0;
    v.pending_approvals.clear();
    assert_eq!(cavra_report::annotations(&v).len(), n);
    v
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn config(mock: &MockGithub, mode: GithubMode) -> GithubConfig {
    GithubConfig {
        api_url: mock.api_url(),
        repository: "octo-org/hello-world".to_string(),
        token: Token::new(TOKEN),
        mode,
        details_url: Some(DETAILS.to_string()),
        retry: RetryPolicy::fast(),
    }
}

fn summary(v: &Verdict) -> String {
    present::summary(v, None).unwrap()
}

fn post(mock: &MockGithub, mode: GithubMode, v: &Verdict) -> Result<Posted, ForgeError> {
    report(&config(mock, mode), v, &summary(v))
}

fn bodies(mock: &MockGithub) -> Vec<(Call, Value)> {
    mock.calls()
        .into_iter()
        .map(|(c, r)| (c, r.json()))
        .collect()
}

fn annotations_of(body: &Value) -> &Vec<Value> {
    body["output"]["annotations"].as_array().unwrap()
}

/// No text the caller could print holds the token.
fn assert_no_token(text: &str) {
    assert!(!text.contains(TOKEN), "the token leaked: {text}");
    assert!(!text.contains("SECRET"), "the token leaked: {text}");
}

// ---------------------------------------------------------------------------------------------
// The schemas

#[test]
fn the_published_examples_validate_against_the_copied_schemas() {
    for (examples, call) in [
        ("checks_create.request.examples.json", Call::CreateCheckRun),
        (
            "checks_update.request.examples.json",
            Call::UpdateCheckRun(1),
        ),
        (
            "repos_create-commit-status.request.examples.json",
            Call::CreateStatus,
        ),
    ] {
        let examples: Value = serde_json::from_str(&fixture(examples)).unwrap();
        let examples = examples.as_object().unwrap();
        assert!(!examples.is_empty());
        for (name, example) in examples {
            schema(call)
                .check(example)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    // And the schemas do reject what GitHub rejects.
    let mut too_many = json!({"name": "x", "head_sha": "y", "output": {"title": "t", "summary": "s", "annotations": []}});
    let one = json!({"path": "a", "start_line": 1, "end_line": 1, "annotation_level": "failure", "message": "m"});
    too_many["output"]["annotations"] = Value::Array(vec![one; 51]);
    assert!(schema(Call::CreateCheckRun).check(&too_many).is_err());
    let bad_state = json!({"state": "action_required"});
    assert!(schema(Call::CreateStatus).check(&bad_state).is_err());
}

// ---------------------------------------------------------------------------------------------
// Check runs

#[test]
fn the_conclusion_follows_the_verdict() {
    let v = verdicts();
    for (verdict, conclusion) in [
        (&v.pass, "success"),
        (&v.audited, "success"),
        (&v.audit_mode, "neutral"),
        (&v.approval, "action_required"),
        (&v.fail, "failure"),
    ] {
        let mock = MockGithub::start("");
        let posted = post(&mock, GithubMode::Auto, verdict).unwrap();
        let calls = bodies(&mock);
        assert_eq!(calls.len(), 1, "{conclusion}: {calls:#?}");
        let (call, body) = &calls[0];
        assert_eq!(*call, Call::CreateCheckRun);
        assert_eq!(body["name"], "cavra/gate");
        assert_eq!(body["head_sha"], verdict.revisions.head.as_str());
        assert_eq!(body["status"], "completed");
        assert_eq!(body["conclusion"], conclusion);
        assert_eq!(body["details_url"], DETAILS);
        assert_eq!(body["external_id"], verdict.policy.sha256.as_str());
        assert_eq!(body["output"]["title"], cavra_report::title(verdict));
        assert_eq!(body["output"]["summary"], summary(verdict).as_str());
        assert!(
            body["output"]["summary"]
                .as_str()
                .unwrap()
                .starts_with(present::NOTE_MARKER)
        );

        let expected = cavra_report::annotations(verdict);
        let sent = body["output"].get("annotations").and_then(Value::as_array);
        assert_eq!(sent.map_or(0, Vec::len), expected.len(), "{conclusion}");
        for (a, s) in expected.iter().zip(sent.into_iter().flatten()) {
            let level = match a.level {
                Level::Failure => "failure",
                Level::Warning => "warning",
                Level::Notice => "notice",
            };
            assert_eq!(
                s,
                &json!({
                    "path": a.path,
                    "start_line": a.line,
                    "end_line": a.line,
                    "annotation_level": level,
                    "title": a.title,
                    "message": a.message,
                })
            );
        }
        let n = expected.len();
        assert_eq!(
            posted.actions,
            vec![format!(
                "check run 42 created: {conclusion}, {n} annotation{} in 1 request",
                if n == 1 { "" } else { "s" }
            )]
        );
        assert_eq!(
            posted.url.as_deref(),
            Some("https://github.com/octo-org/hello-world/runs/42")
        );
    }
}

#[test]
fn the_failing_verdict_annotates_every_kind_of_finding_loudest_first() {
    let mock = MockGithub::start("");
    post(&mock, GithubMode::CheckRun, &verdicts().fail).unwrap();
    let calls = bodies(&mock);
    let levels: Vec<&str> = annotations_of(&calls[0].1)
        .iter()
        .map(|a| a["annotation_level"].as_str().unwrap())
        .collect();
    assert!(levels.contains(&"failure") && levels.contains(&"warning"));
    assert!(levels.contains(&"notice"));
    let mut sorted = levels.clone();
    sorted.sort_by_key(|l| match *l {
        "failure" => 0,
        "warning" => 1,
        _ => 2,
    });
    assert_eq!(levels, sorted);
    let paths: Vec<&str> = annotations_of(&calls[0].1)
        .iter()
        .map(|a| a["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&ODD_KEY), "{paths:?}");
    assert!(paths.contains(&".github/workflows/ci.yml"), "{paths:?}");
}

#[test]
fn annotations_go_in_batches_of_fifty() {
    let v = with_denied_keys(120);
    let mock = MockGithub::start("");
    let posted = post(&mock, GithubMode::Auto, &v).unwrap();
    let calls = bodies(&mock);
    let shape: Vec<(Call, usize)> = calls
        .iter()
        .map(|(c, b)| (*c, annotations_of(b).len()))
        .collect();
    assert_eq!(
        shape,
        vec![
            (Call::CreateCheckRun, 50),
            (Call::UpdateCheckRun(42), 50),
            (Call::UpdateCheckRun(42), 20),
        ]
    );
    // Every annotation is sent once, in order.
    let paths: Vec<String> = calls
        .iter()
        .flat_map(|(_, b)| annotations_of(b).clone())
        .map(|a| a["path"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..120).map(|i| format!("keys/k{i:04}.pem")).collect();
    assert_eq!(paths, expected);
    // Updates carry only the output, with the same title and summary (the schema needs both).
    for (_, update) in &calls[1..] {
        let keys: Vec<&String> = update.as_object().unwrap().keys().collect();
        assert_eq!(keys, vec!["output"]);
        assert_eq!(update["output"]["title"], calls[0].1["output"]["title"]);
        assert_eq!(update["output"]["summary"], calls[0].1["output"]["summary"]);
    }
    assert_eq!(calls[0].1["conclusion"], "failure");
    assert_eq!(
        posted.actions,
        vec!["check run 42 created: failure, 120 annotations in 3 requests".to_string()]
    );
}

#[test]
fn at_most_a_thousand_annotations_are_posted_and_the_summary_says_so() {
    let v = with_denied_keys(1_050);
    let mock = MockGithub::start("");
    let posted = post(&mock, GithubMode::Auto, &v).unwrap();
    let calls = bodies(&mock);
    assert_eq!(calls.len(), 20);
    let sent: usize = calls.iter().map(|(_, b)| annotations_of(b).len()).sum();
    assert_eq!(sent, 1_000);
    let summary = calls[0].1["output"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("1000 of 1050 annotations are shown"),
        "{summary}"
    );
    assert!(summary.chars().count() <= 65_535);
    assert!(
        posted.actions[0].starts_with(
            "check run 42 created: failure, 1000 annotations in 20 requests (50 more left out: at most 1000 go on a check run"
        ),
        "{:?}",
        posted.actions
    );
}

#[test]
fn long_summaries_titles_and_messages_are_cut_to_githubs_limits() {
    let mut v = with_denied_keys(2);
    v.changes[0].findings[0].message = "m".repeat(70 * 1024);
    v.changes[0].findings[0].rule = format!("rule-{}", "r".repeat(300));
    let long = format!(
        "{}\n{}",
        present::NOTE_MARKER,
        "| row | of a table |\n".repeat(5_000)
    );
    assert!(long.chars().count() > 65_535);
    let mock = MockGithub::start("");
    report(&config(&mock, GithubMode::Auto), &v, &long).unwrap();
    let calls = bodies(&mock);
    let summary = calls[0].1["output"]["summary"].as_str().unwrap();
    assert!(summary.chars().count() <= 65_535);
    assert!(
        summary.contains("truncated"),
        "{}",
        &summary[summary.len() - 200..]
    );
    assert!(summary.starts_with(present::NOTE_MARKER));
    let first = &annotations_of(&calls[0].1)[0];
    let title = first["title"].as_str().unwrap();
    let message = first["message"].as_str().unwrap();
    assert!(title.chars().count() <= 255, "{}", title.len());
    assert!(title.starts_with("rule-rrr") && title.ends_with('…'));
    assert!(message.len() <= 64 * 1024, "{}", message.len());
    assert!(message.starts_with("mmm") && message.ends_with('…'));
}

#[test]
fn a_short_or_odd_commit_id_is_refused_before_any_request() {
    let mock = MockGithub::start("");
    let cfg = config(&mock, GithubMode::Auto);
    for sha in ["abc1234", "../../x", ""] {
        match pending(&cfg, sha) {
            Err(ForgeError::Config(text)) => assert!(text.contains("full commit id"), "{text}"),
            other => panic!("{other:?}"),
        }
    }
    assert!(mock.calls().is_empty());
}

#[test]
fn pending_creates_an_in_progress_check_run() {
    let mock = MockGithub::start("");
    let head = verdicts().fail.revisions.head.clone();
    let posted = pending(&config(&mock, GithubMode::Auto), &head).unwrap();
    let calls = bodies(&mock);
    assert_eq!(calls.len(), 1);
    let (call, body) = &calls[0];
    assert_eq!(*call, Call::CreateCheckRun);
    assert_eq!(body["status"], "in_progress");
    assert_eq!(body["head_sha"], head.as_str());
    assert!(body.get("conclusion").is_none());
    assert_eq!(posted.actions, vec!["check run 42 created: in_progress"]);
}

#[test]
fn a_ghes_api_url_keeps_its_path_prefix() {
    for suffix in ["", "/"] {
        let mock = MockGithub::start("/api/v3");
        let mut cfg = config(&mock, GithubMode::Auto);
        cfg.api_url.push_str(suffix);
        let v = with_denied_keys(60);
        report(&cfg, &v, &summary(&v)).unwrap();
        let paths: Vec<String> = mock
            .calls()
            .iter()
            .map(|(_, r)| format!("{} {}", r.method, r.path()))
            .collect();
        assert_eq!(
            paths,
            vec![
                "POST /api/v3/repos/octo-org/hello-world/check-runs",
                "PATCH /api/v3/repos/octo-org/hello-world/check-runs/42",
            ]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Commit statuses

#[test]
fn a_forbidden_check_run_falls_back_to_a_commit_status() {
    let v = verdicts();
    for (verdict, state) in [
        (&v.fail, "failure"),
        (&v.approval, "failure"),
        (&v.audit_mode, "success"),
        (&v.pass, "success"),
    ] {
        let mock = MockGithub::start("");
        mock.script([github_error(403, "Resource not accessible by integration")]);
        let posted = post(&mock, GithubMode::Auto, verdict).unwrap();
        let calls = bodies(&mock);
        assert_eq!(calls.len(), 2, "{calls:#?}");
        assert_eq!(calls[0].0, Call::CreateCheckRun);
        let (call, body) = &calls[1];
        assert_eq!(*call, Call::CreateStatus);
        let head = &verdict.revisions.head;
        assert_eq!(
            mock.calls()[1].1.path(),
            format!("/repos/octo-org/hello-world/statuses/{head}")
        );
        let title = cavra_report::title(verdict);
        assert!(title.chars().count() <= 140);
        assert_eq!(
            body,
            &json!({
                "state": state,
                "context": "cavra/gate",
                "target_url": DETAILS,
                "description": title,
            })
        );
        assert_eq!(posted.actions.len(), 2);
        assert!(
            posted.actions[0].contains("HTTP 403: Resource not accessible by integration")
                && posted.actions[0].contains("commit status instead"),
            "{:?}",
            posted.actions
        );
        assert!(
            posted.actions[1].starts_with(&format!(
                "commit status cavra/gate set on {}: {state}",
                &head[..7]
            )),
            "{:?}",
            posted.actions
        );
    }
    // `pending` falls back the same way.
    let mock = MockGithub::start("");
    mock.script([github_error(403, "Resource not accessible by integration")]);
    let head = v.fail.revisions.head.clone();
    let posted = pending(&config(&mock, GithubMode::Auto), &head).unwrap();
    let calls = bodies(&mock);
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[1],
        (
            Call::CreateStatus,
            json!({"state": "pending", "context": "cavra/gate", "target_url": DETAILS, "description": "cavra gate is running"})
        )
    );
    assert!(
        posted.actions[1].ends_with(": pending (cavra gate is running)"),
        "{posted:?}"
    );
    // A missing approval says so in the description.
    let title = cavra_report::title(&v.approval);
    assert!(title.contains("awaiting approval by security"), "{title}");
}

#[test]
fn status_mode_posts_only_a_commit_status() {
    let v = &verdicts().approval;
    let mock = MockGithub::start("");
    post(&mock, GithubMode::Status, v).unwrap();
    let head = v.revisions.head.clone();
    pending(&config(&mock, GithubMode::Status), &head).unwrap();
    let calls = bodies(&mock);
    let states: Vec<(Call, &Value)> = calls.iter().map(|(c, b)| (*c, &b["state"])).collect();
    assert_eq!(
        states,
        vec![
            (Call::CreateStatus, &json!("failure")),
            (Call::CreateStatus, &json!("pending")),
        ]
    );
    assert_eq!(calls[1].1["description"], "cavra gate is running");
}

#[test]
fn check_run_mode_does_not_fall_back() {
    let mock = MockGithub::start("");
    mock.script([github_error(403, "Resource not accessible by integration")]);
    let err = post(&mock, GithubMode::CheckRun, &verdicts().fail).unwrap_err();
    assert_eq!(err.status(), Some(403));
    let text = err.to_string();
    assert!(
        text.starts_with(
            "GitHub create check run: HTTP 403: Resource not accessible by integration"
        ),
        "{text}"
    );
    assert_eq!(mock.calls().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Errors and retries

#[test]
fn server_errors_are_retried_then_succeed() {
    let mock = MockGithub::start("");
    mock.script([
        github_error(502, "Server Error"),
        github_error(503, "Service Unavailable"),
    ]);
    let posted = post(&mock, GithubMode::Auto, &verdicts().fail).unwrap();
    let calls = bodies(&mock);
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|(c, _)| *c == Call::CreateCheckRun));
    assert_eq!(calls[0].1, calls[2].1, "a retry sends the same request");
    assert!(posted.actions[0].starts_with("check run 42 created: failure"));

    // Retries of an update, too; the create is not repeated.
    let mock = MockGithub::start("");
    mock.script_some([None, Some(github_error(500, "oops"))]);
    post(&mock, GithubMode::Auto, &with_denied_keys(70)).unwrap();
    let kinds: Vec<Call> = mock.calls().iter().map(|(c, _)| *c).collect();
    assert_eq!(
        kinds,
        vec![
            Call::CreateCheckRun,
            Call::UpdateCheckRun(42),
            Call::UpdateCheckRun(42)
        ]
    );
}

#[test]
fn retries_run_out() {
    let mock = MockGithub::start("");
    mock.script((0..4).map(|_| github_error(500, "Server Error")));
    let err = post(&mock, GithubMode::Auto, &verdicts().fail).unwrap_err();
    assert_eq!(err.status(), Some(500));
    let text = err.to_string();
    assert!(text.contains("gave up after 4 attempts"), "{text}");
    assert_eq!(mock.calls().len(), 4, "octocrab must not retry on its own");
}

#[test]
fn client_errors_are_reported_at_once_with_githubs_message() {
    for (status, message) in [
        (401, "Bad credentials"),
        (404, "Not Found"),
        (409, "Conflict"),
        (422, "Validation Failed"),
    ] {
        for mode in [GithubMode::Auto, GithubMode::CheckRun] {
            let mock = MockGithub::start("");
            mock.script([github_error(status, message)]);
            let err = post(&mock, mode, &verdicts().fail).unwrap_err();
            assert_eq!(mock.calls().len(), 1, "{status} must not be retried");
            match &err {
                ForgeError::Api {
                    forge,
                    operation,
                    status: s,
                    message: m,
                } => {
                    assert_eq!(
                        (*forge, operation.as_str(), *s),
                        ("GitHub", "create check run", status)
                    );
                    assert_eq!(m, message);
                }
                other => panic!("{other:?}"),
            }
            let text = err.to_string();
            assert!(
                text.starts_with(&format!(
                    "GitHub create check run: HTTP {status}: {message}"
                )),
                "{text}"
            );
        }
    }
    // A failed update says which annotations are missing and that the check run exists.
    let mock = MockGithub::start("");
    mock.script_some([None, Some(github_error(422, "Validation Failed"))]);
    let err = post(&mock, GithubMode::Auto, &with_denied_keys(120)).unwrap_err();
    assert_eq!(mock.calls().len(), 2);
    let text = err.to_string();
    assert!(
        text.starts_with("GitHub update check run 42 (annotations 51-100 of 120; the check run itself was created): HTTP 422"),
        "{text}"
    );
}

#[test]
fn validation_details_are_part_of_the_message() {
    let mock = MockGithub::start("");
    mock.script([Response::json(
        422,
        &json!({
            "message": "Validation Failed",
            "errors": [{"resource": "CheckRun", "code": "invalid", "field": "head_sha"}],
            "documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run",
        }),
    )]);
    let err = post(&mock, GithubMode::Auto, &verdicts().fail).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("Validation Failed: [{"), "{text}");
    assert!(text.contains("head_sha"), "{text}");
}

#[test]
fn rate_limits_are_honoured() {
    // A secondary rate limit: 403 with Retry-After. It is waited out, not taken for a
    // missing permission.
    let mock = MockGithub::start("");
    mock.script([github_error(
        403,
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    )
    .with_header("Retry-After", "1")]);
    let start = Instant::now();
    post(&mock, GithubMode::Auto, &verdicts().fail).unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "{:?}",
        start.elapsed()
    );
    let kinds: Vec<Call> = mock.calls().iter().map(|(c, _)| *c).collect();
    assert_eq!(kinds, vec![Call::CreateCheckRun, Call::CreateCheckRun]);

    // The primary limit: 403 with x-ratelimit-remaining: 0 until the reset time.
    let mock = MockGithub::start("");
    let reset = cavra_forge::retry::now_unix() + 1;
    mock.script([
        github_error(403, "API rate limit exceeded for installation ID 1.")
            .with_header("X-RateLimit-Limit", "5000")
            .with_header("X-RateLimit-Remaining", "0")
            .with_header("X-RateLimit-Reset", &reset.to_string()),
    ]);
    post(&mock, GithubMode::Auto, &verdicts().fail).unwrap();
    assert!(cavra_forge::retry::now_unix() >= reset);
    let kinds: Vec<Call> = mock.calls().iter().map(|(c, _)| *c).collect();
    assert_eq!(kinds, vec![Call::CreateCheckRun, Call::CreateCheckRun]);

    // 429 with Retry-After.
    let mock = MockGithub::start("");
    mock.script([github_error(429, "Too Many Requests").with_header("Retry-After", "0")]);
    post(&mock, GithubMode::Auto, &verdicts().fail).unwrap();
    assert_eq!(mock.calls().len(), 2);

    // A wait longer than the policy allows fails at once, and is not taken for a missing
    // permission (no fallback to a status).
    let mock = MockGithub::start("");
    mock.script([
        github_error(403, "API rate limit exceeded for installation ID 1.")
            .with_header("Retry-After", "3600"),
    ]);
    let err = post(&mock, GithubMode::Auto, &verdicts().fail).unwrap_err();
    assert_eq!(mock.calls().len(), 1);
    assert_eq!(err.status(), Some(403));
    let text = err.to_string();
    assert!(text.contains("3600s"), "{text}");

    // The same from the headers alone, whatever the message says.
    let mock = MockGithub::start("");
    let reset = cavra_forge::retry::now_unix() + 3_600;
    mock.script([github_error(403, "Forbidden")
        .with_header("X-RateLimit-Remaining", "0")
        .with_header("X-RateLimit-Reset", &reset.to_string())]);
    let err = post(&mock, GithubMode::Auto, &verdicts().fail).unwrap_err();
    assert_eq!(mock.calls().len(), 1);
    assert_eq!(err.status(), Some(403));
}

#[test]
fn an_unreachable_api_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let cfg = GithubConfig {
        api_url: format!("http://127.0.0.1:{port}"),
        repository: "octo-org/hello-world".to_string(),
        token: Token::new(TOKEN),
        mode: GithubMode::Auto,
        details_url: None,
        retry: RetryPolicy::fast(),
    };
    let v = &verdicts().fail;
    let err = report(&cfg, v, &summary(v)).unwrap_err();
    assert!(matches!(err, ForgeError::Transport { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("GitHub create check run: "), "{text}");
    assert!(text.contains("gave up after 4 attempts"), "{text}");
    assert_no_token(&text);
    assert_no_token(&format!("{err:?}"));
}

#[test]
fn the_token_never_appears_in_errors_or_outputs() {
    let v = &verdicts().fail;
    // GitHub echoing the token back in an error.
    for status in [401, 403, 422, 500] {
        let mock = MockGithub::start("");
        mock.script(
            (0..4).map(|_| github_error(status, &format!("Bad credentials: {TOKEN} is revoked"))),
        );
        let result = post(&mock, GithubMode::CheckRun, v);
        let err = result.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("Bad credentials: *** is revoked"), "{text}");
        assert_no_token(&text);
        assert_no_token(&format!("{err:?}"));
    }
    // Outputs of successful reports, and the configuration's Debug.
    let mock = MockGithub::start("");
    mock.script([github_error(403, "Resource not accessible by integration")]);
    let cfg = config(&mock, GithubMode::Auto);
    let posted = report(&cfg, v, &summary(v)).unwrap();
    assert_no_token(&format!("{posted:?}"));
    assert_no_token(&format!("{cfg:?}"));
    let mock = MockGithub::start("");
    let posted = post(&mock, GithubMode::Auto, &with_denied_keys(120)).unwrap();
    assert_no_token(&format!("{posted:?}"));
    // The token only travels in the Authorization header.
    for (_, r) in mock.calls() {
        assert_no_token(&r.target);
        assert_no_token(&r.text());
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| vars.get(k).cloned()
}

#[test]
fn configuration_comes_from_the_actions_environment() {
    let env = env_of(&[
        ("GITHUB_TOKEN", "ghs_from_github_token_0123"),
        ("GITHUB_REPOSITORY", "octo-org/hello-world"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_RUN_ID", "7"),
    ]);
    let cfg = GithubConfig::from_env(&env).unwrap();
    assert_eq!(cfg.api_url, "https://api.github.com");
    assert_eq!(cfg.repository, "octo-org/hello-world");
    assert_eq!(cfg.token.expose(), "ghs_from_github_token_0123");
    assert_eq!(cfg.mode, GithubMode::Auto);
    assert_eq!(cfg.details_url.as_deref(), Some(DETAILS));
    assert_no_token(&format!("{cfg:?}"));
    assert!(!format!("{cfg:?}").contains("ghs_from_github_token_0123"));

    // CAVRA_GITHUB_TOKEN wins; GHES URLs keep their prefix.
    let env = env_of(&[
        ("CAVRA_GITHUB_TOKEN", "cavra-token-0123"),
        ("GITHUB_TOKEN", "ghs_from_github_token_0123"),
        ("GITHUB_REPOSITORY", "octo-org/hello-world"),
        ("GITHUB_API_URL", "https://ghe.example.com/api/v3/"),
    ]);
    let cfg = GithubConfig::from_env(&env).unwrap();
    assert_eq!(cfg.token.expose(), "cavra-token-0123");
    assert_eq!(cfg.api_url, "https://ghe.example.com/api/v3");
    assert_eq!(cfg.details_url, None);

    let missing = |vars: &[(&str, &str)]| match GithubConfig::from_env(&env_of(vars)) {
        Err(ForgeError::Config(text)) => text,
        other => panic!("{other:?}"),
    };
    let text = missing(&[("GITHUB_REPOSITORY", "octo-org/hello-world")]);
    assert!(
        text.contains("CAVRA_GITHUB_TOKEN") && text.contains("GITHUB_TOKEN"),
        "{text}"
    );
    let text = missing(&[("GITHUB_TOKEN", "t0123456")]);
    assert!(text.contains("GITHUB_REPOSITORY"), "{text}");
    let text = missing(&[
        ("GITHUB_TOKEN", "t0123456"),
        ("GITHUB_REPOSITORY", "no-slash"),
    ]);
    assert!(text.contains("owner/name"), "{text}");
    let text = missing(&[
        ("GITHUB_TOKEN", "t0123456"),
        ("GITHUB_REPOSITORY", "o/r?x=1"),
    ]);
    assert!(text.contains("owner/name"), "{text}");
    let text = missing(&[
        ("GITHUB_TOKEN", "t0123456"),
        ("GITHUB_REPOSITORY", "o/r"),
        ("GITHUB_API_URL", "ftp://x"),
    ]);
    assert!(text.contains("GITHUB_API_URL"), "{text}");
    assert_eq!(GithubMode::parse("check-run"), Some(GithubMode::CheckRun));
}

// ---------------------------------------------------------------------------------------------
// Workflow commands and the step summary

#[test]
fn workflow_commands_are_escaped_and_loudest_first() {
    let mut v = verdicts().fail.clone();
    let odd = v.changes.iter_mut().find(|c| c.path == ODD_KEY).unwrap();
    odd.findings[0].message = "line one\r\nline two: 50%, done".to_string();
    odd.findings[0].reason = String::new();
    let rule = odd.findings[0].rule.clone();
    let text = workflow_commands(&v);
    let lines: Vec<&str> = text.lines().collect();
    let annotations = cavra_report::annotations(&v);
    assert_eq!(lines.len(), annotations.len(), "{text}");
    let expected = format!(
        "::error file=keys/a%2Cb%3A 100%25.pem,line=1,title={rule} (deny)::line one%0D%0Aline two: 50%25, done"
    );
    assert!(
        lines.contains(&expected.as_str()),
        "{expected}\nnot in\n{text}"
    );
    let kinds: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let first_warning = kinds.iter().position(|k| *k == "::warning").unwrap();
    let first_notice = kinds.iter().position(|k| *k == "::notice").unwrap();
    let last_error = kinds.iter().rposition(|k| *k == "::error").unwrap();
    assert!(
        last_error < first_warning && first_warning < first_notice,
        "{kinds:?}"
    );
    assert!(lines.iter().any(|l| l.starts_with("::warning file=.github/workflows/ci.yml,line=1,title=ci-config (requires approval)%3A approval by security::")), "{text}");
    // Nothing unescaped breaks a line.
    for line in &lines {
        assert!(line.starts_with("::"), "{line}");
    }
}

#[test]
fn workflow_commands_stop_at_what_github_shows() {
    let text = workflow_commands(&with_denied_keys(120));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 11, "{text}");
    assert!(
        lines[..10]
            .iter()
            .all(|l| l.starts_with("::error file=keys/k00"))
    );
    assert!(
        lines[10].starts_with("::notice title=cavra/gate::110 more findings not shown here"),
        "{}",
        lines[10]
    );
    assert!(lines[10].contains("SARIF"), "{}", lines[10]);
    assert_eq!(workflow_commands(&verdicts().pass), "");
}

#[test]
fn the_step_summary_is_appended_and_kept_under_one_mib() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("step_summary.md");
    std::fs::write(&path, "## Build\nok\n").unwrap();
    let v = &verdicts().fail;
    let first = summary(v);
    append_step_summary(&path, &first).unwrap();
    append_step_summary(&path, "second").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, format!("## Build\nok\n\n{first}\nsecond\n"));

    // A new file is created.
    let fresh = dir.path().join("fresh.md");
    append_step_summary(&fresh, "hello\n").unwrap();
    assert_eq!(std::fs::read_to_string(&fresh).unwrap(), "hello\n");

    // Too much for the limit: cut at a line, with a note; earlier content stays.
    let huge = "| row | of a long table |\n".repeat(60_000);
    assert!(huge.len() > 1 << 20);
    append_step_summary(&path, &huge).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.len() as u64 <= github::MAX_STEP_SUMMARY_BYTES,
        "{}",
        text.len()
    );
    assert!(text.starts_with(&format!("## Build\nok\n\n{first}\nsecond\n\n| row |")));
    assert!(text.ends_with("the full report is in the job's artifacts)\n"));
    assert!(text.contains("| row | of a long table |\n\n… (truncated"));
    // What still fits is appended; past the limit nothing is written.
    append_step_summary(&path, "more").unwrap();
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(after.len() as u64 <= github::MAX_STEP_SUMMARY_BYTES);
    assert!(after.starts_with(&text) && after.ends_with("\nmore\n"));
    let full = dir.path().join("full.md");
    std::fs::write(&full, "x".repeat(1 << 20)).unwrap();
    append_step_summary(&full, "more").unwrap();
    assert_eq!(std::fs::metadata(&full).unwrap().len(), 1 << 20);
}
