//! Findings as line annotations (GitHub check runs and workflow commands, the GitHub App) and the
//! one-line title a forge shows next to its status.

use crate::common::{Class, describe, finding_path, pending_approvers, start_line, status_word};
use cavra_gate::Verdict;

/// How loud an annotation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Recorded only (audit, or an approval that is already given).
    Notice,
    /// Waits for approval.
    Warning,
    /// Blocks.
    Failure,
}

/// One finding, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// Repository-relative path (the changed file, or the file a command is written in).
    pub path: String,
    /// 1-based line (1 when the finding has none).
    pub line: u32,
    /// How loud.
    pub level: Level,
    /// `rule-id (decision)`.
    pub title: String,
    /// What the rule is about, why it matched and, for commands, the command.
    pub message: String,
}

/// Every finding that denies, waits for approval or is audited, loudest first and then in path
/// order. Allowed and waived findings are left out.
pub fn annotations(verdict: &Verdict) -> Vec<Annotation> {
    let mut out: Vec<Annotation> = verdict
        .findings()
        .filter_map(|(change, f)| {
            let level = match Class::of(f) {
                Class::Deny => Level::Failure,
                Class::Approval if verdict.is_approved(f) => Level::Notice,
                Class::Approval => Level::Warning,
                Class::Audit => Level::Notice,
                Class::Allow | Class::Waived => return None,
            };
            let mut title = format!("{} ({})", f.rule, decision_word(f));
            if !f.approvers.is_empty() && level == Level::Warning {
                title.push_str(&format!(": approval by {}", f.approvers.join(", ")));
            }
            Some(Annotation {
                path: finding_path(change, f).to_string(),
                line: start_line(f),
                level,
                title,
                message: describe(f),
            })
        })
        .collect();
    out.sort_by_key(|a| std::cmp::Reverse(a.level));
    out
}

fn decision_word(f: &cavra_policy::Finding) -> &'static str {
    match f.decision {
        cavra_policy::Decision::Deny => "deny",
        cavra_policy::Decision::RequireApproval => "requires approval",
        cavra_policy::Decision::Audit => "audit",
        cavra_policy::Decision::Allow => "allow",
    }
}

/// One line for a status or check-run title, e.g. `FAIL: 2 denied, 1 awaiting approval by
/// security (12 changed paths)`. Under 140 characters, the limit of a commit status description.
pub fn title(verdict: &Verdict) -> String {
    let c = &verdict.counts;
    let mut parts = Vec::new();
    if c.deny > 0 {
        parts.push(format!("{} denied", c.deny));
    }
    if let Some(who) = pending_approvers(verdict) {
        parts.push(format!("awaiting approval by {who}"));
    }
    if c.audit > 0 {
        parts.push(format!("{} audited", c.audit));
    }
    let mut line = status_word(verdict.verdict).to_string();
    if let Some(bg) = &verdict.break_glass {
        line.push_str(&format!(" (break-glass by {})", bg.actor));
    } else if verdict.mode == cavra_policy::Mode::Audit {
        line.push_str(" (audit mode)");
    }
    if !parts.is_empty() {
        line.push_str(": ");
        line.push_str(&parts.join(", "));
    }
    line.push_str(&format!(
        " ({} changed path{})",
        c.changes,
        if c.changes == 1 { "" } else { "s" }
    ));
    cut(&line, 140)
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => {
            let end = text[..end].char_indices().nth_back(0).map_or(0, |(i, _)| i);
            format!("{}…", &text[..end])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::sample;

    #[test]
    fn loudest_first_and_quiet_findings_left_out() {
        let v = sample();
        let all = annotations(&v);
        assert!(!all.is_empty());
        assert!(all.windows(2).all(|w| w[0].level >= w[1].level));
        let shown = v
            .findings()
            .filter(|(_, f)| !Class::of(f).is_quiet())
            .count();
        assert_eq!(all.len(), shown);
        assert!(all.iter().all(|a| a.line >= 1 && !a.path.is_empty()));
    }

    #[test]
    fn the_title_names_the_verdict_and_stays_short() {
        let mut v = sample();
        let t = title(&v);
        assert!(t.starts_with(status_word(v.verdict)), "{t}");
        v.pending_approvals = vec!["x".repeat(300)];
        let t = title(&v);
        assert!(t.chars().count() <= 140, "{t}");
        assert!(t.ends_with('…'));
    }
}
