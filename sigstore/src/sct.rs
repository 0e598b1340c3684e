//! Signed certificate timestamps embedded in a Fulcio leaf (RFC 6962 3.2-3.3), checked against
//! the trusted root's CT logs: the proof that the certificate was publicly logged.

use crate::cert::Cert;
use crate::error::{Error, Result};
use crate::sig::{self, Hash, Scheme};
use crate::time::Time;
use crate::trust::TrustRoot;
use const_oid::db::rfc6962::CT_PRECERT_SCTS;
use der::asn1::AnyRef;
use der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::sct::{
    HashAlgorithm, SignatureAlgorithm, SignedCertificateTimestamp, SignedCertificateTimestampList,
};

/// How many embedded SCTs must verify.
pub const SCT_THRESHOLD: usize = 1;

/// Verifies the leaf's embedded SCTs, issued over its precertificate by CA `issuer`; at least
/// [`SCT_THRESHOLD`] must verify against a CT log of `root` valid at the SCT's time. Returns how
/// many verified.
pub fn verify_embedded(leaf: &Cert, issuer: &Cert, root: &TrustRoot) -> Result<usize> {
    let list = leaf
        .cert
        .tbs_certificate()
        .get_extension::<SignedCertificateTimestampList>()
        .map_err(|e| Error::Certificate(format!("bad embedded SCT list: {e}")))?
        .map(|(_, list)| list)
        .ok_or_else(|| Error::Certificate("the signing certificate has no embedded SCT".into()))?;
    let scts = list
        .parse_timestamps()
        .map_err(|e| Error::Certificate(format!("bad embedded SCT list: {e:?}")))?;
    let precert_tbs = tbs_without_scts(&leaf.der)?;
    let issuer_key_hash = crate::key::sha256(&issuer.spki_der()?);
    let mut verified = 0;
    let mut reasons = Vec::new();
    for (i, serialized) in scts.iter().enumerate() {
        let outcome = serialized
            .parse_timestamp()
            .map_err(|e| Error::Certificate(format!("malformed SCT: {e:?}")))
            .and_then(|sct| verify_one(&sct, &issuer_key_hash, &precert_tbs, root));
        match outcome {
            Ok(()) => verified += 1,
            Err(e) => reasons.push(format!("SCT {i}: {e}")),
        }
    }
    if verified >= SCT_THRESHOLD {
        return Ok(verified);
    }
    if scts.is_empty() {
        reasons.push("the SCT list is empty".into());
    }
    Err(Error::Certificate(format!(
        "{verified} of {} embedded SCTs verified, {SCT_THRESHOLD} required: {}",
        scts.len(),
        reasons.join("; ")
    )))
}

fn verify_one(
    sct: &SignedCertificateTimestamp,
    issuer_key_hash: &[u8; 32],
    precert_tbs: &[u8],
    root: &TrustRoot,
) -> Result<()> {
    let log_id = crate::key::hex_lower(&sct.log_id.key_id);
    let at = Time {
        secs: i64::try_from(sct.timestamp / 1000).unwrap_or(i64::MAX),
        nanos: u32::try_from(sct.timestamp % 1000).unwrap_or(0) * 1_000_000,
    };
    let scheme = scheme(sct)?;
    let message = signed_data(sct, issuer_key_hash, precert_tbs)?;
    let mut reasons = Vec::new();
    for log in root.ctlogs_with_id(&sct.log_id.key_id) {
        if !log.validity.contains(at) {
            reasons.push(format!("CT log {} is not valid at {at}", log.base_url));
            continue;
        }
        match sig::verify(
            &log.key,
            scheme,
            &message,
            sct.signature.signature.as_slice(),
        ) {
            Ok(()) => return Ok(()),
            Err(e) => reasons.push(format!("CT log {}: {e}", log.base_url)),
        }
    }
    if reasons.is_empty() {
        return Err(Error::Certificate(format!(
            "no trusted CT log has id {log_id}"
        )));
    }
    Err(Error::Certificate(reasons.join(", ")))
}

fn scheme(sct: &SignedCertificateTimestamp) -> Result<Scheme> {
    let alg = &sct.signature.algorithm;
    let hash = match alg.hash {
        HashAlgorithm::Sha256 => Hash::Sha256,
        HashAlgorithm::Sha384 => Hash::Sha384,
        HashAlgorithm::Sha512 => Hash::Sha512,
        HashAlgorithm::Intrinsic => Hash::Intrinsic,
        ref other => {
            return Err(Error::Certificate(format!(
                "unsupported SCT hash {other:?}"
            )));
        }
    };
    match alg.signature {
        SignatureAlgorithm::Ecdsa => Ok(Scheme::Ecdsa(hash)),
        SignatureAlgorithm::Rsa => Ok(Scheme::RsaPkcs1(hash)),
        SignatureAlgorithm::Ed25519 => Ok(Scheme::Ed25519),
        ref other => Err(Error::Certificate(format!(
            "unsupported SCT signature {other:?}"
        ))),
    }
}

/// The RFC 6962 `digitally-signed` input of a precertificate SCT: version, signature type
/// (certificate_timestamp), timestamp, entry type (precert_entry), issuer key hash, the TBS
/// (24-bit length) and the SCT's extensions (16-bit length), extensions included as carried.
fn signed_data(
    sct: &SignedCertificateTimestamp,
    issuer_key_hash: &[u8; 32],
    precert_tbs: &[u8],
) -> Result<Vec<u8>> {
    let tbs_len = u32::try_from(precert_tbs.len())
        .ok()
        .filter(|l| *l < 1 << 24)
        .ok_or_else(|| Error::Certificate("precertificate TBS is too long for an SCT".into()))?;
    let ext = sct.extensions.as_slice();
    let ext_len = u16::try_from(ext.len())
        .map_err(|_| Error::Certificate("SCT extensions are too long".into()))?;
    let mut out = Vec::with_capacity(precert_tbs.len() + ext.len() + 64);
    out.push(0); // sct_version v1
    out.push(0); // signature_type certificate_timestamp
    out.extend_from_slice(&sct.timestamp.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // entry_type precert_entry
    out.extend_from_slice(issuer_key_hash);
    out.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
    out.extend_from_slice(precert_tbs);
    out.extend_from_slice(&ext_len.to_be_bytes());
    out.extend_from_slice(ext);
    Ok(out)
}

/// The leaf's `tbsCertificate` with the SCT list extension removed: the precertificate TBS the
/// CT log signed. Every other byte is kept exactly as encoded.
fn tbs_without_scts(cert_der: &[u8]) -> Result<Vec<u8>> {
    let bad = |e: der::Error| Error::Certificate(format!("cannot rebuild the precertificate: {e}"));
    let tbs_der = crate::cert::raw_tbs(cert_der)?;
    let tbs = AnyRef::from_der(&tbs_der).map_err(bad)?;
    let extensions_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(3),
    };
    let mut fields = Vec::new();
    let mut reader = SliceReader::new(tbs.value()).map_err(bad)?;
    while !reader.is_finished() {
        let field: AnyRef<'_> = reader.decode().map_err(bad)?;
        if field.tag() != extensions_tag {
            fields.extend_from_slice(&field.to_der().map_err(bad)?);
            continue;
        }
        let list = AnyRef::from_der(field.value()).map_err(bad)?;
        let mut kept = Vec::new();
        let mut ext_reader = SliceReader::new(list.value()).map_err(bad)?;
        while !ext_reader.is_finished() {
            let ext: AnyRef<'_> = ext_reader.decode().map_err(bad)?;
            let raw = ext.to_der().map_err(bad)?;
            if Extension::from_der(&raw).map_err(bad)?.extn_id != CT_PRECERT_SCTS {
                kept.extend_from_slice(&raw);
            }
        }
        let seq = AnyRef::new(Tag::Sequence, &kept)
            .map_err(bad)?
            .to_der()
            .map_err(bad)?;
        let wrapped = AnyRef::new(extensions_tag, &seq).map_err(bad)?;
        fields.extend_from_slice(&wrapped.to_der().map_err(bad)?);
    }
    AnyRef::new(Tag::Sequence, &fields)
        .map_err(bad)?
        .to_der()
        .map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn happy_leaf() -> Cert {
        Cert::parse(&crate::cert::tests::happy_leaf(), "leaf").unwrap()
    }

    #[test]
    fn public_good_sct_verifies() {
        let root = TrustRoot::public_good();
        let leaf = happy_leaf();
        let chain = crate::cert::verify_chain(&leaf, &root, leaf.validity().start).unwrap();
        assert_eq!(verify_embedded(&leaf, &chain.issuer, &root).unwrap(), 1);
    }

    #[test]
    fn wrong_issuer_key_hash_fails() {
        let root = TrustRoot::public_good();
        let leaf = happy_leaf();
        // The leaf is not its own issuer: the issuer key hash is wrong, so the SCT must fail.
        let err = verify_embedded(&leaf, &leaf, &root)
            .unwrap_err()
            .to_string();
        assert!(err.contains("0 of 1"), "{err}");
    }

    #[test]
    fn the_precert_tbs_drops_only_the_sct_extension() {
        let leaf = happy_leaf();
        let full = crate::cert::raw_tbs(&leaf.der).unwrap();
        let pre = tbs_without_scts(&leaf.der).unwrap();
        assert!(pre.len() < full.len());
        let parsed = x509_cert::TbsCertificate::from_der(&pre).unwrap();
        let n = |t: &x509_cert::TbsCertificate| t.extensions().map(|e| e.len()).unwrap_or(0);
        assert_eq!(n(&parsed) + 1, n(leaf.cert.tbs_certificate()));
    }
}
