//! Writing Sigstore bundles v0.3: the content (a DSSE envelope or a message signature) and the
//! bundle JSON, shared by key and keyless signers so every bundle cavra writes has one shape.

use crate::bundle::{Bundle, MEDIA_TYPE_V03};
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::{VerificationMaterial, bundle::Content};
use sigstore_protobuf_specs::dev::sigstore::common::v1::{
    HashAlgorithm, HashOutput, MessageSignature,
};
use sigstore_protobuf_specs::io::intoto::{Envelope, Signature};

/// A DSSE envelope of `payload_type` with one signature (over the PAE) and its key id
/// (empty for certificate signers).
pub fn dsse_content(payload_type: &str, payload: &[u8], sig: Vec<u8>, keyid: String) -> Content {
    Content::DsseEnvelope(Envelope {
        payload: payload.to_vec(),
        payload_type: payload_type.to_string(),
        signatures: vec![Signature { sig, keyid }],
    })
}

/// A message signature over an artifact whose SHA-256 is `sha256`.
pub fn message_content(sha256: [u8; 32], signature: Vec<u8>) -> Content {
    Content::MessageSignature(MessageSignature {
        message_digest: Some(HashOutput {
            algorithm: HashAlgorithm::Sha2256 as i32,
            digest: sha256.to_vec(),
        }),
        signature,
    })
}

/// The v0.3 bundle of `content` with its verification material, and its proto-JSON (one line).
pub fn bundle_v03(
    material: VerificationMaterial,
    content: Content,
) -> Result<(Bundle, String), serde_json::Error> {
    let bundle = Bundle {
        media_type: MEDIA_TYPE_V03.to_string(),
        verification_material: Some(material),
        content: Some(content),
    };
    let json = serde_json::to_string(&bundle)?;
    Ok((bundle, json))
}
