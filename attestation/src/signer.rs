//! One signer for every caller (`cavra gate --attest`, `cavra attest sign`, later the GitHub App
//! and release packets): a key, or keyless (Fulcio certificate + Rekor entry).

use crate::keys::SigningKey;
use crate::sign::{SignError, sign_blob, sign_dsse};
use crate::statement::Statement;
use cavra_keyless::KeylessSigner;
use cavra_sigstore::dsse::IN_TOTO_PAYLOAD_TYPE;

/// Signs with a key or keyless.
#[derive(Debug)]
pub enum Signer {
    /// A key: the bundle carries its key id as hint, no log entry.
    Key(SigningKey),
    /// Keyless: an ephemeral key certified by Fulcio, the signature logged in Rekor.
    Keyless(Box<KeylessSigner>),
}

/// A signed bundle and who it names as the signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The Sigstore bundle v0.3, as JSON.
    pub json: String,
    /// Who signed, for people: `key <id>` or `<identity> (issuer <url>)`.
    pub signer: String,
}

impl Signer {
    /// Signs an in-toto Statement into a DSSE bundle (after checking it).
    pub fn sign_statement(&self, statement: &Statement) -> Result<Signed, SignError> {
        statement
            .check()
            .map_err(|e| SignError::Signer(e.to_string()))?;
        self.sign_dsse(IN_TOTO_PAYLOAD_TYPE, &statement.to_json())
    }

    /// Signs `payload` as a DSSE envelope of `payload_type`.
    pub fn sign_dsse(&self, payload_type: &str, payload: &[u8]) -> Result<Signed, SignError> {
        match self {
            Signer::Key(key) => Ok(key_signed(key, sign_dsse(key, payload_type, payload)?.json)),
            Signer::Keyless(signer) => signer
                .sign_dsse(payload_type, payload)
                .map(keyless_signed)
                .map_err(|e| SignError::Signer(e.to_string())),
        }
    }

    /// Signs a blob (message signature over its SHA-256).
    pub fn sign_blob(&self, bytes: &[u8]) -> Result<Signed, SignError> {
        match self {
            Signer::Key(key) => Ok(key_signed(key, sign_blob(key, bytes)?.json)),
            Signer::Keyless(signer) => signer
                .sign_blob(bytes)
                .map(keyless_signed)
                .map_err(|e| SignError::Signer(e.to_string())),
        }
    }
}

fn key_signed(key: &SigningKey, json: String) -> Signed {
    Signed {
        json,
        signer: format!("key {}", key.key_id()),
    }
}

fn keyless_signed(b: cavra_keyless::SignedBundle) -> Signed {
    Signed {
        json: b.bundle_json,
        signer: format!(
            "{} (issuer {}, rekor log index {})",
            b.identity, b.issuer, b.log_index
        ),
    }
}
