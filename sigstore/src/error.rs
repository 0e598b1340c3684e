//! One error type for reading and verifying bundles; each variant names the check that failed.

/// Why a bundle, a key or a trusted root was rejected. The message says exactly what was wrong.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input is not a bundle we can read (JSON, media type, size, missing fields).
    #[error("bundle: {0}")]
    Bundle(String),
    /// The trusted root is malformed or does not contain what is needed.
    #[error("trusted root: {0}")]
    TrustRoot(String),
    /// A public key could not be read, or has an unsupported type.
    #[error("key: {0}")]
    Key(String),
    /// A signature did not verify.
    #[error("signature: {0}")]
    Signature(String),
    /// The signed content does not match the artifact or the statement's subjects.
    #[error("artifact: {0}")]
    Artifact(String),
    /// The signing certificate or its chain failed a check.
    #[error("certificate: {0}")]
    Certificate(String),
    /// A transparency log entry failed a check (body, SET, inclusion proof, checkpoint).
    #[error("transparency log: {0}")]
    Tlog(String),
    /// An RFC 3161 timestamp failed a check.
    #[error("timestamp: {0}")]
    Timestamp(String),
    /// The signer is not the one the caller asked for (identity, issuer, key).
    #[error("policy: {0}")]
    Policy(String),
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
