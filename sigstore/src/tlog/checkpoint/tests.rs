//! Signed notes made with keys generated here: parsing, key ids, cosignatures and tampering.

use super::*;
use crate::time::{Time, Validity};
use signature_v3::Signer;

const ORIGIN: &str = "log.example/test";
const ROOT: [u8; 32] = [0x5a; 32];

fn ed25519() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[1; 32])
}

fn log(key: PublicKey) -> LogKey {
    LogKey {
        base_url: "https://log.example".into(),
        log_id: crate::key::sha256(&key.to_spki_der()).to_vec(),
        checkpoint_key_id: None,
        key,
        validity: Validity {
            start: Time::from_secs(0),
            end: None,
        },
    }
}

fn ed_log() -> LogKey {
    log(PublicKey::Ed25519(ed25519().verifying_key()))
}

fn text(size: u64, root: &[u8; 32]) -> String {
    format!("{ORIGIN}\n{size}\n{}\n", B64.encode(root))
}

/// A signature line by `name` with key id `id` over `text`.
fn line(name: &str, id: [u8; 4], sig: &[u8]) -> String {
    let mut bytes = id.to_vec();
    bytes.extend_from_slice(sig);
    format!("\u{2014} {name} {}\n", B64.encode(bytes))
}

fn ed_line(text: &str) -> String {
    let sig = ed25519().sign(text.as_bytes()).to_bytes();
    line(ORIGIN, key_id(&ed_log(), ORIGIN), &sig)
}

fn proof(size: i64, root: &[u8; 32]) -> InclusionProof {
    InclusionProof {
        log_index: 0,
        root_hash: root.to_vec(),
        tree_size: size,
        hashes: vec![],
        checkpoint: None,
    }
}

fn check(envelope: &str, log: &LogKey) -> Result<()> {
    verify(envelope, &proof(736, &ROOT), &[log])
}

fn err(envelope: &str, log: &LogKey) -> String {
    check(envelope, log).expect_err("should fail").to_string()
}

#[test]
fn ed25519_key_id_follows_the_signed_note_spec() {
    // SHA-256(name || 0x0A || 0x01 || key)[:4], checked against Rekor v2 staging (log id
    // f30d5a99... for log2025-alpha1.rekor.sigstage.dev).
    let raw = B64
        .decode("MCowBQYDK2VwAyEAPn+AREHoBaZ7wgS1zBqpxmLSGnyhxXj4lFxSdWVB8o8=")
        .unwrap();
    let staging = log(PublicKey::from_spki_der(&raw).unwrap());
    assert_eq!(
        key_id(&staging, "log2025-alpha1.rekor.sigstage.dev"),
        [0xf3, 0x0d, 0x5a, 0x99]
    );
    assert_ne!(
        key_id(&staging, "log2025-alpha1.rekor.github.dev"),
        [0xf3, 0x0d, 0x5a, 0x99]
    );
}

#[test]
fn ecdsa_key_id_is_the_spki_hash_or_the_checkpoint_key_id() {
    let sk = p256::ecdsa::SigningKey::from_slice(&[3; 32]).unwrap();
    let mut l = log(PublicKey::P256(*sk.verifying_key()));
    let spki_hash = crate::key::sha256(&l.key.to_spki_der());
    assert_eq!(key_id(&l, "any name").as_slice(), &spki_hash[..4]);
    l.checkpoint_key_id = Some(vec![9, 8, 7, 6, 5]);
    assert_eq!(key_id(&l, "any name"), [9, 8, 7, 6]);
}

#[test]
fn a_note_signed_by_the_log_verifies() {
    let t = text(736, &ROOT);
    let l = ed_log();
    check(&format!("{t}\n{}", ed_line(&t)), &l).unwrap();
}

#[test]
fn ecdsa_notes_verify_like_rekor_v1() {
    let sk = p256::ecdsa::SigningKey::from_slice(&[3; 32]).unwrap();
    let l = log(PublicKey::P256(*sk.verifying_key()));
    let t = format!(
        "{ORIGIN} - 1234\n736\n{}\nTimestamp: 1689177396617352539\n",
        B64.encode(ROOT)
    );
    let sig: p256::ecdsa::Signature = sk.sign(t.as_bytes());
    let name = "log.example";
    check(
        &format!(
            "{t}\n{}",
            line(name, key_id(&l, name), sig.to_der().as_bytes())
        ),
        &l,
    )
    .unwrap();
}

#[test]
fn cosignatures_by_unknown_keys_are_ignored_in_any_order() {
    let t = text(736, &ROOT);
    let l = ed_log();
    let witness = line("witness.example", [1, 2, 3, 4], &[0; 72]);
    check(&format!("{t}\n{witness}{}", ed_line(&t)), &l).unwrap();
    check(&format!("{t}\n{}{witness}{witness}", ed_line(&t)), &l).unwrap();
}

#[test]
fn a_failing_signature_by_the_log_key_rejects_the_note() {
    let t = text(736, &ROOT);
    let l = ed_log();
    let bad = line(ORIGIN, key_id(&l, ORIGIN), &[0; 64]);
    assert!(err(&format!("{t}\n{bad}"), &l).contains("does not verify"));
    assert!(err(&format!("{t}\n{}{bad}", ed_line(&t)), &l).contains("does not verify"));
}

#[test]
fn no_signature_by_the_log_is_rejected() {
    let t = text(736, &ROOT);
    let l = ed_log();
    let other = ed25519_dalek::SigningKey::from_bytes(&[2; 32]);
    let other_log = log(PublicKey::Ed25519(other.verifying_key()));
    let sig = other.sign(t.as_bytes()).to_bytes();
    let by_other = line(ORIGIN, key_id(&other_log, ORIGIN), &sig);
    assert!(err(&format!("{t}\n{by_other}"), &l).contains("no signature by the log's key"));
    // The log's signature under another key name has another key id.
    let sig = ed25519().sign(t.as_bytes()).to_bytes();
    let renamed = line("other.example", key_id(&l, ORIGIN), &sig);
    assert!(err(&format!("{t}\n{renamed}"), &l).contains("no signature by the log's key"));
}

#[test]
fn tampered_text_fails() {
    let t = text(736, &ROOT);
    let l = ed_log();
    let sig = ed_line(&t);
    let forged = text(737, &ROOT);
    assert!(err(&format!("{forged}\n{sig}"), &l).contains("does not verify"));
}

#[test]
fn the_checkpoint_must_state_the_proofs_size_and_root() {
    let l = ed_log();
    let t = text(737, &ROOT);
    assert!(err(&format!("{t}\n{}", ed_line(&t)), &l).contains("tree size 737"));
    let t = text(736, &[1; 32]);
    assert!(err(&format!("{t}\n{}", ed_line(&t)), &l).contains("another root hash"));
}

#[test]
fn malformed_notes_fail() {
    let l = ed_log();
    let t = text(736, &ROOT);
    let sig = ed_line(&t);
    let root = B64.encode(ROOT);
    for (envelope, why) in [
        (format!("{t}{sig}"), "no blank line"),
        (format!("{t}\n"), "no signature lines"),
        (
            format!("{t}\n{}", sig.trim_end()),
            "does not end in a newline",
        ),
        (
            format!("{t}\n{}", sig.replace('\u{2014}', "-")),
            "signature line",
        ),
        (
            format!("{t}\n{}", sig.replacen(' ', "  ", 2)),
            "signature line",
        ),
        (format!("{t}\n\u{2014} {ORIGIN} AAAA\n"), "signature line"),
        (format!("{t}\n\u{2014} {ORIGIN} !!!\n"), "signature line"),
        (format!("{t}\r\n{sig}"), "control character"),
        (
            format!("{ORIGIN}\n736\n\n{sig}"),
            "need origin, size and root hash",
        ),
        (format!("\n736\n{root}\n\n{sig}"), "empty origin"),
        (
            format!("{ORIGIN}\n0736\n{root}\n\n{sig}"),
            "not a decimal number",
        ),
        (
            format!("{ORIGIN}\n+736\n{root}\n\n{sig}"),
            "not a decimal number",
        ),
        (
            format!("{ORIGIN}\n-1\n{root}\n\n{sig}"),
            "not a decimal number",
        ),
        (format!("{ORIGIN}\n736\nAAAA\n\n{sig}"), "not 32 bytes"),
    ] {
        let got = err(&envelope, &l);
        assert!(
            got.contains(why),
            "{envelope:?}: expected `{why}`, got `{got}`"
        );
    }
    let many = sig.repeat(MAX_SIGNATURES + 1);
    assert!(err(&format!("{t}\n{many}"), &l).contains("signature lines"));
}

#[test]
fn parses_extension_lines() {
    let t = format!("{ORIGIN}\n0\n{}\nTimestamp: 1\nmore\n", B64.encode(ROOT));
    let cp = parse_checkpoint(&t).unwrap();
    assert_eq!(
        cp,
        Checkpoint {
            origin: ORIGIN,
            size: 0,
            root_hash: ROOT
        }
    );
    let empty_ext = format!("{ORIGIN}\n0\n{}\n\nmore\n", B64.encode(ROOT));
    assert!(parse_checkpoint(&empty_ext).is_err());
}
