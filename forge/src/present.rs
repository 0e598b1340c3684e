//! What every forge shows, computed once: the state, the title and the Markdown summary; and
//! how text is cut to a forge's limits.

use cavra_gate::{Status, Verdict};
use cavra_policy::Mode;
use cavra_report::{Format, RenderOptions, render};

/// A hidden marker that identifies cavra's note or thread, so a later run updates it in place.
pub const NOTE_MARKER: &str = "<!-- cavra:gate -->";

/// The gate's outcome as forges see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateState {
    /// The verdict passes (in enforce or strict mode, or by break-glass).
    Success,
    /// Audit mode: recorded, never blocks (GitHub `neutral`).
    Neutral,
    /// Waiting for approval (GitHub `action_required`).
    ActionRequired,
    /// The verdict fails.
    Failure,
}

impl GateState {
    /// The state of `verdict`.
    pub fn of(verdict: &Verdict) -> GateState {
        match verdict.verdict {
            Status::Pass if verdict.mode == Mode::Audit => GateState::Neutral,
            Status::Pass => GateState::Success,
            Status::NeedsApproval => GateState::ActionRequired,
            Status::Fail => GateState::Failure,
        }
    }

    /// True when the forge should let the change merge.
    pub fn passes(self) -> bool {
        matches!(self, GateState::Success | GateState::Neutral)
    }
}

/// The Markdown summary (the built-in template, or the caller's), starting with
/// [`NOTE_MARKER`].
pub fn summary(verdict: &Verdict, template: Option<&str>) -> Result<String, String> {
    let opts = RenderOptions {
        color: false,
        markdown_template: template.map(str::to_string),
    };
    let body = render(verdict, Format::Markdown, &opts)?;
    Ok(format!("{NOTE_MARKER}\n{body}"))
}

/// `text` cut to at most `max_chars` characters, ending with a note that says so.
pub fn truncate(text: &str, max_chars: usize) -> String {
    const NOTE: &str = "\n\n… (truncated: the full report is in the job's artifacts)\n";
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let keep = max_chars.saturating_sub(NOTE.chars().count());
    let end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
    // Do not leave half a line (a broken table row) before the note.
    let end = text[..end].rfind('\n').unwrap_or(end);
    format!("{}{NOTE}", &text[..end])
}

/// `text` cut to `max` characters, ending with `…` when cut.
pub fn cut_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some(_) => {
            let end = text
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(0, |(i, _)| i);
            format!("{}…", &text[..end])
        }
    }
}

/// `text` cut to `max` bytes on a character boundary, ending with `…` when cut.
pub fn cut_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A message from a server, trimmed, its first `max` characters followed by `…` when longer.
pub fn bounded(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_the_limit_and_says_so() {
        let text = "| row |\n".repeat(20_000);
        let cut = truncate(&text, 65_535);
        assert!(cut.chars().count() <= 65_535);
        assert!(cut.contains("truncated"));
        assert!(cut.trim_end().ends_with(')'));
        assert!(cut.split("\n\n…").next().unwrap().ends_with("| row |"));
        assert_eq!(truncate("short", 10), "short");
        let wide = "é".repeat(100);
        assert!(truncate(&wide, 80).chars().count() <= 80);
    }

    #[test]
    fn cuts_respect_characters() {
        assert_eq!(cut_chars("abcdef", 4), "abc…");
        assert_eq!(cut_chars("abcd", 4), "abcd");
        let cut = cut_bytes(&"é".repeat(10), 7);
        assert!(cut.len() <= 7, "{cut}");
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn long_descriptions_are_cut_on_a_character() {
        let text = "é".repeat(200);
        let cut = cut_bytes(&text, 255);
        assert!(cut.len() <= 255 && cut.ends_with('…'), "{cut}");
        assert_eq!(cut_bytes("short", 255), "short");
    }

    #[test]
    fn server_messages_are_bounded() {
        assert_eq!(bounded("  short \n", 500), "short");
        assert_eq!(bounded(&"x".repeat(400), 300).chars().count(), 301);
    }
}
