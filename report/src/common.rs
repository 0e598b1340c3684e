//! What the formats share: how a finding is classed, located, described and fingerprinted.

use cavra_gate::{ChangeReport, Status, Verdict};
use cavra_policy::{Decision, Finding};
use sha2::{Digest, Sha256};

/// How a finding is shown: its decision, with waived findings apart from explicit allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Class {
    /// Blocks.
    Deny,
    /// Blocks until approved.
    Approval,
    /// Recorded only.
    Audit,
    /// A rule explicitly allows it.
    Allow,
    /// An exception waives it (its decision is `allow`).
    Waived,
}

impl Class {
    /// The class of `finding`.
    pub(crate) fn of(finding: &Finding) -> Class {
        if finding.waived.is_some() {
            return Class::Waived;
        }
        match finding.decision {
            Decision::Deny => Class::Deny,
            Decision::RequireApproval => Class::Approval,
            Decision::Audit => Class::Audit,
            Decision::Allow => Class::Allow,
        }
    }

    /// True for findings the SARIF and Code Quality reports leave out.
    pub(crate) fn is_quiet(self) -> bool {
        matches!(self, Class::Allow | Class::Waived)
    }
}

/// The status as people read it (no emoji).
pub(crate) fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::NeedsApproval => "NEEDS APPROVAL",
        Status::Fail => "FAIL",
    }
}

/// An abbreviated commit id.
pub(crate) fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// The line a finding points at: its own, or the first line of the file.
pub(crate) fn start_line(finding: &Finding) -> u32 {
    finding.line.filter(|&l| l >= 1).unwrap_or(1)
}

/// The file a finding points into: the changed path, or for a command written elsewhere (a
/// GitLab `!reference`, an Azure template) that file.
pub(crate) fn finding_path<'a>(change: &'a ChangeReport, finding: &'a Finding) -> &'a str {
    match &finding.command {
        Some(c) if !c.file.is_empty() => &c.file,
        _ => &change.path,
    }
}

/// `path` or `path:line`.
pub(crate) fn location(change: &ChangeReport, finding: &Finding) -> String {
    let path = finding_path(change, finding);
    match finding.line {
        Some(line) => format!("{path}:{line}"),
        None => path.to_string(),
    }
}

/// The command a finding is about, with where it runs: `` `curl x | sh` (github-actions, jobs.a.steps[0]) ``.
pub(crate) fn command_note(finding: &Finding) -> Option<String> {
    let c = finding.command.as_ref()?;
    let place = if c.step.is_empty() {
        c.context.to_string()
    } else {
        format!("{}, {}", c.context, c.step)
    };
    Some(format!("`{}` ({place})", c.command))
}

/// The rule's message followed by why it matched and, for commands, the command.
pub(crate) fn describe(finding: &Finding) -> String {
    let mut text = finding.message.clone();
    if !finding.reason.is_empty() {
        text = format!("{text}: {}", finding.reason);
    }
    if let Some(note) = command_note(finding) {
        text = format!("{text}; command {note}");
    }
    text
}

/// A stable fingerprint of a finding: sha256 over rule, path and line, hex-encoded.
///
/// It does not depend on the message, the reason or the commit, so the same finding keeps its
/// fingerprint from one push to the next.
pub(crate) fn fingerprint(change: &ChangeReport, finding: &Finding) -> String {
    let mut hash = Sha256::new();
    hash.update(b"cavra-finding/v1\0");
    hash.update(finding.rule.as_bytes());
    hash.update(b"\0");
    hash.update(finding_path(change, finding).as_bytes());
    hash.update(b"\0");
    hash.update(finding.line.unwrap_or(0).to_string().as_bytes());
    if let Some(c) = &finding.command {
        hash.update(b"\0");
        hash.update(c.command.as_bytes());
    }
    hex::encode(hash.finalize())
}

/// Who still has to approve, in words: `None` when nothing waits for approval.
///
/// The verdict lists pending approver groups; an empty list means either that nothing is
/// pending or that anyone may approve, so the findings decide which.
pub(crate) fn pending_approvers(verdict: &Verdict) -> Option<String> {
    if !verdict.pending_approvals.is_empty() {
        return Some(verdict.pending_approvals.join(", "));
    }
    let waiting = verdict.findings().any(|(_, f)| {
        Class::of(f) == Class::Approval && f.approvers.is_empty() && !verdict.is_approved(f)
    });
    waiting.then(|| "any reviewer".to_string())
}

/// The findings of `verdict` in one class, in path order.
pub(crate) fn findings_of(
    verdict: &Verdict,
    class: Class,
) -> impl Iterator<Item = (&ChangeReport, &Finding)> {
    verdict
        .findings()
        .filter(move |(_, f)| Class::of(f) == class)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{finding, sample};

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let v = sample();
        let (c, f) = v.findings().next().unwrap();
        assert_eq!(fingerprint(c, f), fingerprint(c, f));
        assert_eq!(fingerprint(c, f).len(), 64);
        let mut other = f.clone();
        other.line = Some(99);
        assert_ne!(fingerprint(c, f), fingerprint(c, &other));
        other.line = f.line;
        other.message = "another message".into();
        assert_eq!(fingerprint(c, f), fingerprint(c, &other));
    }

    #[test]
    fn waived_findings_class_apart_from_allows() {
        let mut f = finding("r", Decision::Allow, None);
        assert_eq!(Class::of(&f), Class::Allow);
        f.waived = Some(cavra_policy::engine::Waiver {
            reason: "x".into(),
            source: "p".into(),
            expires: None,
        });
        assert_eq!(Class::of(&f), Class::Waived);
        assert!(Class::of(&f).is_quiet());
    }

    #[test]
    fn anyone_may_approve_when_no_group_is_named() {
        let mut v = sample();
        v.pending_approvals.clear();
        assert_eq!(pending_approvers(&v).as_deref(), None);
        v.changes[0]
            .findings
            .push(finding("open", Decision::RequireApproval, None));
        assert_eq!(pending_approvers(&v).as_deref(), Some("any reviewer"));
    }
}
