//! The verdict: everything the gate decided and why (the JSON output, schema version 1).

use cavra_policy::engine::Waiver;
use cavra_policy::{Decision, Finding, Mode};
use serde::{Deserialize, Serialize};

/// The version of the JSON document (`schemas/gate-result.v1.schema.json`).
pub const SCHEMA_VERSION: &str = "cavra.dev/gate-result/v1";

/// The outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// May merge.
    Pass,
    /// May merge once the listed groups approve.
    NeedsApproval,
    /// Must not merge.
    Fail,
}

impl Status {
    /// The name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::NeedsApproval => "needs_approval",
            Status::Fail => "fail",
        }
    }
}

/// The tool that judged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolInfo {
    /// `cavra`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The revisions compared.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevisionInfo {
    /// Target branch tip (the policy's revision).
    pub base: String,
    /// Proposed head.
    pub head: String,
    /// Where the diff starts.
    pub merge_base: String,
    /// How the base was chosen.
    pub base_source: String,
}

/// Which policy judged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyInfo {
    /// Where it was read: `.cavra/policy.yaml@<base sha>`, `file:PATH` or `builtin:baseline (default)`.
    pub source: String,
    /// sha256 of the resolved policy's canonical JSON.
    pub sha256: String,
    /// Its layers, outermost first.
    pub layers: Vec<String>,
}

/// An approval given to the gate (by a forge integration or `--approve`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The approver group it counts for.
    pub group: String,
    /// Who approved.
    pub approver: String,
    /// The commit they approved (the head, unless stated).
    pub commit: String,
}

/// A recorded break-glass.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BreakGlassRecord {
    /// Who broke the glass.
    pub actor: String,
    /// Why.
    pub justification: String,
    /// What the verdict would have been.
    pub overridden: Status,
}

/// One changed path with what the policy found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeReport {
    /// Head path (base path when deleted); non-UTF-8 bytes as `\xNN`.
    pub path: String,
    /// Base path of a rename or copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// added, modified, deleted, renamed, copied or type_changed.
    pub change: String,
    /// file, executable, symlink, submodule.
    pub entry: String,
    /// The base side's kind when it differs (type changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_entry: Option<String>,
    /// Old and new git modes when the mode changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode_change: Option<[String; 2]>,
    /// git's similarity index for renames and copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<u16>,
    /// Binary content.
    pub binary: bool,
    /// Too large to be read line by line.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub too_large: bool,
    /// Size in bytes.
    pub size: u64,
    /// Number of added and removed lines.
    pub lines_added: u32,
    /// Number of removed lines.
    pub lines_removed: u32,
    /// A symlink's target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
    /// The strongest decision of its findings (`allow` when none).
    pub decision: Decision,
    /// What matched.
    pub findings: Vec<Finding>,
}

/// Counts for summaries.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Changed paths.
    pub changes: usize,
    /// Findings in all.
    pub findings: usize,
    /// Findings that deny.
    pub deny: usize,
    /// Findings that need approval.
    pub require_approval: usize,
    /// Findings that are recorded only.
    pub audit: usize,
    /// Findings that explicitly allow.
    pub allow: usize,
    /// Findings waived by an exception.
    pub waived: usize,
}

/// The gate's verdict on one change.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    /// Document version: [`SCHEMA_VERSION`].
    pub schema: String,
    /// The tool.
    pub tool: ToolInfo,
    /// The repository, as the CI names it (`owner/name`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The revisions.
    pub revisions: RevisionInfo,
    /// The policy.
    pub policy: PolicyInfo,
    /// The mode judged in.
    pub mode: Mode,
    /// The outcome.
    pub verdict: Status,
    /// In audit mode: what enforce mode would have said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforced_verdict: Option<Status>,
    /// Counts.
    pub counts: Counts,
    /// Approver groups whose approval is still needed (empty list: anyone may approve).
    pub pending_approvals: Vec<String>,
    /// Approvals that were taken into account.
    pub approvals: Vec<Approval>,
    /// Break-glass, when used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<BreakGlassRecord>,
    /// Exceptions past their date (they no longer apply).
    pub expired_exceptions: Vec<Waiver>,
    /// Every changed path.
    pub changes: Vec<ChangeReport>,
    /// When the verdict was made (RFC 3339 UTC).
    pub time: String,
}

/// True when an approval of `head` covers `finding`: an approval counts for the finding's
/// approver groups, or for any finding that names none. Approvals of other commits never
/// count, so a later push needs a fresh review.
pub fn is_approved(approvals: &[Approval], head: &str, finding: &Finding) -> bool {
    approvals
        .iter()
        .filter(|a| a.commit == head)
        .any(|a| finding.approvers.is_empty() || finding.approvers.contains(&a.group))
}

/// Largest gate-result document [`Verdict::from_json`] reads.
pub const MAX_RESULT_BYTES: usize = 64 << 20;

impl Verdict {
    /// Reads a gate result (the JSON output of `cavra gate`), checking its size and schema version.
    pub fn from_json(text: &str) -> Result<Verdict, String> {
        if text.len() > MAX_RESULT_BYTES {
            return Err(format!(
                "the gate result is {} bytes; the limit is {MAX_RESULT_BYTES}",
                text.len()
            ));
        }
        let verdict: Verdict =
            serde_json::from_str(text).map_err(|e| format!("not a cavra gate result: {e}"))?;
        if verdict.schema != SCHEMA_VERSION {
            return Err(format!(
                "unsupported gate result schema {:?} (expected {SCHEMA_VERSION:?})",
                verdict.schema
            ));
        }
        Ok(verdict)
    }

    /// True when the verdict's approvals cover `finding` (see [`is_approved`]).
    pub fn is_approved(&self, finding: &Finding) -> bool {
        is_approved(&self.approvals, &self.revisions.head, finding)
    }

    /// Every finding with its change, in path order.
    pub fn findings(&self) -> impl Iterator<Item = (&ChangeReport, &Finding)> {
        self.changes
            .iter()
            .flat_map(|c| c.findings.iter().map(move |f| (c, f)))
    }
}
