//! What a GitHub Actions step prints (workflow-command annotations) and writes to
//! `$GITHUB_STEP_SUMMARY`; no token needed.

use std::io::Write;
use std::path::Path;

use cavra_gate::Verdict;
use cavra_report::Level;

use super::{MAX_STEP_SUMMARY_BYTES, WORKFLOW_COMMANDS_PER_LEVEL, plural};
use crate::STATUS_NAME;

/// The findings as GitHub Actions workflow commands (`::error file=…,line=…,title=…::message`),
/// one per line, failures first. GitHub shows 10 per level and step, so at most that many of
/// each level are written; a last `::notice` says how many more the check run and the SARIF
/// report hold.
pub fn workflow_commands(verdict: &Verdict) -> String {
    let all = cavra_report::annotations(verdict);
    let omitted_any = [Level::Failure, Level::Warning, Level::Notice]
        .iter()
        .any(|l| all.iter().filter(|a| a.level == *l).count() > WORKFLOW_COMMANDS_PER_LEVEL);
    let mut out = String::new();
    let mut written = 0;
    let mut per_level = [0usize; 3];
    for a in &all {
        let (command, slot, cap) = match a.level {
            Level::Failure => ("error", 0, WORKFLOW_COMMANDS_PER_LEVEL),
            Level::Warning => ("warning", 1, WORKFLOW_COMMANDS_PER_LEVEL),
            // Room for the closing notice.
            Level::Notice if omitted_any => ("notice", 2, WORKFLOW_COMMANDS_PER_LEVEL - 1),
            Level::Notice => ("notice", 2, WORKFLOW_COMMANDS_PER_LEVEL),
        };
        if per_level[slot] >= cap {
            continue;
        }
        per_level[slot] += 1;
        written += 1;
        out.push_str(&format!(
            "::{command} file={},line={},title={}::{}\n",
            escape_property(&a.path),
            a.line.max(1),
            escape_property(&a.title),
            escape_data(&a.message)
        ));
    }
    if written < all.len() {
        let more = all.len() - written;
        out.push_str(&format!(
            "::notice title={}::{}\n",
            escape_property(STATUS_NAME),
            escape_data(&format!(
                "{more} more finding{} not shown here (GitHub shows {WORKFLOW_COMMANDS_PER_LEVEL} \
                 annotations per level and step): see the {STATUS_NAME} check run or the SARIF \
                 report for all {}.",
                plural(more),
                all.len()
            ))
        ));
    }
    out
}

/// A workflow command's message: `%`, CR and LF escaped.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: as a message, and `:` and `,` escaped too.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Appends `summary_markdown` to the step summary file at `path` (`$GITHUB_STEP_SUMMARY`),
/// never truncating what earlier commands wrote. GitHub takes 1 MiB per step; a summary that
/// would pass that is cut at a line, with a note.
pub fn append_step_summary(path: &Path, summary_markdown: &str) -> std::io::Result<()> {
    const NOTE: &str = "\n\n… (truncated: the step summary is limited to 1 MiB; the full report \
                        is in the job's artifacts)\n";
    let existing = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e),
    };
    let separator = if existing > 0 { "\n" } else { "" };
    let room = MAX_STEP_SUMMARY_BYTES.saturating_sub(existing + separator.len() as u64);
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    let mut text = String::with_capacity(summary_markdown.len().min(room) + 2);
    text.push_str(separator);
    let newline = if summary_markdown.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    if summary_markdown.len() + newline.len() <= room {
        text.push_str(summary_markdown);
        text.push_str(newline);
    } else if room > NOTE.len() {
        let mut end = room - NOTE.len();
        while !summary_markdown.is_char_boundary(end) {
            end -= 1;
        }
        // Do not leave half a line (a broken table row) before the note.
        let end = summary_markdown[..end].rfind('\n').unwrap_or(end);
        text.push_str(&summary_markdown[..end]);
        text.push_str(NOTE);
    } else {
        // No room left at all: write nothing rather than pass the limit.
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_actions_toolkit() {
        assert_eq!(escape_data("50%\r\nnext: a,b"), "50%25%0D%0Anext: a,b");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
