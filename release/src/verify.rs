//! `cavra release verify`: every check of a packet, each reported on its own line, offline.
//!
//! A tarball is extracted first (streaming, refusing `..`, absolute paths, links and special
//! files, within size limits) into a private temporary directory; a directory is walked the same
//! way (no symlinks, regular files only). Then, in this order: the manifest, the signature over
//! the Statement, the Statement against the manifest, every listed file's digests (hashed in
//! parallel, one read per file), the SBOM's schema, each verdict, the range coverage, missing
//! and extra files, and what `--require` asks for.

use crate::build::statement;
use crate::chain::{self, GateVerdict, How};
use crate::digest::{FileDigest, digest_files};
use crate::manifest::*;
use crate::progress::Bar;
use crate::sbom;
use crate::tarball::{self, Limits};
use crate::verdicts::{Trust, read_bounded, read_verdict};
use cavra_attestation::statement::Statement;
use cavra_sigstore::VerifiedContent;
use cavra_sigstore::bundle::MAX_BUNDLE_BYTES;
use cavra_sigstore::dsse::IN_TOTO_PAYLOAD_TYPE;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A check's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Passed.
    Pass,
    /// Failed: the packet does not verify.
    Fail,
    /// Accepted, but worth a look (e.g. uncovered commits allowed by the verifier).
    Warn,
    /// Not applicable.
    Skip,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Warn => "WARN",
            Outcome::Skip => "SKIP",
        }
    }
}

/// One check: a stable name (`signature`, `artifact artifacts/app.tar.gz`, `sbom`, ...), its
/// outcome and what was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The check's name.
    pub check: String,
    /// Its outcome.
    pub result: Outcome,
    /// What was found, for people.
    pub detail: String,
}

/// Everything `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The packet, as given.
    pub packet: String,
    /// `name version`, when the manifest could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// True when no check failed.
    pub verified: bool,
    /// Every check, in the order run.
    pub checks: Vec<Check>,
}

impl Report {
    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.result == Outcome::Fail)
    }

    /// One line per check, then a verdict line.
    pub fn to_text(&self) -> String {
        let width = self.checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
        let mut out = String::new();
        for c in &self.checks {
            out.push_str(&format!(
                "{}  {:width$}  {}\n",
                c.result.label(),
                c.check,
                c.detail
            ));
        }
        let what = self.release.as_deref().unwrap_or(&self.packet);
        let failed = self.failures().count();
        if self.verified {
            out.push_str(&format!(
                "verified: {what} ({} checks)\n",
                self.checks.len()
            ));
        } else {
            out.push_str(&format!(
                "NOT verified: {what} ({failed} of {} checks failed)\n",
                self.checks.len()
            ));
        }
        out
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// What `--require` asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Require {
    /// An SBOM listing at least one component besides the artifacts.
    pub sbom: bool,
    /// At least one verdict, and every commit covered.
    pub verdicts: bool,
}

/// Everything a verification needs.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    /// A packet directory, or a `.tar`/`.tar.gz` of one.
    pub packet: PathBuf,
    /// Who may sign the packet.
    pub signer: Trust,
    /// Who may sign verdicts.
    pub verdict_signer: Trust,
    /// What must be there.
    pub require: Require,
    /// Accept commits the packet records as uncovered (reported as warnings).
    pub allow_uncovered: bool,
    /// Limits for tarballs and directories.
    pub limits: Limits,
    /// Draw a progress bar while hashing (only when stderr is a terminal).
    pub progress: bool,
    /// A clone of the source repository: the range's commits and their coverage are worked out
    /// again from it (`history` check) instead of taken from the signed manifest alone.
    pub repo: Option<PathBuf>,
}

/// Verifies a packet. `Err` only when the packet cannot be read at all (no such file); anything
/// wrong with its content is a failed check.
pub fn verify(req: &VerifyRequest) -> Result<Report, String> {
    let meta = fs::metadata(&req.packet).map_err(|e| format!("{}: {e}", req.packet.display()))?;
    let mut checks = Checks::default();
    let _temp;
    let dir = if meta.is_dir() {
        req.packet.clone()
    } else {
        let temp = tempfile::Builder::new()
            .prefix("cavra-packet-")
            .tempdir()
            .map_err(|e| format!("a temporary directory: {e}"))?;
        let into = temp.path().join("packet");
        match tarball::extract(&req.packet, &into, &req.limits) {
            Ok(files) => checks.pass(
                "layout",
                format!(
                    "tarball: {} files, no links or paths outside it",
                    files.len()
                ),
            ),
            Err(e) => {
                checks.fail("layout", format!("tarball refused: {e}"));
                return Ok(checks.report(req, None));
            }
        }
        _temp = temp;
        into
    };
    let present = match walk(&dir, &req.limits) {
        Ok(files) => {
            if meta.is_dir() {
                checks.pass(
                    "layout",
                    format!("directory: {} regular files, no links", files.len()),
                );
            }
            files
        }
        Err(e) => {
            checks.fail("layout", e);
            return Ok(checks.report(req, None));
        }
    };
    let manifest = match read_manifest(&dir) {
        Ok((m, bytes)) => {
            checks.pass("manifest", format!("{MANIFEST}: {} {}", m.name, m.version));
            (m, bytes)
        }
        Err(e) => {
            checks.fail("manifest", e);
            return Ok(checks.report(req, None));
        }
    };
    let (manifest, manifest_bytes) = manifest;
    let release = Some(format!("{} {}", manifest.name, manifest.version));

    check_signature(&dir, &manifest, &manifest_bytes, req, &mut checks);
    let digests = hash_listed(&dir, &manifest, &present, req.progress);
    check_files(&dir, &manifest, &digests, &mut checks);
    check_sbom(&dir, &manifest, &digests, req.require.sbom, &mut checks);
    let good_verdicts = check_verdicts(&dir, &manifest, &digests, req, &mut checks);
    check_range(&manifest, &good_verdicts, req, &mut checks);
    if let Some(repo) = &req.repo {
        check_history(repo, &manifest, &good_verdicts, &mut checks);
    }
    check_complete(&manifest, &present, &mut checks);
    Ok(checks.report(req, release))
}

#[derive(Default)]
struct Checks(Vec<Check>);

impl Checks {
    fn add(&mut self, check: impl Into<String>, result: Outcome, detail: impl Into<String>) {
        self.0.push(Check {
            check: check.into(),
            result,
            detail: detail.into(),
        });
    }
    fn pass(&mut self, check: impl Into<String>, detail: impl Into<String>) {
        self.add(check, Outcome::Pass, detail);
    }
    fn fail(&mut self, check: impl Into<String>, detail: impl Into<String>) {
        self.add(check, Outcome::Fail, detail);
    }
    fn report(self, req: &VerifyRequest, release: Option<String>) -> Report {
        let verified = !self.0.iter().any(|c| c.result == Outcome::Fail);
        Report {
            packet: req.packet.display().to_string(),
            release,
            verified,
            checks: self.0,
        }
    }
}

/// The regular files under `dir`, relative and `/`-separated; a symlink, special file or too
/// many entries is an error naming it.
fn walk(dir: &Path, limits: &Limits) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![(dir.to_path_buf(), String::new(), 0usize)];
    let mut entries = 0usize;
    while let Some((path, rel, depth)) = stack.pop() {
        let list = fs::read_dir(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for entry in list {
            let entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
            entries += 1;
            if entries > limits.max_entries {
                return Err(format!("more than {} entries", limits.max_entries));
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let ft = entry.file_type().map_err(|e| format!("{rel}: {e}"))?;
            if ft.is_symlink() {
                let target = fs::read_link(entry.path())
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                return Err(format!("{rel}: symbolic link (to {target})"));
            } else if ft.is_dir() {
                if depth >= 8 {
                    return Err(format!("{rel}: directories nested too deep"));
                }
                stack.push((entry.path(), rel, depth + 1));
            } else if ft.is_file() {
                out.insert(rel);
            } else {
                return Err(format!("{rel}: not a regular file"));
            }
        }
    }
    Ok(out)
}

fn read_manifest(dir: &Path) -> Result<(Manifest, Vec<u8>), String> {
    let path = dir.join(MANIFEST);
    if !path.exists() {
        return Err(format!("{MANIFEST} is missing"));
    }
    let bytes = read_bounded(&path, MAX_MANIFEST_BYTES)?;
    let m = Manifest::from_json(&bytes).map_err(|e| format!("{MANIFEST}: {e}"))?;
    Ok((m, bytes))
}

/// `signature`: the bundle verifies against a trusted signer. `statement`: it signs a release
/// packet Statement whose predicate is this manifest and whose subjects are its artifacts and
/// SBOM.
fn check_signature(
    dir: &Path,
    manifest: &Manifest,
    manifest_bytes: &[u8],
    req: &VerifyRequest,
    checks: &mut Checks,
) {
    let path = dir.join(BUNDLE);
    if !path.exists() {
        checks.fail("signature", format!("{BUNDLE} is missing"));
        return;
    }
    let verified = read_bounded(&path, MAX_BUNDLE_BYTES).and_then(|b| req.signer.verify(&b));
    let verified = match verified {
        Ok(v) => {
            checks.pass("signature", format!("{BUNDLE}: signed by {}", v.signer));
            v
        }
        Err(e) => {
            checks.fail("signature", format!("{BUNDLE}: {e}"));
            return;
        }
    };
    let payload = match &verified.content {
        VerifiedContent::Dsse {
            payload_type,
            payload,
        } if payload_type == IN_TOTO_PAYLOAD_TYPE => payload,
        _ => {
            checks.fail("statement", "the bundle does not sign an in-toto Statement");
            return;
        }
    };
    let signed = match Statement::from_json(payload) {
        Ok(s) => s,
        Err(e) => {
            checks.fail("statement", e.to_string());
            return;
        }
    };
    if signed.predicate_type != PREDICATE_TYPE {
        checks.fail(
            "statement",
            format!(
                "predicateType is {}, expected {PREDICATE_TYPE}",
                signed.predicate_type
            ),
        );
        return;
    }
    let on_disk: serde_json::Value = serde_json::from_slice(manifest_bytes).unwrap_or_default();
    if signed.predicate != on_disk {
        checks.fail(
            "statement",
            format!("{MANIFEST} differs from the manifest that was signed (it was edited)"),
        );
        return;
    }
    if signed.subject != statement(manifest).subject {
        checks.fail(
            "statement",
            "the signed subjects are not the manifest's artifacts and SBOM",
        );
        return;
    }
    checks.pass(
        "statement",
        format!(
            "{MANIFEST} is the signed predicate; {} subjects",
            signed.subject.len()
        ),
    );
}

/// Hashes every listed file that is present, in parallel.
fn hash_listed(
    dir: &Path,
    manifest: &Manifest,
    present: &BTreeSet<String>,
    progress: bool,
) -> BTreeMap<String, Result<FileDigest, String>> {
    let listed: Vec<&FileEntry> = manifest
        .files()
        .filter(|f| present.contains(&f.path))
        .collect();
    let paths: Vec<PathBuf> = listed.iter().map(|f| dir.join(&f.path)).collect();
    let total = paths
        .iter()
        .filter_map(|p| fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = Bar::bytes(progress, "hashing", total);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    // One file at a time when hashing them together fails, so each error names its file.
    let results: Vec<Result<FileDigest, String>> =
        match digest_files(&paths, threads, &|n| bar.inc(n)) {
            Ok(all) => all.into_iter().map(Ok).collect(),
            Err(_) => paths
                .iter()
                .map(|p| {
                    digest_files(std::slice::from_ref(p), 1, &|_| {})
                        .map(|mut v| v.remove(0))
                        .map_err(|e| e.to_string())
                })
                .collect(),
        };
    bar.finish();
    listed
        .into_iter()
        .map(|f| f.path.clone())
        .zip(results)
        .collect()
}

/// Compares a file's digests with its entry; `None` when they match.
fn mismatch(
    entry: &FileEntry,
    digests: &BTreeMap<String, Result<FileDigest, String>>,
) -> Option<String> {
    match digests.get(&entry.path) {
        None => Some("missing".into()),
        Some(Err(e)) => Some(e.clone()),
        Some(Ok(d)) if d.size != entry.size => Some(format!(
            "size is {}, the manifest says {}",
            d.size, entry.size
        )),
        Some(Ok(d)) if d.sha256 != entry.sha256 => Some(format!(
            "sha256 is {}, the manifest says {}",
            d.sha256, entry.sha256
        )),
        Some(Ok(d)) if d.sha512 != entry.sha512 => Some(format!(
            "sha512 is {}..., the manifest says {}...",
            &d.sha512[..16],
            entry.sha512.get(..16).unwrap_or(&entry.sha512)
        )),
        Some(Ok(_)) => None,
    }
}

/// One check per artifact, checksum file and the notes.
fn check_files(
    dir: &Path,
    manifest: &Manifest,
    digests: &BTreeMap<String, Result<FileDigest, String>>,
    checks: &mut Checks,
) {
    for a in &manifest.artifacts {
        let name = format!("artifact {}", a.path);
        match mismatch(a, digests) {
            None => checks.pass(name, format!("{} bytes, sha256:{}", a.size, a.sha256)),
            Some(why) => checks.fail(name, why),
        }
    }
    for c in &manifest.checksums {
        let name = format!("checksums {}", c.path);
        if let Some(why) = mismatch(c, digests) {
            checks.fail(name, why);
            continue;
        }
        match checksum_lines_agree(&dir.join(&c.path), manifest) {
            Ok(n) => checks.pass(name, format!("{n} lines, each as in the manifest")),
            Err(why) => checks.fail(name, why),
        }
    }
    let name = format!("notes {}", manifest.notes.path);
    match mismatch(&manifest.notes, digests) {
        None => checks.pass(name, "as signed"),
        Some(why) => checks.fail(name, why),
    }
}

/// A `SHA256SUMS`/`SHA512SUMS` file lists exactly the artifacts and the SBOM with the manifest's
/// digests.
fn checksum_lines_agree(path: &Path, manifest: &Manifest) -> Result<usize, String> {
    let text = read_bounded(path, 16 << 20)?;
    let text = String::from_utf8(text).map_err(|_| "not UTF-8".to_string())?;
    let sha512 = path.file_name().is_some_and(|n| n == SHA512SUMS);
    let mut want: BTreeMap<&str, &str> = manifest
        .artifacts
        .iter()
        .chain(std::iter::once(&manifest.sbom.file))
        .map(|f| {
            (
                f.path.as_str(),
                if sha512 {
                    f.sha512.as_str()
                } else {
                    f.sha256.as_str()
                },
            )
        })
        .collect();
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        let (hex, file) = line
            .split_once("  ")
            .ok_or_else(|| format!("line {}: not `DIGEST  PATH`", i + 1))?;
        match want.remove(file) {
            Some(expected) if expected == hex => n += 1,
            Some(_) => return Err(format!("line {}: {file} has another digest", i + 1)),
            None => {
                return Err(format!(
                    "line {}: {file} is not an artifact or the SBOM",
                    i + 1
                ));
            }
        }
    }
    if let Some(missing) = want.keys().next() {
        return Err(format!("{missing} is not listed"));
    }
    Ok(n)
}

/// `sbom`: the digests as signed, valid CycloneDX, the version the manifest names.
fn check_sbom(
    dir: &Path,
    manifest: &Manifest,
    digests: &BTreeMap<String, Result<FileDigest, String>>,
    required: bool,
    checks: &mut Checks,
) {
    let s = &manifest.sbom;
    if let Some(why) = mismatch(&s.file, digests) {
        checks.fail("sbom", format!("{}: {why}", s.file.path));
        return;
    }
    let bytes = match read_bounded(&dir.join(&s.file.path), sbom::MAX_SBOM_BYTES) {
        Ok(b) => b,
        Err(e) => {
            checks.fail("sbom", e);
            return;
        }
    };
    match sbom_check(&bytes) {
        Ok(version) if version != s.spec_version => checks.fail(
            "sbom",
            format!("CycloneDX {version}, the manifest says {}", s.spec_version),
        ),
        Ok(version) => {
            let components = sbom::component_count(&bytes);
            if required && components <= manifest.artifacts.len() {
                checks.fail(
                    "sbom",
                    format!(
                        "--require sbom: CycloneDX {version} lists no dependencies, only the \
                         artifacts"
                    ),
                );
            } else {
                checks.pass(
                    "sbom",
                    format!(
                        "{}: CycloneDX {version}, schema-valid, {components} components, as signed",
                        s.file.path
                    ),
                );
            }
        }
        Err(why) => checks.fail("sbom", format!("{}: {why}", s.file.path)),
    }
}

/// The SBOM check on a document: its CycloneDX version when it is schema-valid, or the first
/// schema errors.
pub fn sbom_check(bytes: &[u8]) -> Result<String, String> {
    sbom::validate(bytes)
        .map(|v| v.to_string())
        .map_err(|errors| {
            let first: Vec<&str> = errors.iter().take(3).map(String::as_str).collect();
            format!("not valid CycloneDX: {}", first.join("; "))
        })
}

/// One check per verdict; returns the verdicts that passed every check, by commit.
fn check_verdicts(
    dir: &Path,
    manifest: &Manifest,
    digests: &BTreeMap<String, Result<FileDigest, String>>,
    req: &VerifyRequest,
    checks: &mut Checks,
) -> BTreeMap<String, GateVerdict> {
    let mut good = BTreeMap::new();
    for v in &manifest.verdicts {
        let name = format!("verdict {}", short(&v.commit));
        if let Some(why) = mismatch(&v.file, digests) {
            checks.fail(name, format!("{}: {why}", v.file.path));
            continue;
        }
        let read = read_bounded(&dir.join(&v.file.path), MAX_BUNDLE_BYTES)
            .and_then(|b| read_verdict(&b, &req.verdict_signer));
        match read {
            Err(e) => checks.fail(name, format!("{}: {e}", v.file.path)),
            Ok((gate, _, _)) if gate.head != v.commit => checks.fail(
                name,
                format!("judged {}, the manifest says {}", gate.head, v.commit),
            ),
            Ok((gate, _, _)) if gate.verdict != "pass" => checks.fail(
                name,
                format!("the gate said `{}`, not `pass`", gate.verdict),
            ),
            Ok((gate, time, signer)) => {
                checks.pass(name, format!("pass, made {time}, signed by {signer}"));
                good.insert(v.commit.clone(), gate);
            }
        }
    }
    good
}

/// `range`: every commit is covered by a verdict that passed its check.
fn check_range(
    manifest: &Manifest,
    good: &BTreeMap<String, GateVerdict>,
    req: &VerifyRequest,
    checks: &mut Checks,
) {
    let cov = &manifest.coverage;
    let what = match &cov.range {
        Some(r) => format!(
            "range {} ({} first-parent commits)",
            r.spec,
            cov.commits.len()
        ),
        None => format!("{} verdict(s), no range", cov.commits.len()),
    };
    if cov.commits.is_empty() {
        if let Some(r) = &cov.range {
            let detail = format!(
                "range {}: no first-parent commits, nothing to cover",
                r.spec
            );
            if req.require.verdicts {
                checks.fail("range", format!("--require verdicts: {detail}"));
            } else {
                checks.add("range", Outcome::Warn, detail);
            }
        } else if req.require.verdicts {
            checks.fail("range", "--require verdicts: the packet has no verdicts");
        } else {
            checks.add(
                "range",
                Outcome::Skip,
                "no verdicts and no range in this packet",
            );
        }
        return;
    }
    let mut problems = Vec::new();
    let mut uncovered = Vec::new();
    for c in &cov.commits {
        match (&c.verdict, c.how) {
            (_, How::Uncovered) | (None, _) => uncovered.push(format!(
                "{} ({})",
                short(&c.commit),
                c.reason.as_deref().unwrap_or("uncovered")
            )),
            (Some(v), _) if !good.contains_key(v) => problems.push(format!(
                "{} is covered by verdict {}, which did not verify",
                short(&c.commit),
                short(v)
            )),
            _ => {}
        }
    }
    if !problems.is_empty() {
        checks.fail("range", format!("{what}: {}", problems.join("; ")));
    } else if uncovered.is_empty() {
        checks.pass(
            "range",
            format!("{what}: every commit covered by a passing verdict"),
        );
    } else {
        let detail = format!(
            "{what}: {} uncovered{}: {}",
            uncovered.len(),
            if cov.allow_uncovered {
                " (built with --allow-uncovered)"
            } else {
                ""
            },
            uncovered.join(", ")
        );
        if req.allow_uncovered && !req.require.verdicts {
            checks.add("range", Outcome::Warn, detail);
        } else {
            checks.fail("range", detail);
        }
    }
}

/// `history`: the range's first-parent commits, walked again in `repo`, are the manifest's, and
/// the packet's verified verdicts cover them as the manifest says.
fn check_history(
    repo: &Path,
    manifest: &Manifest,
    good: &BTreeMap<String, GateVerdict>,
    checks: &mut Checks,
) {
    let Some(range) = &manifest.coverage.range else {
        checks.add("history", Outcome::Skip, "the packet has no range");
        return;
    };
    let result = (|| -> Result<String, String> {
        let git = git2::Repository::discover(repo)
            .map_err(|e| format!("{}: {}", repo.display(), e.message()))?;
        let walked = chain::first_parent_commits(&git, &range.base, &range.head)
            .map_err(|e| e.to_string())?;
        let listed: Vec<&str> = manifest
            .coverage
            .commits
            .iter()
            .map(|c| c.commit.as_str())
            .collect();
        if walked.commits != listed {
            return Err(format!(
                "{}..{} has {} first-parent commits in {}, the manifest lists {} others",
                short(&range.base),
                short(&range.head),
                walked.commits.len(),
                repo.display(),
                listed.len()
            ));
        }
        let verdicts: Vec<GateVerdict> = good.values().cloned().collect();
        let again = chain::cover(&git, &walked, &verdicts).map_err(|e| e.to_string())?;
        for (mine, theirs) in again.iter().zip(&manifest.coverage.commits) {
            if theirs.how != How::Uncovered && mine.how == How::Uncovered {
                return Err(format!(
                    "{}: the manifest says {:?} by {}, the repository gives {:?}{}",
                    short(&mine.commit),
                    theirs.how,
                    theirs.verdict.as_deref().map(short).unwrap_or("-"),
                    mine.how,
                    mine.reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ));
            }
        }
        Ok(format!(
            "{} commits of {} walked again in {}: coverage confirmed",
            walked.commits.len(),
            range.spec,
            repo.display()
        ))
    })();
    match result {
        Ok(detail) => checks.pass("history", detail),
        Err(why) => checks.fail("history", why),
    }
}

/// `complete`: every listed file is present. `extra`: nothing else is.
fn check_complete(manifest: &Manifest, present: &BTreeSet<String>, checks: &mut Checks) {
    let listed: BTreeSet<&str> = manifest.files().map(|f| f.path.as_str()).collect();
    let missing: Vec<&str> = listed
        .iter()
        .filter(|p| !present.contains(**p))
        .copied()
        .collect();
    if missing.is_empty() {
        checks.pass(
            "complete",
            format!("all {} listed files present", listed.len()),
        );
    } else {
        checks.fail("complete", format!("missing: {}", missing.join(", ")));
    }
    let extra: Vec<&str> = present
        .iter()
        .map(String::as_str)
        .filter(|p| !listed.contains(p) && *p != MANIFEST && *p != BUNDLE)
        .collect();
    if extra.is_empty() {
        checks.pass("extra", "no file outside the manifest");
    } else {
        checks.fail(
            "extra",
            format!("not in the manifest: {}", extra.join(", ")),
        );
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
