//! The POSIX shell grammar: lists, and-or lists, pipelines, subshells, `{ }` groups, compound
//! keywords, functions, redirections and here-documents. Word-level reading is in `lexer.rs`.
//!
//! Lenient by design: every syntax error becomes an [`Issue`] and parsing goes on, each loop
//! consumes at least one byte, and recursion is bounded by [`NEST_LIMIT`] and the caller's
//! `max_depth`.

use crate::ast::{
    AndOr, CaseArm, Compound, Connector, HereDoc, Node, Pipeline, Redirect, Script, Simple, Word,
};
use crate::lines::Lines;
use crate::scan::{self, TemplateEnds};
use crate::{Issue, Options};

/// Most nested constructs of any kind (groups, `if`, functions...) before the rest of a construct
/// is skipped: keeps the parsers' and the emitter's recursion within a small stack.
pub(crate) const NEST_LIMIT: usize = 48;

/// Where a list ends, besides end of input and a `)` closing an open parenthesis.
#[derive(Clone, Copy)]
pub(crate) struct Stop {
    words: &'static [&'static str],
    case_arm: bool,
}

impl Stop {
    pub const TOP: Stop = Stop::words(&[]);

    const fn words(words: &'static [&'static str]) -> Stop {
        Stop {
            words,
            case_arm: false,
        }
    }
}

/// Reserved words that start a compound command.
const OPENERS: [&str; 9] = [
    "if", "while", "until", "for", "select", "case", "function", "{", "[[",
];
/// Reserved words that close (a part of) a compound command.
const CLOSERS: [&str; 8] = ["then", "elif", "else", "fi", "do", "done", "esac", "}"];

/// A here-document whose body is still to be read, after the next newline.
struct PendingDoc {
    index: usize,
    delim: Vec<u8>,
    strip_tabs: bool,
    quoted: bool,
    line: u32,
}

/// The POSIX parser over one text.
pub(crate) struct Posix<'a> {
    pub(crate) src: &'a [u8],
    pub(crate) pos: usize,
    lines: Lines,
    pub(crate) opts: Options,
    /// `$(...)`, backticks, subshells entered (limited by `opts.max_depth`).
    pub(crate) depth: usize,
    /// Constructs of any kind entered (limited by [`NEST_LIMIT`]).
    pub(crate) nest: usize,
    /// Open `(` of subshells and substitutions in this text: a `)` ends the inner lists.
    pub(crate) paren: usize,
    pending: Vec<PendingDoc>,
    docs: Vec<Option<HereDoc>>,
    pub(crate) issues: Vec<Issue>,
    pub(crate) templates: TemplateEnds,
}

/// Parses a POSIX shell text whose first line is `base_line`.
pub(crate) fn parse(
    src: &[u8],
    base_line: u32,
    opts: &Options,
    depth: usize,
    nest: usize,
) -> (Script, Vec<Issue>) {
    let mut p = Posix::new(src, base_line, opts, depth, nest);
    let script = p.parse_top();
    (script, p.issues)
}

/// A here-doc body whose delimiter was not quoted, read as one word: its `$(...)` and backticks
/// are parsed.
pub(crate) fn heredoc_word(
    body: &[u8],
    base_line: u32,
    opts: &Options,
    depth: usize,
    nest: usize,
) -> (Word, Vec<Issue>) {
    let mut p = Posix::new(body, base_line, opts, depth, nest);
    let word = p.heredoc_text();
    (word, p.issues)
}

impl<'a> Posix<'a> {
    pub(crate) fn new(
        src: &'a [u8],
        base_line: u32,
        opts: &Options,
        depth: usize,
        nest: usize,
    ) -> Self {
        Posix {
            src,
            pos: 0,
            lines: Lines::new(src, base_line),
            opts: *opts,
            depth,
            nest,
            paren: 0,
            pending: Vec::new(),
            docs: Vec::new(),
            issues: Vec::new(),
            templates: TemplateEnds::new(),
        }
    }

    /// The whole text as a script, here-doc bodies attached.
    pub(crate) fn parse_top(&mut self) -> Script {
        let mut script = self.parse_list(Stop::TOP);
        if !self.pending.is_empty() {
            self.read_heredocs();
        }
        let mut docs = std::mem::take(&mut self.docs);
        attach_script(&mut script, &mut docs);
        script
    }

    // ----- small helpers -----

    pub(crate) fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    pub(crate) fn peek_at(&self, k: usize) -> Option<u8> {
        self.src.get(self.pos + k).copied()
    }

    pub(crate) fn starts_with(&self, s: &[u8]) -> bool {
        self.src.get(self.pos..).is_some_and(|r| r.starts_with(s))
    }

    pub(crate) fn line_at(&self, pos: usize) -> u32 {
        self.lines.line(pos)
    }

    pub(crate) fn line(&self) -> u32 {
        self.lines.line(self.pos)
    }

    pub(crate) fn issue(&mut self, pos: usize, message: impl Into<String>) {
        self.issues.push(self.lines.issue(pos, message));
    }

    /// Skips spaces, tabs, carriage returns and line continuations (only `\` LF: unlike
    /// PowerShell's and Cmd's, a POSIX `\` CR is an escaped CR, see [`scan::skip_blanks`]).
    pub(crate) fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'\\') if self.peek_at(1) == Some(b'\n') => self.pos += 2,
                _ => break,
            }
        }
    }

    /// Skips a `#` comment up to (not including) the newline.
    pub(crate) fn skip_comment(&mut self) {
        self.pos = scan::line_end(self.src, self.pos);
    }

    /// Skips blanks, comments and newlines (reading here-doc bodies after each newline).
    pub(crate) fn skip_linebreaks(&mut self) {
        loop {
            self.skip_blanks();
            match self.peek() {
                Some(b'\n') => self.newline(),
                Some(b'#') => self.skip_comment(),
                _ => break,
            }
        }
    }

    /// Consumes a newline token; the bodies of the here-docs started on its line follow it.
    pub(crate) fn newline(&mut self) {
        self.pos += 1;
        if !self.pending.is_empty() {
            self.read_heredocs();
        }
    }

    /// `word` is at the current position, followed by a byte that ends a word.
    pub(crate) fn keyword_at(&self, word: &str) -> bool {
        if !self.starts_with(word.as_bytes()) {
            return false;
        }
        let next = self.src.get(self.pos + word.len()).copied();
        match word {
            "{" | "!" | "[[" => matches!(next, None | Some(b' ' | b'\t' | b'\r' | b'\n')),
            _ => matches!(
                next,
                None | Some(
                    b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>'
                )
            ),
        }
    }

    /// The reserved word at the current (command) position, if any.
    fn reserved_at(&self) -> Option<&'static str> {
        OPENERS
            .iter()
            .chain(CLOSERS.iter())
            .chain(["!"].iter())
            .copied()
            .find(|w| self.keyword_at(w))
    }

    fn too_deep(&self) -> bool {
        self.depth >= self.opts.max_depth || self.nest >= NEST_LIMIT
    }

    pub(crate) fn too_deep_issue(&mut self, pos: usize, what: &str) {
        let limit = self.opts.max_depth.min(NEST_LIMIT);
        self.issue(
            pos,
            format!("{what} nested more than {limit} deep: not parsed"),
        );
    }

    /// The offset after the `)` matching an already consumed `(` at `from - 1` (or the end),
    /// skipping quotes: for text nested too deeply to parse.
    pub(crate) fn skip_parens(&self, from: usize) -> usize {
        let src = self.src;
        let mut depth = 1usize;
        let mut i = from;
        while i < src.len() {
            match src[i] {
                b'\\' => i += 1,
                b'\'' => {
                    i += 1;
                    while i < src.len() && src[i] != b'\'' {
                        i += 1;
                    }
                }
                b'"' => {
                    i += 1;
                    while i < src.len() && src[i] != b'"' {
                        if src[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                }
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        src.len()
    }

    // ----- lists -----

    /// Commands up to end of input, a `)` closing an open parenthesis, or a reserved word of
    /// `stop`. Stray closers are reported and skipped.
    pub(crate) fn parse_list(&mut self, stop: Stop) -> Script {
        let mut items = Vec::new();
        loop {
            self.skip_linebreaks();
            let Some(c) = self.peek() else { break };
            let here = self.pos;
            match c {
                b')' => {
                    if self.paren > 0 {
                        break;
                    }
                    self.issue(here, "unexpected `)`");
                    self.pos += 1;
                    continue;
                }
                b';' => {
                    let case_end = matches!(self.peek_at(1), Some(b';' | b'&'));
                    if case_end && stop.case_arm {
                        break;
                    }
                    self.issue(here, "unexpected `;`");
                    self.pos += if case_end { 2 } else { 1 };
                    continue;
                }
                b'&' | b'|' if self.peek_at(1) != Some(b'>') => {
                    self.issue(here, format!("unexpected `{}`", c as char));
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            if let Some(word) = self.reserved_at() {
                if stop.words.contains(&word) {
                    break;
                }
                if CLOSERS.contains(&word) {
                    self.issue(here, format!("unexpected `{word}`"));
                    self.pos += word.len();
                    continue;
                }
            }
            let mut item = self.parse_and_or();
            self.skip_blanks();
            match self.peek() {
                Some(b';') if !matches!(self.peek_at(1), Some(b';' | b'&')) => self.pos += 1,
                Some(b'&') if !matches!(self.peek_at(1), Some(b'&' | b'>')) => {
                    self.pos += 1;
                    item.background = true;
                }
                _ => {}
            }
            items.push(item);
            if self.pos == here {
                // Nothing could be read here: report it and move on, so parsing always ends.
                self.issue(here, format!("unexpected `{}`", c as char));
                self.pos += 1;
            }
        }
        Script { items }
    }

    fn parse_and_or(&mut self) -> AndOr {
        let first = self.parse_pipeline();
        let mut rest = Vec::new();
        loop {
            self.skip_blanks();
            let Some(connector) = Connector::at(self.src, self.pos) else {
                break;
            };
            let at = self.pos;
            self.pos += 2;
            self.skip_linebreaks();
            let next = self.parse_pipeline();
            if next.stages.is_empty() {
                let op = connector.as_str();
                self.issue(at, format!("missing command after `{op}`"));
            }
            rest.push((connector, next));
        }
        AndOr {
            first,
            rest,
            background: false,
        }
    }

    fn parse_pipeline(&mut self) -> Pipeline {
        self.skip_blanks();
        let mut bang = false;
        loop {
            if self.keyword_at("!") {
                bang = true;
                self.pos += 1;
            } else if !self.keyword_prefix() {
                break;
            }
            self.skip_blanks();
        }
        let mut stages = Vec::new();
        match self.parse_command() {
            Some(node) => stages.push(node),
            None => return Pipeline { bang, stages },
        }
        loop {
            self.skip_blanks();
            if self.peek() != Some(b'|') || self.peek_at(1) == Some(b'|') {
                break;
            }
            let at = self.pos;
            self.pos += 1;
            if self.peek() == Some(b'&') {
                self.pos += 1;
            }
            self.skip_linebreaks();
            match self.parse_command() {
                Some(node) => stages.push(node),
                None => {
                    self.issue(at, "missing command after `|`");
                    break;
                }
            }
        }
        Pipeline { bang, stages }
    }

    /// Skips `time [-p]` before a compound command (before a simple command, `time` is left to
    /// be unwrapped like a wrapper) and `coproc [NAME]`; `true` when something was skipped.
    fn keyword_prefix(&mut self) -> bool {
        let start = self.pos;
        let opens_compound = |p: &mut Self| {
            p.skip_blanks();
            p.peek() == Some(b'(') || OPENERS.iter().any(|w| p.keyword_at(w))
        };
        if self.keyword_at("time") {
            self.pos += 4;
            self.skip_blanks();
            if self.keyword_at("-p") {
                self.pos += 2;
            }
            if opens_compound(self) {
                return true;
            }
        } else if self.keyword_at("coproc") {
            self.pos += 6;
            if opens_compound(self) {
                return true;
            }
            let after_coproc = self.pos;
            let name = self.src[self.pos..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            self.pos += name;
            if name > 0 && opens_compound(self) {
                return true;
            }
            self.pos = after_coproc;
            return true;
        }
        self.pos = start;
        false
    }

    // ----- commands -----

    /// One simple or compound command; `None` (nothing consumed) at an operator, a closer or
    /// the end.
    fn parse_command(&mut self) -> Option<Node> {
        self.skip_blanks();
        let c = self.peek()?;
        match c {
            b'\n' | b';' | b'|' | b')' => return None,
            b'&' if self.peek_at(1) != Some(b'>') => return None,
            b'(' => return Some(self.subshell_or_arith()),
            _ => {}
        }
        if let Some(word) = self.reserved_at() {
            if OPENERS.contains(&word) {
                if self.nest < NEST_LIMIT {
                    return Some(self.compound(word));
                }
                let here = self.pos;
                self.too_deep_issue(here, &format!("`{word}`"));
            } else if word != "!" {
                return None;
            }
        }
        self.parse_simple()
    }

    fn compound(&mut self, word: &'static str) -> Node {
        self.nest += 1;
        let start = self.pos;
        self.pos += word.len();
        let node = match word {
            "{" => {
                let body = self.parse_list(Stop::words(&["}"]));
                self.expect("}", start, "{");
                Compound::Group(body)
            }
            "if" => self.if_rest(start),
            "while" | "until" => {
                let cond = self.parse_list(Stop::words(&["do"]));
                let mut body = Script::default();
                if self.expect("do", start, word) {
                    body = self.parse_list(Stop::words(&["done"]));
                    self.expect("done", start, word);
                }
                Compound::Loop {
                    until: word == "until",
                    cond,
                    body,
                }
            }
            "for" | "select" => self.for_rest(start, word == "select"),
            "case" => self.case_rest(start),
            "[[" => self.cond_rest(start),
            _ => {
                // `function name [()] body`
                self.skip_blanks();
                let name = self.word().map(|w| w.value()).unwrap_or_default();
                self.skip_blanks();
                if self.peek() == Some(b'(') {
                    let mut i = self.pos + 1;
                    while matches!(self.src.get(i), Some(b' ' | b'\t')) {
                        i += 1;
                    }
                    if self.src.get(i) == Some(&b')') {
                        self.pos = i + 1;
                    }
                }
                let body = self.function_body(start);
                self.nest -= 1;
                return Node::Function(name, Box::new(body));
            }
        };
        self.nest -= 1;
        let redirects = self.redirects_after();
        Node::Compound(node, redirects)
    }

    /// Consumes the reserved word `word` or reports that the `opener` at `start` lacks it.
    fn expect(&mut self, word: &str, start: usize, opener: &str) -> bool {
        self.skip_blanks();
        if self.keyword_at(word) {
            self.pos += word.len();
            true
        } else {
            self.issue(start, format!("`{opener}` without `{word}`"));
            false
        }
    }

    fn if_rest(&mut self, start: usize) -> Compound {
        let mut arms = Vec::new();
        let mut otherwise = None;
        let cond = self.parse_list(Stop::words(&["then"]));
        if !self.expect("then", start, "if") {
            arms.push((cond, Script::default()));
            return Compound::If { arms, otherwise };
        }
        let body = self.parse_list(Stop::words(&["elif", "else", "fi"]));
        arms.push((cond, body));
        loop {
            if self.keyword_at("elif") {
                self.pos += 4;
                let cond = self.parse_list(Stop::words(&["then"]));
                if !self.expect("then", start, "elif") {
                    arms.push((cond, Script::default()));
                    break;
                }
                let body = self.parse_list(Stop::words(&["elif", "else", "fi"]));
                arms.push((cond, body));
            } else if self.keyword_at("else") {
                self.pos += 4;
                otherwise = Some(self.parse_list(Stop::words(&["fi"])));
                self.expect("fi", start, "if");
                break;
            } else {
                self.expect("fi", start, "if");
                break;
            }
        }
        Compound::If { arms, otherwise }
    }

    fn for_rest(&mut self, start: usize, select: bool) -> Compound {
        let keyword = if select { "select" } else { "for" };
        self.skip_blanks();
        let mut header = None;
        let mut var = Vec::new();
        if self.starts_with(b"((") {
            if let Some(end) = self.arith_end(self.pos + 2) {
                let at = self.pos;
                header = Some(self.arith_word(at, end));
            }
        }
        if header.is_none() {
            var = self.word().map(|w| w.value()).unwrap_or_default();
        }
        self.skip_blanks();
        if self.peek() == Some(b';') {
            self.pos += 1;
        }
        self.skip_linebreaks();
        let mut words = None;
        if header.is_none() && self.keyword_at("in") {
            self.pos += 2;
            let mut list = Vec::new();
            loop {
                self.skip_blanks();
                match self.peek() {
                    None | Some(b'\n' | b';' | b'&' | b'|' | b')') => break,
                    Some(b'#') => {
                        self.skip_comment();
                        break;
                    }
                    _ => {}
                }
                match self.word() {
                    Some(w) => list.push(w),
                    None => break,
                }
            }
            words = Some(list);
            if self.peek() == Some(b';') {
                self.pos += 1;
            }
            self.skip_linebreaks();
        }
        let body = if self.keyword_at("{") {
            self.pos += 1;
            let body = self.parse_list(Stop::words(&["}"]));
            self.expect("}", start, "{");
            body
        } else if self.expect("do", start, keyword) {
            let body = self.parse_list(Stop::words(&["done"]));
            self.expect("done", start, keyword);
            body
        } else {
            Script::default()
        };
        match header {
            Some(header) => Compound::ArithFor { header, body },
            None => Compound::For {
                select,
                var,
                words,
                body,
            },
        }
    }

    fn case_rest(&mut self, start: usize) -> Compound {
        self.skip_blanks();
        let word = self.word().unwrap_or_default();
        self.skip_linebreaks();
        let mut arms = Vec::new();
        if !self.keyword_at("in") {
            self.issue(start, "`case` without `in`");
            return Compound::Case { word, arms };
        }
        self.pos += 2;
        loop {
            self.skip_linebreaks();
            if self.keyword_at("esac") {
                self.pos += 4;
                break;
            }
            match self.peek() {
                None | Some(b')') => {
                    self.issue(start, "`case` without `esac`");
                    break;
                }
                _ => {}
            }
            let arm_start = self.pos;
            if self.peek() == Some(b'(') {
                self.pos += 1;
            }
            let mut patterns = Vec::new();
            let mut closed = false;
            loop {
                self.skip_blanks();
                if let Some(w) = self.word() {
                    patterns.push(w);
                }
                self.skip_blanks();
                match self.peek() {
                    Some(b'|') => self.pos += 1,
                    Some(b')') => {
                        self.pos += 1;
                        closed = true;
                        break;
                    }
                    _ => break,
                }
            }
            if !closed {
                self.issue(arm_start, "`case` pattern without `)`");
                break;
            }
            let body = self.parse_list(Stop {
                words: &["esac"],
                case_arm: true,
            });
            let end = if self.starts_with(b";;&") {
                ";;&"
            } else if self.starts_with(b";;") {
                ";;"
            } else if self.starts_with(b";&") {
                ";&"
            } else {
                ""
            };
            self.pos += end.len();
            arms.push(CaseArm {
                patterns,
                body,
                end,
            });
            if end.is_empty() {
                self.skip_linebreaks();
                if !self.keyword_at("esac") {
                    self.issue(start, "`case` without `esac`");
                    break;
                }
            }
        }
        Compound::Case { word, arms }
    }

    /// `[[ ... ]]`: operators are plain words here.
    fn cond_rest(&mut self, start: usize) -> Compound {
        let mut words = Vec::new();
        loop {
            self.skip_blanks();
            if self.keyword_at("]]") {
                self.pos += 2;
                break;
            }
            let line = self.line();
            match self.peek() {
                None | Some(b'\n') => {
                    self.issue(start, "`[[` without `]]`");
                    break;
                }
                Some(c @ (b'&' | b'|' | b'<' | b'>' | b'(' | b')' | b';')) => {
                    let mut text = vec![c];
                    self.pos += 1;
                    if matches!(c, b'&' | b'|') && self.peek() == Some(c) {
                        text.push(c);
                        self.pos += 1;
                    }
                    words.push(Word {
                        pieces: vec![crate::ast::Piece::Lit(text, false)],
                        line,
                    });
                }
                _ => match self.word() {
                    Some(w) => words.push(w),
                    None => self.pos += 1,
                },
            }
        }
        Compound::Cond(words)
    }

    /// `( list )` or `(( arithmetic ))`.
    fn subshell_or_arith(&mut self) -> Node {
        let start = self.pos;
        if self.peek_at(1) == Some(b'(')
            && let Some(end) = self.arith_end(start + 2)
        {
            let word = self.arith_word(start, end);
            let redirects = self.redirects_after();
            return Node::Compound(Compound::Arith(word), redirects);
        }
        if self.too_deep() {
            self.too_deep_issue(start, "subshell");
            let end = self.skip_parens(start + 1);
            self.pos = end;
            let raw = self.src[start..end].to_vec();
            return Node::Compound(Compound::Skipped(raw), Vec::new());
        }
        self.pos += 1;
        self.depth += 1;
        self.nest += 1;
        self.paren += 1;
        let body = self.parse_list(Stop::TOP);
        if self.peek() == Some(b')') {
            self.pos += 1;
        } else {
            self.issue(start, "unterminated `(`");
        }
        self.paren -= 1;
        self.nest -= 1;
        self.depth -= 1;
        let redirects = self.redirects_after();
        Node::Compound(Compound::Subshell(body), redirects)
    }

    fn function_body(&mut self, start: usize) -> Node {
        self.skip_linebreaks();
        match self.parse_command() {
            Some(node) => node,
            None => {
                self.issue(start, "function without a body");
                Node::Compound(Compound::Group(Script::default()), Vec::new())
            }
        }
    }

    /// Assignments, words and redirections up to an operator or the end of the line.
    fn parse_simple(&mut self) -> Option<Node> {
        let start = self.pos;
        let mut simple = Simple {
            line: self.line(),
            ..Simple::default()
        };
        loop {
            self.skip_blanks();
            let Some(c) = self.peek() else { break };
            match c {
                b'\n' | b';' | b'|' | b')' => break,
                b'&' => {
                    if self.peek_at(1) == Some(b'>')
                        && let Some(r) = self.redirect()
                    {
                        simple.redirects.push(r);
                        continue;
                    }
                    break;
                }
                b'#' => {
                    self.skip_comment();
                    break;
                }
                b'(' => {
                    if simple.words.len() == 1
                        && simple.assigns.is_empty()
                        && simple.redirects.is_empty()
                        && simple.words[0].plain().is_some()
                    {
                        let mut i = self.pos + 1;
                        while matches!(self.src.get(i), Some(b' ' | b'\t')) {
                            i += 1;
                        }
                        if self.src.get(i) == Some(&b')') && self.nest >= NEST_LIMIT {
                            let here = self.pos;
                            self.too_deep_issue(here, "function");
                        } else if self.src.get(i) == Some(&b')') {
                            self.pos = i + 1;
                            self.nest += 1;
                            let body = self.function_body(start);
                            self.nest -= 1;
                            let name = simple.words.remove(0).value();
                            return Some(Node::Function(name, Box::new(body)));
                        }
                    }
                    break;
                }
                b'<' | b'>' | b'0'..=b'9' => {
                    if let Some(r) = self.redirect() {
                        simple.redirects.push(r);
                        continue;
                    }
                }
                _ => {}
            }
            match self.word() {
                Some(w) => {
                    if simple.words.is_empty() && w.is_assignment() {
                        simple.assigns.push(w);
                    } else {
                        simple.words.push(w);
                    }
                }
                None => break,
            }
        }
        if self.pos == start {
            return None;
        }
        Some(Node::Simple(simple))
    }

    // ----- redirections and here-docs -----

    /// Redirections after a compound command.
    fn redirects_after(&mut self) -> Vec<Redirect> {
        let mut out = Vec::new();
        loop {
            self.skip_blanks();
            match self.peek() {
                Some(b'<' | b'>' | b'0'..=b'9') => {}
                Some(b'&') if self.peek_at(1) == Some(b'>') => {}
                _ => break,
            }
            match self.redirect() {
                Some(r) => out.push(r),
                None => break,
            }
        }
        out
    }

    /// A redirection at the current position, or `None` (nothing consumed).
    fn redirect(&mut self) -> Option<Redirect> {
        const OPS: [&str; 12] = [
            "<<<", "<<-", "<<", "<>", "<&", "<", ">>", ">&", ">|", ">", "&>>", "&>",
        ];
        let start = self.pos;
        let mut i = start;
        while i < self.src.len() && self.src[i].is_ascii_digit() && i - start < 4 {
            i += 1;
        }
        let rest = &self.src[i..];
        let op = OPS
            .iter()
            .copied()
            .find(|op| rest.starts_with(op.as_bytes()))?;
        if (op == "<" || op == ">") && rest.get(1) == Some(&b'(') {
            return None; // process substitution: a word
        }
        if op.starts_with('&') && i > start {
            return None;
        }
        let fd = self.src[start..i].to_vec();
        self.pos = i + op.len();
        self.skip_blanks();
        let target = self.word();
        let mut redirect = Redirect::new(fd, op, None);
        match (&target, op) {
            (None, _) => self.issue(start, format!("`{op}` without a target")),
            (Some(word), "<<" | "<<-") => {
                let quoted = word
                    .pieces
                    .iter()
                    .any(|p| matches!(p, crate::ast::Piece::Lit(_, true)));
                let index = self.docs.len();
                self.docs.push(None);
                self.pending.push(PendingDoc {
                    index,
                    delim: word.value(),
                    strip_tabs: op == "<<-",
                    quoted,
                    line: self.line_at(start),
                });
                redirect.pending = Some(index);
            }
            _ => {}
        }
        redirect.target = target;
        Some(redirect)
    }

    /// Reads the bodies of the pending here-docs, in order, from the current position.
    fn read_heredocs(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        for doc in pending {
            let line = self.line();
            let mut body = Vec::new();
            let mut found = false;
            while self.pos < self.src.len() {
                let rest = &self.src[self.pos..];
                let len = rest.iter().position(|c| *c == b'\n');
                let mut text = &rest[..len.unwrap_or(rest.len())];
                let next = self.pos + len.map_or(rest.len(), |n| n + 1);
                if doc.strip_tabs {
                    while let Some((b'\t', tail)) = text.split_first() {
                        text = tail;
                    }
                }
                let bare = text.strip_suffix(b"\r").unwrap_or(text);
                self.pos = next;
                if bare == doc.delim.as_slice() {
                    found = true;
                    break;
                }
                body.extend_from_slice(text);
                if len.is_some() {
                    body.push(b'\n');
                }
            }
            if !found {
                self.issues.push(Issue {
                    line: doc.line,
                    message: format!(
                        "here-document `{}` is not terminated",
                        String::from_utf8_lossy(&doc.delim)
                    ),
                });
            }
            if let Some(slot) = self.docs.get_mut(doc.index) {
                *slot = Some(HereDoc {
                    body,
                    line,
                    quoted: doc.quoted,
                });
            }
        }
    }
}

// ----- attaching here-doc bodies to their redirections -----

fn attach_script(script: &mut Script, docs: &mut [Option<HereDoc>]) {
    for item in &mut script.items {
        attach_pipeline(&mut item.first, docs);
        for (_, p) in &mut item.rest {
            attach_pipeline(p, docs);
        }
    }
}

fn attach_pipeline(p: &mut Pipeline, docs: &mut [Option<HereDoc>]) {
    for node in &mut p.stages {
        attach_node(node, docs);
    }
}

fn attach_node(node: &mut Node, docs: &mut [Option<HereDoc>]) {
    match node {
        Node::Simple(s) => {
            for w in s.assigns.iter_mut().chain(s.words.iter_mut()) {
                attach_word(w, docs);
            }
            attach_redirects(&mut s.redirects, docs);
        }
        Node::Function(_, body) => attach_node(body, docs),
        Node::Compound(c, redirects) => {
            attach_redirects(redirects, docs);
            match c {
                Compound::Subshell(s) | Compound::Group(s) => attach_script(s, docs),
                Compound::If { arms, otherwise } => {
                    for (c, b) in arms {
                        attach_script(c, docs);
                        attach_script(b, docs);
                    }
                    if let Some(o) = otherwise {
                        attach_script(o, docs);
                    }
                }
                Compound::Loop { cond, body, .. } => {
                    attach_script(cond, docs);
                    attach_script(body, docs);
                }
                Compound::For { words, body, .. } => {
                    for w in words.iter_mut().flatten() {
                        attach_word(w, docs);
                    }
                    attach_script(body, docs);
                }
                Compound::ArithFor { header, body } => {
                    attach_word(header, docs);
                    attach_script(body, docs);
                }
                Compound::Case { word, arms } => {
                    attach_word(word, docs);
                    for arm in arms {
                        for w in &mut arm.patterns {
                            attach_word(w, docs);
                        }
                        attach_script(&mut arm.body, docs);
                    }
                }
                Compound::Arith(w) => attach_word(w, docs),
                Compound::Cond(ws) | Compound::Statement(ws) => {
                    for w in ws {
                        attach_word(w, docs);
                    }
                }
                Compound::Prefixed { head, body } => {
                    for w in head {
                        attach_word(w, docs);
                    }
                    attach_node(body, docs);
                }
                Compound::Skipped(_) => {}
            }
        }
    }
}

fn attach_redirects(redirects: &mut [Redirect], docs: &mut [Option<HereDoc>]) {
    for r in redirects {
        if let Some(i) = r.pending.take() {
            r.heredoc = docs.get_mut(i).and_then(Option::take);
        }
        if let Some(w) = &mut r.target {
            attach_word(w, docs);
        }
    }
}

fn attach_word(word: &mut Word, docs: &mut [Option<HereDoc>]) {
    for piece in &mut word.pieces {
        match piece {
            crate::ast::Piece::Lit(..) => {}
            crate::ast::Piece::Expansion { nested, .. } => {
                for s in nested {
                    attach_script(s, docs);
                }
            }
            crate::ast::Piece::Subst { script, .. } => attach_script(script, docs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normal::{self, Printer};

    fn tree(src: &str) -> (Script, Vec<String>) {
        let (s, issues) = parse(src.as_bytes(), 1, &Options::default(), 0, 0);
        (
            s,
            issues
                .into_iter()
                .map(|i| format!("{}: {}", i.line, i.message))
                .collect(),
        )
    }

    /// The script in normal form.
    fn normal(src: &str) -> String {
        let (s, _) = tree(src);
        let mut out = Printer::new();
        normal::script(&s, &mut out);
        String::from_utf8(out.buf).unwrap()
    }

    #[test]
    fn lists_and_pipelines() {
        let (s, issues) = tree("a && b || c; d & e\nf |& g | h");
        assert!(issues.is_empty());
        assert_eq!(s.items.len(), 4);
        assert_eq!(s.items[0].rest.len(), 2);
        assert_eq!(s.items[0].rest[1].0, Connector::Or);
        assert!(s.items[1].background);
        assert_eq!(s.items[3].first.stages.len(), 3);
        assert_eq!(normal("a&&b ;c&d"), "a && b; c & d");
        assert_eq!(normal("! a |\n b"), "! a | b");
        assert_eq!(normal("a &&\n# comment\n b"), "a && b");
    }

    #[test]
    fn compound_commands() {
        assert_eq!(
            normal("if a\nthen b\nelif c; then d\nelse e\nfi >log"),
            "if a; then b; elif c; then d; else e; fi >log"
        );
        assert_eq!(normal("while a; do b; done"), "while a; do b; done");
        assert_eq!(normal("until a\ndo b\ndone"), "until a; do b; done");
        assert_eq!(
            normal("for x in 1 2\ndo y; done"),
            "for x in 1 2; do y; done"
        );
        assert_eq!(normal("for x; do y; done"), "for x; do y; done");
        assert_eq!(
            normal("for ((i=0;i<3;i++)); do y; done"),
            "for ((i=0;i<3;i++)); do y; done"
        );
        assert_eq!(
            normal("case $x in\n a|b) c;;\n (d) e;&\n *) f\nesac"),
            "case $x in a|b) c;; d) e;& *) f;; esac"
        );
        assert_eq!(normal("{ a; b; } 2>&1"), "{ a; b; } 2>&1");
        assert_eq!(normal("(a; b)"), "(a; b)");
        assert_eq!(normal("f() { a; }"), "f() { a; }");
        assert_eq!(normal("function f { a; }"), "f() { a; }");
        assert_eq!(normal("function f() (a)"), "f() (a)");
        assert_eq!(normal("[[ -f x && $y == z ]]"), "[[ -f x && $y == z ]]");
        assert_eq!(normal("(( i++ ))"), "(( i++ ))");
        assert_eq!(normal("((a) | b)"), "((a) | b)");
        assert_eq!(normal("echo if then fi"), "echo if then fi");
        assert_eq!(
            normal("select x in a; do b; done"),
            "select x in a; do b; done"
        );
    }

    #[test]
    fn redirections() {
        assert_eq!(
            normal("a >out 2> err 2>&1 &>all >>app <in <>rw >|f 3<&0"),
            "a >out 2>err 2>&1 &>all >>app <in <>rw >|f 3<&0"
        );
        let (s, _) = tree("cat <<<\"x y\"");
        let Node::Simple(simple) = &s.items[0].first.stages[0] else {
            panic!()
        };
        assert_eq!(simple.words.len(), 1);
        assert_eq!(simple.redirects[0].op, "<<<");
        assert_eq!(simple.redirects[0].target.as_ref().unwrap().string(), "x y");
    }

    #[test]
    fn heredocs() {
        let (s, issues) = tree("cat <<A <<-'B'; echo x\na\nA\n\tb $(c)\n\tB\necho after");
        assert!(issues.is_empty(), "{issues:?}");
        let Node::Simple(cat) = &s.items[0].first.stages[0] else {
            panic!()
        };
        let a = cat.redirects[0].heredoc.as_ref().unwrap();
        let b = cat.redirects[1].heredoc.as_ref().unwrap();
        assert_eq!(
            (a.body.as_slice(), a.line, a.quoted),
            (&b"a\n"[..], 2, false)
        );
        assert_eq!(
            (b.body.as_slice(), b.line, b.quoted),
            (&b"b $(c)\n"[..], 4, true)
        );
        assert_eq!(s.items.len(), 3);
        assert_eq!(normal("cat <<'EOF'\nx\nEOF\n"), "cat <<EOF");
        let (_, issues) = tree("cat <<EOF\nx\n");
        assert_eq!(issues, ["1: here-document `EOF` is not terminated"]);
        let (s, _) = tree("x=$(cat <<EOF\nbody )\nEOF\n)\necho y");
        assert_eq!(s.items.len(), 2);
        let (_, issues) = tree("cat <<EOF\r\nx\r\nEOF\r\n");
        assert!(issues.is_empty());
    }

    #[test]
    fn stray_tokens_are_reported_and_skipped() {
        let (s, issues) = tree("a; fi; ) b ;; done }");
        assert_eq!(s.items.len(), 2, "{issues:?}");
        assert_eq!(issues.len(), 6, "{issues:?}");
        let (_, issues) = tree("if a; then b");
        assert_eq!(issues, ["1: `if` without `fi`"]);
        let (_, issues) = tree("a &&");
        assert_eq!(issues, ["1: missing command after `&&`"]);
        let (_, issues) = tree("a |");
        assert_eq!(issues, ["1: missing command after `|`"]);
        let (_, issues) = tree("(a");
        assert_eq!(issues, ["1: unterminated `(`"]);
        let (_, issues) = tree("case x in a) b");
        assert_eq!(issues, ["1: `case` without `esac`"]);
        let (_, issues) = tree("echo >");
        assert_eq!(issues, ["1: `>` without a target"]);
    }

    #[test]
    fn depth_limits() {
        let opts = Options {
            max_depth: 2,
            ..Options::default()
        };
        let (s, issues) = parse(b"( ( (x) ) )", 1, &opts, 0, 0);
        assert_eq!(s.items.len(), 1);
        assert_eq!(issues.len(), 1);
        assert!(issues[0].message.contains("nested more than 2 deep"));
        let deep = "{ ".repeat(NEST_LIMIT + 5);
        let (_, issues) = tree(&deep);
        assert!(issues.iter().any(|i| i.contains("nested more than")));
    }
}
