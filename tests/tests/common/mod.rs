//! Set-up shared by the gate scenario tests.

#![allow(dead_code)] // each test file uses its own subset

use cavra_diff::{ContentLimits, RevisionsRequest};
use cavra_gate::{ChangeReport, GateOptions, Verdict};
use cavra_policy::Date;
use cavra_tests::TestRepo;

/// Gate options for `repo` against `base`, on a fixed day, with two threads.
pub fn options(repo: &TestRepo, base: &str) -> GateOptions {
    GateOptions {
        repo_path: repo.path().to_path_buf(),
        revisions: RevisionsRequest {
            base: Some(base.to_string()),
            head: None,
        },
        policy_file: None,
        mode: None,
        approvals: Vec::new(),
        break_glass: None,
        today: Date::parse("2026-11-23").unwrap(),
        threads: 2,
        content_limits: ContentLimits::default(),
        tool_version: "test".to_string(),
    }
}

/// No CI variables.
pub fn no_env(_: &str) -> Option<String> {
    None
}

/// A repository with `main` holding a README and `files`, and a `feature` branch checked out.
pub fn repo_with(files: &[(&str, &str)]) -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "# project\n");
    for (path, content) in files {
        repo.write(path, content);
    }
    repo.commit("base");
    repo.branch("feature");
    repo
}

/// The report of the changed `path`.
pub fn change<'v>(v: &'v Verdict, path: &str) -> &'v ChangeReport {
    v.changes
        .iter()
        .find(|c| c.path == path)
        .unwrap_or_else(|| {
            panic!(
                "no change for {path}: {:#?}",
                v.changes.iter().map(|c| &c.path).collect::<Vec<_>>()
            )
        })
}
