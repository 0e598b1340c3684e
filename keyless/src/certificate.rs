//! What the Fulcio certificate says: its key, the signer identity (SAN) and the OIDC issuer.

use crate::error::{Error, Result};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

/// Fulcio's OIDC issuer extension (v2): a DER UTF8String.
const OIDC_ISSUER_V2: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// Fulcio's OIDC issuer extension (v1, deprecated): the raw issuer bytes.
const OIDC_ISSUER_V1: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");

/// A PEM certificate chain read into DER, leaf first.
pub(crate) fn chain_from_pem(pems: &[String]) -> Result<Vec<Vec<u8>>> {
    let mut chain = Vec::new();
    for (i, pem) in pems.iter().enumerate() {
        let certs = Certificate::load_pem_chain(pem.trim().as_bytes())
            .map_err(|e| Error::Certificate(format!("certificate {i} is not PEM: {e}")))?;
        for cert in certs {
            let der = cert
                .to_der()
                .map_err(|e| Error::Certificate(format!("certificate {i} does not encode: {e}")))?;
            chain.push(der);
        }
    }
    if chain.is_empty() {
        return Err(Error::Certificate("the chain is empty".into()));
    }
    Ok(chain)
}

/// The signer as the leaf certificate names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertIdentity {
    /// The SAN: an email address or a URI (e.g. a GitHub workflow).
    pub identity: String,
    /// The OIDC issuer from Fulcio's extension.
    pub issuer: String,
}

/// Checks that the leaf certifies `spki_der` and reads its identity and issuer.
pub(crate) fn leaf_identity(leaf_der: &[u8], spki_der: &[u8]) -> Result<CertIdentity> {
    let bad = |why: String| Error::Certificate(why);
    let cert = Certificate::from_der(leaf_der)
        .map_err(|e| bad(format!("the leaf is not a DER certificate: {e}")))?;
    let tbs = cert.tbs_certificate();
    let leaf_key = tbs
        .subject_public_key_info()
        .to_der()
        .map_err(|e| bad(format!("the leaf's key does not encode: {e}")))?;
    if leaf_key != spki_der {
        return Err(bad(
            "the leaf certifies another key than the one we sent".into()
        ));
    }
    let san = tbs
        .get_extension::<SubjectAltName>()
        .map_err(|e| bad(format!("unreadable subject alternative name: {e}")))?
        .ok_or_else(|| bad("the leaf has no subject alternative name".into()))?
        .1;
    let identity = san
        .0
        .iter()
        .find_map(|name| match name {
            GeneralName::Rfc822Name(s) | GeneralName::UniformResourceIdentifier(s) => {
                Some(s.to_string())
            }
            _ => None,
        })
        .ok_or_else(|| bad("the leaf's SAN has no email address or URI".into()))?;
    let extensions = tbs.extensions().map(|e| e.as_slice()).unwrap_or_default();
    let value = |oid| {
        extensions
            .iter()
            .find(|e| e.extn_id == oid)
            .map(|e| e.extn_value.as_bytes())
    };
    let issuer = if let Some(v2) = value(OIDC_ISSUER_V2) {
        der::asn1::Utf8StringRef::from_der(v2)
            .map(|s| s.as_str().to_owned())
            .map_err(|e| {
                bad(format!(
                    "the OIDC issuer extension is not a UTF8String: {e}"
                ))
            })?
    } else if let Some(v1) = value(OIDC_ISSUER_V1) {
        String::from_utf8(v1.to_vec())
            .map_err(|_| bad("the OIDC issuer extension is not UTF-8".into()))?
    } else {
        return Err(bad("the leaf has no OIDC issuer extension".into()));
    };
    Ok(CertIdentity { identity, issuer })
}

/// DER to PEM `CERTIFICATE`.
pub(crate) fn to_pem(der: &[u8]) -> Result<String> {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der)
        .map_err(|e| Error::Certificate(format!("cannot encode PEM: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_chains_are_errors() {
        assert!(chain_from_pem(&[]).is_err());
        assert!(chain_from_pem(&["not pem".into()]).is_err());
        let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(chain_from_pem(&[pem.into()]).is_err());
        assert!(leaf_identity(b"\x30\x03\x02\x01\x01", b"").is_err());
    }
}
