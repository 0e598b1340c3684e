//! `cavra gate --attest`: the verdict signed as an in-toto Statement in a Sigstore bundle, on
//! real repositories, verified by `cavra attest verify` as a user would.

mod common;

use cavra_tests::TestRepo;
use common::{cavra, text};
use serde_json::Value;

use std::process::Command;

const PREDICATE: &str = "https://cavra.dev/attestation/gate-verdict/v1";

/// A repository whose `feature` head changes `path`, and a key pair in `keys/` beside it.
fn setup(path: &str, content: &str) -> (TestRepo, tempfile::TempDir) {
    let repo = TestRepo::new();
    repo.write("README.md", "x\n");
    repo.commit("base");
    repo.branch("feature");
    repo.write(path, content);
    repo.commit("change");
    let keys = tempfile::tempdir().unwrap();
    let prefix = keys.path().join("ci");
    let out = cavra(
        keys.path(),
        &["keys", "generate", "--out", prefix.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    (repo, keys)
}

fn head(repo: &TestRepo) -> String {
    git2::Repository::open(repo.path())
        .unwrap()
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .id()
        .to_string()
}

#[test]
fn every_verdict_is_signed_and_verifies_with_its_exit_code() {
    for (path, content, code, verdict) in [
        ("src/lib.rs", "pub fn x() {}\n", 0, "pass"),
        ("keys/server.pem", "k\n", 1, "fail"),
        (
            ".github/workflows/ci.yml",
            "on: push\n",
            2,
            "needs_approval",
        ),
    ] {
        let (repo, keys) = setup(path, content);
        let key = keys.path().join("ci.key");
        let public = keys.path().join("ci.pub");
        let bundle = keys.path().join("verdict.sigstore.json");
        let out = cavra(
            repo.path(),
            &[
                "gate",
                "--attest",
                bundle.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(code), "{}", text(&out));
        assert!(
            text(&out).contains("verdict attestation written"),
            "{}",
            text(&out)
        );

        let out = cavra(
            repo.path(),
            &[
                "attest",
                "verify",
                bundle.to_str().unwrap(),
                "--key",
                public.to_str().unwrap(),
                "--predicate-type",
                PREDICATE,
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let statement: Value = serde_json::from_slice(&out.stdout).unwrap();
        let sha = head(&repo);
        assert_eq!(statement["subject"][0]["digest"]["gitCommit"], sha.as_str());
        assert_eq!(statement["predicate"]["verdict"], verdict);
        assert_eq!(statement["predicate"]["head"], sha.as_str());
        assert_eq!(
            statement["predicate"]["policy"]["source"],
            "builtin:baseline (default)"
        );

        // A verdict edited after signing no longer verifies.
        let mut doc: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
        let forged = String::from_utf8(out.stdout.clone())
            .unwrap()
            .replace("\"mode\":\"enforce\"", "\"mode\":\"audit\"");
        assert!(forged.contains("\"mode\":\"audit\""));
        use base64::Engine;
        doc["dsseEnvelope"]["payload"] = base64::engine::general_purpose::STANDARD
            .encode(forged.trim())
            .into();
        std::fs::write(&bundle, doc.to_string()).unwrap();
        let out = cavra(
            repo.path(),
            &[
                "attest",
                "verify",
                bundle.to_str().unwrap(),
                "--key",
                public.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains("signature"), "{}", text(&out));
    }
}

#[test]
fn the_key_can_come_from_an_environment_variable() {
    let (repo, keys) = setup("src/lib.rs", "pub fn x() {}\n");
    let pem = std::fs::read_to_string(keys.path().join("ci.key")).unwrap();
    let bundle = keys.path().join("v.json");
    let out = Command::new(env!("CARGO_BIN_EXE_cavra"))
        .args([
            "gate",
            "--attest",
            bundle.to_str().unwrap(),
            "--key",
            "env:CAVRA_SIGNING_KEY",
        ])
        .current_dir(repo.path())
        .env("CAVRA_SIGNING_KEY", &pem)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("PRIVATE KEY"), "{}", text(&out));
    let pub_key = keys.path().join("ci.pub");
    let out = cavra(
        repo.path(),
        &[
            "attest",
            "verify",
            bundle.to_str().unwrap(),
            "--key",
            pub_key.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn signing_problems_stop_the_gate_before_it_runs() {
    let (repo, keys) = setup("src/lib.rs", "pub fn x() {}\n");
    let bundle = keys.path().join("v.json");
    let b = bundle.to_str().unwrap();
    // (arguments, exit code, what the error says): 3 for the caller's mistakes, 4 for a file
    // that cannot be read.
    let cases: [(&[&str], i32, &str); 4] = [
        (&["gate", "--attest", b], 3, "--key KEY or --keyless"),
        (&["gate", "--key", "ci.key"], 3, "add --attest FILE"),
        (
            &["gate", "--attest", b, "--key", "/nonexistent/ci.key"],
            4,
            "/nonexistent/ci.key",
        ),
        (&["gate", "--attest", b, "--keyless"], 3, "identity token"),
    ];
    for (args, code, expected) in cases {
        let out = cavra(repo.path(), args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(expected), "{args:?}: {}", text(&out));
        assert!(!bundle.exists(), "{args:?} wrote a bundle");
    }
}
