//! Renders a gate [`Verdict`] for people and tools: text, JSON, SARIF 2.1.0, JUnit XML,
//! GitLab Code Quality and a Markdown summary.
//!
//! No format ever shows the text of a changed line: findings carry line numbers only,
//! since a line may hold a secret.

mod annotations;
mod codequality;
mod common;
mod json;
mod junit;
mod markdown;
mod sarif;
mod text;

use cavra_gate::Verdict;

pub use annotations::{Annotation, Level, annotations, title};
pub use markdown::{MAX_MARKDOWN_BYTES, SUMMARY_TEMPLATE};

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
    pub const NAMES: [&'static str; 6] =
        ["text", "json", "sarif", "junit", "codequality", "markdown"];

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
    /// A minijinja template replacing the built-in Markdown summary ([`SUMMARY_TEMPLATE`]).
    ///
    /// It sees the same context as the built-in one (`verdict` is the whole verdict document)
    /// and may use the `md` filter to escape text for Markdown; blocks trim their newline.
    pub markdown_template: Option<String>,
}

/// Renders `verdict` as `format`. Every format ends with a newline.
pub fn render(verdict: &Verdict, format: Format, opts: &RenderOptions) -> Result<String, String> {
    match format {
        Format::Text => Ok(text::render(verdict, opts.color)),
        Format::Json => json::render(verdict),
        Format::Sarif => sarif::render(verdict),
        Format::Junit => Ok(junit::render(verdict)),
        Format::CodeQuality => codequality::render(verdict),
        Format::Markdown => markdown::render(verdict, opts.markdown_template.as_deref()),
    }
}

#[cfg(test)]
pub(crate) mod testutil;
