//! The signed content of a bundle: a message signature over the artifact, or a DSSE envelope
//! (with, for in-toto statements, the artifact among the subjects).

use crate::dsse;
use crate::error::{Error, Result};
use crate::key::{HashAlgorithm as KeyHash, PublicKey, hex_lower, sha256};
use crate::verify::{Artifact, VerifiedContent};
use sha2::{Digest, Sha384, Sha512};
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::bundle::Content;
use sigstore_protobuf_specs::dev::sigstore::common::v1::{HashAlgorithm, MessageSignature};
use sigstore_protobuf_specs::io::intoto::Envelope;

/// The artifact's SHA-256 digest, whichever way it was given.
pub(crate) fn artifact_sha256(artifact: Artifact<'_>) -> [u8; 32] {
    match artifact {
        Artifact::Bytes(bytes) => sha256(bytes),
        Artifact::Sha256(digest) => digest,
    }
}

/// Checks the content's signature with `key` and binds it to `artifact` when given.
pub(crate) fn verify(
    content: &Content,
    key: &PublicKey,
    artifact: Option<Artifact<'_>>,
) -> Result<VerifiedContent> {
    match content {
        Content::MessageSignature(ms) => {
            let artifact = artifact.ok_or_else(|| {
                Error::Artifact(
                    "a message signature can only be checked against the artifact, none given"
                        .into(),
                )
            })?;
            verify_message_signature(ms, key, artifact)?;
            Ok(VerifiedContent::MessageSignature)
        }
        Content::DsseEnvelope(env) => verify_dsse(env, key, artifact),
    }
}

/// The bytes an RFC 3161 timestamp must cover: the bundle's signature.
pub(crate) fn signature_bytes(content: &Content) -> &[u8] {
    match content {
        Content::MessageSignature(ms) => &ms.signature,
        Content::DsseEnvelope(env) => env
            .signatures
            .first()
            .map(|s| s.sig.as_slice())
            .unwrap_or(&[]),
    }
}

fn verify_message_signature(
    ms: &MessageSignature,
    key: &PublicKey,
    artifact: Artifact<'_>,
) -> Result<()> {
    if let Some(hint) = ms.message_digest.as_ref() {
        check_message_digest(hint.algorithm, &hint.digest, artifact)?;
    }
    let signed = match artifact {
        Artifact::Bytes(bytes) => key.verify(bytes, &ms.signature),
        Artifact::Sha256(digest) => match key.hash_algorithm() {
            Some(KeyHash::Sha256) => key.verify_prehashed(&digest, &ms.signature),
            Some(KeyHash::Sha384) => Err(Error::Signature(format!(
                "a {} key signs the artifact's SHA-384 digest; its SHA-256 digest is not enough, \
                 give the artifact's bytes",
                key.kind()
            ))),
            None => Err(Error::Signature(format!(
                "a {} signature covers the whole artifact; its digest is not enough, give the \
                 artifact's bytes",
                key.kind()
            ))),
        },
    };
    signed.map_err(|e| match e {
        Error::Signature(why) => {
            Error::Signature(format!("message signature over the artifact {why}"))
        }
        other => other,
    })
}

/// The bundle's `messageDigest` is an unauthenticated hint, but it must agree with the artifact.
fn check_message_digest(algorithm: i32, digest: &[u8], artifact: Artifact<'_>) -> Result<()> {
    let alg = HashAlgorithm::try_from(algorithm).unwrap_or(HashAlgorithm::Unspecified);
    let actual: Vec<u8> = match (alg, artifact) {
        (HashAlgorithm::Sha2256, a) => artifact_sha256(a).to_vec(),
        (HashAlgorithm::Sha2384, Artifact::Bytes(b)) => Sha384::digest(b).to_vec(),
        (HashAlgorithm::Sha2512, Artifact::Bytes(b)) => Sha512::digest(b).to_vec(),
        (HashAlgorithm::Sha2384 | HashAlgorithm::Sha2512, Artifact::Sha256(_)) => {
            return Err(Error::Artifact(format!(
                "the bundle's messageDigest is {}; the artifact is known only by its SHA-256",
                alg.as_str_name()
            )));
        }
        _ => {
            return Err(Error::Artifact(format!(
                "unsupported messageDigest algorithm {algorithm}"
            )));
        }
    };
    if actual != digest {
        return Err(Error::Artifact(format!(
            "the bundle's messageDigest ({} {}) is not the artifact's ({})",
            alg.as_str_name(),
            hex_lower(digest),
            hex_lower(&actual)
        )));
    }
    Ok(())
}

fn verify_dsse(
    env: &Envelope,
    key: &PublicKey,
    artifact: Option<Artifact<'_>>,
) -> Result<VerifiedContent> {
    let sig = match env.signatures.as_slice() {
        [one] => one,
        many => {
            return Err(Error::Bundle(format!(
                "dsseEnvelope must have exactly one signature, found {}",
                many.len()
            )));
        }
    };
    key.verify(&dsse::pae(&env.payload_type, &env.payload), &sig.sig)
        .map_err(|e| match e {
            Error::Signature(why) => Error::Signature(format!("DSSE envelope signature {why}")),
            other => other,
        })?;
    if let Some(artifact) = artifact {
        if env.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
            return Err(Error::Artifact(format!(
                "cannot match the artifact against a DSSE payload of type `{}` (only `{}` \
                 statements name subjects)",
                env.payload_type,
                dsse::IN_TOTO_PAYLOAD_TYPE
            )));
        }
        check_subject(&env.payload, &artifact_sha256(artifact))?;
    }
    Ok(VerifiedContent::Dsse {
        payload_type: env.payload_type.clone(),
        payload: env.payload.clone(),
    })
}

/// Some subject of the in-toto statement must have `digest.sha256` equal to the artifact's.
fn check_subject(payload: &[u8], artifact_sha256: &[u8; 32]) -> Result<()> {
    let statement: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| Error::Artifact(format!("the in-toto statement is not JSON: {e}")))?;
    let subjects = statement
        .get("subject")
        .and_then(|s| s.as_array())
        .ok_or_else(|| Error::Artifact("the in-toto statement has no subject list".into()))?;
    let want = hex_lower(artifact_sha256);
    let found: Vec<&str> = subjects
        .iter()
        .filter_map(|s| s.get("digest")?.get("sha256")?.as_str())
        .collect();
    if found.iter().any(|d| d.eq_ignore_ascii_case(&want)) {
        return Ok(());
    }
    Err(Error::Artifact(format!(
        "no subject of the in-toto statement has the artifact's sha256 {want} (subjects: {})",
        if found.is_empty() {
            "none with a sha256 digest".to_string()
        } else {
            found.join(", ")
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;

    fn key() -> (p256::ecdsa::SigningKey, PublicKey) {
        let sk = p256::ecdsa::SigningKey::from_bytes(&[9u8; 32].into()).unwrap();
        let pk = PublicKey::P256(*sk.verifying_key());
        (sk, pk)
    }

    fn message(sk: &p256::ecdsa::SigningKey, artifact: &[u8]) -> Content {
        let sig: p256::ecdsa::Signature = sk.sign(artifact);
        Content::MessageSignature(MessageSignature {
            message_digest: None,
            signature: sig.to_der().as_bytes().to_vec(),
        })
    }

    #[test]
    fn message_signature_in_file_and_digest_mode() {
        let (sk, pk) = key();
        let content = message(&sk, b"artifact");
        verify(&content, &pk, Some(Artifact::Bytes(b"artifact"))).unwrap();
        verify(&content, &pk, Some(Artifact::Sha256(sha256(b"artifact")))).unwrap();
        assert!(verify(&content, &pk, Some(Artifact::Bytes(b"artifacT"))).is_err());
        assert!(verify(&content, &pk, Some(Artifact::Sha256(sha256(b"x")))).is_err());
        assert!(verify(&content, &pk, None).is_err());
    }

    #[test]
    fn message_digest_hint_must_match() {
        let (sk, pk) = key();
        let Content::MessageSignature(mut ms) = message(&sk, b"artifact") else {
            unreachable!()
        };
        ms.message_digest = Some(
            sigstore_protobuf_specs::dev::sigstore::common::v1::HashOutput {
                algorithm: HashAlgorithm::Sha2256 as i32,
                digest: sha256(b"other").to_vec(),
            },
        );
        let err = verify(
            &Content::MessageSignature(ms),
            &pk,
            Some(Artifact::Bytes(b"artifact")),
        )
        .unwrap_err();
        assert!(err.to_string().contains("messageDigest"), "{err}");
    }

    #[test]
    fn dsse_subject_must_be_the_artifact() {
        let (sk, pk) = key();
        let payload = format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"a","digest":{{"sha256":"{}"}}}}]}}"#,
            hex_lower(&sha256(b"artifact"))
        )
        .into_bytes();
        let sig: p256::ecdsa::Signature = sk.sign(&dsse::pae(dsse::IN_TOTO_PAYLOAD_TYPE, &payload));
        let mut env = Envelope {
            payload: payload.clone(),
            payload_type: dsse::IN_TOTO_PAYLOAD_TYPE.into(),
            signatures: vec![sigstore_protobuf_specs::io::intoto::Signature {
                sig: sig.to_der().as_bytes().to_vec(),
                keyid: String::new(),
            }],
        };
        let content = Content::DsseEnvelope(env.clone());
        verify(&content, &pk, Some(Artifact::Bytes(b"artifact"))).unwrap();
        verify(&content, &pk, None).unwrap();
        let err = verify(&content, &pk, Some(Artifact::Bytes(b"other"))).unwrap_err();
        assert!(matches!(err, Error::Artifact(_)), "{err}");
        // A changed payload byte breaks the signature.
        env.payload[5] ^= 1;
        let err = verify(&Content::DsseEnvelope(env), &pk, None).unwrap_err();
        assert!(matches!(err, Error::Signature(_)), "{err}");
    }
}
