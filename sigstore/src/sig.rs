//! Signatures with an explicit hash, as X.509 certificates and CT logs name them (the key's
//! default hash is not always the one used: a P-384 CA may sign with SHA-256).

use crate::error::{Error, Result};
use crate::key::PublicKey;
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5912, rfc8410};
use sha2::{Digest, Sha256, Sha384, Sha512};
use signature_v3::Verifier;
use signature_v3::hazmat::PrehashVerifier;

/// A hash a signature was computed over; `Intrinsic` for Ed25519, which hashes internally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// No pre-hash (Ed25519).
    Intrinsic,
}

impl Hash {
    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
            Hash::Intrinsic => message.to_vec(),
        }
    }
}

/// The signature scheme an X.509 `AlgorithmIdentifier` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// ECDSA with this hash.
    Ecdsa(Hash),
    /// RSA PKCS#1 v1.5 with this hash.
    RsaPkcs1(Hash),
    /// Ed25519.
    Ed25519,
}

impl Scheme {
    /// The scheme for a certificate signature algorithm OID; unknown ones are an error.
    pub(crate) fn from_oid(oid: ObjectIdentifier) -> Result<Scheme> {
        Ok(match oid {
            o if o == rfc5912::ECDSA_WITH_SHA_256 => Scheme::Ecdsa(Hash::Sha256),
            o if o == rfc5912::ECDSA_WITH_SHA_384 => Scheme::Ecdsa(Hash::Sha384),
            o if o == rfc5912::ECDSA_WITH_SHA_512 => Scheme::Ecdsa(Hash::Sha512),
            o if o == rfc5912::SHA_256_WITH_RSA_ENCRYPTION => Scheme::RsaPkcs1(Hash::Sha256),
            o if o == rfc5912::SHA_384_WITH_RSA_ENCRYPTION => Scheme::RsaPkcs1(Hash::Sha384),
            o if o == rfc5912::SHA_512_WITH_RSA_ENCRYPTION => Scheme::RsaPkcs1(Hash::Sha512),
            o if o == rfc8410::ID_ED_25519 => Scheme::Ed25519,
            o => {
                return Err(Error::Signature(format!(
                    "unsupported signature algorithm {o}"
                )));
            }
        })
    }
}

/// Verifies `signature` over `message` with `key` under `scheme`; the key type must fit the
/// scheme (an ECDSA signature from an RSA key is an error, not a pass).
pub(crate) fn verify(
    key: &PublicKey,
    scheme: Scheme,
    message: &[u8],
    signature: &[u8],
) -> Result<()> {
    let bad = |e: &dyn std::fmt::Display| Error::Signature(format!("does not verify: {e}"));
    match (scheme, key) {
        (Scheme::Ed25519, PublicKey::Ed25519(_)) => key.verify(message, signature),
        (Scheme::Ecdsa(hash), PublicKey::P256(k)) if hash != Hash::Intrinsic => {
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(|e| bad(&e))?;
            k.verify_prehash(&hash.digest(message), &sig)
                .map_err(|e| bad(&e))
        }
        (Scheme::Ecdsa(hash), PublicKey::P384(k)) if hash != Hash::Intrinsic => {
            let sig = p384::ecdsa::Signature::from_der(signature).map_err(|e| bad(&e))?;
            k.verify_prehash(&hash.digest(message), &sig)
                .map_err(|e| bad(&e))
        }
        (Scheme::RsaPkcs1(hash), PublicKey::Rsa(k)) => {
            let sig = rsa::pkcs1v15::Signature::try_from(signature).map_err(|e| bad(&e))?;
            let k = (**k).clone();
            match hash {
                Hash::Sha256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(k).verify(message, &sig),
                Hash::Sha384 => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(k).verify(message, &sig),
                Hash::Sha512 => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(k).verify(message, &sig),
                Hash::Intrinsic => {
                    return Err(Error::Signature("RSA needs a hash algorithm".into()));
                }
            }
            .map_err(|e| bad(&e))
        }
        (scheme, key) => Err(Error::Signature(format!(
            "a {} key cannot check a {scheme:?} signature",
            key.kind()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::hazmat::PrehashSigner;

    #[test]
    fn ecdsa_with_an_explicit_hash() {
        let sk = p256::ecdsa::SigningKey::from_bytes(&[7u8; 32].into()).unwrap();
        let key = PublicKey::P256(*sk.verifying_key());
        let msg = b"hello";
        let sig: p256::ecdsa::Signature = sk.sign_prehash(&Sha384::digest(msg)).unwrap();
        let der = sig.to_der();
        verify(&key, Scheme::Ecdsa(Hash::Sha384), msg, der.as_bytes()).unwrap();
        assert!(verify(&key, Scheme::Ecdsa(Hash::Sha256), msg, der.as_bytes()).is_err());
        assert!(verify(&key, Scheme::Ecdsa(Hash::Sha384), b"hellO", der.as_bytes()).is_err());
        assert!(verify(&key, Scheme::Ed25519, msg, der.as_bytes()).is_err());
    }
}
