//! The gate-verdict predicate: what `cavra gate` decided about a change, as an in-toto Statement
//! whose subject is the head commit. Schema: `schemas/gate-verdict.v1.schema.json`.

use crate::statement::{STATEMENT_TYPE, Statement, Subject};
use cavra_gate::{Status, Verdict};
use cavra_policy::{Decision, Finding};
use serde::Serialize;
use std::collections::BTreeMap;

/// The `predicateType` of a gate verdict, version 1.
pub const PREDICATE_TYPE: &str = "https://cavra.dev/attestation/gate-verdict/v1";

/// The verdict predicate (field names in lowerCamelCase, as in-toto predicates use).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictPredicate {
    /// The repository as the CI names it (`owner/name`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The target branch tip; the policy was read from here.
    pub base: String,
    /// The judged head (also the Statement's subject).
    pub head: String,
    /// Where the diff starts.
    pub merge_base: String,
    /// How the base was chosen (`--base`, `GITHUB_BASE_REF`, ...).
    pub base_source: String,
    /// The policy that judged.
    pub policy: PolicyRef,
    /// `audit`, `enforce` or `strict`.
    pub mode: String,
    /// `pass`, `needs_approval` or `fail`.
    pub verdict: String,
    /// In audit mode, what enforce mode would have said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforced_verdict: Option<String>,
    /// Counts of changes and findings.
    pub counts: Counts,
    /// Every finding that is not a plain `allow`, in path order.
    pub findings: Vec<PredicateFinding>,
    /// Approver groups still needed (empty with `needs_approval`: anyone may approve).
    pub pending_approvals: Vec<String>,
    /// Approvals taken into account.
    pub approvals: Vec<Approval>,
    /// Break-glass, when used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<BreakGlass>,
    /// The tool that judged.
    pub tool: Tool,
    /// When the verdict was made (RFC 3339 UTC).
    pub time: String,
}

/// Which policy judged.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRef {
    /// Where it was read (`.cavra/policy.yaml@<base sha>`, `builtin:baseline (default)`, ...).
    pub source: String,
    /// sha256 of the resolved policy's canonical JSON.
    pub sha256: String,
    /// Its layers, outermost first.
    pub layers: Vec<String>,
}

/// Counts of changes and findings.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Changed paths.
    pub changes: usize,
    /// Findings in all (including `allow`).
    pub findings: usize,
    /// Findings that deny.
    pub deny: usize,
    /// Findings that need approval.
    pub require_approval: usize,
    /// Findings recorded only.
    pub audit: usize,
    /// Findings waived by an exception.
    pub waived: usize,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PredicateFinding {
    /// The changed path.
    pub path: String,
    /// The rule id.
    pub rule: String,
    /// `deny`, `require_approval`, `audit` or `allow` (waived).
    pub decision: String,
    /// The rule's severity.
    pub severity: String,
    /// What the rule is about.
    pub message: String,
    /// The line in the head file, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The command (secrets masked), for command findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Groups that may approve.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    /// True when an approval of the head covers it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub approved: bool,
    /// The exception that waived it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<String>,
}

/// An approval.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// The approver group it counts for.
    pub group: String,
    /// Who approved.
    pub approver: String,
    /// The commit they approved.
    pub commit: String,
}

/// A recorded break-glass.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakGlass {
    /// Who broke the glass.
    pub actor: String,
    /// Why.
    pub justification: String,
    /// What the verdict would have been.
    pub overridden_verdict: String,
}

/// The tool that judged.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// `cavra`.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl VerdictPredicate {
    /// The predicate of a gate verdict.
    pub fn of(verdict: &Verdict) -> VerdictPredicate {
        let r = &verdict.revisions;
        VerdictPredicate {
            repository: verdict.repository.clone(),
            base: r.base.clone(),
            head: r.head.clone(),
            merge_base: r.merge_base.clone(),
            base_source: r.base_source.clone(),
            policy: PolicyRef {
                source: verdict.policy.source.clone(),
                sha256: verdict.policy.sha256.clone(),
                layers: verdict.policy.layers.clone(),
            },
            mode: verdict.mode.as_str().to_string(),
            verdict: verdict.verdict.as_str().to_string(),
            enforced_verdict: verdict.enforced_verdict.map(|s| s.as_str().to_string()),
            counts: Counts {
                changes: verdict.counts.changes,
                findings: verdict.counts.findings,
                deny: verdict.counts.deny,
                require_approval: verdict.counts.require_approval,
                audit: verdict.counts.audit,
                waived: verdict.counts.waived,
            },
            findings: verdict
                .findings()
                .filter(|(_, f)| f.decision != Decision::Allow || f.waived.is_some())
                .map(|(change, f)| finding(&change.path, f, verdict.is_approved(f)))
                .collect(),
            pending_approvals: verdict.pending_approvals.clone(),
            approvals: verdict
                .approvals
                .iter()
                .map(|a| Approval {
                    group: a.group.clone(),
                    approver: a.approver.clone(),
                    commit: a.commit.clone(),
                })
                .collect(),
            break_glass: verdict.break_glass.as_ref().map(|b| BreakGlass {
                actor: b.actor.clone(),
                justification: b.justification.clone(),
                overridden_verdict: b.overridden.as_str().to_string(),
            }),
            tool: Tool {
                name: verdict.tool.name.clone(),
                version: verdict.tool.version.clone(),
            },
            time: verdict.time.clone(),
        }
    }
}

fn finding(path: &str, f: &Finding, approved: bool) -> PredicateFinding {
    PredicateFinding {
        path: path.to_string(),
        rule: f.rule.clone(),
        decision: f.decision.as_str().to_string(),
        severity: f.severity.as_str().to_string(),
        message: f.message.clone(),
        line: f.line,
        command: f.command.as_ref().map(|c| c.command.clone()),
        approvers: f.approvers.clone(),
        approved: approved && f.decision == Decision::RequireApproval,
        waived_by: f.waived.as_ref().map(|w| w.source.clone()),
    }
}

/// The in-toto Statement of a gate verdict: subject = the head commit, named after the
/// repository when known.
pub fn statement(verdict: &Verdict) -> Statement {
    let predicate = VerdictPredicate::of(verdict);
    let name = match &verdict.repository {
        Some(repo) => format!("{repo}@{}", verdict.revisions.head),
        None => format!("commit:{}", verdict.revisions.head),
    };
    Statement {
        statement_type: STATEMENT_TYPE.to_string(),
        subject: vec![Subject {
            name,
            digest: BTreeMap::from([("gitCommit".to_string(), verdict.revisions.head.clone())]),
        }],
        predicate_type: PREDICATE_TYPE.to_string(),
        // Serializing plain structs of strings and numbers cannot fail.
        predicate: serde_json::to_value(&predicate).unwrap_or_default(),
    }
}

/// Reads a verified verdict Statement back: the verdict word (`pass`, ...) and head commit.
pub fn verdict_of(statement: &Statement) -> Option<(Status, String)> {
    if statement.predicate_type != PREDICATE_TYPE {
        return None;
    }
    let p = &statement.predicate;
    let status = match p.get("verdict")?.as_str()? {
        "pass" => Status::Pass,
        "needs_approval" => Status::NeedsApproval,
        "fail" => Status::Fail,
        _ => return None,
    };
    let head = p.get("head")?.as_str()?.to_string();
    statement
        .has_subject_digest("gitCommit", &head)
        .then_some((status, head))
}
