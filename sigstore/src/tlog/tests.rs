//! `verify_entry` over the sigstore-conformance bundles.

use super::*;
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::{Bundle, verification_material};
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::TransparencyLogEntry;
use std::path::PathBuf;

fn case_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance/bundle-verify")
        .join(name)
}

/// The case's trusted root (or the public-good one).
fn trust_root(name: &str) -> Result<TrustRoot> {
    match std::fs::read(case_dir(name).join("trusted_root.json")) {
        Ok(json) => TrustRoot::from_json(&json),
        Err(_) => Ok(TrustRoot::public_good()),
    }
}

/// Runs `verify_entry` on every entry of a conformance case, with the case's trusted root and
/// the bundle's own signer (its certificate, or `key.pub`).
fn check_case(name: &str) -> Result<Vec<Option<Time>>> {
    let dir = case_dir(name);
    let bundle: Bundle =
        serde_json::from_slice(&std::fs::read(dir.join("bundle.sigstore.json")).unwrap())
            .map_err(|e| Error::Bundle(e.to_string()))?;
    let root = trust_root(name)?;
    let vm = bundle.verification_material.as_ref().unwrap();
    let key = match std::fs::read(dir.join("key.pub")) {
        Ok(pem) => match matching::Logged::from_pem(&pem)? {
            matching::Logged::PublicKey(spki) => Some(PublicKey::from_spki_der(&spki)?),
            matching::Logged::Certificate(_) => panic!("key.pub holds a certificate"),
        },
        Err(_) => None,
    };
    let leaf = match vm.content.as_ref().unwrap() {
        verification_material::Content::Certificate(c) => c.raw_bytes.clone(),
        verification_material::Content::X509CertificateChain(c) => c
            .certificates
            .first()
            .map(|c| c.raw_bytes.clone())
            .unwrap_or_default(),
        verification_material::Content::PublicKey(_) => vec![],
    };
    let signer = match &key {
        Some(k) => EntrySigner::Key(k),
        None => EntrySigner::Certificate(&leaf),
    };
    let expected = Expected {
        content: bundle.content.as_ref().unwrap(),
        signer,
    };
    vm.tlog_entries
        .iter()
        .map(|e| verify_entry(e, &expected, &root))
        .collect()
}

fn ok(name: &str) {
    if let Err(e) = check_case(name) {
        panic!("{name}: {e}");
    }
}

fn fails(name: &str, why: &str) {
    match check_case(name) {
        Ok(t) => panic!("{name}: expected `{why}`, got {t:?}"),
        Err(e) => assert!(
            e.to_string().contains(why),
            "{name}: expected `{why}`, got `{e}`"
        ),
    }
}

#[test]
fn rekor_v1_cases() {
    for name in [
        "happy-path-v0.1",
        "happy-path-v0.2",
        "happy-path-v0.3",
        "happy-path-v0.3-new-mediaType",
        "happy-path-intoto-in-dsse-v3",
        "intoto-with-custom-trust-root",
        "managed-key-happy-path",
        "managed-key-and-trusted-root",
        "trust-root-tlog-validity-end-inclusive",
        // These fail for reasons outside the log entry.
        "wrong-material_fail",
        "integrated-time-in-future_fail",
        "intoto-expired-certificate_fail",
        "intoto-set-outside-signing-cert-validity_fail",
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        "bundle-with-root-cert_fail",
    ] {
        ok(name);
    }
    let times = check_case("happy-path-v0.1").unwrap();
    assert_eq!(times, vec![Some(Time::from_secs(1_689_177_396))]);
}

#[test]
fn rekor_v1_failures() {
    for (name, why) in [
        ("bundle-from-wrong-instance_fail", "not in the trusted root"),
        ("bundle-negative-log-index_fail", "negative log index"),
        (
            "checkpoint-bad-keyhint_fail",
            "no signature by the log's key",
        ),
        ("checkpoint-wrong-roothash_fail", "is for tree size"),
        (
            "invalid-checkpoint-signature_fail",
            "does not verify with the log key",
        ),
        (
            "inclusion-proof-corrupted-hash_fail",
            "does not lead to its root hash",
        ),
        (
            "invalid-inclusion-proof_fail",
            "does not lead to its root hash",
        ),
        ("set-invalid-signature_fail", "(SET) does not verify"),
        ("incorrect-public-key_fail", "different signer"),
        ("message-digest-mismatch_fail", "different artifact digest"),
        ("signature-mismatch_fail", "different signature"),
        ("wrong-hashedrekord-artifact_fail", "different signature"),
        (
            "wrong-hashedrekord-cert-and-sig_fail",
            "different signature",
        ),
        ("wrong-hashedrekord-entry_fail", "different signature"),
        ("dsse-mismatch-envelope_fail", "different signature"),
        ("dsse-mismatch-sig_fail", "different signature"),
        ("intoto-log-entry-mismatch_fail", "different signature"),
        ("bundle-unknown-version_fail", "missing field"),
    ] {
        fails(name, why);
    }
}

#[test]
fn rekor_v2_cases() {
    for name in [
        "rekor2-happy-path",
        "rekor2-dsse-happy-path",
        "rekor2-checkpoint-cosigned",
        "rekor2-checkpoint-multiple-cosigs",
        "rekor2-checkpoint-origin-not-first",
        "rekor2-checkpoint-two-sigs-cosigned",
        "rekor2-checkpoint-two-sigs-from-origin",
        "bundle-with-sct-with-extensions",
        "trust-root-tsa-validity-end-inclusive",
        "rekor2-timestamp-with-embedded-cert",
        "rekor2-timestamp-without-embedded-cert",
        "rekor2-timestamp-with-expired-cert-chain",
    ] {
        assert_eq!(check_case(name).unwrap(), vec![None], "{name}");
    }
    for (name, why) in [
        (
            "rekor2-checkpoint-missing-log-signature_fail",
            "no signature lines",
        ),
        (
            "rekor2-checkpoint-missing-origin_fail",
            "need origin, size and root hash",
        ),
        (
            "rekor2-checkpoint-missing-root-hash_fail",
            "need origin, size and root hash",
        ),
        (
            "rekor2-checkpoint-missing-size_fail",
            "need origin, size and root hash",
        ),
        (
            "rekor2-checkpoint-no-matching-signature_fail",
            "no signature by the log's key",
        ),
        ("rekor2-no-inclusion-proof_fail", "needs an inclusion proof"),
        ("rekor2-dsse-invalid-sig_fail", "different signature"),
        ("rekor2-dsse-mismatch-envelope_fail", "different signature"),
        ("rekor2-dsse-mismatch-sig_fail", "different signature"),
    ] {
        fails(name, why);
    }
}

/// A conformance bundle, its first entry and trusted root, to tamper with.
fn parts(name: &str) -> (Bundle, TransparencyLogEntry, TrustRoot) {
    let json = std::fs::read(case_dir(name).join("bundle.sigstore.json")).unwrap();
    let bundle: Bundle = serde_json::from_slice(&json).unwrap();
    let entry = bundle.verification_material.as_ref().unwrap().tlog_entries[0].clone();
    (bundle, entry, trust_root(name).unwrap())
}

fn leaf(bundle: &Bundle) -> Vec<u8> {
    match bundle
        .verification_material
        .as_ref()
        .unwrap()
        .content
        .as_ref()
        .unwrap()
    {
        verification_material::Content::Certificate(c) => c.raw_bytes.clone(),
        verification_material::Content::X509CertificateChain(c) => {
            c.certificates[0].raw_bytes.clone()
        }
        verification_material::Content::PublicKey(_) => panic!("not a certificate bundle"),
    }
}

fn verify_parts(
    bundle: &Bundle,
    entry: &TransparencyLogEntry,
    root: &TrustRoot,
) -> Result<Option<Time>> {
    let leaf = leaf(bundle);
    let expected = Expected {
        content: bundle.content.as_ref().unwrap(),
        signer: EntrySigner::Certificate(&leaf),
    };
    verify_entry(entry, &expected, root)
}

fn err_of(r: Result<Option<Time>>) -> String {
    r.expect_err("should fail").to_string()
}

#[test]
fn set_needs_a_log_key_valid_at_the_integrated_time() {
    let (bundle, entry, root) = parts("trust-root-tlog-validity-end-inclusive");
    assert!(verify_parts(&bundle, &entry, &root).is_ok());
    let mut early = root.clone();
    for log in &mut early.tlogs {
        log.validity.end = Some(Time::from_secs(entry.integrated_time - 1));
    }
    assert!(err_of(verify_parts(&bundle, &entry, &early)).contains("outside the validity"));
    let mut late = root;
    for log in &mut late.tlogs {
        log.validity.start = Time::from_secs(entry.integrated_time + 1);
    }
    assert!(err_of(verify_parts(&bundle, &entry, &late)).contains("outside the validity"));
}

#[test]
fn set_covers_time_index_and_body() {
    let (bundle, entry, root) = parts("happy-path-v0.1");
    let mut moved = entry.clone();
    moved.integrated_time += 1;
    assert!(err_of(verify_parts(&bundle, &moved, &root)).contains("(SET) does not verify"));
    let mut moved = entry.clone();
    moved.log_index += 1;
    assert!(err_of(verify_parts(&bundle, &moved, &root)).contains("(SET) does not verify"));
    let mut future = entry;
    future.integrated_time = Time::now().secs + 3600;
    assert!(err_of(verify_parts(&bundle, &future, &root)).contains("in the future"));
}

#[test]
fn an_entry_needs_an_anchor() {
    let (bundle, entry, root) = parts("happy-path-v0.3");
    // The SET alone anchors a Rekor v1 entry (bundle v0.1); the caller asks for the proof.
    let mut set_only = entry.clone();
    set_only.inclusion_proof = None;
    assert!(verify_parts(&bundle, &set_only, &root).unwrap().is_some());
    // The proof with its checkpoint alone: valid, but vouches for no time.
    let mut proof_only = entry.clone();
    proof_only.inclusion_promise = None;
    assert_eq!(verify_parts(&bundle, &proof_only, &root).unwrap(), None);
    // A proof without checkpoint anchors nothing.
    let mut bare = proof_only.clone();
    bare.inclusion_proof.as_mut().unwrap().checkpoint = None;
    assert!(err_of(verify_parts(&bundle, &bare, &root)).contains("neither"));
    let mut nothing = proof_only;
    nothing.inclusion_proof = None;
    assert!(err_of(verify_parts(&bundle, &nothing, &root)).contains("neither"));
}

#[test]
fn rekor_v2_needs_the_checkpoint() {
    let (bundle, mut entry, root) = parts("rekor2-happy-path");
    entry.inclusion_proof.as_mut().unwrap().checkpoint = None;
    assert!(err_of(verify_parts(&bundle, &entry, &root)).contains("needs an inclusion proof"));
}

#[test]
fn kind_version_must_match_the_body() {
    let (bundle, mut entry, root) = parts("happy-path-v0.3");
    entry.kind_version = Some(KindVersion {
        kind: "dsse".into(),
        version: "0.0.1".into(),
    });
    assert!(
        err_of(verify_parts(&bundle, &entry, &root))
            .contains("bundle says the entry is `dsse 0.0.1`")
    );
    entry.kind_version = Some(KindVersion {
        kind: "hashedrekord".into(),
        version: "0.0.2".into(),
    });
    assert!(err_of(verify_parts(&bundle, &entry, &root)).contains("not a Rekor v2 entry"));
    entry.kind_version = Some(KindVersion {
        kind: "rekord".into(),
        version: "0.0.1".into(),
    });
    assert!(err_of(verify_parts(&bundle, &entry, &root)).contains("unsupported entry kind"));
    entry.kind_version = None;
    assert!(err_of(verify_parts(&bundle, &entry, &root)).contains("no kindVersion"));
}

#[test]
fn rekor_v2_dsse_digest_is_the_pae_hash() {
    let (mut bundle, entry, root) = parts("rekor2-dsse-happy-path");
    assert!(verify_parts(&bundle, &entry, &root).is_ok());
    let Some(Content::DsseEnvelope(env)) = bundle.content.as_mut() else {
        panic!()
    };
    env.payload_type = "application/other".into();
    assert!(err_of(verify_parts(&bundle, &entry, &root)).contains("DSSE envelope's PAE"));
}

#[test]
fn the_signer_must_be_the_logged_one() {
    let (bundle, entry, root) = parts("managed-key-happy-path");
    let content = bundle.content.as_ref().unwrap();
    let other = PublicKey::P256(
        *p256::ecdsa::SigningKey::from_slice(&[7; 32])
            .unwrap()
            .verifying_key(),
    );
    let expected = Expected {
        content,
        signer: EntrySigner::Key(&other),
    };
    assert!(err_of(verify_entry(&entry, &expected, &root)).contains("different signer"));
    // A certificate bundle checked against a key (and the reverse) does not match either.
    let (bundle, entry, root) = parts("happy-path-v0.3");
    let expected = Expected {
        content: bundle.content.as_ref().unwrap(),
        signer: EntrySigner::Key(&other),
    };
    assert!(err_of(verify_entry(&entry, &expected, &root)).contains("different signer"));
}

#[test]
fn content_kind_must_match_the_entry_kind() {
    let (bundle, entry, root) = parts("happy-path-v0.3");
    let (dsse_bundle, ..) = parts("happy-path-intoto-in-dsse-v3");
    let leaf = leaf(&bundle);
    let expected = Expected {
        content: dsse_bundle.content.as_ref().unwrap(),
        signer: EntrySigner::Certificate(&leaf),
    };
    assert!(err_of(verify_entry(&entry, &expected, &root)).contains("holds a DSSE envelope"));
}
