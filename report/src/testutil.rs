//! Hand-built verdicts for the unit tests.

use cavra_gate::{
    ChangeReport, Counts, PolicyInfo, RevisionInfo, SCHEMA_VERSION, Status, ToolInfo, Verdict,
};
use cavra_policy::engine::Waiver;
use cavra_policy::{Decision, Finding, Mode, Severity};

/// A finding of `rule` with `decision`.
pub(crate) fn finding(rule: &str, decision: Decision, line: Option<u32>) -> Finding {
    Finding {
        rule: rule.to_string(),
        decision,
        severity: Severity::High,
        message: format!("{rule} message"),
        reason: format!("{rule} reason"),
        line,
        command: None,
        approvers: Vec::new(),
        waived: None,
        expired_exception: None,
    }
}

/// A changed file with `findings`.
pub(crate) fn change(path: &str, findings: Vec<Finding>) -> ChangeReport {
    ChangeReport {
        path: path.to_string(),
        old_path: None,
        change: "added".to_string(),
        entry: "file".to_string(),
        old_entry: None,
        mode_change: None,
        similarity: None,
        binary: false,
        too_large: false,
        size: 10,
        lines_added: 1,
        lines_removed: 0,
        link_target: None,
        decision: findings
            .iter()
            .map(|f| f.decision)
            .max()
            .unwrap_or(Decision::Allow),
        findings,
    }
}

/// A verdict with no changes.
pub(crate) fn empty() -> Verdict {
    Verdict {
        schema: SCHEMA_VERSION.to_string(),
        tool: ToolInfo {
            name: "cavra".into(),
            version: "0.1.0".into(),
        },
        repository: None,
        revisions: RevisionInfo {
            base: "1111111111111111111111111111111111111111".into(),
            head: "2222222222222222222222222222222222222222".into(),
            merge_base: "1111111111111111111111111111111111111111".into(),
            base_source: "--base".into(),
        },
        policy: PolicyInfo {
            source: "builtin:baseline (default)".into(),
            sha256: "ab".repeat(32),
            layers: vec!["builtin:baseline".into()],
        },
        mode: Mode::Enforce,
        verdict: Status::Pass,
        enforced_verdict: None,
        counts: Counts::default(),
        pending_approvals: Vec::new(),
        approvals: Vec::new(),
        break_glass: None,
        expired_exceptions: Vec::new(),
        changes: Vec::new(),
        time: "2026-11-23T00:00:00Z".into(),
    }
}

/// A failing verdict with one finding of every class, and awkward characters in paths.
pub(crate) fn sample() -> Verdict {
    let mut approval = finding("ci-config", Decision::RequireApproval, None);
    approval.approvers = vec!["security".into()];
    let mut waived = finding("private-keys", Decision::Allow, None);
    waived.waived = Some(Waiver {
        reason: "test keys".into(),
        source: ".cavra/policy.yaml".into(),
        expires: Some("2099-01-01".into()),
    });
    let mut pipe = finding("cloud-credentials", Decision::Deny, Some(3));
    pipe.reason = "added line 3 matches content pattern `(AKIA|ASIA)`\nsecond line".into();
    let mut v = empty();
    v.verdict = Status::Fail;
    v.pending_approvals = vec!["security".into()];
    v.expired_exceptions = vec![Waiver {
        reason: "legacy".into(),
        source: ".cavra/policy.yaml".into(),
        expires: Some("2020-01-01".into()),
    }];
    v.changes = vec![
        change(".github/workflows/ci.yml", vec![approval]),
        change(
            "Cargo.lock",
            vec![finding("dependency-manifest", Decision::Audit, None)],
        ),
        change(
            "a <b> & \"c\" 'd'\u{1b}[31m.pem",
            vec![finding("private-keys", Decision::Deny, None)],
        ),
        change(
            "docs/x.txt",
            vec![finding("explicit", Decision::Allow, None)],
        ),
        change("src/config.rs", vec![pipe]),
        change("tests/fixtures/k.pem", vec![waived]),
    ];
    v.counts = Counts {
        changes: 6,
        findings: 6,
        deny: 2,
        require_approval: 1,
        audit: 1,
        allow: 2,
        waived: 1,
    };
    v
}
