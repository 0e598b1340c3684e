//! `cavra report FORGE` end to end: gate a real repository with the binary, post its JSON result
//! to a local mock of each forge (every request checked against the forge's published or
//! documented request shape), and assert the exact requests, the idempotent note or thread, and
//! that the token never shows. `cavra gate --post` must send the very same requests.

mod common;

use cavra_testkit::forges::azure::MockAzure;
use cavra_testkit::forges::github::{Call, MockGithub};
use cavra_testkit::forges::gitlab::{Auth, MockGitlab, Setup};
use cavra_tests::TestRepo;
use common::{cavra_with as cavra, text};
use serde_json::Value;
use std::process::Output;

const GITHUB_TOKEN: &str = cavra_testkit::forges::github::TOKEN;
const GITLAB_TOKEN: &str = "glpat-E2Esecret-0123456789";
const AZURE_TOKEN: &str = "oauth-e2e-system-access-token-0123456789";
const MARKER: &str = "<!-- cavra:gate -->";

/// A repository whose `feature` branch adds a workflow that pipes curl into a shell (denied by
/// the built-in baseline) and whose `fixed` branch only edits the README.
struct Fixture {
    repo: TestRepo,
    bad_head: String,
    good_head: String,
}

fn fixture() -> Fixture {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n");
    repo.commit("base");
    repo.branch("feature");
    repo.write(
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: curl -fsSL https://get.example.com | sh\n",
    );
    let bad_head = repo.commit("add ci").to_string();
    repo.checkout("main");
    repo.branch("fixed");
    repo.write("README.md", "# demo\n\nMore words.\n");
    let good_head = repo.commit("docs").to_string();
    Fixture {
        repo,
        bad_head,
        good_head,
    }
}

/// Gates `head` against main and writes the JSON result; returns its path and the exit code.
fn gate(fx: &Fixture, head: &str, name: &str) -> (String, i32) {
    let result = fx.repo.join(name);
    let report = format!("json={}", result.display());
    let out = cavra(
        fx.repo.path(),
        &[
            "gate", "--base", "main", "--head", head, "--report", &report,
        ],
        &[],
    );
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 1, "{}", text(&out));
    (result.display().to_string(), code)
}

fn assert_secret_free(out: &Output, token: &str) {
    let all = text(out);
    assert!(!all.contains(token), "the token leaked: {all}");
}

#[test]
fn github_check_run_step_summary_and_annotations() {
    let fx = fixture();
    let (result, code) = gate(&fx, &fx.bad_head, "result.json");
    assert_eq!(code, 1);
    let mock = MockGithub::start("/api/v3");
    let summary_file = fx.repo.join("step-summary.md");
    std::fs::write(&summary_file, "## earlier step\n").unwrap();
    let vars = vec![
        ("GITHUB_API_URL", mock.api_url()),
        ("GITHUB_REPOSITORY", "octo-org/hello-world".to_string()),
        ("GITHUB_TOKEN", GITHUB_TOKEN.to_string()),
        ("GITHUB_SERVER_URL", "https://github.com".to_string()),
        ("GITHUB_RUN_ID", "77".to_string()),
        ("GITHUB_STEP_SUMMARY", summary_file.display().to_string()),
    ];
    let out = cavra(fx.repo.path(), &["report", "github", &result], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_secret_free(&out, GITHUB_TOKEN);
    mock.assert_no_problems();
    let calls = mock.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let (call, req) = &calls[0];
    assert_eq!(*call, Call::CreateCheckRun);
    let body = req.json();
    assert_eq!(body["name"], "cavra/gate");
    assert_eq!(body["head_sha"], fx.bad_head.as_str());
    assert_eq!(body["status"], "completed");
    assert_eq!(body["conclusion"], "failure");
    assert_eq!(
        body["details_url"],
        "https://github.com/octo-org/hello-world/actions/runs/77"
    );
    let title = body["output"]["title"].as_str().unwrap();
    assert!(title.starts_with("FAIL"), "{title}");
    assert!(
        body["output"]["summary"]
            .as_str()
            .unwrap()
            .starts_with(MARKER)
    );
    let annotations = body["output"]["annotations"].as_array().unwrap();
    let pipe = annotations
        .iter()
        .find(|a| a["title"].as_str().unwrap().starts_with("pipe-to-shell"))
        .expect("the denied command is annotated");
    assert_eq!(pipe["path"], ".github/workflows/ci.yml");
    assert_eq!(pipe["start_line"], 6);
    assert_eq!(pipe["annotation_level"], "failure");
    // The step summary is appended to, and the workflow commands point at the line.
    let summary = std::fs::read_to_string(&summary_file).unwrap();
    assert!(summary.starts_with("## earlier step\n") && summary.contains(MARKER));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error file=.github/workflows/ci.yml,line=6,"),
        "{stdout}"
    );

    // --exit-code passes the verdict on; gate --post sends the same check run.
    let again = cavra(
        fx.repo.path(),
        &[
            "report",
            "github",
            &result,
            "--exit-code",
            "--no-step-summary",
        ],
        &vars,
    );
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    let posted = cavra(
        fx.repo.path(),
        &[
            "gate",
            "--base",
            "main",
            "--head",
            &fx.bad_head,
            "--post",
            "github",
        ],
        &vars,
    );
    assert_eq!(posted.status.code(), Some(1), "{}", text(&posted));
    let calls = mock.calls();
    assert_eq!(calls.len(), 3);
    let strip_time = |mut v: Value| {
        v["output"]["summary"] = Value::Null; // holds the verdict's time
        v
    };
    assert_eq!(strip_time(calls[2].1.json()), strip_time(body.clone()));

    // A pending check run for HEAD before the gate.
    let pending = cavra(
        fx.repo.path(),
        &["report", "github", "--pending", "--head", "feature"],
        &vars,
    );
    assert_eq!(pending.status.code(), Some(0), "{}", text(&pending));
    let last = mock.calls().pop().unwrap().1.json();
    assert_eq!(last["status"], "in_progress");
    assert_eq!(last["head_sha"], fx.bad_head.as_str());
}

#[test]
fn gitlab_status_and_one_note_updated_in_place() {
    let fx = fixture();
    let mock = MockGitlab::start(Setup {
        token: GITLAB_TOKEN.into(),
        auth: Auth::Private,
        prefix: "/api/v4".into(),
        project_segment: "42".into(),
    });
    let vars = vec![
        ("CI_API_V4_URL", mock.api_url()),
        ("CI_PROJECT_ID", "42".to_string()),
        ("CI_MERGE_REQUEST_IID", "7".to_string()),
        ("CI_PIPELINE_ID", "1234".to_string()),
        ("CI_COMMIT_REF_NAME", "feature".to_string()),
        (
            "CI_JOB_URL",
            "https://gitlab.example.com/g/p/-/jobs/9".to_string(),
        ),
        ("CAVRA_GITLAB_TOKEN", GITLAB_TOKEN.to_string()),
        ("CI_JOB_TOKEN", "job-token-not-used".to_string()),
    ];
    let running = cavra(
        fx.repo.path(),
        &["report", "gitlab", "--pending", "--head", "feature"],
        &vars,
    );
    assert_eq!(running.status.code(), Some(0), "{}", text(&running));
    assert_eq!(
        mock.status(&fx.bad_head, "cavra/gate").as_deref(),
        Some("running")
    );

    let (bad, _) = gate(&fx, &fx.bad_head, "bad.json");
    let out = cavra(fx.repo.path(), &["report", "gitlab", &bad], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_secret_free(&out, GITLAB_TOKEN);
    assert!(mock.violations().is_empty(), "{:?}", mock.violations());
    assert_eq!(
        mock.status(&fx.bad_head, "cavra/gate").as_deref(),
        Some("failed")
    );
    let notes = mock.notes(7);
    assert_eq!(notes.len(), 1);
    let first = notes[0]["body"].as_str().unwrap().to_string();
    assert!(
        first.starts_with(MARKER) && first.contains("pipe-to-shell"),
        "{first}"
    );
    let status_req = mock
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "POST" && r.path().contains("/statuses/"))
        .unwrap();
    let form = status_req.text();
    for field in [
        "state=failed",
        "name=cavra%2Fgate",
        "pipeline_id=1234",
        "ref=feature",
    ] {
        assert!(form.contains(field), "{field} in {form}");
    }

    // The fix: the same note now says pass, and there is still one note.
    let (good, code) = gate(&fx, &fx.good_head, "good.json");
    assert_eq!(code, 0);
    let out = cavra(fx.repo.path(), &["report", "gitlab", &good], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        mock.status(&fx.good_head, "cavra/gate").as_deref(),
        Some("success")
    );
    let notes = mock.notes(7);
    assert_eq!(notes.len(), 1, "one note, updated in place");
    let second = notes[0]["body"].as_str().unwrap();
    assert_ne!(second, first);
    assert!(
        second.contains("PASS") || second.contains("pass"),
        "{second}"
    );
    assert!(
        mock.requests()
            .iter()
            .any(|r| r.method == "PUT" && r.path().contains("/notes/")),
        "the note was edited, not posted again"
    );
}

#[test]
fn azure_status_and_one_thread_updated_in_place() {
    let fx = fixture();
    let repo_id = "b92c8408-a0c9-4292-88af-bc005a1b8272";
    let project = "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c";
    let mock = MockAzure::start(
        &format!("/acme/{project}/_apis/git/repositories/{repo_id}/pullRequests/17"),
        &format!("Bearer {AZURE_TOKEN}"),
        vec![(1, fx.bad_head.clone()), (2, fx.good_head.clone())],
    );
    let vars = |source: &str| {
        vec![
            (
                "SYSTEM_COLLECTIONURI",
                format!("{}/acme/", mock.server.url()),
            ),
            ("SYSTEM_TEAMPROJECTID", project.to_string()),
            ("SYSTEM_TEAMPROJECT", "Fabrikam".to_string()),
            ("BUILD_REPOSITORY_ID", repo_id.to_string()),
            ("BUILD_REPOSITORY_PROVIDER", "TfsGit".to_string()),
            ("BUILD_BUILDID", "42".to_string()),
            ("SYSTEM_PULLREQUEST_PULLREQUESTID", "17".to_string()),
            ("SYSTEM_PULLREQUEST_SOURCECOMMITID", source.to_string()),
            ("SYSTEM_ACCESSTOKEN", AZURE_TOKEN.to_string()),
        ]
    };
    let (bad, _) = gate(&fx, &fx.bad_head, "bad.json");
    let out = cavra(
        fx.repo.path(),
        &["report", "azure", &bad],
        &vars(&fx.bad_head),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_secret_free(&out, AZURE_TOKEN);
    mock.assert_clean();
    let status = mock.statuses().pop().unwrap();
    assert_eq!(status["state"], "failed");
    assert_eq!(status["context"]["genre"], "cavra");
    assert_eq!(status["context"]["name"], "gate");
    assert_eq!(status["iterationId"], 1);
    assert!(status["description"].as_str().unwrap().starts_with("FAIL"));
    let threads = mock.threads();
    assert_eq!(threads.len(), 1);
    let first = threads[0]["comments"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(first.starts_with(MARKER), "{first}");

    let (good, _) = gate(&fx, &fx.good_head, "good.json");
    let out = cavra(
        fx.repo.path(),
        &["report", "azure", &good],
        &vars(&fx.good_head),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    mock.assert_clean();
    let status = mock.statuses().pop().unwrap();
    assert_eq!(status["state"], "succeeded");
    assert_eq!(status["iterationId"], 2);
    let threads = mock.threads();
    assert_eq!(threads.len(), 1, "one thread, updated in place");
    assert_ne!(
        threads[0]["comments"][0]["content"].as_str().unwrap(),
        first
    );
    assert_eq!(threads[0]["status"], "fixed");
}

#[test]
fn missing_variables_and_refusals_are_clear() {
    let fx = fixture();
    let (result, _) = gate(&fx, &fx.bad_head, "result.json");
    let out = cavra(fx.repo.path(), &["report", "gitlab", &result], &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("CI_PROJECT_ID"), "{}", text(&out));

    let mock = MockGithub::start("");
    mock.script([cavra_testkit::forges::github::github_error(
        401,
        "Bad credentials",
    )]);
    let vars = vec![
        ("GITHUB_API_URL", mock.api_url()),
        ("GITHUB_REPOSITORY", "octo-org/hello-world".to_string()),
        ("GITHUB_TOKEN", GITHUB_TOKEN.to_string()),
    ];
    let out = cavra(
        fx.repo.path(),
        &["report", "github", &result, "--no-annotations"],
        &vars,
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("401") && text(&out).contains("Bad credentials"));
    assert_secret_free(&out, GITHUB_TOKEN);

    std::fs::write(fx.repo.join("junk.json"), "{\"schema\": 1").unwrap();
    let out = cavra(fx.repo.path(), &["report", "github", "junk.json"], &vars);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("junk.json"), "{}", text(&out));
}
