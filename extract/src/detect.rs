//! Which extractor a file needs, from its path and, for YAML, its content.
//!
//! The path decides first (`.github/workflows/*.yml`, `action.yml`, `.gitlab-ci.yml`,
//! `azure-pipelines*.yml`, `Dockerfile`, `package.json`, `Makefile`, `*.sh`...). Other `.yml`
//! and `.yaml` files are guessed from their top-level keys as the reference counter
//! `tests/fixtures/extract_run_commands.py` does, and other files with a shell shebang are shell
//! scripts.

use cavra_yaml::Node;

use crate::yaml_util;

/// The kinds of file that run commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// `.github/workflows/*.yml`.
    GithubWorkflow,
    /// A composite action: `action.yml`/`action.yaml`.
    GithubAction,
    /// `.gitlab-ci.yml` and the files it includes.
    GitlabCi,
    /// `azure-pipelines*.yml` and pipeline templates.
    AzurePipelines,
    /// `Dockerfile`, `*.Dockerfile`, `Dockerfile.*`, `Containerfile*`.
    Dockerfile,
    /// `package.json`.
    PackageJson,
    /// `Makefile`, `makefile`, `GNUmakefile`, `*.mk`.
    Makefile,
    /// `*.sh`, `*.bash`, or a file starting with a shell shebang.
    ShellScript,
}

/// A file's kind and how sure we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    /// The kind.
    pub kind: FileKind,
    /// True when the path alone says so; false when guessed from content (then a file that
    /// fails to parse is skipped quietly rather than reported, since it may not be CI at all).
    pub by_path: bool,
}

/// The kind of the file at `path` with content `text`, or `None` if it runs no commands.
pub fn detect(path: &str, text: &[u8]) -> Option<Detected> {
    if let Some(kind) = by_path(path) {
        return Some(Detected {
            kind,
            by_path: true,
        });
    }
    if is_yaml(path) {
        return guess_yaml(text).map(|kind| Detected {
            kind,
            by_path: false,
        });
    }
    has_shell_shebang(text).then_some(Detected {
        kind: FileKind::ShellScript,
        by_path: true,
    })
}

/// The kind the path alone gives.
fn by_path(path: &str) -> Option<FileKind> {
    let path = path.trim_start_matches("./").trim_start_matches('/');
    let mut parts = path.split('/');
    let name = parts.next_back().unwrap_or("");
    let dirs: Vec<&str> = parts.collect();
    let yaml = is_yaml(name);
    if yaml && dirs.len() >= 2 && dirs[0] == ".github" && dirs[1] == "workflows" {
        return Some(FileKind::GithubWorkflow);
    }
    if name == "action.yml" || name == "action.yaml" {
        return Some(FileKind::GithubAction);
    }
    if name.ends_with(".gitlab-ci.yml") || name.ends_with(".gitlab-ci.yaml") {
        return Some(FileKind::GitlabCi);
    }
    let azure_dir = dirs
        .iter()
        .any(|d| *d == ".azure-pipelines" || *d == ".pipelines");
    if yaml && (name.starts_with("azure-pipelines") || azure_dir) {
        return Some(FileKind::AzurePipelines);
    }
    if is_dockerfile(name) {
        return Some(FileKind::Dockerfile);
    }
    if name == "package.json" && !dirs.contains(&"node_modules") {
        return Some(FileKind::PackageJson);
    }
    if matches!(name, "Makefile" | "makefile" | "GNUmakefile") || name.ends_with(".mk") {
        return Some(FileKind::Makefile);
    }
    let shell_ext = [".sh", ".bash", ".zsh", ".ksh"];
    if shell_ext
        .iter()
        .any(|e| name.len() > e.len() && name.ends_with(e))
    {
        return Some(FileKind::ShellScript);
    }
    None
}

fn is_yaml(path: &str) -> bool {
    path.ends_with(".yml") || path.ends_with(".yaml")
}

/// `Dockerfile`, `Dockerfile.*`, `*.Dockerfile`, `*.dockerfile`, `Containerfile*`.
fn is_dockerfile(name: &str) -> bool {
    if name.ends_with(".dockerignore") || name.ends_with(".md") {
        return false;
    }
    name == "Dockerfile"
        || name.starts_with("Dockerfile.")
        || name.ends_with(".Dockerfile")
        || name.ends_with(".dockerfile")
        || name.starts_with("Containerfile")
}

/// A first line `#!/bin/sh`, `#!/usr/bin/env bash`, `#!/bin/bash -e`, zsh, dash, ksh or ash.
fn has_shell_shebang(text: &[u8]) -> bool {
    let Some(rest) = text.strip_prefix(b"#!") else {
        return false;
    };
    let line = rest.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let Ok(line) = std::str::from_utf8(&line[..line.len().min(256)]) else {
        return false;
    };
    let mut words = line.split_whitespace();
    let mut program = base_name(words.next().unwrap_or(""));
    if program == "env" {
        program = words
            .find(|w| !w.starts_with('-') && !w.contains('='))
            .map(base_name)
            .unwrap_or("");
    }
    matches!(
        program,
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "ash" | "mksh"
    )
}

fn base_name(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// Keys one of which a CI file must contain somewhere, checked before parsing.
const HINTS: [&str; 9] = [
    "jobs", "runs", "script", "extends", "steps", "stages", "trigger", "pool", "include",
];

/// The kind of a YAML file guessed from its content: the first document that looks like CI.
fn guess_yaml(text: &[u8]) -> Option<FileKind> {
    if text.len() > crate::MAX_FILE_BYTES || text.contains(&0) {
        return None;
    }
    let cheap = HINTS
        .iter()
        .any(|h| text.windows(h.len()).any(|w| w == h.as_bytes()));
    if !cheap {
        return None;
    }
    let docs = yaml_util::parse_docs("", text).ok()?;
    docs.iter().find_map(guess_doc)
}

/// The reference script's guess, in its order: GitHub workflow, composite action, GitLab, Azure.
pub(crate) fn guess_doc(doc: &Node) -> Option<FileKind> {
    doc.as_map()?;
    let has = |k: &str| yaml_util::get(doc, k).is_some();
    if has("jobs") && has("on") {
        return Some(FileKind::GithubWorkflow);
    }
    if yaml_util::get(doc, "runs").is_some_and(|r| yaml_util::get(r, "steps").is_some()) {
        return Some(FileKind::GithubAction);
    }
    if looks_like_gitlab(doc) {
        return Some(FileKind::GitlabCi);
    }
    let azure = ["steps", "stages", "jobs", "trigger", "pool", "extends"];
    azure
        .iter()
        .any(|k| has(k))
        .then_some(FileKind::AzurePipelines)
}

/// A top-level job with `script`/`before_script`/`after_script`/`extends`, or an `include` or a
/// list of stage names beside at least one job-like mapping.
fn looks_like_gitlab(doc: &Node) -> bool {
    let entries = yaml_util::entries(doc);
    let job_keys = ["script", "before_script", "after_script", "extends"];
    let is_job =
        |v: &Node| v.as_map().is_some() && job_keys.iter().any(|k| yaml_util::get(v, k).is_some());
    if entries.iter().any(|(_, v)| is_job(v)) {
        return true;
    }
    let stage_names = yaml_util::get(doc, "stages")
        .and_then(Node::as_seq)
        .is_some_and(|s| s.iter().all(|n| n.as_scalar().is_some()));
    let other_map = entries.iter().any(|(k, v)| {
        v.as_map().is_some()
            && k.as_scalar()
                .is_some_and(|k| !crate::gitlab::RESERVED.contains(&k))
    });
    (yaml_util::get(doc, "include").is_some() || stage_names) && other_map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(path: &str, text: &str) -> Option<(FileKind, bool)> {
        detect(path, text.as_bytes()).map(|d| (d.kind, d.by_path))
    }

    #[test]
    fn by_path_kinds() {
        use FileKind::*;
        let cases = [
            (".github/workflows/ci.yml", GithubWorkflow),
            (".github/workflows/ci.yaml", GithubWorkflow),
            ("action.yml", GithubAction),
            ("tools/setup/action.yaml", GithubAction),
            (".gitlab-ci.yml", GitlabCi),
            ("ci/deploy.gitlab-ci.yml", GitlabCi),
            ("azure-pipelines.yml", AzurePipelines),
            ("azure-pipelines-release.yaml", AzurePipelines),
            (".azure-pipelines/build/steps.yml", AzurePipelines),
            ("x/.pipelines/a.yml", AzurePipelines),
            ("Dockerfile", Dockerfile),
            ("build/app.Dockerfile", Dockerfile),
            ("Dockerfile.dev", Dockerfile),
            ("x.dockerfile", Dockerfile),
            ("Containerfile", Dockerfile),
            ("Containerfile.alpine", Dockerfile),
            ("package.json", PackageJson),
            ("web/package.json", PackageJson),
            ("Makefile", Makefile),
            ("makefile", Makefile),
            ("GNUmakefile", Makefile),
            ("rules.mk", Makefile),
            ("scripts/a.sh", ShellScript),
            ("a.bash", ShellScript),
            ("a.zsh", ShellScript),
            ("a.ksh", ShellScript),
        ];
        for (path, want) in cases {
            assert_eq!(kind(path, ""), Some((want, true)), "{path}");
        }
        for path in [
            "node_modules/x/package.json",
            "README.md",
            "Dockerfile.dockerignore",
            ".github/ci.yml",
            "src/main.rs",
            ".sh",
        ] {
            assert_eq!(kind(path, "a: 1\n"), None, "{path}");
        }
    }

    #[test]
    fn shebangs() {
        for text in [
            "#!/bin/sh\necho",
            "#!/usr/bin/env bash\n",
            "#!/bin/bash -e\n",
            "#! /bin/zsh\n",
            "#!/usr/bin/env -S dash -x\n",
            "#!/bin/ksh",
            "#!/sbin/ash\n",
        ] {
            assert_eq!(
                kind("bin/run", text),
                Some((FileKind::ShellScript, true)),
                "{text}"
            );
        }
        for text in [
            "#!/usr/bin/env python3\n",
            "#!/usr/bin/perl\n",
            "echo\n",
            "#!\n",
        ] {
            assert_eq!(kind("bin/run", text), None, "{text}");
        }
    }

    #[test]
    fn yaml_content_guesses() {
        use FileKind::*;
        let cases = [
            ("on: push\njobs:\n  a:\n    steps: []\n", GithubWorkflow),
            ("runs:\n  using: composite\n  steps: []\n", GithubAction),
            ("build:\n  script: make\n", GitlabCi),
            ("job:\n  extends: .base\n", GitlabCi),
            (
                "include: ci/a.yml\nstages: [a]\njob:\n  stage: a\n",
                GitlabCi,
            ),
            ("stages: [build]\njob:\n  stage: build\n", GitlabCi),
            ("steps:\n- script: echo\n", AzurePipelines),
            ("stages:\n- stage: A\n", AzurePipelines),
            ("trigger: [main]\n", AzurePipelines),
            ("extends:\n  template: x.yml\n", AzurePipelines),
            (
                "spec:\n  inputs: {}\n---\nbuild:\n  script: make\n",
                GitlabCi,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(kind("ci/x.yml", text), Some((want, false)), "{text}");
        }
        for text in [
            "a: 1\n",
            "runs:\n  using: node20\n",
            "- jobs\n",
            "jobs: [\n",
            "\0jobs",
            "",
            "name: x\non: push\n",
        ] {
            assert_eq!(kind("ci/x.yaml", text), None, "{text:?}");
        }
    }
}
