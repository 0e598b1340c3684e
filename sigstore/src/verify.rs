//! Offline bundle verification: the public entry point. (Stub: the API is fixed, the body is
//! being written.)

use crate::error::{Error, Result};
use crate::key::PublicKey;
use crate::time::Time;
use crate::trust::TrustRoot;

/// What the artifact is: its bytes, or only its SHA-256 digest.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    /// The artifact's bytes.
    Bytes(&'a [u8]),
    /// The artifact's SHA-256 digest.
    Sha256([u8; 32]),
}

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum Expect {
    /// A bundle signed with this public key (`verificationMaterial.publicKey`).
    Key(PublicKey),
    /// A certificate from a trusted CA for this identity (exact SAN) and OIDC issuer.
    Identity {
        /// The expected subject alternative name (URI or email), compared exactly.
        identity: String,
        /// The expected OIDC issuer, compared exactly.
        issuer: String,
    },
}

/// What was signed, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifiedContent {
    /// A signature over the artifact's digest.
    MessageSignature,
    /// A DSSE envelope; the payload is returned for the caller to read.
    Dsse {
        /// The envelope's payload type.
        payload_type: String,
        /// The payload bytes, exactly as signed.
        payload: Vec<u8>,
    },
}

/// Who signed, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifiedSigner {
    /// A public key, by key id (lowercase hex SHA-256 of its SPKI).
    Key {
        /// The key id.
        key_id: String,
    },
    /// A signing certificate.
    Certificate {
        /// The SAN identity.
        identity: String,
        /// The OIDC issuer.
        issuer: String,
    },
}

/// A bundle that passed every check.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The bundle's media type.
    pub media_type: String,
    /// What was signed.
    pub content: VerifiedContent,
    /// Who signed.
    pub signer: VerifiedSigner,
    /// Verified times: (source, time), e.g. ("rekor integrated time", t) or ("rfc3161", t).
    pub timestamps: Vec<(String, Time)>,
}

/// Verifies `bundle_json` offline against `root`. With `artifact` = `None`, a DSSE bundle's
/// subjects are not checked (message signatures always need the artifact).
pub fn verify(
    bundle_json: &[u8],
    artifact: Option<Artifact<'_>>,
    expect: &Expect,
    root: &TrustRoot,
) -> Result<Verified> {
    let _ = (bundle_json, artifact, expect, root);
    Err(Error::Bundle("verification is not implemented yet".into()))
}
