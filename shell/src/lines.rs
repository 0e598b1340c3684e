//! Byte offsets to line numbers.

use crate::Issue;

/// The line starts of one text, to turn offsets into absolute 1-based lines.
pub(crate) struct Lines {
    newlines: Vec<usize>,
    base: u32,
}

impl Lines {
    /// `base` is the absolute line of the text's first line.
    pub fn new(src: &[u8], base: u32) -> Lines {
        let newlines = src
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == b'\n')
            .map(|(i, _)| i)
            .collect();
        Lines { newlines, base }
    }

    /// The absolute line of the byte at `pos`.
    pub fn line(&self, pos: usize) -> u32 {
        let before = self.newlines.partition_point(|&n| n < pos);
        self.base
            .saturating_add(u32::try_from(before).unwrap_or(u32::MAX))
    }

    /// An issue about the byte at `pos`.
    pub fn issue(&self, pos: usize, message: impl Into<String>) -> Issue {
        Issue {
            line: self.line(pos),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Lines;

    #[test]
    fn lines() {
        let l = Lines::new(b"a\nb\n\nc", 10);
        assert_eq!(l.line(0), 10);
        assert_eq!(l.line(1), 10);
        assert_eq!(l.line(2), 11);
        assert_eq!(l.line(4), 12);
        assert_eq!(l.line(5), 13);
        assert_eq!(l.line(99), 13);
    }
}
