//! Resolving `extends` chains into one [`Policy`].

use crate::builtin;
use crate::decode::{Layer, decode_layer};
use crate::model::{BreakGlass, Mode, Policy, Rule};
use crate::{PolicyError, PolicyErrors};
use cavra_yaml::Pos;
use std::collections::BTreeMap;

/// Deepest `extends` chain accepted.
const MAX_LAYERS: usize = 32;

/// Where policy files named in `extends` are read from (the base revision, or the disk).
pub trait FileSource {
    /// The text of `path` (normalized, `/`-separated); `Ok(None)` when it does not exist.
    fn read(&self, path: &str) -> Result<Option<String>, String>;
}

/// A source with no files: only built-in packs may be extended.
pub struct NoFiles;

impl FileSource for NoFiles {
    fn read(&self, _path: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

/// Resolves the policy file `name` with text `text`, reading parents from `files`.
pub fn resolve_policy(
    name: &str,
    text: &str,
    files: &dyn FileSource,
) -> Result<Policy, PolicyErrors> {
    let mut loader = Loader {
        files,
        layers: Vec::new(),
        stack: Vec::new(),
    };
    let root = decode_layer(name, text)?;
    loader.visit(root)?;
    merge(loader.layers)
}

struct Loader<'a> {
    files: &'a dyn FileSource,
    layers: Vec<Layer>,
    stack: Vec<String>,
}

impl Loader<'_> {
    fn visit(&mut self, layer: Layer) -> Result<(), PolicyErrors> {
        self.stack.push(layer.file.clone());
        for (parent, pos) in &layer.extends {
            let at = |msg: String| PolicyErrors::one(&layer.file, *pos, msg);
            let name = join(&layer.file, parent).map_err(at)?;
            if self.stack.contains(&name) {
                return Err(at(format!(
                    "`extends` cycle: {} -> {name}",
                    self.stack.join(" -> ")
                )));
            }
            if self.layers.iter().any(|l| l.file == name) {
                continue; // already included through another parent
            }
            if self.stack.len() >= MAX_LAYERS {
                return Err(at(format!(
                    "`extends` is nested deeper than {MAX_LAYERS} files"
                )));
            }
            let text = match name.strip_prefix("builtin:") {
                Some(pack) => builtin::pack(pack).map(str::to_string).ok_or_else(|| {
                    at(format!(
                        "unknown built-in pack `{pack}` (available: {})",
                        builtin::names().join(", ")
                    ))
                })?,
                None => self
                    .files
                    .read(&name)
                    .map_err(|e| at(format!("cannot read `{name}`: {e}")))?
                    .ok_or_else(|| at(format!("`{name}` does not exist")))?,
            };
            let parent_layer = decode_layer(&name, &text)?;
            self.visit(parent_layer)?;
        }
        self.stack.pop();
        self.layers.push(layer);
        Ok(())
    }
}

/// The name of `parent` as seen from `file`: built-ins as they are, files relative to `file`.
fn join(file: &str, parent: &str) -> Result<String, String> {
    if parent.starts_with("builtin:") {
        return Ok(parent.to_string());
    }
    if file.starts_with("builtin:") {
        return Err(format!("a built-in pack cannot extend a file (`{parent}`)"));
    }
    let mut parts: Vec<&str> = if parent.starts_with('/') {
        Vec::new()
    } else {
        file.split('/').collect()
    };
    parts.pop(); // the file name
    for part in parent.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("`{parent}` points outside the repository"));
                }
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

fn merge(layers: Vec<Layer>) -> Result<Policy, PolicyErrors> {
    let mut policy = Policy {
        version: 1,
        mode: Mode::Enforce,
        approvers: BTreeMap::new(),
        rules: Vec::new(),
        exceptions: Vec::new(),
        break_glass: BreakGlass::default(),
        strict_approvers: Vec::new(),
        layers: layers.iter().map(|l| l.file.clone()).collect(),
    };
    let mut errors = Vec::new();
    let err = |file: &str, pos: Pos, message: String| PolicyError {
        file: file.to_string(),
        pos,
        message,
    };
    // Where each surviving rule's approver names stand, for the group check below.
    let mut approver_pos: BTreeMap<String, (String, Vec<Pos>)> = BTreeMap::new();
    let mut strict_pos = Vec::new();
    let mut exception_pos = Vec::new();
    for layer in layers {
        if let Some(mode) = layer.mode {
            policy.mode = mode;
        }
        // A group a later layer names again keeps its members, except for the forges that
        // layer lists: packs declare the groups they use without wiping the members.
        for (name, group) in layer.approvers {
            let merged = policy.approvers.entry(name).or_default();
            merged.members.extend(group.members);
        }
        if let Some(bg) = layer.break_glass {
            policy.break_glass = bg;
        }
        if let Some(strict) = layer.strict_approvers {
            policy.strict_approvers = strict.iter().map(|(s, _)| s.clone()).collect();
            strict_pos = strict
                .into_iter()
                .map(|(s, p)| (layer.file.clone(), s, p))
                .collect();
        }
        for lr in layer.rules {
            let existing = policy.rules.iter().position(|r: &Rule| r.id == lr.rule.id);
            match (existing, lr.disabled) {
                (Some(i), true) => {
                    policy.rules.remove(i);
                    approver_pos.remove(&lr.rule.id);
                }
                (None, true) => errors.push(err(
                    &layer.file,
                    lr.pos,
                    format!(
                        "`disabled` names rule `{}`, which no earlier layer defines",
                        lr.rule.id
                    ),
                )),
                (Some(i), false) => {
                    approver_pos.insert(lr.rule.id.clone(), (layer.file.clone(), lr.approver_pos));
                    policy.rules[i] = lr.rule;
                }
                (None, false) => {
                    approver_pos.insert(lr.rule.id.clone(), (layer.file.clone(), lr.approver_pos));
                    policy.rules.push(lr.rule);
                }
            }
        }
        for (e, pos) in layer.exceptions {
            exception_pos.push((layer.file.clone(), pos));
            policy.exceptions.push(e);
        }
    }
    for rule in &policy.rules {
        let (file, positions) = &approver_pos[&rule.id];
        for (group, pos) in rule.approvers.iter().zip(positions) {
            if !policy.approvers.contains_key(group) {
                errors.push(err(file, *pos, unknown_group(group, &policy)));
            }
        }
    }
    for (file, group, pos) in &strict_pos {
        if !policy.approvers.contains_key(group) {
            errors.push(err(file, *pos, unknown_group(group, &policy)));
        }
    }
    for (e, (file, pos)) in policy.exceptions.iter().zip(&exception_pos) {
        if !policy.rules.iter().any(|r| r.id == e.rule) {
            errors.push(err(
                file,
                *pos,
                format!(
                    "exception names rule `{}`, which the policy does not have",
                    e.rule
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(policy)
    } else {
        Err(PolicyErrors(errors))
    }
}

fn unknown_group(group: &str, policy: &Policy) -> String {
    let known: Vec<&str> = policy.approvers.keys().map(String::as_str).collect();
    format!(
        "approver group `{group}` is not defined under `approvers` (defined: {})",
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Files(HashMap<&'static str, &'static str>);
    impl FileSource for Files {
        fn read(&self, path: &str) -> Result<Option<String>, String> {
            Ok(self.0.get(path).map(|s| s.to_string()))
        }
    }

    #[test]
    fn later_layers_override_by_id_and_disable() {
        let files = Files(HashMap::from([(
            ".cavra/org.yaml",
            "version: 1\nmode: strict\nrules:\n  - { id: a, match: { paths: ['a/**'] }, decision: deny }\n  - { id: b, match: { paths: ['b/**'] }, decision: deny }\n",
        )]));
        let p = resolve_policy(
            ".cavra/policy.yaml",
            "version: 1\nextends: [org.yaml]\nrules:\n  - { id: a, match: { paths: ['a/**'] }, decision: audit }\n  - { id: b, disabled: true }\n",
            &files,
        )
        .unwrap();
        assert_eq!(p.mode, Mode::Strict);
        assert_eq!(p.rules.len(), 1);
        assert_eq!(p.rules[0].decision.as_str(), "audit");
        assert_eq!(p.layers, vec![".cavra/org.yaml", ".cavra/policy.yaml"]);
    }

    #[test]
    fn declaring_a_group_again_keeps_its_members() {
        let files = Files(HashMap::from([(
            "pack.yaml",
            "version: 1\napprovers: { security: {} }\n",
        )]));
        let p = resolve_policy(
            "p.yaml",
            "version: 1\nextends: [org.yaml, pack.yaml]\n",
            &Files(HashMap::from([
                (
                    "org.yaml",
                    "version: 1\napprovers: { security: { github: ['@acme/sec'] } }\n",
                ),
                ("pack.yaml", files.0["pack.yaml"]),
            ])),
        )
        .unwrap();
        assert_eq!(p.approvers["security"].members["github"], vec!["@acme/sec"]);
    }

    #[test]
    fn cycles_missing_files_and_unknown_names_are_positioned() {
        let files = Files(HashMap::from([
            ("a.yaml", "version: 1\nextends: [b.yaml]\n"),
            ("b.yaml", "version: 1\nextends:\n  - a.yaml\n"),
        ]));
        let e = resolve_policy("a.yaml", "version: 1\nextends: [b.yaml]\n", &files).unwrap_err();
        assert_eq!(e.0[0].file, "b.yaml");
        assert_eq!(e.0[0].pos, Pos { line: 3, col: 5 });
        assert!(e.0[0].message.contains("cycle"), "{e}");

        let e =
            resolve_policy("p.yaml", "version: 1\nextends: [nope.yaml]\n", &NoFiles).unwrap_err();
        assert_eq!(e.to_string(), "p.yaml:2:11: `nope.yaml` does not exist");
        let e = resolve_policy("p.yaml", "version: 1\nextends: [builtin:nope]\n", &NoFiles)
            .unwrap_err();
        assert!(e.to_string().contains("unknown built-in pack `nope`"));
        let e = resolve_policy(
            "p.yaml",
            "version: 1\nextends: ['../../x.yaml']\n",
            &NoFiles,
        )
        .unwrap_err();
        assert!(e.to_string().contains("outside the repository"));
    }

    #[test]
    fn unknown_groups_and_exception_rules() {
        let e = resolve_policy(
            "p.yaml",
            "version: 1\nrules:\n  - id: a\n    match: { paths: ['x'] }\n    decision: require_approval\n    approvers: [ghost]\nexceptions:\n  - { rule: zzz, reason: r }\n",
            &NoFiles,
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("p.yaml:6:17: approver group `ghost` is not defined"),
            "{text}"
        );
        assert!(
            text.contains("p.yaml:8:5: exception names rule `zzz`"),
            "{text}"
        );
    }
}
