//! Policy errors, each with the file and position it refers to.

use cavra_yaml::Pos;
use std::fmt;

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The file (a repository path, a local path or `builtin:NAME`).
    pub file: String,
    /// Line and column.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.pos.line, self.pos.col, self.message
        )
    }
}

/// Every problem found in a policy (decoding goes on after the first one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

impl PolicyErrors {
    /// A single error.
    pub fn one(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        PolicyErrors(vec![PolicyError {
            file: file.to_string(),
            pos,
            message: message.into(),
        }])
    }
}
