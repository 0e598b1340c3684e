//! Comparing what an entry records (signer, signature, digest) with the bundle.

use super::EntrySigner;
use crate::error::{Error, Result};
use crate::key::PublicKey;
use der::{Decode, Encode};
use sha2::{Digest, Sha256, Sha384, Sha512};
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::bundle::Content;
use sigstore_protobuf_specs::dev::sigstore::common::v1::{HashAlgorithm, MessageSignature};
use sigstore_protobuf_specs::io::intoto::Envelope;

/// The signer an entry records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Logged {
    /// A certificate (DER).
    Certificate(Vec<u8>),
    /// A public key (DER `SubjectPublicKeyInfo`).
    PublicKey(Vec<u8>),
}

impl Logged {
    /// From a PEM block, as Rekor v1 kinds store the signer (certificate or public key). Line
    /// length is not checked: some Rekor clients write the base64 on one line.
    pub(super) fn from_pem(pem: &[u8]) -> Result<Logged> {
        let (label, der) = pem_decode(pem)?;
        match label {
            "CERTIFICATE" => Ok(Logged::Certificate(der)),
            "PUBLIC KEY" => Ok(Logged::PublicKey(der)),
            other => Err(Error::Tlog(format!(
                "entry signer is a PEM `{other}` block"
            ))),
        }
    }

    /// Checks that this is the bundle's signer: the same certificate, or the same public key.
    pub(super) fn check(&self, signer: EntrySigner<'_>) -> Result<()> {
        let same = match (self, signer) {
            (Logged::Certificate(c), EntrySigner::Certificate(leaf)) => c.as_slice() == leaf,
            (Logged::Certificate(c), EntrySigner::Key(k)) => {
                normal_key(&cert_spki(c)?)? == k.to_spki_der()
            }
            (Logged::PublicKey(p), EntrySigner::Certificate(leaf)) => {
                normal_key(p)? == normal_key(&cert_spki(leaf)?)?
            }
            (Logged::PublicKey(p), EntrySigner::Key(k)) => normal_key(p)? == k.to_spki_der(),
        };
        if !same {
            let what = match self {
                Logged::Certificate(_) => "certificate",
                Logged::PublicKey(_) => "public key",
            };
            return Err(Error::Tlog(format!(
                "entry records a different signer ({what})"
            )));
        }
        Ok(())
    }
}

/// One PEM block: its label and the DER it holds.
fn pem_decode(pem: &[u8]) -> Result<(&str, Vec<u8>)> {
    let bad = |why: &str| Error::Tlog(format!("entry signer is not PEM: {why}"));
    let text = std::str::from_utf8(pem)
        .map_err(|_| bad("not UTF-8"))?
        .trim();
    let rest = text
        .strip_prefix("-----BEGIN ")
        .ok_or_else(|| bad("no BEGIN line"))?;
    let (label, rest) = rest
        .split_once("-----")
        .ok_or_else(|| bad("bad BEGIN line"))?;
    let body = rest
        .strip_suffix(&format!("-----END {label}-----"))
        .ok_or_else(|| bad("no matching END line"))?;
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
        .map_err(|e| bad(&e.to_string()))?;
    Ok((label, der))
}

/// A key's SPKI as this crate encodes it, so that equal keys compare equal.
fn normal_key(spki: &[u8]) -> Result<Vec<u8>> {
    PublicKey::from_spki_der(spki)
        .map(|k| k.to_spki_der())
        .map_err(|e| Error::Tlog(format!("entry signer: {e}")))
}

fn cert_spki(der: &[u8]) -> Result<Vec<u8>> {
    let cert = x509_cert::Certificate::from_der(der)
        .map_err(|e| Error::Tlog(format!("entry signer certificate does not parse: {e}")))?;
    cert.tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| Error::Tlog(format!("entry signer certificate key: {e}")))
}

/// The bundle's message signature, for kinds that log one.
pub(super) fn message_signature<'c>(
    content: &'c Content,
    kind: &str,
) -> Result<&'c MessageSignature> {
    match content {
        Content::MessageSignature(m) => Ok(m),
        Content::DsseEnvelope(_) => Err(Error::Tlog(format!(
            "bundle holds a DSSE envelope but its entry is a `{kind}` of a message signature"
        ))),
    }
}

/// The bundle's DSSE envelope, for kinds that log one.
pub(super) fn envelope<'c>(content: &'c Content, kind: &str) -> Result<&'c Envelope> {
    match content {
        Content::DsseEnvelope(e) => Ok(e),
        Content::MessageSignature(_) => Err(Error::Tlog(format!(
            "bundle holds a message signature but its entry is a `{kind}` of a DSSE envelope"
        ))),
    }
}

/// The envelope's only signature (a bundle's envelope carries exactly one).
pub(super) fn envelope_signature(env: &Envelope) -> Result<&[u8]> {
    match env.signatures.as_slice() {
        [one] => Ok(&one.sig),
        list => Err(Error::Tlog(format!(
            "bundle's DSSE envelope has {} signatures, expected exactly one",
            list.len()
        ))),
    }
}

/// Checks that the entry records the bundle's signature bytes.
pub(super) fn check_signature(logged: &[u8], bundle: &[u8]) -> Result<()> {
    if logged != bundle {
        return Err(Error::Tlog("entry records a different signature".into()));
    }
    Ok(())
}

/// Checks that the entry's artifact digest is the bundle's `messageDigest`.
pub(super) fn check_message_digest(
    msg: &MessageSignature,
    algorithm: HashAlgorithm,
    digest: &[u8],
) -> Result<()> {
    let md = msg
        .message_digest
        .as_ref()
        .ok_or_else(|| Error::Tlog("bundle's message signature has no messageDigest".into()))?;
    if md.algorithm != algorithm as i32 {
        return Err(Error::Tlog(format!(
            "entry digest is {} but the bundle's messageDigest is {}",
            algorithm.as_str_name(),
            HashAlgorithm::try_from(md.algorithm).map_or("unknown", |a| a.as_str_name())
        )));
    }
    if md.digest != digest {
        return Err(Error::Tlog(
            "entry records a different artifact digest".into(),
        ));
    }
    Ok(())
}

/// `data` hashed with `algorithm` (SHA-2 only).
pub(super) fn hash(algorithm: HashAlgorithm, data: &[u8]) -> Result<Vec<u8>> {
    match algorithm {
        HashAlgorithm::Sha2256 => Ok(Sha256::digest(data).to_vec()),
        HashAlgorithm::Sha2384 => Ok(Sha384::digest(data).to_vec()),
        HashAlgorithm::Sha2512 => Ok(Sha512::digest(data).to_vec()),
        other => Err(Error::Tlog(format!(
            "unsupported hash algorithm {}",
            other.as_str_name()
        ))),
    }
}

/// A hash algorithm as the protobuf enum number names it.
pub(super) fn algorithm(number: i32) -> Result<HashAlgorithm> {
    HashAlgorithm::try_from(number)
        .map_err(|_| Error::Tlog(format!("unknown hash algorithm number {number}")))
}

/// Compares a lowercase or uppercase hex string with bytes.
pub(super) fn hex_eq(hex: &str, bytes: &[u8]) -> bool {
    hex.eq_ignore_ascii_case(&crate::key::hex_lower(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_with_long_or_short_lines() {
        let (label, der) =
            pem_decode(b"-----BEGIN PUBLIC KEY-----\nAAEC\nAw==\n-----END PUBLIC KEY-----\n")
                .unwrap();
        assert_eq!((label, der), ("PUBLIC KEY", vec![0, 1, 2, 3]));
        assert!(pem_decode(b"-----BEGIN A-----\nAAEC\n-----END B-----").is_err());
        assert!(pem_decode(b"AAEC").is_err());
        assert!(pem_decode(b"-----BEGIN A-----\n!!\n-----END A-----").is_err());
        assert!(matches!(
            Logged::from_pem(b"-----BEGIN X-----\nAA==\n-----END X-----"),
            Err(Error::Tlog(_))
        ));
    }
}
