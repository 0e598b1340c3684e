//! Azure Pipelines: `script`/`bash`/`pwsh`/`powershell` steps at any depth, script task inputs,
//! and templates in the repository.
//!
//! The document is walked whole, like the reference counter does: a list item with a step key is
//! a step wherever it is (root `steps:`, `jobs[*]`, `stages[*].jobs[*]`, deployment strategies
//! `runOnce`/`rolling`/`canary` and their hooks, `${{ if }}`/`${{ each }}` insertions, `stepList`
//! parameter defaults and values passed to templates). `- template: path` items and
//! `extends: template:` are read through [`Files`], relative to the including file (a leading
//! `/` is the repository root; `@other-repo` is not followed, `@self` is), bounded by
//! [`MAX_LINKED_FILES`] and cycle-safe. Template expressions (`${{ parameters.x }}`) stay as text.

use std::collections::HashMap;
use std::rc::Rc;

use cavra_shell::Context;
use cavra_yaml::Node;

use crate::yaml_util::{self, describe, error_at, get};
use crate::{Extraction, Files, MAX_LINKED_FILES, Step, Via};

/// Step keys and the shell each one declares (`script` runs cmd on Windows, bash elsewhere).
const STEP_KEYS: [(&str, Option<&str>); 4] = [
    ("script", None),
    ("bash", Some("bash")),
    ("pwsh", Some("pwsh")),
    ("powershell", Some("powershell")),
];

/// Most template expansions in one extraction (a template used twice counts twice).
const MAX_EXPANSIONS: usize = 4 * MAX_LINKED_FILES;

/// Steps of an Azure Pipelines file.
pub(crate) fn extract(path: &str, text: &[u8], files: &dyn Files) -> Extraction {
    yaml_util::extract_docs(path, text, |docs, out| {
        let mut walker = Walker {
            files,
            cache: HashMap::new(),
            stack: vec![normalize(path.trim_start_matches('/'))],
            expansions: 0,
            limit_reported: false,
            out,
        };
        let here = Here { file: path };
        for doc in &docs {
            walker.node(doc, here, &mut String::new());
        }
    })
}

/// The file being walked.
#[derive(Clone, Copy)]
struct Here<'p> {
    file: &'p str,
}

struct Walker<'a> {
    files: &'a dyn Files,
    /// Template path -> its documents, `None` when missing or malformed.
    cache: HashMap<String, Option<Rc<Vec<Node>>>>,
    /// Templates being expanded, outermost first, to stop cycles.
    stack: Vec<String>,
    expansions: usize,
    limit_reported: bool,
    out: &'a mut Extraction,
}

/// Appends `.key` (or `key` at the start of a location) to `loc`, returning the old length.
fn push_key(loc: &mut String, key: &str) -> usize {
    let len = loc.len();
    if !(loc.is_empty() || loc.ends_with(": ")) {
        loc.push('.');
    }
    loc.push_str(key);
    len
}

impl Walker<'_> {
    /// Walks any node, finding step lists, steps and templates.
    fn node(&mut self, node: &Node, here: Here, loc: &mut String) {
        if let Some(items) = node.as_seq() {
            for (i, item) in items.iter().enumerate() {
                let len = loc.len();
                loc.push_str(&format!("[{i}]"));
                self.item(item, here, loc);
                loc.truncate(len);
            }
        } else if node.as_map().is_some() {
            for (key, value) in yaml_util::entries(node) {
                let Some(key) = key.as_scalar() else { continue };
                let len = push_key(loc, key);
                if key == "steps" && value.as_seq().is_none() && !value.is_null() {
                    let message = format!("`steps` is {}, expected a list", describe(value));
                    self.error(here, value, message);
                }
                if key == "extends" {
                    self.template(value, here, loc);
                }
                self.node(value, here, loc);
                loc.truncate(len);
            }
        }
    }

    /// A list item: a template, a step, a task, or anything else to walk.
    fn item(&mut self, item: &Node, here: Here, loc: &mut String) {
        if item.as_map().is_none() {
            return self.node(item, here, loc);
        }
        if get(item, "template").is_some() {
            self.template(item, here, loc);
            return self.node(item, here, loc);
        }
        let label = get(item, "displayName").and_then(yaml_util::text);
        let is_step = STEP_KEYS.iter().any(|(k, _)| get(item, k).is_some());
        if is_step {
            for (key, shell) in STEP_KEYS {
                if let Some(value) = get(item, key) {
                    self.step(value, here, loc, label, shell, Via::Direct);
                }
            }
        } else if let Some(task) = get(item, "task").and_then(yaml_util::text) {
            self.task(item, task, here, loc, label);
        } else {
            self.node(item, here, loc);
        }
    }

    /// A script task's inline script (`Bash@3`, `CmdLine@2`, `PowerShell@2`, `AzureCLI@2`,
    /// `AzurePowerShell@5`). A script is read unless the task is set to run a file instead.
    fn task(&mut self, item: &Node, task: &str, here: Here, loc: &str, label: Option<&str>) {
        let Some(inputs) = get(item, "inputs") else {
            return;
        };
        let name = task.split('@').next().unwrap_or(task).to_ascii_lowercase();
        // Read unless set to another mode; a computed mode (`${{ }}`, `$( )`) may be inline.
        let mode = |key: &str, inline: &str| {
            input(inputs, key)
                .and_then(yaml_util::text)
                .is_none_or(|m| m.eq_ignore_ascii_case(inline) || is_expression(m))
        };
        let (script, shell) = match name.as_str() {
            "bash" if mode("targetType", "inline") => ("script", Some("bash")),
            "cmdline" => ("script", Some("cmd")),
            "powershell" if mode("targetType", "inline") => ("script", Some("pwsh")),
            "azurecli" if mode("scriptLocation", "inlineScript") => {
                let kind = input(inputs, "scriptType").and_then(yaml_util::text);
                ("inlineScript", kind.and_then(azure_cli_shell))
            }
            "azurepowershell" if mode("ScriptType", "InlineScript") => ("Inline", Some("pwsh")),
            _ => return,
        };
        if let Some(value) = input(inputs, script) {
            self.step(value, here, loc, label, shell, Via::Task);
        }
    }

    fn step(
        &mut self,
        value: &Node,
        here: Here,
        loc: &str,
        label: Option<&str>,
        shell: Option<&str>,
        via: Via,
    ) {
        let Some(script) = yaml_util::text(value) else {
            if !value.is_null() {
                let message = format!("script is {}, expected a string", describe(value));
                self.error(here, value, message);
            }
            return;
        };
        let location = match label {
            Some(label) => format!("{loc} ({label})"),
            None => loc.to_string(),
        };
        self.out.steps.push(Step {
            context: Context::AzurePipelines,
            file: here.file.to_string(),
            line: yaml_util::script_line(value),
            location,
            shell: shell.map(str::to_string),
            script: script.to_string(),
            lifecycle: false,
            via,
        });
    }

    /// Expands `template: path` of `node` (a list item or an `extends:` value).
    fn template(&mut self, node: &Node, here: Here, loc: &str) {
        let Some(tpl) = get(node, "template") else {
            return;
        };
        let Some(target) = yaml_util::text(tpl).and_then(|t| resolve(here.file, t)) else {
            return;
        };
        if self.stack.contains(&target) {
            return self.error(here, tpl, format!("template cycle through `{target}`"));
        }
        if self.expansions >= MAX_EXPANSIONS || self.cache.len() >= MAX_LINKED_FILES {
            if !self.limit_reported {
                self.limit_reported = true;
                let message =
                    format!("more than {MAX_LINKED_FILES} templates; the rest are not read");
                self.error(here, tpl, message);
            }
            return;
        }
        self.expansions += 1;
        let Some(docs) = self.load(&target, here, tpl) else {
            return;
        };
        let mut inner_loc = format!("{loc} -> {target}: ");
        self.stack.push(target.clone());
        for doc in docs.iter() {
            self.node(doc, Here { file: &target }, &mut inner_loc);
        }
        self.stack.pop();
    }

    /// The documents of the template at `path`, read and parsed once.
    fn load(&mut self, path: &str, here: Here, tpl: &Node) -> Option<Rc<Vec<Node>>> {
        if let Some(cached) = self.cache.get(path) {
            return cached.clone();
        }
        let docs = match self.files.read(path) {
            None => {
                self.error(here, tpl, format!("template `{path}` not found"));
                None
            }
            Some(bytes) => match yaml_util::parse_docs(path, &bytes) {
                Ok(docs) => Some(Rc::new(docs)),
                Err(e) => {
                    self.out.errors.push(e);
                    None
                }
            },
        };
        self.cache.insert(path.to_string(), docs.clone());
        docs
    }

    fn error(&mut self, here: Here, node: &Node, message: String) {
        self.out.errors.push(error_at(here.file, node, message));
    }
}

/// A task input by name, ignoring case as Azure does.
fn input<'n>(inputs: &'n Node, key: &str) -> Option<&'n Node> {
    yaml_util::entries(inputs)
        .into_iter()
        .find(|(k, _)| k.as_scalar().is_some_and(|k| k.eq_ignore_ascii_case(key)))
        .map(|(_, v)| v)
}

/// A value computed when the pipeline runs.
fn is_expression(value: &str) -> bool {
    value.contains("${{") || value.contains("$(") || value.contains("$[")
}

/// The shell of an `AzureCLI@2` `scriptType`.
fn azure_cli_shell(kind: &str) -> Option<&'static str> {
    match kind.to_ascii_lowercase().as_str() {
        "bash" => Some("bash"),
        "pscore" => Some("pwsh"),
        "ps" => Some("powershell"),
        "batch" => Some("cmd"),
        _ => None,
    }
}

/// The repository path of template `target` written in `file`, or `None` when it is in another
/// repository (`@name`) or computed (`${{ }}`, `$( )`).
fn resolve(file: &str, target: &str) -> Option<String> {
    let target = target.trim();
    let target = match target.rsplit_once('@') {
        Some((path, "self")) => path,
        Some(_) => return None,
        None => target,
    };
    if target.is_empty() || is_expression(target) {
        return None;
    }
    let joined = match target.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => match file.trim_start_matches('/').rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{target}"),
            None => target.to_string(),
        },
    };
    Some(normalize(&joined))
}

/// `a/./b/../c` -> `a/c`; a `..` above the root is dropped.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_paths() {
        assert_eq!(resolve("ci/a.yml", "b.yml").as_deref(), Some("ci/b.yml"));
        assert_eq!(
            resolve("ci/a.yml", "../t/b.yml").as_deref(),
            Some("t/b.yml")
        );
        assert_eq!(resolve("ci/a.yml", "/t/b.yml").as_deref(), Some("t/b.yml"));
        assert_eq!(resolve("a.yml", "./b.yml").as_deref(), Some("b.yml"));
        assert_eq!(resolve("a.yml", "b.yml@self").as_deref(), Some("b.yml"));
        assert_eq!(resolve("a.yml", "b.yml@templates"), None);
        assert_eq!(resolve("a.yml", "${{ parameters.t }}"), None);
    }
}
