//! Mutation fuzzing of bundle verification: the conformance bundles with bytes flipped,
//! inserted, deleted and truncated (the JSON layer), and with a byte flipped inside a decoded
//! base64 field (certificates, SCTs, log bodies, proofs, checkpoints, RFC 3161 tokens, DSSE
//! payloads and signatures), verified against their trusted roots. Nothing may panic, and a
//! mutated signature or payload of a valid bundle must never verify.
//! Rounds: `CAVRA_FUZZ_ROUNDS` (default 2,000).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cavra_sigstore::{Artifact, Expect, PublicKey, TrustRoot, verify};
use cavra_testkit::fuzz::Rng;
use serde_json::Value;
use std::path::{Path, PathBuf};

const DEF_ID: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEF_ISS: &str = "https://token.actions.githubusercontent.com";

struct Case {
    name: String,
    bundle: Vec<u8>,
    artifact: Vec<u8>,
    expect: Expect,
    root: TrustRoot,
}

fn cases() -> Vec<Case> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance/bundle-verify");
    let default_artifact = std::fs::read(dir.join("a.txt")).unwrap();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|d| {
            let read = |n: &str| std::fs::read(d.join(n)).ok();
            let text = |n: &str| read(n).map(|b| String::from_utf8_lossy(&b).trim().to_string());
            let expect = match read("key.pub") {
                Some(pem) => Expect::Key(PublicKey::from_pem(&String::from_utf8_lossy(&pem)).ok()?),
                None => Expect::Identity {
                    identity: text("identity").unwrap_or_else(|| DEF_ID.into()),
                    issuer: text("issuer").unwrap_or_else(|| DEF_ISS.into()),
                },
            };
            let root = match read("trusted_root.json") {
                Some(json) => TrustRoot::from_json(&json).ok()?,
                None => TrustRoot::public_good(),
            };
            Some(Case {
                name: d.file_name().unwrap().to_string_lossy().into_owned(),
                bundle: read("bundle.sigstore.json")?,
                artifact: read("artifact").unwrap_or_else(|| default_artifact.clone()),
                expect,
                root,
            })
        })
        .collect()
}

/// Every string leaf of `v` that decodes as base64, by JSON pointer.
fn base64_leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| base64_leaves(x, format!("{at}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| base64_leaves(x, format!("{at}/{i}"), out)),
        Value::String(s) if s.len() >= 8 && STANDARD.decode(s).is_ok() => out.push(at),
        _ => {}
    }
}

fn byte_mutation(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len());
        match rng.below(5) {
            0 => b[at] ^= 1 << rng.below(8),
            1 => b.insert(at, b"{}[]\":,0-e\\"[rng.below(11)]),
            2 if !b.is_empty() => {
                b.remove(at.min(b.len() - 1));
            }
            3 => b.truncate(at),
            _ => {
                let from = rng.below(input.len());
                let len = rng.below(64).min(input.len() - from);
                b.splice(at..at, input[from..from + len].iter().copied());
            }
        }
        if b.is_empty() {
            break;
        }
    }
    b
}

/// Flips one bit inside the decoded bytes of the field at `pointer`.
fn field_mutation(rng: &mut Rng, doc: &Value, pointer: &str) -> Vec<u8> {
    let mut doc = doc.clone();
    if let Some(Value::String(s)) = doc.pointer_mut(pointer) {
        let mut raw = STANDARD.decode(s.as_bytes()).unwrap();
        if !raw.is_empty() {
            let at = rng.below(raw.len());
            raw[at] ^= 1 << rng.below(8);
        }
        *s = STANDARD.encode(raw);
    }
    serde_json::to_vec(&doc).unwrap()
}

fn run(case: &Case, bundle: &[u8], digest: bool) -> Result<(), String> {
    let sha = cavra_sigstore::key::sha256(&case.artifact);
    let artifact = if digest {
        Artifact::Sha256(sha)
    } else {
        Artifact::Bytes(&case.artifact)
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        verify(bundle, Some(artifact), &case.expect, &case.root).map(|_| ())
    }))
    .map_err(|_| {
        format!(
            "{}: verify panicked on a mutant:\n{}",
            case.name,
            String::from_utf8_lossy(bundle)
        )
    })?
    .map_err(|e| e.to_string())
}

#[test]
fn mutated_bundles_never_panic_and_forged_signatures_never_verify() {
    let rounds = cavra_testkit::fuzz::rounds(2_000);
    let cases = cases();
    assert!(cases.len() >= 68, "only {} cases loaded", cases.len());
    let mut rng = Rng(0x5EED_CAFE_F00D_D00D);
    let mut accepted = 0usize;
    for round in 0..rounds {
        let case = &cases[rng.below(cases.len())];
        let digest = rng.below(2) == 0;
        let doc: Option<Value> = serde_json::from_slice(&case.bundle).ok();
        let (mutant, signed_field) = match (&doc, rng.below(3)) {
            (Some(doc), 0 | 1) => {
                let mut leaves = Vec::new();
                base64_leaves(doc, String::new(), &mut leaves);
                if leaves.is_empty() {
                    continue;
                }
                let pointer = &leaves[rng.below(leaves.len())];
                let signed = pointer.ends_with("/sig")
                    || pointer.ends_with("/payload")
                    || pointer.ends_with("messageSignature/signature");
                (field_mutation(&mut rng, doc, pointer), signed)
            }
            _ => (byte_mutation(&mut rng, &case.bundle), false),
        };
        match run(case, &mutant, digest) {
            Ok(()) => {
                accepted += 1;
                assert!(
                    !signed_field,
                    "round {round}: {} verified with a forged signature or payload",
                    case.name
                );
            }
            Err(e) if e.contains("panicked") => panic!("round {round}: {e}"),
            Err(_) => {}
        }
    }
    println!("{rounds} mutants, {accepted} still verified (mutations of unsigned bytes)");
}
