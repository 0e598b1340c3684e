//! Windows `cmd`: `&`, `&&`, `||`, `|`, `^` escapes and continuations, `"..."`, `%VAR%` and
//! `!VAR!`, `( ... )` blocks, `@` prefixes, `REM` and `::` comments, `:labels`, and the
//! commands run by `if ... command`, `else command` and `for ... do command` (including the
//! command of `for /f ... in ('command')`).

use crate::ast::{
    AndOr, Compound, Connector, Node, Piece, Pipeline, Redirect, Script, Simple, SubstKind, Word,
};
use crate::lines::Lines;
use crate::parser::NEST_LIMIT;
use crate::scan;
use crate::words::WordBuilder;
use crate::{Issue, Options};

/// Parses a Cmd text whose first line is `base_line`.
pub(crate) fn parse(
    src: &[u8],
    base_line: u32,
    opts: &Options,
    depth: usize,
    nest: usize,
) -> (Script, Vec<Issue>) {
    let mut p = Cmd {
        src,
        pos: 0,
        lines: Lines::new(src, base_line),
        opts: *opts,
        depth,
        nest,
        paren: 0,
        issues: Vec::new(),
    };
    let script = p.list();
    (script, p.issues)
}

struct Cmd<'a> {
    src: &'a [u8],
    pos: usize,
    lines: Lines,
    opts: Options,
    depth: usize,
    nest: usize,
    paren: usize,
    issues: Vec<Issue>,
}

impl Cmd<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn peek_at(&self, k: usize) -> Option<u8> {
        self.src.get(self.pos + k).copied()
    }

    fn issue(&mut self, pos: usize, message: impl Into<String>) {
        self.issues.push(self.lines.issue(pos, message));
    }

    fn skip_blanks(&mut self) {
        self.pos = scan::skip_blanks(self.src, self.pos, b'^');
    }

    fn skip_line(&mut self) {
        self.pos = scan::line_end(self.src, self.pos);
    }

    /// At the first non-blank byte of a line.
    fn at_line_start(&self) -> bool {
        let before = &self.src[..self.pos];
        before
            .iter()
            .rev()
            .take_while(|c| **c != b'\n')
            .all(|c| matches!(c, b' ' | b'\t' | b'@'))
    }

    /// The next word in lower case, if it is plain letters.
    fn keyword(&self) -> String {
        let rest = &self.src[self.pos..];
        let n = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let after = rest.get(n).copied();
        if matches!(
            after,
            None | Some(b' ' | b'\t' | b'\r' | b'\n' | b'(' | b'&' | b'|')
        ) {
            String::from_utf8_lossy(&rest[..n]).to_ascii_lowercase()
        } else {
            String::new()
        }
    }

    fn list(&mut self) -> Script {
        let mut items = Vec::new();
        loop {
            loop {
                self.skip_blanks();
                match self.peek() {
                    Some(b'\n' | b'@') => self.pos += 1,
                    _ => break,
                }
            }
            let Some(c) = self.peek() else { break };
            let here = self.pos;
            if c == b')' {
                if self.paren > 0 {
                    break;
                }
                self.issue(here, "unexpected `)`");
                self.pos += 1;
                continue;
            }
            if c == b':' && self.at_line_start() {
                self.skip_line();
                continue;
            }
            if matches!(c, b'&' | b'|') {
                self.issue(here, format!("unexpected `{}`", c as char));
                self.pos += 1;
                continue;
            }
            let mut item = self.and_or();
            self.skip_blanks();
            if self.peek() == Some(b'&') && self.peek_at(1) != Some(b'&') {
                self.pos += 1;
            }
            if !(item.first.stages.is_empty() && item.rest.is_empty()) {
                // Unlike PowerShell's and POSIX's, cmd's `&` only separates commands.
                item.background = false;
                items.push(item);
            }
            if self.pos == here {
                self.issue(here, format!("unexpected `{}`", c as char));
                self.pos += 1;
            }
        }
        Script { items }
    }

    fn and_or(&mut self) -> AndOr {
        let first = self.pipeline();
        let mut rest = Vec::new();
        loop {
            self.skip_blanks();
            let Some(connector) = Connector::at(self.src, self.pos) else {
                break;
            };
            self.pos += 2;
            rest.push((connector, self.pipeline()));
        }
        AndOr {
            first,
            rest,
            background: false,
        }
    }

    fn pipeline(&mut self) -> Pipeline {
        let mut stages = Vec::new();
        if let Some(n) = self.command() {
            stages.push(n);
        }
        loop {
            self.skip_blanks();
            if self.peek() != Some(b'|') || self.peek_at(1) == Some(b'|') {
                break;
            }
            self.pos += 1;
            match self.command() {
                Some(n) => stages.push(n),
                None => break,
            }
        }
        Pipeline {
            bang: false,
            stages,
        }
    }

    fn command(&mut self) -> Option<Node> {
        loop {
            self.skip_blanks();
            if self.peek() == Some(b'@') {
                self.pos += 1;
            } else {
                break;
            }
        }
        let c = self.peek()?;
        if matches!(c, b'\n' | b'&' | b'|' | b')') {
            return None;
        }
        if self.nest >= NEST_LIMIT {
            let here = self.pos;
            let limit = NEST_LIMIT;
            self.issue(
                here,
                format!("command nested more than {limit} deep: not parsed"),
            );
            self.skip_line();
            return None;
        }
        if c == b'(' {
            let start = self.pos;
            self.pos += 1;
            self.nest += 1;
            self.paren += 1;
            let body = self.list();
            if self.peek() == Some(b')') {
                self.pos += 1;
            } else {
                self.issue(start, "unterminated `(`");
            }
            self.paren -= 1;
            self.nest -= 1;
            let redirects = self.redirects();
            return Some(Node::Compound(Compound::Group(body), redirects));
        }
        let keyword = self.keyword();
        match keyword.as_str() {
            "rem" => {
                self.skip_line();
                None
            }
            "if" | "else" | "for" => {
                let head = match keyword.as_str() {
                    "if" => self.if_head(),
                    "for" => self.for_head(),
                    _ => self.word().into_iter().collect(),
                };
                self.nest += 1;
                let body = self.command();
                self.nest -= 1;
                let body = body.unwrap_or(Node::Compound(
                    Compound::Group(Script::default()),
                    Vec::new(),
                ));
                Some(Node::Compound(
                    Compound::Prefixed {
                        head,
                        body: Box::new(body),
                    },
                    Vec::new(),
                ))
            }
            _ => self.simple(),
        }
    }

    /// `if [/i] [not] exist|defined|errorlevel X` or `if [/i] [not] A==B` / `A OP B`.
    fn if_head(&mut self) -> Vec<Word> {
        let mut head = Vec::new();
        let take = |p: &mut Self, head: &mut Vec<Word>| {
            p.skip_blanks();
            if let Some(w) = p.word() {
                head.push(w);
            }
        };
        take(self, &mut head); // if
        self.skip_blanks();
        if self.keyword_or_switch("/i") {
            take(self, &mut head);
        }
        self.skip_blanks();
        if self.keyword() == "not" {
            take(self, &mut head);
        }
        self.skip_blanks();
        let kind = self.keyword();
        if matches!(
            kind.as_str(),
            "exist" | "defined" | "errorlevel" | "cmdextversion"
        ) {
            take(self, &mut head);
            take(self, &mut head);
            return head;
        }
        take(self, &mut head);
        let first = head.last().map(|w| w.value()).unwrap_or_default();
        if first.windows(2).any(|w| w == b"==") && !first.ends_with(b"==") {
            return head;
        }
        self.skip_blanks();
        let op = self.keyword();
        if first.ends_with(b"==") {
            take(self, &mut head);
        } else if self.src[self.pos..].starts_with(b"==") {
            take(self, &mut head);
            if head.last().is_some_and(|w| w.value() == b"==") {
                take(self, &mut head);
            }
        } else if matches!(op.as_str(), "equ" | "neq" | "lss" | "leq" | "gtr" | "geq") {
            take(self, &mut head);
            take(self, &mut head);
        }
        head
    }

    fn keyword_or_switch(&self, s: &str) -> bool {
        let rest = &self.src[self.pos..];
        rest.len() >= s.len()
            && rest[..s.len()].eq_ignore_ascii_case(s.as_bytes())
            && matches!(rest.get(s.len()), None | Some(b' ' | b'\t'))
    }

    /// `for [/f "opts"] %%i in (set) do`: the words up to and including `do`; a `('command')`
    /// set is parsed.
    fn for_head(&mut self) -> Vec<Word> {
        let mut head = Vec::new();
        loop {
            self.skip_blanks();
            match self.peek() {
                None | Some(b'\n' | b'&' | b'|') => break,
                Some(b')') if self.paren > 0 => break,
                Some(b'(') => {
                    let word = self.for_set();
                    head.push(word);
                    continue;
                }
                _ => {}
            }
            let done = self.keyword() == "do";
            match self.word() {
                Some(w) => head.push(w),
                None => break,
            }
            if done {
                break;
            }
        }
        head
    }

    /// The `( ... )` set of a `for`; `('command')` or `` (`command`) `` is parsed.
    fn for_set(&mut self) -> Word {
        let start = self.pos;
        let line = self.lines.line(start);
        let end = scan::past(self.src, start, b')');
        self.pos = end;
        let inner = self.src[start + 1..end.saturating_sub(1).max(start + 1)].to_vec();
        let trimmed: &[u8] = {
            let mut t = inner.as_slice();
            while let Some((b' ' | b'\t', r)) = t.split_first() {
                t = r;
            }
            while let Some((b' ' | b'\t', r)) = t.split_last() {
                t = r;
            }
            t
        };
        let quoted = trimmed.len() >= 2
            && matches!(trimmed[0], b'\'' | b'`')
            && trimmed.last() == Some(&trimmed[0]);
        if quoted && self.depth < self.opts.max_depth {
            let (script, mut issues) = parse(
                &trimmed[1..trimmed.len() - 1],
                line,
                &self.opts,
                self.depth + 1,
                self.nest + 1,
            );
            self.issues.append(&mut issues);
            return Word {
                pieces: vec![Piece::Subst {
                    kind: SubstKind::CmdFor,
                    script,
                    raw: self.src[start..end].to_vec(),
                }],
                line,
            };
        }
        Word {
            pieces: vec![Piece::Lit(self.src[start..end].to_vec(), false)],
            line,
        }
    }

    fn simple(&mut self) -> Option<Node> {
        let start = self.pos;
        let mut s = Simple {
            line: self.lines.line(self.pos),
            ..Simple::default()
        };
        loop {
            self.skip_blanks();
            match self.peek() {
                None | Some(b'\n' | b'&' | b'|') => break,
                Some(b')') if self.paren > 0 => break,
                _ => {}
            }
            if let Some(r) = self.redirect() {
                s.redirects.push(r);
                continue;
            }
            match self.word() {
                Some(w) => s.words.push(w),
                None => break,
            }
        }
        (self.pos > start).then_some(Node::Simple(s))
    }

    fn redirects(&mut self) -> Vec<Redirect> {
        let mut out = Vec::new();
        loop {
            self.skip_blanks();
            match self.redirect() {
                Some(r) => out.push(r),
                None => break,
            }
        }
        out
    }

    /// `>`, `>>`, `<`, `2>`, `2>&1`: `None` (nothing consumed) otherwise.
    fn redirect(&mut self) -> Option<Redirect> {
        let start = self.pos;
        let mut i = start;
        if self.src.get(i).is_some_and(u8::is_ascii_digit)
            && matches!(self.src.get(i + 1), Some(b'>' | b'<'))
        {
            i += 1;
        }
        let rest = &self.src[i..];
        let op = [">>", ">&", "<&", ">", "<"]
            .into_iter()
            .find(|op| rest.starts_with(op.as_bytes()))?;
        let fd = self.src[start..i].to_vec();
        self.pos = i + op.len();
        self.skip_blanks();
        let target = self.word();
        if target.is_none() {
            self.issue(start, format!("`{op}` without a target"));
        }
        Some(Redirect::new(fd, op, target))
    }

    fn word(&mut self) -> Option<Word> {
        let line = self.lines.line(self.pos);
        let mut b = WordBuilder::new();
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b'&' | b'|' | b'<' | b'>' => break,
                b')' if self.paren > 0 => break,
                b'^' => self.pos = b.escaped(self.src, self.pos),
                b'"' => {
                    self.pos += 1;
                    b.lit(&[], true);
                    let rest = &self.src[self.pos..];
                    let n = rest
                        .iter()
                        .position(|c| matches!(c, b'"' | b'\n'))
                        .unwrap_or(rest.len());
                    self.quoted_text(&mut b, self.pos, self.pos + n);
                    self.pos += n;
                    if self.peek() == Some(b'"') {
                        self.pos += 1;
                    }
                }
                b'%' | b'!' => {
                    let end = self.variable_end(self.pos);
                    match end {
                        Some(end) => {
                            b.piece(Piece::opaque(&self.src[self.pos..end]));
                            self.pos = end;
                        }
                        None => {
                            b.byte(c, false);
                            self.pos += 1;
                        }
                    }
                }
                _ => {
                    let start = self.pos;
                    while self.peek().is_some_and(|c| {
                        !matches!(
                            c,
                            b' ' | b'\t'
                                | b'\r'
                                | b'\n'
                                | b'&'
                                | b'|'
                                | b'<'
                                | b'>'
                                | b')'
                                | b'^'
                                | b'"'
                                | b'%'
                                | b'!'
                        )
                    }) {
                        self.pos += 1;
                    }
                    if self.pos == start {
                        // A `)` outside any block.
                        self.pos += 1;
                    }
                    b.lit(&self.src[start..self.pos], false);
                }
            }
        }
        b.finish(line)
    }

    /// Text inside `"..."`: literal except `%VAR%` / `!VAR!`.
    fn quoted_text(&self, b: &mut WordBuilder, from: usize, to: usize) {
        let mut i = from;
        let mut run = from;
        while i < to {
            if matches!(self.src[i], b'%' | b'!')
                && let Some(end) = self.variable_end(i).filter(|e| *e <= to)
            {
                b.lit(&self.src[run..i], true);
                b.piece(Piece::opaque(&self.src[i..end]));
                i = end;
                run = end;
                continue;
            }
            i += 1;
        }
        b.lit(&self.src[run..to], true);
    }

    /// The end of `%VAR%`, `%%i`, `%1`, `%~dp0`, `%*` or `!VAR!` starting at `at`.
    fn variable_end(&self, at: usize) -> Option<usize> {
        let src = self.src;
        let c = src[at];
        let next = *src.get(at + 1)?;
        if c == b'%' {
            if next == b'%' {
                return src
                    .get(at + 2)
                    .filter(|c| c.is_ascii_alphabetic())
                    .map(|_| at + 3);
            }
            if next.is_ascii_digit() || next == b'*' {
                return Some(at + 2);
            }
            if next == b'~' {
                let mut i = at + 2;
                while src.get(i).is_some_and(|c| c.is_ascii_alphabetic()) {
                    i += 1;
                }
                return src.get(i).filter(|c| c.is_ascii_digit()).map(|_| i + 1);
            }
        }
        let mut i = at + 1;
        while let Some(&d) = src.get(i) {
            if d == c {
                return (i > at + 1).then_some(i + 1);
            }
            if matches!(
                d,
                b' ' | b'\t' | b'\r' | b'\n' | b'&' | b'|' | b'<' | b'>' | b'"'
            ) {
                return None;
            }
            i += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::{Command, Dialect, Options, parse as parse_script};

    fn commands(src: &str) -> Vec<Command> {
        let opts = Options {
            dialect: Dialect::Cmd,
            ..Options::default()
        };
        parse_script(src, &opts).commands
    }

    fn names(src: &str) -> Vec<String> {
        commands(src).into_iter().map(|c| c.program).collect()
    }

    #[test]
    fn separators() {
        assert_eq!(
            names("a & b && c || d | e\nf"),
            ["a", "b", "c", "d", "e", "f"]
        );
        assert_eq!(commands("a | b")[0].feeds, ["b"]);
    }

    #[test]
    fn comments_labels_and_echo_off() {
        assert_eq!(
            names("@echo off\nREM x & y\n:: z\n:label\nrem\ngo"),
            ["echo", "go"]
        );
    }

    #[test]
    fn escapes_quotes_variables() {
        let c = &commands("c^url \"a b\" %X% !Y! %%i %1 %~dp0 50%")[0];
        assert_eq!(c.program, "curl");
        assert_eq!(c.args, ["a b", "%X%", "!Y!", "%%i", "%1", "%~dp0", "50%"]);
        assert_eq!(c.text, "curl 'a b' %X% !Y! %%i %1 %~dp0 50%");
        let c = &commands("a ^\nb")[0];
        assert_eq!(c.args, ["b"]);
        assert_eq!(names("\"C:\\Program Files\\x\\tool.exe\" /q"), ["tool"]);
    }

    #[test]
    fn if_else_for_blocks() {
        assert_eq!(names("if exist x del x"), ["del"]);
        assert_eq!(
            names("if /i not \"%a%\"==\"b\" (echo 1) else (echo 2 & rd x)"),
            ["echo", "echo", "rd"]
        );
        assert_eq!(names("if %a% == b echo y"), ["echo"]);
        assert_eq!(names("if errorlevel 1 exit /b 1"), ["exit"]);
        assert_eq!(names("if a EQU b goto x"), ["goto"]);
        assert_eq!(names("for %%i in (a b) do echo %%i"), ["echo"]);
        assert_eq!(
            names("for /f \"tokens=*\" %%i in ('curl -s z') do set v=%%i"),
            ["curl", "set"]
        );
        assert_eq!(names("(\n a\n b\n) > log"), ["a", "b"]);
    }

    #[test]
    fn redirects_are_not_args() {
        let c = &commands("a x > out 2>&1 <in")[0];
        assert_eq!(c.args, ["x"]);
    }
}
