//! Words after quote removal: building them, reading their value, ANSI-C `$'...'` escapes,
//! assignments and program names.

use crate::Dialect;
use crate::ast::{Piece, Script, Word};

/// Collects the pieces of one word, merging adjacent literal text of the same quoting.
#[derive(Default)]
pub(crate) struct WordBuilder {
    pieces: Vec<Piece>,
    started: bool,
}

impl WordBuilder {
    pub fn new() -> Self {
        WordBuilder::default()
    }

    /// Appends literal text (`quoted` when it was quoted or escaped). An empty quoted text still
    /// makes a word (`""`).
    pub fn lit(&mut self, bytes: &[u8], quoted: bool) {
        self.started = true;
        if let Some(Piece::Lit(text, q)) = self.pieces.last_mut() {
            if *q == quoted {
                text.extend_from_slice(bytes);
                return;
            }
            if text.is_empty() && *q {
                // `""x`: the empty quoted part adds nothing once there is other text.
                *text = bytes.to_vec();
                *q = quoted;
                return;
            }
        }
        if bytes.is_empty() && !quoted {
            return;
        }
        if bytes.is_empty() && !self.pieces.is_empty() {
            return;
        }
        self.pieces.push(Piece::Lit(bytes.to_vec(), quoted));
    }

    /// Appends one literal byte.
    pub fn byte(&mut self, b: u8, quoted: bool) {
        self.lit(&[b], quoted);
    }

    /// At the escape character at `pos` (PowerShell's backtick, Cmd's caret), outside quotes:
    /// appends the next byte as quoted text (nothing before a newline: a line continuation, or
    /// at the end) and returns the offset after them.
    pub fn escaped(&mut self, src: &[u8], pos: usize) -> usize {
        match src.get(pos + 1) {
            Some(b'\n') => pos + 2,
            Some(&n) => {
                self.byte(n, true);
                pos + 2
            }
            None => pos + 1,
        }
    }

    /// Appends an expansion or substitution.
    pub fn piece(&mut self, piece: Piece) {
        self.started = true;
        if let Some(Piece::Lit(text, true)) = self.pieces.last()
            && text.is_empty()
        {
            self.pieces.pop();
        }
        self.pieces.push(piece);
    }

    /// Appends every piece of `word`.
    pub fn append(&mut self, word: Word) {
        for piece in word.pieces {
            match piece {
                Piece::Lit(text, quoted) => self.lit(&text, quoted),
                other => self.piece(other),
            }
        }
        self.started = true;
    }

    /// The word so far is exactly `NAME=` or `NAME+=`, unquoted (an array assignment may follow).
    pub fn is_assignment_prefix(&self) -> bool {
        match self.pieces.as_slice() {
            [Piece::Lit(text, false)] => {
                let name = text.strip_suffix(b"+=").or_else(|| text.strip_suffix(b"="));
                name.is_some_and(is_name)
            }
            _ => false,
        }
    }

    /// The word, if anything was read.
    pub fn finish(self, line: u32) -> Option<Word> {
        self.started.then_some(Word {
            pieces: self.pieces,
            line,
        })
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_name(s: &[u8]) -> bool {
    match s.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        }
        None => false,
    }
}

impl Word {
    /// The text after quote removal, expansions as written.
    pub fn value(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Lit(text, _) => out.extend_from_slice(text),
                Piece::Expansion { raw, .. } | Piece::Subst { raw, .. } => {
                    out.extend_from_slice(raw)
                }
            }
        }
        out
    }

    /// [`Word::value`] as a `String`.
    pub fn string(&self) -> String {
        String::from_utf8_lossy(&self.value()).into_owned()
    }

    /// The word's text when it is one unquoted literal (keywords, operators).
    pub fn plain(&self) -> Option<&[u8]> {
        match self.pieces.as_slice() {
            [Piece::Lit(text, false)] => Some(text),
            _ => None,
        }
    }

    /// It holds commands (`$(...)`, backticks, `<(...)`, blocks), directly or inside an expansion.
    pub fn has_commands(&self) -> bool {
        self.pieces.iter().any(|p| match p {
            Piece::Lit(..) => false,
            Piece::Expansion { nested, .. } => !nested.is_empty(),
            Piece::Subst { .. } => true,
        })
    }

    /// The scripts of its substitutions, in order.
    pub fn scripts(&self) -> impl Iterator<Item = &Script> {
        self.pieces
            .iter()
            .flat_map(|p| -> Box<dyn Iterator<Item = &Script> + '_> {
                match p {
                    Piece::Lit(..) => Box::new(std::iter::empty()),
                    Piece::Expansion { nested, .. } => Box::new(nested.iter()),
                    Piece::Subst { script, .. } => Box::new(std::iter::once(script)),
                }
            })
    }

    /// `NAME=value`, `NAME+=value` or `NAME[index]=value` with the name unquoted.
    pub fn is_assignment(&self) -> bool {
        let Some(Piece::Lit(text, false)) = self.pieces.first() else {
            return false;
        };
        let Some(eq) = text.iter().position(|c| *c == b'=') else {
            return false;
        };
        let mut name = &text[..eq];
        if let Some(n) = name.strip_suffix(b"+") {
            name = n;
        }
        if let Some(open) = name.iter().position(|c| *c == b'[') {
            if name.last() != Some(&b']') {
                return false;
            }
            name = &name[..open];
        }
        is_name(name)
    }

    /// The word starts with unquoted text (not a quote, escape or expansion).
    pub fn starts_unquoted(&self) -> Option<u8> {
        match self.pieces.first() {
            Some(Piece::Lit(text, false)) => text.first().copied(),
            _ => None,
        }
    }
}

/// The program a word names: the basename of its value without `.exe`; empty when the basename
/// is dynamic (`$CMD`, `${{ x }}`, `$(which curl)`) or empty.
pub(crate) fn program_name(word: &Word, dialect: Dialect) -> String {
    let windows = matches!(dialect, Dialect::PowerShell | Dialect::Cmd);
    let is_sep = |c: u8| c == b'/' || (windows && c == b'\\');
    // The basename starts after the last separator in literal text; an expansion after it
    // makes the name dynamic.
    let mut base: Vec<u8> = Vec::new();
    let mut dynamic = false;
    for piece in &word.pieces {
        match piece {
            Piece::Lit(text, _) => {
                for &c in text {
                    if is_sep(c) {
                        base.clear();
                        dynamic = false;
                    } else {
                        base.push(c);
                    }
                }
            }
            Piece::Expansion { .. } | Piece::Subst { .. } => dynamic = true,
        }
    }
    if dynamic || base.is_empty() {
        return String::new();
    }
    let name = String::from_utf8_lossy(&base).into_owned();
    strip_exe(&name).to_string()
}

/// `name` without a trailing `.exe` (any case), unless that would leave nothing.
pub(crate) fn strip_exe(name: &str) -> &str {
    let n = name.len();
    if n > 4 && name.is_char_boundary(n - 4) && name[n - 4..].eq_ignore_ascii_case(".exe") {
        &name[..n - 4]
    } else {
        name
    }
}

/// Decodes one ANSI-C escape; `i` is the index just after the backslash. Appends the bytes to
/// `out` and returns the index after the escape.
pub(crate) fn ansi_escape(src: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
    let Some(&c) = src.get(i) else {
        out.push(b'\\');
        return i;
    };
    let simple = match c {
        b'a' => Some(7),
        b'b' => Some(8),
        b'e' | b'E' => Some(27),
        b'f' => Some(12),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(11),
        b'\\' | b'\'' | b'"' | b'?' => Some(c),
        _ => None,
    };
    if let Some(b) = simple {
        out.push(b);
        return i + 1;
    }
    match c {
        b'0'..=b'7' => {
            let (value, end) = digits(src, i, 3, 8);
            out.push((value & 0xff) as u8);
            end
        }
        b'x' => {
            let (value, end) = digits(src, i + 1, 2, 16);
            if end == i + 1 {
                out.extend_from_slice(b"\\x");
            } else {
                out.push(value as u8);
            }
            end
        }
        b'u' | b'U' => {
            let max = if c == b'u' { 4 } else { 8 };
            let (value, end) = digits(src, i + 1, max, 16);
            if end == i + 1 {
                out.push(b'\\');
                out.push(c);
            } else {
                let ch = char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER);
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            end
        }
        b'c' => match src.get(i + 1) {
            Some(&x) => {
                out.push(x & 0x1f);
                i + 2
            }
            None => {
                out.extend_from_slice(b"\\c");
                i + 1
            }
        },
        _ => {
            out.push(b'\\');
            out.push(c);
            i + 1
        }
    }
}

/// Reads up to `max` digits in `radix` from `i`; returns the value and the index after them.
fn digits(src: &[u8], i: usize, max: usize, radix: u32) -> (u32, usize) {
    let mut value: u32 = 0;
    let mut j = i;
    while j < src.len() && j - i < max {
        match (src[j] as char).to_digit(radix) {
            Some(d) => value = value.wrapping_mul(radix).wrapping_add(d),
            None => break,
        }
        j += 1;
    }
    (value, j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ansi(s: &str) -> Vec<u8> {
        let src = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < src.len() {
            if src[i] == b'\\' {
                i = ansi_escape(src, i + 1, &mut out);
            } else {
                out.push(src[i]);
                i += 1;
            }
        }
        out
    }

    fn lit(parts: &[(&str, bool)]) -> Word {
        let mut b = WordBuilder::new();
        for (t, q) in parts {
            b.lit(t.as_bytes(), *q);
        }
        b.finish(1).unwrap()
    }

    #[test]
    fn ansi_c_escapes() {
        assert_eq!(ansi(r"\x63url"), b"curl");
        assert_eq!(ansi(r"\143url"), b"curl");
        assert_eq!(ansi(r"a\nb\tc"), b"a\nb\tc");
        assert_eq!(ansi(r"\u00e9"), "é".as_bytes());
        assert_eq!(ansi(r"\xZ"), b"\\xZ");
        assert_eq!(ansi(r"\q"), b"\\q");
        assert_eq!(ansi(r"\ca"), [1]);
        assert_eq!(ansi("\\"), b"\\");
        assert_eq!(ansi(r"\0"), [0]);
        assert_eq!(ansi(r"\777"), [0xff]);
        assert_eq!(ansi(r"\U0001F600"), "😀".as_bytes());
        assert_eq!(ansi(r"\UFFFFFFFF"), "\u{FFFD}".as_bytes());
    }

    #[test]
    fn builder_merges_same_quoting() {
        let w = lit(&[("c", false), ("ur", true), ("l", false)]);
        assert_eq!(w.value(), b"curl");
        assert_eq!(w.pieces.len(), 3);
        let w = lit(&[("a", true), ("b", true)]);
        assert_eq!(w.pieces.len(), 1);
        let w = lit(&[("", true)]);
        assert_eq!(w.value(), b"");
        assert_eq!(w.pieces.len(), 1);
        let w = lit(&[("", true), ("x", false)]);
        assert_eq!(w.pieces.len(), 1);
        assert!(WordBuilder::new().finish(1).is_none());
    }

    #[test]
    fn assignments() {
        assert!(lit(&[("A=1", false)]).is_assignment());
        assert!(lit(&[("A_b2+=1", false)]).is_assignment());
        assert!(lit(&[("a[1]=x", false)]).is_assignment());
        assert!(lit(&[("A=", false), ("x y", true)]).is_assignment());
        assert!(!lit(&[("1A=1", false)]).is_assignment());
        assert!(!lit(&[("A=1", true)]).is_assignment());
        assert!(!lit(&[("--a=1", false)]).is_assignment());
        assert!(!lit(&[("=1", false)]).is_assignment());
    }

    #[test]
    fn program_names() {
        let p = |s: &str, d| program_name(&lit(&[(s, false)]), d);
        assert_eq!(p("/usr/bin/curl", Dialect::Posix), "curl");
        assert_eq!(p("./curl", Dialect::Posix), "curl");
        assert_eq!(p("../bin/curl", Dialect::Posix), "curl");
        assert_eq!(p("curl.exe", Dialect::Posix), "curl");
        assert_eq!(p("C:\\x\\curl.EXE", Dialect::PowerShell), "curl");
        assert_eq!(p("C:\\x\\curl.exe", Dialect::Cmd), "curl");
        assert_eq!(p(".exe", Dialect::Posix), ".exe");
        assert_eq!(p("dir/", Dialect::Posix), "");
        let mut b = WordBuilder::new();
        b.piece(Piece::Expansion {
            raw: b"$HOME".to_vec(),
            nested: vec![],
        });
        b.lit(b"/bin/tool", false);
        assert_eq!(program_name(&b.finish(1).unwrap(), Dialect::Posix), "tool");
        let mut b = WordBuilder::new();
        b.lit(b"/bin/", false);
        b.piece(Piece::Expansion {
            raw: b"$X".to_vec(),
            nested: vec![],
        });
        assert_eq!(program_name(&b.finish(1).unwrap(), Dialect::Posix), "");
    }

    #[test]
    fn names() {
        assert!(is_name(b"_a1"));
        assert!(!is_name(b""));
        assert!(!is_name(b"a-b"));
    }
}
