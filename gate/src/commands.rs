//! Commands a change adds: extracted from the head and base versions of a file, parsed, compared
//! on their normal form, and judged.
//!
//! A command is judged when the head version of a file runs it more often than the base version
//! (after a rename: the old file) does, so reformatting or moving a command does not re-trigger
//! its finding, while a second copy of a dangerous command does.

use cavra_diff::{Change, Content, EntryKind};
use cavra_extract::{Detected, Files, Step, Via};
use cavra_policy::{CommandSubject, Decision, Engine, Finding, FindingCommand, Severity, Subject};
use cavra_shell::{Command, Context};
use git2::{Oid, Repository, Tree};
use std::collections::HashMap;
use std::path::Path;

/// The finding for a file whose commands could not be read.
pub const UNREADABLE_RULE: &str = "cavra/unreadable-commands";
/// The finding for an untrusted GitHub expression pasted into a `run:` script.
pub const INJECTION_RULE: &str = "cavra/script-injection";
/// At most this many command findings per rule and file; the rest are summed up in one.
const MAX_FINDINGS_PER_RULE: usize = 20;

/// Reads other files of one revision (GitLab `include: local`, Azure templates).
pub(crate) struct TreeFiles<'r> {
    tree: Option<(&'r Repository, Tree<'r>)>,
}

impl<'r> TreeFiles<'r> {
    /// The files of the tree `tree` of `repo` (none when either is missing or unreadable).
    pub(crate) fn new(repo: Option<&'r Repository>, tree: Option<Oid>) -> Self {
        TreeFiles {
            tree: repo
                .zip(tree)
                .and_then(|(r, t)| Some((r, r.find_tree(t).ok()?))),
        }
    }
}

impl Files for TreeFiles<'_> {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let (repo, tree) = self.tree.as_ref()?;
        let entry = tree
            .get_path(Path::new(path.trim_start_matches('/')))
            .ok()?;
        if !matches!(entry.filemode(), 0o100644 | 0o100755) {
            return None;
        }
        let blob = repo.find_blob(entry.id()).ok()?;
        (blob.size() <= cavra_extract::MAX_FILE_BYTES).then(|| blob.content().to_vec())
    }
}

/// One command with where it is written.
struct Occurrence<'s> {
    step: &'s Step,
    command: Command,
    /// The line in `step.file`.
    line: u32,
}

impl Occurrence<'_> {
    /// What two versions of a file are compared on.
    fn key(&self) -> String {
        format!(
            "{}\u{0}{}\u{0}{}",
            self.step.context,
            self.command.text,
            self.command.feeds.join(" ")
        )
    }
}

fn occurrences(steps: &[Step]) -> Vec<Occurrence<'_>> {
    let mut out = Vec::new();
    for step in steps {
        let parsed = cavra_shell::parse(&step.script, &step.parse_options());
        for command in parsed.commands {
            let line = step.line + command.line.saturating_sub(1);
            out.push(Occurrence {
                step,
                command,
                line,
            });
        }
    }
    out
}

fn is_text_file(side: &cavra_diff::Side) -> bool {
    matches!(side.kind, EntryKind::File | EntryKind::Executable)
}

/// Every finding for the commands `change` adds. `head_files` and `base_files` read the other
/// files of the head and base revisions.
pub(crate) fn judge_commands(
    engine: &Engine,
    change: &Change,
    content: &Content,
    head_files: &dyn Files,
    base_files: &dyn Files,
) -> Vec<Finding> {
    if content.binary || content.too_large || !change.new.as_ref().is_some_and(is_text_file) {
        return Vec::new();
    }
    let path = change.path().display();
    let Some(detected) = cavra_extract::detect(&path, &content.new_text) else {
        return Vec::new();
    };
    let head = cavra_extract::extract(detected.kind, &path, &content.new_text, head_files);
    let base_steps = match change.old.as_ref().filter(|old| is_text_file(old)) {
        Some(old) => {
            let old_path = old.path.display();
            cavra_extract::extract(detected.kind, &old_path, &content.old_text, base_files).steps
        }
        None => Vec::new(),
    };
    let mut findings = unreadable(&path, detected, &head.errors);
    let head_commands = occurrences(&head.steps);
    let base_commands = occurrences(&base_steps);
    let added_lines: std::collections::HashSet<u32> =
        content.added.iter().map(|l| l.number).collect();
    let new = new_occurrences(&head_commands, &base_commands, &path, &added_lines);
    let mut per_rule: HashMap<String, usize> = HashMap::new();
    for occurrence in new {
        for mut finding in judge_occurrence(engine, occurrence, &path) {
            let seen = per_rule.entry(finding.rule.clone()).or_default();
            *seen += 1;
            if *seen > MAX_FINDINGS_PER_RULE {
                continue;
            }
            if occurrence.step.lifecycle {
                finding.severity = raise(finding.severity);
                finding
                    .reason
                    .push_str("; in a lifecycle script that runs on every install");
            }
            findings.push(finding);
        }
    }
    for (rule, count) in per_rule {
        if count > MAX_FINDINGS_PER_RULE
            && let Some(last) = findings.iter().rev().find(|f| f.rule == rule).cloned()
        {
            findings.push(Finding {
                reason: format!(
                    "{} more added commands in this file match the same rule",
                    count - MAX_FINDINGS_PER_RULE
                ),
                command: None,
                ..last
            });
        }
    }
    if matches!(
        detected.kind,
        cavra_extract::FileKind::GithubWorkflow | cavra_extract::FileKind::GithubAction
    ) {
        findings.extend(injections(&head.steps, &base_steps, &path));
    }
    findings
}

/// The head occurrences beyond what the base has, per normal form, preferring those on added
/// lines of this file.
fn new_occurrences<'a, 's>(
    head: &'a [Occurrence<'s>],
    base: &[Occurrence<'_>],
    path: &str,
    added_lines: &std::collections::HashSet<u32>,
) -> Vec<&'a Occurrence<'s>> {
    let mut base_counts: HashMap<String, usize> = HashMap::new();
    for o in base {
        *base_counts.entry(o.key()).or_default() += 1;
    }
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, o) in head.iter().enumerate() {
        by_key.entry(o.key()).or_default().push(i);
    }
    let mut chosen = Vec::new();
    for (key, mut indexes) in by_key {
        let surplus = indexes
            .len()
            .saturating_sub(base_counts.get(&key).copied().unwrap_or(0));
        if surplus == 0 {
            continue;
        }
        indexes.sort_by_key(|&i| {
            let o = &head[i];
            let on_added = o.step.file == path && added_lines.contains(&o.line);
            (!on_added, i)
        });
        chosen.extend(indexes.into_iter().take(surplus));
    }
    chosen.sort_unstable();
    chosen.into_iter().map(|i| &head[i]).collect()
}

fn judge_occurrence(engine: &Engine, o: &Occurrence<'_>, path: &str) -> Vec<Finding> {
    let subject = Subject::command(
        Path::new(&o.step.file),
        CommandSubject {
            command: &o.command,
            context: o.step.context,
            line: o.line,
            step: &o.step.location,
        },
    );
    let mut findings = engine.evaluate(&subject);
    for f in &mut findings {
        if let Some(c) = f.command.as_mut()
            && o.step.file != path
        {
            c.file = o.step.file.clone();
        }
        if let Via::Reference { line } = o.step.via {
            f.reason
                .push_str(&format!("; pulled in by the !reference on line {line}"));
        }
    }
    findings
}

fn raise(s: Severity) -> Severity {
    match s {
        Severity::Info => Severity::Low,
        Severity::Low => Severity::Medium,
        Severity::Medium => Severity::High,
        Severity::High | Severity::Critical => Severity::Critical,
    }
}

/// A finding per extraction error of a file that is CI by its path: what cavra cannot read, it
/// cannot judge, so a person must look.
fn unreadable(
    path: &str,
    detected: Detected,
    errors: &[cavra_extract::ExtractError],
) -> Vec<Finding> {
    if !detected.by_path {
        return Vec::new();
    }
    errors
        .iter()
        .take(MAX_FINDINGS_PER_RULE)
        .map(|e| Finding {
            rule: UNREADABLE_RULE.to_string(),
            decision: Decision::RequireApproval,
            severity: Severity::Medium,
            message: "cavra could not read the commands in this file, so it could not judge them"
                .to_string(),
            reason: if e.file == path {
                e.message.clone()
            } else {
                format!("{}: {}", e.file, e.message)
            },
            line: (e.line > 0 && e.file == path).then_some(e.line),
            command: None,
            approvers: Vec::new(),
            waived: None,
            expired_exception: None,
        })
        .collect()
}

/// Untrusted `${{ github.event.* }}` / `${{ github.head_ref }}` expressions written into `run:`
/// scripts: GitHub pastes them into the script before the shell reads it.
fn injections(head: &[Step], base: &[Step], path: &str) -> Vec<Finding> {
    let mut base_counts: HashMap<String, usize> = HashMap::new();
    for (_, expr, _) in base.iter().flat_map(untrusted_expressions) {
        *base_counts.entry(expr).or_default() += 1;
    }
    let mut findings = Vec::new();
    for (line, expr, step) in head.iter().flat_map(untrusted_expressions) {
        if let Some(n) = base_counts.get_mut(&expr)
            && *n > 0
        {
            *n -= 1;
            continue;
        }
        if findings.len() >= MAX_FINDINGS_PER_RULE {
            break;
        }
        findings.push(Finding {
            rule: INJECTION_RULE.to_string(),
            decision: Decision::Deny,
            severity: Severity::High,
            message: "An untrusted GitHub expression is pasted into a run: script (script \
                      injection); pass it through `env:` and use the variable instead"
                .to_string(),
            reason: format!("`${{{{ {expr} }}}}` is written into the script"),
            line: Some(line),
            command: Some(FindingCommand {
                command: format!("${{{{ {expr} }}}}"),
                program: String::new(),
                context: Context::GithubActions,
                step: step.location.clone(),
                file: if step.file == path {
                    String::new()
                } else {
                    step.file.clone()
                },
            }),
            approvers: Vec::new(),
            waived: None,
            expired_exception: None,
        });
    }
    findings
}

/// Fields of `github.event` that are numbers, ids or hashes: not attacker-shaped text.
const SAFE_SUFFIXES: [&str; 10] = [
    ".number",
    ".id",
    "_id",
    ".sha",
    "_sha",
    ".created_at",
    ".updated_at",
    ".merged",
    ".draft",
    ".run_id",
];

/// The untrusted expressions in a step's script: (file line, expression, step).
fn untrusted_expressions(step: &Step) -> Vec<(u32, String, &Step)> {
    let mut out = Vec::new();
    let text = &step.script;
    let mut from = 0;
    while let Some(start) = text[from..].find("${{").map(|i| from + i) {
        let Some(len) = text[start + 3..].find("}}") else {
            break;
        };
        let expr = text[start + 3..start + 3 + len].trim();
        from = start + 3 + len + 2;
        let untrusted = expr
            .split(|c: char| !(c.is_alphanumeric() || "._-".contains(c)))
            .any(|word| {
                (word.starts_with("github.event.") || word == "github.head_ref")
                    && !SAFE_SUFFIXES.iter().any(|s| word.ends_with(s))
            });
        if untrusted {
            let line = step.line + text[..start].matches('\n').count() as u32;
            out.push((line, expr.to_string(), step));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(script: &str) -> Step {
        Step {
            context: Context::GithubActions,
            file: ".github/workflows/ci.yml".into(),
            line: 10,
            location: "jobs.a.steps[0]".into(),
            shell: None,
            script: script.into(),
            lifecycle: false,
            via: Via::Direct,
        }
    }

    #[test]
    fn untrusted_expressions_skip_numbers_and_other_contexts() {
        let s = step(
            "echo ok\necho \"${{ github.event.issue.title }}\" ${{ github.event.pull_request.number }}\n\
             git checkout ${{ github.head_ref }} ${{ matrix.os }} ${{ secrets.TOKEN }}",
        );
        let found: Vec<(u32, String)> = untrusted_expressions(&s)
            .into_iter()
            .map(|(l, e, _)| (l, e))
            .collect();
        assert_eq!(
            found,
            [
                (11, "github.event.issue.title".to_string()),
                (12, "github.head_ref".to_string())
            ]
        );
    }

    #[test]
    fn injections_already_on_the_base_are_not_reported_again() {
        let base = [step("echo ${{ github.event.issue.title }}")];
        let head = [
            step("echo  ${{ github.event.issue.title }}"),
            step("echo ${{ github.event.comment.body }}"),
        ];
        let f = injections(&head, &base, ".github/workflows/ci.yml");
        assert_eq!(f.len(), 1);
        assert!(f[0].reason.contains("comment.body"), "{}", f[0].reason);
        assert_eq!(f[0].decision, Decision::Deny);
    }
}
