//! PKCS#8 PEM: `PRIVATE KEY`, and `ENCRYPTED PRIVATE KEY` (PBES2: scrypt + AES-256-CBC when we
//! write; scrypt or PBKDF2 with AES-CBC when we read).

use super::{KeyError, SigningKey};
use cavra_sigstore::key::{KeyKind, oid_name};
use pkcs8::der::zeroize::Zeroizing;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};

/// The PEM label of a plain PKCS#8 private key.
pub const PRIVATE_KEY_LABEL: &str = "PRIVATE KEY";
/// The PEM label of a passphrase-encrypted PKCS#8 private key.
pub const ENCRYPTED_PRIVATE_KEY_LABEL: &str = "ENCRYPTED PRIVATE KEY";

impl SigningKey {
    /// The key as unencrypted PKCS#8 PEM (`PRIVATE KEY`). Zeroed when dropped.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        let doc = self.to_pkcs8_der()?;
        doc.to_pem(PRIVATE_KEY_LABEL, pkcs8::LineEnding::LF)
            .map_err(|e| KeyError::Encode(e.to_string()))
    }

    /// The key as PKCS#8 PEM encrypted under `passphrase` (`ENCRYPTED PRIVATE KEY`, PBES2 with
    /// scrypt and AES-256-CBC, fresh salt and IV from the operating system).
    pub fn to_encrypted_pkcs8_pem(&self, passphrase: &[u8]) -> Result<Zeroizing<String>, KeyError> {
        if passphrase.is_empty() {
            return Err(KeyError::Encode("the passphrase is empty".into()));
        }
        let doc = self.to_pkcs8_der()?;
        let info = PrivateKeyInfoRef::try_from(doc.as_bytes())
            .map_err(|e| KeyError::Encode(e.to_string()))?;
        let encrypted = info
            .encrypt(passphrase)
            .map_err(|e| KeyError::Encode(e.to_string()))?;
        encrypted
            .to_pem(ENCRYPTED_PRIVATE_KEY_LABEL, pkcs8::LineEnding::LF)
            .map_err(|e| KeyError::Encode(e.to_string()))
    }

    /// Reads a PKCS#8 PEM private key (Ed25519 or P-256). An `ENCRYPTED PRIVATE KEY` needs
    /// `passphrase`. `source` names where the text came from, for errors.
    pub fn from_pem(
        pem: &str,
        passphrase: Option<&[u8]>,
        source: &str,
    ) -> Result<SigningKey, KeyError> {
        let not_pem = |reason: String| KeyError::NotPem {
            from: source.to_string(),
            reason,
        };
        let pem = pem.trim();
        if !pem.starts_with("-----BEGIN ") {
            return Err(not_pem("no `-----BEGIN ...-----` line".into()));
        }
        let (label, der) = pkcs8::der::pem::decode_vec(pem.as_bytes())
            .map_err(|e| not_pem(format!("cannot decode the PEM text: {e}")))?;
        let der = Zeroizing::new(der);
        match label {
            PRIVATE_KEY_LABEL => SigningKey::from_pkcs8_der(&der, source),
            ENCRYPTED_PRIVATE_KEY_LABEL => {
                let Some(passphrase) = passphrase else {
                    return Err(KeyError::PassphraseNeeded(source.to_string()));
                };
                let info = EncryptedPrivateKeyInfoRef::try_from(der.as_slice()).map_err(|e| {
                    KeyError::Malformed {
                        from: source.to_string(),
                        reason: format!("bad encrypted PKCS#8 structure: {e}"),
                    }
                })?;
                let plain = info.decrypt(passphrase).map_err(|e| match e {
                    pkcs8::Error::EncryptedPrivateKey(
                        pkcs8::pkcs5::Error::UnsupportedAlgorithm { oid },
                    )
                    | pkcs8::Error::EncryptedPrivateKey(
                        pkcs8::pkcs5::Error::AlgorithmParametersInvalid { oid },
                    ) => KeyError::UnsupportedType {
                        from: source.to_string(),
                        what: format!(
                            "key encryption algorithm {oid} (cavra reads PBES2 with scrypt or \
                             PBKDF2-HMAC-SHA256 and AES-CBC)"
                        ),
                    },
                    pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::NoPbes1CryptSupport) => {
                        KeyError::UnsupportedType {
                            from: source.to_string(),
                            what: "PBES1 key encryption (re-encrypt with PBES2)".into(),
                        }
                    }
                    _ => KeyError::WrongPassphrase(source.to_string()),
                })?;
                // A wrong passphrase can decrypt to garbage with valid padding; it then fails here.
                SigningKey::from_pkcs8_der(plain.as_bytes(), source).map_err(|e| match e {
                    KeyError::Malformed { .. } => KeyError::WrongPassphrase(source.to_string()),
                    other => other,
                })
            }
            "EC PRIVATE KEY" => Err(KeyError::UnsupportedType {
                from: source.to_string(),
                what: "SEC1 `EC PRIVATE KEY` block: convert it to PKCS#8 with \
                       `openssl pkcs8 -topk8 -in KEY -out KEY.p8`"
                    .into(),
            }),
            "RSA PRIVATE KEY" | "OPENSSH PRIVATE KEY" | "DSA PRIVATE KEY" => {
                Err(KeyError::UnsupportedType {
                    from: source.to_string(),
                    what: format!("`{label}` block: cavra signs with Ed25519 or P-256 PKCS#8 keys"),
                })
            }
            "PUBLIC KEY" => Err(not_pem(
                "this is a public key; signing needs the private key".into(),
            )),
            other => Err(not_pem(format!(
                "found a `{other}` block, expected `{PRIVATE_KEY_LABEL}` or \
                 `{ENCRYPTED_PRIVATE_KEY_LABEL}`"
            ))),
        }
    }

    /// Reads an unencrypted DER PKCS#8 `PrivateKeyInfo`, dispatching on its algorithm.
    fn from_pkcs8_der(der: &[u8], source: &str) -> Result<SigningKey, KeyError> {
        let malformed = |reason: String| KeyError::Malformed {
            from: source.to_string(),
            reason,
        };
        let info = PrivateKeyInfoRef::try_from(der)
            .map_err(|e| malformed(format!("bad PKCS#8 structure: {e}")))?;
        let unsupported = |what: String| KeyError::UnsupportedType {
            from: source.to_string(),
            what: format!("{what} (cavra signs with Ed25519 or ECDSA P-256)"),
        };
        match KeyKind::of(&info.algorithm).map_err(unsupported)? {
            KeyKind::Ed25519 => ed25519_dalek::SigningKey::from_pkcs8_der(der)
                .map(|k| SigningKey::Ed25519(Box::new(k)))
                .map_err(|e| malformed(format!("bad Ed25519 key: {e}"))),
            KeyKind::P256 => p256::ecdsa::SigningKey::from_pkcs8_der(der)
                .map(|k| SigningKey::P256(Box::new(k)))
                .map_err(|e| malformed(format!("bad P-256 key: {e}"))),
            other => {
                let oid = info
                    .algorithm
                    .parameters_oid()
                    .unwrap_or(info.algorithm.oid);
                Err(unsupported(format!(
                    "{} key, {}",
                    other.name(),
                    oid_name(oid)
                )))
            }
        }
    }

    /// DER PKCS#8 of the key (zeroed when dropped). Ed25519 keys are written as PKCS#8 v1
    /// (no public key field), as OpenSSL, Go and Python write them: OpenSSL 3.0 and Python
    /// `cryptography` refuse the v2 `OneAsymmetricKey` that ed25519-dalek writes by default.
    fn to_pkcs8_der(&self) -> Result<pkcs8::der::SecretDocument, KeyError> {
        match self {
            SigningKey::Ed25519(k) => ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: k.to_bytes(),
                public_key: None,
            }
            .to_pkcs8_der(),
            SigningKey::P256(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| KeyError::Encode(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyType;

    #[test]
    fn plain_pem_round_trips() {
        for kind in [KeyType::Ed25519, KeyType::P256] {
            let key = SigningKey::generate(kind).unwrap();
            let pem = key.to_pkcs8_pem().unwrap();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{}", *pem);
            if kind == KeyType::Ed25519 {
                // PKCS#8 v1 (version 0), 48 bytes, as `openssl genpkey -algorithm ed25519`.
                let (_, der) = pkcs8::der::pem::decode_vec(pem.as_bytes()).unwrap();
                assert_eq!(der.len(), 48);
                assert_eq!(&der[..5], &[0x30, 0x2e, 0x02, 0x01, 0x00]);
            }
            let back = SigningKey::from_pem(&pem, None, "test").unwrap();
            assert_eq!(back.key_id(), key.key_id());
            // A passphrase given for a plain key is ignored.
            let back = SigningKey::from_pem(&pem, Some(b"x"), "test").unwrap();
            assert_eq!(back.key_id(), key.key_id());
        }
    }

    #[test]
    fn encrypted_pem_needs_the_right_passphrase() {
        let key = SigningKey::generate(KeyType::P256).unwrap();
        let pem = key.to_encrypted_pkcs8_pem(b"correct horse").unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        let back = SigningKey::from_pem(&pem, Some(b"correct horse"), "k.pem").unwrap();
        assert_eq!(back.key_id(), key.key_id());
        let err = SigningKey::from_pem(&pem, None, "k.pem").unwrap_err();
        assert!(matches!(err, KeyError::PassphraseNeeded(_)), "{err}");
        let err = SigningKey::from_pem(&pem, Some(b"wrong horse"), "k.pem").unwrap_err();
        assert!(matches!(err, KeyError::WrongPassphrase(_)), "{err}");
        assert!(err.to_string().starts_with("k.pem: "), "{err}");
        assert!(!err.to_string().contains("horse"), "{err}");
        assert!(key.to_encrypted_pkcs8_pem(b"").is_err());
    }

    #[test]
    fn reads_keys_written_by_other_tools() {
        // Throwaway keys written by Python `cryptography` (tools/make_bundles.py).
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");
        for (name, kind) in [("ed25519", KeyType::Ed25519), ("p256", KeyType::P256)] {
            let pem = std::fs::read_to_string(format!("{dir}/{name}.key.pem")).unwrap();
            let key = SigningKey::from_pem(&pem, None, name).unwrap();
            assert_eq!(key.key_type(), kind);
            let public = std::fs::read_to_string(format!("{dir}/{name}.pub.pem")).unwrap();
            assert_eq!(key.public_key_pem().trim(), public.trim());
        }
        for name in ["p384", "rsa"] {
            let pem = std::fs::read_to_string(format!("{dir}/{name}.key.pem")).unwrap();
            let err = SigningKey::from_pem(&pem, None, name)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(&format!("{name}: unsupported")), "{err}");
        }
    }

    #[test]
    fn reads_keys_encrypted_by_openssl() {
        // `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256` and `... -scrypt`.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");
        for name in ["ed25519.pbkdf2", "p256.scrypt"] {
            let pem = std::fs::read_to_string(format!("{dir}/{name}.key.pem")).unwrap();
            let key = SigningKey::from_pem(&pem, Some(b"cavra-test"), name).unwrap();
            let public = std::fs::read_to_string(format!("{dir}/{name}.pub.pem")).unwrap();
            assert_eq!(key.public_key_pem().trim(), public.trim(), "{name}");
            let err = SigningKey::from_pem(&pem, Some(b"cavra-tesT"), name).unwrap_err();
            assert!(matches!(err, KeyError::WrongPassphrase(_)), "{name}: {err}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_private_key() {
        let cases = [
            ("", "no `-----BEGIN"),
            ("hello", "no `-----BEGIN"),
            (
                "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
                "cannot decode",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
                "malformed",
            ),
            (
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                "`CERTIFICATE`",
            ),
            (
                "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----",
                "SEC1",
            ),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
                "OPENSSH",
            ),
        ];
        for (pem, want) in cases {
            let err = SigningKey::from_pem(pem, None, "src")
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("src: "), "{err}");
            assert!(err.contains(want), "{pem:?}: {err}");
        }
        let public = SigningKey::generate(KeyType::Ed25519)
            .unwrap()
            .public_key_pem();
        let err = SigningKey::from_pem(&public, None, "src")
            .unwrap_err()
            .to_string();
        assert!(err.contains("public key"), "{err}");
    }
}
