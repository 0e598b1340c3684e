//! Signing with a key into Sigstore bundles v0.3: a DSSE envelope (for in-toto Statements) or a
//! message signature over a blob's SHA-256. The bundle names the key by its id
//! (`verificationMaterial.publicKey.hint`, also the DSSE signature's `keyid`) and carries no
//! transparency-log entry. Keyless signing is `cavra-keyless`; `crate::signer` serves both.

use crate::keys::SigningKey;
use cavra_sigstore::bundle::Bundle;
use cavra_sigstore::dsse::pae;
use cavra_sigstore::write::{bundle_v03, dsse_content, message_content};
use sha2::{Digest, Sha256};
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::{
    VerificationMaterial, bundle::Content, verification_material,
};
use sigstore_protobuf_specs::dev::sigstore::common::v1::PublicKeyIdentifier;
use std::path::Path;

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The signer could not sign or could not produce its verification material.
    #[error("signing failed: {0}")]
    Signer(String),
    /// The bundle could not be written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        error: std::io::Error,
    },
}

/// A signed bundle: the protobuf message and its JSON, ready to write.
#[derive(Debug, Clone)]
pub struct SignedBundle {
    /// The bundle.
    pub bundle: Bundle,
    /// The bundle as proto-JSON (camelCase fields, base64 bytes), one line.
    pub json: String,
}

impl SignedBundle {
    /// Writes the JSON (with a final newline) to `path`, replacing an existing file.
    pub fn write(&self, path: &Path) -> Result<(), SignError> {
        let mut text = self.json.clone();
        text.push('\n');
        std::fs::write(path, text).map_err(|error| SignError::Io {
            path: path.display().to_string(),
            error,
        })
    }
}

/// Signs `payload` as a DSSE envelope of `payload_type` with a key: a v0.3 bundle whose
/// verification material is the key's id as hint, with no transparency-log entry.
pub fn sign_dsse(
    key: &SigningKey,
    payload_type: &str,
    payload: &[u8],
) -> Result<SignedBundle, SignError> {
    let sig = key.sign(&pae(payload_type, payload));
    finish(key, dsse_content(payload_type, payload, sig, key.key_id()))
}

/// Signs `bytes` with a key as a message signature (SHA-256 digest recorded in the bundle).
pub fn sign_blob(key: &SigningKey, bytes: &[u8]) -> Result<SignedBundle, SignError> {
    let sha256: [u8; 32] = Sha256::digest(bytes).into();
    finish(key, message_content(sha256, key.sign(bytes)))
}

/// Adds the key's id as verification material and serializes.
fn finish(key: &SigningKey, content: Content) -> Result<SignedBundle, SignError> {
    let material = VerificationMaterial {
        content: Some(verification_material::Content::PublicKey(
            PublicKeyIdentifier { hint: key.key_id() },
        )),
        tlog_entries: Vec::new(),
        timestamp_verification_data: None,
    };
    let (bundle, json) = bundle_v03(material, content)
        .map_err(|e| SignError::Signer(format!("cannot serialize the bundle: {e}")))?;
    Ok(SignedBundle { bundle, json })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyType;
    use base64::Engine;
    use cavra_sigstore::bundle::MEDIA_TYPE_V03;
    use cavra_sigstore::dsse::IN_TOTO_PAYLOAD_TYPE;
    use serde_json::Value;

    fn b64(v: &Value) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
    }

    #[test]
    fn dsse_bundles_have_the_v03_shape() {
        for kind in [KeyType::Ed25519, KeyType::P256] {
            let key = SigningKey::generate(kind).unwrap();
            let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
            let signed = sign_dsse(&key, IN_TOTO_PAYLOAD_TYPE, payload).unwrap();
            let v: Value = serde_json::from_str(&signed.json).unwrap();
            assert_eq!(v["mediaType"], MEDIA_TYPE_V03);
            assert_eq!(v["verificationMaterial"]["publicKey"]["hint"], key.key_id());
            let env = &v["dsseEnvelope"];
            assert_eq!(env["payloadType"], IN_TOTO_PAYLOAD_TYPE);
            assert_eq!(b64(&env["payload"]), payload);
            let sigs = env["signatures"].as_array().unwrap();
            assert_eq!(sigs.len(), 1);
            assert_eq!(sigs[0]["keyid"], key.key_id());
            let sig = b64(&sigs[0]["sig"]);
            let public = key.public_key();
            public
                .verify(&pae(IN_TOTO_PAYLOAD_TYPE, payload), &sig)
                .unwrap();
            assert!(
                public.verify(payload, &sig).is_err(),
                "signs the PAE, not the payload"
            );
            // Reads back with the verifier's parser.
            cavra_sigstore::bundle::parse(signed.json.as_bytes()).unwrap();
        }
    }

    #[test]
    fn blob_bundles_carry_the_sha256_and_a_signature_over_the_bytes() {
        let key = SigningKey::generate(KeyType::P256).unwrap();
        let signed = sign_blob(&key, b"artifact").unwrap();
        let v: Value = serde_json::from_str(&signed.json).unwrap();
        let ms = &v["messageSignature"];
        assert_eq!(ms["messageDigest"]["algorithm"], "SHA2_256");
        assert_eq!(
            b64(&ms["messageDigest"]["digest"]),
            Sha256::digest(b"artifact").to_vec()
        );
        key.public_key()
            .verify(b"artifact", &b64(&ms["signature"]))
            .unwrap();
        assert!(v.get("dsseEnvelope").is_none());
        cavra_sigstore::bundle::parse(signed.json.as_bytes()).unwrap();
    }

    #[test]
    fn writes_the_json_to_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate(KeyType::Ed25519).unwrap();
        let signed = sign_blob(&key, b"x").unwrap();
        let path = dir.path().join("b.sigstore.json");
        signed.write(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", signed.json)
        );
        let err = signed
            .write(&dir.path().join("no/such/dir/b.json"))
            .unwrap_err();
        assert!(err.to_string().contains("no/such/dir"), "{err}");
    }
}
