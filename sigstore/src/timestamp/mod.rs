//! RFC 3161 signed timestamps: token parsing, TSA chain, message imprint, genTime.
//!
//! A bundle's `signedTimestamp` is a DER `TimeStampResp` (or the bare token, a CMS `ContentInfo`).
//! The token is accepted when its `TSTInfo` imprints the bundle's signature, its `SignerInfo`
//! signature over the signed attributes verifies with a certificate of a trusted timestamp
//! authority, that attests the `TSTInfo` digest, and genTime lies within the certificates'
//! validity and the authority's validity window in the trusted root.

mod asn1;
mod signer;

use crate::error::{Error, Result};
use crate::time::Time;
use crate::trust::TrustRoot;
use asn1::{
    Attribute, ContentInfo, RawSet, SignedData, SignerInfo, SigningCertificateV2, TimeStampResp,
    TstInfo,
};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc3161, rfc5911, rfc5912};
use der::asn1::OctetStringRef;
use der::{Decode, Encode, Tag, Tagged};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The largest token we read, in bytes.
const MAX_TOKEN_BYTES: usize = 256 << 10;

/// Verifies an RFC 3161 `TimeStampResponse`/token (DER) over `signed` (the bundle's signature
/// bytes) against the trusted TSAs; returns the verified time.
pub(crate) fn verify_rfc3161(token: &[u8], signed: &[u8], root: &TrustRoot) -> Result<Time> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(bad(format!(
            "{} bytes is over the {MAX_TOKEN_BYTES} byte limit",
            token.len()
        )));
    }
    let info = content_info(token)?;
    if info.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(bad(format!(
            "token content is {}, not signed data",
            info.content_type
        )));
    }
    let signed_data: SignedData<'_> = info
        .content
        .decode_as()
        .map_err(|e| bad(format!("token is not CMS signed data: {e}")))?;
    if signed_data.version != 3 {
        return Err(bad(format!(
            "signed data version {}, expected 3",
            signed_data.version
        )));
    }
    let encap = &signed_data.encap_content_info;
    if encap.e_content_type != rfc3161::ID_CT_TST_INFO {
        return Err(bad(format!(
            "token signs {}, not a TSTInfo",
            encap.e_content_type
        )));
    }
    let tst_der = encap
        .e_content
        .map(OctetStringRef::as_bytes)
        .ok_or_else(|| bad("token has no TSTInfo content".into()))?;
    let tst =
        TstInfo::from_der(tst_der).map_err(|e| bad(format!("TSTInfo does not parse: {e}")))?;
    if tst.version != 1 {
        return Err(bad(format!("TSTInfo version {}", tst.version)));
    }
    let imprint = &tst.message_imprint;
    let alg = Hash::of(&imprint.hash_algorithm.oid)?;
    if alg.digest(signed) != imprint.hashed_message.as_bytes() {
        return Err(bad(
            "the timestamp is over other data than the bundle's signature".into(),
        ));
    }
    let (secs, nanos) = asn1::generalized_time(tst.gen_time)
        .ok_or_else(|| bad("TSTInfo genTime is not a valid GeneralizedTime".into()))?;
    let gen_time = Time { secs, nanos };

    let signer_infos: Vec<SignerInfo<'_>> = signed_data
        .signer_infos
        .items()
        .map_err(|e| bad(format!("signerInfos do not parse: {e}")))?;
    let [signer_info] = signer_infos.as_slice() else {
        return Err(bad(format!(
            "token has {} signers, expected one",
            signer_infos.len()
        )));
    };
    let expected_version = match signer_info.sid {
        asn1::SignerIdentifier::IssuerAndSerialNumber(_) => 1,
        asn1::SignerIdentifier::SubjectKeyIdentifier(_) => 3,
    };
    if signer_info.version != expected_version {
        return Err(bad(format!("SignerInfo version {}", signer_info.version)));
    }
    let attrs = signed_attributes(signer_info, tst_der)?;
    let embedded = embedded_certificates(&signed_data)?;
    signer::verify(
        &signer::Token {
            signer_info,
            signed_attrs: &attrs.der,
            signing_cert_hash: attrs.signing_cert_hash,
            embedded: &embedded,
            gen_time,
        },
        root,
    )?;
    Ok(gen_time)
}

fn bad(why: String) -> Error {
    Error::Timestamp(why)
}

/// The token: the `timeStampToken` of a granted `TimeStampResp`, or the input itself.
fn content_info(token: &[u8]) -> Result<ContentInfo<'_>> {
    if let Ok(resp) = TimeStampResp::from_der(token) {
        // PKIStatus: granted (0) or grantedWithMods (1).
        if resp.status.status > 1 {
            let why = resp
                .status
                .status_string
                .iter()
                .flatten()
                .map(|s| s.as_str());
            return Err(bad(format!(
                "timestamp response status {} ({})",
                resp.status.status,
                why.collect::<Vec<_>>().join("; ")
            )));
        }
        return resp
            .time_stamp_token
            .ok_or_else(|| bad("granted timestamp response without a token".into()));
    }
    ContentInfo::from_der(token)
        .map_err(|e| bad(format!("not a TimeStampResp nor a timestamp token: {e}")))
}

/// A hash algorithm of the SHA-2 family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// By its algorithm identifier.
    fn of(oid: &ObjectIdentifier) -> Result<Hash> {
        match *oid {
            rfc5912::ID_SHA_256 => Ok(Hash::Sha256),
            rfc5912::ID_SHA_384 => Ok(Hash::Sha384),
            rfc5912::ID_SHA_512 => Ok(Hash::Sha512),
            other => Err(bad(format!("unsupported hash algorithm {other}"))),
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

/// What the signed attributes establish.
struct SignedAttrs<'a> {
    /// The DER the signature covers (the attributes as a `SET OF`).
    der: Vec<u8>,
    /// The ESS hash of the signing certificate, if the token names it.
    signing_cert_hash: Option<(Hash, &'a [u8])>,
}

/// Checks the `contentType` and `messageDigest` attributes against the `TSTInfo`.
fn signed_attributes<'a>(si: &SignerInfo<'a>, tst_der: &[u8]) -> Result<SignedAttrs<'a>> {
    let raw = si
        .signed_attrs
        .ok_or_else(|| bad("SignerInfo has no signed attributes".into()))?;
    let attrs: Vec<Attribute<'a>> = raw
        .items()
        .map_err(|e| bad(format!("signed attributes do not parse: {e}")))?;
    let single = |oid: ObjectIdentifier, name: &str| -> Result<Option<RawSet<'a>>> {
        let mut found = attrs.iter().filter(|a| a.attr_type == oid);
        match (found.next(), found.next()) {
            (None, _) => Ok(None),
            (Some(a), None) => Ok(Some(a.attr_values)),
            (Some(_), Some(_)) => Err(bad(format!("signed attribute {name} appears twice"))),
        }
    };
    let one_value = |values: RawSet<'a>, name: &str| -> Result<der::asn1::AnyRef<'a>> {
        match values.items::<der::asn1::AnyRef<'a>>().as_deref() {
            Ok([one]) => Ok(*one),
            _ => Err(bad(format!(
                "signed attribute {name} must have exactly one value"
            ))),
        }
    };

    let content_type = single(rfc5911::ID_CONTENT_TYPE, "contentType")?
        .ok_or_else(|| bad("no contentType signed attribute".into()))?;
    let content_type: ObjectIdentifier = one_value(content_type, "contentType")?
        .decode_as()
        .map_err(|e| bad(format!("contentType attribute: {e}")))?;
    if content_type != rfc3161::ID_CT_TST_INFO {
        return Err(bad(format!(
            "contentType attribute is {content_type}, not TSTInfo"
        )));
    }

    let digest = single(rfc5911::ID_MESSAGE_DIGEST, "messageDigest")?
        .ok_or_else(|| bad("no messageDigest signed attribute".into()))?;
    let digest = one_value(digest, "messageDigest")?;
    if digest.tag() != Tag::OctetString {
        return Err(bad("messageDigest attribute is not an OCTET STRING".into()));
    }
    if Hash::of(&si.digest_algorithm.oid)?.digest(tst_der) != digest.value() {
        return Err(bad(
            "messageDigest attribute does not match the TSTInfo".into()
        ));
    }

    let signing_cert_hash = match single(
        rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2,
        "signingCertificateV2",
    )? {
        None => None,
        Some(values) => {
            let hash = one_value(values, "signingCertificateV2")?
                .decode_as::<SigningCertificateV2<'a>>()
                .map_err(|e| bad(format!("signingCertificateV2 attribute: {e}")))?
                .certs
                .into_iter()
                .next()
                .ok_or_else(|| bad("signingCertificateV2 names no certificate".into()))?;
            let alg = match hash.hash_algorithm {
                Some(a) => Hash::of(&a.oid)?,
                None => Hash::Sha256,
            };
            Some((alg, hash.cert_hash.as_bytes()))
        }
    };
    let der = raw
        .to_set_der()
        .map_err(|e| bad(format!("signed attributes: {e}")))?;
    Ok(SignedAttrs {
        der,
        signing_cert_hash,
    })
}

/// The DER of each certificate embedded in the token (other certificate choices are skipped).
fn embedded_certificates(sd: &SignedData<'_>) -> Result<Vec<Vec<u8>>> {
    let Some(set) = sd.certificates else {
        return Ok(vec![]);
    };
    let items = set
        .items::<der::asn1::AnyRef<'_>>()
        .map_err(|e| bad(format!("embedded certificates do not parse: {e}")))?;
    items
        .into_iter()
        .filter(|c| c.tag() == Tag::Sequence)
        .map(|c| {
            c.to_der()
                .map_err(|e| bad(format!("embedded certificate: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests;
