//! Reading Sigstore bundles (v0.1-v0.3 JSON) into the protobuf-specs types, with limits: a size
//! cap checked before parsing, a known media type, and the fields each version requires.

use crate::error::{Error, Result};
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::{bundle, verification_material};
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::TransparencyLogEntry;

pub use sigstore_protobuf_specs::dev::sigstore::bundle::v1::Bundle;

/// The media type this crate writes.
pub const MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// The largest bundle we read, in bytes.
pub const MAX_BUNDLE_BYTES: usize = 16 << 20;

/// The bundle format versions this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// v0.1: a certificate chain; log entries need only a signed entry timestamp.
    V0_1,
    /// v0.2: log entries need an inclusion proof.
    V0_2,
    /// v0.3: a single leaf `certificate` instead of a chain.
    V0_3,
}

impl Version {
    /// The version named by a bundle media type, in either spelling
    /// (`application/vnd.dev.sigstore.bundle+json;version=0.3` or
    /// `application/vnd.dev.sigstore.bundle.v0.3+json`).
    pub fn from_media_type(media_type: &str) -> Option<Version> {
        let version = media_type
            .strip_prefix("application/vnd.dev.sigstore.bundle+json;version=")
            .or_else(|| {
                media_type
                    .strip_prefix("application/vnd.dev.sigstore.bundle.v")
                    .and_then(|rest| rest.strip_suffix("+json"))
            })?;
        match version {
            "0.1" => Some(Version::V0_1),
            "0.2" => Some(Version::V0_2),
            "0.3" => Some(Version::V0_3),
            _ => None,
        }
    }
}

/// A bundle that passed the structural checks of its version.
#[derive(Debug, Clone)]
pub struct ParsedBundle {
    /// The format version, from the media type.
    pub version: Version,
    /// The bundle itself.
    pub bundle: Bundle,
}

/// Only the media type, read first so that an unknown version gets a clear error rather than
/// whatever the full parse trips on.
#[derive(serde::Deserialize)]
struct MediaTypeOnly {
    #[serde(rename = "mediaType", default)]
    media_type: Option<serde_json::Value>,
}

/// Reads a bundle: size cap (before parsing), JSON, media type, then the required fields.
pub fn parse(bytes: &[u8]) -> Result<ParsedBundle> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(Error::Bundle(format!(
            "{} bytes is over the {MAX_BUNDLE_BYTES} byte limit",
            bytes.len()
        )));
    }
    let head: MediaTypeOnly = serde_json::from_slice(bytes)
        .map_err(|e| Error::Bundle(format!("not a JSON object: {e}")))?;
    let media_type = match head.media_type {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => {
            return Err(Error::Bundle(format!(
                "mediaType must be a string, found {other}"
            )));
        }
        None => return Err(Error::Bundle("missing mediaType".into())),
    };
    let version = Version::from_media_type(&media_type).ok_or_else(|| {
        Error::Bundle(format!(
            "unsupported media type `{media_type}`: expected a Sigstore bundle v0.1, v0.2 or v0.3 \
             (e.g. `{MEDIA_TYPE_V03}`)"
        ))
    })?;
    let bundle: Bundle = serde_json::from_slice(bytes)
        .map_err(|e| Error::Bundle(format!("not a valid {media_type} bundle: {e}")))?;
    check_required(version, &bundle)?;
    Ok(ParsedBundle { version, bundle })
}

/// The fields every bundle of `version` must have, per the protobuf-specs comments and the
/// client spec.
fn check_required(version: Version, b: &Bundle) -> Result<()> {
    let missing = |what: &str| Error::Bundle(format!("missing {what}"));
    let vm = b
        .verification_material
        .as_ref()
        .ok_or_else(|| missing("verificationMaterial"))?;
    match vm.content.as_ref() {
        None => {
            return Err(missing(
                "verificationMaterial.publicKey, .certificate or .x509CertificateChain",
            ));
        }
        Some(verification_material::Content::X509CertificateChain(chain)) => {
            if version >= Version::V0_3 {
                return Err(Error::Bundle(
                    "a v0.3 bundle must carry verificationMaterial.certificate, not \
                     x509CertificateChain"
                        .into(),
                ));
            }
            if chain.certificates.is_empty() {
                return Err(Error::Bundle(
                    "verificationMaterial.x509CertificateChain has no certificates".into(),
                ));
            }
            if chain.certificates.iter().any(|c| c.raw_bytes.is_empty()) {
                return Err(Error::Bundle(
                    "verificationMaterial.x509CertificateChain has an empty certificate".into(),
                ));
            }
        }
        Some(verification_material::Content::Certificate(cert)) => {
            if cert.raw_bytes.is_empty() {
                return Err(missing("verificationMaterial.certificate.rawBytes"));
            }
        }
        Some(verification_material::Content::PublicKey(_)) => {}
    }
    for (i, entry) in vm.tlog_entries.iter().enumerate() {
        let at = |what: &str| format!("verificationMaterial.tlogEntries[{i}]{what}");
        if entry.log_index < 0 {
            return Err(Error::Bundle(format!(
                "{} is {}, must not be negative",
                at(".logIndex"),
                entry.log_index
            )));
        }
        if entry.log_id.as_ref().is_none_or(|id| id.key_id.is_empty()) {
            return Err(missing(&at(".logId.keyId")));
        }
        if entry.kind_version.is_none() {
            return Err(missing(&at(".kindVersion")));
        }
        if entry.canonicalized_body.is_empty() {
            return Err(missing(&at(".canonicalizedBody")));
        }
        if version == Version::V0_1 {
            if entry.inclusion_promise.is_none() {
                return Err(Error::Bundle(format!(
                    "{} has no inclusionPromise, required in a v0.1 bundle",
                    at("")
                )));
            }
        } else if !has_inclusion_proof(entry) {
            return Err(Error::Bundle(format!(
                "{} has no inclusionProof with a checkpoint, required from bundle v0.2 on",
                at("")
            )));
        }
    }
    if let Some(tvd) = vm.timestamp_verification_data.as_ref() {
        if tvd
            .rfc3161_timestamps
            .iter()
            .any(|t| t.signed_timestamp.is_empty())
        {
            return Err(Error::Bundle(
                "an rfc3161Timestamps entry has an empty signedTimestamp".into(),
            ));
        }
    }
    match b.content.as_ref() {
        None => Err(missing("messageSignature or dsseEnvelope")),
        Some(bundle::Content::MessageSignature(ms)) => {
            if ms.signature.is_empty() {
                return Err(missing("messageSignature.signature"));
            }
            if let Some(d) = ms.message_digest.as_ref() {
                if d.digest.is_empty() {
                    return Err(missing("messageSignature.messageDigest.digest"));
                }
            }
            Ok(())
        }
        Some(bundle::Content::DsseEnvelope(env)) => {
            if env.payload_type.is_empty() {
                return Err(missing("dsseEnvelope.payloadType"));
            }
            match env.signatures.as_slice() {
                [one] if !one.sig.is_empty() => Ok(()),
                [_] => Err(missing("dsseEnvelope.signatures[0].sig")),
                many => Err(Error::Bundle(format!(
                    "dsseEnvelope must have exactly one signature, found {}",
                    many.len()
                ))),
            }
        }
    }
}

/// Whether a log entry carries an inclusion proof anchored by a checkpoint.
fn has_inclusion_proof(entry: &TransparencyLogEntry) -> bool {
    entry
        .inclusion_proof
        .as_ref()
        .and_then(|p| p.checkpoint.as_ref())
        .is_some_and(|c| !c.envelope.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        let v = Version::from_media_type;
        assert_eq!(
            v("application/vnd.dev.sigstore.bundle+json;version=0.1"),
            Some(Version::V0_1)
        );
        assert_eq!(
            v("application/vnd.dev.sigstore.bundle+json;version=0.2"),
            Some(Version::V0_2)
        );
        assert_eq!(
            v("application/vnd.dev.sigstore.bundle+json;version=0.3"),
            Some(Version::V0_3)
        );
        assert_eq!(v(MEDIA_TYPE_V03), Some(Version::V0_3));
        assert_eq!(
            v("application/vnd.dev.sigstore.bundle+json;version=99.9"),
            None
        );
        assert_eq!(v("application/vnd.dev.sigstore.bundle.v0.4+json"), None);
        assert_eq!(v("application/json"), None);
    }

    #[test]
    fn rejects_before_parsing_when_too_big() {
        let big = vec![b' '; MAX_BUNDLE_BYTES + 1];
        let err = parse(&big).unwrap_err().to_string();
        assert!(err.contains("byte limit"), "{err}");
    }

    #[test]
    fn clear_errors_for_bad_input() {
        let err = parse(b"not json").unwrap_err().to_string();
        assert!(err.contains("not a JSON object"), "{err}");
        let err = parse(b"{}").unwrap_err().to_string();
        assert!(err.contains("missing mediaType"), "{err}");
        let err = parse(br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v9+json"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unsupported media type"), "{err}");
        let err = parse(br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing verificationMaterial"), "{err}");
    }
}
