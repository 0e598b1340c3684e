//! The Markdown summary (pull request comments, job summaries), rendered with minijinja from
//! [`SUMMARY_TEMPLATE`] or a template of the user's.

use crate::common::{
    Class, command_note, finding_path, findings_of, pending_approvers, short_sha, status_word,
};
use cavra_gate::Verdict;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

/// The built-in summary template.
pub const SUMMARY_TEMPLATE: &str = include_str!("../templates/summary.md.j2");

/// The longest summary written, in bytes (GitHub comments hold 65,536 characters).
pub const MAX_MARKDOWN_BYTES: usize = 65_000;

/// Escapes text for Markdown, inside a table cell or not: ASCII punctuation that Markdown
/// (or GitHub's tables, HTML and math) would interpret gets a backslash, line breaks become
/// spaces and other control characters are dropped.
pub(crate) fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '(' | ')' | '#' | '+'
            | '!' | '|' | '~' | '$' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a table cell, keeping its `code` spans (the engine quotes paths, globs and
/// patterns that way): outside them as [`md`]; inside, only `|` is escaped, which GitHub's and
/// GitLab's tables honour even in code.
pub(crate) fn md_cell(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    // With an odd count of backticks the last one opens nothing: the text after it is plain.
    let unclosed = parts.len() % 2 == 0;
    let mut out = String::with_capacity(text.len() + 8);
    for (i, part) in parts.iter().enumerate() {
        let is_code = i % 2 == 1;
        if !is_code {
            out.push_str(&md(part));
        } else if unclosed && i == parts.len() - 1 {
            out.push_str("\\`");
            out.push_str(&md(part));
        } else if part.trim().is_empty() {
            out.push_str("\\`");
            out.push_str(&md(part));
            out.push_str("\\`");
        } else {
            let code: String = part
                .chars()
                .filter(|c| !c.is_control() || *c == '\n')
                .map(|c| if c == '\n' { ' ' } else { c })
                .collect();
            out.push('`');
            out.push_str(&code.replace('|', "\\|"));
            out.push('`');
        }
    }
    out
}

/// The `md` filter: [`md`] over a value's text (`none` and undefined print nothing).
fn md_filter(value: Value) -> String {
    if value.is_none() || value.is_undefined() {
        String::new()
    } else {
        md(&value.to_string())
    }
}

/// One finding as a table row; every field is escaped for a cell.
#[derive(Serialize)]
struct Row {
    path: String,
    line: String,
    rule: String,
    decision: String,
    message: String,
    reason: String,
}

/// What the template sees.
#[derive(Serialize)]
struct Context<'a> {
    /// The whole verdict document (raw: escape with `md`).
    verdict: &'a Verdict,
    /// PASS, NEEDS APPROVAL or FAIL.
    status: &'static str,
    /// In audit mode, what enforce mode would have said.
    enforced_status: Option<&'static str>,
    /// With break-glass, what the verdict would have been.
    break_glass_status: Option<&'static str>,
    /// Abbreviated base and head.
    base: &'a str,
    head: &'a str,
    /// Deny and require_approval findings (maybe truncated).
    blocking: &'a [Row],
    blocking_total: usize,
    /// Audit findings (maybe truncated).
    audit: &'a [Row],
    audit_total: usize,
    /// Findings left out of the tables.
    left_out: usize,
    /// Findings a rule allows, and findings an exception waives.
    allowed: usize,
    waived: usize,
    /// Who still has to approve, escaped.
    pending: Option<String>,
}

fn rows(v: &Verdict, class: Class) -> Vec<Row> {
    findings_of(v, class)
        .map(|(change, f)| {
            let mut decision = f.decision.as_str().to_string();
            if class == Class::Approval && v.is_approved(f) {
                decision.push_str(" (approved)");
            }
            Row {
                path: md(finding_path(change, f)),
                line: f.line.map(|l| l.to_string()).unwrap_or_default(),
                rule: md(&f.rule),
                decision: md(&decision),
                message: md_cell(&f.message),
                reason: md_cell(&match command_note(f) {
                    Some(note) => format!("{} {note}", f.reason),
                    None => f.reason.clone(),
                }),
            }
        })
        .collect()
}

/// Renders the summary, dropping table rows until it fits in [`MAX_MARKDOWN_BYTES`].
pub(crate) fn render(v: &Verdict, template: Option<&str>) -> Result<String, String> {
    let mut env = Environment::new();
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
        .map_err(|e| e.to_string())?;
    env.set_syntax(syntax);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    if template.is_none() {
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    }
    env.add_filter("md", md_filter);
    env.add_template("summary.md", template.unwrap_or(SUMMARY_TEMPLATE))
        .map_err(|e| format!("markdown template: {e:#}"))?;
    let tmpl = env
        .get_template("summary.md")
        .map_err(|e| format!("markdown template: {e:#}"))?;

    let blocking: Vec<Row> = rows(v, Class::Deny)
        .into_iter()
        .chain(rows(v, Class::Approval))
        .collect();
    let audit = rows(v, Class::Audit);
    let total = blocking.len() + audit.len();
    let (base, head) = (short_sha(&v.revisions.base), short_sha(&v.revisions.head));
    let pending = pending_approvers(v).map(|p| md(&p));
    // Renders with the first `keep` rows (blocking ones first).
    let render_with = |keep: usize| -> Result<String, String> {
        let context = Context {
            verdict: v,
            status: status_word(v.verdict),
            enforced_status: v.enforced_verdict.map(status_word),
            break_glass_status: v.break_glass.as_ref().map(|b| status_word(b.overridden)),
            base,
            head,
            blocking: &blocking[..keep.min(blocking.len())],
            blocking_total: blocking.len(),
            audit: &audit[..keep.saturating_sub(blocking.len())],
            audit_total: audit.len(),
            left_out: total - keep,
            allowed: findings_of(v, Class::Allow).count(),
            waived: findings_of(v, Class::Waived).count(),
            pending: pending.clone(),
        };
        let mut out = tmpl
            .render(Value::from(Serde(&context)))
            .map_err(|e| format!("markdown template: {e:#}"))?;
        if !out.ends_with('\n') {
            out.push('\n');
        }
        Ok(out)
    };

    let full = render_with(total)?;
    if full.len() <= MAX_MARKDOWN_BYTES {
        return Ok(full);
    }
    // The most rows that fit: rows only add text, so search.
    let (mut lo, mut hi) = (0, total);
    let mut best = render_with(0)?;
    if best.len() > MAX_MARKDOWN_BYTES {
        return Ok(cut(&best));
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let out = render_with(mid)?;
        if out.len() <= MAX_MARKDOWN_BYTES {
            lo = mid;
            best = out;
        } else {
            hi = mid;
        }
    }
    Ok(best)
}

/// Cuts text that is too long even without table rows (a large custom template).
fn cut(text: &str) -> String {
    const NOTE: &str = "\n\n_The summary was cut at 65,000 characters._\n";
    let mut end = MAX_MARKDOWN_BYTES - NOTE.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{NOTE}", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{change, empty, finding, sample};
    use cavra_policy::Decision;

    #[test]
    fn escapes_cells() {
        assert_eq!(md("a|b\nc"), "a\\|b c");
        assert_eq!(md("<img src=x>"), "\\<img src=x\\>");
        assert_eq!(md("my_file*.rs"), "my\\_file\\*.rs");
        assert_eq!(
            md_cell("path `a|b*` matches `**/*.pem`; line\n2"),
            "path `a\\|b*` matches `**/*.pem`; line 2"
        );
        assert_eq!(md_cell("odd ` tick `x`"), "odd ` tick `x\\`");
        assert_eq!(md_cell("a `` b"), "a \\`\\` b");
        assert_eq!(md_cell("unclosed `x_y"), "unclosed \\`x\\_y");
    }

    #[test]
    fn tables_status_and_sections() {
        let out = render(&sample(), None).unwrap();
        assert!(out.starts_with("## cavra gate: FAIL\n"), "{out}");
        assert!(out.contains(
            "| src/config.rs | 3 | cloud-credentials | deny | cloud-credentials message<br><sub>added line 3 matches content pattern `(AKIA\\|ASIA)` second line</sub> |\n"
        ), "{out}");
        assert!(out.contains(
            "| .github/workflows/ci.yml |  | ci-config | require\\_approval | ci-config message<br>"
        ));
        assert!(out.contains("<details>\n<summary>Audit findings (1)</summary>"));
        assert!(
            out.contains("| Cargo.lock |  | dependency-manifest | dependency-manifest message")
        );
        assert!(out.contains("**Waiting for approval from:** security"));
        assert!(out.contains("- legacy: expired 2020-01-01 (.cavra/policy.yaml)"));
        assert!(out.contains(&format!("sha256 `{}`", "ab".repeat(32))));
        assert!(!out.contains("\n\n\n"), "{out}");
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn empty_change_passes() {
        let out = render(&empty(), None).unwrap();
        assert!(
            out.starts_with("## cavra gate: PASS\n\nNo changes"),
            "{out}"
        );
        assert!(!out.contains("Blocking"));
    }

    #[test]
    fn long_tables_are_truncated_with_a_note() {
        let mut v = empty();
        v.changes = (0..3000)
            .map(|i| {
                change(
                    &format!("src/module_{i}/a/rather/long/path/to/some/file.rs"),
                    vec![finding("cloud-credentials", Decision::Deny, Some(i + 1))],
                )
            })
            .collect();
        let out = render(&v, None).unwrap();
        assert!(out.len() <= MAX_MARKDOWN_BYTES, "{}", out.len());
        assert!(out.len() > MAX_MARKDOWN_BYTES - 2000, "{}", out.len());
        let shown = out.matches("| cloud-credentials | deny |").count();
        assert!(shown > 10 && shown < 3000);
        assert!(
            out.contains(&format!("_{} findings are left out", 3000 - shown)),
            "{}",
            &out[out.len() - 500..]
        );
        assert!(out.ends_with("cavra 0.1.0.\n"));
    }

    #[test]
    fn custom_templates_replace_the_built_in_one() {
        let out = render(
            &sample(),
            Some("{{ status }} {{ verdict.policy.source|md }}"),
        )
        .unwrap();
        assert_eq!(out, "FAIL builtin:baseline \\(default\\)\n");
        assert!(render(&sample(), Some("{% if %}")).is_err());
    }
}
