//! The compiled policy: every path glob in one matcher, then the per-rule conditions.

use crate::Date;
use crate::command::CommandMatcher;
pub use crate::command::CommandSubject;
use crate::model::Context;
use crate::model::{Action, ChangeKind, Decision, Exception, Mode, Policy, Rule, Severity};
use globset::{Candidate, Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use regex::{Regex, RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// At most this many content findings per rule and file; the rest are summed up in one.
const MAX_LINE_FINDINGS: usize = 20;

/// Compiles a policy glob: `*` and `?` stay within a directory, `**` crosses directories.
pub fn compile_glob(glob: &str) -> Result<Glob, String> {
    GlobBuilder::new(glob)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| e.kind().to_string())
}

/// Compiles a content regex with bounded size.
pub fn compile_regex(re: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(re)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            e.to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_string()
        })
}

/// One thing to judge: an action on a target, with what is known about it.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// What is done.
    pub action: Action,
    /// The path (or ref, or tool name) acted on.
    pub path: &'a Path,
    /// The path before a rename or copy.
    pub old_path: Option<&'a Path>,
    /// Where a symlink points, normalized to a repository path.
    pub link_target: Option<&'a Path>,
    /// How the path changed (`None` for pushes and tool calls).
    pub change: Option<ChangeKind>,
    /// Binary content.
    pub binary: bool,
    /// A symlink on either side.
    pub symlink: bool,
    /// A submodule on either side.
    pub submodule: bool,
    /// Became executable.
    pub executable: bool,
    /// Size in bytes.
    pub size: u64,
    /// Added lines: (head line number, text).
    pub lines: &'a [(u32, &'a str)],
    /// The command, for `execute_command` subjects that were parsed.
    pub command: Option<CommandSubject<'a>>,
}

impl<'a> Subject<'a> {
    /// A subject for `action` on `path` with nothing else known.
    pub fn new(action: Action, path: &'a Path) -> Self {
        Subject {
            action,
            path,
            old_path: None,
            link_target: None,
            change: None,
            binary: false,
            symlink: false,
            submodule: false,
            executable: false,
            size: 0,
            lines: &[],
            command: None,
        }
    }

    /// A subject for running `command`, written in the file at `path` (for an agent: the command line).
    pub fn command(path: &'a Path, command: CommandSubject<'a>) -> Self {
        Subject {
            command: Some(command),
            ..Subject::new(Action::ExecuteCommand, path)
        }
    }
}

/// The command a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingCommand {
    /// The pipeline it belongs to, in normal form, with likely secrets replaced by `***`.
    pub command: String,
    /// The program that matched.
    pub program: String,
    /// Where it is written (`github-actions`, `dockerfile`...).
    pub context: Context,
    /// Where in the file, for people (`jobs.build.steps[2]`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub step: String,
    /// The file the command is written in, when it is not the changed file itself (a GitLab
    /// `!reference` into another file, an Azure template).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file: String,
}

impl FindingCommand {
    fn of(s: &CommandSubject<'_>) -> FindingCommand {
        let pipeline = if s.command.pipeline.is_empty() {
            &s.command.text
        } else {
            &s.command.pipeline
        };
        FindingCommand {
            command: truncate(&cavra_shell::redact(pipeline), MAX_COMMAND_CHARS),
            program: s.command.program.clone(),
            context: s.context,
            step: s.step.to_string(),
            file: String::new(),
        }
    }
}

/// Longest command text copied into a finding.
const MAX_COMMAND_CHARS: usize = 300;

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// An exception that waived a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    /// Why the rule is waived here.
    pub reason: String,
    /// The policy file that grants it.
    pub source: String,
    /// The last day it applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// One rule matched on one subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule id (`strict/unmatched` for strict mode's catch-all).
    pub rule: String,
    /// The rule's decision (`allow` when waived by an exception).
    pub decision: Decision,
    /// The rule's severity.
    pub severity: Severity,
    /// What the rule is about.
    pub message: String,
    /// Why it matched (which path, glob or line).
    pub reason: String,
    /// The line in the head file, for content and command matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The command, for command matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<FindingCommand>,
    /// Groups that may approve.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    /// The exception that waived it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived: Option<Waiver>,
    /// An expired exception that would have waived it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_exception: Option<Waiver>,
}

struct CompiledException {
    rule: usize,
    paths: Option<GlobSet>,
    expired: bool,
    waiver: Waiver,
}

/// A policy compiled for fast matching.
pub struct Engine {
    policy: Policy,
    mode: Mode,
    globs: GlobSet,
    /// glob index -> (rule index, glob text)
    glob_rule: Vec<(usize, String)>,
    /// rules with no `paths`: candidates for every subject
    pathless: Vec<usize>,
    ignores: Vec<Option<GlobSet>>,
    contents: Vec<Option<RegexSet>>,
    commands: Vec<Option<CommandMatcher>>,
    exceptions: Vec<CompiledException>,
}

fn glob_set<'g>(globs: impl IntoIterator<Item = &'g String>) -> GlobSet {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        // Decoding already compiled every glob, so this cannot fail.
        b.add(compile_glob(g).expect("glob validated when decoded"));
    }
    b.build().expect("globs validated when decoded")
}

impl Engine {
    /// Compiles `policy`, judging in `mode`, with exceptions expiring relative to `today`.
    pub fn new(policy: Policy, mode: Mode, today: Date) -> Engine {
        let mut builder = GlobSetBuilder::new();
        let mut glob_rule = Vec::new();
        let mut pathless = Vec::new();
        let mut ignores = Vec::new();
        let mut contents = Vec::new();
        let mut commands = Vec::new();
        for (i, rule) in policy.rules.iter().enumerate() {
            let m = &rule.matches;
            if m.paths.is_empty() {
                pathless.push(i);
            }
            for g in &m.paths {
                builder.add(compile_glob(g).expect("glob validated when decoded"));
                glob_rule.push((i, g.clone()));
            }
            ignores.push((!m.paths_ignore.is_empty()).then(|| glob_set(&m.paths_ignore)));
            contents.push((!m.content.is_empty()).then(|| {
                RegexSetBuilder::new(&m.content)
                    .size_limit(8 << 20)
                    .build()
                    .expect("regexes validated when decoded")
            }));
            commands.push(m.command.as_ref().map(CommandMatcher::new));
        }
        let exceptions = policy
            .exceptions
            .iter()
            .filter_map(|e: &Exception| {
                let rule = policy.rules.iter().position(|r| r.id == e.rule)?;
                Some(CompiledException {
                    rule,
                    paths: (!e.paths.is_empty()).then(|| glob_set(&e.paths)),
                    expired: e.expires.is_some_and(|d| d < today),
                    waiver: Waiver {
                        reason: e.reason.clone(),
                        source: e.source.clone(),
                        expires: e.expires.map(|d| d.to_string()),
                    },
                })
            })
            .collect();
        Engine {
            globs: builder.build().expect("globs validated when decoded"),
            policy,
            mode,
            glob_rule,
            pathless,
            ignores,
            contents,
            commands,
            exceptions,
        }
    }

    /// The policy this engine judges by.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The mode this engine judges in.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Exceptions whose expiry date has passed.
    pub fn expired_exceptions(&self) -> Vec<&Waiver> {
        self.exceptions
            .iter()
            .filter(|e| e.expired)
            .map(|e| &e.waiver)
            .collect()
    }

    /// Every finding for `subject`.
    pub fn evaluate(&self, subject: &Subject<'_>) -> Vec<Finding> {
        // Candidate rules, each with the reason its paths matched.
        let mut candidates: Vec<(usize, String)> = Vec::new();
        let mut hits = Vec::new();
        let views = [
            (Some(subject.path), ""),
            (subject.old_path, " (renamed or copied from here)"),
            (subject.link_target, " (symlink target)"),
        ];
        for (path, note) in views {
            let Some(path) = path else { continue };
            let candidate = Candidate::new(path);
            self.globs.matches_candidate_into(&candidate, &mut hits);
            for &g in &hits {
                let (rule, glob) = &self.glob_rule[g];
                if candidates.iter().any(|(r, _)| r == rule) {
                    continue;
                }
                if let Some(ignore) = &self.ignores[*rule]
                    && ignore.is_match_candidate(&candidate)
                {
                    continue;
                }
                candidates.push((
                    *rule,
                    format!("path `{}` matches `{glob}`{note}", path.display()),
                ));
            }
        }
        for &rule in &self.pathless {
            let ignored = self.ignores[rule].as_ref().is_some_and(|ignore| {
                [Some(subject.path), subject.old_path]
                    .into_iter()
                    .flatten()
                    .any(|p| ignore.is_match(p))
            });
            if !ignored {
                candidates.push((rule, String::new()));
            }
        }
        candidates.sort_by_key(|(r, _)| *r);

        let mut findings = Vec::new();
        for (index, path_reason) in candidates {
            let rule = &self.policy.rules[index];
            if !self.conditions_hold(rule, subject) {
                continue;
            }
            let mut reasons = vec![path_reason];
            if let Some(matcher) = &self.commands[index] {
                match subject.command.as_ref().and_then(|c| matcher.matches(c)) {
                    Some(why) => reasons.extend(why),
                    None => continue,
                }
            }
            reasons.extend(condition_reasons(rule, subject));
            reasons.retain(|r| !r.is_empty());
            let reason = reasons.join("; ");
            match &self.contents[index] {
                None => {
                    let line = subject.command.map(|c| c.line).filter(|&l| l > 0);
                    findings.push(self.finding(index, subject, reason, line))
                }
                Some(set) => self.content_findings(index, set, subject, &reason, &mut findings),
            }
        }
        if findings.is_empty() && self.mode == Mode::Strict && subject.command.is_none() {
            findings.push(Finding {
                rule: "strict/unmatched".to_string(),
                decision: Decision::RequireApproval,
                severity: Severity::Medium,
                message: "strict mode: no rule covers this change".to_string(),
                reason: format!("no rule matches `{}`", subject.path.display()),
                line: None,
                command: None,
                approvers: self.policy.strict_approvers.clone(),
                waived: None,
                expired_exception: None,
            });
        }
        findings
    }

    /// Every finding for the commands of one command line (an agent's, or a policy test case's),
    /// with `path` as the subjects' path and `context` as where the line comes from.
    pub fn evaluate_command_line(&self, path: &Path, line: &str, context: Context) -> Vec<Finding> {
        let options = cavra_shell::Options::for_context(context, cavra_shell::Dialect::Posix);
        let parsed = cavra_shell::parse(line, &options);
        let mut findings = Vec::new();
        for command in &parsed.commands {
            let subject = Subject::command(
                path,
                CommandSubject {
                    command,
                    context,
                    line: 0,
                    step: "",
                },
            );
            findings.extend(self.evaluate(&subject));
        }
        findings
    }

    fn conditions_hold(&self, rule: &Rule, s: &Subject<'_>) -> bool {
        let m = &rule.matches;
        let action_holds = if !m.actions.is_empty() {
            m.actions.contains(&s.action)
        } else if m.command.is_some() {
            // A command rule judges commands.
            s.action == Action::ExecuteCommand
        } else {
            // A rule that names no actions judges changes: written and deleted files.
            matches!(s.action, Action::WriteFile | Action::DeleteFile)
        };
        action_holds
            && (m.command.is_none() || s.command.is_some())
            && (m.change.is_empty() || s.change.is_some_and(|c| m.change.contains(&c)))
            && m.binary.is_none_or(|b| b == s.binary)
            && m.symlink.is_none_or(|b| b == s.symlink)
            && m.submodule.is_none_or(|b| b == s.submodule)
            && m.executable.is_none_or(|b| b == s.executable)
            && m.size_over.is_none_or(|limit| s.size > limit)
    }

    fn content_findings(
        &self,
        index: usize,
        set: &RegexSet,
        subject: &Subject<'_>,
        reason: &str,
        out: &mut Vec<Finding>,
    ) {
        let mut count = 0usize;
        let mut first_extra = None;
        for (number, text) in subject.lines {
            let matched = set.matches(text);
            let Some(pattern) = matched.iter().next() else {
                continue;
            };
            count += 1;
            if count > MAX_LINE_FINDINGS {
                first_extra.get_or_insert(*number);
                continue;
            }
            // The line itself is never copied into the finding: it may hold a secret.
            let why = format!(
                "added line {number} matches content pattern `{}`{}",
                self.policy.rules[index].matches.content[pattern],
                if reason.is_empty() {
                    String::new()
                } else {
                    format!("; {reason}")
                }
            );
            out.push(self.finding(index, subject, why, Some(*number)));
        }
        if let Some(line) = first_extra {
            let why = format!(
                "{} more added lines from line {line} on match the same rule",
                count - MAX_LINE_FINDINGS
            );
            out.push(self.finding(index, subject, why, Some(line)));
        }
    }

    fn finding(
        &self,
        index: usize,
        subject: &Subject<'_>,
        reason: String,
        line: Option<u32>,
    ) -> Finding {
        let rule = &self.policy.rules[index];
        let mut finding = Finding {
            rule: rule.id.clone(),
            decision: rule.decision,
            severity: rule.severity,
            message: if rule.description.is_empty() {
                rule.id.clone()
            } else {
                rule.description.clone()
            },
            reason,
            line,
            command: subject.command.as_ref().map(FindingCommand::of),
            approvers: rule.approvers.clone(),
            waived: None,
            expired_exception: None,
        };
        for e in self.exceptions.iter().filter(|e| e.rule == index) {
            let applies = match &e.paths {
                None => true,
                Some(set) => [Some(subject.path), subject.old_path]
                    .into_iter()
                    .flatten()
                    .all(|p| set.is_match(p)),
            };
            if !applies {
                continue;
            }
            if e.expired {
                finding
                    .expired_exception
                    .get_or_insert_with(|| e.waiver.clone());
            } else {
                finding.waived = Some(e.waiver.clone());
                finding.decision = Decision::Allow;
                break;
            }
        }
        finding
    }
}

/// Words for the non-path conditions that held, for the finding's reason.
fn condition_reasons(rule: &Rule, s: &Subject<'_>) -> Vec<String> {
    let m = &rule.matches;
    let mut out = Vec::new();
    if !m.change.is_empty()
        && let Some(c) = s.change
    {
        out.push(format!("change is {}", c.as_str()));
    }
    if !m.actions.is_empty() {
        out.push(format!("action is {}", s.action.as_str()));
    }
    for (set, yes, word) in [
        (m.binary, s.binary, "binary"),
        (m.symlink, s.symlink, "a symlink"),
        (m.submodule, s.submodule, "a submodule"),
        (m.executable, s.executable, "made executable"),
    ] {
        if set.is_some() {
            out.push(format!("{}{word}", if yes { "" } else { "not " }));
        }
    }
    if let Some(limit) = m.size_over {
        out.push(format!("size {} bytes is over {limit}", s.size));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{NoFiles, resolve_policy};

    fn engine(text: &str, mode: Mode) -> Engine {
        let policy = resolve_policy("p.yaml", text, &NoFiles).unwrap();
        Engine::new(policy, mode, Date::parse("2026-11-23").unwrap())
    }

    fn write(path: &str) -> Subject<'_> {
        let mut s = Subject::new(Action::WriteFile, Path::new(path));
        s.change = Some(ChangeKind::Added);
        s
    }

    const POLICY: &str = "version: 1
rules:
  - id: keys
    match: { paths: ['**/*.pem'], paths_ignore: ['docs/**'] }
    decision: deny
  - id: secret
    match: { content: 'AKIA[0-9A-Z]{16}' }
    decision: deny
    severity: critical
exceptions:
  - { rule: keys, paths: ['tests/fixtures/**'], reason: test keys, expires: 2027-01-01 }
  - { rule: keys, paths: ['old/**'], reason: legacy, expires: 2020-01-01 }
";

    #[test]
    fn globs_renames_ignores_and_exceptions() {
        let e = engine(POLICY, Mode::Enforce);
        assert_eq!(
            e.evaluate(&write("a/b/server.pem"))[0].decision,
            Decision::Deny
        );
        assert_eq!(
            e.evaluate(&write("server.pem"))[0].decision,
            Decision::Deny,
            "** matches zero dirs"
        );
        assert!(e.evaluate(&write("docs/x.pem")).is_empty());
        let mut renamed = write("harmless.txt");
        renamed.old_path = Some(Path::new("keys/server.pem"));
        let f = e.evaluate(&renamed);
        assert_eq!(f[0].rule, "keys");
        assert!(
            f[0].reason.contains("renamed or copied from here"),
            "{}",
            f[0].reason
        );
        let waived = e.evaluate(&write("tests/fixtures/k.pem"));
        assert_eq!(waived[0].decision, Decision::Allow);
        assert_eq!(waived[0].waived.as_ref().unwrap().reason, "test keys");
        let expired = e.evaluate(&write("old/k.pem"));
        assert_eq!(expired[0].decision, Decision::Deny);
        assert_eq!(
            expired[0].expired_exception.as_ref().unwrap().reason,
            "legacy"
        );
        assert_eq!(e.expired_exceptions().len(), 1);
    }

    #[test]
    fn content_findings_name_lines_not_secrets() {
        let e = engine(POLICY, Mode::Enforce);
        let lines = [(3, "let k = \"AKIAABCDEFGHIJKLMNOP\";"), (4, "fine")];
        let mut s = write("src/main.rs");
        s.lines = &lines;
        let f = e.evaluate(&s);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, Some(3));
        assert!(!f[0].reason.contains("AKIAABCDEFGHIJKLMNOP"));
    }

    #[test]
    fn ignores_apply_to_rules_without_paths_and_reads_need_named_actions() {
        let e = engine(
            "version: 1\nrules:\n  - { id: c, match: { content: 'AKIA', paths_ignore: ['**/*.lock'] }, decision: deny }\n  - { id: w, match: { paths: ['.github/**'] }, decision: require_approval }\n  - { id: r, match: { paths: ['.env'], actions: [read_file] }, decision: deny }\n",
            Mode::Enforce,
        );
        let lines = [(1, "AKIA")];
        let mut lock = write("Cargo.lock");
        lock.lines = &lines;
        assert!(e.evaluate(&lock).is_empty());
        let mut read = Subject::new(Action::ReadFile, Path::new(".github/workflows/ci.yml"));
        read.change = Some(ChangeKind::Read);
        assert!(
            e.evaluate(&read).is_empty(),
            "a change rule does not judge reads"
        );
        let mut env = Subject::new(Action::ReadFile, Path::new(".env"));
        env.change = Some(ChangeKind::Read);
        assert_eq!(e.evaluate(&env)[0].rule, "r");
        assert_eq!(
            e.evaluate(&write(".env")).len(),
            0,
            "a read rule does not judge writes"
        );
        let tool = Subject::new(Action::McpToolCall, Path::new(".github/x"));
        assert!(e.evaluate(&tool).is_empty());
    }

    #[test]
    fn strict_mode_flags_unmatched_paths() {
        let e = engine(POLICY, Mode::Strict);
        let f = e.evaluate(&write("src/lib.rs"));
        assert_eq!(f[0].rule, "strict/unmatched");
        assert_eq!(f[0].decision, Decision::RequireApproval);
        assert!(
            engine(POLICY, Mode::Enforce)
                .evaluate(&write("src/lib.rs"))
                .is_empty()
        );
    }

    #[test]
    fn symlink_target_and_conditions() {
        let e = engine(
            "version: 1\nrules:\n  - { id: s, match: { paths: ['secrets/**'] }, decision: deny }\n  - { id: big, match: { size_over: 100, binary: true }, decision: audit }\n",
            Mode::Enforce,
        );
        let mut link = write("innocent");
        link.symlink = true;
        link.link_target = Some(Path::new("secrets/prod.key"));
        assert_eq!(e.evaluate(&link)[0].rule, "s");
        let mut blob = write("a.bin");
        blob.binary = true;
        blob.size = 101;
        assert_eq!(e.evaluate(&blob)[0].rule, "big");
        blob.size = 100;
        assert!(e.evaluate(&blob).is_empty());
    }
}
