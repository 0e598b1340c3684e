//! Policy unit tests: YAML cases of `input -> expected decision`, run against a policy.
//!
//! ```yaml
//! mode: enforce            # optional: the mode to judge in (default: the policy's)
//! today: 2026-01-01        # optional: the date exceptions expire against
//! cases:
//!   - name: a private key is denied
//!     path: deploy/server.pem
//!     change: added          # default: added (read for read_file, deleted for delete_file)
//!     expect: deny           # strongest decision of the findings; `allow` when none
//!     rules: [private-keys]  # optional: rule ids that must be among the findings
//!     not_rules: [symlink]   # optional: rule ids that must not be among them
//! ```
//! Other inputs: `action`, `old_path`, `link_target`, `lines` (added lines), `binary`,
//! `symlink`, `submodule`, `executable`, `size`.
//!
//! A command case gives `command` (a shell command line) and optionally `context` (default
//! `shell`) and `path` (the file it is written in); every command the line runs is judged:
//!
//! ```yaml
//!   - name: terraform apply behind sudo
//!     command: sudo /usr/local/bin/terraform apply -auto-approve
//!     context: github-actions
//!     expect: require_approval
//! ```

use crate::decode::Reader;
use crate::engine::{Engine, Subject};
use crate::model::{Action, ChangeKind, Context, Decision, Mode, Policy};
use crate::{Date, PolicyErrors};
use cavra_yaml::{Limits, Node};
use std::path::Path;

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// Its line in the cases file.
    pub line: u32,
    /// Whether the policy decided as expected.
    pub passed: bool,
    /// What went wrong, when it failed.
    pub failure: Option<String>,
}

struct Case {
    name: String,
    line: u32,
    action: Action,
    path: String,
    old_path: Option<String>,
    link_target: Option<String>,
    change: Option<ChangeKind>,
    lines: Vec<String>,
    binary: bool,
    symlink: bool,
    submodule: bool,
    executable: bool,
    size: u64,
    expect: Decision,
    rules: Vec<String>,
    not_rules: Vec<String>,
    command: Option<(String, Context)>,
}

/// Runs the cases in `text` (from `file`) against `policy`.
pub fn run(policy: &Policy, file: &str, text: &str) -> Result<Vec<CaseResult>, PolicyErrors> {
    let root = cavra_yaml::parse(text, Limits::default())
        .map_err(|e| PolicyErrors::one(file, e.pos, format!("invalid YAML: {}", e.message)))?;
    let mut errors = Vec::new();
    let (mode, today, cases) = read_file(&mut Reader::new(file, &mut errors), &root);
    if !errors.is_empty() {
        return Err(PolicyErrors(errors));
    }
    let engine = Engine::new(
        policy.clone(),
        mode.unwrap_or(policy.mode),
        today.unwrap_or_else(Date::today),
    );
    Ok(cases.iter().map(|c| run_case(&engine, c)).collect())
}

fn run_case(engine: &Engine, case: &Case) -> CaseResult {
    let lines: Vec<(u32, &str)> = case
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i as u32 + 1, l.as_str()))
        .collect();
    let subject = Subject {
        action: case.action,
        path: Path::new(&case.path),
        old_path: case.old_path.as_deref().map(Path::new),
        link_target: case.link_target.as_deref().map(Path::new),
        change: case.change,
        binary: case.binary,
        symlink: case.symlink,
        submodule: case.submodule,
        executable: case.executable,
        size: case.size,
        lines: &lines,
        command: None,
    };
    let findings = match &case.command {
        None => engine.evaluate(&subject),
        Some((line, context)) => {
            engine.evaluate_command_line(Path::new(&case.path), line, *context)
        }
    };
    let got = findings
        .iter()
        .map(|f| f.decision)
        .max()
        .unwrap_or(Decision::Allow);
    let ids: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    let mut problems = Vec::new();
    if got != case.expect {
        problems.push(format!(
            "expected {}, got {}",
            case.expect.as_str(),
            got.as_str()
        ));
    }
    for rule in &case.rules {
        if !ids.contains(&rule.as_str()) {
            problems.push(format!("rule `{rule}` did not match"));
        }
    }
    for rule in &case.not_rules {
        if ids.contains(&rule.as_str()) {
            problems.push(format!("rule `{rule}` matched, but must not"));
        }
    }
    let failure = (!problems.is_empty()).then(|| {
        format!(
            "{} (findings: {})",
            problems.join("; "),
            if ids.is_empty() {
                "none".to_string()
            } else {
                ids.join(", ")
            }
        )
    });
    CaseResult {
        name: case.name.clone(),
        line: case.line,
        passed: failure.is_none(),
        failure,
    }
}

fn read_file(r: &mut Reader<'_>, root: &Node) -> (Option<Mode>, Option<Date>, Vec<Case>) {
    let Some(f) = r.fields(root, "policy test file", &["mode", "today", "cases"]) else {
        return (None, None, Vec::new());
    };
    let mode = f
        .get("mode")
        .and_then(|v| r.keyword(v, "mode", Mode::parse, &["audit", "enforce", "strict"]));
    let today = f.get("today").and_then(|v| {
        let d = v.as_scalar().and_then(Date::parse);
        if d.is_none() {
            r.err(v.pos, "today must be a date YYYY-MM-DD");
        }
        d
    });
    let mut cases = Vec::new();
    match f.get("cases").map(|c| (c, c.as_seq())) {
        Some((_, Some(items))) => {
            for item in items {
                if let Some(case) = read_case(r, item) {
                    cases.push(case);
                }
            }
        }
        Some((c, None)) => r.err(c.pos, "`cases` must be a list"),
        None => r.err(root.pos, "missing `cases`"),
    }
    (mode, today, cases)
}

fn read_case(r: &mut Reader<'_>, node: &Node) -> Option<Case> {
    let f = r.fields(
        node,
        "case",
        &[
            "name",
            "action",
            "path",
            "target",
            "old_path",
            "link_target",
            "change",
            "lines",
            "binary",
            "symlink",
            "submodule",
            "executable",
            "size",
            "expect",
            "rules",
            "not_rules",
            "command",
            "context",
        ],
    )?;
    let command_line = f.get("command").and_then(|v| r.string(v, "command"));
    let context = match f.get("context") {
        Some(v) => r.keyword(v, "context", Context::parse, &Context::NAMES)?,
        None => Context::Shell,
    };
    let command = command_line.map(|line| (line, context));
    let action = match f.get("action") {
        Some(v) => r.keyword(v, "action", Action::parse, &Action::ALL)?,
        None if command.is_some() => Action::ExecuteCommand,
        None => Action::WriteFile,
    };
    let path = f
        .get("path")
        .or(f.get("target"))
        .and_then(|v| r.string(v, "path"))
        .or_else(|| command.as_ref().map(|(line, _)| line.clone()));
    let Some(path) = path else {
        r.err(node.pos, "case has no `path`");
        return None;
    };
    let default_change = match action {
        Action::ReadFile => Some(ChangeKind::Read),
        Action::DeleteFile => Some(ChangeKind::Deleted),
        Action::WriteFile => Some(ChangeKind::Added),
        _ => None,
    };
    let change = match f.get("change") {
        Some(v) => Some(r.keyword(v, "change kind", ChangeKind::parse, &ChangeKind::ALL)?),
        None => default_change,
    };
    let Some(expect_node) = f.get("expect") else {
        r.err(node.pos, "case has no `expect`");
        return None;
    };
    let expect = r.keyword(
        expect_node,
        "decision",
        Decision::parse,
        &["allow", "audit", "require_approval", "deny"],
    )?;
    let flag =
        |r: &mut Reader<'_>, key: &str| f.get(key).and_then(|v| r.bool(v, key)).unwrap_or(false);
    Some(Case {
        name: f
            .get("name")
            .and_then(|v| r.string(v, "name"))
            .unwrap_or_else(|| path.clone()),
        line: node.pos.line,
        action,
        old_path: f.get("old_path").and_then(|v| r.string(v, "old_path")),
        link_target: f
            .get("link_target")
            .and_then(|v| r.string(v, "link_target")),
        change,
        lines: f
            .get("lines")
            .map(|v| r.strings(v, "a line").into_iter().map(|(s, _)| s).collect())
            .unwrap_or_default(),
        binary: flag(r, "binary"),
        symlink: flag(r, "symlink"),
        submodule: flag(r, "submodule"),
        executable: flag(r, "executable"),
        size: f.get("size").and_then(|v| v.as_u64()).unwrap_or(0),
        expect,
        rules: rule_ids(r, f.get("rules")),
        not_rules: rule_ids(r, f.get("not_rules")),
        command,
        path,
    })
}

fn rule_ids(r: &mut Reader<'_>, node: Option<&Node>) -> Vec<String> {
    node.map(|v| {
        r.strings(v, "a rule id")
            .into_iter()
            .map(|(s, _)| s)
            .collect()
    })
    .unwrap_or_default()
}
