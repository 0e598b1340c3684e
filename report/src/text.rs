//! Text for a person: a header, findings grouped by decision, approvals, a count line.

use crate::common::{
    Class, command_note, findings_of, location, pending_approvers, short_sha, status_word,
};
use cavra_gate::{Status, Verdict};
use std::fmt::Write;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";

/// Wraps text in ANSI styles, or leaves it alone.
struct Paint {
    on: bool,
}

impl Paint {
    fn style(&self, styles: &[&str], text: &str) -> String {
        if self.on {
            format!("{}{text}{RESET}", styles.concat())
        } else {
            text.to_string()
        }
    }
}

/// Makes untrusted text safe for a terminal: control characters (escape sequences) and
/// bidirectional overrides are shown as `\u{..}` instead of being interpreted.
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn status_color(status: Status) -> &'static str {
    match status {
        Status::Pass => GREEN,
        Status::NeedsApproval => YELLOW,
        Status::Fail => RED,
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Renders the verdict as text, with ANSI colours when `color`.
pub(crate) fn render(v: &Verdict, color: bool) -> String {
    let p = Paint { on: color };
    let mut out = String::new();

    let status = status_word(v.verdict);
    let mut mode = format!("mode {}", v.mode.as_str());
    if let Some(enforced) = v.enforced_verdict {
        let _ = write!(mode, "; enforce would say {}", status_word(enforced));
    }
    let _ = writeln!(
        out,
        "{} {} ({mode})  {}..{}  policy {} sha256:{}",
        p.style(&[BOLD], "cavra gate:"),
        p.style(&[BOLD, status_color(v.verdict)], status),
        short_sha(&v.revisions.base),
        short_sha(&v.revisions.head),
        clean(&v.policy.source),
        v.policy.sha256.get(..12).unwrap_or(&v.policy.sha256),
    );
    if let Some(repo) = &v.repository {
        let _ = writeln!(out, "  repository {}", clean(repo));
    }
    if v.revisions.merge_base != v.revisions.base {
        let _ = writeln!(
            out,
            "  diff from merge base {} (base from {})",
            short_sha(&v.revisions.merge_base),
            clean(&v.revisions.base_source)
        );
    }

    if v.changes.is_empty() {
        let _ = writeln!(out, "\nno changes");
    }

    let groups = [
        (Class::Deny, "deny", RED),
        (Class::Approval, "require approval", YELLOW),
        (Class::Audit, "audit", CYAN),
    ];
    for (class, title, colour) in groups {
        let findings: Vec<_> = findings_of(v, class).collect();
        if findings.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{}",
            p.style(&[BOLD, colour], &format!("{title} ({})", findings.len()))
        );
        for (change, f) in findings {
            let place = clean(&location(change, f));
            let mut extra = String::new();
            if class == Class::Approval {
                if v.is_approved(f) {
                    extra.push_str("  [approved]");
                } else if !f.approvers.is_empty() {
                    let _ = write!(extra, "  [approvers: {}]", clean(&f.approvers.join(", ")));
                }
            }
            let _ = writeln!(
                out,
                "  {place}  {}  {}{extra}",
                p.style(&[colour], &clean(&f.rule)),
                clean(&f.message)
            );
            if !f.reason.is_empty() {
                let _ = writeln!(out, "      {}", clean(&f.reason));
            }
            if let Some(note) = command_note(f) {
                let _ = writeln!(out, "      command {}", clean(&note));
            }
            if let Some(e) = &f.expired_exception {
                let _ = writeln!(
                    out,
                    "      an exception expired on {}: {} ({})",
                    clean(e.expires.as_deref().unwrap_or("?")),
                    clean(&e.reason),
                    clean(&e.source)
                );
            }
        }
    }

    let allowed = findings_of(v, Class::Allow).count();
    let waived = findings_of(v, Class::Waived).count();
    if allowed + waived > 0 {
        let _ = writeln!(
            out,
            "\n{} allowed by a rule, {} waived by an exception",
            plural(allowed, "finding", "findings"),
            waived
        );
    }

    if let Some(who) = pending_approvers(v) {
        let _ = writeln!(
            out,
            "\n{} {}",
            p.style(&[BOLD, YELLOW], "waiting for approval from:"),
            clean(&who)
        );
    }
    for a in &v.approvals {
        let stale = if a.commit == v.revisions.head {
            ""
        } else {
            " (of an earlier commit: not counted)"
        };
        let _ = writeln!(
            out,
            "approved for {} by {} at {}{stale}",
            clean(&a.group),
            clean(&a.approver),
            short_sha(&clean(&a.commit))
        );
    }

    if let Some(bg) = &v.break_glass {
        let _ = writeln!(
            out,
            "\n{} by {}: {} (the verdict would have been {})",
            p.style(&[BOLD, RED], "BREAK-GLASS"),
            clean(&bg.actor),
            clean(&bg.justification),
            status_word(bg.overridden)
        );
    }

    if !v.expired_exceptions.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.style(&[BOLD], "expired exceptions (no longer applied):")
        );
        for e in &v.expired_exceptions {
            let _ = writeln!(
                out,
                "  {}  expired {}  ({})",
                clean(&e.reason),
                clean(e.expires.as_deref().unwrap_or("?")),
                clean(&e.source)
            );
        }
    }

    let c = &v.counts;
    let _ = writeln!(
        out,
        "\n{}, {}: {} deny, {} require approval, {} audit, {} allowed or waived",
        plural(c.changes, "change", "changes"),
        plural(c.findings, "finding", "findings"),
        c.deny,
        c.require_approval,
        c.audit,
        allowed + waived,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{empty, sample};

    #[test]
    fn groups_findings_and_counts() {
        let out = render(&sample(), false);
        assert!(
            out.starts_with("cavra gate: FAIL (mode enforce)  1111111..2222222"),
            "{out}"
        );
        let deny = out.find("\ndeny (2)").expect("deny group");
        let approval = out.find("\nrequire approval (1)").expect("approval group");
        let audit = out.find("\naudit (1)").expect("audit group");
        assert!(deny < approval && approval < audit);
        assert!(out.contains("  src/config.rs:3  cloud-credentials  cloud-credentials message\n"));
        assert!(out.contains("[approvers: security]"));
        assert!(out.contains("1 finding allowed by a rule, 1 waived by an exception"));
        assert!(out.contains("waiting for approval from: security"));
        assert!(out.contains("legacy  expired 2020-01-01"));
        assert!(out.ends_with(
            "6 changes, 6 findings: 2 deny, 1 require approval, 1 audit, 2 allowed or waived\n"
        ));
    }

    #[test]
    fn colours_only_when_asked_and_never_from_paths() {
        let plain = render(&sample(), false);
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(plain.contains("\\u{1b}[31m.pem"));
        let coloured = render(&sample(), true);
        assert!(coloured.contains("\x1b[1m\x1b[31mdeny (2)\x1b[0m"));
    }

    #[test]
    fn says_no_changes() {
        let out = render(&empty(), false);
        assert!(out.contains("\nno changes\n"));
        assert!(out.contains("cavra gate: PASS"));
    }
}
