//! `cavra release build|verify` end to end: real git repositories, real verdict bundles written
//! by `cavra gate --attest`, packets built and verified through the binary as a user would, and
//! the packet's bundle checked by sigstore-js (found through `CAVRA_VERIFIERS`, like
//! attestation/tests/interop.rs: skipped with a note when missing, a failure under `CI`).

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cavra_tests::TestRepo;
use common::{cavra, missing, text};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A repository (`main` with one commit, `base`) and, outside it, a work directory holding the
/// key pair `k.key`/`k.pub`, the artifact `app.bin`, `verdicts/` and the packets.
struct World {
    repo: TestRepo,
    dir: tempfile::TempDir,
    base: String,
}

impl World {
    fn new() -> World {
        let repo = TestRepo::new();
        repo.write("README.md", "# demo\n");
        let base = repo.commit("base").to_string();
        let world = World {
            repo,
            dir: tempfile::tempdir().unwrap(),
            base,
        };
        world.keys("k");
        std::fs::create_dir(world.p("verdicts")).unwrap();
        std::fs::write(world.p("app.bin"), b"the released program\n").unwrap();
        world
    }

    /// A path in the work directory.
    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The same, as a string for arguments.
    fn s(&self, name: &str) -> String {
        self.p(name).to_str().unwrap().to_string()
    }

    /// `cavra keys generate --out NAME` in the work directory.
    fn keys(&self, name: &str) {
        let out = cavra(
            self.dir.path(),
            &["keys", "generate", "--out", &self.s(name)],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }

    /// Runs git in the repository; its trimmed stdout.
    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(self.repo.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("run git");
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Writes `path` in the working tree and commits everything on the current branch.
    fn commit(&self, path: &str, content: &str, message: &str) -> String {
        self.repo.write(path, content);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.rev("HEAD")
    }

    fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev])
    }

    /// `cavra gate --base BASE --head HEAD --attest verdicts/NAME.sigstore.json --key KEY.key`;
    /// the exit code.
    fn gate(&self, base: &str, head: &str, name: &str, key: &str) -> i32 {
        let bundle = self.s(&format!("verdicts/{name}.sigstore.json"));
        let key = self.s(&format!("{key}.key"));
        let out = cavra(
            self.repo.path(),
            &[
                "gate", "--base", base, "--head", head, "--attest", &bundle, "--key", &key,
            ],
        );
        assert!(
            text(&out).contains("verdict attestation written"),
            "{}",
            text(&out)
        );
        out.status.code().unwrap()
    }

    /// A branch `name` off main with one commit changing `path`, gated (with key `k`) against
    /// main into `verdicts/NAME.sigstore.json`, which must pass; back on main. Its head.
    fn pull_request(&self, name: &str, path: &str, content: &str) -> String {
        self.git(&["checkout", "-q", "-b", name, "main"]);
        let head = self.commit(path, content, &format!("{name}: change {path}"));
        assert_eq!(self.gate("main", &head, name, "k"), 0, "{name} should pass");
        self.git(&["checkout", "-q", "main"]);
        head
    }

    /// `cavra release build --name app --version 1.0.0 --artifact app.bin ARGS` in the work
    /// directory.
    fn build(&self, args: &[&str]) -> Output {
        let artifact = self.s("app.bin");
        let mut all = vec![
            "release",
            "build",
            "--name",
            "app",
            "--version",
            "1.0.0",
            "--artifact",
            &artifact,
        ];
        all.extend_from_slice(args);
        cavra(self.dir.path(), &all)
    }

    /// [`World::build`] of the range `base..main` with `verdicts/` and key `k`, into `out`.
    fn build_range(&self, out: &str, extra: &[&str]) -> Output {
        let range = format!("{}..main", self.base);
        let verdicts = self.s("verdicts");
        let repo = self.repo.path().to_str().unwrap().to_string();
        let key = self.s("k.key");
        let target = self.s(out);
        let mut args = vec![
            "--range",
            range.as_str(),
            "--verdicts",
            &verdicts,
            "--repo",
            &repo,
            "--out",
            &target,
        ];
        if !extra.contains(&"--key") {
            args.extend_from_slice(&["--key", &key]);
        }
        args.extend_from_slice(extra);
        self.build(&args)
    }

    /// `cavra release verify ARGS` in the work directory.
    fn verify(&self, args: &[&str]) -> Output {
        let mut all = vec!["release", "verify"];
        all.extend_from_slice(args);
        cavra(self.dir.path(), &all)
    }

    /// `verify PACKET ARGS --format json`: the exit code and the report.
    fn verify_json(&self, packet: &str, args: &[&str]) -> (i32, Value) {
        let packet = self.s(packet);
        let mut all = vec![packet.as_str()];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--format", "json"]);
        let out = self.verify(&all);
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not a JSON report ({e}): {}", text(&out)));
        (out.status.code().unwrap(), report)
    }

    fn manifest(&self, packet: &str) -> Value {
        read_json(&self.p(packet).join("packet.json"))
    }

    /// Hidden staging directories left in the work directory.
    fn leftovers(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".partial-"))
            .collect()
    }
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

/// The `(commit, how, verdict)` of each commit of the packet's coverage.
fn coverage(manifest: &Value) -> Vec<(String, String, Option<String>)> {
    manifest["coverage"]["commits"]
        .as_array()
        .expect("coverage.commits")
        .iter()
        .map(|c| {
            (
                c["commit"].as_str().unwrap().to_string(),
                c["how"].as_str().unwrap().to_string(),
                c["verdict"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// The result (`pass`, `fail`, `warn`, `skip`) of the report's check named `name`.
fn check<'r>(report: &'r Value, name: &str) -> &'r str {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no `{name}` check in {report:#}"))["result"]
        .as_str()
        .unwrap()
}

/// The checks whose name starts with `prefix`, as `(name, result)`.
fn checks_named<'r>(report: &'r Value, prefix: &str) -> Vec<(&'r str, &'r str)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| {
            let name = c["check"].as_str().unwrap();
            name.starts_with(prefix)
                .then(|| (name, c["result"].as_str().unwrap()))
        })
        .collect()
}

#[test]
fn a_range_of_merges_and_direct_commits_is_covered_by_real_verdicts() {
    let w = World::new();
    let pr1 = w.pull_request("pr1", "src/a.rs", "pub fn a() {}\n");
    w.git(&["merge", "-q", "--no-ff", "pr1", "-m", "Merge pr1"]);
    let merge1 = w.rev("HEAD");
    let direct = w.commit("src/b.rs", "pub fn b() {}\n", "direct change");
    assert_eq!(w.gate(&merge1, &direct, "direct", "k"), 0);
    let pr2 = w.pull_request("pr2", "docs/guide.md", "# Guide\n");
    w.git(&["merge", "-q", "--no-ff", "pr2", "-m", "Merge pr2"]);
    let merge2 = w.rev("HEAD");

    let out = w.build_range("pkt", &["--tar"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("3 verdict(s)"), "{}", text(&out));

    let manifest = w.manifest("pkt");
    assert_eq!(
        coverage(&manifest),
        vec![
            (merge1.clone(), "merge".into(), Some(pr1.clone())),
            (direct.clone(), "direct".into(), Some(direct.clone())),
            (merge2.clone(), "merge".into(), Some(pr2.clone())),
        ],
        "{manifest:#}"
    );
    assert_eq!(manifest["coverage"]["range"]["base"], w.base.as_str());
    assert_eq!(manifest["coverage"]["range"]["head"], merge2.as_str());
    assert_eq!(manifest["source"]["commit"], merge2.as_str());
    let mut verdict_commits: Vec<&str> = manifest["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["commit"].as_str().unwrap())
        .collect();
    verdict_commits.sort();
    let mut expected = vec![pr1.as_str(), direct.as_str(), pr2.as_str()];
    expected.sort();
    assert_eq!(verdict_commits, expected);
    for commit in &expected {
        assert!(
            w.p("pkt")
                .join(format!("verdicts/{commit}.sigstore.json"))
                .is_file()
        );
    }

    for packet in ["pkt", "pkt.tar.gz"] {
        assert!(w.p(packet).exists(), "{packet} not written");
        let (code, report) = w.verify_json(packet, &["--key", &w.s("k.pub")]);
        assert_eq!(code, 0, "{packet}: {report:#}");
        assert_eq!(report["verified"], true, "{packet}: {report:#}");
        assert_eq!(check(&report, "range"), "pass", "{packet}: {report:#}");
        assert_eq!(check(&report, "signature"), "pass", "{packet}: {report:#}");
        let verdicts = checks_named(&report, "verdict ");
        assert_eq!(verdicts.len(), 3, "{packet}: {report:#}");
        assert!(verdicts.iter().all(|(_, r)| *r == "pass"), "{report:#}");
    }

    // The same packet with another key does not verify.
    w.keys("other");
    let (code, report) = w.verify_json("pkt", &["--key", &w.s("other.pub")]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["verified"], false);
    assert_eq!(check(&report, "signature"), "fail", "{report:#}");
}

#[test]
fn an_uncovered_commit_stops_the_build_unless_allowed() {
    let w = World::new();
    w.pull_request("pr1", "src/a.rs", "pub fn a() {}\n");
    w.git(&["merge", "-q", "--no-ff", "pr1", "-m", "Merge pr1"]);
    let sneaky = w.commit("src/c.rs", "pub fn c() {}\n", "pushed without a gate");

    let out = w.build_range("pkt", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&sneaky), "{stderr}");
    assert!(stderr.contains("--allow-uncovered"), "{stderr}");
    assert!(!w.p("pkt").exists(), "a failed build left pkt behind");
    assert!(w.leftovers().is_empty(), "{:?}", w.leftovers());

    let out = w.build_range("pkt", &["--allow-uncovered"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("1 UNCOVERED"), "{}", text(&out));
    let manifest = w.manifest("pkt");
    let cov = coverage(&manifest);
    assert_eq!(cov.len(), 2, "{manifest:#}");
    assert_eq!(cov[0].1, "merge");
    assert_eq!(cov[1], (sneaky.clone(), "uncovered".into(), None));
    assert_eq!(manifest["coverage"]["allowUncovered"], true, "{manifest:#}");

    let key = w.s("k.pub");
    let (code, report) = w.verify_json("pkt", &["--key", &key]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(check(&report, "range"), "fail", "{report:#}");
    let (code, report) = w.verify_json("pkt", &["--key", &key, "--allow-uncovered"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(check(&report, "range"), "warn", "{report:#}");
    let detail = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "range")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains(&sneaky[..12]), "{detail}");
    let (code, report) = w.verify_json(
        "pkt",
        &["--key", &key, "--allow-uncovered", "--require", "verdicts"],
    );
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(check(&report, "range"), "fail", "{report:#}");
}

#[test]
fn a_failing_verdict_does_not_cover_its_merge() {
    let w = World::new();
    w.git(&["checkout", "-q", "-b", "bad", "main"]);
    let head = w.commit(
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: curl -fsSL https://get.example.com | sh\n",
        "add ci",
    );
    assert_eq!(
        w.gate("main", &head, "bad", "k"),
        1,
        "curl | sh should fail"
    );
    w.git(&["checkout", "-q", "main"]);
    w.git(&["merge", "-q", "--no-ff", "bad", "-m", "Merge bad"]);
    let merge = w.rev("HEAD");

    let out = w.build_range("pkt", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&merge), "{stderr}");
    assert!(stderr.contains("fail"), "{stderr}");
    assert!(!w.p("pkt").exists());

    // Allowed, the failing verdict is not put in the packet, and the commit stays uncovered.
    let out = w.build_range("pkt", &["--allow-uncovered"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let manifest = w.manifest("pkt");
    assert_eq!(coverage(&manifest), vec![(merge, "uncovered".into(), None)]);
    assert_eq!(manifest["verdicts"], serde_json::json!([]), "{manifest:#}");
}

#[test]
fn verdicts_must_be_signed_by_a_trusted_key() {
    let w = World::new();
    w.keys("b");
    // Verdicts signed with `k` (key A); the packet with `b` (key B).
    w.pull_request("pr1", "src/a.rs", "pub fn a() {}\n");
    w.git(&["merge", "-q", "--no-ff", "pr1", "-m", "Merge pr1"]);
    let (b_key, a_pub, b_pub) = (w.s("b.key"), w.s("k.pub"), w.s("b.pub"));

    let out = w.build_range("pkt", &["--key", &b_key, "--verdict-key", &a_pub]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let (code, report) = w.verify_json("pkt", &["--key", &b_pub]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(check(&report, "signature"), "pass", "{report:#}");
    let verdicts = checks_named(&report, "verdict ");
    assert_eq!(verdicts.len(), 1, "{report:#}");
    assert!(verdicts.iter().all(|(_, r)| *r == "fail"), "{report:#}");
    assert_eq!(check(&report, "range"), "fail", "{report:#}");

    let (code, report) = w.verify_json("pkt", &["--key", &b_pub, "--verdict-key", &a_pub]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(check(&report, "range"), "pass", "{report:#}");

    // Without --verdict-key only key B is trusted for verdicts: the bundle is rejected.
    let out = w.build_range("pkt2", &["--key", &b_key]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("pr1.sigstore.json"), "{}", text(&out));
    assert!(!w.p("pkt2").exists());
    assert!(w.leftovers().is_empty(), "{:?}", w.leftovers());
}

#[test]
fn a_squash_merge_is_covered_by_the_verdict_on_the_branch() {
    let w = World::new();
    w.git(&["checkout", "-q", "-b", "feature", "main"]);
    w.commit("src/a.rs", "pub fn a() {}\n", "first");
    let head = w.commit("src/b.rs", "pub fn b() {}\n", "second");
    assert_eq!(w.gate("main", &head, "feature", "k"), 0);
    w.git(&["checkout", "-q", "main"]);
    w.git(&["merge", "-q", "--squash", "feature"]);
    w.git(&["commit", "-q", "-m", "feature (squashed)"]);
    let squashed = w.rev("HEAD");

    let out = w.build_range("pkt", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        coverage(&w.manifest("pkt")),
        vec![(squashed, "squash".into(), Some(head))]
    );
    let (code, report) = w.verify_json("pkt", &["--key", &w.s("k.pub")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(check(&report, "range"), "pass", "{report:#}");
}

#[test]
fn a_fast_forward_is_a_rebase_run_and_an_evil_merge_is_not_covered() {
    let w = World::new();
    w.git(&["checkout", "-q", "-b", "feature", "main"]);
    let first = w.commit("src/a.rs", "pub fn a() {}\n", "first");
    let head = w.commit("src/b.rs", "pub fn b() {}\n", "second");
    assert_eq!(w.gate("main", &head, "feature", "k"), 0);
    w.git(&["checkout", "-q", "main"]);
    w.git(&["merge", "-q", "--ff-only", "feature"]);

    let out = w.build_range("pkt", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        coverage(&w.manifest("pkt")),
        vec![
            (first, "rebase".into(), Some(head.clone())),
            (head.clone(), "direct".into(), Some(head.clone())),
        ]
    );

    // A merge that adds a file the gate never judged is not covered by the branch's verdict.
    let pr = w.pull_request("pr", "src/c.rs", "pub fn c() {}\n");
    w.git(&["merge", "-q", "--no-ff", "--no-commit", "pr"]);
    w.commit("evil.txt", "not reviewed\n", "Merge pr");
    let merge = w.rev("HEAD");
    assert_eq!(w.rev("HEAD^2"), pr);
    let out = w.build_range("pkt2", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&merge), "{stderr}");
    assert!(stderr.contains("evil.txt"), "{stderr}");
    assert!(!w.p("pkt2").exists());
}

const CARGO_LOCK: &str = r#"# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 3

[[package]]
name = "app"
version = "1.0.0"
dependencies = [
 "itoa",
 "serde",
]

[[package]]
name = "itoa"
version = "1.0.11"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4312a78e4cf2566695b"

[[package]]
name = "serde"
version = "1.0.203"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "7253ab4de971e72fb7be983802300c30b5a7f0c2e56fab8abfc6a214307c0094"
"#;

#[test]
fn the_sbom_comes_from_lockfiles_or_a_valid_cyclonedx_document() {
    let w = World::new();
    std::fs::write(w.p("Cargo.lock"), CARGO_LOCK).unwrap();
    let (key, lock) = (w.s("k.key"), w.s("Cargo.lock"));
    let out = w.build(&["--lockfile", &lock, "--key", &key, "--out", &w.s("pkt")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let sbom = read_json(&w.p("pkt/sbom.cdx.json"));
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    let purls: Vec<&str> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    for expected in ["pkg:cargo/itoa@1.0.11", "pkg:cargo/serde@1.0.203"] {
        assert!(purls.contains(&expected), "{expected} not in {purls:?}");
    }
    assert_eq!(w.manifest("pkt")["sbom"]["origin"], "generated");
    let (code, report) = w.verify_json("pkt", &["--key", &w.s("k.pub"), "--require", "sbom"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(check(&report, "sbom"), "pass", "{report:#}");

    // A document that is not valid CycloneDX is refused, naming it.
    std::fs::write(
        w.p("bad.cdx.json"),
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": "none"}"#,
    )
    .unwrap();
    let out = w.build(&[
        "--sbom",
        &w.s("bad.cdx.json"),
        "--key",
        &key,
        "--out",
        &w.s("pkt2"),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("bad.cdx.json"), "{}", text(&out));
    assert!(!w.p("pkt2").exists());
    assert!(w.leftovers().is_empty(), "{:?}", w.leftovers());

    // --sbom and --lockfile together: a usage error, nothing built.
    let out = w.build(&[
        "--sbom",
        &w.s("bad.cdx.json"),
        "--lockfile",
        &lock,
        "--key",
        &key,
        "--out",
        &w.s("pkt3"),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("--lockfile"), "{}", text(&out));
    assert!(!w.p("pkt3").exists());
}

/// `CAVRA_VERIFIERS/js/node_modules` when it holds `@sigstore/verify`; otherwise `None` with a
/// note, or a failure under `CI` (as attestation/tests/interop.rs does).
fn sigstore_js() -> Option<PathBuf> {
    let found = match std::env::var_os("CAVRA_VERIFIERS") {
        None => Err("CAVRA_VERIFIERS is not set".to_string()),
        Some(dir) => {
            let node_path = PathBuf::from(dir).join("js/node_modules");
            if node_path.join("@sigstore/verify").is_dir() {
                Ok(node_path)
            } else {
                Err(format!("no @sigstore/verify in {}", node_path.display()))
            }
        }
    };
    match found {
        Ok(path) => Some(path),
        Err(why) => {
            missing(&format!(
                "sigstore-js is needed ({why}): run `bash .ci/install-verifiers.sh DIR` and set \
                 CAVRA_VERIFIERS=DIR"
            ));
            None
        }
    }
}

/// sigstore-js on a key-signed bundle, offline, with the script the attestation interop tests
/// use: success and what it printed.
fn run_sigstore_js(node_path: &Path, bundle: &Path, public: &Path) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../attestation/tests/tools/verify_key_bundle.js");
    let out = Command::new("node")
        .env("NODE_PATH", node_path)
        .arg(script)
        .arg(bundle)
        .arg(public)
        .output()
        .expect("run node");
    (out.status.success(), text(&out))
}

#[test]
fn the_packet_bundle_verifies_in_sigstore_js_with_the_artifact_as_subject() {
    let w = World::new();
    let out = w.build(&["--key", &w.s("k.key"), "--out", &w.s("pkt")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The Statement names the artifact by its sha256, computed here from the original file.
    let bundle_path = w.p("pkt/packet.sigstore.json");
    let bundle = read_json(&bundle_path);
    let payload = STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    let sha256 = cavra_sigstore::key::hex_lower(&cavra_sigstore::key::sha256(
        &std::fs::read(w.p("app.bin")).unwrap(),
    ));
    let subject = statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["digest"]["sha256"] == sha256.as_str())
        .unwrap_or_else(|| panic!("no subject with sha256 {sha256}: {statement:#}"));
    assert_eq!(subject["name"], "app.bin");
    assert_eq!(statement["predicate"], w.manifest("pkt"));

    let Some(node_path) = sigstore_js() else {
        return;
    };
    let public = w.p("k.pub");
    let (ok, out) = run_sigstore_js(&node_path, &bundle_path, &public);
    assert!(ok, "sigstore-js rejects the packet bundle:\n{out}");
    assert!(out.starts_with("OK "), "{out}");

    // A tampered payload, and another key, are rejected there too.
    let mut forged = bundle.clone();
    let edited = String::from_utf8(payload)
        .unwrap()
        .replace("\"1.0.0\"", "\"6.6.6\"");
    assert!(edited.contains("6.6.6"));
    forged["dsseEnvelope"]["payload"] = STANDARD.encode(edited).into();
    std::fs::write(w.p("forged.sigstore.json"), forged.to_string()).unwrap();
    let (ok, out) = run_sigstore_js(&node_path, &w.p("forged.sigstore.json"), &public);
    assert!(!ok, "sigstore-js accepts a tampered packet:\n{out}");
    w.keys("other");
    let (ok, out) = run_sigstore_js(&node_path, &bundle_path, &w.p("other.pub"));
    assert!(!ok, "sigstore-js accepts another key:\n{out}");
}

#[test]
fn the_command_line_refuses_bad_outputs_and_inputs() {
    let w = World::new();
    let key = w.s("k.key");

    // An existing, non-empty --out is left as it was.
    std::fs::create_dir(w.p("pkt")).unwrap();
    std::fs::write(w.p("pkt/keep.txt"), "mine\n").unwrap();
    let out = w.build(&["--key", &key, "--out", &w.s("pkt")]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("not empty"), "{}", text(&out));
    let names: Vec<_> = std::fs::read_dir(w.p("pkt"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("keep.txt")]);
    assert_eq!(
        std::fs::read_to_string(w.p("pkt/keep.txt")).unwrap(),
        "mine\n"
    );
    assert!(w.leftovers().is_empty(), "{:?}", w.leftovers());

    // Two artifacts with the same file name.
    std::fs::create_dir(w.p("other")).unwrap();
    std::fs::write(w.p("other/app.bin"), b"another build\n").unwrap();
    let out = w.build(&[
        "--artifact",
        &w.s("other/app.bin"),
        "--key",
        &key,
        "--out",
        &w.s("dup"),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("app.bin"), "{}", text(&out));
    assert!(!w.p("dup").exists());

    // An existing OUT.tar.gz is refused before anything is built.
    std::fs::write(w.p("packed.tar.gz"), b"an older release\n").unwrap();
    let out = w.build(&["--key", &key, "--out", &w.s("packed"), "--tar"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("packed.tar.gz"), "{}", text(&out));
    assert!(!w.p("packed").exists());
    assert_eq!(
        std::fs::read(w.p("packed.tar.gz")).unwrap(),
        b"an older release\n"
    );

    // An empty range is built and reported as such, not as "no range".
    let range = format!("{}..{}", w.base, w.base);
    let repo = w.repo.path().to_str().unwrap().to_string();
    let out = w.build(&[
        "--range",
        &range,
        "--repo",
        &repo,
        "--key",
        &key,
        "--out",
        &w.s("empty"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let public = w.s("k.pub");
    let (code, report) = w.verify_json("empty", &["--key", &public]);
    assert_eq!(code, 0);
    assert_eq!(check(&report, "range"), "warn");
    let (code, report) = w.verify_json("empty", &["--key", &public, "--require", "verdicts"]);
    assert_eq!(code, 1);
    assert_eq!(check(&report, "range"), "fail");

    // Verifying something that is not there.
    let out = w.verify(&[&w.s("nowhere"), "--key", &w.s("k.pub")]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("nowhere"), "{}", text(&out));

    // Help.
    let out = cavra(w.dir.path(), &["release", "build", "--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for flag in ["--range", "--allow-uncovered", "--verdicts", "--tar"] {
        assert!(
            text(&out).contains(flag),
            "help lacks {flag}: {}",
            text(&out)
        );
    }

    // Text output: one line per check, labelled as in the JSON report, then the verdict line.
    let out = w.build(&["--key", &key, "--out", &w.s("good")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (code, report) = w.verify_json("good", &["--key", &w.s("k.pub")]);
    assert_eq!(code, 0, "{report:#}");
    let out = w.verify(&[&w.s("good"), "--key", &w.s("k.pub")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(lines.len(), checks.len() + 1, "{stdout}");
    for (line, c) in lines.iter().zip(checks) {
        let label = c["result"].as_str().unwrap().to_ascii_uppercase();
        assert!(line.starts_with(&format!("{label}  ")), "{line}");
        assert!(line.contains(c["check"].as_str().unwrap()), "{line}");
    }
    assert!(
        lines.last().unwrap().starts_with("verified: app 1.0.0"),
        "{stdout}"
    );

    // A tampered artifact: its line says FAIL, and so does the summary.
    std::fs::write(w.p("good/artifacts/app.bin"), b"tampered\n").unwrap();
    let out = w.verify(&[&w.s("good"), "--key", &w.s("k.pub")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains("artifacts/app.bin")),
        "{stdout}"
    );
    assert!(stdout.contains("NOT verified"), "{stdout}");
}
