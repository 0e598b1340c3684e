//! PowerShell: `;`, newlines, `|`, `&&`, `||`, the `&` call operator, backtick escapes,
//! `'...'` (with `''`), `"..."` (with `` ` `` escapes and `$(...)`), here-strings, `#` and
//! `<# #>` comments, `$(...)`, `@(...)`, `(...)` and `{ ... }` blocks whose commands are found,
//! keyword statements (`if`, `foreach`, `try`...) and `$x = ...` assignments.

use crate::ast::{
    AndOr, Compound, Connector, Node, Piece, Pipeline, Redirect, Script, Simple, SubstKind, Word,
};
use crate::lines::Lines;
use crate::parser::NEST_LIMIT;
use crate::scan::{self, TemplateEnds};
use crate::words::WordBuilder;
use crate::{Issue, Options};

/// Words that start a statement rather than name a program.
const KEYWORDS: [&str; 22] = [
    "if", "elseif", "else", "foreach", "for", "while", "do", "until", "switch", "try", "catch",
    "finally", "function", "filter", "workflow", "param", "begin", "process", "end", "trap",
    "class", "enum",
];

/// Assignment operators.
const ASSIGN: [&str; 7] = ["=", "+=", "-=", "*=", "/=", "%=", "??="];

/// Parses a PowerShell text whose first line is `base_line`.
pub(crate) fn parse(
    src: &[u8],
    base_line: u32,
    opts: &Options,
    depth: usize,
    nest: usize,
) -> (Script, Vec<Issue>) {
    let mut p = Ps {
        src,
        pos: 0,
        lines: Lines::new(src, base_line),
        opts: *opts,
        depth,
        nest,
        closers: Vec::new(),
        issues: Vec::new(),
        templates: TemplateEnds::new(),
    };
    let script = p.list();
    (script, p.issues)
}

struct Ps<'a> {
    src: &'a [u8],
    pos: usize,
    lines: Lines,
    opts: Options,
    depth: usize,
    nest: usize,
    /// The closing brackets of the open blocks: one of them ends the inner lists.
    closers: Vec<u8>,
    issues: Vec<Issue>,
    templates: TemplateEnds,
}

fn special(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t'
            | b'\r'
            | b'\n'
            | b';'
            | b'|'
            | b'&'
            | b'('
            | b')'
            | b'{'
            | b'}'
            | b'<'
            | b'>'
            | b'\''
            | b'"'
            | b'`'
            | b'$'
            | b'@'
    )
}

impl Ps<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn peek_at(&self, k: usize) -> Option<u8> {
        self.src.get(self.pos + k).copied()
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        self.src.get(self.pos..).is_some_and(|r| r.starts_with(s))
    }

    fn issue(&mut self, pos: usize, message: impl Into<String>) {
        self.issues.push(self.lines.issue(pos, message));
    }

    fn skip_blanks(&mut self) {
        self.pos = scan::skip_blanks(self.src, self.pos, b'`');
    }

    fn skip_comment(&mut self) {
        self.pos = scan::line_end(self.src, self.pos);
    }

    fn skip_block_comment(&mut self) {
        let start = self.pos;
        let rest = &self.src[self.pos + 2..];
        match rest.windows(2).position(|w| w == b"#>") {
            Some(i) => self.pos += 2 + i + 2,
            None => {
                self.pos = self.src.len();
                self.issue(start, "unterminated `<#` comment");
            }
        }
    }

    /// Skips blanks, comments and (when `semicolons`) `;`, and newlines.
    fn skip_separators(&mut self, semicolons: bool) {
        loop {
            self.skip_blanks();
            match self.peek() {
                Some(b'\n') => self.pos += 1,
                Some(b';') if semicolons => self.pos += 1,
                Some(b'#') => self.skip_comment(),
                Some(b'<') if self.peek_at(1) == Some(b'#') => self.skip_block_comment(),
                _ => break,
            }
        }
    }

    fn list(&mut self) -> Script {
        let mut items = Vec::new();
        loop {
            self.skip_separators(true);
            let Some(c) = self.peek() else { break };
            let here = self.pos;
            if c == b')' || c == b'}' {
                if self.closers.contains(&c) {
                    break;
                }
                self.issue(here, format!("unexpected `{}`", c as char));
                self.pos += 1;
                continue;
            }
            if c == b'|' || self.starts_with(b"&&") {
                self.issue(here, format!("unexpected `{}`", c as char));
                self.pos += if c == b'&' || self.peek_at(1) == Some(b'|') {
                    2
                } else {
                    1
                };
                continue;
            }
            let mut item = self.and_or();
            self.skip_blanks();
            if self.peek() == Some(b'&') && self.peek_at(1) != Some(b'&') {
                self.pos += 1;
                item.background = true;
            }
            items.push(item);
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
            self.skip_separators(false);
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
        } else {
            return Pipeline {
                bang: false,
                stages,
            };
        }
        loop {
            self.skip_blanks();
            if self.peek() != Some(b'|') || self.peek_at(1) == Some(b'|') {
                break;
            }
            self.pos += 1;
            self.skip_separators(false);
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
        self.skip_blanks();
        let start = self.pos;
        let mut s = Simple {
            line: self.lines.line(self.pos),
            ..Simple::default()
        };
        loop {
            self.skip_blanks();
            let Some(c) = self.peek() else { break };
            match c {
                b'\n' | b';' | b'|' | b')' | b'}' => break,
                b'&' => {
                    if self.peek_at(1) != Some(b'&') && s.words.is_empty() && !s.call {
                        s.call = true;
                        self.pos += 1;
                        continue;
                    }
                    break;
                }
                b'#' => {
                    self.skip_comment();
                    break;
                }
                b'<' if self.peek_at(1) == Some(b'#') => {
                    self.skip_block_comment();
                    continue;
                }
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
        if self.pos == start {
            return None;
        }
        Some(classify(s))
    }

    /// `>`, `>>`, `2>`, `2>&1`, `*>`, `<`: `None` (nothing consumed) otherwise.
    fn redirect(&mut self) -> Option<Redirect> {
        let start = self.pos;
        let mut i = start;
        if matches!(self.src.get(i), Some(b'0'..=b'9' | b'*')) && self.src.get(i + 1) == Some(&b'>')
        {
            i += 1;
        }
        let rest = &self.src[i..];
        let op = if rest.starts_with(b">>") {
            ">>"
        } else if rest.starts_with(b">&") {
            ">&"
        } else if rest.starts_with(b">") {
            ">"
        } else if rest.starts_with(b"<") && i == start {
            "<"
        } else {
            return None;
        };
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
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'|' | b'&' | b')' | b'}' | b'<' | b'>' => {
                    break;
                }
                b'\'' => self.single_quoted(&mut b),
                b'"' => self.double_quoted(&mut b),
                b'`' => self.pos = b.escaped(self.src, self.pos),
                b'$' => self.dollar(&mut b),
                b'@' => match self.peek_at(1) {
                    Some(b'(') => {
                        let piece = self.block(SubstKind::PsArray, 2, b')');
                        b.piece(piece);
                    }
                    Some(b'{') => {
                        let start = self.pos;
                        self.pos = self.skip_balanced(self.pos + 2);
                        b.piece(Piece::opaque(&self.src[start..self.pos]));
                    }
                    Some(q @ (b'"' | b'\'')) if self.here_string_start() => {
                        self.here_string(&mut b, q)
                    }
                    _ => {
                        b.byte(b'@', false);
                        self.pos += 1;
                    }
                },
                b'(' => {
                    let piece = self.block(SubstKind::PsParen, 1, b')');
                    b.piece(piece);
                }
                b'{' => {
                    let piece = self.block(SubstKind::PsBlock, 1, b'}');
                    b.piece(piece);
                }
                _ => {
                    let start = self.pos;
                    self.pos += 1;
                    while self.peek().is_some_and(|c| !special(c)) {
                        self.pos += 1;
                    }
                    b.lit(&self.src[start..self.pos], false);
                }
            }
        }
        b.finish(line)
    }

    /// `@"` or `@'` at the end of its line.
    fn here_string_start(&self) -> bool {
        let mut i = self.pos + 2;
        while matches!(self.src.get(i), Some(b' ' | b'\t' | b'\r')) {
            i += 1;
        }
        matches!(self.src.get(i), None | Some(b'\n'))
    }

    /// `@"` ... `"@` (or `@'` ... `'@`) at a line start: literal text.
    fn here_string(&mut self, b: &mut WordBuilder, q: u8) {
        let start = self.pos;
        let body_start = (scan::line_end(self.src, self.pos) + 1).min(self.src.len());
        let mut i = body_start;
        loop {
            if i >= self.src.len() {
                self.issue(start, "unterminated here-string");
                b.lit(&self.src[body_start..], true);
                self.pos = self.src.len();
                return;
            }
            let mut j = i;
            while matches!(self.src.get(j), Some(b' ' | b'\t')) {
                j += 1;
            }
            if self.src.get(j) == Some(&q) && self.src.get(j + 1) == Some(&b'@') {
                let end = i.saturating_sub(1).max(body_start);
                b.lit(&self.src[body_start..end], true);
                self.pos = j + 2;
                return;
            }
            i = scan::past(self.src, i, b'\n');
        }
    }

    fn single_quoted(&mut self, b: &mut WordBuilder) {
        let open = self.pos;
        self.pos += 1;
        b.lit(&[], true);
        let mut text = Vec::new();
        loop {
            match self.peek() {
                None => {
                    self.issue(open, "unterminated single quote");
                    break;
                }
                Some(b'\'') if self.peek_at(1) == Some(b'\'') => {
                    text.push(b'\'');
                    self.pos += 2;
                }
                Some(b'\'') => {
                    self.pos += 1;
                    break;
                }
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        b.lit(&text, true);
    }

    fn double_quoted(&mut self, b: &mut WordBuilder) {
        let open = self.pos;
        self.pos += 1;
        b.lit(&[], true);
        loop {
            match self.peek() {
                None => {
                    self.issue(open, "unterminated double quote");
                    return;
                }
                Some(b'"') if self.peek_at(1) == Some(b'"') => {
                    b.byte(b'"', true);
                    self.pos += 2;
                }
                Some(b'"') => {
                    self.pos += 1;
                    return;
                }
                Some(b'`') => {
                    let Some(c) = self.peek_at(1) else {
                        self.pos += 1;
                        continue;
                    };
                    let byte = match c {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'0' => 0,
                        b'a' => 7,
                        b'b' => 8,
                        b'e' => 27,
                        b'f' => 12,
                        b'v' => 11,
                        other => other,
                    };
                    b.byte(byte, true);
                    self.pos += 2;
                }
                Some(b'$') => self.dollar(b),
                Some(_) => {
                    let start = self.pos;
                    while self
                        .peek()
                        .is_some_and(|c| !matches!(c, b'"' | b'`' | b'$'))
                    {
                        self.pos += 1;
                    }
                    b.lit(&self.src[start..self.pos], true);
                }
            }
        }
    }

    fn dollar(&mut self, b: &mut WordBuilder) {
        let start = self.pos;
        match self.peek_at(1) {
            Some(b'(') => {
                if self.opts.azure_macros
                    && let Some(end) = scan::azure_macro_end(self.src, start)
                {
                    self.pos = end;
                    b.piece(Piece::opaque(&self.src[start..end]));
                    return;
                }
                let piece = self.block(SubstKind::PsSub, 2, b')');
                b.piece(piece);
            }
            Some(b'{') => {
                let template_end = if self.opts.template_expressions && self.starts_with(b"${{") {
                    self.templates.end(self.src, start)
                } else {
                    None
                };
                let end = template_end.unwrap_or_else(|| scan::past(self.src, start, b'}'));
                self.pos = end;
                b.piece(Piece::opaque(&self.src[start..end]));
            }
            Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'?' | b'^') => {
                self.pos += 2;
                if c.is_ascii_alphanumeric() || c == b'_' {
                    while self
                        .peek()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b':'))
                    {
                        self.pos += 1;
                    }
                }
                b.piece(Piece::opaque(&self.src[start..self.pos]));
            }
            _ => {
                b.byte(b'$', false);
                self.pos += 1;
            }
        }
    }

    /// `(...)`, `$(...)`, `@(...)` or `{...}`: a nested script.
    fn block(&mut self, kind: SubstKind, open_len: usize, closer: u8) -> Piece {
        let start = self.pos;
        let counts = matches!(kind, SubstKind::PsSub | SubstKind::PsArray);
        if self.nest >= NEST_LIMIT || (counts && self.depth >= self.opts.max_depth) {
            let limit = self.opts.max_depth.min(NEST_LIMIT);
            self.issue(
                start,
                format!("block nested more than {limit} deep: not parsed"),
            );
            self.pos = self.skip_balanced(start + open_len);
            return Piece::opaque(&self.src[start..self.pos]);
        }
        self.pos += open_len;
        self.nest += 1;
        self.depth += usize::from(counts);
        self.closers.push(closer);
        let script = self.list();
        self.closers.pop();
        if self.peek() == Some(closer) {
            self.pos += 1;
        } else {
            let open = String::from_utf8_lossy(&self.src[start..start + open_len]).into_owned();
            self.issue(start, format!("unterminated `{open}`"));
        }
        self.depth -= usize::from(counts);
        self.nest -= 1;
        Piece::Subst {
            kind,
            script,
            raw: self.src[start..self.pos].to_vec(),
        }
    }

    /// The offset after the bracket closing an already consumed opening one, skipping quotes.
    fn skip_balanced(&self, from: usize) -> usize {
        let src = self.src;
        let mut depth = 1usize;
        let mut i = from;
        while i < src.len() {
            match src[i] {
                b'`' => i += 1,
                b'\'' | b'"' => {
                    let q = src[i];
                    i += 1;
                    while i < src.len() && src[i] != q {
                        i += 1;
                    }
                }
                b'(' | b'{' => depth += 1,
                b')' | b'}' => {
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
}

/// Keyword statements, assignments and expressions among the words of one command.
fn classify(mut s: Simple) -> Node {
    if s.call || s.words.is_empty() {
        return Node::Simple(s);
    }
    let keyword = s.words[0]
        .plain()
        .map(|t| String::from_utf8_lossy(t).to_ascii_lowercase());
    if keyword.as_deref().is_some_and(|k| KEYWORDS.contains(&k)) {
        return Node::Compound(Compound::Statement(s.words), s.redirects);
    }
    let is_variable = matches!(s.words[0].pieces.first(), Some(Piece::Expansion { raw, .. }) if raw.first() == Some(&b'$'));
    let assigns = s
        .words
        .get(1)
        .and_then(|w| w.plain())
        .is_some_and(|op| ASSIGN.iter().any(|a| a.as_bytes() == op));
    if is_variable && assigns {
        let value = s.words.split_off(2);
        let mut target = std::mem::take(&mut s.words);
        if value.first().is_some_and(command_like) {
            s.words = value;
            return Node::Simple(s);
        }
        let mut b = WordBuilder::new();
        b.append(target.remove(0));
        b.lit(b"=", false);
        for (i, w) in value.into_iter().enumerate() {
            if i > 0 {
                b.lit(b" ", false);
            }
            b.append(w);
        }
        if let Some(w) = b.finish(s.line) {
            s.assigns.push(w);
        }
        return Node::Simple(s);
    }
    if !command_like(&s.words[0]) {
        s.expression = true;
    }
    Node::Simple(s)
}

/// The word can name a command (`Get-Item`, `curl`, `.\x.ps1`), not start an expression
/// (`"text"`, `$x`, `(...)`, `[Type]`, `5`... digits are allowed: `7z`).
fn command_like(w: &Word) -> bool {
    w.starts_unquoted().is_some_and(|c| {
        c.is_ascii_alphanumeric() || matches!(c, b'.' | b'\\' | b'/' | b'_' | b'~') || c >= 0x80
    })
}

#[cfg(test)]
mod tests {
    use crate::{Dialect, Options, parse as parse_script};

    fn programs(src: &str) -> Vec<(String, Vec<String>)> {
        let opts = Options {
            dialect: Dialect::PowerShell,
            ..Options::default()
        };
        parse_script(src, &opts)
            .commands
            .into_iter()
            .map(|c| (c.program, c.feeds))
            .collect()
    }

    fn names(src: &str) -> Vec<String> {
        programs(src).into_iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn separators_and_pipes() {
        assert_eq!(names("a; b\nc && d || e"), ["a", "b", "c", "d", "e"]);
        assert_eq!(programs("iwr x | iex")[0].1, ["iex"]);
        assert_eq!(names("a # b\n<# c\nd #> e"), ["a", "e"]);
        assert_eq!(names("a `\n  --x; b"), ["a", "b"]);
    }

    #[test]
    fn quotes_and_escapes() {
        let opts = Options {
            dialect: Dialect::PowerShell,
            ..Options::default()
        };
        let c = &parse_script("w 'it''s' \"a`tb\"\"c\" `$x", &opts).commands[0];
        assert_eq!(c.args, ["it's", "a\tb\"c", "$x"]);
        let c = &parse_script("w @'\nline $(x)\n'@ y", &opts).commands[0];
        assert_eq!(c.args, ["line $(x)", "y"]);
    }

    #[test]
    fn blocks_and_subexpressions() {
        assert_eq!(
            names("Write-Host \"$(Get-Date)\""),
            ["Write-Host", "Get-Date"]
        );
        assert_eq!(names("x @(a; b)"), ["x", "a", "b"]);
        assert_eq!(
            names("if ($a) { b } elseif (c) { d } else { e }"),
            ["b", "c", "d", "e"]
        );
        assert_eq!(names("foreach ($i in $l) {\n  f $i\n}"), ["f"]);
        assert_eq!(
            names("try { a } catch { b } finally { c }"),
            ["a", "b", "c"]
        );
        assert_eq!(names("function F($p) { g }"), ["g"]);
        assert_eq!(names("$h = @{ a = 1; b = (x) }"), [""]);
    }

    #[test]
    fn call_operator_and_expressions() {
        assert_eq!(names("& \"C:\\x\\curl.exe\" a"), ["curl"]);
        assert_eq!(names("& $exe a"), [""]);
        assert_eq!(names(". .\\setup.ps1"), ["."]);
        assert_eq!(names("\"text\" | Out-File f"), ["Out-File"]);
        assert_eq!(
            names("[Net.ServicePointManager]::SecurityProtocol = 'Tls12'"),
            Vec::<String>::new()
        );
        assert_eq!(names("$x.Invoke((iwr y))"), ["iwr"]);
    }

    #[test]
    fn assignments() {
        let opts = Options {
            dialect: Dialect::PowerShell,
            ..Options::default()
        };
        let p = parse_script("$env:A = \"b c\"\n$r = Invoke-WebRequest u", &opts);
        assert_eq!(p.commands[0].assignments, ["$env:A=b c"]);
        assert_eq!(p.commands[0].program, "");
        assert_eq!(p.commands[1].program, "Invoke-WebRequest");
        assert_eq!(p.commands[1].args, ["u"]);
    }

    #[test]
    fn unterminated() {
        let opts = Options {
            dialect: Dialect::PowerShell,
            ..Options::default()
        };
        let p = parse_script("a \"b\nc", &opts);
        assert_eq!(p.commands.len(), 1);
        assert_eq!(p.issues[0].message, "unterminated double quote");
        let p = parse_script("a $(b", &opts);
        assert_eq!(p.commands.len(), 2);
        assert_eq!(p.issues[0].message, "unterminated `$(`");
    }
}
