//! Signing certificates: parsing, the chain from a leaf to a trusted CA at a given time, the
//! leaf's usage (code signing, not a CA) and its Fulcio identity (SAN and OIDC issuer).

use crate::error::{Error, Result};
use crate::key::PublicKey;
use crate::sig::{self, Scheme};
use crate::time::{Time, Validity};
use crate::trust::{Authority, TrustRoot};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5280, rfc6962};
use der::asn1::AnyRef;
use der::{Decode, Encode, Reader, SliceReader};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};

/// Fulcio's OIDC issuer extension, v1: the raw issuer string as the extension value.
pub const OID_FULCIO_ISSUER_V1: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// Fulcio's OIDC issuer extension, v2: a DER `UTF8String`.
pub const OID_FULCIO_ISSUER_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// Fulcio's `otherName` SAN for a username identity (a DER `UTF8String`).
pub const OID_FULCIO_OTHERNAME_SAN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");

/// Extensions whose meaning we check or that carry no constraint; any other extension marked
/// critical makes a certificate unusable (RFC 5280 4.2).
const UNDERSTOOD_EXTENSIONS: [ObjectIdentifier; 7] = [
    rfc5280::ID_CE_KEY_USAGE,
    rfc5280::ID_CE_BASIC_CONSTRAINTS,
    rfc5280::ID_CE_SUBJECT_ALT_NAME,
    rfc5280::ID_CE_EXT_KEY_USAGE,
    rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
    rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
    rfc6962::CT_PRECERT_SCTS,
];

/// A parsed certificate with its DER encoding.
#[derive(Debug, Clone)]
pub struct Cert {
    /// The DER encoding, exactly as received.
    pub der: Vec<u8>,
    /// The parsed certificate.
    pub cert: Certificate,
}

impl Cert {
    /// Parses a DER certificate; `what` names it in errors (e.g. "the signing certificate").
    pub fn parse(der: &[u8], what: &str) -> Result<Cert> {
        let cert = Certificate::from_der(der).map_err(|e| {
            Error::Certificate(format!("{what} is not a DER X.509 certificate: {e}"))
        })?;
        Ok(Cert {
            der: der.to_vec(),
            cert,
        })
    }

    /// The notBefore..notAfter window, both ends included.
    pub fn validity(&self) -> Validity {
        let v = self.cert.tbs_certificate().validity();
        Validity {
            start: Time::from_x509(&v.not_before),
            end: Some(Time::from_x509(&v.not_after)),
        }
    }

    /// The subject public key as DER `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> Result<Vec<u8>> {
        self.cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| Error::Certificate(format!("cannot encode the subject key: {e}")))
    }

    /// The subject public key.
    pub fn public_key(&self) -> Result<PublicKey> {
        PublicKey::from_spki_der(&self.spki_der()?)
            .map_err(|e| Error::Certificate(format!("subject key of {}: {e}", self.describe())))
    }

    /// The subject name, for messages (`CN=...,O=...`, or `(empty subject)`).
    pub fn describe(&self) -> String {
        let s = self.cert.tbs_certificate().subject().to_string();
        if s.is_empty() {
            "(empty subject)".into()
        } else {
            format!("`{s}`")
        }
    }

    /// Whether subject and issuer are the same name (a root or other self-issued certificate).
    pub fn is_self_issued(&self) -> bool {
        let tbs = self.cert.tbs_certificate();
        tbs.subject() == tbs.issuer()
    }

    fn basic_constraints(&self) -> Result<Option<BasicConstraints>> {
        self.cert
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .map(|o| o.map(|(_, bc)| bc))
            .map_err(|e| {
                Error::Certificate(format!("{}: bad basicConstraints: {e}", self.describe()))
            })
    }

    fn key_usage(&self) -> Result<Option<KeyUsage>> {
        self.cert
            .tbs_certificate()
            .get_extension::<KeyUsage>()
            .map(|o| o.map(|(_, ku)| ku))
            .map_err(|e| Error::Certificate(format!("{}: bad keyUsage: {e}", self.describe())))
    }

    fn reject_unknown_critical(&self) -> Result<()> {
        let exts = self
            .cert
            .tbs_certificate()
            .extensions()
            .map(|e| e.as_slice())
            .unwrap_or(&[]);
        match exts
            .iter()
            .find(|e| e.critical && !UNDERSTOOD_EXTENSIONS.contains(&e.extn_id))
        {
            Some(e) => Err(Error::Certificate(format!(
                "{} has an unsupported critical extension {}",
                self.describe(),
                e.extn_id
            ))),
            None => Ok(()),
        }
    }

    /// Checks that `issuer` issued this certificate: names chain and the signature verifies.
    fn check_issued_by(&self, issuer: &Cert) -> Result<()> {
        if self.cert.tbs_certificate().issuer() != issuer.cert.tbs_certificate().subject() {
            return Err(Error::Certificate(format!(
                "{} names issuer `{}`, not {}",
                self.describe(),
                self.cert.tbs_certificate().issuer(),
                issuer.describe()
            )));
        }
        let outer_alg = self.cert.signature_algorithm();
        if outer_alg != self.cert.tbs_certificate().signature() {
            return Err(Error::Certificate(format!(
                "{}: signatureAlgorithm differs from tbsCertificate.signature",
                self.describe()
            )));
        }
        let scheme = Scheme::from_oid(outer_alg.oid)
            .map_err(|e| Error::Certificate(format!("{}: {e}", self.describe())))?;
        let signature = self.cert.signature().as_bytes().ok_or_else(|| {
            Error::Certificate(format!("{}: signature has unused bits", self.describe()))
        })?;
        let tbs = raw_tbs(&self.der)?;
        sig::verify(&issuer.public_key()?, scheme, &tbs, signature).map_err(|e| {
            Error::Certificate(format!(
                "signature on {} by {}: {e}",
                self.describe(),
                issuer.describe()
            ))
        })
    }

    fn check_valid_at(&self, at: Time) -> Result<()> {
        let v = self.validity();
        if v.contains(at) {
            return Ok(());
        }
        Err(Error::Certificate(format!(
            "{} is valid from {} to {}, not at {at}",
            self.describe(),
            v.start,
            v.end.map(|t| t.to_string()).unwrap_or_default()
        )))
    }

    /// A CA certificate may issue `below` more CA certificates under it (pathLenConstraint).
    fn check_ca(&self, below: usize) -> Result<()> {
        self.reject_unknown_critical()?;
        let bc = self.basic_constraints()?;
        match bc {
            Some(bc) if bc.ca => {
                if let Some(max) = bc.path_len_constraint {
                    if below > usize::from(max) {
                        return Err(Error::Certificate(format!(
                            "{} allows {max} intermediate CA(s) below it, found {below}",
                            self.describe()
                        )));
                    }
                }
            }
            _ => {
                return Err(Error::Certificate(format!(
                    "{} is used as a CA but is not marked as one (basicConstraints)",
                    self.describe()
                )));
            }
        }
        if let Some(ku) = self.key_usage()? {
            if !ku.key_cert_sign() {
                return Err(Error::Certificate(format!(
                    "{} is used as a CA but its keyUsage lacks keyCertSign",
                    self.describe()
                )));
            }
        }
        Ok(())
    }

    /// The leaf must be an end-entity certificate for code signing.
    pub fn check_code_signing_leaf(&self) -> Result<()> {
        self.reject_unknown_critical()?;
        if self.basic_constraints()?.is_some_and(|bc| bc.ca) {
            return Err(Error::Certificate(format!(
                "the signing certificate {} is a CA certificate",
                self.describe()
            )));
        }
        if let Some(ku) = self.key_usage()? {
            if !ku.digital_signature() {
                return Err(Error::Certificate(
                    "the signing certificate's keyUsage lacks digitalSignature".into(),
                ));
            }
        }
        let eku = self
            .cert
            .tbs_certificate()
            .get_extension::<ExtendedKeyUsage>()
            .map_err(|e| Error::Certificate(format!("bad extendedKeyUsage: {e}")))?;
        match eku {
            Some((_, eku)) if eku.0.contains(&rfc5280::ID_KP_CODE_SIGNING) => Ok(()),
            Some(_) => Err(Error::Certificate(
                "the signing certificate's extendedKeyUsage lacks codeSigning".into(),
            )),
            None => Err(Error::Certificate(
                "the signing certificate has no extendedKeyUsage (codeSigning required)".into(),
            )),
        }
    }
}

/// The raw DER `tbsCertificate` of a DER certificate, as signed.
pub(crate) fn raw_tbs(cert_der: &[u8]) -> Result<Vec<u8>> {
    let bad = |e: der::Error| Error::Certificate(format!("malformed certificate: {e}"));
    let outer = AnyRef::from_der(cert_der).map_err(bad)?;
    let mut reader = SliceReader::new(outer.value()).map_err(bad)?;
    let tbs: AnyRef<'_> = reader.decode().map_err(bad)?;
    tbs.to_der().map_err(bad)
}

/// Who a Fulcio certificate was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulcioIdentity {
    /// The SAN identities: URIs, emails and Fulcio `otherName` usernames, in order.
    pub sans: Vec<String>,
    /// The OIDC issuer (extension v2, else v1), if present.
    pub issuer: Option<String>,
}

impl FulcioIdentity {
    /// Reads the SAN and OIDC issuer extensions of `cert`.
    pub fn of(cert: &Cert) -> Result<FulcioIdentity> {
        let tbs = cert.cert.tbs_certificate();
        let san = tbs
            .get_extension::<SubjectAltName>()
            .map_err(|e| Error::Certificate(format!("bad subjectAltName: {e}")))?;
        let mut sans = Vec::new();
        for name in san.map(|(_, s)| s.0).unwrap_or_default() {
            match name {
                GeneralName::UniformResourceIdentifier(uri) => sans.push(uri.to_string()),
                GeneralName::Rfc822Name(email) => sans.push(email.to_string()),
                GeneralName::OtherName(other) if other.type_id == OID_FULCIO_OTHERNAME_SAN => {
                    let s = other
                        .value
                        .decode_as::<der::asn1::Utf8StringRef<'_>>()
                        .map_err(|e| {
                            Error::Certificate(format!("bad otherName SAN (not a UTF8String): {e}"))
                        })?;
                    sans.push(s.as_str().to_string());
                }
                _ => {}
            }
        }
        let exts = tbs.extensions().map(|e| e.as_slice()).unwrap_or(&[]);
        let v2 = exts.iter().find(|e| e.extn_id == OID_FULCIO_ISSUER_V2);
        let v1 = exts.iter().find(|e| e.extn_id == OID_FULCIO_ISSUER_V1);
        let issuer = match (v2, v1) {
            (Some(e), _) => Some(
                der::asn1::Utf8StringRef::from_der(e.extn_value.as_bytes())
                    .map_err(|err| {
                        Error::Certificate(format!(
                            "bad OIDC issuer extension {OID_FULCIO_ISSUER_V2} (not a DER \
                             UTF8String): {err}"
                        ))
                    })?
                    .as_str()
                    .to_string(),
            ),
            (None, Some(e)) => Some(
                std::str::from_utf8(e.extn_value.as_bytes())
                    .map_err(|err| {
                        Error::Certificate(format!(
                            "bad OIDC issuer extension {OID_FULCIO_ISSUER_V1} (not UTF-8): {err}"
                        ))
                    })?
                    .to_string(),
            ),
            (None, None) => None,
        };
        Ok(FulcioIdentity { sans, issuer })
    }
}

/// A leaf's verified path to a trusted CA.
#[derive(Debug, Clone)]
pub struct TrustedChain {
    /// The trusted CA's URI.
    pub authority_uri: String,
    /// The issuing CA certificate (the leaf's direct issuer).
    pub issuer: Cert,
}

/// Finds a CA in `root` whose `validFor` window contains `at` and whose chain issued `leaf`, with
/// every certificate on the path valid at `at`. Certificates carried in the bundle beyond the
/// leaf play no part: trust comes only from the trusted root.
pub fn verify_chain(leaf: &Cert, root: &TrustRoot, at: Time) -> Result<TrustedChain> {
    if root.certificate_authorities.is_empty() {
        return Err(Error::Certificate(
            "the trusted root has no certificate authorities".into(),
        ));
    }
    let mut reasons = Vec::new();
    for ca in &root.certificate_authorities {
        if !ca.validity.contains(at) {
            reasons.push(format!(
                "{}: CA valid from {} to {}, not at {at}",
                ca.uri,
                ca.validity.start,
                ca.validity
                    .end
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "(open)".into())
            ));
            continue;
        }
        match chain_through(leaf, ca, at) {
            Ok(issuer) => {
                return Ok(TrustedChain {
                    authority_uri: ca.uri.clone(),
                    issuer,
                });
            }
            Err(e) => reasons.push(format!("{}: {e}", ca.uri)),
        }
    }
    Err(Error::Certificate(format!(
        "the signing certificate does not chain to a trusted CA at {at}: {}",
        reasons.join("; ")
    )))
}

/// The path `leaf` -> `ca.chain[k..]`, where `chain[k]` is the leaf's issuer.
fn chain_through(leaf: &Cert, ca: &Authority, at: Time) -> Result<Cert> {
    let chain = ca
        .chain
        .iter()
        .enumerate()
        .map(|(i, der)| Cert::parse(der, &format!("CA certificate {i}")))
        .collect::<Result<Vec<_>>>()?;
    let start = chain
        .iter()
        .position(|c| c.cert.tbs_certificate().subject() == leaf.cert.tbs_certificate().issuer())
        .ok_or_else(|| {
            Error::Certificate(format!(
                "no certificate in its chain is the leaf's issuer `{}`",
                leaf.cert.tbs_certificate().issuer()
            ))
        })?;
    let path = chain.get(start..).unwrap_or_default();
    leaf.check_valid_at(at)?;
    let mut child = leaf;
    for (depth, ca_cert) in path.iter().enumerate() {
        child.check_issued_by(ca_cert)?;
        ca_cert.check_valid_at(at)?;
        ca_cert.check_ca(depth)?;
        child = ca_cert;
    }
    let issuer = path
        .first()
        .cloned()
        .ok_or_else(|| Error::Certificate("empty CA chain".into()))?;
    Ok(issuer)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::Engine;

    /// The leaf of the conformance `happy-path-v0.3` bundle (DER).
    pub(crate) fn happy_leaf() -> Vec<u8> {
        let json = include_str!(
            "../tests/fixtures/conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json"
        );
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let b64 = v["verificationMaterial"]["certificate"]["rawBytes"]
            .as_str()
            .unwrap();
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
    }

    #[test]
    fn reads_the_fulcio_identity() {
        let leaf = Cert::parse(&happy_leaf(), "leaf").unwrap();
        let id = FulcioIdentity::of(&leaf).unwrap();
        assert_eq!(
            id.issuer.as_deref(),
            Some("https://token.actions.githubusercontent.com")
        );
        assert_eq!(id.sans.len(), 1);
        assert!(id.sans[0].starts_with("https://github.com/sigstore-conformance/"));
        leaf.check_code_signing_leaf().unwrap();
    }

    #[test]
    fn chains_to_public_good_only_while_valid() {
        let leaf = Cert::parse(&happy_leaf(), "leaf").unwrap();
        let root = TrustRoot::public_good();
        let during = leaf.validity().start;
        let chain = verify_chain(&leaf, &root, during).unwrap();
        assert!(chain.authority_uri.contains("fulcio"));
        let after = Time::from_secs(leaf.validity().end.unwrap().secs + 1);
        let err = verify_chain(&leaf, &root, after).unwrap_err().to_string();
        assert!(err.contains("not at"), "{err}");
    }

    #[test]
    fn a_tampered_leaf_does_not_chain() {
        let mut der = happy_leaf();
        // Flip a byte inside the subject public key (well inside the TBS).
        let i = der.len() / 4;
        der[i] ^= 1;
        if let Ok(leaf) = Cert::parse(&der, "leaf") {
            let root = TrustRoot::public_good();
            assert!(verify_chain(&leaf, &root, leaf.validity().start).is_err());
        }
    }
}
