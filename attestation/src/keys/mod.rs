//! Signing keys for key-signed bundles: Ed25519 (the default) and ECDSA P-256, generated from OS
//! randomness, stored as PKCS#8 PEM (optionally passphrase-encrypted), loaded from a file or from
//! an environment variable. Secrets never appear in `Debug` output or in errors.

mod error;
mod pem;
mod source;

pub use error::KeyError;
pub use source::{KeySource, passphrase_from_env, write_private_key, write_public_key};

use cavra_sigstore::PublicKey;
use ed25519_dalek::Signer as _;
use std::fmt;
use std::str::FromStr;

/// The kinds of signing key cavra creates and reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyType {
    /// Ed25519 (pure): 64-byte signatures over the whole message.
    #[default]
    Ed25519,
    /// ECDSA over NIST P-256 with SHA-256: DER-encoded signatures.
    P256,
}

impl KeyType {
    /// Every type, by its command-line name.
    pub const NAMES: &[&str] = &["ed25519", "p256"];

    /// The command-line name (`ed25519`, `p256`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::P256 => "p256",
        }
    }
}

impl FromStr for KeyType {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<KeyType, KeyError> {
        match s.to_ascii_lowercase().as_str() {
            "ed25519" => Ok(KeyType::Ed25519),
            "p256" | "p-256" | "ecdsa-p256" | "secp256r1" | "prime256v1" => Ok(KeyType::P256),
            other => Err(KeyError::UnsupportedType {
                from: "the command line".into(),
                what: format!("key type `{other}` (expected ed25519 or p256)"),
            }),
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A private signing key. `Debug` shows the type and key id only. Boxed: the secret stays in
/// one place when the key moves, and the enum is pointer-sized inside other enums.
#[derive(Clone)]
pub enum SigningKey {
    /// Ed25519.
    Ed25519(Box<ed25519_dalek::SigningKey>),
    /// ECDSA P-256 with SHA-256.
    P256(Box<p256::ecdsa::SigningKey>),
}

impl SigningKey {
    /// A new key of `kind` from the operating system's random number generator.
    pub fn generate(kind: KeyType) -> Result<SigningKey, KeyError> {
        let mut seed = pkcs8::der::zeroize::Zeroizing::new([0u8; 32]);
        // A P-256 scalar must be below the group order; a random 256-bit string is above it with
        // probability about 2^-32, so a few attempts always suffice.
        for _ in 0..8 {
            getrandom::fill(seed.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
            match kind {
                KeyType::Ed25519 => {
                    return Ok(SigningKey::Ed25519(Box::new(
                        ed25519_dalek::SigningKey::from_bytes(&seed),
                    )));
                }
                KeyType::P256 => {
                    if let Ok(k) = p256::ecdsa::SigningKey::from_slice(seed.as_ref()) {
                        return Ok(SigningKey::P256(Box::new(k)));
                    }
                }
            }
        }
        Err(KeyError::Random(
            "no valid P-256 scalar in 8 random draws".into(),
        ))
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        match self {
            SigningKey::Ed25519(_) => KeyType::Ed25519,
            SigningKey::P256(_) => KeyType::P256,
        }
    }

    /// The public half, as verifiers read it.
    pub fn public_key(&self) -> PublicKey {
        match self {
            SigningKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
            SigningKey::P256(k) => PublicKey::P256(*k.verifying_key()),
        }
    }

    /// The key id: lowercase hex SHA-256 of the public key's DER `SubjectPublicKeyInfo`
    /// (the same as [`PublicKey::key_id`]).
    pub fn key_id(&self) -> String {
        self.public_key().key_id()
    }

    /// The public key as a PEM `PUBLIC KEY` block.
    pub fn public_key_pem(&self) -> String {
        self.public_key().to_pem()
    }

    /// Signs `message`: Ed25519 gives the raw 64-byte signature, P-256 an ECDSA SHA-256 signature
    /// in DER (deterministic, RFC 6979).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            SigningKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            SigningKey::P256(k) => {
                let sig: p256::ecdsa::DerSignature = k.sign(message);
                sig.as_bytes().to_vec()
            }
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("type", &self.key_type().as_str())
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_what_their_public_key_verifies() {
        for kind in [KeyType::Ed25519, KeyType::P256] {
            let key = SigningKey::generate(kind).unwrap();
            let sig = key.sign(b"hello");
            key.public_key().verify(b"hello", &sig).unwrap();
            assert!(key.public_key().verify(b"hellO", &sig).is_err());
            assert_eq!(key.key_type(), kind);
            assert_eq!(key.key_id().len(), 64);
            if kind == KeyType::Ed25519 {
                assert_eq!(sig.len(), 64);
            } else {
                assert_eq!(sig[0], 0x30, "a DER SEQUENCE");
            }
        }
        let a = SigningKey::generate(KeyType::Ed25519).unwrap();
        let b = SigningKey::generate(KeyType::Ed25519).unwrap();
        assert_ne!(a.key_id(), b.key_id(), "fresh randomness per key");
    }

    #[test]
    fn debug_shows_the_key_id_and_never_the_secret() {
        let key = SigningKey::generate(KeyType::Ed25519).unwrap();
        let SigningKey::Ed25519(inner) = &key else {
            unreachable!()
        };
        let secret_hex = cavra_sigstore::key::hex_lower(inner.as_bytes());
        let shown = format!("{key:?} {key:#?}");
        assert!(shown.contains(&key.key_id()), "{shown}");
        assert!(!shown.contains(&secret_hex), "{shown}");
        assert!(
            !shown.contains(&format!("{:?}", inner.as_bytes())),
            "{shown}"
        );
    }

    #[test]
    fn key_types_parse_by_name() {
        assert_eq!("ed25519".parse::<KeyType>().unwrap(), KeyType::Ed25519);
        assert_eq!("P256".parse::<KeyType>().unwrap(), KeyType::P256);
        let err = "rsa".parse::<KeyType>().unwrap_err().to_string();
        assert!(err.contains("`rsa`"), "{err}");
    }
}
