//! The sigstore-conformance `bundle-verify` cases (tests/fixtures/conformance/bundle-verify,
//! see its README.md), run in file mode (artifact bytes) and digest mode (artifact SHA-256).
//! A directory whose name ends in `_fail` must be rejected; any other must verify.

use cavra_sigstore::{Artifact, Expect, PublicKey, TrustRoot, verify};
use std::path::{Path, PathBuf};

/// The least number of the 70 cases each mode must get right.
const MIN_PASSING: usize = 69;

/// `_fail` cases we knowingly accept, each with the reason. At most one.
const ALLOWED_FALSE_ACCEPTS: &[&str] = &[
    // (none)
];

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    File,
    Digest,
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance/bundle-verify")
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Runs one case; `Ok` when the verifier accepted the bundle.
fn run(dir: &Path, mode: Mode) -> Result<(), String> {
    let bundle = std::fs::read(dir.join("bundle.sigstore.json")).map_err(|e| e.to_string())?;
    let artifact_path = if dir.join("artifact").exists() {
        dir.join("artifact")
    } else {
        dir.join("../a.txt")
    };
    let artifact_bytes = std::fs::read(&artifact_path).map_err(|e| e.to_string())?;
    let root = match std::fs::read(dir.join("trusted_root.json")) {
        Ok(json) => TrustRoot::from_json(&json).map_err(|e| e.to_string())?,
        Err(_) => TrustRoot::public_good(),
    };
    let expect = match read_trimmed(&dir.join("key.pub")) {
        Some(pem) => Expect::Key(PublicKey::from_pem(&pem).map_err(|e| e.to_string())?),
        None => Expect::Identity {
            identity: read_trimmed(&dir.join("identity"))
                .unwrap_or_else(|| DEFAULT_IDENTITY.to_string()),
            issuer: read_trimmed(&dir.join("issuer")).unwrap_or_else(|| DEFAULT_ISSUER.to_string()),
        },
    };
    let artifact = match mode {
        Mode::File => Artifact::Bytes(&artifact_bytes),
        Mode::Digest => Artifact::Sha256(cavra_sigstore::key::sha256(&artifact_bytes)),
    };
    verify(&bundle, Some(artifact), &expect, &root)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn check_mode(mode: Mode) {
    let mut names: Vec<String> = std::fs::read_dir(cases_dir())
        .expect("conformance cases present")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("bundle.sigstore.json").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 70, "expected the 70 bundle-verify cases");
    let mut passed = 0;
    let mut wrongly_accepted = Vec::new();
    for name in &names {
        let must_fail = name.ends_with("_fail");
        let outcome = run(&cases_dir().join(name), mode);
        match (must_fail, outcome) {
            (false, Ok(())) => passed += 1,
            (true, Err(why)) => {
                passed += 1;
                println!("ok (rejected) {mode:?} {name}: {why}");
            }
            (false, Err(why)) => println!("FAIL {mode:?} {name}: rejected: {why}"),
            (true, Ok(())) => {
                println!("FAIL {mode:?} {name}: accepted, must be rejected");
                if !ALLOWED_FALSE_ACCEPTS.contains(&name.as_str()) {
                    wrongly_accepted.push(name.clone());
                }
            }
        }
    }
    println!(
        "{mode:?} mode: {passed} of {} conformance cases pass",
        names.len()
    );
    assert!(
        wrongly_accepted.is_empty(),
        "{mode:?} mode accepted _fail cases: {wrongly_accepted:?}"
    );
    assert!(
        passed >= MIN_PASSING,
        "{mode:?} mode: {passed} of {} pass, {MIN_PASSING} required",
        names.len()
    );
}

#[test]
fn conformance_file_mode() {
    check_mode(Mode::File);
}

#[test]
fn conformance_digest_mode() {
    check_mode(Mode::Digest);
}
