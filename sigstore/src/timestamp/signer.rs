//! The token's signer: the certificate its `SignerInfo` names, the trusted timestamp authority
//! behind it, the certificates' validity at genTime, and the signature over the signed
//! attributes.
//!
//! The signing certificate is the embedded one the signer identifier names, else the authority's
//! leaf. It must be that leaf, or be issued by it (a trusted root listing only the TSA's CA).

use super::asn1::{SignerIdentifier, SignerInfo};
use super::{Hash, bad};
use crate::error::{Error, Result};
use crate::key::{PublicKey, hex_lower};
use crate::time::{Time, Validity};
use crate::trust::{Authority, TrustRoot};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5912, rfc8410};
use der::{Decode, Encode, Header, Reader, SliceReader};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectKeyIdentifier};

/// What the signer checks need from a parsed token.
pub(super) struct Token<'t, 'a> {
    pub signer_info: &'t SignerInfo<'a>,
    /// The DER the signature covers.
    pub signed_attrs: &'t [u8],
    /// The ESS hash of the signing certificate, if the token names it.
    pub signing_cert_hash: Option<(Hash, &'a [u8])>,
    /// DER certificates embedded in the token.
    pub embedded: &'t [Vec<u8>],
    pub gen_time: Time,
}

/// Why an authority does not vouch for a token.
enum Refusal {
    /// The token is not signed with this authority's certificates.
    NotSigner,
    /// It is, but a check failed.
    Failed(Error),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Refusal {
        Refusal::Failed(e)
    }
}

/// Checks that a trusted timestamp authority signed the token at its genTime.
pub(super) fn verify(token: &Token<'_, '_>, root: &TrustRoot) -> Result<()> {
    if root.timestamp_authorities.is_empty() {
        return Err(bad("the trusted root has no timestamp authorities".into()));
    }
    let embedded = token
        .embedded
        .iter()
        .map(|der| {
            Certificate::from_der(der)
                .map(|c| (der.as_slice(), c))
                .map_err(|e| bad(format!("embedded certificate does not parse: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut failure = None;
    for authority in &root.timestamp_authorities {
        match check(token, &embedded, authority) {
            Ok(()) => return Ok(()),
            Err(Refusal::NotSigner) => {}
            Err(Refusal::Failed(e)) => {
                failure.get_or_insert(e);
            }
        }
    }
    Err(failure.unwrap_or_else(|| {
        bad(format!(
            "signed by {}, which is not a timestamp authority in the trusted root",
            describe(&token.signer_info.sid)
        ))
    }))
}

fn check(
    token: &Token<'_, '_>,
    embedded: &[(&[u8], Certificate)],
    authority: &Authority,
) -> std::result::Result<(), Refusal> {
    let chain = authority
        .chain
        .iter()
        .map(|der| Certificate::from_der(der))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            bad(format!(
                "certificate of TSA {} does not parse: {e}",
                authority.uri
            ))
        })?;
    let (Some(leaf), Some(leaf_der)) = (chain.first(), authority.chain.first()) else {
        return Err(Refusal::NotSigner);
    };
    let sid = &token.signer_info.sid;
    let (signer_der, signer) = match embedded.iter().find(|(_, c)| names(sid, c)) {
        Some((der, cert)) => (*der, cert),
        None if names(sid, leaf) => (leaf_der.as_slice(), leaf),
        None => return Err(Refusal::NotSigner),
    };
    let mut path = vec![signer];
    if signer_der != leaf_der.as_slice() {
        if signer.tbs_certificate().issuer() != leaf.tbs_certificate().subject() {
            return Err(Refusal::NotSigner);
        }
        check_issued(signer_der, signer, leaf)?;
        path.extend(&chain);
    } else {
        path.extend(chain.iter().skip(1));
    }

    let si = token.signer_info;
    let key = key_of(signer)?;
    verify_signature(
        &key,
        &si.signature_algorithm.oid,
        Some(&si.digest_algorithm.oid),
        token.signed_attrs,
        si.signature.as_bytes(),
    )
    .map_err(|e| bad(format!("token signature: {e}")))?;
    if let Some((alg, hash)) = token.signing_cert_hash
        && alg.digest(signer_der) != hash
    {
        return Err(
            bad("signingCertificateV2 names another certificate than the signer".into()).into(),
        );
    }
    check_time_stamping(signer)?;

    let t = token.gen_time;
    for cert in path {
        let v = cert.tbs_certificate().validity();
        let validity = Validity {
            start: Time::from_x509(&v.not_before),
            end: Some(Time::from_x509(&v.not_after)),
        };
        if !validity.contains(t) {
            return Err(bad(format!(
                "genTime {t} is outside the validity of TSA certificate `{}` ({} to {})",
                cert.tbs_certificate().subject(),
                validity.start,
                Time::from_x509(&v.not_after)
            ))
            .into());
        }
    }
    if !authority.validity.contains(t) {
        return Err(bad(format!(
            "genTime {t} is outside the validity of timestamp authority {} in the trusted root",
            authority.uri
        ))
        .into());
    }
    Ok(())
}

/// Whether `sid` identifies `cert`.
fn names(sid: &SignerIdentifier<'_>, cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            tbs.issuer() == &isn.issuer && tbs.serial_number() == &isn.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(tbs.get_extension::<SubjectKeyIdentifier>(),
                Ok(Some((_, id))) if id.0.as_bytes() == ski.as_bytes())
        }
    }
}

fn describe(sid: &SignerIdentifier<'_>) -> String {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => format!(
            "`{}` (serial {})",
            isn.issuer,
            hex_lower(isn.serial_number.as_bytes())
        ),
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            format!("subject key id {}", hex_lower(ski.as_bytes()))
        }
    }
}

/// RFC 3161: the TSA certificate is for time stamping (extended key usage).
fn check_time_stamping(cert: &Certificate) -> Result<()> {
    match cert.tbs_certificate().get_extension::<ExtendedKeyUsage>() {
        Ok(Some((_, eku))) if eku.0.contains(&rfc5912::ID_KP_TIME_STAMPING) => Ok(()),
        _ => Err(bad(format!(
            "TSA certificate `{}` is not for time stamping (extended key usage)",
            cert.tbs_certificate().subject()
        ))),
    }
}

/// Checks that the trusted `issuer` (a CA) signed `cert`.
fn check_issued(cert_der: &[u8], cert: &Certificate, issuer: &Certificate) -> Result<()> {
    let ca = matches!(issuer.tbs_certificate().get_extension::<BasicConstraints>(),
        Ok(Some((_, bc))) if bc.ca);
    if !ca {
        return Err(bad(format!(
            "`{}` is not a CA, yet named as the signing certificate's issuer",
            issuer.tbs_certificate().subject()
        )));
    }
    let sig = cert
        .signature()
        .as_bytes()
        .ok_or_else(|| bad("certificate signature is not whole bytes".into()))?;
    verify_signature(
        &key_of(issuer)?,
        &cert.signature_algorithm().oid,
        None,
        tbs_bytes(cert_der)?,
        sig,
    )
    .map_err(|e| {
        bad(format!(
            "signing certificate `{}`: {e}",
            cert.tbs_certificate().subject()
        ))
    })
}

/// The `tbsCertificate` bytes exactly as signed.
fn tbs_bytes(cert_der: &[u8]) -> Result<&[u8]> {
    let parse = || -> der::Result<&[u8]> {
        let mut reader = SliceReader::new(cert_der)?;
        Header::decode(&mut reader)?;
        reader.tlv_bytes()
    };
    parse().map_err(|e| bad(format!("certificate does not parse: {e}")))
}

fn key_of(cert: &Certificate) -> Result<PublicKey> {
    let spki = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| bad(format!("certificate key: {e}")))?;
    PublicKey::from_spki_der(&spki).map_err(|e| bad(format!("certificate key: {e}")))
}

/// Verifies `sig` over `msg` as `alg` says (an X.509/CMS signature algorithm; for a bare key
/// algorithm, `digest_alg` gives the hash).
fn verify_signature(
    key: &PublicKey,
    alg: &ObjectIdentifier,
    digest_alg: Option<&ObjectIdentifier>,
    msg: &[u8],
    sig: &[u8],
) -> Result<()> {
    let (family, hash) = match *alg {
        rfc8410::ID_ED_25519 => ("ed25519", None),
        rfc5912::ECDSA_WITH_SHA_256 => ("ecdsa", Some(Hash::Sha256)),
        rfc5912::ECDSA_WITH_SHA_384 => ("ecdsa", Some(Hash::Sha384)),
        rfc5912::ECDSA_WITH_SHA_512 => ("ecdsa", Some(Hash::Sha512)),
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION => ("rsa", Some(Hash::Sha256)),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION => ("rsa", Some(Hash::Sha384)),
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION => ("rsa", Some(Hash::Sha512)),
        rfc5912::ID_EC_PUBLIC_KEY | rfc5912::RSA_ENCRYPTION => {
            let digest = digest_alg.ok_or_else(|| bad(format!("algorithm {alg} has no hash")))?;
            let family = if *alg == rfc5912::RSA_ENCRYPTION {
                "rsa"
            } else {
                "ecdsa"
            };
            (family, Some(Hash::of(digest)?))
        }
        other => return Err(bad(format!("unsupported signature algorithm {other}"))),
    };
    let fits = match key {
        PublicKey::Ed25519(_) => family == "ed25519",
        PublicKey::P256(_) | PublicKey::P384(_) => family == "ecdsa",
        // This crate checks RSA PKCS#1 v1.5 with SHA-256 only.
        PublicKey::Rsa(_) => family == "rsa" && hash == Some(Hash::Sha256),
    };
    if !fits {
        return Err(bad(format!(
            "a {} key cannot check a {alg} signature here",
            key.kind()
        )));
    }
    let checked = match hash {
        None => key.verify(msg, sig),
        Some(h) => key.verify_prehashed(&h.digest(msg), sig),
    };
    checked.map_err(|e| bad(format!("does not verify ({e})")))
}
