//! Renders a gate [`Verdict`] for people and tools: text, JSON, SARIF 2.1.0, JUnit XML,
//! GitLab Code Quality and a Markdown summary.

use cavra_gate::Verdict;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Grouped, readable text (coloured on a terminal).
    Text,
    /// The verdict document (`schemas/gate-result.v1.schema.json`).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// JUnit XML, for GitLab and Azure test reports.
    Junit,
    /// GitLab Code Quality.
    CodeQuality,
    /// A Markdown summary (pull request comments, step summaries).
    Markdown,
}

impl Format {
    /// Every format name, for `--help`.
    pub const NAMES: [&'static str; 6] = ["text", "json", "sarif", "junit", "codequality", "markdown"];

    /// Parses a format name.
    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "text" => Format::Text,
            "json" => Format::Json,
            "sarif" => Format::Sarif,
            "junit" => Format::Junit,
            "codequality" => Format::CodeQuality,
            "markdown" => Format::Markdown,
            _ => return None,
        })
    }
}

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Use ANSI colours (text only).
    pub color: bool,
    /// A minijinja template replacing the built-in Markdown summary.
    pub markdown_template: Option<String>,
}

/// Renders `verdict` as `format`.
pub fn render(verdict: &Verdict, format: Format, opts: &RenderOptions) -> Result<String, String> {
    let _ = opts;
    match format {
        Format::Json => serde_json::to_string_pretty(verdict).map_err(|e| e.to_string()),
        _ => Err(format!("{format:?} output is not written yet")),
    }
}
