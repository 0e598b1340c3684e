//! `RELEASE.md`: the release notes, rendered with minijinja from the manifest and the commit
//! summaries (the built-in template, or one given with `--notes-template`).

use crate::manifest::Manifest;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

/// The built-in template.
pub const DEFAULT_TEMPLATE: &str = include_str!("../templates/RELEASE.md.j2");

/// The largest template accepted.
pub const MAX_TEMPLATE_BYTES: usize = 1 << 20;

/// One change line of the notes.
#[derive(Debug, Clone, Serialize)]
struct Change<'a> {
    commit: &'a str,
    summary: String,
    verdict: Option<&'a str>,
    how: String,
    reason: Option<&'a str>,
}

/// Renders the notes. `summary` gives a commit's one-line summary when the repository is at
/// hand; summaries are escaped for Markdown tables. Template errors name the line.
pub fn render(
    template: &str,
    manifest: &Manifest,
    sbom_components: usize,
    summary: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    if template.len() > MAX_TEMPLATE_BYTES {
        return Err(format!(
            "the template is over the {MAX_TEMPLATE_BYTES} byte limit"
        ));
    }
    let changes: Vec<Change> = manifest
        .coverage
        .commits
        .iter()
        .map(|c| Change {
            commit: &c.commit,
            summary: escape(&summary(&c.commit).unwrap_or_default()),
            verdict: c.verdict.as_deref(),
            how: serde_json::to_value(c.how)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            reason: c.reason.as_deref(),
        })
        .collect();
    let uncovered = changes.iter().filter(|c| c.verdict.is_none()).count();
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.add_template("RELEASE.md", template)
        .map_err(|e| describe(&e))?;
    let t = env.get_template("RELEASE.md").map_err(|e| describe(&e))?;
    t.render(minijinja::value::Serde(serde_json::json!({
        "name": &manifest.name,
        "version": &manifest.version,
        "source": {
            "repository": &manifest.source.repository,
            "commit": &manifest.source.commit,
            "tag": &manifest.source.tag,
        },
        "artifacts": &manifest.artifacts,
        "sbom": &manifest.sbom,
        "sbom_components": sbom_components,
        "verdicts": &manifest.verdicts,
        "range": &manifest.coverage.range,
        "changes": changes,
        "allow_uncovered": manifest.coverage.allow_uncovered,
        "uncovered": uncovered,
        "time": &manifest.time,
    })))
    .map_err(|e| describe(&e))
}

fn describe(e: &minijinja::Error) -> String {
    match e.line() {
        Some(line) => format!("line {line}: {e}"),
        None => e.to_string(),
    }
}

/// A commit summary made safe for one Markdown table cell.
fn escape(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars().take(200) {
        match ch {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' => out.push('\''),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn summaries_cannot_break_the_table() {
        assert_eq!(escape("a | b <img>\n`x`"), "a \\| b &lt;img&gt; 'x'");
    }
}
