//! `cavra commands FILE...`: the commands files run, and with --judge the policy's word on each.

use crate::args::CommandsArgs;
use crate::exit;
use cavra_extract::{Files, Step};
use cavra_gate::GateError;
use cavra_policy::{CommandSubject, Decision, Finding, Subject};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Files under a directory, by repository path.
struct DirFiles(PathBuf);

impl Files for DirFiles {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let relative = Path::new(path.trim_start_matches('/'));
        if relative
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return None;
        }
        let data = std::fs::read(self.0.join(relative)).ok()?;
        (data.len() <= cavra_extract::MAX_FILE_BYTES).then_some(data)
    }
}

/// One command as printed.
#[derive(Serialize)]
struct Listed<'a> {
    file: &'a str,
    line: u32,
    context: cavra_shell::Context,
    step: &'a str,
    program: &'a str,
    /// The command in normal form, likely secrets replaced by `***`.
    command: String,
    /// Its pipeline, likewise.
    pipeline: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    wrappers: &'a Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    feeds: &'a Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    findings: Vec<Finding>,
}

/// A file's problems as printed.
#[derive(Serialize)]
struct Problem {
    file: String,
    line: u32,
    message: String,
}

/// Lists (and judges) the commands of `args.files`.
pub fn run(args: CommandsArgs) -> Result<u8, GateError> {
    let engine = if args.judge {
        Some(super::committed_engine(&args.root, args.policy.as_deref())?.0)
    } else {
        None
    };
    let files = DirFiles(args.root.clone());
    let mut steps: Vec<Step> = Vec::new();
    let mut problems = Vec::new();
    for file in &args.files {
        let shown = file
            .strip_prefix(&args.root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read(file).map_err(|e| GateError::Io(format!("{shown}: {e}")))?;
        let Some(detected) = cavra_extract::detect(&shown, &text) else {
            problems.push(Problem {
                file: shown,
                line: 0,
                message: "not a file that runs commands (CI file, Dockerfile, package.json, \
                          Makefile or shell script)"
                    .into(),
            });
            continue;
        };
        let extraction = cavra_extract::extract(detected.kind, &shown, &text, &files);
        steps.extend(extraction.steps);
        problems.extend(extraction.errors.into_iter().map(|e| Problem {
            file: e.file,
            line: e.line,
            message: e.message,
        }));
    }
    let mut listed = Vec::new();
    let mut parsed_steps = Vec::new();
    for step in &steps {
        let parsed = cavra_shell::parse(&step.script, &step.parse_options());
        for issue in &parsed.issues {
            problems.push(Problem {
                file: step.file.clone(),
                line: step.line + issue.line.saturating_sub(1),
                message: issue.message.clone(),
            });
        }
        parsed_steps.push((step, parsed.commands));
    }
    for (step, commands) in &parsed_steps {
        for command in commands {
            let line = step.line + command.line.saturating_sub(1);
            let findings = engine.as_ref().map_or_else(Vec::new, |engine| {
                engine.evaluate(&Subject::command(
                    Path::new(&step.file),
                    CommandSubject {
                        command,
                        context: step.context,
                        line,
                        step: &step.location,
                    },
                ))
            });
            listed.push(Listed {
                file: &step.file,
                line,
                context: step.context,
                step: &step.location,
                program: &command.program,
                command: cavra_shell::redact(&command.text),
                pipeline: cavra_shell::redact(&command.pipeline),
                wrappers: &command.wrappers,
                feeds: &command.feeds,
                findings,
            });
        }
    }
    let worst = listed
        .iter()
        .flat_map(|l| &l.findings)
        .map(|f| f.decision)
        .max()
        .unwrap_or(Decision::Allow);
    if args.json {
        let doc = serde_json::json!({ "commands": listed, "problems": problems });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(|e| GateError::Io(e.to_string()))?
        );
    } else {
        print_text(&listed, &problems);
    }
    let blocked = engine
        .as_ref()
        .is_some_and(|e| e.mode() != cavra_policy::Mode::Audit);
    Ok(match worst {
        Decision::Deny if blocked => exit::FAIL,
        Decision::RequireApproval if blocked => exit::NEEDS_APPROVAL,
        _ => exit::PASS,
    })
}

fn print_text(listed: &[Listed<'_>], problems: &[Problem]) {
    for l in listed {
        let wrappers = if l.wrappers.is_empty() {
            String::new()
        } else {
            format!("  [via {}]", l.wrappers.join(", "))
        };
        println!(
            "{}:{}  {}  {}  {}{wrappers}",
            l.file, l.line, l.context, l.step, l.command
        );
        for f in &l.findings {
            println!(
                "    {} [{}] {}: {}",
                f.rule,
                f.decision.as_str(),
                f.message,
                f.reason
            );
        }
    }
    for p in problems {
        if p.line > 0 {
            eprintln!("{}:{}: {}", p.file, p.line, p.message);
        } else {
            eprintln!("{}: {}", p.file, p.message);
        }
    }
}
