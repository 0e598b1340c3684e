//! Keyless signing: an OIDC identity token from the CI runner, a Fulcio certificate for an
//! ephemeral key, and a Rekor entry, assembled into a Sigstore bundle v0.3.
//!
//! ```no_run
//! use cavra_keyless::{IdentityToken, KeylessConfig, KeylessSigner};
//!
//! let config = KeylessConfig::default();
//! let token = IdentityToken::from_env(&config)?;
//! let signer = KeylessSigner::new(config, token)?;
//! let signed = signer.sign_dsse(cavra_sigstore::dsse::IN_TOTO_PAYLOAD_TYPE, b"{...}")?;
//! println!("signed by {} ({})", signed.identity, signed.issuer);
//! std::fs::write("verdict.sigstore.json", signed.bundle_json)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The API is blocking (do not call it from inside an async runtime). Each signature gets its own
//! key and certificate. Answers from the
//! services are untrusted input: bounded in size, parsed without panics, and checked for what
//! they must show (our key in the certificate, our signature in the log entry); the full checks
//! are left to the verifier. The identity token never appears in `Debug` output or errors.

mod bundle;
mod certificate;
pub mod config;
pub mod error;
mod fulcio;
mod http;
mod rekor;
mod signer;
pub mod token;

pub use config::KeylessConfig;
pub use error::{Error, Result};
pub use signer::{KeylessSigner, SignedBundle};
pub use token::IdentityToken;
