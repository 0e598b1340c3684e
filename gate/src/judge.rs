//! Judging one changed entry: load what the rules need, build the subject, evaluate.

use crate::ChangeReport;
use crate::commands::{TreeFiles, judge_commands};
use cavra_diff::{Change, ChangeKind as DiffKind, Content, EntryKind};
use cavra_policy::{Action, ChangeKind, Decision, Engine, Finding, Severity, Subject};
use git2::{Oid, Repository};

/// The id of the finding the gate adds when a policy would let its own files change unreviewed.
pub const POLICY_GUARD_RULE: &str = "cavra/policy-change";

fn policy_kind(kind: DiffKind) -> ChangeKind {
    match kind {
        DiffKind::Added => ChangeKind::Added,
        DiffKind::Modified => ChangeKind::Modified,
        DiffKind::Deleted => ChangeKind::Deleted,
        DiffKind::Renamed => ChangeKind::Renamed,
        DiffKind::Copied => ChangeKind::Copied,
        DiffKind::TypeChanged => ChangeKind::TypeChanged,
    }
}

/// Where a symlink at `link` pointing to `target` lands, as a repository path
/// (absolute targets and targets that leave the repository keep a leading `/` or `../`).
fn resolve_link(link: &[u8], target: &[u8]) -> String {
    let target = String::from_utf8_lossy(target);
    if target.starts_with('/') {
        return target.into_owned();
    }
    let link = String::from_utf8_lossy(link);
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    let mut escapes = 0;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    escapes += 1;
                }
            }
            p => parts.push(p),
        }
    }
    "../".repeat(escapes) + &parts.join("/")
}

/// True for paths of the policy itself, which a change may never edit unreviewed.
fn is_policy_path(path: &[u8]) -> bool {
    path.starts_with(b".cavra/")
}

/// The files of the head and base trees, for CI files that include others.
pub(crate) struct Trees<'r> {
    head: TreeFiles<'r>,
    base: TreeFiles<'r>,
}

impl<'r> Trees<'r> {
    /// The head and base trees (`(head, base)` tree ids) of `repo`.
    pub(crate) fn new(repo: &'r Repository, (head, base): (Option<Oid>, Option<Oid>)) -> Self {
        Trees {
            head: TreeFiles::new(Some(repo), head),
            base: TreeFiles::new(Some(repo), base),
        }
    }

    /// No files (when the repository cannot be opened).
    pub(crate) fn none() -> Trees<'static> {
        Trees {
            head: TreeFiles::new(None, None),
            base: TreeFiles::new(None, None),
        }
    }
}

/// Judges one change whose content has been read: its path, then the commands it adds.
pub(crate) fn judge_change(
    engine: &Engine,
    change: &Change,
    content: &Content,
    trees: &Trees<'_>,
) -> ChangeReport {
    let link_target = change
        .new
        .as_ref()
        .filter(|n| n.kind == EntryKind::Symlink && !content.too_large)
        .map(|n| resolve_link(n.path.as_bytes(), &content.new_text));
    let lines: Vec<(u32, &str)> = content
        .added
        .iter()
        .map(|l| (l.number, l.text.as_str()))
        .collect();
    let path = change.path();
    let old_path = change.old_path();
    let size = if change.new.is_some() {
        content.new_size
    } else {
        content.old_size
    };
    let subject = Subject {
        action: if change.kind == DiffKind::Deleted {
            Action::DeleteFile
        } else {
            Action::WriteFile
        },
        path: path.as_path(),
        old_path: old_path.map(|p| p.as_path()),
        link_target: link_target.as_deref().map(std::path::Path::new),
        change: Some(policy_kind(change.kind)),
        binary: content.binary,
        symlink: change.involves_symlink(),
        submodule: change.involves_submodule(),
        executable: change.became_executable(),
        size,
        lines: &lines,
        command: None,
    };
    let mut findings = engine.evaluate(&subject);
    findings.extend(judge_commands(
        engine,
        change,
        content,
        &trees.head,
        &trees.base,
    ));
    let touches_policy =
        is_policy_path(path.as_bytes()) || old_path.is_some_and(|p| is_policy_path(p.as_bytes()));
    if touches_policy
        && !findings
            .iter()
            .any(|f| f.decision >= Decision::RequireApproval)
    {
        findings.push(Finding {
            rule: POLICY_GUARD_RULE.to_string(),
            decision: Decision::RequireApproval,
            severity: Severity::High,
            message: "The gate's policy is changed; the change is judged by the base policy and \
                      needs approval (this guard cannot be disabled)"
                .to_string(),
            reason: format!("path `{path}` is under .cavra/"),
            line: None,
            command: None,
            approvers: Vec::new(),
            waived: None,
            expired_exception: None,
        });
    }
    let decision = findings
        .iter()
        .map(|f| f.decision)
        .max()
        .unwrap_or(Decision::Allow);
    let old_entry = match (&change.old, &change.new) {
        (Some(o), Some(n)) if o.kind != n.kind => Some(o.kind.as_str().to_string()),
        _ => None,
    };
    ChangeReport {
        path: path.display(),
        old_path: old_path.map(|p| p.display()),
        change: change.kind.as_str().to_string(),
        entry: change.entry_kind().as_str().to_string(),
        old_entry,
        mode_change: match (&change.old, &change.new) {
            (Some(o), Some(n)) if o.mode != n.mode => {
                Some([format!("{:o}", o.mode), format!("{:o}", n.mode)])
            }
            _ => None,
        },
        similarity: change.similarity,
        binary: content.binary,
        too_large: content.too_large,
        size,
        lines_added: content.added.len() as u32,
        lines_removed: content.removed.len() as u32,
        link_target,
        decision,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::resolve_link;

    #[test]
    fn symlink_targets_resolve_against_the_link_directory() {
        assert_eq!(
            resolve_link(b"a/b/link", b"../secrets/k.pem"),
            "a/secrets/k.pem"
        );
        assert_eq!(resolve_link(b"link", b"./x/y"), "x/y");
        assert_eq!(resolve_link(b"link", b"/etc/passwd"), "/etc/passwd");
        assert_eq!(resolve_link(b"a/link", b"../../../etc"), "../../etc");
    }
}
