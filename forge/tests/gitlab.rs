//! The GitLab report against a mock GitLab (`cavra_testkit::forges::gitlab`): real verdicts from a gated git
//! repository, every request body checked against the shapes GitLab documents
//! (`tests/fixtures/gitlab/`), the note kept in the mock's memory so an update is real.

use cavra_forge::gitlab::{self, GitlabConfig, StatusState, TokenKind};
use cavra_forge::present::{NOTE_MARKER, summary};
use cavra_forge::retry::RetryPolicy;
use cavra_forge::{ForgeError, Token};
use cavra_gate::Verdict;
use cavra_testkit::forges::gitlab::{Auth, MockGitlab, Setup, form};
use cavra_testkit::http::Response;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

mod common;

const TOKEN: &str = "glpat-Secr3tT0kenValue-xyz";
const JOB_URL: &str = "https://gitlab.example.com/group/project/-/jobs/99";

// ---------------------------------------------------------------------------------------------
// Verdicts from a real repository

/// The deny, approval and pass verdicts.
fn verdicts() -> (Verdict, Verdict, Verdict) {
    let v = common::verdicts();
    (v.deny.clone(), v.approval.clone(), v.pass.clone())
}

fn md(verdict: &Verdict) -> String {
    summary(verdict, None).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Mock and configuration

fn mock(project_segment: &str, prefix: &str, auth: Auth) -> MockGitlab {
    MockGitlab::start(Setup {
        token: TOKEN.into(),
        auth,
        prefix: prefix.into(),
        project_segment: project_segment.into(),
    })
}

fn config(mock: &MockGitlab, project: &str, kind: TokenKind) -> GitlabConfig {
    GitlabConfig {
        api_url: mock.api_url(),
        project: project.into(),
        merge_request_iid: Some(7),
        token: Token::new(TOKEN),
        token_kind: kind,
        pipeline_id: Some(1234),
        ref_name: Some("feature/x".into()),
        target_url: Some(JOB_URL.into()),
        retry: RetryPolicy::fast(),
    }
}

fn private(project: &str) -> (MockGitlab, GitlabConfig) {
    let segment = project.replace('/', "%2F");
    let m = mock(&segment, "/api/v4", Auth::Private);
    let cfg = config(&m, project, TokenKind::Private);
    (m, cfg)
}

fn fields(req: &cavra_testkit::http::Request) -> BTreeMap<String, String> {
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded"),
        "{} {}",
        req.method,
        req.target
    );
    form(&req.text())
}

fn short(sha: &str) -> &str {
    &sha[..7]
}

/// Asserts nothing the mock saw broke a documented shape.
fn no_violations(m: &MockGitlab) {
    assert_eq!(m.violations(), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn a_failing_verdict_sets_the_status_and_creates_the_note_with_exact_requests() {
    let (deny, _, _) = verdicts();
    let (m, cfg) = private("42");
    let body = md(&deny);
    let posted = gitlab::report(&cfg, &deny, &body).unwrap();
    let sha = &deny.revisions.head;
    assert_eq!(
        m.lines(),
        [
            format!("POST /projects/42/statuses/{sha}"),
            "GET /projects/42/merge_requests/7/notes?sort=asc&per_page=100&page=1".to_string(),
            "POST /projects/42/merge_requests/7/notes".to_string(),
        ]
    );
    let requests = m.requests();
    for r in &requests {
        assert_eq!(r.header("private-token"), Some(TOKEN));
        assert_eq!(r.header("job-token"), None);
    }
    let status = fields(&requests[0]);
    let expected: BTreeMap<String, String> = [
        ("state", "failed".to_string()),
        ("name", "cavra/gate".into()),
        ("description", cavra_report::title(&deny)),
        ("target_url", JOB_URL.into()),
        ("pipeline_id", "1234".into()),
        ("ref", "feature/x".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(status, expected);
    assert!(status["description"].contains("denied"), "{status:?}");
    assert_eq!(fields(&requests[2])["body"], body);
    assert_eq!(
        posted.actions,
        [
            format!("commit status cavra/gate = failed on {}", short(sha)),
            "merge request !7 note 101 created".to_string(),
        ]
    );
    assert_eq!(posted.url, None, "a numeric project has no known web path");
    assert_eq!(m.status(sha, "cavra/gate").as_deref(), Some("failed"));
    let notes = m.notes(7);
    assert_eq!(notes.len(), 1);
    assert!(notes[0]["body"].as_str().unwrap().starts_with(NOTE_MARKER));
    no_violations(&m);
}

#[test]
fn pending_then_running_then_success_and_a_repeated_state_is_not_an_error() {
    let (_, _, pass) = verdicts();
    let (m, mut cfg) = private("42");
    cfg.merge_request_iid = None;
    let sha = pass.revisions.head.clone();

    let posted = gitlab::pending(&cfg, &sha, StatusState::Pending).unwrap();
    assert_eq!(
        posted.actions,
        [format!(
            "commit status cavra/gate = pending on {}",
            short(&sha)
        )]
    );
    assert_eq!(m.status(&sha, "cavra/gate").as_deref(), Some("pending"));
    gitlab::pending(&cfg, &sha, StatusState::Running).unwrap();
    assert_eq!(m.status(&sha, "cavra/gate").as_deref(), Some("running"));
    // GitLab answers 400 "Cannot transition status via :run from :running": already done.
    let again = gitlab::pending(&cfg, &sha, StatusState::Running).unwrap();
    assert!(again.actions[0].ends_with("(already set)"), "{again:?}");

    let posted = gitlab::report(&cfg, &pass, &md(&pass)).unwrap();
    assert_eq!(
        posted.actions,
        [format!(
            "commit status cavra/gate = success on {}",
            short(&sha)
        )],
        "no merge request, no note"
    );
    assert_eq!(m.status(&sha, "cavra/gate").as_deref(), Some("success"));
    let states: Vec<String> = m
        .requests()
        .iter()
        .map(|r| fields(r)["state"].clone())
        .collect();
    assert_eq!(states, ["pending", "running", "running", "success"]);
    assert!(m.lines().iter().all(|l| !l.contains("/notes")));
    // The third request was answered 400 (a repeated state), not a schema violation.
    no_violations(&m);
}

#[test]
fn the_note_is_updated_in_place_and_other_notes_are_left_alone() {
    let (_, approval, pass) = verdicts();
    let (m, cfg) = private("42");
    let theirs = m.add_note(
        7,
        "Looks good to me, but see the workflow change.",
        false,
        "alice",
    );
    let system = m.add_note(7, "<!-- cavra:gate -->\nadded 1 commit", true, "alice");
    let quote = "> <!-- cavra:gate -->\n> ## cavra gate\n\nWhy does this need approval?";
    let quoting = m.add_note(7, quote, false, "alice");

    let first = gitlab::report(&cfg, &approval, &md(&approval)).unwrap();
    assert_eq!(
        first.actions[0].split(" on ").next().unwrap(),
        "commit status cavra/gate = failed"
    );
    let ours = m.notes(7)[3]["id"].as_u64().unwrap();
    assert_eq!(
        first.actions[1],
        format!("merge request !7 note {ours} created")
    );

    m.clear();
    let body = md(&pass);
    let second = gitlab::report(&cfg, &pass, &body).unwrap();
    assert_eq!(
        second.actions[1],
        format!("merge request !7 note {ours} updated")
    );
    assert_eq!(
        m.lines()[1..],
        [
            "GET /projects/42/merge_requests/7/notes?sort=asc&per_page=100&page=1".to_string(),
            format!("PUT /projects/42/merge_requests/7/notes/{ours}"),
        ]
    );
    let notes = m.notes(7);
    assert_eq!(notes.len(), 4, "still one cavra note: {notes:#?}");
    assert_eq!(notes[0]["id"], theirs);
    assert_eq!(
        notes[0]["body"],
        "Looks good to me, but see the workflow change."
    );
    assert_eq!(notes[1]["id"], system);
    assert_eq!(notes[1]["body"], "<!-- cavra:gate -->\nadded 1 commit");
    assert_eq!(notes[2]["id"], quoting);
    assert_eq!(notes[2]["body"], quote);
    assert_eq!(notes[3]["body"], body.as_str());
    assert_eq!(fields(&m.requests()[2])["body"], body);
    no_violations(&m);
}

#[test]
fn a_pipeline_on_another_commit_or_ref_does_not_fail_the_status() {
    let (deny, _, _) = verdicts();
    let head = deny.revisions.head.clone();
    let (m, mut cfg) = private("42");
    cfg.merge_request_iid = None;
    cfg.ref_name = Some("refs/merge-requests/7/head".into());
    // A merged-results pipeline: it ran on the merge commit, under another ref.
    m.pipeline(
        1234,
        "5ca1ab1e00000000000000000000000000000000",
        "refs/merge-requests/7/merge",
    );
    let posted = gitlab::report(&cfg, &deny, &md(&deny)).unwrap();
    assert_eq!(
        posted.actions,
        [format!(
            "commit status cavra/gate = failed on {} (outside pipeline 1234, which ran on another commit or ref)",
            short(&head)
        )]
    );
    let requests = m.requests();
    assert_eq!(requests.len(), 2);
    let (first, second) = (fields(&requests[0]), fields(&requests[1]));
    assert_eq!(first.get("pipeline_id").map(String::as_str), Some("1234"));
    assert_eq!(second.get("pipeline_id"), None);
    assert_eq!(second["ref"], "refs/merge-requests/7/head");
    assert_eq!(m.status(&head, "cavra/gate").as_deref(), Some("failed"));

    // The job's own pipeline on this commit and ref keeps the status in it.
    m.clear();
    m.pipeline(1235, &head, "refs/merge-requests/7/head");
    cfg.pipeline_id = Some(1235);
    let posted = gitlab::pending(&cfg, &head, StatusState::Running).unwrap();
    assert_eq!(
        posted.actions,
        [format!(
            "commit status cavra/gate = running on {}",
            short(&head)
        )]
    );
    let requests = m.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(fields(&requests[0])["pipeline_id"], "1235");
    no_violations(&m);
}

#[test]
fn the_note_is_found_on_a_later_page() {
    let (deny, _, pass) = verdicts();
    let (m, cfg) = private("42");
    for i in 0..150 {
        m.add_note(7, &format!("comment {i}"), i % 3 == 0, "bob");
    }
    gitlab::report(&cfg, &deny, &md(&deny)).unwrap();
    assert_eq!(m.notes(7).len(), 151);
    m.clear();
    let posted = gitlab::report(&cfg, &pass, &md(&pass)).unwrap();
    assert!(posted.actions[1].ends_with("updated"), "{posted:?}");
    let lines = m.lines();
    assert!(
        lines.contains(
            &"GET /projects/42/merge_requests/7/notes?sort=asc&per_page=100&page=2".to_string()
        ),
        "{lines:#?}"
    );
    assert_eq!(m.notes(7).len(), 151);
    no_violations(&m);
}

#[test]
fn a_conflict_on_update_lists_again_and_retries_once() {
    let (deny, _, pass) = verdicts();
    let (m, cfg) = private("42");
    gitlab::report(&cfg, &deny, &md(&deny)).unwrap();
    m.clear();
    m.script("PUT", "/notes/", Response::error(409, "409 Conflict"));
    let posted = gitlab::report(&cfg, &pass, &md(&pass)).unwrap();
    assert!(posted.actions[1].ends_with("updated"), "{posted:?}");
    let lines = m.lines();
    let gets = lines.iter().filter(|l| l.starts_with("GET ")).count();
    let puts = lines.iter().filter(|l| l.starts_with("PUT ")).count();
    assert_eq!((gets, puts), (2, 2), "{lines:#?}");
    assert_eq!(m.notes(7).len(), 1);
    assert_eq!(m.notes(7)[0]["body"], md(&pass).as_str());
}

#[test]
fn a_note_created_despite_a_5xx_answer_is_not_created_twice() {
    let (deny, _, _) = verdicts();
    let (m, cfg) = private("42");
    // GitLab created the note, but the answer was lost behind a 502.
    m.script_after(
        "POST",
        "/merge_requests/7/notes",
        Response::error(502, "Bad Gateway"),
    );
    let posted = gitlab::report(&cfg, &deny, &md(&deny)).unwrap();
    assert_eq!(posted.actions[1], "merge request !7 note 101 updated");
    assert_eq!(
        m.lines()[1..],
        [
            "GET /projects/42/merge_requests/7/notes?sort=asc&per_page=100&page=1",
            "POST /projects/42/merge_requests/7/notes",
            "GET /projects/42/merge_requests/7/notes?sort=asc&per_page=100&page=1",
            "PUT /projects/42/merge_requests/7/notes/101",
        ],
        "the create is not repeated blindly: the notes are listed again"
    );
    assert_eq!(m.notes(7).len(), 1);

    // It was not created: listed again, then created.
    let (m, cfg) = private("42");
    m.script(
        "POST",
        "/merge_requests/7/notes",
        Response::error(503, "Service Unavailable"),
    );
    let posted = gitlab::report(&cfg, &deny, &md(&deny)).unwrap();
    assert_eq!(posted.actions[1], "merge request !7 note 101 created");
    let posts = m
        .lines()
        .iter()
        .filter(|l| l.starts_with("POST /projects/42/merge_requests"))
        .count();
    assert_eq!(posts, 2);
    assert_eq!(m.notes(7).len(), 1);
    no_violations(&m);
}

#[test]
fn server_errors_are_retried() {
    let (deny, _, _) = verdicts();
    let (m, cfg) = private("42");
    m.script("POST", "/statuses/", Response::error(502, "Bad Gateway"));
    m.script("POST", "/statuses/", Response::empty(503));
    m.script(
        "GET",
        "/notes",
        Response::error(500, "500 Internal Server Error"),
    );
    gitlab::report(&cfg, &deny, &md(&deny)).unwrap();
    let lines = m.lines();
    assert_eq!(lines.iter().filter(|l| l.contains("/statuses/")).count(), 3);
    assert_eq!(lines.iter().filter(|l| l.starts_with("GET ")).count(), 2);
    assert_eq!(m.notes(7).len(), 1);
    no_violations(&m);
}

#[test]
fn server_errors_give_up_after_the_policy_s_attempts() {
    let (deny, _, _) = verdicts();
    let (m, cfg) = private("42");
    for _ in 0..4 {
        m.script(
            "POST",
            "/statuses/",
            Response::error(500, "500 Internal Server Error"),
        );
    }
    let err = gitlab::report(&cfg, &deny, &md(&deny)).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.status(), Some(500), "{text}");
    assert!(text.contains("gave up after 4 attempts"), "{text}");
    assert!(
        text.starts_with("GitLab set commit status: HTTP 500"),
        "{text}"
    );
    assert_eq!(m.requests().len(), 4);
}

#[test]
fn a_rate_limit_s_retry_after_is_honoured() {
    let (deny, _, _) = verdicts();
    let (m, cfg) = private("42");
    m.script(
        "POST",
        "/merge_requests/7/notes",
        Response::error(429, "429 Too Many Requests").with_header("Retry-After", "1"),
    );
    let started = Instant::now();
    gitlab::report(&cfg, &deny, &md(&deny)).unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let lines = m.lines();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("POST /projects/42/merge_requests"))
            .count(),
        2
    );
    assert_eq!(m.notes(7).len(), 1);

    // A wait beyond the policy's limit fails at once, saying why.
    let (m, cfg) = private("42");
    m.script(
        "POST",
        "/statuses/",
        Response::error(429, "429 Too Many Requests").with_header("Retry-After", "3600"),
    );
    let err = gitlab::report(&cfg, &deny, &md(&deny)).unwrap_err();
    assert_eq!(err.status(), Some(429));
    assert!(err.to_string().contains("3600s"), "{err}");
    assert_eq!(m.requests().len(), 1);
}

#[test]
fn unauthorized_and_not_found_are_not_retried_and_say_so() {
    let (deny, _, _) = verdicts();
    let (m, mut cfg) = private("42");
    cfg.token = Token::new("glpat-wrong-token-value");
    let err = gitlab::report(&cfg, &deny, &md(&deny)).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.status(), Some(401), "{text}");
    assert!(
        text.starts_with("GitLab set commit status: HTTP 401: 401 Unauthorized"),
        "{text}"
    );
    assert!(text.contains("expired or invalid"), "{text}");
    assert!(!text.contains("glpat-wrong-token-value"));
    assert_eq!(m.requests().len(), 1);

    let (m, cfg) = private("42");
    m.script(
        "GET",
        "/notes",
        Response::error(404, "404 Merge Request Not Found"),
    );
    let err = gitlab::report(&cfg, &deny, &md(&deny)).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.status(), Some(404), "{text}");
    assert!(
        text.starts_with("GitLab list merge request notes: HTTP 404: 404 Merge Request Not Found"),
        "{text}"
    );
    assert_eq!(
        m.lines().iter().filter(|l| l.starts_with("GET ")).count(),
        1
    );

    // A project the token cannot see.
    let (m, mut cfg) = private("42");
    cfg.project = "43".into();
    let err = gitlab::report(&cfg, &deny, &md(&deny)).unwrap_err();
    assert!(err.to_string().contains("404 Project Not Found"), "{err}");
    assert_eq!(m.requests().len(), 1);
}

#[test]
fn a_job_token_is_sent_as_job_token_and_its_403_says_to_set_cavra_gitlab_token() {
    let (deny, _, _) = verdicts();
    let m = mock("42", "/api/v4", Auth::Job);
    let cfg = config(&m, "42", TokenKind::Job);
    let err = gitlab::report(&cfg, &deny, &md(&deny)).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.status(), Some(403), "{text}");
    assert!(text.contains("CAVRA_GITLAB_TOKEN"), "{text}");
    assert!(text.contains("api scope"), "{text}");
    let requests = m.requests();
    assert_eq!(requests.len(), 1, "403 is not retried");
    assert_eq!(requests[0].header("job-token"), Some(TOKEN));
    assert_eq!(requests[0].header("private-token"), None);

    let err = gitlab::pending(&cfg, &deny.revisions.head, StatusState::Running).unwrap_err();
    assert!(err.to_string().contains("CAVRA_GITLAB_TOKEN"), "{err}");
}

#[test]
fn the_token_never_appears_in_errors_debug_or_output() {
    let (deny, _, _) = verdicts();
    let (m, cfg) = private("42");
    m.script(
        "POST",
        "/statuses/",
        Response::json(
            400,
            &serde_json::json!({"error": format!("token {TOKEN} is not valid here")}),
        ),
    );
    let err = gitlab::report(&cfg, &deny, &md(&deny)).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(TOKEN), "{text}");
    assert!(text.contains("token *** is not valid here"), "{text}");
    assert!(!format!("{cfg:?}").contains(TOKEN));

    let posted = gitlab::report(&cfg, &deny, &md(&deny)).unwrap();
    assert!(!format!("{posted:?}").contains(TOKEN));

    // Nor does a transport error (nothing listening).
    let mut gone = cfg.clone();
    gone.api_url = "http://127.0.0.1:9/api/v4".into();
    let err = gitlab::pending(&gone, &deny.revisions.head, StatusState::Pending).unwrap_err();
    assert!(matches!(err, ForgeError::Transport { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(TOKEN));
}

#[test]
fn a_project_path_is_url_encoded_under_a_path_prefix() {
    let (deny, _, _) = verdicts();
    let m = mock("group%2Fsub%2Fproject", "/gitlab/api/v4", Auth::Private);
    let cfg = config(&m, "group/sub/project", TokenKind::Private);
    assert!(cfg.api_url.ends_with("/gitlab/api/v4"));
    let posted = gitlab::report(&cfg, &deny, &md(&deny)).unwrap();
    let targets: Vec<String> = m.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(
        targets,
        [
            format!("/gitlab/api/v4/projects/group%2Fsub%2Fproject/statuses/{}", deny.revisions.head),
            "/gitlab/api/v4/projects/group%2Fsub%2Fproject/merge_requests/7/notes?sort=asc&per_page=100&page=1".to_string(),
            "/gitlab/api/v4/projects/group%2Fsub%2Fproject/merge_requests/7/notes".to_string(),
        ]
    );
    let root = cfg.api_url.strip_suffix("/api/v4").unwrap();
    assert_eq!(
        posted.url,
        Some(format!(
            "{root}/group/sub/project/-/merge_requests/7#note_101"
        ))
    );
    no_violations(&m);
}

#[test]
fn a_long_summary_is_cut_to_gitlab_s_note_limit() {
    let (deny, _, _) = verdicts();
    let (m, cfg) = private("42");
    let long = format!("{}{}", md(&deny), "| row | é |\n".repeat(100_000));
    assert!(long.chars().count() > gitlab::NOTE_MAX_CHARS);
    gitlab::report(&cfg, &deny, &long).unwrap();
    let body = m.notes(7)[0]["body"].as_str().unwrap().to_string();
    assert!(body.chars().count() <= gitlab::NOTE_MAX_CHARS);
    assert!(body.starts_with(NOTE_MARKER));
    assert!(body.contains("truncated"));
    no_violations(&m);

    // A summary without the marker gets it, so the next run finds the note.
    let (m, cfg) = private("42");
    gitlab::report(&cfg, &deny, "plain text").unwrap();
    assert_eq!(m.notes(7)[0]["body"], format!("{NOTE_MARKER}\nplain text"));
}

/// A CI environment of `vars`.
fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k: &str| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn configuration_comes_from_gitlab_ci_variables() {
    let err = GitlabConfig::from_env(&env_of(&[])).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ForgeError::Config(_)));
    for name in ["CI_API_V4_URL", "CI_PROJECT_ID", "CAVRA_GITLAB_TOKEN"] {
        assert!(text.contains(name), "{name}: {text}");
    }
    let err = GitlabConfig::from_env(&env_of(&[
        ("CI_API_V4_URL", "https://gitlab.com/api/v4"),
        ("CI_JOB_TOKEN", "job-token-value"),
    ]))
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("CI_PROJECT_ID"), "{text}");
    assert!(!text.contains("CI_API_V4_URL"), "{text}");
    assert!(!text.contains("CAVRA_GITLAB_TOKEN"), "{text}");

    let full = [
        ("CI_API_V4_URL", "https://gitlab.example.com/gitlab/api/v4"),
        ("CI_PROJECT_ID", "42"),
        ("CI_MERGE_REQUEST_IID", "7"),
        ("CI_JOB_TOKEN", "job-token-value"),
        ("CAVRA_GITLAB_TOKEN", "glpat-access-token"),
        ("CI_PIPELINE_ID", "1234"),
        ("CI_COMMIT_REF_NAME", "feature/x"),
        ("CI_JOB_URL", JOB_URL),
    ];
    let mut merge_request = full.to_vec();
    merge_request.push(("CI_MERGE_REQUEST_REF_PATH", "refs/merge-requests/7/head"));
    let cfg = GitlabConfig::from_env(&env_of(&merge_request)).unwrap();
    assert_eq!(
        cfg.ref_name.as_deref(),
        Some("refs/merge-requests/7/head"),
        "a merge request pipeline's ref"
    );

    let cfg = GitlabConfig::from_env(&env_of(&full)).unwrap();
    assert_eq!(cfg.api_url, "https://gitlab.example.com/gitlab/api/v4");
    assert_eq!(cfg.project, "42");
    assert_eq!(cfg.merge_request_iid, Some(7));
    assert_eq!(cfg.token.expose(), "glpat-access-token");
    assert_eq!(cfg.token_kind, TokenKind::Private);
    assert_eq!(cfg.pipeline_id, Some(1234));
    assert_eq!(cfg.ref_name.as_deref(), Some("feature/x"));
    assert_eq!(cfg.target_url.as_deref(), Some(JOB_URL));

    let job_only = [
        ("CI_API_V4_URL", "https://gitlab.com/api/v4"),
        ("CI_PROJECT_ID", "42"),
        ("CI_JOB_TOKEN", "job-token-value"),
    ];
    let cfg = GitlabConfig::from_env(&env_of(&job_only)).unwrap();
    assert_eq!(cfg.token_kind, TokenKind::Job);
    assert_eq!(cfg.merge_request_iid, None);

    let insecure = [
        ("CI_API_V4_URL", "http://gitlab.example.com/api/v4"),
        ("CI_PROJECT_ID", "42"),
        ("CI_JOB_TOKEN", "job-token-value"),
    ];
    let err = GitlabConfig::from_env(&env_of(&insecure)).unwrap_err();
    assert!(err.to_string().contains("https"), "{err}");

    let bad_iid = [
        ("CI_API_V4_URL", "https://gitlab.com/api/v4"),
        ("CI_PROJECT_ID", "42"),
        ("CI_JOB_TOKEN", "job-token-value"),
        ("CI_MERGE_REQUEST_IID", "seven"),
    ];
    let err = GitlabConfig::from_env(&env_of(&bad_iid)).unwrap_err();
    assert!(err.to_string().contains("CI_MERGE_REQUEST_IID"), "{err}");
}
