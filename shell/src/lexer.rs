//! POSIX words: quotes, backslashes, `$'...'`, parameter expansions, `$((...))`, `$(...)`,
//! backticks, `<(...)`, array values, `${{ ... }}` template expressions and Azure macros.

use crate::ast::{Piece, SubstKind, Word};
use crate::parser::{NEST_LIMIT, Posix, Stop};
use crate::scan;
use crate::words::{WordBuilder, ansi_escape};

/// Bytes that end a run of plain word text.
fn special(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t'
            | b'\r'
            | b'\n'
            | b';'
            | b'&'
            | b'|'
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'\''
            | b'"'
            | b'\\'
            | b'$'
            | b'`'
    )
}

impl Posix<'_> {
    /// The word at the current position, or `None` (nothing consumed) at an operator or blank.
    pub(crate) fn word(&mut self) -> Option<Word> {
        let line = self.line();
        let mut b = WordBuilder::new();
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b')' => break,
                b'(' => {
                    if b.is_assignment_prefix() && self.nest < NEST_LIMIT {
                        self.array(&mut b);
                    } else {
                        break;
                    }
                }
                b'<' | b'>' => {
                    if self.peek_at(1) != Some(b'(') {
                        break;
                    }
                    let kind = if c == b'<' {
                        SubstKind::ProcIn
                    } else {
                        SubstKind::ProcOut
                    };
                    let piece = self.subst(kind);
                    b.piece(piece);
                }
                b'\'' => self.single_quoted(&mut b),
                b'"' => self.double_quoted(&mut b),
                b'\\' => match self.peek_at(1) {
                    Some(b'\n') => self.pos += 2,
                    Some(n) => {
                        b.byte(n, true);
                        self.pos += 2;
                    }
                    None => {
                        b.byte(b'\\', false);
                        self.pos += 1;
                    }
                },
                b'$' => self.dollar(&mut b, false),
                b'`' => {
                    let piece = self.backtick(false);
                    b.piece(piece);
                }
                _ => {
                    let start = self.pos;
                    while self.peek().is_some_and(|c| !special(c)) {
                        self.pos += 1;
                    }
                    b.lit(&self.src[start..self.pos], false);
                }
            }
        }
        b.finish(line)
    }

    /// The whole text as the body of an unquoted here-doc: `\\` escapes only `$`, `` ` ``, `\\`
    /// and newline; expansions and substitutions are read.
    pub(crate) fn heredoc_text(&mut self) -> Word {
        let line = self.line();
        let mut b = WordBuilder::new();
        while let Some(c) = self.peek() {
            match c {
                b'\\' => match self.peek_at(1) {
                    Some(c @ (b'$' | b'`' | b'\\')) => {
                        b.byte(c, true);
                        self.pos += 2;
                    }
                    Some(b'\n') => self.pos += 2,
                    _ => {
                        b.byte(b'\\', true);
                        self.pos += 1;
                    }
                },
                b'$' => self.dollar(&mut b, true),
                b'`' => {
                    let piece = self.backtick(false);
                    b.piece(piece);
                }
                _ => {
                    let start = self.pos;
                    while self
                        .peek()
                        .is_some_and(|c| !matches!(c, b'\\' | b'$' | b'`'))
                    {
                        self.pos += 1;
                    }
                    b.lit(&self.src[start..self.pos], true);
                }
            }
        }
        b.finish(line).unwrap_or_default()
    }

    fn single_quoted(&mut self, b: &mut WordBuilder) {
        let open = self.pos;
        self.pos += 1;
        b.lit(&[], true);
        let mut start = self.pos;
        loop {
            match self.peek() {
                None => {
                    b.lit(&self.src[start..], true);
                    self.issue(open, "unterminated single quote");
                    return;
                }
                Some(b'\'') => {
                    b.lit(&self.src[start..self.pos], true);
                    self.pos += 1;
                    return;
                }
                Some(b'$') if self.template_here() => {
                    let at = self.pos;
                    if let Some(end) = self.templates.end(self.src, at) {
                        b.lit(&self.src[start..at], true);
                        b.piece(Piece::opaque(&self.src[at..end]));
                        self.pos = end;
                        start = end;
                    } else {
                        self.pos += 1;
                    }
                }
                Some(_) => self.pos += 1,
            }
        }
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
                Some(b'"') => {
                    self.pos += 1;
                    return;
                }
                Some(b'\\') => match self.peek_at(1) {
                    Some(c @ (b'$' | b'`' | b'"' | b'\\')) => {
                        b.byte(c, true);
                        self.pos += 2;
                    }
                    Some(b'\n') => self.pos += 2,
                    _ => {
                        b.byte(b'\\', true);
                        self.pos += 1;
                    }
                },
                Some(b'$') => self.dollar(b, true),
                Some(b'`') => {
                    let piece = self.backtick(true);
                    b.piece(piece);
                }
                Some(_) => {
                    let start = self.pos;
                    while self
                        .peek()
                        .is_some_and(|c| !matches!(c, b'"' | b'\\' | b'$' | b'`'))
                    {
                        self.pos += 1;
                    }
                    b.lit(&self.src[start..self.pos], true);
                }
            }
        }
    }

    /// `${{` here and template expressions are on.
    fn template_here(&self) -> bool {
        self.opts.template_expressions && self.starts_with(b"${{")
    }

    /// At `$`: an expansion, substitution, `$'...'`, `$"..."` or a literal `$`.
    fn dollar(&mut self, b: &mut WordBuilder, in_dq: bool) {
        let start = self.pos;
        match self.peek_at(1) {
            Some(b'{') => {
                if self.template_here()
                    && let Some(end) = self.templates.end(self.src, start)
                {
                    b.piece(Piece::opaque(&self.src[start..end]));
                    self.pos = end;
                    return;
                }
                let piece = self.param_brace();
                b.piece(piece);
            }
            Some(b'(') => {
                if self.peek_at(2) == Some(b'(')
                    && let Some(end) = self.arith_end(start + 3)
                {
                    let word = self.arith_word(start, end);
                    b.append(word);
                    return;
                }
                if self.opts.azure_macros
                    && let Some(end) = scan::azure_macro_end(self.src, start)
                {
                    b.piece(Piece::opaque(&self.src[start..end]));
                    self.pos = end;
                    return;
                }
                let piece = self.subst(SubstKind::Dollar);
                b.piece(piece);
            }
            Some(b'\'') if !in_dq => self.ansi_c(b),
            Some(b'"') if !in_dq => {
                self.pos += 1;
                self.double_quoted(b);
            }
            Some(b'[') => {
                // `$[ expr ]` (old arithmetic, Azure runtime expressions): opaque.
                let mut depth = 0usize;
                let mut i = start + 1;
                while i < self.src.len() {
                    match self.src[i] {
                        b'[' => depth += 1,
                        b']' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        b'\n' => break,
                        _ => {}
                    }
                    i += 1;
                }
                if self.src.get(i) == Some(&b']') {
                    self.pos = i + 1;
                    b.piece(Piece::opaque(&self.src[start..self.pos]));
                } else {
                    b.byte(b'$', in_dq);
                    self.pos += 1;
                }
            }
            Some(c) if c == b'_' || c.is_ascii_alphabetic() => {
                self.pos += 1;
                while self
                    .peek()
                    .is_some_and(|c| c == b'_' || c.is_ascii_alphanumeric())
                {
                    self.pos += 1;
                }
                b.piece(Piece::opaque(&self.src[start..self.pos]));
            }
            Some(c) if c.is_ascii_digit() || b"@*#?$!-".contains(&c) => {
                self.pos += 2;
                b.piece(Piece::opaque(&self.src[start..self.pos]));
            }
            _ => {
                b.byte(b'$', in_dq);
                self.pos += 1;
            }
        }
    }

    /// `$'...'` with ANSI-C escapes.
    fn ansi_c(&mut self, b: &mut WordBuilder) {
        let open = self.pos;
        self.pos += 2;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => {
                    self.issue(open, "unterminated `$'`");
                    break;
                }
                Some(b'\'') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => self.pos = ansi_escape(self.src, self.pos + 1, &mut out),
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        b.lit(&out, true);
    }

    /// `${...}`: opaque, but `$(...)` and backticks inside it are parsed.
    fn param_brace(&mut self) -> Piece {
        let start = self.pos;
        self.pos += 2;
        let mut depth = 1usize;
        let mut in_dq = false;
        let mut nested = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                self.issue(start, "unterminated `${`");
                break;
            };
            match c {
                b'\\' => self.pos = (self.pos + 2).min(self.src.len()),
                b'\'' if !in_dq => {
                    self.pos = scan::past(self.src, self.pos + 1, b'\'');
                }
                b'"' => {
                    in_dq = !in_dq;
                    self.pos += 1;
                }
                b'}' if !in_dq => {
                    self.pos += 1;
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                b'$' if self.peek_at(1) == Some(b'{') => {
                    depth += 1;
                    self.pos += 2;
                }
                b'$' if self.peek_at(1) == Some(b'(') && self.peek_at(2) != Some(b'(') => {
                    let piece = self.subst(SubstKind::Dollar);
                    collect_nested(piece, &mut nested);
                }
                b'`' => {
                    let piece = self.backtick(in_dq);
                    collect_nested(piece, &mut nested);
                }
                _ => self.pos += 1,
            }
        }
        Piece::Expansion {
            raw: self.src[start..self.pos].to_vec(),
            nested,
        }
    }

    /// When `from` is just after `((` and the parentheses close with `))`, the offset after them.
    pub(crate) fn arith_end(&self, from: usize) -> Option<usize> {
        let mut depth = 0usize;
        let mut i = from;
        while i < self.src.len() {
            match self.src[i] {
                b'(' => depth += 1,
                b')' => {
                    if depth == 0 {
                        return (self.src.get(i + 1) == Some(&b')')).then_some(i + 2);
                    }
                    depth -= 1;
                }
                _ => {}
            }
            i += 1;
        }
        None
    }

    /// The arithmetic `$((...))` or `((...))` from `start` to `end`, as one opaque expansion
    /// whose `$(...)` and backticks are parsed.
    pub(crate) fn arith_word(&mut self, start: usize, end: usize) -> Word {
        let line = self.line_at(start);
        let open = if self.src.get(start) == Some(&b'$') {
            3
        } else {
            2
        };
        self.pos = start + open;
        let mut nested = Vec::new();
        while self.pos + 2 < end {
            match self.peek() {
                Some(b'$') if self.peek_at(1) == Some(b'(') && self.peek_at(2) != Some(b'(') => {
                    let piece = self.subst(SubstKind::Dollar);
                    collect_nested(piece, &mut nested);
                }
                Some(b'`') => {
                    let piece = self.backtick(false);
                    collect_nested(piece, &mut nested);
                }
                _ => self.pos += 1,
            }
        }
        self.pos = self.pos.max(end);
        Word {
            pieces: vec![Piece::Expansion {
                raw: self.src[start..self.pos].to_vec(),
                nested,
            }],
            line,
        }
    }

    /// `$(...)`, `<(...)` or `>(...)` at the current position.
    pub(crate) fn subst(&mut self, kind: SubstKind) -> Piece {
        let start = self.pos;
        self.pos += 2;
        if self.depth >= self.opts.max_depth || self.nest >= NEST_LIMIT {
            self.too_deep_issue(start, "command substitution");
            self.pos = self.skip_parens(self.pos);
            return Piece::opaque(&self.src[start..self.pos]);
        }
        self.depth += 1;
        self.nest += 1;
        self.paren += 1;
        let script = self.parse_list(Stop::TOP);
        if self.peek() == Some(b')') {
            self.pos += 1;
        } else {
            let open = if kind == SubstKind::Dollar {
                "$("
            } else if kind == SubstKind::ProcIn {
                "<("
            } else {
                ">("
            };
            self.issue(start, format!("unterminated `{open}`"));
        }
        self.paren -= 1;
        self.nest -= 1;
        self.depth -= 1;
        Piece::Subst {
            kind,
            script,
            raw: self.src[start..self.pos].to_vec(),
        }
    }

    /// `` `...` ``: the text, unescaped, is parsed on its own.
    fn backtick(&mut self, in_dq: bool) -> Piece {
        let start = self.pos;
        self.pos += 1;
        let mut inner = Vec::new();
        loop {
            match self.peek() {
                None => {
                    self.issue(start, "unterminated backquote");
                    break;
                }
                Some(b'`') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => match self.peek_at(1) {
                    Some(c @ (b'$' | b'`' | b'\\')) => {
                        inner.push(c);
                        self.pos += 2;
                    }
                    Some(b'"') if in_dq => {
                        inner.push(b'"');
                        self.pos += 2;
                    }
                    _ => {
                        inner.push(b'\\');
                        self.pos += 1;
                    }
                },
                Some(c) => {
                    inner.push(c);
                    self.pos += 1;
                }
            }
        }
        let raw = self.src[start..self.pos].to_vec();
        if self.depth >= self.opts.max_depth || self.nest >= NEST_LIMIT {
            self.too_deep_issue(start, "command substitution");
            return Piece::Expansion {
                raw,
                nested: Vec::new(),
            };
        }
        let mut sub = Posix::new(
            &inner,
            self.line_at(start),
            &self.opts,
            self.depth + 1,
            self.nest + 1,
        );
        let script = sub.parse_top();
        self.issues.append(&mut sub.issues);
        Piece::Subst {
            kind: SubstKind::Backtick,
            script,
            raw,
        }
    }

    /// The `(a b c)` of `NAME=(a b c)`, kept as text in the word.
    fn array(&mut self, b: &mut WordBuilder) {
        let open = self.pos;
        self.pos += 1;
        self.nest += 1;
        b.lit(b"(", false);
        let mut first = true;
        loop {
            self.skip_blanks();
            match self.peek() {
                None => {
                    self.issue(open, "unterminated array `(`");
                    break;
                }
                Some(b')') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\n') => {
                    self.newline();
                    continue;
                }
                Some(b'#') => {
                    self.skip_comment();
                    continue;
                }
                _ => {}
            }
            if !first {
                b.lit(b" ", false);
            }
            first = false;
            match self.word() {
                Some(w) => b.append(w),
                None => {
                    let c = self.src[self.pos];
                    b.byte(c, false);
                    self.pos += 1;
                }
            }
        }
        self.nest -= 1;
        b.lit(b")", false);
    }
}

/// The scripts of a substitution piece (or of an expansion holding some).
fn collect_nested(piece: Piece, out: &mut Vec<crate::ast::Script>) {
    match piece {
        Piece::Subst { script, .. } => out.push(script),
        Piece::Expansion { nested, .. } => out.extend(nested),
        Piece::Lit(..) => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::Options;
    use crate::ast::Piece;
    use crate::parser::Posix;

    /// The first word of `src`: its value and the number of nested scripts.
    fn word(src: &str, opts: Options) -> (String, usize, Vec<String>) {
        let mut p = Posix::new(src.as_bytes(), 1, &opts, 0, 0);
        let w = p.word().expect("a word");
        let issues = p.issues.iter().map(|i| i.message.clone()).collect();
        (w.string(), w.scripts().count(), issues)
    }

    fn value(src: &str) -> String {
        word(src, Options::default()).0
    }

    #[test]
    fn quote_removal() {
        assert_eq!(value(r#"c"ur"l"#), "curl");
        assert_eq!(value(r"c\url"), "curl");
        assert_eq!(value("b'a'sh"), "bash");
        assert_eq!(value(r"$'\x63\165rl'"), "curl");
        assert_eq!(value(r#""a\"b\$c\d""#), r#"a"b$c\d"#);
        assert_eq!(value("'a\\b'"), "a\\b");
        assert_eq!(value("ab\\\ncd"), "abcd");
        assert_eq!(value("\"ab\\\ncd\""), "abcd");
        assert_eq!(value("$\"loc\""), "loc");
        assert_eq!(value("a;b"), "a");
        assert_eq!(value("a#b c"), "a#b");
        assert_eq!(value("''"), "");
    }

    #[test]
    fn expansions_stay_as_written() {
        assert_eq!(value("$HOME/x"), "$HOME/x");
        assert_eq!(value("${A:-b c}d"), "${A:-b c}d");
        assert_eq!(value("\"$1\"$@"), "$1$@");
        assert_eq!(value("$((1 + (2)))"), "$((1 + (2)))");
        assert_eq!(value("$[1+2]"), "$[1+2]");
        assert_eq!(value("$"), "$");
        assert_eq!(value("a$"), "a$");
    }

    #[test]
    fn substitutions_are_parsed() {
        let o = Options::default();
        assert_eq!(word("$(curl x | sh)", o).1, 1);
        assert_eq!(word("`curl x`", o).1, 1);
        assert_eq!(word("\"a $(b) `c`\"", o).1, 2);
        assert_eq!(word("<(curl x)", o).1, 1);
        assert_eq!(word("${X:-$(curl x)}", o).1, 1);
        assert_eq!(word("$(( $(nproc) + 1 ))", o).1, 1);
        assert_eq!(word("$(echo \")\" ')' $(x))", o).1, 1);
        assert_eq!(
            word("$(case a in a) b;; esac)", o).0,
            "$(case a in a) b;; esac)"
        );
        // `$((` that is not arithmetic: a subshell in a substitution.
        assert_eq!(word("$((a) | b)", o).1, 1);
    }

    #[test]
    fn templates_and_macros() {
        let tpl = Options {
            template_expressions: true,
            azure_macros: true,
            ..Options::default()
        };
        let (v, n, _) = word("${{ a && 'b | c' }}x", tpl);
        assert_eq!((v.as_str(), n), ("${{ a && 'b | c' }}x", 0));
        let (v, _, _) = word("'${{ format('{0}', x) }}'", tpl);
        assert_eq!(v, "${{ format('{0}', x) }}");
        assert_eq!(word("$(Build.SourcesDirectory)", tpl).1, 0);
        assert_eq!(word("$(Build)", tpl).1, 1);
        assert_eq!(word("$(Build.SourcesDirectory)", Options::default()).1, 1);
        // Without the option, `${{` is an ordinary (strange) parameter expansion.
        assert_eq!(value("${{ x }}"), "${{ x }}");
    }

    #[test]
    fn unterminated() {
        let o = Options::default();
        assert_eq!(word("'abc", o).2, ["unterminated single quote"]);
        assert_eq!(word("\"abc", o).2, ["unterminated double quote"]);
        assert_eq!(word("$(abc", o).2, ["unterminated `$(`"]);
        assert_eq!(word("`abc", o).2, ["unterminated backquote"]);
        assert_eq!(word("${abc", o).2, ["unterminated `${`"]);
        assert_eq!(word("$'abc", o).2, ["unterminated `$'`"]);
        assert_eq!(word("\"abc", o).0, "abc");
    }

    #[test]
    fn arrays() {
        assert_eq!(value("a=(1 '2 3' $(x))"), "a=(1 2 3 $(x))");
        assert_eq!(value("a+=(x\n y)"), "a+=(x y)");
        let o = Options::default();
        assert_eq!(word("a=(x", o).2, ["unterminated array `(`"]);
    }

    #[test]
    fn pieces_keep_quoting() {
        let mut p = Posix::new(b"a\"b c\"'d'", 1, &Options::default(), 0, 0);
        let w = p.word().unwrap();
        let quoted: Vec<bool> = w
            .pieces
            .iter()
            .map(|p| matches!(p, Piece::Lit(_, true)))
            .collect();
        assert_eq!(quoted, [false, true]);
    }
}
