//! Byte scanning shared by the POSIX, PowerShell and Cmd front ends: offsets found in the
//! source text, independent of any parser's state.

/// The offset of the newline ending the line that holds `pos` (or the end of `src`); a `pos`
/// past the end stays as it is.
pub(crate) fn line_end(src: &[u8], pos: usize) -> usize {
    let rest = &src[pos.min(src.len())..];
    pos + rest.iter().position(|c| *c == b'\n').unwrap_or(rest.len())
}

/// The offset just after the first `byte` at or after `from` (or the end of `src`).
pub(crate) fn past(src: &[u8], from: usize, byte: u8) -> usize {
    let rest = &src[from..];
    from + rest
        .iter()
        .position(|c| *c == byte)
        .map_or(rest.len(), |i| i + 1)
}

/// The offset after the spaces, tabs, carriage returns and line continuations at `pos`, where
/// a continuation is `escape` before LF or CRLF (PowerShell's backtick, Cmd's caret).
pub(crate) fn skip_blanks(src: &[u8], mut pos: usize, escape: u8) -> usize {
    loop {
        match src.get(pos..).unwrap_or_default() {
            [b' ' | b'\t' | b'\r', ..] => pos += 1,
            [e, b'\n', ..] if *e == escape => pos += 2,
            [e, b'\r', b'\n', ..] if *e == escape => pos += 3,
            _ => return pos,
        }
    }
}

/// With Azure macros on, `$(Name.With.Dots)` at `start`: the offset after it.
pub(crate) fn azure_macro_end(src: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 2;
    let mut dot = false;
    while let Some(&c) = src.get(i) {
        match c {
            b'.' => dot = true,
            b'_' | b'-' => {}
            c if c.is_ascii_alphanumeric() => {}
            _ => break,
        }
        i += 1;
    }
    (dot && i > start + 2 && src.get(i) == Some(&b')')).then_some(i + 1)
}

/// Finds the ends of `${{ ... }}` template expressions in one text, in linear time overall: once
/// no `}}` follows a `${{`, none follows a later one either.
pub(crate) struct TemplateEnds {
    /// No `}}` closes a template expression at or after this offset.
    no_close_from: usize,
}

impl TemplateEnds {
    pub(crate) fn new() -> Self {
        TemplateEnds {
            no_close_from: usize::MAX,
        }
    }

    /// The offset after the `}}` closing the `${{` at `start`.
    pub(crate) fn end(&mut self, src: &[u8], start: usize) -> Option<usize> {
        if start >= self.no_close_from {
            return None;
        }
        let from = start + 3;
        let rest = src.get(from..)?;
        match rest.windows(2).position(|w| w == b"}}") {
            Some(i) => Some(from + i + 2),
            None => {
                self.no_close_from = start;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!(line_end(b"ab\ncd", 1), 2);
        assert_eq!(line_end(b"ab", 0), 2);
        assert_eq!(line_end(b"ab", 5), 5);
        assert_eq!(past(b"a)b", 0, b')'), 2);
        assert_eq!(past(b"ab", 0, b')'), 2);
        assert_eq!(skip_blanks(b" \t^\n^\r\n x", 0, b'^'), 8);
        assert_eq!(skip_blanks(b" ^x", 0, b'^'), 1);
        assert_eq!(azure_macro_end(b"$(A.B) x", 0), Some(6));
        assert_eq!(azure_macro_end(b"$(AB)", 0), None);
    }

    #[test]
    fn template_ends() {
        let mut t = TemplateEnds::new();
        assert_eq!(t.end(b"${{ a }} ${{ b", 0), Some(8));
        assert_eq!(t.end(b"${{ a }} ${{ b", 9), None);
        assert_eq!(t.end(b"${{ a }} ${{ b", 10), None);
    }
}
