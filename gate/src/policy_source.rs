//! Where the policy comes from: the base revision's tree, a local file, or the built-in default.
//!
//! The head of a change never supplies its own policy: a pull request that edits
//! `.cavra/policy.yaml` is judged by the base's copy.

use crate::GateError;
use cavra_policy::builtin::DEFAULT_POLICY;
use cavra_policy::{FileSource, Policy, resolve_policy};
use git2::{Oid, Repository};
use std::path::{Path, PathBuf};

/// Where a repository keeps its policy, in order of preference.
pub const POLICY_PATHS: [&str; 2] = [".cavra/policy.yaml", ".cavra/policy.yml"];

/// Largest policy file read from a tree or the disk.
const MAX_POLICY_FILE: usize = 1024 * 1024;

/// A resolved policy and where it was read.
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    /// The policy.
    pub policy: Policy,
    /// `PATH@SHA`, `file:PATH` or `builtin:baseline (default)`.
    pub source: String,
    /// True when it came from `--policy` (a local override).
    pub local_override: bool,
}

/// Reads policy files from one commit's tree.
struct TreeSource<'r> {
    repo: &'r Repository,
    commit: Oid,
}

impl FileSource for TreeSource<'_> {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        let tree = self
            .repo
            .find_commit(self.commit)
            .and_then(|c| c.tree())
            .map_err(|e| e.message().to_string())?;
        let Ok(entry) = tree.get_path(Path::new(path)) else {
            return Ok(None);
        };
        let blob = entry
            .to_object(self.repo)
            .and_then(|o| o.peel_to_blob())
            .map_err(|_| format!("`{path}` is not a file in {}", self.commit))?;
        if blob.size() > MAX_POLICY_FILE {
            return Err(format!("`{path}` is larger than {MAX_POLICY_FILE} bytes"));
        }
        String::from_utf8(blob.content().to_vec())
            .map(Some)
            .map_err(|_| format!("`{path}` is not UTF-8"))
    }
}

/// Reads policy files from the disk, relative to a directory.
struct DiskSource {
    root: PathBuf,
}

impl FileSource for DiskSource {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        let full = self.root.join(path);
        match std::fs::metadata(&full) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.to_string()),
            Ok(m) if m.len() > MAX_POLICY_FILE as u64 => {
                return Err(format!("larger than {MAX_POLICY_FILE} bytes"));
            }
            Ok(_) => {}
        }
        std::fs::read_to_string(&full)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

/// Loads the policy: `--policy FILE` if given, else the repository's policy at `base`,
/// else the built-in default (`extends: [builtin:baseline]`).
pub fn load_policy(
    repo: Option<&Repository>,
    base: Option<Oid>,
    policy_file: Option<&Path>,
) -> Result<LoadedPolicy, GateError> {
    if let Some(file) = policy_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| GateError::Usage(format!("cannot read policy {}: {e}", file.display())))?;
        if text.len() > MAX_POLICY_FILE {
            return Err(GateError::Usage(format!(
                "policy {} is larger than {MAX_POLICY_FILE} bytes",
                file.display()
            )));
        }
        // Files named in `extends` resolve relative to the policy file's directory.
        let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let source = DiskSource { root: dir };
        let mut policy = resolve_policy(&name, &text, &source)?;
        // Report the layers by the path the user gave, not by the directory-relative name.
        for layer in &mut policy.layers {
            if *layer == name {
                *layer = file.display().to_string();
            }
        }
        return Ok(LoadedPolicy {
            policy,
            source: format!("file:{}", file.display()),
            local_override: true,
        });
    }
    if let (Some(repo), Some(base)) = (repo, base) {
        let tree = TreeSource { repo, commit: base };
        for path in POLICY_PATHS {
            if let Some(text) = tree.read(path).map_err(GateError::Usage)? {
                let policy = resolve_policy(path, &text, &tree)?;
                return Ok(LoadedPolicy {
                    policy,
                    source: format!("{path}@{base}"),
                    local_override: false,
                });
            }
        }
    }
    let policy = resolve_policy("builtin:default", DEFAULT_POLICY, &cavra_policy::NoFiles)?;
    Ok(LoadedPolicy {
        policy,
        source: "builtin:baseline (default)".to_string(),
        local_override: false,
    })
}
