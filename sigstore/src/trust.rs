//! Trusted roots (`application/vnd.dev.sigstore.trustedroot+json`): the CAs, logs and TSAs a
//! verifier trusts, each with its validity window. The public-good root is embedded.

use crate::error::{Error, Result};
use crate::key::PublicKey;
use crate::time::{Time, Validity};
use sigstore_protobuf_specs::dev::sigstore::common::v1 as common;
use sigstore_protobuf_specs::dev::sigstore::trustroot::v1 as proto;

/// The Sigstore public-good trusted root, as shipped (see `roots/README.md` for provenance).
pub const PUBLIC_GOOD_JSON: &str = include_str!("../roots/public-good.trusted_root.json");

/// The largest trusted root we read.
pub const MAX_TRUSTED_ROOT_BYTES: usize = 4 << 20;

/// A transparency log (Rekor) or certificate-transparency log key.
#[derive(Debug, Clone)]
pub struct LogKey {
    /// The log's base URL (informational).
    pub base_url: String,
    /// The log id: SHA-256 of the key's SPKI for Rekor v1 and CT logs.
    pub log_id: Vec<u8>,
    /// For Rekor v2 logs, the id that signed-note checkpoints carry, if the root names one.
    pub checkpoint_key_id: Option<Vec<u8>>,
    /// The verification key.
    pub key: PublicKey,
    /// When this key may have signed.
    pub validity: Validity,
}

/// A certificate authority (Fulcio) or timestamp authority, with its chain (leaf first).
#[derive(Debug, Clone)]
pub struct Authority {
    /// The authority's URI (informational).
    pub uri: String,
    /// DER certificates, the issuing (or signing) certificate first, the root last.
    pub chain: Vec<Vec<u8>>,
    /// When this authority may have issued.
    pub validity: Validity,
}

/// A parsed, checked trusted root.
#[derive(Debug, Clone, Default)]
pub struct TrustRoot {
    /// Transparency logs (Rekor).
    pub tlogs: Vec<LogKey>,
    /// Certificate-transparency logs.
    pub ctlogs: Vec<LogKey>,
    /// Certificate authorities (Fulcio).
    pub certificate_authorities: Vec<Authority>,
    /// RFC 3161 timestamp authorities.
    pub timestamp_authorities: Vec<Authority>,
}

impl TrustRoot {
    /// The embedded Sigstore public-good root.
    pub fn public_good() -> TrustRoot {
        // The embedded file is checked by a test; failing to parse it is a build defect.
        TrustRoot::from_json(PUBLIC_GOOD_JSON.as_bytes()).expect("embedded trusted root parses")
    }

    /// Parses and checks a trusted root JSON document.
    pub fn from_json(bytes: &[u8]) -> Result<TrustRoot> {
        if bytes.len() > MAX_TRUSTED_ROOT_BYTES {
            return Err(Error::TrustRoot(format!(
                "{} bytes is over the {} byte limit",
                bytes.len(),
                MAX_TRUSTED_ROOT_BYTES
            )));
        }
        let root: proto::TrustedRoot = serde_json::from_slice(bytes)
            .map_err(|e| Error::TrustRoot(format!("not a trusted root: {e}")))?;
        if !root
            .media_type
            .starts_with("application/vnd.dev.sigstore.trustedroot")
        {
            return Err(Error::TrustRoot(format!(
                "unexpected media type `{}`",
                root.media_type
            )));
        }
        Ok(TrustRoot {
            tlogs: logs(&root.tlogs, "tlogs")?,
            ctlogs: logs(&root.ctlogs, "ctlogs")?,
            certificate_authorities: authorities(
                &root.certificate_authorities,
                "certificateAuthorities",
            )?,
            timestamp_authorities: authorities(
                &root.timestamp_authorities,
                "timestampAuthorities",
            )?,
        })
    }

    /// Transparency-log keys with this log id.
    pub fn tlogs_with_id<'a>(&'a self, log_id: &'a [u8]) -> impl Iterator<Item = &'a LogKey> {
        self.tlogs.iter().filter(move |l| l.log_id == log_id)
    }

    /// CT log keys with this log id.
    pub fn ctlogs_with_id<'a>(&'a self, log_id: &'a [u8]) -> impl Iterator<Item = &'a LogKey> {
        self.ctlogs.iter().filter(move |l| l.log_id == log_id)
    }
}

fn logs(list: &[proto::TransparencyLogInstance], field: &str) -> Result<Vec<LogKey>> {
    list.iter()
        .enumerate()
        .map(|(i, log)| {
            let at = || format!("{field}[{i}] ({})", log.base_url);
            let pk = log
                .public_key
                .as_ref()
                .ok_or_else(|| Error::TrustRoot(format!("{} has no publicKey", at())))?;
            let raw = pk
                .raw_bytes
                .as_deref()
                .ok_or_else(|| Error::TrustRoot(format!("{} has no publicKey.rawBytes", at())))?;
            let key = PublicKey::from_trust_root_der(raw, pk.key_details)
                .map_err(|e| Error::TrustRoot(format!("{}: {e}", at())))?;
            let validity = validity(pk.valid_for.as_ref(), &at())?;
            let log_id = log
                .log_id
                .as_ref()
                .map(|l| l.key_id.clone())
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| crate::key::sha256(raw).to_vec());
            Ok(LogKey {
                base_url: log.base_url.clone(),
                log_id,
                checkpoint_key_id: log
                    .checkpoint_key_id
                    .as_ref()
                    .map(|l| l.key_id.clone())
                    .filter(|id| !id.is_empty()),
                key,
                validity,
            })
        })
        .collect()
}

fn authorities(list: &[proto::CertificateAuthority], field: &str) -> Result<Vec<Authority>> {
    list.iter()
        .enumerate()
        .map(|(i, ca)| {
            let at = format!("{field}[{i}] ({})", ca.uri);
            let chain: Vec<Vec<u8>> = ca
                .cert_chain
                .as_ref()
                .map(|c| c.certificates.iter().map(|c| c.raw_bytes.clone()).collect())
                .unwrap_or_default();
            if chain.is_empty() {
                return Err(Error::TrustRoot(format!("{at} has an empty certChain")));
            }
            Ok(Authority {
                uri: ca.uri.clone(),
                chain,
                validity: validity(ca.valid_for.as_ref(), &at)?,
            })
        })
        .collect()
}

/// A `validFor` range; its start is required (a missing start must not mean "always").
fn validity(range: Option<&common::TimeRange>, at: &str) -> Result<Validity> {
    let range = range.ok_or_else(|| Error::TrustRoot(format!("{at} has no validFor")))?;
    let start = range
        .start
        .as_ref()
        .ok_or_else(|| Error::TrustRoot(format!("{at} has no validFor.start")))?;
    Ok(Validity {
        start: Time::from_proto(start),
        end: range.end.as_ref().map(Time::from_proto),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_good_root_is_the_documented_file() {
        let digest = crate::key::hex_lower(&crate::key::sha256(PUBLIC_GOOD_JSON.as_bytes()));
        assert_eq!(
            digest,
            "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66"
        );
        let root = TrustRoot::public_good();
        assert_eq!(root.tlogs.len(), 2);
        assert_eq!(root.ctlogs.len(), 2);
        assert_eq!(root.certificate_authorities.len(), 2);
        assert_eq!(root.timestamp_authorities.len(), 1);
        // The log id of Rekor v1 is the SHA-256 of its key.
        let rekor = &root.tlogs[0];
        assert_eq!(
            rekor.log_id,
            crate::key::sha256(&rekor.key.to_spki_der()).to_vec()
        );
    }

    #[test]
    fn rejects_a_log_without_a_validity_start() {
        let json = PUBLIC_GOOD_JSON.replacen("\"start\": \"2021-01-12T11:53:27Z\"", "", 1);
        assert_ne!(json, PUBLIC_GOOD_JSON);
        let json = json.replace("\"validFor\": {\n          \n        }", "\"validFor\": {}");
        let err = TrustRoot::from_json(json.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("validFor"), "{err}");
    }

    #[test]
    fn rejects_garbage() {
        assert!(TrustRoot::from_json(b"{not json").is_err());
        assert!(TrustRoot::from_json(b"{\"mediaType\":\"x\"}").is_err());
    }
}
