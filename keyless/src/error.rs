//! One error type for keyless signing; each variant names the step that failed. No message ever
//! holds the identity token or any other secret.

/// Why keyless signing failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// The configuration is unusable (bad URL, scheme, limits).
    #[error("configuration: {0}")]
    Config(String),
    /// No identity token could be found, or the token is malformed, expired or for the wrong
    /// audience.
    #[error("identity token: {0}")]
    Token(String),
    /// A request could not be sent or its answer could not be read (network, timeout, size).
    #[error("{service}: {message}")]
    Http {
        /// The service that was called (`Fulcio`, `Rekor`, `GitHub Actions token endpoint`).
        service: &'static str,
        /// What went wrong.
        message: String,
    },
    /// A service answered with an error status; `message` is the server's own message.
    #[error("{service} answered HTTP {status}: {message}")]
    Status {
        /// The service that was called.
        service: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The server's error message (redacted of secrets), or the status reason.
        message: String,
    },
    /// Fulcio answered, but its certificate is unusable.
    #[error("Fulcio certificate: {0}")]
    Certificate(String),
    /// Rekor answered, but its log entry is unusable.
    #[error("Rekor log entry: {0}")]
    LogEntry(String),
    /// Signing with the ephemeral key failed.
    #[error("signing: {0}")]
    Signing(String),
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
