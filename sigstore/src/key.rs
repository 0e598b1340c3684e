//! Public keys as Sigstore uses them: Ed25519, ECDSA P-256/P-384 and RSA, read from SPKI DER or PEM.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256, Sha384};
use signature_v3::Verifier;
use signature_v3::hazmat::PrehashVerifier;
use spki::{DecodePublicKey, EncodePublicKey};

/// The hash a signature was computed over, for keys that sign digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// SHA-256 (P-256, RSA).
    Sha256,
    /// SHA-384 (P-384).
    Sha384,
}

/// A verification key of one of the types Sigstore supports.
#[derive(Debug, Clone)]
pub enum PublicKey {
    /// Ed25519 (pure, no pre-hash).
    Ed25519(ed25519_dalek::VerifyingKey),
    /// ECDSA over P-256 with SHA-256.
    P256(p256::ecdsa::VerifyingKey),
    /// ECDSA over P-384 with SHA-384.
    P384(p384::ecdsa::VerifyingKey),
    /// RSA, PKCS#1 v1.5 with SHA-256.
    Rsa(Box<rsa::PublicKey>),
}

/// The key algorithms Sigstore uses, as named by an `AlgorithmIdentifier` (the same in public
/// keys and PKCS#8 private keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Ed25519.
    Ed25519,
    /// ECDSA over P-256.
    P256,
    /// ECDSA over P-384.
    P384,
    /// RSA.
    Rsa,
}

impl KeyKind {
    /// The kind an `AlgorithmIdentifier` names; the error says which algorithm or curve is not
    /// supported.
    pub fn of(alg: &spki::AlgorithmIdentifierRef<'_>) -> Result<KeyKind, String> {
        use const_oid::db::{rfc5912, rfc8410};
        if alg.oid == rfc8410::ID_ED_25519 {
            return Ok(KeyKind::Ed25519);
        }
        if alg.oid == rfc5912::RSA_ENCRYPTION {
            return Ok(KeyKind::Rsa);
        }
        if alg.oid != rfc5912::ID_EC_PUBLIC_KEY {
            return Err(format!("unsupported key algorithm {}", oid_name(alg.oid)));
        }
        let curve: Option<const_oid::ObjectIdentifier> =
            alg.parameters.as_ref().and_then(|p| p.decode_as().ok());
        match curve {
            Some(c) if c == rfc5912::SECP_256_R_1 => Ok(KeyKind::P256),
            Some(c) if c == rfc5912::SECP_384_R_1 => Ok(KeyKind::P384),
            Some(c) => Err(format!("unsupported elliptic curve {}", oid_name(c))),
            None => Err("EC key without a named curve".into()),
        }
    }

    /// For people: `Ed25519`, `P-256`, `P-384`, `RSA`.
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Ed25519 => "Ed25519",
            KeyKind::P256 => "P-256",
            KeyKind::P384 => "P-384",
            KeyKind::Rsa => "RSA",
        }
    }
}

/// An OID with its registered name when known (`secp521r1 (1.3.132.0.35)`).
pub fn oid_name(oid: const_oid::ObjectIdentifier) -> String {
    match const_oid::db::DB.by_oid(&oid) {
        Some(name) => format!("{name} ({oid})"),
        None => oid.to_string(),
    }
}

impl PublicKey {
    /// Reads a DER `SubjectPublicKeyInfo`; unknown algorithms are a clear error.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey> {
        let info = spki::SubjectPublicKeyInfoRef::try_from(der)
            .map_err(|e| Error::Key(format!("not a DER SubjectPublicKeyInfo: {e}")))?;
        let bad =
            |kind: KeyKind, e: spki::Error| Error::Key(format!("bad {} key: {e}", kind.name()));
        match KeyKind::of(&info.algorithm).map_err(Error::Key)? {
            KeyKind::Ed25519 => ed25519_dalek::VerifyingKey::from_public_key_der(der)
                .map(PublicKey::Ed25519)
                .map_err(|e| bad(KeyKind::Ed25519, e)),
            KeyKind::P256 => p256::ecdsa::VerifyingKey::from_public_key_der(der)
                .map(PublicKey::P256)
                .map_err(|e| bad(KeyKind::P256, e)),
            KeyKind::P384 => p384::ecdsa::VerifyingKey::from_public_key_der(der)
                .map(PublicKey::P384)
                .map_err(|e| bad(KeyKind::P384, e)),
            KeyKind::Rsa => rsa::PublicKey::from_public_key_der(der)
                .map(|k| PublicKey::Rsa(Box::new(k)))
                .map_err(|e| bad(KeyKind::Rsa, e)),
        }
    }

    /// Reads a trusted-root key (`publicKey.rawBytes` with its `keyDetails`): DER
    /// `SubjectPublicKeyInfo`, or a PKCS#1 `RSAPublicKey` when the details say `PKCS1_RSA_*`.
    pub fn from_trust_root_der(der: &[u8], key_details: i32) -> Result<PublicKey> {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use sigstore_protobuf_specs::dev::sigstore::common::v1::PublicKeyDetails;
        #[allow(deprecated)] // still valid in trusted roots, e.g. the staging CT log
        let pkcs1 = [
            PublicKeyDetails::Pkcs1RsaPkcs1v5 as i32,
            PublicKeyDetails::Pkcs1RsaPss as i32,
        ];
        if !pkcs1.contains(&key_details) {
            return PublicKey::from_spki_der(der);
        }
        rsa::PublicKey::from_pkcs1_der(der)
            .map(|k| PublicKey::Rsa(Box::new(k)))
            .map_err(|e| Error::Key(format!("bad PKCS#1 RSA key: {e}")))
    }

    /// Reads a PEM `PUBLIC KEY` block.
    pub fn from_pem(pem: &str) -> Result<PublicKey> {
        let (label, der) = der::pem::decode_vec(pem.trim().as_bytes())
            .map_err(|e| Error::Key(format!("not a PEM public key: {e}")))?;
        if label != "PUBLIC KEY" {
            return Err(Error::Key(format!(
                "expected a PEM block `PUBLIC KEY`, found `{label}`"
            )));
        }
        PublicKey::from_spki_der(&der)
    }

    /// The key as DER `SubjectPublicKeyInfo`.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let doc = match self {
            PublicKey::Ed25519(k) => k.to_public_key_der(),
            PublicKey::P256(k) => k.to_public_key_der(),
            PublicKey::P384(k) => k.to_public_key_der(),
            PublicKey::Rsa(k) => k.to_public_key_der(),
        };
        doc.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The key as a PEM `PUBLIC KEY` block.
    pub fn to_pem(&self) -> String {
        der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, &self.to_spki_der())
            .unwrap_or_default()
    }

    /// The stable key id: lowercase hex SHA-256 of the DER `SubjectPublicKeyInfo`.
    pub fn key_id(&self) -> String {
        hex_lower(&Sha256::digest(self.to_spki_der()))
    }

    /// A short name of the key type, as shown to users (`ed25519`, `ecdsa-p256`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            PublicKey::Ed25519(_) => "ed25519",
            PublicKey::P256(_) => "ecdsa-p256",
            PublicKey::P384(_) => "ecdsa-p384",
            PublicKey::Rsa(_) => "rsa",
        }
    }

    /// The hash this key signs with, when it signs digests (`None` for Ed25519).
    pub fn hash_algorithm(&self) -> Option<HashAlgorithm> {
        match self {
            PublicKey::Ed25519(_) => None,
            PublicKey::P384(_) => Some(HashAlgorithm::Sha384),
            PublicKey::P256(_) | PublicKey::Rsa(_) => Some(HashAlgorithm::Sha256),
        }
    }

    /// Verifies `signature` (DER for ECDSA, raw for Ed25519 and RSA) over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        let bad = |e: &dyn std::fmt::Display| Error::Signature(format!("does not verify: {e}"));
        match self {
            PublicKey::Ed25519(k) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|e| bad(&e))?;
                k.verify_strict(message, &sig).map_err(|e| bad(&e))
            }
            PublicKey::P256(k) => {
                let sig = p256::ecdsa::Signature::from_der(signature).map_err(|e| bad(&e))?;
                k.verify(message, &sig).map_err(|e| bad(&e))
            }
            PublicKey::P384(k) => {
                let sig = p384::ecdsa::Signature::from_der(signature).map_err(|e| bad(&e))?;
                k.verify(message, &sig).map_err(|e| bad(&e))
            }
            PublicKey::Rsa(k) => {
                let vk = rsa::pkcs1v15::VerifyingKey::<Sha256>::new((**k).clone());
                let sig = rsa::pkcs1v15::Signature::try_from(signature).map_err(|e| bad(&e))?;
                vk.verify(message, &sig).map_err(|e| bad(&e))
            }
        }
    }

    /// Verifies `signature` over a message known only by its `digest` (hashedrekord, digest mode).
    /// Ed25519 signs whole messages, so it cannot be checked this way.
    pub fn verify_prehashed(&self, digest: &[u8], signature: &[u8]) -> Result<()> {
        let bad = |e: &dyn std::fmt::Display| Error::Signature(format!("does not verify: {e}"));
        match self {
            PublicKey::Ed25519(_) => Err(Error::Signature(
                "an Ed25519 signature needs the whole artifact, not its digest".into(),
            )),
            PublicKey::P256(k) => {
                let sig = p256::ecdsa::Signature::from_der(signature).map_err(|e| bad(&e))?;
                k.verify_prehash(digest, &sig).map_err(|e| bad(&e))
            }
            PublicKey::P384(k) => {
                let sig = p384::ecdsa::Signature::from_der(signature).map_err(|e| bad(&e))?;
                k.verify_prehash(digest, &sig).map_err(|e| bad(&e))
            }
            PublicKey::Rsa(k) => {
                let vk = rsa::pkcs1v15::VerifyingKey::<Sha256>::new((**k).clone());
                let sig = rsa::pkcs1v15::Signature::try_from(signature).map_err(|e| bad(&e))?;
                vk.verify_prehash(digest, &sig).map_err(|e| bad(&e))
            }
        }
    }
}

/// SHA-384 of `data`, for the P-384 paths.
pub fn sha384(data: &[u8]) -> Vec<u8> {
    Sha384::digest(data).to_vec()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Lowercase hexadecimal.
pub fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
