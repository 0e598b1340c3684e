//! Assembling the Sigstore bundle v0.3 (protobuf-specs types, proto-JSON) from the signature, the
//! Fulcio leaf certificate and the Rekor entry.

use crate::error::{Error, Result};
use crate::rekor::LogEntry;
use cavra_sigstore::write::bundle_v03;
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::{
    VerificationMaterial, bundle::Content, verification_material,
};
use sigstore_protobuf_specs::dev::sigstore::common::v1::{LogId, X509Certificate};
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::{
    Checkpoint, InclusionPromise, InclusionProof, KindVersion, TransparencyLogEntry,
};

/// The bundle as proto-JSON: v0.3 media type, the leaf certificate alone, one tlog entry with
/// its inclusion promise (SET) and inclusion proof (with checkpoint).
pub(crate) fn assemble(
    content: Content,
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
    let material = VerificationMaterial {
        tlog_entries: vec![tlog_entry],
        timestamp_verification_data: None,
        content: Some(verification_material::Content::Certificate(
            X509Certificate {
                raw_bytes: leaf_der.to_vec(),
            },
        )),
    };
    bundle_v03(material, content)
        .map(|(_, json)| json)
        .map_err(|e| Error::Signing(format!("cannot encode the bundle: {e}")))
}
