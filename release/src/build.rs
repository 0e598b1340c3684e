//! `cavra release build`: artifacts, checksums, an SBOM, verdict bundles and release notes laid
//! out as a packet (`../shared/DESIGN.md`), with one signed in-toto Statement over all of it.
//!
//! The packet is written into a hidden directory beside `--out` and renamed into place at the
//! end, so a failed build leaves nothing half-written. Verdicts and the release range are
//! checked before any artifact is copied, so an uncovered release fails fast.

use crate::chain::{self, CommitCoverage, GateVerdict, How};
use crate::digest::{FileDigest, digest_files, digest_reader};
use crate::manifest::*;
use crate::progress::Bar;
use crate::sbom::{self, Artifact, MAX_SBOM_BYTES};
use crate::verdicts::{SignedVerdict, Trust, read_bounded, read_dir};
use cavra_attestation::signer::Signer;
use cavra_attestation::statement::{STATEMENT_TYPE, Statement, Subject};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Where the SBOM comes from.
#[derive(Debug, Clone)]
pub enum SbomInput {
    /// Generated from the artifacts and these lockfiles (possibly none).
    Generate(Vec<PathBuf>),
    /// A CycloneDX JSON document (validated, 1.4-1.6).
    Supplied(PathBuf),
}

/// Everything a build needs.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// The product.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Repository, commit and tag, when known (the commit defaults to the range's head).
    pub source: Source,
    /// The files to release.
    pub artifacts: Vec<PathBuf>,
    /// The SBOM.
    pub sbom: SbomInput,
    /// A directory of verdict bundles (`cavra gate --attest` output).
    pub verdicts_dir: Option<PathBuf>,
    /// Who may sign verdicts.
    pub verdict_trust: Trust,
    /// `BASE..HEAD`: every first-parent commit must be covered by a passing verdict.
    pub range: Option<String>,
    /// The repository the range is read from.
    pub repo: PathBuf,
    /// Go on when commits are not covered, and record it.
    pub allow_uncovered: bool,
    /// A minijinja template for `RELEASE.md` instead of the built-in one.
    pub notes_template: Option<String>,
    /// The packet directory to write (must not exist, or be empty).
    pub out: PathBuf,
    /// The build time (RFC 3339 UTC).
    pub time: String,
    /// Draw progress bars (only when stderr is a terminal).
    pub progress: bool,
}

/// Why a build did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Bad input: flags, files, templates.
    #[error("{0}")]
    Usage(String),
    /// The release is not covered by passing verdicts (and `--allow-uncovered` was not given).
    #[error("{0}")]
    Uncovered(String),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(String),
}

/// A built packet.
#[derive(Debug, Clone)]
pub struct Built {
    /// Its manifest.
    pub manifest: Manifest,
    /// Who signed it.
    pub signer: String,
    /// Verdict bundles given but not needed by the range.
    pub unused_verdicts: Vec<PathBuf>,
}

/// Builds a packet into `req.out`.
pub fn build(req: &BuildRequest, signer: &Signer) -> Result<Built, BuildError> {
    check_names(req)?;
    let names = artifact_names(&req.artifacts)?;
    let template = req
        .notes_template
        .clone()
        .unwrap_or_else(|| crate::notes::DEFAULT_TEMPLATE.to_string());
    let verdicts = match &req.verdicts_dir {
        Some(dir) => read_dir(dir, &req.verdict_trust).map_err(BuildError::Usage)?,
        None => Vec::new(),
    };
    let (coverage, repo) = coverage(req, &verdicts)?;
    let uncovered: Vec<&CommitCoverage> = coverage
        .commits
        .iter()
        .filter(|c| c.how == How::Uncovered)
        .collect();
    if !uncovered.is_empty() && !req.allow_uncovered {
        let list: Vec<String> = uncovered
            .iter()
            .map(|c| format!("  {}: {}", c.commit, c.reason.as_deref().unwrap_or("")))
            .collect();
        return Err(BuildError::Uncovered(format!(
            "{} commit(s) are not covered by a passing gate verdict (give --allow-uncovered to \
             release anyway; the packet records it):\n{}",
            uncovered.len(),
            list.join("\n")
        )));
    }
    let chosen = choose_verdicts(&coverage, &verdicts);
    let unused_verdicts = verdicts
        .iter()
        .filter(|v| !chosen.iter().any(|c| std::ptr::eq(*c, *v)))
        .map(|v| v.path.clone())
        .collect();

    let staging = Staging::new(&req.out)?;
    let dir = staging.path.clone();
    let io = |p: &Path, e: std::io::Error| BuildError::Io(format!("{}: {e}", p.display()));

    // Artifacts: copied, then hashed where they now are.
    let art_dir = dir.join(ARTIFACTS_DIR);
    fs::create_dir(&art_dir).map_err(|e| io(&art_dir, e))?;
    let mut copies = Vec::new();
    let total: u64 = req
        .artifacts
        .iter()
        .filter_map(|p| fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = Bar::bytes(req.progress, "copying", total);
    for (src, name) in req.artifacts.iter().zip(&names) {
        let dst = art_dir.join(name);
        let n = fs::copy(src, &dst).map_err(|e| io(src, e))?;
        bar.inc(n);
        copies.push(dst);
    }
    bar.finish();
    let bar = Bar::bytes(req.progress, "hashing", total);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let digests = digest_files(&copies, threads, &|n| bar.inc(n))
        .map_err(|e| BuildError::Io(e.to_string()))?;
    bar.finish();
    let artifacts: Vec<FileEntry> = digests
        .iter()
        .zip(&names)
        .map(|(d, name)| entry(&format!("{ARTIFACTS_DIR}/{name}"), d))
        .collect();

    // SBOM.
    let (sbom_bytes, spec_version, origin) = match &req.sbom {
        SbomInput::Supplied(path) => {
            let bytes = read_bounded(path, MAX_SBOM_BYTES).map_err(BuildError::Usage)?;
            let version = sbom::validate(&bytes).map_err(|errors| {
                BuildError::Usage(format!(
                    "{}: not a valid CycloneDX SBOM:\n  {}",
                    path.display(),
                    errors.join("\n  ")
                ))
            })?;
            (bytes, version.to_string(), "supplied")
        }
        SbomInput::Generate(lockfiles) => {
            let refs: Vec<Artifact> = artifacts
                .iter()
                .zip(&names)
                .map(|(a, name)| Artifact {
                    name,
                    sha256: &a.sha256,
                    sha512: &a.sha512,
                    size: a.size,
                })
                .collect();
            let json = sbom::build(&req.name, &req.version, &refs, lockfiles)
                .map_err(|e| BuildError::Usage(e.to_string()))?;
            (json.into_bytes(), "1.5".to_string(), "generated")
        }
    };
    let components = sbom::component_count(&sbom_bytes);
    let sbom_file = write_file(&dir, SBOM, &sbom_bytes)?;

    // Verdict bundles.
    let vdir = dir.join(VERDICTS_DIR);
    fs::create_dir(&vdir).map_err(|e| io(&vdir, e))?;
    let mut verdict_entries = Vec::new();
    for v in &chosen {
        let path = format!("{VERDICTS_DIR}/{}.sigstore.json", v.gate.head);
        verdict_entries.push(VerdictEntry {
            commit: v.gate.head.clone(),
            file: write_file(&dir, &path, &v.bundle)?,
            verdict: v.gate.verdict.clone(),
        });
    }

    // Checksums over the artifacts and the SBOM, in `sha256sum -c` format.
    let summed = || artifacts.iter().chain(std::iter::once(&sbom_file));
    let checksums = vec![
        write_file(&dir, SHA256SUMS, sums_text(summed(), false).as_bytes())?,
        write_file(&dir, SHA512SUMS, sums_text(summed(), true).as_bytes())?,
    ];

    let mut source = req.source.clone();
    if source.commit.is_none() {
        source.commit = coverage.range.as_ref().map(|r| r.head.clone());
    }
    let mut manifest = Manifest {
        packet_version: 1,
        name: req.name.clone(),
        version: req.version.clone(),
        source,
        artifacts,
        sbom: SbomEntry {
            file: sbom_file,
            format: "CycloneDX".into(),
            spec_version,
            origin: origin.into(),
        },
        checksums,
        notes: FileEntry {
            path: NOTES.into(),
            size: 0,
            sha256: String::new(),
            sha512: String::new(),
        },
        verdicts: verdict_entries,
        coverage,
        builder: Builder {
            name: "cavra".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        time: req.time.clone(),
    };
    let summary = |commit: &str| -> Option<String> {
        let repo = repo.as_ref()?;
        let oid = git2::Oid::from_str(commit).ok()?;
        let commit = repo.find_commit(oid).ok()?;
        Some(String::from_utf8_lossy(commit.summary_bytes()?).into_owned())
    };
    let notes = crate::notes::render(&template, &manifest, components, &summary)
        .map_err(|e| BuildError::Usage(format!("release notes template: {e}")))?;
    manifest.notes = write_file(&dir, NOTES, notes.as_bytes())?;
    manifest.check().map_err(BuildError::Usage)?;

    let signed = seal(&dir, &manifest, signer)?;
    staging.finish()?;
    Ok(Built {
        manifest,
        signer: signed,
        unused_verdicts,
    })
}

/// Writes `packet.json` and `packet.sigstore.json` (the signed Statement) into `dir`; returns
/// who signed. Also used to re-sign an edited manifest.
pub fn seal(dir: &Path, manifest: &Manifest, signer: &Signer) -> Result<String, BuildError> {
    let statement = statement(manifest);
    let signed = signer
        .sign_statement(&statement)
        .map_err(|e| BuildError::Io(format!("signing the packet: {e}")))?;
    write_file(dir, MANIFEST, &manifest.to_json())?;
    write_file(dir, BUNDLE, signed.json.as_bytes())?;
    Ok(signed.signer)
}

/// The packet's Statement: every artifact and the SBOM as subjects (sha256 and sha512), the
/// manifest as predicate.
pub fn statement(manifest: &Manifest) -> Statement {
    let subject = manifest
        .artifacts
        .iter()
        .map(|a| (subject_name(&a.path), a))
        .chain(std::iter::once((
            manifest.sbom.file.path.clone(),
            &manifest.sbom.file,
        )))
        .map(|(name, f)| Subject {
            name,
            digest: BTreeMap::from([
                ("sha256".to_string(), f.sha256.clone()),
                ("sha512".to_string(), f.sha512.clone()),
            ]),
        })
        .collect();
    Statement {
        statement_type: STATEMENT_TYPE.into(),
        subject,
        predicate_type: PREDICATE_TYPE.into(),
        predicate: serde_json::to_value(manifest).unwrap_or_default(),
    }
}

/// An artifact's subject name: its file name, as `cosign`/`gh attestation` tools name files.
pub fn subject_name(path: &str) -> String {
    path.strip_prefix(&format!("{ARTIFACTS_DIR}/"))
        .unwrap_or(path)
        .to_string()
}

fn check_names(req: &BuildRequest) -> Result<(), BuildError> {
    for (what, value) in [("--name", &req.name), ("--version", &req.version)] {
        if value.trim().is_empty() || value.len() > 200 || value.chars().any(char::is_control) {
            return Err(BuildError::Usage(format!(
                "{what} must be 1 to 200 printable characters"
            )));
        }
    }
    if req.artifacts.is_empty() {
        return Err(BuildError::Usage(
            "give at least one --artifact PATH".into(),
        ));
    }
    Ok(())
}

/// The file names the artifacts get under `artifacts/`: unique, plain names of regular files.
fn artifact_names(paths: &[PathBuf]) -> Result<Vec<String>, BuildError> {
    let mut seen = BTreeSet::new();
    let mut names = Vec::new();
    for p in paths {
        let meta =
            fs::metadata(p).map_err(|e| BuildError::Usage(format!("{}: {e}", p.display())))?;
        if !meta.is_file() {
            return Err(BuildError::Usage(format!(
                "{}: not a regular file (give each artifact file; pack directories first)",
                p.display()
            )));
        }
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| BuildError::Usage(format!("{}: the name is not UTF-8", p.display())))?
            .to_string();
        check_path(&format!("{ARTIFACTS_DIR}/{name}"), Some(ARTIFACTS_DIR))
            .map_err(|e| BuildError::Usage(format!("{}: {e}", p.display())))?;
        if !seen.insert(name.clone()) {
            return Err(BuildError::Usage(format!(
                "two artifacts are named {name}: artifact file names must be unique"
            )));
        }
        names.push(name);
    }
    Ok(names)
}

/// Which verdict covers each commit: along the range's first-parent commits, or (without a
/// range) every verdict given.
fn coverage(
    req: &BuildRequest,
    verdicts: &[SignedVerdict],
) -> Result<(Coverage, Option<git2::Repository>), BuildError> {
    let gates: Vec<GateVerdict> = verdicts.iter().map(|v| v.gate.clone()).collect();
    let Some(spec) = &req.range else {
        let mut heads: BTreeMap<&str, Vec<&GateVerdict>> = BTreeMap::new();
        for g in &gates {
            heads.entry(&g.head).or_default().push(g);
        }
        let commits = heads
            .into_iter()
            .map(|(head, vs)| {
                let pass = vs.iter().any(|g| g.verdict == "pass");
                CommitCoverage {
                    commit: head.to_string(),
                    verdict: pass.then(|| head.to_string()),
                    how: if pass { How::Direct } else { How::Uncovered },
                    reason: (!pass).then(|| format!("only a `{}` verdict", vs[0].verdict)),
                }
            })
            .collect();
        let repo = git2::Repository::discover(&req.repo).ok();
        return Ok((
            Coverage {
                range: None,
                commits,
                allow_uncovered: req.allow_uncovered,
            },
            repo,
        ));
    };
    let repo = git2::Repository::discover(&req.repo).map_err(|e| {
        BuildError::Usage(format!(
            "--range needs the git repository: {}: {}",
            req.repo.display(),
            e.message()
        ))
    })?;
    let (base, head) = chain::parse_range(spec).map_err(|e| BuildError::Usage(e.to_string()))?;
    let range = chain::first_parent_commits(&repo, &base, &head)
        .map_err(|e| BuildError::Usage(e.to_string()))?;
    let commits = chain::cover(&repo, &range, &gates).map_err(|e| BuildError::Io(e.to_string()))?;
    let coverage = Coverage {
        range: Some(RangeRef {
            spec: spec.clone(),
            base: range.base.clone(),
            head: range.head.clone(),
        }),
        commits,
        allow_uncovered: req.allow_uncovered,
    };
    Ok((coverage, Some(repo)))
}

/// The bundle kept for each covering verdict head: the latest passing one.
fn choose_verdicts<'v>(
    coverage: &Coverage,
    verdicts: &'v [SignedVerdict],
) -> Vec<&'v SignedVerdict> {
    let heads: BTreeSet<&str> = coverage
        .commits
        .iter()
        .filter_map(|c| c.verdict.as_deref())
        .collect();
    heads
        .into_iter()
        .filter_map(|head| {
            verdicts
                .iter()
                .filter(|v| v.gate.head == head && v.gate.verdict == "pass")
                .max_by(|a, b| a.time.cmp(&b.time))
        })
        .collect()
}

fn entry(path: &str, d: &FileDigest) -> FileEntry {
    FileEntry {
        path: path.to_string(),
        size: d.size,
        sha256: d.sha256.clone(),
        sha512: d.sha512.clone(),
    }
}

/// Writes `bytes` at `rel` under `dir` and returns its entry.
fn write_file(dir: &Path, rel: &str, bytes: &[u8]) -> Result<FileEntry, BuildError> {
    let path = dir.join(rel);
    fs::write(&path, bytes).map_err(|e| BuildError::Io(format!("{}: {e}", path.display())))?;
    let (size, sha256, sha512) = digest_reader(bytes).map_err(|e| BuildError::Io(e.to_string()))?;
    Ok(FileEntry {
        path: rel.to_string(),
        size,
        sha256,
        sha512,
    })
}

/// A hidden directory beside the destination, renamed into place by [`Staging::finish`] and
/// removed if dropped before.
struct Staging {
    path: PathBuf,
    out: PathBuf,
    done: bool,
}

impl Staging {
    fn new(out: &Path) -> Result<Staging, BuildError> {
        match fs::read_dir(out) {
            Ok(mut it) => {
                if it.next().is_some() {
                    return Err(BuildError::Usage(format!(
                        "{}: exists and is not empty; choose a new --out directory",
                        out.display()
                    )));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(BuildError::Usage(format!("{}: {e}", out.display()))),
        }
        let name = out
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| BuildError::Usage(format!("{}: not a directory name", out.display())))?;
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)
            .map_err(|e| BuildError::Io(format!("{}: {e}", parent.display())))?;
        let path = parent.join(format!(".{name}.partial-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).map_err(|e| BuildError::Io(format!("{}: {e}", path.display())))?;
        Ok(Staging {
            path,
            out: out.to_path_buf(),
            done: false,
        })
    }

    fn finish(mut self) -> Result<(), BuildError> {
        let _ = fs::remove_dir(&self.out);
        fs::rename(&self.path, &self.out)
            .map_err(|e| BuildError::Io(format!("{}: {e}", self.out.display())))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}
