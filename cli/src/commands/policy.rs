//! `cavra policy validate|list|print|explain|test`.
//!
//! These commands are for policy authors, so they read the working tree's
//! `.cavra/policy.yaml` (or `--policy`), unlike `cavra gate`, which reads the base revision.

use crate::args::{ExplainArgs, PolicyCommand, PolicySelect, TestArgs};
use crate::exit;
use cavra_gate::{GateError, LoadedPolicy, POLICY_PATHS, load_policy};
use cavra_policy::builtin::PACKS;
use cavra_policy::{Action, ChangeKind, Date, Engine, NoFiles, Subject, cases, resolve_policy};
use std::path::{Path, PathBuf};

/// Runs a policy subcommand.
pub fn run(cmd: PolicyCommand) -> Result<u8, GateError> {
    match cmd {
        PolicyCommand::Validate { file } => validate(file),
        PolicyCommand::List => {
            for pack in PACKS {
                let policy =
                    resolve_policy(&format!("builtin:{}", pack.name), pack.policy, &NoFiles)?;
                println!(
                    "builtin:{:<14} {:>3} rules  {}",
                    pack.name,
                    policy.rules.len(),
                    pack.summary
                );
            }
            Ok(exit::PASS)
        }
        PolicyCommand::Print(select) => {
            let loaded = authoring_policy(&select)?;
            println!("# source: {}", loaded.source);
            println!("# sha256: {}", loaded.policy.sha256());
            println!("{}", loaded.policy.canonical_json());
            Ok(exit::PASS)
        }
        PolicyCommand::Explain(args) => explain(args),
        PolicyCommand::Test(args) => test(args),
    }
}

/// The working tree's policy file, if any.
fn working_tree_policy() -> Option<PathBuf> {
    POLICY_PATHS.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// `--policy`, else the working tree's policy, else the built-in default.
fn authoring_policy(select: &PolicySelect) -> Result<LoadedPolicy, GateError> {
    let file = select.policy.clone().or_else(working_tree_policy);
    load_policy(None, None, file.as_deref())
}

fn validate(file: Option<PathBuf>) -> Result<u8, GateError> {
    let Some(file) = file.or_else(working_tree_policy) else {
        return Err(GateError::Usage(
            "no policy file given and no .cavra/policy.yaml here".to_string(),
        ));
    };
    let loaded = load_policy(None, None, Some(&file))?;
    println!(
        "{}: ok ({} rules, {} exceptions, mode {}, layers: {})",
        file.display(),
        loaded.policy.rules.len(),
        loaded.policy.exceptions.len(),
        loaded.policy.mode.as_str(),
        loaded.policy.layers.join(" -> ")
    );
    Ok(exit::PASS)
}

fn explain(args: ExplainArgs) -> Result<u8, GateError> {
    let loaded = authoring_policy(&args.select)?;
    let action = Action::parse(&args.action).ok_or_else(|| {
        GateError::Usage(format!(
            "unknown action `{}` (expected one of: {})",
            args.action,
            Action::ALL.join(", ")
        ))
    })?;
    let change = ChangeKind::parse(&args.change).ok_or_else(|| {
        GateError::Usage(format!(
            "unknown change kind `{}` (expected one of: {})",
            args.change,
            ChangeKind::ALL.join(", ")
        ))
    })?;
    let mode = loaded.policy.mode;
    let engine = Engine::new(loaded.policy, mode, Date::today());
    let lines: Vec<(u32, &str)> = args
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i as u32 + 1, l.as_str()))
        .collect();
    let mut subject = Subject::new(action, Path::new(&args.path));
    subject.change = Some(change);
    subject.old_path = args.old_path.as_deref().map(Path::new);
    subject.lines = &lines;
    let findings = engine.evaluate(&subject);
    println!("policy: {} ({} mode)", loaded.source, mode.as_str());
    if findings.is_empty() {
        println!(
            "{} ({}, {}): no rule matches: allow",
            args.path,
            action.as_str(),
            change.as_str()
        );
        return Ok(exit::PASS);
    }
    let strongest = findings
        .iter()
        .map(|f| f.decision)
        .max()
        .expect("not empty");
    println!(
        "{} ({}, {}): {}",
        args.path,
        action.as_str(),
        change.as_str(),
        strongest.as_str()
    );
    for f in &findings {
        println!(
            "  rule {} -> {} ({})",
            f.rule,
            f.decision.as_str(),
            f.severity.as_str()
        );
        println!("    {}", f.message);
        println!("    because {}", f.reason);
        if !f.approvers.is_empty() {
            println!("    approvers: {}", f.approvers.join(", "));
        }
        if let Some(w) = &f.waived {
            println!("    waived by an exception in {}: {}", w.source, w.reason);
        }
        if let Some(w) = &f.expired_exception {
            println!(
                "    an exception expired on {}: {}",
                w.expires.as_deref().unwrap_or("?"),
                w.reason
            );
        }
    }
    Ok(exit::PASS)
}

fn test(args: TestArgs) -> Result<u8, GateError> {
    if args.files.is_empty() && !args.builtin {
        return Err(GateError::Usage(
            "name test files, or --builtin for the built-in packs' own cases".to_string(),
        ));
    }
    let mut suites: Vec<(String, cavra_policy::Policy, String)> = Vec::new();
    if args.builtin {
        for pack in PACKS {
            let name = format!("builtin:{}", pack.name);
            let policy = resolve_policy(&name, pack.policy, &NoFiles)?;
            suites.push((format!("{name}.tests.yaml"), policy, pack.tests.to_string()));
        }
    }
    if !args.files.is_empty() {
        let loaded = authoring_policy(&args.select)?;
        for file in &args.files {
            let text = std::fs::read_to_string(file)
                .map_err(|e| GateError::Usage(format!("cannot read {}: {e}", file.display())))?;
            suites.push((file.display().to_string(), loaded.policy.clone(), text));
        }
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    for (file, policy, text) in &suites {
        for result in cases::run(policy, file, text)? {
            if result.passed {
                passed += 1;
            } else {
                failed += 1;
                println!(
                    "FAIL {file}:{}: {}: {}",
                    result.line,
                    result.name,
                    result.failure.unwrap_or_default()
                );
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { exit::PASS } else { exit::FAIL })
}
