//! What a policy holds once its layers are resolved.

use crate::Date;
pub use cavra_shell::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the policy says about a finding, from weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Explicitly fine.
    Allow,
    /// Recorded, never blocks.
    Audit,
    /// Blocks until a member of a named approver group approves.
    RequireApproval,
    /// Blocks.
    Deny,
}

impl Decision {
    /// The name used in policies and outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Audit => "audit",
            Decision::RequireApproval => "require_approval",
            Decision::Deny => "deny",
        }
    }

    /// Parses a policy keyword.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "allow" => Decision::Allow,
            "audit" => Decision::Audit,
            "require_approval" => Decision::RequireApproval,
            "deny" => Decision::Deny,
            _ => return None,
        })
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For the record.
    Info,
    /// Minor.
    Low,
    /// The default.
    Medium,
    /// Serious.
    High,
    /// Must not ship.
    Critical,
}

impl Severity {
    /// The name used in policies and outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a policy keyword.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// How findings turn into a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Report everything, block nothing.
    Audit,
    /// `deny` fails, `require_approval` waits for approval.
    Enforce,
    /// As enforce, and a changed path that no rule matches needs approval too.
    Strict,
}

impl Mode {
    /// The name used in policies and outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Audit => "audit",
            Mode::Enforce => "enforce",
            Mode::Strict => "strict",
        }
    }

    /// Parses a policy keyword.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "audit" => Mode::Audit,
            "enforce" => Mode::Enforce,
            "strict" => Mode::Strict,
            _ => return None,
        })
    }
}

/// How a path changed, as policies name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// New file.
    Added,
    /// Changed in place.
    Modified,
    /// Removed.
    Deleted,
    /// Moved.
    Renamed,
    /// Copied.
    Copied,
    /// File <-> symlink <-> submodule.
    TypeChanged,
    /// Only read (agent actions).
    Read,
}

impl ChangeKind {
    /// Every kind, for error messages.
    pub const ALL: [&'static str; 7] = [
        "added",
        "modified",
        "deleted",
        "renamed",
        "copied",
        "type_changed",
        "read",
    ];

    /// The name used in policies and outputs.
    pub fn as_str(self) -> &'static str {
        Self::ALL[self as usize]
    }

    /// Parses a policy keyword.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "added" => ChangeKind::Added,
            "modified" => ChangeKind::Modified,
            "deleted" => ChangeKind::Deleted,
            "renamed" => ChangeKind::Renamed,
            "copied" => ChangeKind::Copied,
            "type_changed" => ChangeKind::TypeChanged,
            "read" => ChangeKind::Read,
            _ => return None,
        })
    }
}

/// What is being done: every subject is one action on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Reading a file.
    ReadFile,
    /// Creating or changing a file (every added, modified, renamed or copied path).
    WriteFile,
    /// Removing a file.
    DeleteFile,
    /// Running a command.
    ExecuteCommand,
    /// Pushing to a ref (target: the ref).
    GitPush,
    /// Calling an MCP tool (target: the tool name).
    McpToolCall,
}

impl Action {
    /// Every action, for error messages.
    pub const ALL: [&'static str; 6] = [
        "read_file",
        "write_file",
        "delete_file",
        "execute_command",
        "git_push",
        "mcp_tool_call",
    ];

    /// The name used in policies and on the command line.
    pub fn as_str(self) -> &'static str {
        Self::ALL[self as usize]
    }

    /// Parses an action name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "read_file" => Action::ReadFile,
            "write_file" => Action::WriteFile,
            "delete_file" => Action::DeleteFile,
            "execute_command" => Action::ExecuteCommand,
            "git_push" => Action::GitPush,
            "mcp_tool_call" => Action::McpToolCall,
            _ => return None,
        })
    }
}

/// What a rule matches. Every condition given must hold (logical AND).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleMatch {
    /// Globs over repository paths (`*` stays in one directory, `**` crosses them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Globs that exclude paths the `paths` globs matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths_ignore: Vec<String>,
    /// Change kinds; empty means any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub change: Vec<ChangeKind>,
    /// Actions; empty means changes only (`write_file`, `delete_file`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
    /// Regexes over added lines; a finding per matching line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<String>,
    /// Binary content (or not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary: Option<bool>,
    /// A symlink on either side (or not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symlink: Option<bool>,
    /// A submodule on either side (or not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submodule: Option<bool>,
    /// The head file became executable (or not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executable: Option<bool>,
    /// Larger than this many bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_over: Option<u64>,
    /// A command the change adds (or an agent runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandMatch>,
}

/// What a `command` match looks for in one parsed command. Every field given must hold; within a
/// list, any entry may match. Words are globs (`*`, `?`, `[..]`, `\\` escapes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CommandMatch {
    /// The program's name after unwrapping (`sudo /usr/bin/curl` is `curl`); case-insensitive.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub program: Vec<String>,
    /// Leading non-option words after the program, space-separated (`apply`, `iam attach-*`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subcommand: Vec<String>,
    /// Any argument (`-k`; short-option clusters like `-sSLk` count as each letter too).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// A program that receives the command's output (later in the pipe, or through `$(...)`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub piped_to: Vec<String>,
    /// Whether the command's output goes to another program at all (`false`: to the log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub piped: Option<bool>,
    /// Where the command is written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contexts: Vec<Context>,
    /// A regex over the command's normal form, as an escape hatch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Unique id; a later layer replaces a rule with the same id.
    pub id: String,
    /// What the rule is about.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// When it applies.
    #[serde(rename = "match")]
    pub matches: RuleMatch,
    /// What it decides.
    pub decision: Decision,
    /// Who may approve (`require_approval`): approver group names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    /// How bad a match is.
    pub severity: Severity,
    /// The layer it came from.
    pub source: String,
}

/// A scoped waiver of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    /// The rule it waives.
    pub rule: String,
    /// Where (globs); empty means everywhere.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Why.
    pub reason: String,
    /// The last day it applies.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_date")]
    pub expires: Option<Date>,
    /// The layer it came from.
    pub source: String,
}

fn ser_date<S: serde::Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&d.to_string()),
        None => s.serialize_none(),
    }
}

/// The members of an approver group, per forge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApproverGroup {
    /// Forge name (`github`, `gitlab`, `azure`) -> users or teams.
    #[serde(flatten)]
    pub members: BTreeMap<String, Vec<String>>,
}

/// Break-glass settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BreakGlass {
    /// Whether break-glass may be used at all.
    pub allowed: bool,
    /// If set, only these users may invoke it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<String>,
}

/// A resolved policy: every layer applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Always 1.
    pub version: u32,
    /// The mode of the last layer that set one (default enforce).
    pub mode: Mode,
    /// Approver groups by name.
    pub approvers: BTreeMap<String, ApproverGroup>,
    /// Rules in layer order (replaced rules keep their first position).
    pub rules: Vec<Rule>,
    /// Exceptions from every layer.
    pub exceptions: Vec<Exception>,
    /// Break-glass settings of the last layer that set them.
    pub break_glass: BreakGlass,
    /// Approver groups for paths no rule matches, in strict mode.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub strict_approvers: Vec<String>,
    /// The layers, outermost first (`builtin:baseline`, `.cavra/policy.yaml`, ...).
    pub layers: Vec<String>,
}

impl Policy {
    /// The resolved policy as canonical JSON (what `policy print` shows and the digest covers).
    pub fn canonical_json(&self) -> String {
        serde_json_canonical(self)
    }

    /// The sha256 of [`Policy::canonical_json`], hex-encoded.
    pub fn sha256(&self) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(self.canonical_json().as_bytes()))
    }
}

fn serde_json_canonical<T: Serialize>(value: &T) -> String {
    // Struct fields serialize in declaration order and maps are BTreeMaps, so the output is
    // deterministic for a given policy.
    serde_json::to_string_pretty(value).expect("a policy always serializes")
}
