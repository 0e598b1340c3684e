//! The SBOM of a release packet: lockfiles to a CycloneDX 1.5 JSON document (written with
//! `cyclonedx-bom`), and validation of any CycloneDX 1.4-1.6 JSON document against the official
//! schemas (embedded, offline).

mod lockfile;
mod validate;

pub use lockfile::{
    Lockfile, MAX_LOCKFILE_BYTES, MAX_PACKAGES, Package, read_lockfile, read_lockfile_bytes,
};
pub use validate::{MAX_SBOM_BYTES, SpecVersion, validate};

use cyclonedx_bom::models::bom::Bom;
use cyclonedx_bom::models::component::{Classification, Component, Components};
use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
use cyclonedx_bom::models::hash::{Hash, HashAlgorithm, HashValue, Hashes};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::prelude::Purl;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// One released file.
#[derive(Debug, Clone, Copy)]
pub struct Artifact<'a> {
    pub name: &'a str,
    pub sha256: &'a str,
    pub sha512: &'a str,
    pub size: u64,
}

/// Why an SBOM could not be built or a lockfile read.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: not a known lockfile (Cargo.lock, package-lock.json, poetry.lock, requirements*.txt, go.sum)"
    )]
    UnknownLockfile { path: PathBuf },
    #[error("{path}:{line}: {message}")]
    Malformed {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: larger than {limit} bytes")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("invalid SBOM input: {0}")]
    Invalid(String),
    #[error("writing the SBOM: {0}")]
    Write(String),
}

/// The number of top-level `components` of a CycloneDX JSON document (0 when unreadable).
pub fn component_count(json: &[u8]) -> usize {
    serde_json::from_slice::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v.get("components").and_then(|c| c.as_array()).map(Vec::len))
        .unwrap_or(0)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hash(alg: &str, hex: &str) -> Option<Hash> {
    let alg = match alg {
        "SHA-256" if is_hex(hex, 64) => HashAlgorithm::SHA_256,
        "SHA-512" if is_hex(hex, 128) => HashAlgorithm::SHA_512,
        "SHA-384" if is_hex(hex, 96) => HashAlgorithm::SHA_384,
        "SHA-1" if is_hex(hex, 40) => HashAlgorithm::SHA1,
        _ => return None,
    };
    Some(Hash {
        alg,
        content: HashValue(hex.to_ascii_lowercase()),
    })
}

/// A CycloneDX 1.5 JSON SBOM: the release as the metadata component, one `file` component per
/// artifact (SHA-256 and SHA-512) and one `library` component per package of the lockfiles, with
/// the dependency graph where the lockfile has one.
pub fn build(
    name: &str,
    version: &str,
    artifacts: &[Artifact],
    lockfiles: &[PathBuf],
) -> Result<String, SbomError> {
    let mut packages = Vec::new();
    for path in lockfiles {
        packages.extend(read_lockfile(path)?);
    }
    build_from_packages(name, version, artifacts, &packages)
}

/// [`build`] from packages already read.
pub fn build_from_packages(
    name: &str,
    version: &str,
    artifacts: &[Artifact],
    packages: &[Package],
) -> Result<String, SbomError> {
    let root_ref = format!("release:{name}@{version}");
    let mut metadata = Metadata::new().map_err(|e| SbomError::Write(e.to_string()))?;
    metadata.component = Some(Component::new(
        Classification::Application,
        name,
        version,
        Some(root_ref.clone()),
    ));

    let mut components = Vec::new();
    let mut refs = BTreeSet::new();
    let mut root_deps = Vec::new();
    for a in artifacts {
        let bom_ref = format!("artifact:{}", a.name);
        if !refs.insert(bom_ref.clone()) {
            return Err(SbomError::Invalid(format!(
                "artifact {} given twice",
                a.name
            )));
        }
        let mut hashes = Vec::new();
        for (alg, hex) in [("SHA-256", a.sha256), ("SHA-512", a.sha512)] {
            hashes.push(hash(alg, hex).ok_or_else(|| {
                SbomError::Invalid(format!("artifact {}: {alg} is not a hex digest", a.name))
            })?);
        }
        let mut c = Component::new(Classification::File, a.name, version, Some(bom_ref.clone()));
        c.hashes = Some(Hashes(hashes));
        components.push(c);
        root_deps.push(bom_ref);
    }

    // Packages are keyed by purl: the same package from two lockfiles is one component.
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut by_purl: BTreeMap<&str, &Package> = BTreeMap::new();
    for p in packages {
        by_purl.entry(p.purl.as_str()).or_insert(p);
        graph
            .entry(p.purl.clone())
            .or_default()
            .extend(p.depends_on.iter().cloned());
    }
    for (purl, p) in &by_purl {
        let mut c = Component::new(
            Classification::Library,
            &p.name,
            &p.version,
            Some(purl.to_string()),
        );
        c.purl = Some(Purl::from_str(purl).map_err(|_| SbomError::Invalid(purl.to_string()))?);
        let hashes: Vec<Hash> = p
            .hashes
            .iter()
            .filter_map(|(alg, hex)| hash(alg, hex))
            .collect();
        if !hashes.is_empty() {
            c.hashes = Some(Hashes(hashes));
        }
        components.push(c);
        refs.insert(purl.to_string());
    }
    let mut dependencies = vec![Dependency {
        dependency_ref: root_ref,
        dependencies: root_deps,
    }];
    for (purl, deps) in graph {
        dependencies.push(Dependency {
            dependency_ref: purl,
            // A dependency the lockfile names but does not list is left out rather than dangling.
            dependencies: deps.into_iter().filter(|d| refs.contains(d)).collect(),
        });
    }

    let bom = Bom {
        metadata: Some(metadata),
        components: Some(Components(components)),
        dependencies: Some(Dependencies(dependencies)),
        ..Bom::default()
    };
    let mut out = Vec::new();
    bom.output_as_json_v1_5(&mut out)
        .map_err(|e| SbomError::Write(e.to_string()))?;
    let json = String::from_utf8(out).map_err(|e| SbomError::Write(e.to_string()))?;
    // What is written must pass the same check `release verify` applies.
    validate(json.as_bytes()).map_err(|errors| {
        SbomError::Write(format!(
            "the SBOM is not schema-valid: {}",
            errors.join("; ")
        ))
    })?;
    Ok(json)
}

/// Read a lockfile whose kind is known from its name, bounded by `limit`.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, SbomError> {
    use std::io::Read;
    let io = |source| SbomError::Io {
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut buf = Vec::new();
    f.take(limit + 1).read_to_end(&mut buf).map_err(io)?;
    if buf.len() as u64 > limit {
        return Err(SbomError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(buf)
}
