//! Gate verdict bundles as a packet uses them: verified against the signers trusted for verdicts,
//! then read as gate-verdict Statements (`cavra gate --attest` writes them).

use crate::chain::GateVerdict;
use cavra_attestation::statement::Statement;
use cavra_sigstore::bundle::MAX_BUNDLE_BYTES;
use cavra_sigstore::dsse::IN_TOTO_PAYLOAD_TYPE;
use cavra_sigstore::{Expect, TrustRoot, VerifiedContent};
use std::path::{Path, PathBuf};

/// The most verdict bundles read from a directory.
pub const MAX_VERDICT_FILES: usize = 10_000;

/// Who may sign: any of `signers`, checked against `root` (for certificates).
#[derive(Debug, Clone)]
pub struct Trust {
    /// Accepted signers; a bundle verifying against any one of them is trusted.
    pub signers: Vec<Expect>,
    /// The trusted root for certificate-signed bundles.
    pub root: TrustRoot,
}

impl Trust {
    /// Verifies `bundle` against each trusted signer in turn; the signer that verified, or every
    /// reason it did not.
    pub fn verify(&self, bundle: &[u8]) -> Result<cavra_sigstore::Verified, String> {
        if self.signers.is_empty() {
            return Err("no trusted signer was given".into());
        }
        let mut reasons = Vec::new();
        for expect in &self.signers {
            match cavra_sigstore::verify(bundle, None, expect, &self.root) {
                Ok(v) => return Ok(v),
                Err(e) => reasons.push(e.to_string()),
            }
        }
        reasons.dedup();
        Err(reasons.join("; "))
    }
}

/// A verified verdict bundle.
#[derive(Debug, Clone)]
pub struct SignedVerdict {
    /// Where it was read.
    pub path: PathBuf,
    /// The bundle, as read.
    pub bundle: Vec<u8>,
    /// What it says.
    pub gate: GateVerdict,
    /// When the verdict was made (RFC 3339).
    pub time: String,
    /// Who signed it.
    pub signer: String,
}

/// Verifies one verdict bundle and reads its Statement.
pub fn read_verdict(bundle: &[u8], trust: &Trust) -> Result<(GateVerdict, String, String), String> {
    let verified = trust.verify(bundle)?;
    let payload = match &verified.content {
        VerifiedContent::Dsse {
            payload_type,
            payload,
        } if payload_type == IN_TOTO_PAYLOAD_TYPE => payload,
        _ => return Err("not an in-toto Statement (a gate verdict is one)".into()),
    };
    let statement = Statement::from_json(payload).map_err(|e| e.to_string())?;
    let (status, head) = cavra_attestation::verdict::verdict_of(&statement).ok_or_else(|| {
        format!(
            "not a gate verdict (predicateType {}, expected {} with its head as subject)",
            statement.predicate_type,
            cavra_attestation::verdict::PREDICATE_TYPE
        )
    })?;
    let text = |key: &str| {
        statement
            .predicate
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let gate = GateVerdict {
        head,
        merge_base: text("mergeBase"),
        verdict: status.as_str().to_string(),
    };
    Ok((gate, text("time"), verified.signer.to_string()))
}

/// Reads and verifies every `*.json` file directly in `dir` (sorted by name). A bundle that does
/// not verify or is not a gate verdict is an error naming the file.
pub fn read_dir(dir: &Path, trust: &Trust) -> Result<Vec<SignedVerdict>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json") && path.is_file() {
            paths.push(path);
        }
        if paths.len() > MAX_VERDICT_FILES {
            return Err(format!(
                "{}: more than {MAX_VERDICT_FILES} verdict bundles",
                dir.display()
            ));
        }
    }
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let bundle = read_bounded(&path, MAX_BUNDLE_BYTES)?;
        let (gate, time, signer) =
            read_verdict(&bundle, trust).map_err(|e| format!("{}: {e}", path.display()))?;
        out.push(SignedVerdict {
            path,
            bundle,
            gate,
            time,
            signer,
        });
    }
    Ok(out)
}

/// Reads at most `limit` bytes of a file; a larger file is an error naming it.
pub fn read_bounded(path: &Path, limit: usize) -> Result<Vec<u8>, String> {
    crate::sbom::read_bounded(path, limit as u64).map_err(|e| e.to_string())
}
