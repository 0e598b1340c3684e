//! Real verdicts for the forge tests: one repository with `main` and a head for each kind of
//! verdict, gated by `cavra_gate::run_gate` with the built-in policy, built once per test binary.
#![allow(dead_code)] // Each test binary uses some of the verdicts.

use cavra_diff::{ContentLimits, RevisionsRequest};
use cavra_forge::present::GateState;
use cavra_gate::{GateOptions, Status, Verdict, run_gate};
use cavra_policy::{Date, Mode};
use cavra_tests::TestRepo;
use std::sync::OnceLock;

/// A file name with a comma, a colon and a percent sign (escaped in workflow commands).
pub const ODD_KEY: &str = "keys/a,b: 100%.pem";

const MAIN: &[(&str, &str)] = &[("README.md", "# demo\n"), ("src/lib.rs", "pub fn f() {}\n")];
const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n";
const PLACEHOLDER: &str = "placeholder, not a key\n";
const WORKFLOW: (&str, &str) = (".github/workflows/ci.yml", "on: push\njobs: {}\n");
const LOCK: (&str, &str) = ("Cargo.lock", "version = 3\n");
const AUDIT_POLICY: (&str, &str) = (
    ".cavra/policy.yaml",
    "version: 1\nextends: [builtin:baseline]\nmode: audit\n",
);

/// The verdicts, each checked to be what its name says.
pub struct Verdicts {
    /// A private key (`deny`): fail.
    pub deny: Verdict,
    /// A new CI workflow (`approval`): needs approval by security.
    pub approval: Verdict,
    /// A README and source edit (`pass`): pass, no findings.
    pub pass: Verdict,
    /// A new Cargo.lock (`deps`): pass with an audit finding.
    pub audited: Verdict,
    /// A new key under a policy in audit mode (`audit-base` to `audit-head`): pass (neutral).
    pub audit_mode: Verdict,
    /// Keys, a workflow and a lock file (`mixed`): deny, require_approval and audit findings.
    pub fail: Verdict,
}

/// The verdicts, built on first use.
pub fn verdicts() -> &'static Verdicts {
    static VERDICTS: OnceLock<Verdicts> = OnceLock::new();
    VERDICTS.get_or_init(|| {
        let repo = TestRepo::new();
        for (path, content) in MAIN {
            repo.write(path, content);
        }
        repo.commit("main");
        // Each head starts from `from` as committed, and leaves `main`'s files as they were.
        let head = |name: &str, from: &str, files: &[(&str, &str)]| {
            repo.checkout(from).branch(name);
            for (path, content) in files {
                repo.write(path, content);
            }
            repo.commit(name);
            repo.checkout("main");
            for (path, _) in files {
                if !MAIN.iter().any(|(p, _)| p == path) {
                    let _ = std::fs::remove_file(repo.join(path));
                }
            }
        };
        head("deny", "main", &[("keys/server.pem", PEM)]);
        head("approval", "main", &[WORKFLOW]);
        head(
            "pass",
            "main",
            &[
                ("README.md", "# demo\n\nMore words.\n"),
                ("src/lib.rs", "pub fn f() {}\npub fn g() {}\n"),
            ],
        );
        head("deps", "main", &[LOCK]);
        head(
            "mixed",
            "main",
            &[
                ("keys/server.pem", PLACEHOLDER),
                (ODD_KEY, PLACEHOLDER),
                WORKFLOW,
                LOCK,
            ],
        );
        head("audit-base", "main", &[AUDIT_POLICY]);
        head(
            "audit-head",
            "audit-base",
            &[AUDIT_POLICY, ("keys/server.pem", PLACEHOLDER)],
        );
        let gate = |base: &str, head: &str| {
            let opts = GateOptions {
                repo_path: repo.path().to_path_buf(),
                revisions: RevisionsRequest {
                    base: Some(base.into()),
                    head: Some(head.into()),
                },
                policy_file: None,
                mode: None,
                approvals: Vec::new(),
                break_glass: None,
                today: Date::parse("2026-11-23").unwrap(),
                threads: 1,
                content_limits: ContentLimits::default(),
                tool_version: "0.0.0-test".into(),
            };
            run_gate(&opts, &|_| None).unwrap()
        };
        let v = Verdicts {
            deny: gate("main", "deny"),
            approval: gate("main", "approval"),
            pass: gate("main", "pass"),
            audited: gate("main", "deps"),
            audit_mode: gate("audit-base", "audit-head"),
            fail: gate("main", "mixed"),
        };
        let title = cavra_report::title;
        assert_eq!(v.deny.verdict, Status::Fail, "{}", title(&v.deny));
        assert_eq!(
            v.approval.verdict,
            Status::NeedsApproval,
            "{}",
            title(&v.approval)
        );
        assert_eq!(GateState::of(&v.approval), GateState::ActionRequired);
        assert_eq!(v.pass.verdict, Status::Pass, "{}", title(&v.pass));
        assert_eq!(GateState::of(&v.pass), GateState::Success);
        assert_eq!(v.pass.counts.findings, 0);
        assert_eq!(GateState::of(&v.audited), GateState::Success);
        assert_eq!(v.audited.counts.audit, 1);
        assert_eq!(v.audit_mode.mode, Mode::Audit);
        assert_eq!(v.audit_mode.counts.changes, 1);
        assert_eq!(GateState::of(&v.audit_mode), GateState::Neutral);
        assert_eq!(v.fail.verdict, Status::Fail);
        assert!(v.fail.counts.deny >= 2 && v.fail.counts.require_approval >= 1);
        assert!(v.fail.counts.audit >= 1);
        v
    })
}
