//! Other projects' verifiers accept what cavra signs, and reject the same tampered bundles that
//! cavra's own verifier rejects:
//! - npm `@sigstore/verify` (sigstore-js): the whole v0.3 bundle, offline, with the public key;
//! - PyPI `securesystemslib`: the DSSE envelope; PyPI `in-toto-attestation`: the Statement v1.
//!
//! The verifiers are installed by `.ci/install-verifiers.sh DIR` and found through
//! `CAVRA_VERIFIERS=DIR`. Without them these tests print a note and skip, except when `CI` is set:
//! then they fail.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cavra_attestation::keys::{KeyType, SigningKey};
use cavra_attestation::sign::{sign_blob, sign_dsse};
use cavra_sigstore::dsse::IN_TOTO_PAYLOAD_TYPE;
use cavra_sigstore::{Artifact, Expect, TrustRoot, VerifiedContent};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const ARTIFACT: &[u8] = b"hello from the gate toolkit\n";

/// A Statement about [`ARTIFACT`], like a gate verdict in shape.
fn statement() -> Vec<u8> {
    let digest = cavra_sigstore::key::hex_lower(&cavra_sigstore::key::sha256(ARTIFACT));
    serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "artifact.txt", "digest": {"sha256": digest}}],
        "predicateType": "https://cavra.dev/attestation/gate-verdict/v1",
        "predicate": {"verdict": "pass", "mode": "enforce", "findings": []}
    }))
    .unwrap()
}

/// The installed verifiers, or `None` (with a note) outside CI when they are missing.
struct Verifiers {
    node_path: PathBuf,
    python: PathBuf,
}

fn verifiers() -> Option<Verifiers> {
    let found = match std::env::var_os("CAVRA_VERIFIERS") {
        None => Err("CAVRA_VERIFIERS is not set".to_string()),
        Some(dir) => {
            let dir = PathBuf::from(dir);
            let node_path = dir.join("js/node_modules");
            let python = dir.join("venv/bin/python");
            if !node_path.join("@sigstore/verify").is_dir() {
                Err(format!("no @sigstore/verify in {}", node_path.display()))
            } else if !python.is_file() {
                Err(format!("no {}", python.display()))
            } else {
                Ok(Verifiers { node_path, python })
            }
        }
    };
    match found {
        Ok(v) => Some(v),
        Err(why) => {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "the interop tests need the verifiers in CI ({why}): run \
                     `bash .ci/install-verifiers.sh DIR` and set CAVRA_VERIFIERS=DIR"
                );
            }
            eprintln!(
                "note: skipping the interop tests: {why} (bash .ci/install-verifiers.sh DIR; \
                 CAVRA_VERIFIERS=DIR)"
            );
            None
        }
    }
}

fn tool(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tools")
        .join(name)
}

/// The outcome of one third-party verification: success, and what it printed.
fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("run a verifier");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

impl Verifiers {
    /// sigstore-js on the whole bundle.
    fn sigstore_js(&self, bundle: &Path, public: &Path, artifact: Option<&Path>) -> (bool, String) {
        let mut cmd = Command::new("node");
        cmd.env("NODE_PATH", &self.node_path)
            .arg(tool("verify_key_bundle.js"))
            .arg(bundle)
            .arg(public);
        if let Some(a) = artifact {
            cmd.arg(a);
        }
        run(&mut cmd)
    }

    /// securesystemslib on the DSSE envelope, then in-toto-attestation on the Statement.
    fn sslib(&self, bundle: &Path, public: &Path) -> (bool, String) {
        run(Command::new(&self.python)
            .arg(tool("verify_dsse_sslib.py"))
            .arg(bundle)
            .arg(public))
    }
}

/// A directory with the public key, the artifact and bundles written into it.
struct Case {
    dir: tempfile::TempDir,
    key: SigningKey,
}

impl Case {
    fn new(kind: KeyType) -> Case {
        let case = Case {
            dir: tempfile::tempdir().unwrap(),
            key: SigningKey::generate(kind).unwrap(),
        };
        std::fs::write(case.path("key.pub"), case.key.public_key_pem()).unwrap();
        std::fs::write(case.path("artifact.txt"), ARTIFACT).unwrap();
        case
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, json: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, json).unwrap();
        path
    }
}

/// The bundle with `edit` applied to its JSON.
fn tampered(json: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(json).unwrap();
    edit(&mut v);
    serde_json::to_string(&v).unwrap()
}

fn edit_b64(v: &mut Value, f: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = STANDARD.decode(v.as_str().unwrap()).unwrap();
    f(&mut bytes);
    *v = Value::String(STANDARD.encode(bytes));
}

/// cavra's own verifier, with the key.
fn ours(json: &str, key: &SigningKey, artifact: Option<&[u8]>) -> cavra_sigstore::Result<()> {
    cavra_sigstore::verify(
        json.as_bytes(),
        artifact.map(Artifact::Bytes),
        &Expect::Key(key.public_key()),
        &TrustRoot::public_good(),
    )
    .map(|_| ())
}

fn dsse_bundles_interoperate(kind: KeyType) {
    let case = Case::new(kind);
    let payload = statement();
    let signed = sign_dsse(&case.key, IN_TOTO_PAYLOAD_TYPE, &payload).unwrap();

    // Ours first: it must accept, return the exact payload, and check the subject.
    let verified = cavra_sigstore::verify(
        signed.json.as_bytes(),
        Some(Artifact::Bytes(ARTIFACT)),
        &Expect::Key(case.key.public_key()),
        &TrustRoot::public_good(),
    )
    .unwrap_or_else(|e| panic!("{kind}: cavra rejects its own bundle: {e}"));
    assert_eq!(
        verified.content,
        VerifiedContent::Dsse {
            payload_type: IN_TOTO_PAYLOAD_TYPE.into(),
            payload: payload.clone()
        }
    );
    assert!(
        ours(&signed.json, &case.key, Some(b"another artifact")).is_err(),
        "{kind}: an artifact that is not a subject"
    );

    let other = SigningKey::generate(kind).unwrap();
    let other_pub = case.write("other.pub", &other.public_key_pem());
    let bad_payload = tampered(&signed.json, |v| {
        edit_b64(&mut v["dsseEnvelope"]["payload"], |p| {
            let at = p.windows(4).position(|w| w == b"pass").unwrap();
            p[at..at + 4].copy_from_slice(b"fail");
        })
    });
    let bad_sig = tampered(&signed.json, |v| {
        edit_b64(&mut v["dsseEnvelope"]["signatures"][0]["sig"], |s| {
            let last = s.len() - 1;
            s[last / 2] ^= 0x01;
        })
    });
    let bad_type = tampered(&signed.json, |v| {
        v["dsseEnvelope"]["payloadType"] = Value::String("application/json".into());
    });

    // Ours rejects every tampered bundle, and a different key.
    for (what, json) in [
        ("payload", &bad_payload),
        ("signature", &bad_sig),
        ("payload type", &bad_type),
    ] {
        assert!(
            ours(json, &case.key, None).is_err(),
            "{kind}: cavra accepts a tampered {what}"
        );
    }
    assert!(
        ours(&signed.json, &other, None).is_err(),
        "{kind}: cavra accepts another key"
    );

    let Some(v) = verifiers() else { return };
    let good = case.write("good.sigstore.json", &signed.json);
    let public = case.path("key.pub");
    let artifact = case.path("artifact.txt");

    let (ok, out) = v.sigstore_js(&good, &public, None);
    assert!(ok, "{kind}: sigstore-js rejects our DSSE bundle:\n{out}");
    assert!(out.starts_with("OK "), "{out}");
    let (ok, out) = v.sigstore_js(&good, &public, Some(&artifact));
    assert!(ok, "{kind}: sigstore-js rejects the subject:\n{out}");
    let (ok, out) = v.sslib(&good, &public);
    assert!(ok, "{kind}: securesystemslib rejects our envelope:\n{out}");
    assert!(out.contains("DSSE signature OK"), "{out}");
    assert!(
        out.contains("in-toto Statement v1 valid")
            && out.contains("https://cavra.dev/attestation/gate-verdict/v1"),
        "{kind}: in-toto-attestation rejects our Statement:\n{out}"
    );

    for (what, json) in [
        ("payload", &bad_payload),
        ("signature", &bad_sig),
        ("payload type", &bad_type),
    ] {
        let path = case.write(&format!("bad-{}.json", what.replace(' ', "-")), json);
        let (ok, out) = v.sigstore_js(&path, &public, None);
        assert!(!ok, "{kind}: sigstore-js accepts a tampered {what}:\n{out}");
        assert!(out.starts_with("FAIL "), "{out}");
        let (ok, out) = v.sslib(&path, &public);
        assert!(
            !ok,
            "{kind}: securesystemslib accepts a tampered {what}:\n{out}"
        );
    }
    let (ok, out) = v.sigstore_js(&good, &other_pub, None);
    assert!(!ok, "{kind}: sigstore-js accepts another key:\n{out}");
    let (ok, out) = v.sslib(&good, &other_pub);
    assert!(!ok, "{kind}: securesystemslib accepts another key:\n{out}");
    // sigstore-js does not match an artifact against a DSSE Statement's subjects (that is left to
    // the caller's policy); cavra does, as checked above.
}

#[test]
fn ed25519_dsse_bundles_interoperate() {
    dsse_bundles_interoperate(KeyType::Ed25519);
}

#[test]
fn p256_dsse_bundles_interoperate() {
    dsse_bundles_interoperate(KeyType::P256);
}

/// P-256 message signatures verify in sigstore-js and ours. (Ed25519 message signatures are pure
/// Ed25519 over the file, as protobuf-specs' PKIX_ED25519 says; sigstore-js in Node cannot check
/// them, so only ours does.)
#[test]
fn blob_bundles_interoperate() {
    for kind in [KeyType::P256, KeyType::Ed25519] {
        let case = Case::new(kind);
        let signed = sign_blob(&case.key, ARTIFACT).unwrap();
        ours(&signed.json, &case.key, Some(ARTIFACT))
            .unwrap_or_else(|e| panic!("{kind}: cavra rejects its own blob bundle: {e}"));
        assert!(ours(&signed.json, &case.key, Some(b"other bytes")).is_err());
        let bad_sig = tampered(&signed.json, |v| {
            edit_b64(&mut v["messageSignature"]["signature"], |s| {
                let mid = s.len() / 2;
                s[mid] ^= 0x01;
            })
        });
        assert!(ours(&bad_sig, &case.key, Some(ARTIFACT)).is_err());

        if kind != KeyType::P256 {
            continue;
        }
        let Some(v) = verifiers() else { return };
        let good = case.write("blob.sigstore.json", &signed.json);
        let public = case.path("key.pub");
        let (ok, out) = v.sigstore_js(&good, &public, Some(&case.path("artifact.txt")));
        assert!(ok, "sigstore-js rejects our P-256 blob bundle:\n{out}");
        let other = case.write("other.txt", "other bytes\n");
        let (ok, out) = v.sigstore_js(&good, &public, Some(&other));
        assert!(!ok, "sigstore-js accepts another artifact:\n{out}");
        let bad = case.write("bad.sigstore.json", &bad_sig);
        let (ok, out) = v.sigstore_js(&bad, &public, Some(&case.path("artifact.txt")));
        assert!(!ok, "sigstore-js accepts a tampered signature:\n{out}");
    }
}

/// Our private keys, plain and passphrase-encrypted (PBES2, scrypt + AES-256-CBC), load in
/// Python `cryptography` (OpenSSL) with the same public key; a wrong passphrase fails there too.
#[test]
fn private_keys_load_in_python_cryptography() {
    const LOAD: &str = "\
import sys
from cryptography.hazmat.primitives import serialization as s
pem = open(sys.argv[1], 'rb').read()
password = sys.argv[2].encode() if len(sys.argv) > 2 else None
key = s.load_pem_private_key(pem, password=password)
print(key.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode())
";
    let Some(v) = verifiers() else { return };
    for kind in [KeyType::Ed25519, KeyType::P256] {
        let case = Case::new(kind);
        let plain = case.write("plain.key", &case.key.to_pkcs8_pem().unwrap());
        let encrypted = case.write(
            "encrypted.key",
            &case
                .key
                .to_encrypted_pkcs8_pem(b"interop passphrase")
                .unwrap(),
        );
        let public = case.key.public_key_pem();
        let (ok, out) = run(Command::new(&v.python).args(["-c", LOAD]).arg(&plain));
        assert!(ok, "{kind}: cryptography cannot read our key:\n{out}");
        assert_eq!(out.trim(), public.trim(), "{kind}");
        let (ok, out) = run(Command::new(&v.python)
            .args(["-c", LOAD])
            .arg(&encrypted)
            .arg("interop passphrase"));
        assert!(ok, "{kind}: cryptography cannot decrypt our key:\n{out}");
        assert_eq!(out.trim(), public.trim(), "{kind}");
        let (ok, out) = run(Command::new(&v.python)
            .args(["-c", LOAD])
            .arg(&encrypted)
            .arg("wrong passphrase"));
        assert!(
            !ok,
            "{kind}: cryptography decrypts with a wrong passphrase:\n{out}"
        );
    }
}
