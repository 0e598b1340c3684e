//! `packet.json`, the manifest of a release packet: what was released, where each file is and its
//! digests, and which verdicts cover the release's commits. It is also the predicate of the
//! packet's signed in-toto Statement, so every file of the packet is bound to the signature:
//! artifacts and the SBOM as subjects, the other files through their digests here.

use crate::chain::CommitCoverage;
use serde::{Deserialize, Serialize};

/// The `predicateType` of a release packet's Statement, version 1.
pub const PREDICATE_TYPE: &str = "https://cavra.dev/attestation/release-packet/v1";

/// The manifest's file name.
pub const MANIFEST: &str = "packet.json";
/// The signed bundle's file name.
pub const BUNDLE: &str = "packet.sigstore.json";
/// The SBOM's file name.
pub const SBOM: &str = "sbom.cdx.json";
/// The release notes' file name.
pub const NOTES: &str = "RELEASE.md";
/// The SHA-256 checksum file (`sha256sum -c` reads it).
pub const SHA256SUMS: &str = "SHA256SUMS";
/// The SHA-512 checksum file (`sha512sum -c` reads it).
pub const SHA512SUMS: &str = "SHA512SUMS";
/// The directory holding the artifacts.
pub const ARTIFACTS_DIR: &str = "artifacts";
/// The directory holding the verdict bundles.
pub const VERDICTS_DIR: &str = "verdicts";

/// The largest manifest read.
pub const MAX_MANIFEST_BYTES: usize = 16 << 20;

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// Always 1 for this layout.
    pub packet_version: u32,
    /// The product released.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Where it was built from, when known.
    pub source: Source,
    /// The released files, under `artifacts/`.
    pub artifacts: Vec<FileEntry>,
    /// The SBOM.
    pub sbom: SbomEntry,
    /// `SHA256SUMS` and `SHA512SUMS`.
    pub checksums: Vec<FileEntry>,
    /// `RELEASE.md`.
    pub notes: FileEntry,
    /// The verdict bundles, under `verdicts/`.
    pub verdicts: Vec<VerdictEntry>,
    /// Which verdict covers each commit of the release.
    pub coverage: Coverage,
    /// The tool that built the packet.
    pub builder: Builder,
    /// When it was built (RFC 3339 UTC; `SOURCE_DATE_EPOCH` when set).
    pub time: String,
}

/// Where the release was built from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Source {
    /// The repository (`owner/name` or a URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The released commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The release tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// One file of the packet and its digests (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileEntry {
    /// The path inside the packet, `/`-separated.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256.
    pub sha256: String,
    /// SHA-512.
    pub sha512: String,
}

/// The SBOM file and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SbomEntry {
    /// The file.
    #[serde(flatten)]
    pub file: FileEntry,
    /// `CycloneDX`.
    pub format: String,
    /// The CycloneDX version it validates against (`1.5`, ...).
    pub spec_version: String,
    /// `generated` (from the artifacts and lockfiles) or `supplied` (`--sbom`).
    pub origin: String,
}

/// One verdict bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerdictEntry {
    /// The commit the verdict judged (its head).
    pub commit: String,
    /// The bundle.
    #[serde(flatten)]
    pub file: FileEntry,
    /// The verdict (`pass`).
    pub verdict: String,
}

/// Which verdict covers each commit of the release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Coverage {
    /// The range, when the packet was built with `--range`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<RangeRef>,
    /// Every first-parent commit of the range (oldest first), or without a range every verdict
    /// given, and what covers it.
    pub commits: Vec<CommitCoverage>,
    /// The build was told to go on with uncovered commits (`--allow-uncovered`).
    pub allow_uncovered: bool,
}

/// A release range, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RangeRef {
    /// The range as given (`v1.0.0..v1.1.0`).
    pub spec: String,
    /// The base commit.
    pub base: String,
    /// The head commit.
    pub head: String,
}

/// The tool that built a packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Builder {
    /// `cavra`.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl Manifest {
    /// Reads a manifest: at most [`MAX_MANIFEST_BYTES`], no unknown fields, version 1, and every
    /// path a plain relative path in its place.
    pub fn from_json(bytes: &[u8]) -> Result<Manifest, String> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(format!(
                "{} bytes is over the {MAX_MANIFEST_BYTES} byte limit",
                bytes.len()
            ));
        }
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        m.check()?;
        Ok(m)
    }

    /// The manifest as pretty JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Checks the version and every listed path.
    pub fn check(&self) -> Result<(), String> {
        if self.packet_version != 1 {
            return Err(format!(
                "packetVersion {} is not supported (this cavra reads 1)",
                self.packet_version
            ));
        }
        for a in &self.artifacts {
            check_path(&a.path, Some(ARTIFACTS_DIR))?;
        }
        for v in &self.verdicts {
            check_path(&v.file.path, Some(VERDICTS_DIR))?;
        }
        check_path(&self.sbom.file.path, None)?;
        check_path(&self.notes.path, None)?;
        for c in &self.checksums {
            check_path(&c.path, None)?;
        }
        let mut seen = std::collections::BTreeSet::new();
        for f in self.files() {
            if !seen.insert(f.path.as_str()) {
                return Err(format!("{} is listed twice", f.path));
            }
            if [MANIFEST, BUNDLE].contains(&f.path.as_str()) {
                return Err(format!("{} cannot be listed as a file", f.path));
            }
        }
        Ok(())
    }

    /// Every file the manifest lists (everything in the packet except the manifest and its
    /// bundle).
    pub fn files(&self) -> impl Iterator<Item = &FileEntry> {
        self.artifacts
            .iter()
            .chain(std::iter::once(&self.sbom.file))
            .chain(self.checksums.iter())
            .chain(std::iter::once(&self.notes))
            .chain(self.verdicts.iter().map(|v| &v.file))
    }
}

/// A `SHA256SUMS` (or with `sha512`, `SHA512SUMS`) file listing `files` in the format of
/// `sha256sum -c`: `DIGEST  PATH` lines.
pub fn sums_text<'a>(files: impl IntoIterator<Item = &'a FileEntry>, sha512: bool) -> String {
    files
        .into_iter()
        .map(|f| {
            let digest = if sha512 { &f.sha512 } else { &f.sha256 };
            format!("{digest}  {}\n", f.path)
        })
        .collect()
}

/// A packet path: `/`-separated normal components (no `.`, `..`, empty or absolute parts, no
/// backslash or control characters), under `dir/` when given (exactly one level below it).
pub fn check_path(path: &str, dir: Option<&str>) -> Result<(), String> {
    let bad = || format!("{path:?} is not a plain relative path inside the packet");
    if path.is_empty()
        || path.len() > 4096
        || path.starts_with('/')
        || path.contains('\\')
        || path.chars().any(char::is_control)
    {
        return Err(bad());
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return Err(bad());
    }
    match dir {
        Some(dir) if parts.len() != 2 || parts[0] != dir => {
            Err(format!("{path:?} must be a file directly under {dir}/"))
        }
        None if parts.len() != 1 => Err(format!("{path:?} must be at the top of the packet")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_plain_and_in_their_place() {
        assert!(check_path("artifacts/app.tar.gz", Some(ARTIFACTS_DIR)).is_ok());
        assert!(check_path("SHA256SUMS", None).is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "artifacts/../x",
            "artifacts//x",
            "a\\b",
            "./x",
            "x\n",
        ] {
            assert!(check_path(bad, None).is_err(), "{bad:?}");
            assert!(check_path(bad, Some(ARTIFACTS_DIR)).is_err(), "{bad:?}");
        }
        assert!(check_path("artifacts/a/b", Some(ARTIFACTS_DIR)).is_err());
        assert!(check_path("verdicts/x", Some(ARTIFACTS_DIR)).is_err());
        assert!(check_path("artifacts/x", None).is_err());
    }
}
