//! `cavra keys`, `cavra attest` and `cavra verify-bundle`, run as a user would: key files and
//! their modes, passphrases, sign -> verify round trips, tampering, and bad input of every kind
//! (a clear error naming the file, a non-zero exit, never a panic).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A P-384 key: a valid PKCS#8 key of a type cavra does not sign with.
const P384_KEY: &str = include_str!("../../attestation/tests/fixtures/keys/p384.key.pem");
const RSA_KEY: &str = include_str!("../../attestation/tests/fixtures/keys/rsa.key.pem");
const ARTIFACT: &str = "hello from the gate toolkit\n";
const ARTIFACT_SHA256: &str = "3a441f927ce7c04af0d5ac04b2305439d4ced69f2f644b9676693cf4ec10e032";
const PREDICATE: &str = "https://cavra.dev/attestation/gate-verdict/v1";

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        let dir = Dir(tempfile::tempdir().unwrap());
        dir.write("artifact.txt", ARTIFACT);
        dir.write(
            "statement.json",
            &format!(
                r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"artifact.txt","digest":{{"sha256":"{ARTIFACT_SHA256}"}}}}],"predicateType":"{PREDICATE}","predicate":{{"verdict":"pass"}}}}"#
            ),
        );
        dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    /// Runs cavra in this directory with `env` added and the passphrase variables cleared.
    fn cavra_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cavra"));
        cmd.args(args)
            .current_dir(self.0.path())
            .env_remove("CAVRA_KEY_PASSPHRASE")
            .env_remove("CAVRA_SIGNING_KEY");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run(cmd.output().expect("run cavra"))
    }

    fn cavra(&self, args: &[&str]) -> Run {
        self.cavra_env(args, &[])
    }

    /// `keys generate --out NAME`: the key id.
    fn keypair(&self, name: &str, kind: &str) -> String {
        let run = self.cavra(&["keys", "generate", "--type", kind, "--out", name]);
        run.code(0);
        run.stdout().trim().to_string()
    }
}

struct Run(Output);

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    /// Asserts the exit code, and that nothing panicked.
    fn code(&self, want: i32) -> &Run {
        assert_eq!(
            self.0.status.code(),
            Some(want),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        assert!(!self.stderr().contains("panicked"), "{}", self.stderr());
        self
    }

    /// Asserts that stderr contains every one of `parts`.
    fn says(&self, parts: &[&str]) -> &Run {
        for part in parts {
            assert!(
                self.stderr().contains(part),
                "expected {part:?} in stderr:\n{}",
                self.stderr()
            );
        }
        self
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn keys_generate_writes_an_owner_only_key_and_refuses_to_overwrite() {
    let dir = Dir::new();
    let id = dir.keypair("ci", "ed25519");
    assert_eq!(id.len(), 64, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert!(
        dir.read("ci.key")
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert!(dir.read("ci.pub").starts_with("-----BEGIN PUBLIC KEY-----"));
    #[cfg(unix)]
    {
        assert_eq!(mode(&dir.path("ci.key")), 0o600);
        assert_eq!(
            mode(&dir.path("ci.pub")) & 0o022,
            0,
            "nobody else may write it"
        );
    }
    // Both halves give the same id; so does the key in an environment variable.
    assert_eq!(
        dir.cavra(&["keys", "id", "ci.pub"]).code(0).stdout().trim(),
        id
    );
    assert_eq!(
        dir.cavra(&["keys", "id", "ci.key"]).code(0).stdout().trim(),
        id
    );
    let pem = dir.read("ci.key");
    let run = dir.cavra_env(
        &["keys", "id", "env:CAVRA_SIGNING_KEY"],
        &[("CAVRA_SIGNING_KEY", &pem)],
    );
    assert_eq!(run.code(0).stdout().trim(), id);
    assert!(!run.stdout().contains("PRIVATE") && !run.stderr().contains("PRIVATE"));

    let before = dir.read("ci.key");
    dir.cavra(&["keys", "generate", "--out", "ci"])
        .code(3)
        .says(&["ci.key", "already exists", "--force"]);
    assert_eq!(dir.read("ci.key"), before, "untouched");
    // Only the .pub exists: still refused, and no .key is written.
    std::fs::remove_file(dir.path("ci.key")).unwrap();
    dir.cavra(&["keys", "generate", "--out", "ci"])
        .code(3)
        .says(&["ci.pub", "already exists"]);
    assert!(!dir.path("ci.key").exists());
    let new_id = dir.keypair_forced("ci");
    assert_ne!(new_id, id);
    #[cfg(unix)]
    assert_eq!(mode(&dir.path("ci.key")), 0o600);

    let p256 = dir.keypair("ec", "p256");
    assert_eq!(
        dir.cavra(&["keys", "id", "ec.key"]).code(0).stdout().trim(),
        p256
    );
    dir.cavra(&["keys", "generate", "--type", "rsa", "--out", "r"])
        .code(3)
        .says(&["rsa"]);
}

impl Dir {
    fn keypair_forced(&self, name: &str) -> String {
        let run = self.cavra(&["keys", "generate", "--force", "--out", name]);
        run.code(0);
        run.stdout().trim().to_string()
    }
}

#[test]
fn encrypted_keys_need_the_right_passphrase() {
    let dir = Dir::new();
    dir.cavra(&["keys", "generate", "--encrypt", "--out", "enc"])
        .code(3)
        .says(&["CAVRA_KEY_PASSPHRASE"]);
    assert!(!dir.path("enc.key").exists());

    let secret = "tr0ub4dor&3-passphrase";
    let run = dir.cavra_env(
        &[
            "keys",
            "generate",
            "--type",
            "p256",
            "--encrypt",
            "--out",
            "enc",
        ],
        &[("CAVRA_KEY_PASSPHRASE", secret)],
    );
    let id = run.code(0).stdout().trim().to_string();
    assert!(run.stderr().contains("encrypted"), "{}", run.stderr());
    assert!(
        dir.read("enc.key")
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    );

    dir.cavra(&["keys", "id", "enc.key"]).code(3).says(&[
        "enc.key",
        "encrypted",
        "CAVRA_KEY_PASSPHRASE",
    ]);
    let wrong = dir.cavra_env(
        &["keys", "id", "enc.key"],
        &[("CAVRA_KEY_PASSPHRASE", "not-the-passphrase")],
    );
    wrong.code(3).says(&["enc.key", "wrong passphrase"]);
    assert!(!wrong.stderr().contains("not-the-passphrase"));
    let right = dir.cavra_env(
        &["keys", "id", "enc.key"],
        &[("CAVRA_KEY_PASSPHRASE", secret)],
    );
    assert_eq!(right.code(0).stdout().trim(), id);
    // Another variable, by name.
    let named = dir.cavra_env(
        &["keys", "id", "--passphrase-env", "MY_PASS", "enc.key"],
        &[("MY_PASS", secret)],
    );
    assert_eq!(named.code(0).stdout().trim(), id);

    // Signing with it works only with the passphrase.
    dir.cavra(&[
        "attest",
        "sign",
        "--key",
        "enc.key",
        "artifact.txt",
        "--out",
        "a.json",
    ])
    .code(3)
    .says(&["encrypted"]);
    dir.cavra_env(
        &[
            "attest",
            "sign",
            "--key",
            "enc.key",
            "artifact.txt",
            "--out",
            "a.json",
        ],
        &[("CAVRA_KEY_PASSPHRASE", secret)],
    )
    .code(0);
    dir.cavra(&[
        "attest",
        "verify",
        "a.json",
        "--key",
        "enc.pub",
        "artifact.txt",
    ])
    .code(0);
}

#[test]
fn sign_then_verify_a_statement_and_a_blob() {
    let dir = Dir::new();
    for kind in ["ed25519", "p256"] {
        let id = dir.keypair(kind, kind);
        let key = format!("{kind}.key");
        let public = format!("{kind}.pub");
        let bundle = format!("{kind}.statement.sigstore.json");
        let run = dir.cavra(&[
            "attest",
            "sign",
            "--key",
            &key,
            "--in-toto",
            "statement.json",
            "--out",
            &bundle,
        ]);
        run.code(0).says(&[&id, &bundle]);
        let json: serde_json::Value = serde_json::from_str(&dir.read(&bundle)).unwrap();
        assert_eq!(
            json["mediaType"],
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        assert_eq!(
            json["verificationMaterial"]["publicKey"]["hint"],
            id.as_str()
        );
        assert_eq!(json["dsseEnvelope"]["signatures"][0]["keyid"], id.as_str());

        // The verified Statement is printed exactly as signed.
        let run = dir.cavra(&["attest", "verify", &bundle, "--key", &public]);
        assert_eq!(run.code(0).stdout().trim(), dir.read("statement.json"));
        run.says(&[PREDICATE, &id]);
        // With the artifact, by file or digest, and the predicate type.
        dir.cavra(&[
            "attest",
            "verify",
            &bundle,
            "--key",
            &public,
            "artifact.txt",
        ])
        .code(0);
        let digest = format!("sha256:{ARTIFACT_SHA256}");
        dir.cavra(&[
            "attest",
            "verify",
            &bundle,
            "--key",
            &public,
            "--predicate-type",
            PREDICATE,
            &digest,
        ])
        .code(0);
        dir.cavra(&[
            "attest",
            "verify",
            &bundle,
            "--key",
            &public,
            "--predicate-type",
            "https://slsa.dev/provenance/v1",
        ])
        .code(1)
        .says(&["predicateType", PREDICATE, "https://slsa.dev/provenance/v1"]);
        let other = format!("sha256:{}", "0".repeat(64));
        dir.cavra(&["attest", "verify", &bundle, "--key", &public, &other])
            .code(1)
            .says(&[&bundle, "does not verify"]);

        // A blob: a one-line summary with the digest.
        let blob = format!("{kind}.blob.sigstore.json");
        dir.cavra(&[
            "attest",
            "sign",
            "--key",
            &key,
            "artifact.txt",
            "--out",
            &blob,
        ])
        .code(0);
        let json: serde_json::Value = serde_json::from_str(&dir.read(&blob)).unwrap();
        assert_eq!(
            json["messageSignature"]["messageDigest"]["algorithm"],
            "SHA2_256"
        );
        let run = dir.cavra(&["attest", "verify", &blob, "--key", &public, "artifact.txt"]);
        let out = run.code(0).stdout();
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(out.contains(ARTIFACT_SHA256) && out.contains(&id), "{out}");
        dir.cavra(&[
            "attest",
            "verify",
            &blob,
            "--key",
            &public,
            "--predicate-type",
            PREDICATE,
            "artifact.txt",
        ])
        .code(1)
        .says(&["message signature", "not an in-toto Statement"]);
        dir.write("changed.txt", "hello from the gate toolkit!\n");
        dir.cavra(&["attest", "verify", &blob, "--key", &public, "changed.txt"])
            .code(1)
            .says(&["does not verify"]);
    }
}

#[test]
fn keys_from_an_environment_variable_never_touch_disk() {
    let dir = Dir::new();
    let id = dir.keypair("k", "ed25519");
    let pem = dir.read("k.key");
    std::fs::remove_file(dir.path("k.key")).unwrap();
    let run = dir.cavra_env(
        &[
            "attest",
            "sign",
            "--key",
            "env:CAVRA_SIGNING_KEY",
            "--in-toto",
            "statement.json",
            "--out",
            "s.json",
        ],
        &[("CAVRA_SIGNING_KEY", &pem)],
    );
    run.code(0).says(&[&id]);
    let names: Vec<String> = std::fs::read_dir(dir.0.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains("key") || n == "k.pub"),
        "{names:?}"
    );
    dir.cavra(&["attest", "verify", "s.json", "--key", "k.pub"])
        .code(0);
    dir.cavra(&[
        "attest",
        "sign",
        "--key",
        "env:CAVRA_SIGNING_KEY",
        "artifact.txt",
        "--out",
        "b.json",
    ])
    .code(3)
    .says(&["environment variable CAVRA_SIGNING_KEY is not set"]);
}

#[test]
fn tampered_bundles_and_other_keys_fail_with_a_reason() {
    let dir = Dir::new();
    dir.keypair("k", "ed25519");
    dir.keypair("other", "ed25519");
    dir.cavra(&[
        "attest",
        "sign",
        "--key",
        "k.key",
        "--in-toto",
        "statement.json",
        "--out",
        "s.json",
    ])
    .code(0);
    let good: serde_json::Value = serde_json::from_str(&dir.read("s.json")).unwrap();

    let mut bad = good.clone();
    let payload = bad["dsseEnvelope"]["payload"].as_str().unwrap().to_string();
    // Flip one base64 character of the payload.
    let mut chars: Vec<char> = payload.chars().collect();
    chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
    bad["dsseEnvelope"]["payload"] = chars.into_iter().collect::<String>().into();
    dir.write("bad-payload.json", &bad.to_string());

    let mut bad = good.clone();
    let sig = bad["dsseEnvelope"]["signatures"][0]["sig"]
        .as_str()
        .unwrap()
        .to_string();
    let mut chars: Vec<char> = sig.chars().collect();
    chars[5] = if chars[5] == 'A' { 'B' } else { 'A' };
    bad["dsseEnvelope"]["signatures"][0]["sig"] = chars.into_iter().collect::<String>().into();
    dir.write("bad-sig.json", &bad.to_string());

    for bundle in ["bad-payload.json", "bad-sig.json"] {
        let run = dir.cavra(&["attest", "verify", bundle, "--key", "k.pub"]);
        run.code(1).says(&[bundle, "does not verify", "signature"]);
        assert!(run.stdout().is_empty(), "nothing printed as verified");
    }
    dir.cavra(&["attest", "verify", "s.json", "--key", "other.pub"])
        .code(1)
        .says(&["does not verify"]);
    // A key bundle is not a certificate bundle.
    dir.cavra(&[
        "attest",
        "verify",
        "s.json",
        "--certificate-identity",
        "someone@example.com",
        "--certificate-oidc-issuer",
        "https://accounts.google.com",
    ])
    .code(1)
    .says(&["does not verify"]);
}

#[test]
fn bad_inputs_get_clear_errors() {
    let dir = Dir::new();
    dir.keypair("k", "p256");
    dir.cavra(&[
        "attest",
        "sign",
        "--key",
        "k.key",
        "artifact.txt",
        "--out",
        "good.json",
    ])
    .code(0);

    // Bundles that are not bundles.
    dir.write("not-json.json", "this is not json");
    dir.cavra(&[
        "attest",
        "verify",
        "not-json.json",
        "--key",
        "k.pub",
        "artifact.txt",
    ])
    .code(1)
    .says(&["not-json.json", "JSON"]);
    let good = dir.read("good.json");
    dir.write(
        "media.json",
        &good.replace("bundle.v0.3+json", "bundle.v9+json"),
    );
    dir.cavra(&[
        "attest",
        "verify",
        "media.json",
        "--key",
        "k.pub",
        "artifact.txt",
    ])
    .code(1)
    .says(&["media.json", "media type"]);
    let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
    v.as_object_mut().unwrap().remove("verificationMaterial");
    dir.write("no-vm.json", &v.to_string());
    dir.cavra(&[
        "attest",
        "verify",
        "no-vm.json",
        "--key",
        "k.pub",
        "artifact.txt",
    ])
    .code(1)
    .says(&["no-vm.json", "verificationMaterial"]);
    // A 100 MB bundle is refused at the size limit, without reading it whole.
    let huge = dir.path("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    let started = std::time::Instant::now();
    dir.cavra(&[
        "attest",
        "verify",
        "huge.json",
        "--key",
        "k.pub",
        "artifact.txt",
    ])
    .code(1)
    .says(&["huge.json", "104857600 bytes is over the", "limit"]);
    dir.cavra(&[
        "verify-bundle",
        "--bundle",
        "huge.json",
        "--key",
        "k.pub",
        "artifact.txt",
    ])
    .code(1)
    .says(&["huge.json", "limit"]);
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    dir.cavra(&[
        "attest",
        "verify",
        "missing.json",
        "--key",
        "k.pub",
        "artifact.txt",
    ])
    .code(4)
    .says(&["missing.json"]);

    // Keys of types cavra does not sign with, and keys that are not keys.
    dir.write("p384.key", P384_KEY);
    dir.write("rsa.key", RSA_KEY);
    dir.cavra(&[
        "attest",
        "sign",
        "--key",
        "p384.key",
        "artifact.txt",
        "--out",
        "x.json",
    ])
    .code(3)
    .says(&["p384.key", "unsupported", "secp384r1"]);
    dir.cavra(&[
        "attest",
        "sign",
        "--key",
        "rsa.key",
        "artifact.txt",
        "--out",
        "x.json",
    ])
    .code(3)
    .says(&["rsa.key", "unsupported", "rsaEncryption"]);
    dir.cavra(&[
        "attest",
        "sign",
        "--key",
        "k.pub",
        "artifact.txt",
        "--out",
        "x.json",
    ])
    .code(3)
    .says(&["k.pub", "public key"]);
    dir.cavra(&[
        "attest",
        "sign",
        "--key",
        "artifact.txt",
        "artifact.txt",
        "--out",
        "x.json",
    ])
    .code(3)
    .says(&["artifact.txt", "not a PEM private key"]);
    dir.cavra(&[
        "attest",
        "verify",
        "good.json",
        "--key",
        "k.key",
        "artifact.txt",
    ])
    .code(3)
    .says(&["k.key", "PUBLIC KEY"]);
    assert!(!dir.path("x.json").exists());

    // Statements with fields missing, and files that are not statements.
    for (name, text, why) in [
        (
            "no-type.json",
            r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"3a441f927ce7c04af0d5ac04b2305439d4ced69f2f644b9676693cf4ec10e032"}}]}"#,
            "predicateType",
        ),
        (
            "no-digest.json",
            r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{}}],"predicateType":"x"}"#,
            "digest",
        ),
        (
            "old-type.json",
            r#"{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"a","digest":{"sha256":"3a441f927ce7c04af0d5ac04b2305439d4ced69f2f644b9676693cf4ec10e032"}}],"predicateType":"x"}"#,
            "_type",
        ),
        ("text.json", "not json at all", "not an in-toto Statement"),
    ] {
        dir.write(name, text);
        dir.cavra(&[
            "attest",
            "sign",
            "--key",
            "k.key",
            "--in-toto",
            name,
            "--out",
            "x.json",
        ])
        .code(3)
        .says(&[name, why]);
    }
    assert!(!dir.path("x.json").exists());

    // Flags.
    dir.cavra(&["attest", "verify", "good.json"]).code(3);
    dir.cavra(&[
        "attest",
        "verify",
        "good.json",
        "--key",
        "k.pub",
        "--certificate-identity",
        "a@b",
        "--certificate-oidc-issuer",
        "https://x",
    ])
    .code(3);
    dir.cavra(&[
        "attest",
        "verify",
        "good.json",
        "--certificate-identity",
        "a@b",
    ])
    .code(3);
    dir.cavra(&[
        "attest",
        "verify",
        "good.json",
        "--key",
        "k.pub",
        "sha256:abc",
    ])
    .code(3)
    .says(&["64 hex digits"]);
    dir.write("root.json", "{}");
    dir.cavra(&[
        "attest",
        "verify",
        "good.json",
        "--key",
        "k.pub",
        "--trusted-root",
        "root.json",
        "artifact.txt",
    ])
    .code(3)
    .says(&["root.json", "trusted root"]);
}

#[test]
fn verify_bundle_speaks_the_conformance_protocol() {
    let dir = Dir::new();
    dir.keypair("k", "p256");
    dir.cavra(&[
        "attest",
        "sign",
        "--key",
        "k.key",
        "--in-toto",
        "statement.json",
        "--out",
        "s.json",
    ])
    .code(0);
    dir.cavra(&[
        "attest",
        "sign",
        "--key",
        "k.key",
        "artifact.txt",
        "--out",
        "b.json",
    ])
    .code(0);
    let digest = format!("sha256:{ARTIFACT_SHA256}");
    for (bundle, input) in [
        ("s.json", "artifact.txt"),
        ("s.json", digest.as_str()),
        ("b.json", "artifact.txt"),
        ("b.json", digest.as_str()),
    ] {
        dir.cavra(&["verify-bundle", "--bundle", bundle, "--key", "k.pub", input])
            .code(0);
    }
    dir.cavra(&[
        "verify-bundle",
        "--bundle",
        "s.json",
        "--key",
        "k.pub",
        "statement.json",
    ])
    .code(1)
    .says(&["does not verify"]);
    // A file literally named like a digest is a file.
    let named = format!("sha256:{}", "1".repeat(64));
    dir.write(&named, ARTIFACT);
    dir.cavra(&[
        "verify-bundle",
        "--bundle",
        "b.json",
        "--key",
        "k.pub",
        &named,
    ])
    .code(0);
    dir.cavra(&[
        "verify-bundle",
        "--staging",
        "--bundle",
        "s.json",
        "--key",
        "k.pub",
        "artifact.txt",
    ])
    .code(3)
    .says(&["--staging", "--trusted-root"]);
    dir.cavra(&["verify-bundle", "--bundle", "s.json", "artifact.txt"])
        .code(3);
}

#[test]
fn help_teaches_with_examples() {
    let dir = Dir::new();
    for (args, want) in [
        (&["keys", "generate", "--help"][..], "--out ci-signing"),
        (&["keys", "id", "--help"][..], "SubjectPublicKeyInfo"),
        (&["attest", "sign", "--help"][..], "env:CAVRA_SIGNING_KEY"),
        (&["attest", "verify", "--help"][..], "--predicate-type"),
        (&["verify-bundle", "--help"][..], "sha256:"),
    ] {
        let run = dir.cavra(args);
        run.code(0);
        assert!(run.stdout().contains("Examples:"), "{args:?}");
        assert!(run.stdout().contains(want), "{args:?}: {}", run.stdout());
    }
}
