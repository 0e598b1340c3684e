//! Bundles signed keyless against the mocks verify with our own verifier
//! (`cavra_sigstore::verify`), given a trusted root naming the test CA and the test log key.

mod support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cavra_keyless::{IdentityToken, KeylessSigner, SignedBundle};
use cavra_sigstore::{Artifact, Expect, Time, TrustRoot, VerifiedContent, VerifiedSigner, verify};
use serde_json::json;
use sha2::{Digest, Sha256};
use support::Services;
use support::jwt::{self, email_claims, github_claims};

/// A trusted root with the test CA (intermediate, root), the mock log's key and the test CT log
/// (whose SCT the mock Fulcio embeds in each leaf).
fn trust_root(services: &Services) -> TrustRoot {
    let time = |secs: u64| Time::from_secs(secs as i64).to_string();
    let ca = &services.ca;
    let json = json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": services.rekor.url(),
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": STANDARD.encode(&services.rekor.key_spki),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": { "start": time(ca.valid_from) },
            },
            "logId": { "keyId": STANDARD.encode(services.rekor.log_id) },
        }],
        "certificateAuthorities": [{
            "subject": { "organization": "cavra-test", "commonName": "cavra-test-root" },
            "uri": services.fulcio.url(),
            "certChain": { "certificates": [
                { "rawBytes": STANDARD.encode(&ca.intermediate_der) },
                { "rawBytes": STANDARD.encode(&ca.root_der) },
            ]},
            "validFor": { "start": time(ca.valid_from), "end": time(ca.valid_until) },
        }],
        "ctlogs": [{
            "baseUrl": "https://ctfe.cavra.test/test",
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": STANDARD.encode(&ca.ct_log_spki),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": { "start": time(ca.valid_from) },
            },
            "logId": { "keyId": STANDARD.encode(Sha256::digest(&ca.ct_log_spki)) },
        }],
        "timestampAuthorities": [],
    });
    TrustRoot::from_json(json.to_string().as_bytes()).expect("test trusted root parses")
}

fn sign(services: &Services, claims: &serde_json::Value) -> KeylessSigner {
    let token = IdentityToken::new(jwt::jwt(claims)).unwrap();
    KeylessSigner::new(services.config(), token).unwrap()
}

fn expect(signed: &SignedBundle) -> Expect {
    Expect::Identity {
        identity: signed.identity.clone(),
        issuer: signed.issuer.clone(),
    }
}

#[test]
fn dsse_statement_bundle_verifies() {
    let services = Services::start();
    let root = trust_root(&services);
    let artifact = b"gate verdict for cavra-dev/cavra@0123abc\n";
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{ "name": "verdict.json", "digest": { "sha256": hex::encode(Sha256::digest(artifact)) } }],
        "predicateType": "https://cavra.dev/gate-verdict/v1",
        "predicate": { "decision": "pass" },
    })
    .to_string();
    let signed = sign(&services, &github_claims(600))
        .sign_dsse(
            cavra_sigstore::dsse::IN_TOTO_PAYLOAD_TYPE,
            statement.as_bytes(),
        )
        .unwrap();

    let verified = verify(
        signed.bundle_json.as_bytes(),
        Some(Artifact::Bytes(artifact)),
        &expect(&signed),
        &root,
    )
    .expect("the keyless DSSE bundle verifies");
    assert_eq!(
        verified.media_type,
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        verified.signer,
        VerifiedSigner::Certificate {
            identity:
                "https://github.com/cavra-dev/cavra/.github/workflows/gate.yml@refs/heads/main"
                    .into(),
            issuer: jwt::GITHUB_ISSUER.into(),
        }
    );
    assert_eq!(
        verified.content,
        VerifiedContent::Dsse {
            payload_type: "application/vnd.in-toto+json".into(),
            payload: statement.into_bytes(),
        }
    );
    assert!(
        verified
            .timestamps
            .iter()
            .any(|(_, t)| t.secs == signed.integrated_time)
    );

    // And it does not verify for someone else, or for another artifact.
    let other = Expect::Identity {
        identity: "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main".into(),
        issuer: jwt::GITHUB_ISSUER.into(),
    };
    assert!(
        verify(
            signed.bundle_json.as_bytes(),
            Some(Artifact::Bytes(artifact)),
            &other,
            &root
        )
        .is_err()
    );
    assert!(
        verify(
            signed.bundle_json.as_bytes(),
            Some(Artifact::Bytes(b"other")),
            &expect(&signed),
            &root
        )
        .is_err()
    );
}

#[test]
fn blob_bundle_verifies() {
    let services = Services::start();
    let root = trust_root(&services);
    let blob = b"release packet\n";
    let signed = sign(&services, &email_claims(600)).sign_blob(blob).unwrap();
    let verified = verify(
        signed.bundle_json.as_bytes(),
        Some(Artifact::Bytes(blob)),
        &expect(&signed),
        &root,
    )
    .expect("the keyless blob bundle verifies");
    assert_eq!(verified.content, VerifiedContent::MessageSignature);
    let digest: [u8; 32] = Sha256::digest(blob).into();
    verify(
        signed.bundle_json.as_bytes(),
        Some(Artifact::Sha256(digest)),
        &expect(&signed),
        &root,
    )
    .expect("and by digest");

    // A root that does not trust the mock log rejects it.
    let mut untrusting = root.clone();
    untrusting.tlogs.clear();
    assert!(
        verify(
            signed.bundle_json.as_bytes(),
            Some(Artifact::Bytes(blob)),
            &expect(&signed),
            &untrusting
        )
        .is_err()
    );
}

#[test]
fn a_leaf_without_embedded_sct_fails_a_root_with_ct_logs() {
    // A detached SCT cannot travel in a v0.3 bundle; a verifier that requires SCTs rejects it.
    let services = Services::start();
    services.fulcio.state.lock().unwrap().detached_sct = true;
    let root = trust_root(&services);
    let blob = b"x";
    let signed = sign(&services, &github_claims(600))
        .sign_blob(blob)
        .unwrap();
    let err = verify(
        signed.bundle_json.as_bytes(),
        Some(Artifact::Bytes(blob)),
        &expect(&signed),
        &root,
    )
    .unwrap_err();
    assert!(err.to_string().contains("SCT"), "{err}");
}

#[test]
fn a_root_without_ct_logs_does_not_ask_for_an_sct() {
    // A private Fulcio without a CT log: its trusted root lists no CT logs, so the same
    // SCT-less bundle verifies; the root's owner opted out of certificate transparency.
    let services = Services::start();
    services.fulcio.state.lock().unwrap().detached_sct = true;
    let mut root = trust_root(&services);
    root.ctlogs.clear();
    let blob = b"x";
    let signed = sign(&services, &github_claims(600))
        .sign_blob(blob)
        .unwrap();
    verify(
        signed.bundle_json.as_bytes(),
        Some(Artifact::Bytes(blob)),
        &expect(&signed),
        &root,
    )
    .unwrap();
}
