//! The gate over real git repositories: every change kind, evasions, and the policy's origin.

use cavra_gate::{Approval, ChangeReport, GateError, Status, Verdict, run_gate};
use cavra_policy::{Decision, Mode};
use cavra_tests::TestRepo;

mod common;
use common::{change, no_env, options, repo_with};

fn gate(repo: &TestRepo) -> Verdict {
    run_gate(&options(repo, "main"), &no_env).unwrap()
}

fn rules(c: &ChangeReport) -> Vec<&str> {
    c.findings.iter().map(|f| f.rule.as_str()).collect()
}

#[test]
fn every_change_kind_is_reported() {
    let repo = repo_with(&[
        ("src/keep.rs", "fn a() {}\n"),
        ("src/gone.rs", "fn gone() {}\n"),
        (
            "docs/guide.md",
            &"a long enough line of documentation text\n".repeat(20),
        ),
        ("bin/tool", "#!/bin/sh\necho hi\n"),
        ("link", "plain file\n"),
    ]);
    repo.write("src/keep.rs", "fn a() {}\nfn b() {}\n")
        .write("src/new.rs", "fn new() {}\n")
        .remove("src/gone.rs")
        .rename("docs/guide.md", "docs/manual.md")
        .chmod_x("bin/tool", true)
        .remove("link")
        .symlink("link", "src/keep.rs")
        .write("assets/logo.bin", [0u8, 1, 2, 3, 0, 255]);
    repo.commit("head");
    let v = gate(&repo);
    let kind = |p: &str| change(&v, p).change.clone();
    assert_eq!(kind("src/keep.rs"), "modified");
    assert_eq!(kind("src/new.rs"), "added");
    assert_eq!(kind("src/gone.rs"), "deleted");
    assert_eq!(kind("docs/manual.md"), "renamed");
    assert_eq!(
        change(&v, "docs/manual.md").old_path.as_deref(),
        Some("docs/guide.md")
    );
    assert_eq!(change(&v, "docs/manual.md").similarity, Some(100));
    assert_eq!(kind("link"), "type_changed");
    assert_eq!(change(&v, "link").entry, "symlink");
    assert_eq!(change(&v, "link").old_entry.as_deref(), Some("file"));
    assert_eq!(
        change(&v, "link").link_target.as_deref(),
        Some("src/keep.rs")
    );
    let tool = change(&v, "bin/tool");
    assert_eq!(
        tool.mode_change,
        Some(["100644".to_string(), "100755".to_string()])
    );
    assert!(rules(tool).contains(&"new-executable"));
    let keep = change(&v, "src/keep.rs");
    assert_eq!((keep.lines_added, keep.lines_removed), (1, 0));
    let logo = change(&v, "assets/logo.bin");
    assert!(logo.binary);
    assert_eq!(logo.size, 6);
    assert_eq!(v.counts.changes, 7);
}

#[test]
fn copies_and_submodules() {
    let oid = |hex: &str| git2::Oid::from_str(&hex.repeat(40)).unwrap();
    let repo = TestRepo::new();
    let body = "pub fn shared_helper_function() -> u32 { 42 }\n".repeat(30);
    repo.write("lib/a.rs", &body);
    repo.commit("base");
    repo.commit_gitlink("vendor/dep", oid("1"), "submodule");
    repo.branch("feature");
    repo.write("lib/b.rs", &body);
    repo.commit("copy");
    repo.commit_gitlink("vendor/dep", oid("2"), "bump");
    let v = gate(&repo);
    let sub = change(&v, "vendor/dep");
    assert_eq!(
        (sub.entry.as_str(), sub.change.as_str()),
        ("submodule", "modified")
    );
    assert!(rules(sub).contains(&"submodule"));
    // libgit2 finds copies only among modified files unless told to scan unmodified ones
    // (as `git diff -C` without `--find-copies-harder`), so an untouched source reads as added.
    let copy = change(&v, "lib/b.rs");
    assert_eq!(copy.change, "added");
    assert_eq!(copy.lines_added, 30);

    // A copy whose source is also edited in the change is found as a copy.
    repo.write("lib/c.rs", &body)
        .write("lib/a.rs", format!("{body}pub fn more() {{}}\n"));
    repo.commit("copy of an edited file");
    let v = gate(&repo);
    let copied = change(&v, "lib/c.rs");
    assert_eq!(copied.change, "copied");
    assert_eq!(copied.old_path.as_deref(), Some("lib/a.rs"));
    assert_eq!(copied.similarity, Some(100));
}

#[test]
fn a_protected_file_renamed_to_an_innocent_path_is_still_caught() {
    let repo = repo_with(&[(
        "certs/server.pem",
        "not really a key, but protected by name\n",
    )]);
    // Policy exceptions aside, moving the key out of its name must not hide it.
    repo.rename("certs/server.pem", "docs/notes.txt");
    repo.commit("hide the key");
    let v = gate(&repo);
    let c = change(&v, "docs/notes.txt");
    assert_eq!(c.change, "renamed");
    assert_eq!(c.decision, Decision::Deny);
    assert!(
        c.findings[0].reason.contains("certs/server.pem"),
        "{}",
        c.findings[0].reason
    );
    assert_eq!(v.verdict, Status::Fail);
}

#[test]
fn a_symlink_into_a_protected_path_is_caught() {
    let repo = repo_with(&[("ops/prod.pem", "protected\n")]);
    repo.symlink("public/readme", "../ops/prod.pem");
    repo.commit("link");
    let v = gate(&repo);
    let c = change(&v, "public/readme");
    assert_eq!(c.link_target.as_deref(), Some("ops/prod.pem"));
    assert!(rules(c).contains(&"private-keys"), "{:?}", rules(c));
    assert!(rules(c).contains(&"symlink"));
    assert_eq!(v.verdict, Status::Fail);
}

const STRICT_POLICY: &str = "version: 1
extends: [builtin:baseline]
approvers:
  release: { github: ['@acme/release'] }
rules:
  - id: no-vendor
    match: { paths: ['vendor/**'] }
    decision: deny
";

#[test]
fn the_head_cannot_change_the_policy_that_judges_it() {
    let repo = repo_with(&[(".cavra/policy.yaml", STRICT_POLICY)]);
    // The pull request drops the rule and adds what it forbade.
    repo.write(".cavra/policy.yaml", "version: 1\nmode: audit\nrules: []\n")
        .write("vendor/evil.js", "steal()\n");
    repo.commit("weaken the policy");
    let v = gate(&repo);
    assert!(
        v.policy.source.starts_with(".cavra/policy.yaml@"),
        "{}",
        v.policy.source
    );
    assert_eq!(
        v.mode,
        Mode::Enforce,
        "the head's `mode: audit` must not apply"
    );
    assert_eq!(change(&v, "vendor/evil.js").decision, Decision::Deny);
    let edit = change(&v, ".cavra/policy.yaml");
    assert_eq!(edit.decision, Decision::RequireApproval);
    assert!(rules(edit).contains(&"policy-change"));
    assert_eq!(v.verdict, Status::Fail);
}

#[test]
fn a_policy_that_drops_the_policy_rule_still_guards_itself() {
    let repo = repo_with(&[(
        ".cavra/policy.yaml",
        "version: 1\nextends: [builtin:baseline]\nrules:\n  - { id: policy-change, disabled: true }\n",
    )]);
    repo.write(".cavra/policy.yaml", "version: 1\n");
    repo.commit("edit");
    let v = gate(&repo);
    let edit = change(&v, ".cavra/policy.yaml");
    assert_eq!(rules(edit), vec!["cavra/policy-change"]);
    assert_eq!(v.verdict, Status::NeedsApproval);
}

#[test]
fn an_empty_diff_passes() {
    let repo = repo_with(&[("a.txt", "a\n")]);
    let v = gate(&repo);
    assert!(v.changes.is_empty());
    assert_eq!(v.verdict, Status::Pass);
    assert_eq!(v.revisions.base, v.revisions.head);
}

#[test]
fn binary_and_50_mb_files() {
    let repo = repo_with(&[]);
    let mut big = vec![b'x'; 50 * 1024 * 1024 + 10];
    big[100] = 0; // binary
    repo.write("data/huge.bin", &big)
        .write("data/big.txt", "line\n".repeat(1_300_000)); // 6.5 MB text
    repo.commit("big files");
    let v = gate(&repo);
    let huge = change(&v, "data/huge.bin");
    assert!(huge.binary && huge.too_large);
    assert_eq!(huge.size, big.len() as u64);
    assert!(rules(huge).contains(&"large-file"));
    assert!(rules(huge).contains(&"large-binary"));
    let text = change(&v, "data/big.txt");
    assert!(!text.binary);
    assert_eq!(text.lines_added, 1_300_000);
    assert_eq!(v.verdict, Status::Fail);
}

#[test]
fn unicode_and_non_utf8_paths_survive() {
    let repo = repo_with(&[]);
    repo.write("docs/résumé ü.md", "hello\n");
    let raw = std::ffi::OsStr::from_bytes(b"data/caf\xe9.pem");
    repo.write(std::path::Path::new(raw), "k\n");
    repo.commit("names");
    let v = gate(&repo);
    assert_eq!(change(&v, "docs/résumé ü.md").change, "added");
    let latin1 = change(&v, "data/caf\\xe9.pem");
    assert_eq!(
        latin1.decision,
        Decision::Deny,
        "globs match non-UTF-8 names too"
    );
}

use std::os::unix::ffi::OsStrExt;

#[test]
fn expired_exceptions_no_longer_apply_and_are_reported() {
    let policy = "version: 1
extends: [builtin:baseline]
exceptions:
  - { rule: private-keys, paths: ['tests/fixtures/**'], reason: throwaway test keys, expires: 2027-06-30 }
  - { rule: private-keys, paths: ['legacy/**'], reason: old keys, expires: 2025-01-01 }
";
    let repo = repo_with(&[(".cavra/policy.yaml", policy)]);
    repo.write("tests/fixtures/test.pem", "k\n")
        .write("legacy/old.pem", "k\n");
    repo.commit("keys");
    let v = gate(&repo);
    let fixture = change(&v, "tests/fixtures/test.pem");
    assert_eq!(fixture.decision, Decision::Allow);
    assert_eq!(
        fixture.findings[0].waived.as_ref().unwrap().reason,
        "throwaway test keys"
    );
    let legacy = change(&v, "legacy/old.pem");
    assert_eq!(legacy.decision, Decision::Deny);
    assert!(legacy.findings[0].expired_exception.is_some());
    assert_eq!(v.expired_exceptions.len(), 1);
    assert_eq!(v.expired_exceptions[0].reason, "old keys");
    assert_eq!(v.counts.waived, 1);
}

#[test]
fn audit_enforce_and_strict_on_the_same_change() {
    let repo = repo_with(&[]);
    repo.write(".github/workflows/ci.yml", "on: push\n")
        .write("src/lib.rs", "pub fn x() {}\n");
    repo.commit("change");
    let run = |mode: Mode| {
        let mut o = options(&repo, "main");
        o.mode = Some(mode);
        run_gate(&o, &no_env).unwrap()
    };
    let enforce = run(Mode::Enforce);
    assert_eq!(enforce.verdict, Status::NeedsApproval);
    assert!(change(&enforce, "src/lib.rs").findings.is_empty());
    let strict = run(Mode::Strict);
    assert_eq!(strict.verdict, Status::NeedsApproval);
    assert_eq!(
        rules(change(&strict, "src/lib.rs")),
        vec!["strict/unmatched"]
    );
    // The baseline says enforce: asking for audit from the command line is refused...
    let mut o = options(&repo, "main");
    o.mode = Some(Mode::Audit);
    assert!(matches!(run_gate(&o, &no_env), Err(GateError::Usage(m)) if m.contains("stricter")));
    // ...but a policy in audit mode reports without blocking.
    let policy_file = repo.join("audit.yaml");
    std::fs::write(
        &policy_file,
        "version: 1\nextends: [builtin:baseline]\nmode: audit\n",
    )
    .unwrap();
    let mut o = options(&repo, "main");
    o.policy_file = Some(policy_file);
    let audit = run_gate(&o, &no_env).unwrap();
    assert_eq!(audit.verdict, Status::Pass);
    assert_eq!(audit.enforced_verdict, Some(Status::NeedsApproval));
    assert_eq!(audit.counts.require_approval, 1);
}

#[test]
fn approvals_count_only_for_their_group_and_the_head_commit() {
    let repo = repo_with(&[]);
    repo.write(".github/workflows/ci.yml", "on: push\n");
    let head = repo.commit("ci");
    let run = |approvals: Vec<Approval>| {
        let mut o = options(&repo, "main");
        o.approvals = approvals;
        run_gate(&o, &no_env).unwrap()
    };
    let approval = |group: &str, commit: &str| Approval {
        group: group.into(),
        approver: "alice".into(),
        commit: commit.into(),
    };
    assert_eq!(run(vec![]).pending_approvals, vec!["security"]);
    assert_eq!(
        run(vec![approval("maintainers", "")]).verdict,
        Status::NeedsApproval
    );
    assert_eq!(
        run(vec![approval(
            "security",
            "0000000000000000000000000000000000000000"
        )])
        .verdict,
        Status::NeedsApproval
    );
    let short = head.to_string()[..10].to_string();
    assert_eq!(
        run(vec![approval("security", &short)]).verdict,
        Status::Pass,
        "a short SHA of the head counts"
    );
    let ok = run(vec![approval("security", "")]);
    assert_eq!(ok.verdict, Status::Pass);
    assert_eq!(ok.approvals[0].commit, head.to_string());
}

#[test]
fn break_glass_is_recorded_and_bounded() {
    let repo = repo_with(&[]);
    repo.write("prod.pem", "k\n");
    repo.commit("emergency");
    let mut o = options(&repo, "main");
    o.break_glass = Some((
        "oncall-bob".into(),
        "INC-4711: rotate the prod certificate now".into(),
    ));
    let v = run_gate(&o, &no_env).unwrap();
    assert_eq!(v.verdict, Status::Pass);
    let bg = v.break_glass.as_ref().unwrap();
    assert_eq!(bg.actor, "oncall-bob");
    assert_eq!(bg.overridden, Status::Fail);
    assert_eq!(v.counts.deny, 1, "findings stay on the record");

    o.break_glass = Some(("bob".into(), "because".into()));
    assert!(
        matches!(run_gate(&o, &no_env), Err(GateError::Usage(m)) if m.contains("justification"))
    );

    let closed = repo.join("closed.yaml");
    std::fs::write(
        &closed,
        "version: 1\nextends: [builtin:baseline]\nbreak_glass: { allowed: false }\n",
    )
    .unwrap();
    o.policy_file = Some(closed);
    o.break_glass = Some(("bob".into(), "a long enough justification".into()));
    assert!(matches!(run_gate(&o, &no_env), Err(GateError::Usage(m)) if m.contains("not allowed")));
}

#[test]
fn a_malformed_base_policy_is_an_error_with_its_position() {
    let repo = repo_with(&[(
        ".cavra/policy.yaml",
        "version: 1\nrules:\n  - id: x\n    match: { paths: ['a/[b'] }\n    decision: deny\n    colour: red\n",
    )]);
    repo.write("a.txt", "a\n");
    repo.commit("x");
    let err = run_gate(&options(&repo, "main"), &no_env).unwrap_err();
    let GateError::Policy(errors) = err else {
        panic!("{err}")
    };
    let text = errors.to_string();
    assert!(
        text.contains(".cavra/policy.yaml:4:22: bad glob `a/[b`"),
        "{text}"
    );
    assert!(
        text.contains(".cavra/policy.yaml:6:5: unknown key `colour`"),
        "{text}"
    );
}

#[test]
fn ci_variables_choose_the_base() {
    let repo = repo_with(&[]);
    let base = repo.repo.revparse_single("main").unwrap().id().to_string();
    repo.write("x.pem", "k\n");
    repo.commit("x");
    let mut o = options(&repo, "main");
    o.revisions.base = None;
    let gitlab = |k: &str| (k == "CI_MERGE_REQUEST_DIFF_BASE_SHA").then(|| base.clone());
    let v = run_gate(&o, &gitlab).unwrap();
    assert_eq!(v.revisions.base_source, "CI_MERGE_REQUEST_DIFF_BASE_SHA");
    assert_eq!(v.revisions.merge_base, base);

    let event = repo.join("event.json");
    std::fs::write(
        &event,
        format!(r#"{{"pull_request": {{"base": {{"sha": "{base}"}}}}}}"#),
    )
    .unwrap();
    let event = event.display().to_string();
    let github = |k: &str| match k {
        "GITHUB_ACTIONS" => Some("true".to_string()),
        "GITHUB_EVENT_PATH" => Some(event.clone()),
        "GITHUB_REPOSITORY" => Some("acme/app".to_string()),
        _ => None,
    };
    let v = run_gate(&o, &github).unwrap();
    assert_eq!(v.revisions.base_source, "GITHUB_EVENT_PATH");
    assert_eq!(v.repository.as_deref(), Some("acme/app"));

    let azure =
        |k: &str| (k == "SYSTEM_PULLREQUEST_TARGETBRANCH").then(|| "refs/heads/main".to_string());
    assert_eq!(
        run_gate(&o, &azure).unwrap().revisions.base_source,
        "SYSTEM_PULLREQUEST_TARGETBRANCH"
    );
    // Locally, the default branch.
    assert_eq!(
        run_gate(&o, &no_env).unwrap().revisions.base_source,
        "default branch"
    );
}

#[test]
fn a_shallow_clone_missing_the_base_says_how_to_fetch_it() {
    let repo = repo_with(&[("a.txt", "a\n")]);
    let base = repo.repo.revparse_single("main").unwrap().id().to_string();
    for i in 0..3 {
        repo.write("a.txt", format!("a{i}\n"));
        repo.commit("more");
    }
    let clone = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", "--branch", "feature"])
        .arg(format!("file://{}", repo.path().display()))
        .arg(clone.path())
        .status()
        .expect("git clone");
    assert!(status.success());
    let mut o = options(&repo, &base);
    o.repo_path = clone.path().to_path_buf();
    let err = run_gate(&o, &no_env).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, GateError::Diff(_)));
    assert!(text.contains(&base), "{text}");
    assert!(text.contains("shallow clone"), "{text}");
    assert!(text.contains("fetch-depth: 0"), "{text}");
}
