//! Decoding one policy file into a [`Layer`], reporting every error with its position.

use crate::command::compile_word_glob;
use crate::model::{
    Action, ApproverGroup, BreakGlass, ChangeKind, CommandMatch, Context, Decision, Exception,
    Mode, Rule, RuleMatch, Severity,
};
use crate::size::parse_size;
use crate::{Date, PolicyError, PolicyErrors};
use cavra_yaml::{Limits, Node, Pos};
use std::collections::BTreeMap;

/// Policy files are small; anything bigger than this is refused.
const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// A rule as one layer states it.
#[derive(Debug, Clone)]
pub struct LayerRule {
    /// The rule (its `source` is this layer's file).
    pub rule: Rule,
    /// `disabled: true` removes an inherited rule of the same id.
    pub disabled: bool,
    /// Where the rule starts.
    pub pos: Pos,
    /// Where each approver group name stands.
    pub approver_pos: Vec<Pos>,
}

/// One decoded policy file, before `extends` is resolved.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    /// The file name, for errors.
    pub file: String,
    /// Parents, in order, with their positions.
    pub extends: Vec<(String, Pos)>,
    /// The mode, if this layer sets one.
    pub mode: Option<Mode>,
    /// Approver groups this layer defines.
    pub approvers: BTreeMap<String, ApproverGroup>,
    /// Rules in file order.
    pub rules: Vec<LayerRule>,
    /// Exceptions with their positions.
    pub exceptions: Vec<(Exception, Pos)>,
    /// Break-glass settings, if this layer sets them.
    pub break_glass: Option<BreakGlass>,
    /// Approvers for unmatched paths in strict mode, with positions.
    pub strict_approvers: Option<Vec<(String, Pos)>>,
}

/// Decodes the text of policy file `file`.
pub fn decode_layer(file: &str, text: &str) -> Result<Layer, PolicyErrors> {
    let limits = Limits {
        max_bytes: MAX_POLICY_BYTES,
        ..Limits::default()
    };
    let root = cavra_yaml::parse(text, limits)
        .map_err(|e| PolicyErrors::one(file, e.pos, format!("invalid YAML: {}", e.message)))?;
    let mut errors = Vec::new();
    let layer = Reader::new(file, &mut errors).layer(&root);
    if errors.is_empty() {
        Ok(layer)
    } else {
        Err(PolicyErrors(errors))
    }
}

/// Reads typed values out of YAML nodes, collecting positioned errors as it goes.
pub(crate) struct Reader<'a> {
    file: &'a str,
    errors: &'a mut Vec<PolicyError>,
}

/// The checked keys of one mapping.
pub(crate) struct Fields<'n> {
    entries: Vec<(&'n str, &'n Node)>,
}

impl<'n> Fields<'n> {
    pub(crate) fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }
}

impl<'a> Reader<'a> {
    pub(crate) fn new(file: &'a str, errors: &'a mut Vec<PolicyError>) -> Self {
        Reader { file, errors }
    }

    pub(crate) fn err(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(PolicyError {
            file: self.file.to_string(),
            pos,
            message: message.into(),
        });
    }

    /// Checks that `node` is a mapping with string keys drawn from `allowed`, each once.
    pub(crate) fn fields<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> Option<Fields<'n>> {
        let Some(map) = node.as_map() else {
            self.err(
                node.pos,
                format!("{what} must be a mapping, found a {}", node.kind()),
            );
            return None;
        };
        let mut entries: Vec<(&'n str, &'n Node)> = Vec::with_capacity(map.len());
        for (k, v) in map {
            let Some(key) = k.as_str() else {
                self.err(k.pos, format!("{what} keys must be strings"));
                continue;
            };
            if !allowed.contains(&key) {
                self.err(
                    k.pos,
                    format!(
                        "unknown key `{key}` in {what} (expected one of: {})",
                        allowed.join(", ")
                    ),
                );
                continue;
            }
            if entries.iter().any(|(seen, _)| *seen == key) {
                self.err(k.pos, format!("duplicate key `{key}` in {what}"));
                continue;
            }
            entries.push((key, v));
        }
        Some(Fields { entries })
    }

    pub(crate) fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match node.as_str() {
            Some(s) if node.as_seq().is_none() => Some(s.to_string()),
            _ => {
                self.err(
                    node.pos,
                    format!("{what} must be a string, found a {}", node.kind()),
                );
                None
            }
        }
    }

    pub(crate) fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        let b = node.as_bool();
        if b.is_none() {
            self.err(node.pos, format!("{what} must be true or false"));
        }
        b
    }

    /// A string or a list of strings, each with its position.
    pub(crate) fn strings(&mut self, node: &Node, what: &str) -> Vec<(String, Pos)> {
        if let Some(items) = node.as_seq() {
            items
                .iter()
                .filter_map(|item| self.string(item, what).map(|s| (s, item.pos)))
                .collect()
        } else {
            self.string(node, what)
                .map(|s| vec![(s, node.pos)])
                .unwrap_or_default()
        }
    }

    pub(crate) fn keyword<T>(
        &mut self,
        node: &Node,
        what: &str,
        parse: fn(&str) -> Option<T>,
        choices: &[&str],
    ) -> Option<T> {
        let text = self.string(node, what)?;
        self.parse_keyword(&text, node.pos, what, parse, choices)
    }

    /// A keyword or a list of keywords (`item` names one entry, `what` the kind of keyword).
    fn keywords<T>(
        &mut self,
        node: &Node,
        item: &str,
        what: &str,
        parse: fn(&str) -> Option<T>,
        choices: &[&str],
    ) -> Vec<T> {
        self.strings(node, item)
            .into_iter()
            .filter_map(|(text, pos)| self.parse_keyword(&text, pos, what, parse, choices))
            .collect()
    }

    fn parse_keyword<T>(
        &mut self,
        text: &str,
        pos: Pos,
        what: &str,
        parse: fn(&str) -> Option<T>,
        choices: &[&str],
    ) -> Option<T> {
        let parsed = parse(text);
        if parsed.is_none() {
            self.err(
                pos,
                format!(
                    "unknown {what} `{text}` (expected one of: {})",
                    choices.join(", ")
                ),
            );
        }
        parsed
    }

    fn globs(&mut self, node: &Node, what: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (glob, pos) in self.strings(node, what) {
            match crate::engine::compile_glob(&glob) {
                Ok(_) => out.push(glob),
                Err(e) => self.err(pos, format!("bad glob `{glob}`: {e}")),
            }
        }
        out
    }

    fn layer(&mut self, root: &Node) -> Layer {
        let mut layer = Layer {
            file: self.file.to_string(),
            ..Layer::default()
        };
        let Some(f) = self.fields(
            root,
            "policy",
            &[
                "version",
                "name",
                "description",
                "extends",
                "mode",
                "approvers",
                "rules",
                "exceptions",
                "break_glass",
                "strict",
            ],
        ) else {
            return layer;
        };
        match f.get("version") {
            None => self.err(root.pos, "missing `version: 1`"),
            Some(v) if v.as_u64() == Some(1) => {}
            Some(v) => self.err(
                v.pos,
                "unsupported policy version (this cavra reads version 1)",
            ),
        }
        for key in ["name", "description"] {
            if let Some(v) = f.get(key) {
                self.string(v, key);
            }
        }
        if let Some(v) = f.get("extends") {
            layer.extends = self.strings(v, "an `extends` entry");
        }
        if let Some(v) = f.get("mode") {
            layer.mode = self.keyword(v, "mode", Mode::parse, &["audit", "enforce", "strict"]);
        }
        if let Some(v) = f.get("approvers") {
            layer.approvers = self.approvers(v);
        }
        if let Some(v) = f.get("rules") {
            match v.as_seq() {
                Some(items) => {
                    for item in items {
                        if let Some(rule) = self.rule(item) {
                            if layer.rules.iter().any(|r| r.rule.id == rule.rule.id) {
                                self.err(
                                    item.pos,
                                    format!(
                                        "rule id `{}` is used twice in this file",
                                        rule.rule.id
                                    ),
                                );
                            }
                            layer.rules.push(rule);
                        }
                    }
                }
                None if v.is_null() => {}
                None => self.err(v.pos, "`rules` must be a list"),
            }
        }
        if let Some(v) = f.get("exceptions") {
            match v.as_seq() {
                Some(items) => {
                    for item in items {
                        if let Some(e) = self.exception(item) {
                            layer.exceptions.push((e, item.pos));
                        }
                    }
                }
                None if v.is_null() => {}
                None => self.err(v.pos, "`exceptions` must be a list"),
            }
        }
        if let Some(v) = f.get("break_glass") {
            layer.break_glass = self.break_glass(v);
        }
        if let Some(v) = f.get("strict")
            && let Some(s) = self.fields(v, "strict", &["approvers"])
        {
            layer.strict_approvers = s
                .get("approvers")
                .map(|a| self.strings(a, "an approver group"));
        }
        layer
    }

    fn approvers(&mut self, node: &Node) -> BTreeMap<String, ApproverGroup> {
        let mut groups = BTreeMap::new();
        let Some(map) = node.as_map() else {
            self.err(
                node.pos,
                "`approvers` must be a mapping of group name to members",
            );
            return groups;
        };
        for (k, v) in map {
            let Some(name) = self.string(k, "an approver group name") else {
                continue;
            };
            let Some(f) = self.fields(
                v,
                "an approver group",
                &["github", "gitlab", "azure", "users"],
            ) else {
                continue;
            };
            let mut group = ApproverGroup::default();
            for (forge, members) in &f.entries {
                let list = self.strings(members, "an approver");
                group.members.insert(
                    forge.to_string(),
                    list.into_iter().map(|(s, _)| s).collect(),
                );
            }
            groups.insert(name, group);
        }
        groups
    }

    fn rule(&mut self, node: &Node) -> Option<LayerRule> {
        let f = self.fields(
            node,
            "rule",
            &[
                "id",
                "description",
                "match",
                "decision",
                "approvers",
                "severity",
                "disabled",
            ],
        )?;
        let Some(id_node) = f.get("id") else {
            self.err(node.pos, "rule has no `id`");
            return None;
        };
        let id = self.string(id_node, "rule id")?;
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        {
            self.err(
                id_node.pos,
                format!("rule id `{id}` may only hold letters, digits, `-`, `_`, `.` and `/`"),
            );
        }
        let disabled = f.get("disabled").and_then(|v| self.bool(v, "disabled")) == Some(true);
        let description = f
            .get("description")
            .and_then(|v| self.string(v, "description"))
            .unwrap_or_default();
        let matches = match f.get("match") {
            Some(m) => self.rule_match(m)?,
            None if disabled => RuleMatch::default(),
            None => {
                self.err(node.pos, format!("rule `{id}` has no `match`"));
                return None;
            }
        };
        let decision = match f.get("decision") {
            Some(v) => self.keyword(
                v,
                "decision",
                Decision::parse,
                &["allow", "deny", "require_approval", "audit"],
            )?,
            None if disabled => Decision::Allow,
            None => {
                self.err(node.pos, format!("rule `{id}` has no `decision`"));
                return None;
            }
        };
        let severity = match f.get("severity") {
            Some(v) => self.keyword(
                v,
                "severity",
                Severity::parse,
                &["info", "low", "medium", "high", "critical"],
            )?,
            None => Severity::Medium,
        };
        let approvers = f
            .get("approvers")
            .map(|v| self.strings(v, "an approver group"))
            .unwrap_or_default();
        Some(LayerRule {
            rule: Rule {
                id,
                description,
                matches,
                decision,
                approvers: approvers.iter().map(|(s, _)| s.clone()).collect(),
                severity,
                source: self.file.to_string(),
            },
            disabled,
            pos: node.pos,
            approver_pos: approvers.iter().map(|(_, p)| *p).collect(),
        })
    }

    fn rule_match(&mut self, node: &Node) -> Option<RuleMatch> {
        let f = self.fields(
            node,
            "match",
            &[
                "paths",
                "paths_ignore",
                "change",
                "actions",
                "content",
                "binary",
                "symlink",
                "submodule",
                "executable",
                "size_over",
                "command",
            ],
        )?;
        let mut m = RuleMatch::default();
        for (key, v) in &f.entries {
            match *key {
                "paths" => m.paths = self.globs(v, "a path glob"),
                "paths_ignore" => m.paths_ignore = self.globs(v, "a path glob"),
                "change" => {
                    m.change = self.keywords(
                        v,
                        "a change kind",
                        "change kind",
                        ChangeKind::parse,
                        &ChangeKind::ALL,
                    )
                }
                "actions" => {
                    m.actions = self.keywords(v, "an action", "action", Action::parse, &Action::ALL)
                }
                "content" => {
                    for (re, pos) in self.strings(v, "a content regex") {
                        match crate::engine::compile_regex(&re) {
                            Ok(_) => m.content.push(re),
                            Err(e) => self.err(pos, format!("bad regex `{re}`: {e}")),
                        }
                    }
                }
                "binary" => m.binary = self.bool(v, "binary"),
                "symlink" => m.symlink = self.bool(v, "symlink"),
                "submodule" => m.submodule = self.bool(v, "submodule"),
                "executable" => m.executable = self.bool(v, "executable"),
                "size_over" => {
                    m.size_over = v.as_u64().or_else(|| v.as_str().and_then(parse_size));
                    if m.size_over.is_none() {
                        self.err(
                            v.pos,
                            "size_over must be a size such as 1048576, `10MB` or `5 MiB`",
                        );
                    }
                }
                "command" => m.command = self.command_match(v),
                _ => unreachable!("fields() only lets known keys through"),
            }
        }
        if f.entries.is_empty() {
            self.err(
                node.pos,
                "`match` is empty: it would match everything; say what to match",
            );
            return None;
        }
        if m.command.is_some() && !m.content.is_empty() {
            self.err(
                node.pos,
                "`command` and `content` cannot be combined: a command has no added lines; use `command.regex`",
            );
        }
        Some(m)
    }

    fn command_match(&mut self, node: &Node) -> Option<CommandMatch> {
        let f = self.fields(
            node,
            "command",
            &[
                "program",
                "subcommand",
                "args",
                "piped_to",
                "piped",
                "contexts",
                "regex",
            ],
        )?;
        let mut m = CommandMatch::default();
        for (key, v) in &f.entries {
            match *key {
                "program" => m.program = self.word_globs(v, "a program name", true),
                "subcommand" => {
                    for (sub, pos) in self.strings(v, "a subcommand") {
                        if sub.split_whitespace().next().is_none() {
                            self.err(pos, "a subcommand must have at least one word");
                            continue;
                        }
                        let bad = sub
                            .split_whitespace()
                            .find_map(|w| compile_word_glob(w, false).err().map(|e| (w, e)));
                        match bad {
                            Some((w, e)) => self.err(pos, format!("bad glob `{w}`: {e}")),
                            None => m.subcommand.push(sub),
                        }
                    }
                }
                "args" => m.args = self.word_globs(v, "an argument glob", false),
                "piped_to" => m.piped_to = self.word_globs(v, "a program name", true),
                "piped" => m.piped = self.bool(v, "piped"),
                "contexts" => {
                    m.contexts =
                        self.keywords(v, "a context", "context", Context::parse, &Context::NAMES)
                }
                "regex" => {
                    if let Some(re) = self.string(v, "command.regex") {
                        match crate::engine::compile_regex(&re) {
                            Ok(_) => m.regex = Some(re),
                            Err(e) => self.err(v.pos, format!("bad regex `{re}`: {e}")),
                        }
                    }
                }
                _ => unreachable!("fields() only lets known keys through"),
            }
        }
        if f.entries.is_empty() {
            self.err(
                node.pos,
                "`command` is empty: it would match every command; say what to match",
            );
            return None;
        }
        Some(m)
    }

    fn word_globs(&mut self, node: &Node, what: &str, case_insensitive: bool) -> Vec<String> {
        let mut out = Vec::new();
        for (glob, pos) in self.strings(node, what) {
            match compile_word_glob(&glob, case_insensitive) {
                Ok(_) => out.push(glob),
                Err(e) => self.err(pos, format!("bad glob `{glob}`: {e}")),
            }
        }
        out
    }

    fn exception(&mut self, node: &Node) -> Option<Exception> {
        let f = self.fields(node, "exception", &["rule", "paths", "reason", "expires"])?;
        let Some(rule) = f.get("rule").and_then(|v| self.string(v, "rule")) else {
            self.err(node.pos, "exception has no `rule`");
            return None;
        };
        let Some(reason) = f.get("reason").and_then(|v| self.string(v, "reason")) else {
            self.err(
                node.pos,
                "exception has no `reason`: say why the rule is waived",
            );
            return None;
        };
        let paths = f
            .get("paths")
            .map(|v| self.globs(v, "a path glob"))
            .unwrap_or_default();
        let expires = match f.get("expires") {
            None => None,
            Some(v) => {
                let text = v.as_scalar().unwrap_or_default();
                let date = Date::parse(text);
                if date.is_none() {
                    self.err(
                        v.pos,
                        format!("expires must be a date YYYY-MM-DD, found `{text}`"),
                    );
                }
                date
            }
        };
        Some(Exception {
            rule,
            paths,
            reason,
            expires,
            source: self.file.to_string(),
        })
    }

    fn break_glass(&mut self, node: &Node) -> Option<BreakGlass> {
        let f = self.fields(node, "break_glass", &["allowed", "actors"])?;
        Some(BreakGlass {
            allowed: f
                .get("allowed")
                .and_then(|v| self.bool(v, "allowed"))
                .unwrap_or(false),
            actors: f
                .get("actors")
                .map(|v| {
                    self.strings(v, "an actor")
                        .into_iter()
                        .map(|(s, _)| s)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        decode_layer("p.yaml", text)
            .unwrap_err()
            .0
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn reports_every_error_with_position() {
        let errs = errors(
            "version: 1\nrules:\n  - id: a\n    match: { paths: ['[bad'] }\n    decision: deny\n    colour: red\n  - id: b\n    match:\n      content: '(unclosed'\n    decision: maybe\n",
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("p.yaml:4:22: bad glob `[bad`")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("p.yaml:6:5: unknown key `colour` in rule")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("p.yaml:9:16: bad regex `(unclosed`")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("p.yaml:10:15: unknown decision `maybe`")),
            "{errs:?}"
        );
    }

    #[test]
    fn version_and_shape() {
        assert_eq!(
            errors("rules: []\n"),
            vec!["p.yaml:1:1: missing `version: 1`"]
        );
        assert!(errors("version: 2\n")[0].contains("unsupported policy version"));
        assert!(errors("- a\n")[0].contains("policy must be a mapping"));
        assert!(
            errors("version: 1\nrules: [{id: x, match: {}, decision: deny}]\n")[0]
                .contains("`match` is empty")
        );
    }

    #[test]
    fn decodes_a_full_layer() {
        let layer = decode_layer(
            "p.yaml",
            "version: 1\nextends: [builtin:baseline]\nmode: strict\napprovers:\n  sec: { github: ['@acme/sec'] }\nrules:\n  - id: big\n    match: { size_over: 10MB, binary: true, change: [added] }\n    decision: require_approval\n    approvers: [sec]\n    severity: high\nexceptions:\n  - { rule: big, paths: ['assets/**'], reason: artwork, expires: 2027-06-30 }\nbreak_glass: { allowed: true }\n",
        )
        .unwrap();
        assert_eq!(layer.mode, Some(Mode::Strict));
        assert_eq!(layer.rules[0].rule.matches.size_over, Some(10_000_000));
        assert_eq!(layer.rules[0].rule.approvers, vec!["sec"]);
        assert_eq!(
            layer.exceptions[0].0.expires.unwrap().to_string(),
            "2027-06-30"
        );
        assert!(layer.break_glass.unwrap().allowed);
    }
}
