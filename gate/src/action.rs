//! One action (for agent hooks and scripts) judged by the same engine as a change.

use cavra_policy::{Action, ChangeKind, Decision, Engine, Finding, Mode, Subject};
use serde::Serialize;
use std::path::Path;

/// The decision on one action.
#[derive(Debug, Clone, Serialize)]
pub struct ActionResult {
    /// The action.
    pub action: Action,
    /// Its target (path, command, ref or tool name).
    pub target: String,
    /// The strongest decision (`allow` when nothing matched).
    pub decision: Decision,
    /// Whether the caller must not go ahead (deny or require_approval, outside audit mode).
    pub blocked: bool,
    /// What matched.
    pub findings: Vec<Finding>,
}

/// Judges `action` on `target`. `exists` says whether a written file exists already
/// (a write to a new file is an `added` change, to an existing one `modified`).
///
/// A command line (`execute_command`) is judged twice: as a whole line by rules scoped with
/// `actions: [execute_command]` and `paths`, and command by command (after parsing the shell) by
/// `command` rules, in the `agent` context.
pub fn evaluate_action(
    engine: &Engine,
    action: Action,
    target: &str,
    exists: bool,
) -> ActionResult {
    let change = match action {
        Action::ReadFile => Some(ChangeKind::Read),
        Action::WriteFile if exists => Some(ChangeKind::Modified),
        Action::WriteFile => Some(ChangeKind::Added),
        Action::DeleteFile => Some(ChangeKind::Deleted),
        Action::ExecuteCommand | Action::GitPush | Action::McpToolCall => None,
    };
    let target_path = target.strip_prefix("./").unwrap_or(target);
    let mut subject = Subject::new(action, Path::new(target_path));
    subject.change = change;
    let mut findings = engine.evaluate(&subject);
    if action == Action::ExecuteCommand {
        findings.extend(engine.evaluate_command_line(
            Path::new(target),
            target,
            cavra_policy::Context::Agent,
        ));
    }
    let decision = findings
        .iter()
        .map(|f| f.decision)
        .max()
        .unwrap_or(Decision::Allow);
    ActionResult {
        action,
        target: target.to_string(),
        decision,
        blocked: engine.mode() != Mode::Audit && decision >= Decision::RequireApproval,
        findings,
    }
}
