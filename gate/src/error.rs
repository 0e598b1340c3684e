//! Gate errors, split by who must act: the policy author, the caller, or the environment.

use cavra_policy::PolicyErrors;

/// Why the gate could not produce a verdict.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The policy is invalid (every problem, with file:line:column).
    #[error("invalid policy:\n{0}")]
    Policy(#[from] PolicyErrors),
    /// The request itself is wrong (bad flag combination, break-glass not allowed, ...).
    #[error("{0}")]
    Usage(String),
    /// The repository could not be read (missing commits, shallow clone, ...).
    #[error("{0}")]
    Diff(#[from] cavra_diff::Error),
    /// Anything else in the environment (I/O).
    #[error("{0}")]
    Io(String),
}

impl From<git2::Error> for GateError {
    fn from(e: git2::Error) -> Self {
        GateError::Diff(cavra_diff::Error::Git(e))
    }
}
