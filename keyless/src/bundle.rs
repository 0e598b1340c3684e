//! Assembling the Sigstore bundle v0.3 (protobuf-specs types, proto-JSON) from the signature, the
//! Fulcio leaf certificate and the Rekor entry.

use crate::error::{Error, Result};
use crate::rekor::LogEntry;
use cavra_sigstore::bundle::MEDIA_TYPE_V03;
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::{
    Bundle, VerificationMaterial, bundle, verification_material,
};
use sigstore_protobuf_specs::dev::sigstore::common::v1::{
    HashAlgorithm, HashOutput, LogId, MessageSignature, X509Certificate,
};
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::{
    Checkpoint, InclusionPromise, InclusionProof, KindVersion, TransparencyLogEntry,
};
use sigstore_protobuf_specs::io::intoto::{Envelope, Signature};

/// What was signed.
pub(crate) enum Signed<'a> {
    /// A DSSE envelope with one signature.
    Dsse {
        payload_type: &'a str,
        payload: &'a [u8],
        signature: &'a [u8],
    },
    /// A signature over an artifact's SHA-256 digest.
    Message {
        sha256: [u8; 32],
        signature: &'a [u8],
    },
}

/// The bundle as proto-JSON: v0.3 media type, the leaf certificate alone, one tlog entry with
/// its inclusion promise (SET) and inclusion proof (with checkpoint).
pub(crate) fn assemble(
    signed: &Signed<'_>,
    leaf_der: &[u8],
    kind: &str,
    version: &str,
    entry: &LogEntry,
) -> Result<String> {
    let tlog_entry = TransparencyLogEntry {
        log_index: entry.log_index,
        log_id: Some(LogId {
            key_id: entry.log_id.clone(),
        }),
        kind_version: Some(KindVersion {
            kind: kind.into(),
            version: version.into(),
        }),
        integrated_time: entry.integrated_time,
        inclusion_promise: Some(InclusionPromise {
            signed_entry_timestamp: entry.signed_entry_timestamp.clone(),
        }),
        inclusion_proof: Some(InclusionProof {
            log_index: entry.proof.log_index,
            root_hash: entry.proof.root_hash.clone(),
            tree_size: entry.proof.tree_size,
            hashes: entry.proof.hashes.clone(),
            checkpoint: Some(Checkpoint {
                envelope: entry.proof.checkpoint.clone(),
            }),
        }),
        canonicalized_body: entry.body.clone(),
    };
    let content = match signed {
        Signed::Dsse {
            payload_type,
            payload,
            signature,
        } => bundle::Content::DsseEnvelope(Envelope {
            payload: payload.to_vec(),
            payload_type: (*payload_type).into(),
            signatures: vec![Signature {
                sig: signature.to_vec(),
                keyid: String::new(),
            }],
        }),
        Signed::Message { sha256, signature } => {
            bundle::Content::MessageSignature(MessageSignature {
                message_digest: Some(HashOutput {
                    algorithm: HashAlgorithm::Sha2256 as i32,
                    digest: sha256.to_vec(),
                }),
                signature: signature.to_vec(),
            })
        }
    };
    let bundle = Bundle {
        media_type: MEDIA_TYPE_V03.into(),
        verification_material: Some(VerificationMaterial {
            tlog_entries: vec![tlog_entry],
            timestamp_verification_data: None,
            content: Some(verification_material::Content::Certificate(
                X509Certificate {
                    raw_bytes: leaf_der.to_vec(),
                },
            )),
        }),
        content: Some(content),
    };
    serde_json::to_string(&bundle)
        .map_err(|e| Error::Signing(format!("cannot encode the bundle: {e}")))
}
