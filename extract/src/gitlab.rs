//! GitLab CI: `script`, `before_script`, `after_script`, `default:`, hidden jobs, anchors,
//! `!reference` and `include: local`.
//!
//! Every top-level key that is not a global keyword and holds a mapping is a job (hidden `.jobs`
//! and `default:` too); the deprecated global `before_script`/`after_script` lists count as well.
//! Each entry of a script list is one [`Step`]; nested lists are flattened. Aliases come expanded
//! from `cavra-yaml` and merge keys are applied by [`yaml_util`].
//!
//! `!reference [job, key, ...]` is resolved against the merged configuration: the extracted file,
//! `.gitlab-ci.yml` and their `include: local` files (read through [`Files`], cycle-safe and
//! bounded by [`MAX_LINKED_FILES`]). As GitLab merges them, a file overrides the files it
//! includes and a later include overrides an earlier one. References are resolved before
//! `extends:`, as GitLab does, so `extends:` plays no part. Only the jobs written in the extracted
//! file yield steps; a referenced script keeps the file and line where it is written.

use std::collections::{HashMap, HashSet};

use cavra_shell::Context;
use cavra_yaml::Node;

use crate::yaml_util::{self, describe, error_at, get};
use crate::{ExtractError, Extraction, Files, MAX_LINKED_FILES, Step, Via};

/// Top-level keys that are not jobs (the reference script's `GL_RESERVED`).
pub(crate) const RESERVED: [&str; 10] = [
    "stages",
    "variables",
    "include",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
];

/// The keys of a job that hold scripts, in the order they run.
const SCRIPT_KEYS: [&str; 3] = ["before_script", "script", "after_script"];

/// The file GitLab starts from.
const ROOT: &str = ".gitlab-ci.yml";

/// How deep `!reference`s may nest (GitLab allows 10).
const MAX_REFERENCE_DEPTH: usize = 10;

/// Steps of a GitLab CI file.
pub(crate) fn extract(path: &str, text: &[u8], files: &dyn Files) -> Extraction {
    yaml_util::extract_docs(path, text, |docs, out| {
        let mut loader = Loader::new(files, path, docs);
        let order = loader.precedence();
        out.errors.append(&mut loader.errors);
        let config = Config {
            sources: &loader.sources,
            order,
        };
        let mut reader = Reader {
            config: &config,
            out,
        };
        for doc in &loader.sources[0].docs {
            reader.file(doc);
        }
    })
}

/// A repository path as GitLab writes it, without a leading `/` or `./`.
fn normalize(path: &str) -> &str {
    path.trim_start_matches('/').trim_start_matches("./")
}

/// One loaded file.
struct Source {
    path: String,
    docs: Vec<Node>,
}

/// Loads the extracted file's and `.gitlab-ci.yml`'s local includes.
struct Loader<'f> {
    files: &'f dyn Files,
    /// Index 0 is the extracted file.
    sources: Vec<Source>,
    /// Repository path -> index in `sources`, or `None` when missing or unreadable.
    loaded: HashMap<String, Option<usize>>,
    /// Problems in the extracted file's includes.
    errors: Vec<ExtractError>,
    limit_reported: bool,
}

/// One `include:` entry to follow.
struct Include {
    path: String,
    line: u32,
}

impl<'f> Loader<'f> {
    fn new(files: &'f dyn Files, path: &str, docs: Vec<Node>) -> Self {
        let mut loaded = HashMap::new();
        loaded.insert(normalize(path).to_string(), Some(0));
        Loader {
            files,
            sources: vec![Source {
                path: path.to_string(),
                docs,
            }],
            loaded,
            errors: Vec::new(),
            limit_reported: false,
        }
    }

    /// Sources in lookup order, the one that wins first: the merge order of `.gitlab-ci.yml`
    /// when it includes the extracted file, else the extracted file's own includes first.
    fn precedence(&mut self) -> Vec<usize> {
        let mut own = Vec::new();
        self.merge_order(0, &mut Vec::new(), &mut own, true);
        let mut root = Vec::new();
        if normalize(&self.sources[0].path) != ROOT {
            if let Some(idx) = self.load(ROOT) {
                self.merge_order(idx, &mut Vec::new(), &mut root, false);
            }
        }
        let (first, second) = if root.contains(&0) {
            (root, own)
        } else {
            (own, root)
        };
        let mut seen = HashSet::new();
        first
            .into_iter()
            .rev()
            .chain(second.into_iter().rev())
            .filter(|i| seen.insert(*i))
            .collect()
    }

    /// Appends `idx` after the files it includes (GitLab's merge order, last wins).
    fn merge_order(
        &mut self,
        idx: usize,
        stack: &mut Vec<usize>,
        order: &mut Vec<usize>,
        report: bool,
    ) {
        if order.contains(&idx) || stack.contains(&idx) {
            return;
        }
        stack.push(idx);
        let report_here = report && idx == 0;
        for inc in self.includes(idx, report_here) {
            match self.load(&inc.path) {
                Some(child) if stack.contains(&child) && report => {
                    let message = format!("include cycle through `{}`", inc.path);
                    self.errors.push(ExtractError {
                        file: self.sources[idx].path.clone(),
                        line: inc.line,
                        message,
                    });
                }
                Some(child) => self.merge_order(child, stack, order, report),
                None if report_here && !self.limit_reported => {
                    let message = format!("included local file `{}` not found", inc.path);
                    self.error(inc.line, message);
                }
                None => {}
            }
        }
        stack.pop();
        order.push(idx);
    }

    /// The local includes of source `idx`; wildcards are reported when `report`.
    fn includes(&mut self, idx: usize, report: bool) -> Vec<Include> {
        let mut found = Vec::new();
        for doc in &self.sources[idx].docs {
            if let Some(inc) = get(doc, "include") {
                collect_includes(inc, &mut found);
            }
        }
        found.retain(|inc| {
            let wild = inc.path.contains(['*', '?', '[']);
            if wild && report {
                self.errors.push(ExtractError {
                    file: self.sources[0].path.clone(),
                    line: inc.line,
                    message: format!(
                        "wildcard include `{}` is not followed; `!reference`s into those files are not resolved",
                        inc.path
                    ),
                });
            }
            !wild && !inc.path.contains('$')
        });
        found
    }

    /// The index of the parsed file at `path`, loading it once.
    fn load(&mut self, path: &str) -> Option<usize> {
        let path = normalize(path);
        if let Some(idx) = self.loaded.get(path) {
            return *idx;
        }
        if self.sources.len() > MAX_LINKED_FILES {
            if !self.limit_reported {
                self.limit_reported = true;
                let message =
                    format!("more than {MAX_LINKED_FILES} included files; the rest are not read");
                self.error(0, message);
            }
            return None;
        }
        let docs = self
            .files
            .read(path)
            .and_then(|bytes| yaml_util::parse_docs(path, &bytes).ok());
        let idx = docs.map(|docs| {
            self.sources.push(Source {
                path: path.to_string(),
                docs,
            });
            self.sources.len() - 1
        });
        self.loaded.insert(path.to_string(), idx);
        idx
    }

    fn error(&mut self, line: u32, message: String) {
        self.errors.push(ExtractError {
            file: self.sources[0].path.clone(),
            line,
            message,
        });
    }
}

/// The `local` paths of an `include:` value: a string, a list, or a mapping.
fn collect_includes(inc: &Node, found: &mut Vec<Include>) {
    if let Some(items) = inc.as_seq() {
        for item in items {
            collect_includes(item, found);
        }
        return;
    }
    let local = match yaml_util::text(inc) {
        Some(s) if !s.contains("://") => Some(s),
        Some(_) => None,
        None => get(inc, "local").and_then(yaml_util::text),
    };
    if let Some(path) = local {
        found.push(Include {
            path: normalize(path).to_string(),
            line: inc.pos.line,
        });
    }
}

/// The loaded files and their lookup order.
struct Config<'s> {
    sources: &'s [Source],
    /// Indexes into `sources`, the first wins.
    order: Vec<usize>,
}

impl Config<'_> {
    /// The value at `job` then `keys`, from the first file that has it, with that file's index.
    fn lookup(&self, job: &str, keys: &[&str]) -> Option<(&Node, usize)> {
        self.order.iter().find_map(|&idx| {
            self.sources[idx].docs.iter().rev().find_map(|doc| {
                let mut node = get(doc, job)?;
                for key in keys {
                    node = get(node, key)?;
                }
                Some((node, idx))
            })
        })
    }
}

/// Where the entries being read come from.
#[derive(Clone)]
struct Origin {
    /// The source the text is written in.
    src: usize,
    /// `Via::Reference` once a reference was followed.
    via: Via,
    /// The location in the extracted file, plus ` -> target` for each reference followed.
    location: String,
    /// The references being followed, to stop cycles.
    stack: Vec<String>,
}

/// Turns the jobs of the extracted file into steps.
struct Reader<'c, 'o> {
    config: &'c Config<'c>,
    out: &'o mut Extraction,
}

impl Reader<'_, '_> {
    /// The steps of every job of one document of the extracted file.
    fn file(&mut self, doc: &Node) {
        for (key, value) in yaml_util::entries(doc) {
            let Some(name) = key.as_scalar() else {
                continue;
            };
            if matches!(name, "before_script" | "after_script") {
                self.script(value, Origin::direct(name.to_string()));
            } else if value.as_map().is_some() && !RESERVED.contains(&name) {
                for script_key in SCRIPT_KEYS {
                    if let Some(script) = get(value, script_key) {
                        self.script(script, Origin::direct(format!("{name}.{script_key}")));
                    }
                }
            }
        }
    }

    /// A script value: a string, a list of entries, or a `!reference`.
    fn script(&mut self, value: &Node, origin: Origin) {
        if is_reference(value) {
            self.reference(value, origin);
        } else if let Some(items) = value.as_seq() {
            for (i, item) in items.iter().enumerate() {
                let mut at = origin.clone();
                at.location.push_str(&format!("[{i}]"));
                self.entry(item, &at);
            }
        } else {
            self.entry(value, &origin);
        }
    }

    /// One entry: a string, a nested list (flattened) or a `!reference`.
    fn entry(&mut self, item: &Node, origin: &Origin) {
        if is_reference(item) {
            self.reference(item, origin.clone());
        } else if let Some(items) = item.as_seq() {
            for nested in items {
                self.entry(nested, origin);
            }
        } else if let Some(script) = yaml_util::text(item) {
            self.step(item, script, origin);
        } else if item.as_map().is_some() {
            let message = format!("script entry is {}, expected a string", describe(item));
            self.error(origin, item, message);
        }
    }

    /// Follows `!reference [job, key, ...]`.
    fn reference(&mut self, tag: &Node, mut origin: Origin) {
        let path: Option<Vec<&str>> = tag
            .as_seq()
            .map(|items| items.iter().map(yaml_util::text).collect())
            .unwrap_or(None);
        let path = match path {
            Some(p) if p.len() >= 2 => p,
            _ => {
                return self.error(
                    &origin,
                    tag,
                    "`!reference` needs a list of at least a job and a key".into(),
                );
            }
        };
        let target = path.join(".");
        if origin.stack.contains(&target) {
            return self.error(
                &origin,
                tag,
                format!("`!reference` cycle through `{target}`"),
            );
        }
        if origin.stack.len() >= MAX_REFERENCE_DEPTH {
            let message = format!("`!reference`s nested deeper than {MAX_REFERENCE_DEPTH}");
            return self.error(&origin, tag, message);
        }
        let Some((node, src)) = self.config.lookup(path[0], &path[1..]) else {
            let message = format!(
                "`!reference [{}]` not resolved: not in this file, `.gitlab-ci.yml` or their local includes",
                path.join(", ")
            );
            return self.error(&origin, tag, message);
        };
        if origin.via == Via::Direct {
            origin.via = Via::Reference { line: tag.pos.line };
        }
        origin.src = src;
        origin.location.push_str(&format!(" -> {target}"));
        origin.stack.push(target);
        self.script(node, origin);
    }

    fn step(&mut self, node: &Node, script: &str, origin: &Origin) {
        self.out.steps.push(Step {
            context: Context::GitlabCi,
            file: self.config.sources[origin.src].path.clone(),
            line: yaml_util::script_line(node),
            location: origin.location.clone(),
            shell: None,
            script: script.to_string(),
            lifecycle: false,
            via: origin.via.clone(),
        });
    }

    fn error(&mut self, origin: &Origin, node: &Node, message: String) {
        let path = &self.config.sources[origin.src].path;
        self.out.errors.push(error_at(path, node, message));
    }
}

impl Origin {
    fn direct(location: String) -> Self {
        Origin {
            src: 0,
            via: Via::Direct,
            location,
            stack: Vec::new(),
        }
    }
}

fn is_reference(node: &Node) -> bool {
    node.tag.as_deref() == Some("!reference")
}
