//! Sigstore bundles read, checked and verified offline: keys, trusted roots, DSSE, certificates,
//! transparency-log entries and RFC 3161 timestamps.

pub mod bundle;
pub mod cert;
mod content;
pub mod dsse;
pub mod error;
pub mod key;
mod sct;
mod sig;
pub mod time;
mod timestamp;
mod tlog;
pub mod trust;
pub mod verify;
pub mod write;

pub use error::{Error, Result};
pub use key::PublicKey;
pub use time::{Time, Validity};
pub use trust::TrustRoot;
pub use verify::{Artifact, Expect, Verified, VerifiedContent, VerifiedSigner, verify};
