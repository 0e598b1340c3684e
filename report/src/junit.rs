//! JUnit XML as GitLab and Azure read it: one suite, one test case per finding.
//!
//! deny fails; require_approval fails unless the verdict passes or the finding is approved;
//! audit and allow pass (with the reason in `<system-out>`); waived findings are skipped.
//! A passing "all changes" case stands for the change when nothing blocks.

use crate::common::{Class, describe, finding_path, location, status_word};
use cavra_gate::{Status, Verdict};
use std::fmt::Write;

/// Replaces characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) with U+FFFD.
fn xml_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => c,
        c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => '\u{fffd}',
        c => c,
    }
}

/// Escapes character data.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A carriage return in content would be normalized away by a parser.
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value (double-quoted); whitespace controls survive as references.
pub(crate) fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// What a test case holds besides its names.
enum Outcome {
    Failure { kind: &'static str, message: String },
    Skipped(String),
    Passed,
}

struct Case {
    classname: String,
    name: String,
    file: Option<String>,
    outcome: Outcome,
    body: String,
}

/// Renders the verdict as JUnit XML.
pub(crate) fn render(v: &Verdict) -> String {
    let mut cases = Vec::new();
    for (change, f) in v.findings() {
        let name = location(change, f);
        let mut body = describe(f);
        if !f.approvers.is_empty() {
            let _ = write!(body, "\napprovers: {}", f.approvers.join(", "));
        }
        if let Some(e) = &f.expired_exception {
            let _ = write!(
                body,
                "\nan exception expired on {}: {} ({})",
                e.expires.as_deref().unwrap_or("?"),
                e.reason,
                e.source
            );
        }
        let outcome = match Class::of(f) {
            Class::Deny => Outcome::Failure {
                kind: "deny",
                message: f.message.clone(),
            },
            Class::Approval if v.verdict != Status::Pass && !v.is_approved(f) => Outcome::Failure {
                kind: "require_approval",
                message: f.message.clone(),
            },
            Class::Approval => {
                body.insert_str(0, "require_approval (approved or not blocking): ");
                Outcome::Passed
            }
            Class::Audit => {
                body.insert_str(0, "audit: ");
                Outcome::Passed
            }
            Class::Allow => {
                body.insert_str(0, "allow: ");
                Outcome::Passed
            }
            Class::Waived => {
                let w = f
                    .waived
                    .as_ref()
                    .expect("waived findings carry their waiver");
                Outcome::Skipped(format!(
                    "waived by an exception: {} ({})",
                    w.reason, w.source
                ))
            }
        };
        cases.push(Case {
            classname: format!("cavra.{}", f.rule),
            name,
            file: Some(finding_path(change, f).to_string()),
            outcome,
            body,
        });
    }
    let failures = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failure { .. }))
        .count();
    if failures == 0 {
        let body = if v.changes.is_empty() {
            "no changes".to_string()
        } else {
            format!(
                "{} changed paths checked; verdict {}",
                v.changes.len(),
                status_word(v.verdict)
            )
        };
        cases.push(Case {
            classname: "cavra.changes".into(),
            name: "all changes".into(),
            file: None,
            outcome: Outcome::Passed,
            body,
        });
    }
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Skipped(_)))
        .count();
    let tests = cases.len();
    let counts = format!(
        "tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"0\""
    );

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"cavra\" {counts}>");
    let _ = writeln!(
        out,
        "  <testsuite name=\"cavra gate\" {counts} timestamp=\"{}\">",
        attr(&v.time)
    );
    out.push_str("    <properties>\n");
    let mut props = vec![
        ("verdict", v.verdict.as_str().to_string()),
        ("mode", v.mode.as_str().to_string()),
        ("base", v.revisions.base.clone()),
        ("head", v.revisions.head.clone()),
        ("policy", v.policy.source.clone()),
        ("policy_sha256", v.policy.sha256.clone()),
    ];
    if let Some(bg) = &v.break_glass {
        props.push((
            "break_glass",
            format!(
                "{}: {} (would have been {})",
                bg.actor,
                bg.justification,
                bg.overridden.as_str()
            ),
        ));
    }
    for (name, value) in props {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            attr(&value)
        );
    }
    out.push_str("    </properties>\n");
    for case in &cases {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\"",
            attr(&case.classname),
            attr(&case.name)
        );
        if let Some(file) = &case.file {
            let _ = write!(out, " file=\"{}\"", attr(file));
        }
        out.push_str(" time=\"0\">\n");
        match &case.outcome {
            Outcome::Failure { kind, message } => {
                let _ = writeln!(
                    out,
                    "      <failure type=\"{kind}\" message=\"{}\">{}</failure>",
                    attr(message),
                    text(&case.body)
                );
            }
            Outcome::Skipped(message) => {
                let _ = writeln!(out, "      <skipped message=\"{}\"/>", attr(message));
                let _ = writeln!(out, "      <system-out>{}</system-out>", text(&case.body));
            }
            Outcome::Passed => {
                let _ = writeln!(out, "      <system-out>{}</system-out>", text(&case.body));
            }
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{empty, sample};

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(
            attr("a<b>&\"'\n\u{1}"),
            "a&lt;b&gt;&amp;&quot;&apos;&#10;\u{fffd}"
        );
        assert_eq!(
            text("x < y & \u{1b}z\u{ffff}"),
            "x &lt; y &amp; \u{fffd}z\u{fffd}"
        );
    }

    #[test]
    fn counts_failures_and_skips() {
        let out = render(&sample());
        assert!(out.contains(
            "<testsuite name=\"cavra gate\" tests=\"6\" failures=\"3\" errors=\"0\" skipped=\"1\""
        ));
        assert!(out.contains("<failure type=\"require_approval\""));
        assert!(
            out.contains("name=\"a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;\u{fffd}[31m.pem\"")
        );
        assert!(!out.contains("all changes"));
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn approval_passes_once_the_verdict_passes() {
        let mut v = sample();
        v.changes.retain(|c| c.path.starts_with(".github"));
        v.verdict = Status::Pass;
        let out = render(&v);
        assert!(out.contains("tests=\"2\" failures=\"0\""), "{out}");
        assert!(out.contains("name=\"all changes\""));
    }

    #[test]
    fn an_empty_change_is_one_passing_case() {
        let out = render(&empty());
        assert!(out.contains("tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\""));
        assert!(out.contains("<system-out>no changes</system-out>"));
    }
}
