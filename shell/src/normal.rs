//! The normal form: one spelling for every way of writing the same command.
//!
//! Rules, applied word by word:
//! - words are joined by one space; comments, continuations and extra blanks disappear;
//! - text that was unquoted in the script is printed as is (globs, `~`, `{}` stay unquoted);
//! - text that was quoted or escaped is printed bare when it holds only "safe" bytes
//!   (`A-Za-z0-9`, `_-./:=@%+,^`, non-ASCII), else in single quotes (`'` written `'\''`);
//!   so `"https://x"`, `https://x`, `h"ttps"://x` and `\https://x` all print `https://x`;
//! - expansions (`$X`, `${X}`, `$((1+2))`, `${{ x }}`, Azure macros) are printed as written;
//! - command substitutions print their script in normal form: `$(...)` (backticks too),
//!   `<(...)`, `>(...)`;
//! - lists print `a && b || c; d & e`, pipelines `a | b`, compound commands on one line
//!   (`if a; then b; fi`, `{ a; }`, `(a)`), redirections `>file`, `2>&1`, `<<EOF`.

use crate::ast::{
    AndOr, Compound, Connector, Node, Piece, Pipeline, Redirect, Script, Simple, SubstKind, Word,
};

/// An output buffer that stops growing (roughly) past a limit: printing a huge compound
/// command for a display text costs no more than the limit.
pub(crate) struct Printer {
    pub buf: Vec<u8>,
    limit: usize,
}

impl Printer {
    /// No limit.
    pub fn new() -> Self {
        Printer::limited(usize::MAX)
    }

    /// Stops printing lists and words once `limit` bytes are written.
    pub fn limited(limit: usize) -> Self {
        Printer {
            buf: Vec::new(),
            limit,
        }
    }

    fn full(&self) -> bool {
        self.buf.len() > self.limit
    }

    pub fn push(&mut self, b: u8) {
        self.buf.push(b);
    }

    pub fn extend_from_slice(&mut self, s: &[u8]) {
        self.buf.extend_from_slice(s);
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }
}

/// Bytes printed without quotes when they were quoted in the script.
fn safe(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"_-./:=@%+,^".contains(&c) || c >= 0x80
}

/// `text` single-quoted unless every byte is safe.
pub(crate) fn quote(text: &[u8], out: &mut Printer) {
    if !text.is_empty() && text.iter().all(|c| safe(*c)) {
        out.extend_from_slice(text);
        return;
    }
    out.push(b'\'');
    for &c in text {
        if c == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(c);
        }
    }
    out.push(b'\'');
}

/// One word in normal form.
pub(crate) fn word(w: &Word, out: &mut Printer) {
    let only_empty = w
        .pieces
        .iter()
        .all(|p| matches!(p, Piece::Lit(t, _) if t.is_empty()));
    if only_empty {
        out.extend_from_slice(b"''");
        return;
    }
    pieces(&w.pieces, 0, out);
}

/// An assignment word: `NAME=` as is, then the value in normal form (`A="x y"` -> `A='x y'`).
pub(crate) fn assignment(w: &Word, out: &mut Printer) {
    match w.pieces.first() {
        Some(Piece::Lit(text, false)) if text.contains(&b'=') => {
            let eq = text.iter().position(|c| *c == b'=').unwrap_or(0);
            out.extend_from_slice(&text[..=eq]);
            pieces(&w.pieces, eq + 1, out);
        }
        _ => word(w, out),
    }
}

/// `ps` in normal form, the first `skip` bytes of the first (literal) piece left out.
fn pieces(ps: &[Piece], skip: usize, out: &mut Printer) {
    let mut i = 0;
    while i < ps.len() {
        let run = ps[i..]
            .iter()
            .take_while(|p| matches!(p, Piece::Lit(..)))
            .count();
        if run > 0 {
            let texts: Vec<(&[u8], bool)> = ps[i..i + run]
                .iter()
                .enumerate()
                .filter_map(|(k, p)| match p {
                    Piece::Lit(t, q) => {
                        let from = if i + k == 0 { skip.min(t.len()) } else { 0 };
                        Some((&t[from..], *q))
                    }
                    _ => None,
                })
                .collect();
            literal_run(&texts, out);
            i += run;
            continue;
        }
        match &ps[i] {
            Piece::Lit(..) => {}
            Piece::Expansion { raw, .. } => out.extend_from_slice(raw),
            Piece::Subst {
                kind, script: s, ..
            } => {
                let (open, close): (&[u8], &[u8]) = match kind {
                    SubstKind::Dollar | SubstKind::Backtick | SubstKind::PsSub => (b"$(", b")"),
                    SubstKind::ProcIn => (b"<(", b")"),
                    SubstKind::ProcOut => (b">(", b")"),
                    SubstKind::PsParen => (b"(", b")"),
                    SubstKind::PsArray => (b"@(", b")"),
                    SubstKind::PsBlock => (b"{ ", b" }"),
                    SubstKind::CmdFor => (b"('", b"')"),
                };
                out.extend_from_slice(open);
                script(s, out);
                out.extend_from_slice(close);
            }
        }
        i += 1;
    }
}

/// Adjacent literal texts (`true`: quoted): quoted as one when some quoted text needs quotes
/// and the unquoted text around it is safe (`a\ b`, `"a b"` and `'a'" b"` all print `'a b'`),
/// text by text otherwise (`*'a b'` keeps its glob).
fn literal_run(texts: &[(&[u8], bool)], out: &mut Printer) {
    let all_safe = |t: &[u8]| t.iter().all(|c| safe(*c));
    if !texts.iter().any(|(t, q)| *q && !all_safe(t)) {
        texts.iter().for_each(|(t, _)| out.extend_from_slice(t));
        return;
    }
    if texts.iter().all(|(t, q)| *q || all_safe(t)) {
        let joined: Vec<u8> = texts.iter().flat_map(|(t, _)| t.iter().copied()).collect();
        quote(&joined, out);
        return;
    }
    for (t, q) in texts {
        if !q {
            out.extend_from_slice(t);
        } else if !t.is_empty() {
            quote(t, out);
        }
    }
}

/// Words in normal form, joined by spaces.
pub(crate) fn words<'w>(ws: impl IntoIterator<Item = &'w Word>, out: &mut Printer) {
    for (i, w) in ws.into_iter().enumerate() {
        if out.full() {
            return;
        }
        if i > 0 {
            out.push(b' ');
        }
        word(w, out);
    }
}

/// A script in normal form, on one line.
pub(crate) fn script(s: &Script, out: &mut Printer) {
    for (i, item) in s.items.iter().enumerate() {
        if out.full() {
            return;
        }
        if i > 0 {
            out.extend_from_slice(if s.items[i - 1].background {
                b" "
            } else {
                b"; "
            });
        }
        and_or(item, out);
    }
}

fn and_or(item: &AndOr, out: &mut Printer) {
    pipeline(&item.first, out);
    for (connector, p) in &item.rest {
        out.extend_from_slice(match connector {
            Connector::And => b" && ",
            Connector::Or => b" || ",
        });
        pipeline(p, out);
    }
    if item.background {
        out.extend_from_slice(b" &");
    }
}

/// A pipeline in normal form, its stages as written (wrappers kept).
pub(crate) fn pipeline(p: &Pipeline, out: &mut Printer) {
    if p.bang {
        out.extend_from_slice(b"! ");
    }
    for (i, n) in p.stages.iter().enumerate() {
        if out.full() {
            return;
        }
        if i > 0 {
            out.extend_from_slice(b" | ");
        }
        node(n, out);
    }
}

/// One command (simple or compound) in normal form.
pub(crate) fn node(n: &Node, out: &mut Printer) {
    match n {
        Node::Simple(s) => simple(s, out),
        Node::Function(name, body) => {
            out.extend_from_slice(name);
            out.extend_from_slice(b"() ");
            node(body, out);
        }
        Node::Compound(c, redirects) => {
            compound(c, out);
            for r in redirects {
                out.push(b' ');
                redirect(r, out);
            }
        }
    }
}

/// A simple command as written (wrappers kept), with its redirections.
pub(crate) fn simple(s: &Simple, out: &mut Printer) {
    let start = out.len();
    for (i, a) in s.assigns.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        assignment(a, out);
    }
    if !s.assigns.is_empty() && !s.words.is_empty() {
        out.push(b' ');
    }
    words(&s.words, out);
    for r in &s.redirects {
        if out.len() > start {
            out.push(b' ');
        }
        redirect(r, out);
    }
}

fn redirect(r: &Redirect, out: &mut Printer) {
    out.extend_from_slice(&r.fd);
    out.extend_from_slice(r.op.as_bytes());
    if let Some(t) = &r.target {
        word(t, out);
    }
}

fn body(keyword: &[u8], s: &Script, out: &mut Printer) {
    out.extend_from_slice(keyword);
    script(s, out);
    out.extend_from_slice(b";");
}

fn compound(c: &Compound, out: &mut Printer) {
    match c {
        Compound::Subshell(s) => {
            out.push(b'(');
            script(s, out);
            out.push(b')');
        }
        Compound::Group(s) => {
            out.extend_from_slice(b"{ ");
            script(s, out);
            out.extend_from_slice(b"; }");
        }
        Compound::If { arms, otherwise } => {
            for (i, (cond, then)) in arms.iter().enumerate() {
                if out.full() {
                    break;
                }
                body(if i == 0 { b"if " } else { b" elif " }, cond, out);
                body(b" then ", then, out);
            }
            if let Some(o) = otherwise {
                body(b" else ", o, out);
            }
            out.extend_from_slice(b" fi");
        }
        Compound::Loop {
            until,
            cond,
            body: b,
        } => {
            body(if *until { b"until " } else { b"while " }, cond, out);
            body(b" do ", b, out);
            out.extend_from_slice(b" done");
        }
        Compound::For {
            select,
            var,
            words: ws,
            body: b,
        } => {
            out.extend_from_slice(if *select { b"select " } else { b"for " });
            out.extend_from_slice(var);
            if let Some(ws) = ws {
                out.extend_from_slice(b" in");
                for w in ws {
                    out.push(b' ');
                    word(w, out);
                }
            }
            out.push(b';');
            body(b" do ", b, out);
            out.extend_from_slice(b" done");
        }
        Compound::ArithFor { header, body: b } => {
            out.extend_from_slice(b"for ");
            word(header, out);
            out.push(b';');
            body(b" do ", b, out);
            out.extend_from_slice(b" done");
        }
        Compound::Case { word: w, arms } => {
            out.extend_from_slice(b"case ");
            word(w, out);
            out.extend_from_slice(b" in");
            for arm in arms {
                if out.full() {
                    break;
                }
                out.push(b' ');
                for (i, p) in arm.patterns.iter().enumerate() {
                    if i > 0 {
                        out.push(b'|');
                    }
                    word(p, out);
                }
                out.extend_from_slice(b") ");
                script(&arm.body, out);
                out.extend_from_slice(if arm.end.is_empty() {
                    b";;"
                } else {
                    arm.end.as_bytes()
                });
            }
            out.extend_from_slice(b" esac");
        }
        Compound::Arith(w) => word(w, out),
        Compound::Cond(ws) => {
            out.extend_from_slice(b"[[ ");
            words(ws, out);
            out.extend_from_slice(b" ]]");
        }
        Compound::Statement(ws) => words(ws, out),
        Compound::Prefixed { head, body: b } => {
            words(head, out);
            out.push(b' ');
            node(b, out);
        }
        Compound::Skipped(raw) => out.extend_from_slice(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> String {
        let mut out = Printer::new();
        quote(s.as_bytes(), &mut out);
        String::from_utf8(out.buf).unwrap()
    }

    #[test]
    fn quoting() {
        assert_eq!(q("https://x.sh/a?b"), "'https://x.sh/a?b'");
        assert_eq!(q("https://x.sh/a"), "https://x.sh/a");
        assert_eq!(q("a b"), "'a b'");
        assert_eq!(q(""), "''");
        assert_eq!(q("it's"), "'it'\\''s'");
        assert_eq!(q("é"), "é");
        assert_eq!(q("$X"), "'$X'");
        assert_eq!(q("-auto-approve"), "-auto-approve");
    }

    /// The first simple command of `script` as written, in normal form.
    fn simple_text(script: &str) -> String {
        let (tree, _) =
            crate::parser::parse(script.as_bytes(), 1, &crate::Options::default(), 0, 0);
        let mut out = Printer::new();
        pipeline(&tree.items[0].first, &mut out);
        String::from_utf8(out.buf).unwrap()
    }

    #[test]
    fn words_and_runs() {
        assert_eq!(simple_text("echo a\\ b"), "echo 'a b'");
        assert_eq!(simple_text("echo *'a b'"), "echo *'a b'");
        assert_eq!(simple_text("echo x\"$Y z\""), "echo x$Y' z'");
        assert_eq!(simple_text("A=\"x y\" B= c"), "A='x y' B= c");
        assert_eq!(simple_text("echo \"\"x"), "echo x");
        assert_eq!(simple_text("echo <(a  b) >(c)"), "echo <(a b) >(c)");
        assert_eq!(simple_text("a 2>&1 >f <<<w"), "a 2>&1 >f <<<w");
        assert_eq!(simple_text(">f"), ">f");
    }

    #[test]
    fn printer_limit() {
        let mut out = Printer::limited(10);
        let (tree, _) = crate::parser::parse(
            "a b c d e f g h i j k l m n".as_bytes(),
            1,
            &crate::Options::default(),
            0,
            0,
        );
        script(&tree, &mut out);
        assert!(out.len() <= 12, "{}", String::from_utf8_lossy(&out.buf));
    }
}
