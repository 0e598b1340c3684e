//! Dockerfiles and Containerfiles: the script of every `RUN` and `ONBUILD RUN`, read the way
//! BuildKit's parser reads them.
//!
//! - Parser directives at the top (`# escape=`` `, `# syntax=`, `# check=`); the escape
//!   character (`\` or `` ` ``) ends continued lines.
//! - Continued lines stay separate lines of the script, joined by the continuation of the
//!   step's shell (`\` for POSIX shells, `` ` `` for PowerShell, `^` for `cmd`), so line `n` of
//!   the script is line `line + n - 1` of the file. Comment and blank lines inside a continued
//!   instruction, which Docker drops, become empty continued lines. Text ending in an unpaired
//!   escape of the shell (`C:\` before a backtick continuation, which Docker joins with the next
//!   line) hands that escape to the next line, so the shell still reads what Docker runs.
//! - `RUN` flags (`--mount`, `--network`, `--security`, ...) are dropped.
//! - Exec form (`RUN ["sh", "-c", "..."]`) becomes a POSIX command line, each element
//!   single-quoted where needed; text that is not a JSON array is shell form, as in Docker.
//! - Heredocs (`RUN <<EOF`, `<<-EOF`, quoted delimiters, several per line): when the command is
//!   a lone heredoc, Docker runs its body as the script, so the step is the body (starting on the
//!   line after the instruction; `<<-` strips leading tabs; a `#!` first line names the shell).
//!   Otherwise the step is the command followed by each body and delimiter line, as Docker
//!   hands it to the shell (`python3 <<EOF` + body + `EOF`). `COPY`/`ADD` heredoc bodies are
//!   skipped. An unterminated heredoc is an error at its instruction, with the step as read.
//! - `SHELL ["pwsh", "-c"]` gives the following steps of the stage the shell `pwsh`; each `FROM`
//!   starts over with no shell, or with the shell of the earlier stage it builds on.
//! - Location: `RUN` or `ONBUILD RUN`, plus ` (stage NAME)` (or the stage's index) when the file
//!   has several stages.
//!
//! Not read: `CMD`, `ENTRYPOINT` and `HEALTHCHECK` (they run in the container, not the build),
//! `ARG`/`ENV` substitution, custom frontends named by `# syntax=` (their grammar is unknown). A
//! backtick escape usually means a Windows image whose default shell is `cmd`; without a
//! `SHELL` instruction the steps are still read as POSIX (`shell` is `None`).

use crate::shell_script::{interpreter, shebang};
use crate::{ExtractError, Extraction, Step, Via};
use cavra_shell::{Context, Dialect};

/// Steps of the file.
pub(crate) fn extract(path: &str, text: &[u8]) -> Extraction {
    let text = &*crate::decode(text);
    let lines: Vec<&str> = split_lines(text);
    let mut reader = Reader {
        path,
        lines: &lines,
        next: 0,
        escape: '\\',
        stages: Vec::new(),
        shell_before_from: None,
        steps: Vec::new(),
        errors: Vec::new(),
    };
    reader.directives();
    reader.instructions();
    let Reader {
        steps,
        errors,
        stages,
        ..
    } = reader;
    let several = stages.len() > 1;
    let steps = steps
        .into_iter()
        .map(|(mut step, stage)| {
            if let (true, Some(stage)) = (several, stage) {
                let label = match &stages[stage].name {
                    Some(name) => name.clone(),
                    None => stage.to_string(),
                };
                step.location = format!("{} (stage {label})", step.location);
            }
            step
        })
        .collect();
    Extraction { steps, errors }
}

/// The lines of `text` without their `\n` or `\r\n`.
fn split_lines(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    body.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

fn line_no(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// A build stage.
struct Stage {
    /// `FROM ... AS name`.
    name: Option<String>,
    /// The shell `SHELL` set, if any.
    shell: Option<String>,
}

/// One physical line of an instruction, as Docker keeps it.
struct Piece<'a> {
    /// 1-based line.
    line: u32,
    /// The text without the continuation character (the first line also without leading
    /// whitespace); empty for a dropped comment or blank line.
    text: &'a str,
    /// A comment or blank line inside the continuation, which Docker ignores.
    dropped: bool,
}

/// A heredoc named on an instruction line.
#[derive(Debug, PartialEq, Eq)]
struct Heredoc {
    /// The delimiter with quotes removed.
    name: String,
    /// `<<-`: leading tabs are stripped from body lines and the delimiter line.
    chomp: bool,
}

/// A heredoc's body as read.
struct Body<'a> {
    lines: Vec<&'a str>,
    terminated: bool,
}

struct Reader<'a, 'p> {
    path: &'p str,
    lines: &'a [&'a str],
    /// Index of the next unread line.
    next: usize,
    escape: char,
    stages: Vec<Stage>,
    /// A `SHELL` written before any `FROM` (Docker refuses it; the steps after it still use it).
    shell_before_from: Option<String>,
    /// Steps with the index of their stage.
    steps: Vec<(Step, Option<usize>)>,
    errors: Vec<ExtractError>,
}

impl<'a> Reader<'a, '_> {
    fn error(&mut self, line: u32, message: impl Into<String>) {
        self.errors.push(ExtractError {
            file: self.path.to_string(),
            line,
            message: message.into(),
        });
    }

    /// Reads the parser directives at the top of the file (they stop at the first other line).
    fn directives(&mut self) {
        let mut seen: Vec<String> = Vec::new();
        while let Some(line) = self.lines.get(self.next) {
            let Some((key, value)) = directive(line.trim_start()) else {
                return;
            };
            let key = key.to_ascii_lowercase();
            if !matches!(key.as_str(), "escape" | "syntax" | "check") {
                return;
            }
            let no = line_no(self.next);
            self.next += 1;
            if seen.contains(&key) {
                self.error(no, format!("only one {key} parser directive can be used"));
                continue;
            }
            if key == "escape" {
                match value {
                    "\\" => self.escape = '\\',
                    "`" => self.escape = '`',
                    _ => self.error(
                        no,
                        format!("invalid escape parser directive {value:?}: must be ` or \\"),
                    ),
                }
            }
            seen.push(key);
        }
    }

    /// Reads every instruction.
    fn instructions(&mut self) {
        while self.next < self.lines.len() {
            let index = self.next;
            self.next += 1;
            let first = self.lines[index].trim_start();
            if first.starts_with('#') {
                continue;
            }
            let (text, mut ended) = trim_continuation(first, self.escape);
            if ended && text.is_empty() {
                continue;
            }
            let mut pieces = vec![Piece {
                line: line_no(index),
                text,
                dropped: false,
            }];
            while !ended && self.next < self.lines.len() {
                let raw = self.lines[self.next];
                let line = line_no(self.next);
                self.next += 1;
                let trimmed = raw.trim_start();
                if trimmed.starts_with('#') || trimmed.is_empty() {
                    pieces.push(Piece {
                        line,
                        text: "",
                        dropped: true,
                    });
                    continue;
                }
                let (text, end) = trim_continuation(raw, self.escape);
                pieces.push(Piece {
                    line,
                    text,
                    dropped: false,
                });
                ended = end;
            }
            self.instruction(&pieces);
        }
    }

    /// Handles one instruction made of `pieces`.
    fn instruction(&mut self, pieces: &[Piece<'a>]) {
        let mut logical = String::new();
        let mut offsets = Vec::with_capacity(pieces.len());
        for piece in pieces {
            offsets.push(logical.len());
            logical.push_str(piece.text);
        }
        let at = skip_space(&logical, 0);
        let (keyword, mut rest) = word(&logical, at);
        let mut keyword = keyword.to_ascii_lowercase();
        let onbuild = keyword == "onbuild";
        if onbuild {
            let (child, after) = word(&logical, skip_space(&logical, rest));
            keyword = child.to_ascii_lowercase();
            rest = after;
        }
        let first_line = pieces[0].line;
        match keyword.as_str() {
            "run" | "copy" | "add" => {}
            "from" if !onbuild => return self.from(&logical[rest..]),
            "shell" if !onbuild => return self.shell(&logical[rest..], first_line),
            _ => return,
        }
        let start = skip_flags(&logical, rest);
        let command = logical[start..].trim_end();
        if command.starts_with('[') {
            if let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(command) {
                let words: Option<Vec<String>> =
                    items.iter().map(|v| v.as_str().map(quote)).collect();
                match words {
                    None => self.error(
                        first_line,
                        "when using JSON array syntax, arrays must be comprised of strings only",
                    ),
                    Some(words) if words.is_empty() => self.error(
                        first_line,
                        format!("{keyword} requires at least one argument"),
                    ),
                    Some(words) if keyword == "run" => {
                        let line = piece_at(pieces, &offsets, start)
                            .map_or(first_line, |k| pieces[k].line);
                        self.push_step(line, onbuild, None, words.join(" "));
                    }
                    Some(_) => {}
                }
                return;
            }
        }
        let heredocs: Vec<Heredoc> = raw_words(command)
            .iter()
            .filter_map(|w| heredoc(w))
            .collect();
        let bodies = self.bodies(&heredocs);
        if bodies.last().is_some_and(|b| !b.terminated) {
            self.error(first_line, "unterminated heredoc");
        }
        if keyword != "run" {
            return;
        }
        let Some(first) = piece_at(pieces, &offsets, start) else {
            self.error(first_line, "RUN requires at least one argument");
            return;
        };
        let stage_shell = match self.stages.last() {
            Some(stage) => stage.shell.clone(),
            None => self.shell_before_from.clone(),
        };
        let last_line = pieces.last().map_or(first_line, |p| p.line);
        let words = raw_words(command);
        if words.len() == 1 && heredocs.len() == 1 {
            // A lone heredoc: Docker runs its body as the script.
            let body = &bodies[0];
            let data: String = body.lines.iter().map(|l| format!("{l}\n")).collect();
            let shell = if data.starts_with("#!") {
                shebang(&data)
            } else {
                stage_shell
            };
            let script: String = if heredocs[0].chomp {
                body.lines
                    .iter()
                    .map(|l| format!("{}\n", l.trim_start_matches('\t')))
                    .collect()
            } else {
                data
            };
            self.push_step(last_line.saturating_add(1), onbuild, shell, script);
            return;
        }
        let cont = continuation(stage_shell.as_deref());
        let mut script = render(&pieces[first..], start - offsets[first], cont);
        for (heredoc, body) in heredocs.iter().zip(&bodies) {
            script.push('\n');
            for line in &body.lines {
                script.push_str(line);
                script.push('\n');
            }
            if body.terminated {
                script.push_str(&heredoc.name);
            }
        }
        self.push_step(pieces[first].line, onbuild, stage_shell, script);
    }

    fn push_step(&mut self, line: u32, onbuild: bool, shell: Option<String>, script: String) {
        let stage = self.stages.len().checked_sub(1);
        let location = if onbuild { "ONBUILD RUN" } else { "RUN" };
        self.steps.push((
            Step {
                context: Context::Dockerfile,
                file: self.path.to_string(),
                line,
                location: location.to_string(),
                shell,
                script,
                lifecycle: false,
                via: Via::Direct,
            },
            stage,
        ));
    }

    /// Reads the bodies of `heredocs` from the following lines; stops at an unterminated one.
    fn bodies(&mut self, heredocs: &[Heredoc]) -> Vec<Body<'a>> {
        let mut bodies = Vec::with_capacity(heredocs.len());
        for heredoc in heredocs {
            let mut body = Body {
                lines: Vec::new(),
                terminated: false,
            };
            while let Some(&line) = self.lines.get(self.next) {
                self.next += 1;
                let mut candidate = line.trim_end_matches('\r');
                if heredoc.chomp {
                    candidate = candidate.trim_start_matches('\t');
                }
                if candidate == heredoc.name {
                    body.terminated = true;
                    break;
                }
                body.lines.push(line);
            }
            let terminated = body.terminated;
            bodies.push(body);
            if !terminated {
                break;
            }
        }
        bodies
    }

    /// `FROM [--platform=...] image [AS name]`: a new stage.
    fn from(&mut self, args: &str) {
        let start = skip_flags(args, 0);
        let mut words = args[start..].split_ascii_whitespace();
        let image = words.next().unwrap_or("").to_ascii_lowercase();
        let name = match (words.next(), words.next()) {
            (Some(as_), Some(name)) if as_.eq_ignore_ascii_case("as") => {
                Some(name.to_ascii_lowercase())
            }
            _ => None,
        };
        let shell = self
            .stages
            .iter()
            .rev()
            .find(|s| s.name.as_deref() == Some(image.as_str()))
            .and_then(|s| s.shell.clone());
        self.stages.push(Stage { name, shell });
    }

    /// `SHELL ["program", "arg", ...]`: the shell of the stage's following `RUN`s.
    fn shell(&mut self, args: &str, line: u32) {
        match serde_json::from_str::<Vec<String>>(args.trim()) {
            Ok(words) if !words.is_empty() => {
                let program = interpreter(&words.join(" ")).unwrap_or_default();
                let program = program
                    .strip_suffix(".exe")
                    .or_else(|| program.strip_suffix(".EXE"))
                    .unwrap_or(&program);
                let shell = Some(program.to_string());
                match self.stages.last_mut() {
                    Some(stage) => stage.shell = shell,
                    None => self.shell_before_from = shell,
                }
            }
            _ => self.error(
                line,
                "SHELL requires the arguments to be a JSON array of strings",
            ),
        }
    }
}

/// `# key=value` (after leading whitespace): the key and value of a parser directive.
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('#')?.trim_start();
    let key_end = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let key = &rest[..key_end];
    if !key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest[key_end..].trim_start().strip_prefix('=')?.trim();
    (!value.is_empty()).then_some((key, value))
}

/// Removes a trailing escape character (and the blanks after it): the text and whether the
/// instruction ends on this line. As in BuildKit, an escape character preceded by another one
/// does not continue the line (unless it is alone on it).
fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    match trimmed.strip_suffix(escape) {
        Some(text) if text.is_empty() || !text.ends_with(escape) => (text, false),
        _ => (line, true),
    }
}

/// Docker's instruction whitespace.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

fn skip_space(s: &str, at: usize) -> usize {
    s[at..]
        .find(|c: char| !is_space(c))
        .map_or(s.len(), |i| at + i)
}

/// The word at `at` and the offset after it.
fn word(s: &str, at: usize) -> (&str, usize) {
    let end = s[at..].find(is_space).map_or(s.len(), |i| at + i);
    (&s[at..end], end)
}

/// Skips BuildKit flags (`--mount=type=cache,target=/x`, quoted values, a `--` terminator)
/// from `at`: the offset of the command after them.
fn skip_flags(s: &str, at: usize) -> usize {
    let b = s.as_bytes();
    let mut pos = at;
    loop {
        pos = skip_space(s, pos);
        if !s[pos..].starts_with("--") {
            return pos;
        }
        let start = pos;
        let mut quote = None;
        while pos < b.len() {
            let c = b[pos];
            match quote {
                None if c.is_ascii_whitespace() => break,
                None if c == b'\'' || c == b'"' => quote = Some(c),
                Some(q) if c == q => quote = None,
                _ if c == b'\\' => pos += 1,
                _ => {}
            }
            pos += 1;
        }
        // A backslash as the last byte may step past the end; the other stops are ASCII.
        pos = pos.min(b.len());
        while !s.is_char_boundary(pos) {
            pos += 1;
        }
        if &s[start..pos] == "--" {
            return skip_space(s, pos);
        }
    }
}

/// The index of the piece holding offset `at` of the logical line (`None` at its end).
fn piece_at(pieces: &[Piece], offsets: &[usize], at: usize) -> Option<usize> {
    pieces
        .iter()
        .zip(offsets)
        .position(|(p, &o)| o <= at && at < o + p.text.len())
}

/// The continuation character of a shell's language.
fn continuation(shell: Option<&str>) -> char {
    match shell.map(Dialect::for_shell) {
        Some(Dialect::PowerShell) => '`',
        Some(Dialect::Cmd) => '^',
        _ => '\\',
    }
}

/// `pieces` from byte `skip` of the first, each but the last ending in `cont` + newline. A
/// piece ending in an odd run of `cont` hands one to the next kept piece, so removing the
/// continuations gives back Docker's joined line.
fn render(pieces: &[Piece], skip: usize, cont: char) -> String {
    let mut out = String::new();
    let mut carry = false;
    for (k, piece) in pieces.iter().enumerate() {
        let mut text = if k == 0 {
            piece.text.get(skip..).unwrap_or("")
        } else {
            piece.text
        };
        let last = k + 1 == pieces.len();
        if carry && (!piece.dropped || last) {
            out.push(cont);
            carry = false;
        }
        if last {
            out.push_str(text);
            break;
        }
        let run = text.len() - text.trim_end_matches(cont).len();
        if (run / cont.len_utf8()) % 2 == 1 {
            text = &text[..text.len() - cont.len_utf8()];
            carry = true;
        }
        out.push_str(text);
        out.push(cont);
        out.push('\n');
    }
    out
}

/// The command's words with quotes and escapes kept, split at unquoted whitespace.
fn raw_words(s: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start = None;
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                }
            }
            None if is_space(c) => {
                if let Some(st) = start.take() {
                    words.push(&s[st..i]);
                }
            }
            None => {
                start.get_or_insert(i);
                match c {
                    '\'' | '"' => quote = Some(c),
                    '\\' => escaped = true,
                    _ => {}
                }
            }
        }
    }
    if let Some(st) = start {
        words.push(&s[st..]);
    }
    words
}

/// A word matching BuildKit's heredoc pattern `^[0-9]*<<-?[^<]+$`.
fn heredoc(word: &str) -> Option<Heredoc> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    Some(Heredoc {
        name: unquote(rest),
        chomp,
    })
}

/// A word with its quotes and backslash escapes removed.
fn unquote(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    let mut quote = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '\\') => out.extend(chars.next()),
            (Some('"'), '\\') => match chars.peek() {
                Some(&n @ ('"' | '$' | '\\')) => {
                    out.push(n);
                    chars.next();
                }
                _ => out.push('\\'),
            },
            _ => out.push(c),
        }
    }
    out
}

/// A word single-quoted for a POSIX shell unless it is plain.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:@%+,-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Extraction {
        extract("Dockerfile", text.as_bytes())
    }

    /// (line, location, shell, script) of each step.
    fn steps(e: &Extraction) -> Vec<(u32, &str, Option<&str>, &str)> {
        e.steps
            .iter()
            .map(|s| {
                (
                    s.line,
                    s.location.as_str(),
                    s.shell.as_deref(),
                    s.script.as_str(),
                )
            })
            .collect()
    }

    #[test]
    fn continuations_and_comments_keep_lines() {
        let text = "FROM debian:12\n\
                    # a comment\n\
                    run apt-get update && \\\n\
                    \x20   # dropped by Docker\n\
                    \n\
                    \x20   apt-get install -y curl \\  \n\
                    \x20&& rm -rf /var/lib/apt/lists/*\n\
                    RUN echo one\n";
        let e = run(text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(
            steps(&e),
            vec![
                (
                    3,
                    "RUN",
                    None,
                    "apt-get update && \\\n\\\n\\\n    apt-get install -y curl \\\n && rm -rf /var/lib/apt/lists/*"
                ),
                (8, "RUN", None, "echo one"),
            ]
        );
        for s in &e.steps {
            assert_eq!(s.context, Context::Dockerfile);
            assert_eq!(s.file, "Dockerfile");
            assert_eq!(s.via, Via::Direct);
            assert!(!s.lifecycle);
        }
    }

    #[test]
    fn doubled_escape_does_not_continue() {
        let e = run("RUN echo a\\\\\nRUN echo b \\\\  \nRUN \\\n  echo c\n");
        assert_eq!(
            steps(&e),
            vec![
                (1, "RUN", None, "echo a\\\\"),
                (2, "RUN", None, "echo b \\\\  "),
                (4, "RUN", None, "echo c"),
            ]
        );
    }

    #[test]
    fn unpaired_shell_escape_moves_to_next_line() {
        // Docker joins `echo a\` and `b` into `echo a\b`.
        let e = run("# escape=`\nRUN echo a\\`\nb\nRUN echo c\\\\`\nd\n");
        assert_eq!(e.steps[0].script, "echo a\\\n\\b");
        assert_eq!(e.steps[1].script, "echo c\\\\\\\nd");
    }

    #[test]
    fn backtick_escape() {
        let text = "# escape=`\n\
                    FROM mcr.microsoft.com/windows/servercore:ltsc2022\n\
                    RUN powershell -Command `\n\
                    \x20   Invoke-WebRequest https://x/y.exe -OutFile C:\\y.exe ; `\n\
                    \x20   C:\\y.exe /quiet\n\
                    SHELL [\"powershell\", \"-Command\"]\n\
                    RUN Write-Host a `\n\
                    \x20 b\n";
        let e = run(text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(
            steps(&e),
            vec![
                (
                    3,
                    "RUN",
                    None,
                    "powershell -Command \\\n    Invoke-WebRequest https://x/y.exe -OutFile C:\\y.exe ; \\\n    C:\\y.exe /quiet"
                ),
                (7, "RUN", Some("powershell"), "Write-Host a `\n  b"),
            ]
        );
    }

    #[test]
    fn directives_only_at_top() {
        let e = run("FROM x\n# escape=`\nRUN a `\nb\n");
        assert_eq!(steps(&e), vec![(3, "RUN", None, "a `")]);
        let e = run("# syntax=docker/dockerfile:1\n#escape = ` \nRUN a `\n b\n");
        assert_eq!(steps(&e), vec![(3, "RUN", None, "a \\\n b")]);
        let e = run("# escape=x\n# escape=\\\nRUN a\n");
        assert_eq!(e.errors.len(), 2);
        assert_eq!((e.errors[0].line, e.errors[1].line), (1, 2));
        assert_eq!(e.steps.len(), 1);
    }

    #[test]
    fn flags_are_dropped() {
        let text = "FROM golang\n\
                    RUN --mount=type=cache,target=/root/.cache/go-build \\\n\
                    \x20   --mount=type=secret,id=\"my token\" --network=none \\\n\
                    \x20   go build ./...\n\
                    RUN --security=insecure -- curl x\n\
                    RUN --mount=type=bind,source=.,target=/src make\n";
        let e = run(text);
        assert_eq!(
            steps(&e),
            vec![
                (4, "RUN", None, "go build ./..."),
                (5, "RUN", None, "curl x"),
                (6, "RUN", None, "make"),
            ]
        );
    }

    #[test]
    fn exec_form() {
        let text = "FROM alpine\n\
                    RUN [\"sh\", \"-c\", \"curl -fsSL https://x | sh\"]\n\
                    RUN --network=host [ \"/bin/echo\", \"it's\", \"\", \"a=b\" ]\n\
                    RUN [\"apk\", \"add\", \\\n  \"git\"]\n\
                    RUN [not json] && echo hi\n\
                    RUN [1, 2]\n";
        let e = run(text);
        assert_eq!(
            steps(&e),
            vec![
                (2, "RUN", None, "sh -c 'curl -fsSL https://x | sh'"),
                (3, "RUN", None, "/bin/echo 'it'\\''s' '' 'a=b'"),
                (4, "RUN", None, "apk add git"),
                (6, "RUN", None, "[not json] && echo hi"),
            ]
        );
        assert_eq!(e.errors.len(), 1);
        assert_eq!(e.errors[0].line, 7);
    }

    #[test]
    fn exec_form_ignores_shell() {
        let e = run("FROM x\nSHELL [\"pwsh\", \"-c\"]\nRUN [\"curl\", \"x\"]\nRUN iwr x\n");
        assert_eq!(
            steps(&e),
            vec![
                (3, "RUN", None, "curl x"),
                (4, "RUN", Some("pwsh"), "iwr x")
            ]
        );
    }

    #[test]
    fn lone_heredoc_runs_its_body() {
        let text = "FROM debian\n\
                    RUN <<EOF\n\
                    apt-get update\n\
                    curl https://x | sh\n\
                    EOF\n\
                    RUN <<-'END'\n\
                    \tset -e\n\
                    \t\tmake\n\
                    \tEND\n\
                    RUN <<EOF\n\
                    #!/usr/bin/env python3\n\
                    import os\n\
                    EOF\n\
                    RUN echo after\n";
        let e = run(text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(
            steps(&e),
            vec![
                (3, "RUN", None, "apt-get update\ncurl https://x | sh\n"),
                (7, "RUN", None, "set -e\nmake\n"),
                (
                    11,
                    "RUN",
                    Some("python3"),
                    "#!/usr/bin/env python3\nimport os\n"
                ),
                (14, "RUN", None, "echo after"),
            ]
        );
    }

    #[test]
    fn heredocs_fed_to_commands() {
        let text = "FROM python\n\
                    RUN python3 <<EOF\n\
                    print('hi')\n\
                    EOF\n\
                    RUN --mount=type=cache,target=/x <<\"A\" cat > /a && \\\n\
                    \x20   2<<-B sh\n\
                    a $HOME\n\
                    A\n\
                    \tcurl x\n\
                    \tB\n\
                    RUN echo \"<<NOT\" '<<NOR' x<<NEITHER\n";
        let e = run(text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(
            steps(&e),
            vec![
                (2, "RUN", None, "python3 <<EOF\nprint('hi')\nEOF"),
                (
                    5,
                    "RUN",
                    None,
                    "<<\"A\" cat > /a && \\\n    2<<-B sh\na $HOME\nA\n\tcurl x\nB"
                ),
                (11, "RUN", None, "echo \"<<NOT\" '<<NOR' x<<NEITHER"),
            ]
        );
    }

    #[test]
    fn copy_heredoc_bodies_are_skipped() {
        let text = "FROM x\nCOPY <<EOF /etc/x\nRUN curl evil\nEOF\nRUN true\n";
        let e = run(text);
        assert_eq!(steps(&e), vec![(5, "RUN", None, "true")]);
    }

    #[test]
    fn unterminated_heredoc() {
        let e = run("FROM x\nRUN cat <<EOF\nline one\nline two\n");
        assert_eq!(
            steps(&e),
            vec![(2, "RUN", None, "cat <<EOF\nline one\nline two\n")]
        );
        assert_eq!(e.errors.len(), 1);
        assert_eq!(e.errors[0].line, 2);
        assert!(e.errors[0].message.contains("heredoc"));
        let e = run("RUN <<EOF\ncurl x\n");
        assert_eq!(steps(&e), vec![(2, "RUN", None, "curl x\n")]);
        assert_eq!(e.errors[0].line, 1);
    }

    #[test]
    fn stages_and_shells() {
        let text = "FROM node:20 AS build\n\
                    SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n\
                    RUN npm ci\n\
                    FROM build AS test\n\
                    RUN npm test\n\
                    FROM mcr.microsoft.com/powershell\n\
                    RUN echo default\n\
                    SHELL [\"/usr/bin/env\", \"bash\", \"-c\"]\n\
                    RUN echo env\n\
                    SHELL [\"C:\\\\Windows\\\\System32\\\\cmd.exe\", \"/S\", \"/C\"]\n\
                    RUN dir \\\n\
                    \x20 /b\n\
                    ONBUILD RUN make\n\
                    SHELL pwsh -c\n";
        let e = run(text);
        assert_eq!(
            steps(&e),
            vec![
                (3, "RUN (stage build)", Some("bash"), "npm ci"),
                (5, "RUN (stage test)", Some("bash"), "npm test"),
                (7, "RUN (stage 2)", None, "echo default"),
                (9, "RUN (stage 2)", Some("bash"), "echo env"),
                (11, "RUN (stage 2)", Some("cmd"), "dir ^\n  /b"),
                (13, "ONBUILD RUN (stage 2)", Some("cmd"), "make"),
            ]
        );
        assert_eq!(e.errors.len(), 1);
        assert_eq!(e.errors[0].line, 14);
    }

    #[test]
    fn shell_before_from() {
        let e = run("SHELL [\"bash\", \"-c\"]\nRUN a\nFROM x\nRUN b\n");
        assert_eq!(
            steps(&e),
            vec![(2, "RUN", Some("bash"), "a"), (4, "RUN", None, "b")]
        );
    }

    #[test]
    fn other_instructions_are_not_steps() {
        let text = "FROM x\nCMD curl a | sh\nENTRYPOINT [\"sh\"]\nHEALTHCHECK CMD curl b\nENV A=1 \\\n  B=2\nRUN\n";
        let e = run(text);
        assert!(e.steps.is_empty());
        assert_eq!(e.errors.len(), 1);
        assert_eq!(e.errors[0].line, 7);
    }

    #[test]
    fn crlf_bom_and_empty_continuation() {
        let e = run("\u{feff}FROM x\r\nRUN a \\\r\n\r\n  b\r\n");
        assert_eq!(steps(&e), vec![(2, "RUN", None, "a \\\n\\\n  b")]);
        let e = run("RUN a \\\n# trailing comment\n");
        assert_eq!(steps(&e), vec![(1, "RUN", None, "a \\\n")]);
        let e = run("");
        assert!(e.steps.is_empty() && e.errors.is_empty());
    }

    #[test]
    fn helpers() {
        assert_eq!(
            raw_words(" a 'b c'  \"d\\\" e\" f\\ g "),
            vec!["a", "'b c'", "\"d\\\" e\"", "f\\ g"]
        );
        assert_eq!(
            heredoc("<<-\"E O\"F"),
            Some(Heredoc {
                name: "E OF".into(),
                chomp: true
            })
        );
        assert_eq!(heredoc("<<"), None);
        assert_eq!(heredoc("<<<EOF"), None);
        assert_eq!(heredoc("a<<EOF"), None);
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(skip_flags("--a='x y' --b\\\u{e9} cmd", 0), 17);
    }
}
