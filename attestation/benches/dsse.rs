//! Ed25519 DSSE signing and verification of a verdict-sized (~4 KB) in-toto Statement, one core.
//! Verification is measured twice: the bare DSSE signature check (PAE + Ed25519), and the full
//! `cavra_sigstore::verify` of a key-signed bundle (JSON parse, checks, signature, payload).
//! Goal: at least 20,000 verifications per second. Run: `cargo bench -p cavra-attestation`.

use cavra_attestation::keys::{KeyType, SigningKey};
use cavra_attestation::sign::sign_dsse;
use cavra_sigstore::dsse::{IN_TOTO_PAYLOAD_TYPE, pae};
use cavra_sigstore::{Expect, TrustRoot};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

/// A gate-verdict-shaped Statement of about 4 KB: a commit subject and a dozen findings.
fn statement() -> Vec<u8> {
    let findings: Vec<_> = (0..17)
        .map(|i| {
            serde_json::json!({
                "rule": format!("rule-{i}"),
                "decision": "require_approval",
                "severity": "high",
                "path": format!(".github/workflows/workflow-{i}.yml"),
                "line": 10 + i,
                "message": "CI configuration runs with repository secrets",
                "approvers": ["security"],
            })
        })
        .collect();
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "git+https://github.com/acme/app", "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"}}],
        "predicateType": "https://cavra.dev/attestation/gate-verdict/v1",
        "predicate": {
            "repository": "acme/app",
            "base": "89abcdef0123456789abcdef0123456789abcdef",
            "head": "0123456789abcdef0123456789abcdef01234567",
            "mergeBase": "89abcdef0123456789abcdef0123456789abcdef",
            "policy": {"source": "refs/heads/main:.cavra/policy.yaml", "sha256": "ab".repeat(32)},
            "mode": "enforce",
            "verdict": "needs_approval",
            "counts": {"changes": 42, "findings": 12},
            "findings": findings,
            "tool": {"name": "cavra", "version": "0.1.0"},
            "time": "2026-11-23T12:00:00Z",
        }
    });
    serde_json::to_vec(&statement).unwrap()
}

fn bench(c: &mut Criterion) {
    let payload = statement();
    let key = SigningKey::generate(KeyType::Ed25519).unwrap();
    let public = key.public_key();
    let signed = sign_dsse(&key, IN_TOTO_PAYLOAD_TYPE, &payload).unwrap();
    let sig = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, &payload));
    let expect = Expect::Key(public.clone());
    let root = TrustRoot::public_good();

    let mut group = c.benchmark_group(format!("ed25519 dsse, {} byte statement", payload.len()));
    group.throughput(Throughput::Elements(1));
    group.bench_function("sign bundle", |b| {
        b.iter(|| sign_dsse(&key, IN_TOTO_PAYLOAD_TYPE, black_box(&payload)).unwrap())
    });
    group.bench_function("verify dsse signature", |b| {
        b.iter(|| {
            public
                .verify(&pae(IN_TOTO_PAYLOAD_TYPE, black_box(&payload)), &sig)
                .unwrap()
        })
    });
    match cavra_sigstore::verify(signed.json.as_bytes(), None, &expect, &root) {
        Ok(_) => {
            group.bench_function("verify bundle (cavra_sigstore::verify)", |b| {
                b.iter(|| {
                    cavra_sigstore::verify(black_box(signed.json.as_bytes()), None, &expect, &root)
                        .unwrap()
                })
            });
        }
        Err(e) => eprintln!("note: not measuring cavra_sigstore::verify: {e}"),
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
