//! A small YAML 1.2 document tree that keeps the line and column of every node.
//!
//! cavra reads YAML written by strangers (policy packs, CI files in a pull request), so this crate:
//! - keeps positions for every node, to report `file:line:column`;
//! - keeps scalars as text (YAML 1.2 core schema: `on`, `yes` and `no` stay strings);
//! - keeps tags (`!reference`) for callers that understand them;
//! - bounds input size, nesting depth and alias expansion ("billion laughs"), never panics.

mod tree;

pub use tree::{Limits, Node, Pos, Scalar, ScalarStyle, Value, parse, parse_all};

/// A YAML error with the position it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What is wrong, in words.
    pub message: String,
    /// Where (1-based line and column).
    pub pos: Pos,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.pos.line, self.pos.col, self.message)
    }
}

impl std::error::Error for Error {}

impl Error {
    /// An error at `pos`.
    pub fn at(pos: Pos, message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            pos,
        }
    }
}
