//! The YAML CI extractors (GitHub Actions, GitLab CI, Azure Pipelines) and file detection: small
//! real-looking files with known steps, and the CI corpora in `tests/fixtures/ci-corpora`
//! checked against the reference counter `tests/fixtures/extract_run_commands.py`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use cavra_extract::{Extraction, FileKind, Files, NoFiles, Step, Via, detect, extract};
use cavra_shell::Context;

mod common;
use common::{no_errors, run};

/// Other files of a revision, in memory.
#[derive(Default)]
struct MapFiles(HashMap<String, Vec<u8>>);

impl MapFiles {
    fn with(mut self, path: &str, text: &str) -> Self {
        self.0.insert(path.to_string(), text.as_bytes().to_vec());
        self
    }

    /// Extracts `text` as a file of kind `kind` at `path`, reading other files from `self`.
    fn extract(&self, kind: FileKind, path: &str, text: &str) -> Extraction {
        extract(kind, path, text.as_bytes(), self)
    }
}

impl Files for MapFiles {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.0.get(path).cloned()
    }
}

/// A step as (file, line, location, shell, script, via), for compact assertions.
type Row<'a> = (&'a str, u32, &'a str, Option<&'a str>, &'a str, Via);

fn rows(ex: &Extraction) -> Vec<Row<'_>> {
    ex.steps
        .iter()
        .map(|s: &Step| {
            (
                s.file.as_str(),
                s.line,
                s.location.as_str(),
                s.shell.as_deref(),
                s.script.as_str(),
                s.via.clone(),
            )
        })
        .collect()
}

/// Asserts that every step was found in a file of kind `context`.
fn assert_context(ex: &Extraction, context: Context) {
    assert!(
        ex.steps.iter().all(|s| s.context == context),
        "{:?}",
        ex.steps
    );
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

const WORKFLOW: &str = r#"name: CI
on:
  push:
    branches: [main]
defaults:
  run:
    shell: bash
jobs:
  build:
    runs-on: ${{ matrix.os }}
    defaults:
      run:
        shell: pwsh
    steps:
      - uses: actions/checkout@v4
      - name: Install
        run: npm ci
      - id: test
        run: |
          npm test -- --os=${{ matrix.os }}
          npm run lint
        shell: python {0}
      - "not a step"
      - run: 'echo "quoted"'
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: >-
          make lint
  call:
    uses: ./.github/workflows/reusable.yml
"#;

#[test]
fn github_workflow_steps() {
    let ex = run(
        FileKind::GithubWorkflow,
        ".github/workflows/ci.yml",
        WORKFLOW,
    );
    no_errors(&ex);
    let f = ".github/workflows/ci.yml";
    assert_eq!(
        rows(&ex),
        vec![
            (
                f,
                17,
                "jobs.build.steps[1] (Install)",
                Some("pwsh"),
                "npm ci",
                Via::Direct
            ),
            (
                f,
                20,
                "jobs.build.steps[2] (test)",
                Some("python {0}"),
                "npm test -- --os=${{ matrix.os }}\nnpm run lint\n",
                Via::Direct
            ),
            (
                f,
                24,
                "jobs.build.steps[4]",
                Some("pwsh"),
                "echo \"quoted\"",
                Via::Direct
            ),
            (
                f,
                29,
                "jobs.lint.steps[0]",
                Some("bash"),
                "make lint",
                Via::Direct
            ),
        ]
    );
    assert_context(&ex, Context::GithubActions);
}

#[test]
fn github_parallel_steps_and_merge_keys() {
    let text = "on: push\njobs:\n  a:\n    steps:\n      - parallel:\n          - run: one\n          - run: two\n      - &s\n        run: three\n        shell: sh\n  b:\n    steps:\n      - <<: *s\n        name: again\n";
    let ex = run(FileKind::GithubWorkflow, "w.yml", text);
    no_errors(&ex);
    assert_eq!(
        rows(&ex),
        vec![
            (
                "w.yml",
                6,
                "jobs.a.steps[0].parallel[0]",
                None,
                "one",
                Via::Direct
            ),
            (
                "w.yml",
                7,
                "jobs.a.steps[0].parallel[1]",
                None,
                "two",
                Via::Direct
            ),
            (
                "w.yml",
                9,
                "jobs.a.steps[1]",
                Some("sh"),
                "three",
                Via::Direct
            ),
            (
                "w.yml",
                9,
                "jobs.b.steps[0] (again)",
                Some("sh"),
                "three",
                Via::Direct
            ),
        ]
    );
}

#[test]
fn github_composite_action() {
    let text = "name: setup\nruns:\n  using: composite\n  steps:\n    - uses: actions/cache@v4\n    - name: Setup\n      shell: bash\n      run: |\n        ./install.sh\n";
    let ex = run(FileKind::GithubAction, "tools/action.yml", text);
    no_errors(&ex);
    assert_eq!(
        rows(&ex),
        vec![(
            "tools/action.yml",
            9,
            "runs.steps[1] (Setup)",
            Some("bash"),
            "./install.sh\n",
            Via::Direct
        )]
    );
    let node = b"runs:\n  using: node20\n  main: index.js\n";
    assert!(
        extract(FileKind::GithubAction, "action.yml", node, &NoFiles)
            .steps
            .is_empty()
    );
}

#[test]
fn malformed_yaml_gives_one_error_with_its_line() {
    for kind in [
        FileKind::GithubWorkflow,
        FileKind::GitlabCi,
        FileKind::AzurePipelines,
    ] {
        let ex = extract(kind, "bad.yml", b"a: 1\nb:\n  - c\n d: [\n", &NoFiles);
        assert!(ex.steps.is_empty());
        assert_eq!(ex.errors.len(), 1, "{kind:?}: {:?}", ex.errors);
        assert_eq!(ex.errors[0].file, "bad.yml");
        assert!(ex.errors[0].line >= 3, "{:?}", ex.errors);
    }
}

#[test]
fn odd_shapes_never_panic() {
    let texts = [
        "",
        "~",
        "- 1\n- 2\n",
        "jobs: 3\non: push\n",
        "jobs:\n  a: [1]\n  b:\n    steps: {run: x}\non: push\n",
        "x:\n  script: 42\ny:\n  script: {a: 1}\nz:\n  script: [[a, [b]], ~, {c: d}]\n",
        "steps: foo\n",
        "steps:\n- script: [a]\n- task: Bash@3\n  inputs: 7\n- template: ~\n- bash: ~\n",
        "runs: {steps: 3}\n",
        "a: !reference 3\nb:\n  script: !reference [x]\nc:\n  script: !reference [[a], b]\n",
        "<<: 5\nj:\n  <<: [1, *unknown]\n",
        "<<: {j: {script: x}}\n",
    ];
    let kinds = [
        FileKind::GithubWorkflow,
        FileKind::GithubAction,
        FileKind::GitlabCi,
        FileKind::AzurePipelines,
    ];
    for text in texts {
        for kind in kinds {
            let _ = extract(kind, "x.yml", text.as_bytes(), &NoFiles);
        }
        let _ = detect("x.yml", text.as_bytes());
    }
    let ex = run(FileKind::GitlabCi, "x.yml", texts[5]);
    let scripts: Vec<&str> = ex.steps.iter().map(|s| s.script.as_str()).collect();
    assert_eq!(scripts, ["42", "a", "b"]);
    assert_eq!(ex.errors.len(), 2, "{:?}", ex.errors);
}

// ---------------------------------------------------------------------------------------------
// GitLab CI

const GITLAB_ROOT: &str = r#"include:
  - local: /ci/common.yml
  - remote: https://example.com/x.yml
  - project: group/project
    file: /templates/a.yml

stages: [build, deploy]

variables:
  A: "1"

default:
  before_script:
    - echo default

.setup: &setup
  before_script:
    - apt-get update
    - apt-get install -y curl

build:
  <<: *setup
  stage: build
  script:
    - make
    - !reference [.common, script]
  after_script: echo done

.hidden:
  script: echo hidden

pages:
  script:
    - *setup_cmd_missing_is_not_used
"#;

#[test]
fn gitlab_jobs_anchors_merge_keys_and_references_across_includes() {
    let root = GITLAB_ROOT.replace(
        "    - *setup_cmd_missing_is_not_used\n",
        "    - mkdocs build\n",
    );
    let common = ".common:\n  script:\n    - ./common.sh\n    - - nested one\n      - nested two\n";
    let files = MapFiles::default().with("ci/common.yml", common);
    let ex = files.extract(FileKind::GitlabCi, ".gitlab-ci.yml", &root);
    no_errors(&ex);
    let g = ".gitlab-ci.yml";
    let c = "ci/common.yml";
    let refd = Via::Reference { line: 26 };
    assert_eq!(
        rows(&ex),
        vec![
            (
                g,
                14,
                "default.before_script[0]",
                None,
                "echo default",
                Via::Direct
            ),
            (
                g,
                18,
                ".setup.before_script[0]",
                None,
                "apt-get update",
                Via::Direct
            ),
            (
                g,
                19,
                ".setup.before_script[1]",
                None,
                "apt-get install -y curl",
                Via::Direct
            ),
            (
                g,
                18,
                "build.before_script[0]",
                None,
                "apt-get update",
                Via::Direct
            ),
            (
                g,
                19,
                "build.before_script[1]",
                None,
                "apt-get install -y curl",
                Via::Direct
            ),
            (g, 25, "build.script[0]", None, "make", Via::Direct),
            (
                c,
                3,
                "build.script[1] -> .common.script[0]",
                None,
                "./common.sh",
                refd.clone()
            ),
            (
                c,
                4,
                "build.script[1] -> .common.script[1]",
                None,
                "nested one",
                refd.clone()
            ),
            (
                c,
                5,
                "build.script[1] -> .common.script[1]",
                None,
                "nested two",
                refd
            ),
            (g, 27, "build.after_script", None, "echo done", Via::Direct),
            (g, 30, ".hidden.script", None, "echo hidden", Via::Direct),
            (g, 34, "pages.script[0]", None, "mkdocs build", Via::Direct),
        ]
    );
    assert_context(&ex, Context::GitlabCi);
}

#[test]
fn gitlab_unknown_alias_is_a_yaml_error() {
    let ex = run(FileKind::GitlabCi, ".gitlab-ci.yml", GITLAB_ROOT);
    assert!(ex.steps.is_empty());
    assert_eq!(ex.errors.len(), 1);
    assert_eq!(ex.errors[0].line, 34, "{:?}", ex.errors);
}

#[test]
fn gitlab_included_file_resolves_references_through_the_root() {
    // The changed file is an include: `.gitlab-ci.yml` and its other includes give the
    // referenced jobs, but only the changed file's jobs are returned.
    let root =
        "include:\n  - 'ci/setup.yml'\n  - local: ci/deploy.yml\nlint:\n  script: [eslint .]\n";
    let setup = ".setup:\n  script:\n    - curl -fsSL https://x.example/i.sh | sh\n  variables:\n    X: 1\n";
    let deploy = "deploy:\n  script:\n    - !reference [.setup, script]\n    - ./deploy.sh\n  after_script: !reference [.setup, script]\n";
    let files = MapFiles::default()
        .with(".gitlab-ci.yml", root)
        .with("ci/setup.yml", setup)
        .with("ci/deploy.yml", "stale content");
    let ex = files.extract(FileKind::GitlabCi, "ci/deploy.yml", deploy);
    no_errors(&ex);
    let s = "ci/setup.yml";
    assert_eq!(
        rows(&ex),
        vec![
            (
                s,
                3,
                "deploy.script[0] -> .setup.script[0]",
                None,
                "curl -fsSL https://x.example/i.sh | sh",
                Via::Reference { line: 3 }
            ),
            (
                "ci/deploy.yml",
                4,
                "deploy.script[1]",
                None,
                "./deploy.sh",
                Via::Direct
            ),
            (
                s,
                3,
                "deploy.after_script -> .setup.script[0]",
                None,
                "curl -fsSL https://x.example/i.sh | sh",
                Via::Reference { line: 5 }
            ),
        ]
    );
}

#[test]
fn gitlab_main_file_overrides_included_jobs_for_references() {
    let root = "include: [a.yml]\n.t:\n  script: [from root]\njob:\n  script: [!reference [.t, script], !reference [.t, before_script]]\n";
    let a = ".t:\n  script: [from a]\n  before_script: [a before]\n";
    let files = MapFiles::default().with("a.yml", a);
    let ex = files.extract(FileKind::GitlabCi, ".gitlab-ci.yml", root);
    no_errors(&ex);
    let got: Vec<(&str, &str)> = ex
        .steps
        .iter()
        .filter(|s| s.location.starts_with("job."))
        .map(|s| (s.file.as_str(), s.script.as_str()))
        .collect();
    assert_eq!(
        got,
        [(".gitlab-ci.yml", "from root"), ("a.yml", "a before")]
    );
}

#[test]
fn gitlab_nested_references_and_cycles_are_bounded() {
    let text = ".a:\n  script:\n    - echo a\n    - !reference [.b, script]\n.b:\n  script:\n    - echo b\n    - !reference [.a, script]\njob:\n  script:\n    - !reference [.a, script]\n    - !reference [.missing, script]\n";
    let ex = run(FileKind::GitlabCi, "x.gitlab-ci.yml", text);
    let job: Vec<(&str, u32, &Via)> = ex
        .steps
        .iter()
        .filter(|s| s.location.starts_with("job."))
        .map(|s| (s.script.as_str(), s.line, &s.via))
        .collect();
    let via = Via::Reference { line: 11 };
    assert_eq!(job, [("echo a", 3, &via), ("echo b", 7, &via)]);
    let messages: Vec<(u32, &str)> = ex
        .errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert!(
        messages
            .iter()
            .any(|(l, m)| *l == 12 && m.contains("not resolved")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|(_, m)| m.contains("cycle")),
        "{messages:?}"
    );
}

#[test]
fn gitlab_include_cycles_missing_files_and_wildcards() {
    let root = "include:\n  - local: a.yml\n  - local: missing.yml\n  - local: 'ci/*.yml'\njob:\n  script: [!reference [.b, script]]\n";
    let a = "include: {local: b.yml}\n";
    let b = "include: /.gitlab-ci.yml\n.b:\n  script: echo b\n";
    let files = MapFiles::default().with("a.yml", a).with("b.yml", b);
    let ex = files.extract(FileKind::GitlabCi, ".gitlab-ci.yml", root);
    assert_eq!(
        rows(&ex),
        vec![(
            "b.yml",
            3,
            "job.script[0] -> .b.script",
            None,
            "echo b",
            Via::Reference { line: 6 }
        )]
    );
    let mut errors: Vec<(&str, u32)> = ex
        .errors
        .iter()
        .map(|e| (e.file.as_str(), e.line))
        .collect();
    errors.sort();
    // The cycle closes in b.yml; missing.yml is missing; the wildcard is not followed.
    assert_eq!(
        errors,
        [(".gitlab-ci.yml", 3), (".gitlab-ci.yml", 4), ("b.yml", 1)],
        "{:?}",
        ex.errors
    );
}

#[test]
fn gitlab_include_limit_holds() {
    // A chain of includes longer than MAX_LINKED_FILES stops with one error.
    let mut files = MapFiles::default();
    for i in 0..200 {
        files = files.with(&format!("f{i}.yml"), &format!("include: f{}.yml\n", i + 1));
    }
    let ex = files.extract(
        FileKind::GitlabCi,
        ".gitlab-ci.yml",
        "include: f0.yml\nj:\n  script: x\n",
    );
    assert_eq!(ex.steps.len(), 1);
    assert_eq!(ex.errors.len(), 1, "{:?}", ex.errors);
    assert!(
        ex.errors[0].message.contains("more than"),
        "{:?}",
        ex.errors
    );
}

#[test]
fn gitlab_spec_header_and_global_scripts() {
    let text = "spec:\n  inputs:\n    env: {default: dev}\n---\nbefore_script:\n  - echo global\nbuild:\n  script: echo $[[ inputs.env ]]\n";
    let ex = run(FileKind::GitlabCi, "templates/t.yml", text);
    no_errors(&ex);
    let got: Vec<(&str, &str)> = ex
        .steps
        .iter()
        .map(|s| (s.location.as_str(), s.script.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("before_script[0]", "echo global"),
            ("build.script", "echo $[[ inputs.env ]]")
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Azure Pipelines

const AZURE: &str = r#"trigger: [main]
pool:
  vmImage: ubuntu-latest
stages:
- stage: Build
  jobs:
  - job: build
    steps:
    - script: echo $(Build.BuildId)
      displayName: Show id
    - bash: |
        ./build.sh ${{ parameters.config }}
    - pwsh: Write-Host hi
    - powershell: Get-ChildItem
    - task: Bash@3
      inputs:
        targetType: inline
        script: echo from task
    - task: Bash@3
      inputs:
        targetType: filePath
        filePath: ./x.sh
    - task: CmdLine@2
      inputs:
        script: dir
    - task: PowerShell@2
      inputs:
        targetType: 'inline'
        script: Write-Output x
    - task: AzureCLI@2
      inputs:
        scriptType: pscore
        scriptLocation: inlineScript
        inlineScript: az group list
    - ${{ if eq(parameters.extra, true) }}:
      - script: echo extra
- stage: Deploy
  jobs:
  - deployment: web
    strategy:
      runOnce:
        preDeploy:
          steps:
          - script: echo pre
        deploy:
          steps:
          - script: echo deploy
  - deployment: canary
    strategy:
      canary:
        increments: [10]
        deploy:
          steps:
          - bash: echo canary
"#;

#[test]
fn azure_steps_at_any_depth_and_tasks() {
    let ex = run(FileKind::AzurePipelines, "azure-pipelines.yml", AZURE);
    no_errors(&ex);
    let f = "azure-pipelines.yml";
    let j = "stages[0].jobs[0].steps";
    let at = |i: usize| format!("{j}[{i}]");
    let want: Vec<(u32, String, Option<&str>, &str, Via)> = vec![
        (
            9,
            format!("{} (Show id)", at(0)),
            None,
            "echo $(Build.BuildId)",
            Via::Direct,
        ),
        (
            12,
            at(1),
            Some("bash"),
            "./build.sh ${{ parameters.config }}\n",
            Via::Direct,
        ),
        (13, at(2), Some("pwsh"), "Write-Host hi", Via::Direct),
        (14, at(3), Some("powershell"), "Get-ChildItem", Via::Direct),
        (18, at(4), Some("bash"), "echo from task", Via::Task),
        (25, at(6), Some("cmd"), "dir", Via::Task),
        (29, at(7), Some("pwsh"), "Write-Output x", Via::Task),
        (34, at(8), Some("pwsh"), "az group list", Via::Task),
        (
            36,
            format!("{j}[9].${{{{ if eq(parameters.extra, true) }}}}[0]"),
            None,
            "echo extra",
            Via::Direct,
        ),
        (
            44,
            "stages[1].jobs[0].strategy.runOnce.preDeploy.steps[0]".into(),
            None,
            "echo pre",
            Via::Direct,
        ),
        (
            47,
            "stages[1].jobs[0].strategy.runOnce.deploy.steps[0]".into(),
            None,
            "echo deploy",
            Via::Direct,
        ),
        (
            54,
            "stages[1].jobs[1].strategy.canary.deploy.steps[0]".into(),
            Some("bash"),
            "echo canary",
            Via::Direct,
        ),
    ];
    let got: Vec<(u32, String, Option<&str>, &str, Via)> = ex
        .steps
        .iter()
        .map(|s| {
            assert_eq!(s.file, f);
            assert_eq!(s.context, Context::AzurePipelines);
            (
                s.line,
                s.location.clone(),
                s.shell.as_deref(),
                s.script.as_str(),
                s.via.clone(),
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn azure_templates_through_files() {
    let root = "extends:\n  template: pipelines/main.yml\n  parameters:\n    extra:\n    - script: echo passed in\n";
    let main = "parameters:\n- name: extra\n  type: stepList\n  default: []\nstages:\n- stage: A\n  jobs:\n  - template: jobs/build.yml\n  - template: jobs/build.yml@other\n  - template: /jobs/missing.yml\n";
    let build = "jobs:\n- job: b\n  steps:\n  - template: ../steps/common.yml@self\n  - script: echo build\n";
    let common = "steps:\n- bash: echo common\n- template: common.yml\n";
    let files = MapFiles::default()
        .with("pipelines/main.yml", main)
        .with("pipelines/jobs/build.yml", build)
        .with("pipelines/steps/common.yml", common);
    let ex = files.extract(FileKind::AzurePipelines, "azure-pipelines.yml", root);
    let got: Vec<(&str, u32, &str, &str)> = ex
        .steps
        .iter()
        .map(|s| {
            (
                s.file.as_str(),
                s.line,
                s.location.as_str(),
                s.script.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "pipelines/steps/common.yml",
                2,
                "extends -> pipelines/main.yml: stages[0].jobs[0] -> pipelines/jobs/build.yml: jobs[0].steps[0] -> pipelines/steps/common.yml: steps[0]",
                "echo common"
            ),
            (
                "pipelines/jobs/build.yml",
                5,
                "extends -> pipelines/main.yml: stages[0].jobs[0] -> pipelines/jobs/build.yml: jobs[0].steps[1]",
                "echo build"
            ),
            (
                "azure-pipelines.yml",
                5,
                "extends.parameters.extra[0]",
                "echo passed in"
            ),
        ]
    );
    let errors: Vec<(&str, u32, &str)> = ex
        .errors
        .iter()
        .map(|e| (e.file.as_str(), e.line, e.message.as_str()))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, "pipelines/steps/common.yml");
    assert!(errors[0].2.contains("cycle"), "{errors:?}");
    assert_eq!(errors[1].0, "pipelines/main.yml");
    assert!(
        errors[1].2.contains("jobs/missing.yml` not found"),
        "{errors:?}"
    );
    // The template itself, extracted as a changed file: just its own steps.
    let own = run(FileKind::AzurePipelines, "pipelines/jobs/build.yml", build);
    assert_eq!(own.steps.len(), 1);
    assert_eq!(own.errors.len(), 1, "the template it uses is not there");
}

#[test]
fn azure_template_fan_out_is_bounded() {
    // Each level uses the next twice: 2^30 expansions unless bounded.
    let mut files = MapFiles::default();
    for i in 0..30 {
        let next = format!("- template: t{}.yml\n", i + 1);
        files = files.with(
            &format!("t{i}.yml"),
            &format!("steps:\n- script: echo {i}\n{next}{next}"),
        );
    }
    let start = Instant::now();
    let ex = files.extract(
        FileKind::AzurePipelines,
        "azure-pipelines.yml",
        "steps:\n- template: t0.yml\n",
    );
    assert!(start.elapsed().as_secs() < 5);
    assert!(!ex.steps.is_empty());
    assert!(
        ex.errors.iter().any(|e| e.message.contains("more than")),
        "{:?}",
        ex.errors
    );
}

// ---------------------------------------------------------------------------------------------
// Detection

#[test]
fn detection_by_path_and_content() {
    let d = detect(".github/workflows/ci.yml", b"").unwrap();
    assert_eq!((d.kind, d.by_path), (FileKind::GithubWorkflow, true));
    let d = detect("ci/release.yml", WORKFLOW.as_bytes()).unwrap();
    assert_eq!((d.kind, d.by_path), (FileKind::GithubWorkflow, false));
    let d = detect("ci/pipeline.yml", AZURE.as_bytes()).unwrap();
    assert_eq!((d.kind, d.by_path), (FileKind::AzurePipelines, false));
    let d = detect("ci/jobs.yml", b"deploy:\n  script: [make]\n").unwrap();
    assert_eq!((d.kind, d.by_path), (FileKind::GitlabCi, false));
    let d = detect("bin/tool", b"#!/usr/bin/env bash\nset -e\n").unwrap();
    assert_eq!((d.kind, d.by_path), (FileKind::ShellScript, true));
    assert_eq!(detect("docs/config.yml", b"title: x\n"), None);
    assert_eq!(detect("data.yml", &[0xff, 0xfe, 0, 1, 2]), None);
    // Non-YAML-looking content is rejected without parsing.
    let big = "x".repeat(3 * 1024 * 1024);
    let start = Instant::now();
    assert_eq!(detect("big.yml", big.as_bytes()), None);
    assert!(start.elapsed().as_millis() < 2000);
}

// ---------------------------------------------------------------------------------------------
// Corpora, against the reference counter

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Replaces `{{ word }}` placeholders with `PLACEHOLDER` unless preceded by `$`: the reference
/// script's `--subst-mustache`, regex `(?<!\$)\{\{\s*[\w.-]+\s*\}\}`.
fn subst_mustache(text: &[u8]) -> Vec<u8> {
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let word = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(b"{{") && (i == 0 || text[i - 1] != b'$') {
            let mut j = i + 2;
            while j < text.len() && space(text[j]) {
                j += 1;
            }
            let word_start = j;
            while j < text.len() && word(text[j]) {
                j += 1;
            }
            let has_word = j > word_start;
            while j < text.len() && space(text[j]) {
                j += 1;
            }
            if has_word && text[j..].starts_with(b"}}") {
                out.extend_from_slice(b"PLACEHOLDER");
                i = j + 2;
                continue;
            }
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

#[test]
fn mustache_substitution_matches_the_reference_regex() {
    let cases: [(&str, &str); 6] = [
        ("a {{ branch }} b", "a PLACEHOLDER b"),
        ("${{ variables.x }}", "${{ variables.x }}"),
        ("{{#if x}}", "{{#if x}}"),
        ("{{{ a }}}", "{PLACEHOLDER}"),
        ("{{a-b.c_d}}{{ }}", "PLACEHOLDER{{ }}"),
        ("{{\n x \n}}", "PLACEHOLDER"),
    ];
    for (from, to) in cases {
        assert_eq!(
            String::from_utf8(subst_mustache(from.as_bytes())).unwrap(),
            to,
            "{from}"
        );
    }
}

/// Files read from one corpus folder (its repository root), placeholders substituted for Azure.
struct DirFiles {
    root: PathBuf,
    mustache: bool,
}

impl Files for DirFiles {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.root.join(path)).ok()?;
        Some(if self.mustache {
            subst_mustache(&bytes)
        } else {
            bytes
        })
    }
}

/// The corpus folders: each is its own repository root.
const CORPORA: [&str; 5] = [
    "github/zizmor-sample-workflows",
    "github/schemastore/test",
    "github/schemastore/negative_test",
    "gitlab/socialgouv",
    "azure/azure-pipelines-yaml-templates",
];

/// One corpus file, extracted.
struct Extracted {
    /// Path under `ci-corpora`.
    name: String,
    kind: Option<FileKind>,
    extraction: Extraction,
    /// Steps counted the reference's way.
    count: usize,
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}

/// Extracts every corpus file with the kind `detect` gives, falling back to the reference's
/// guess (it takes any file whose name contains `gitlab` for GitLab CI).
fn extract_corpora() -> Vec<Extracted> {
    let base = fixtures().join("ci-corpora");
    let mut all = Vec::new();
    for corpus in CORPORA {
        let root = base.join(corpus);
        let files = DirFiles {
            root: root.clone(),
            mustache: corpus.starts_with("azure/"),
        };
        let mut paths = Vec::new();
        yaml_files(&root, &mut paths);
        for path in paths {
            let rel = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let name = format!("{corpus}/{rel}");
            let text = files.read(&rel).unwrap();
            let mut kind = detect(&rel, &text).map(|d| d.kind);
            if name.contains("gitlab") && matches!(kind, None | Some(FileKind::AzurePipelines)) {
                kind = Some(FileKind::GitlabCi);
            }
            let extraction = match kind {
                Some(kind) => extract(kind, &rel, &text, &files),
                None => Extraction::default(),
            };
            let count = reference_count(kind, &rel, &extraction);
            all.push(Extracted {
                name,
                kind,
                extraction,
                count,
            });
        }
    }
    all
}

/// Our steps counted as the reference counts: one per `run` step (GitHub); one per script list
/// entry, a `!reference` entry being one (GitLab: distinct locations before ` -> `); one per
/// `script`/`bash`/`pwsh`/`powershell` step written in the file itself (Azure: not tasks).
fn reference_count(kind: Option<FileKind>, path: &str, ex: &Extraction) -> usize {
    match kind {
        Some(FileKind::GitlabCi) => ex
            .steps
            .iter()
            .map(|s| s.location.split(" -> ").next().unwrap_or(""))
            .collect::<BTreeSet<_>>()
            .len(),
        Some(FileKind::AzurePipelines) => ex
            .steps
            .iter()
            .filter(|s| s.via == Via::Direct && s.file == path)
            .count(),
        _ => ex.steps.len(),
    }
}

/// GitHub's `parallel:` step groups: the reference counts only `run` directly in `steps`; we
/// also read the steps grouped under `parallel:`, which run like any other.
const PARALLEL: &str = "steps under `parallel:` run too; the reference does not look inside";

/// Files where we knowingly differ from the reference: (file, our count, reason).
const ALLOWED: [(&str, usize, &str); 2] = [
    // 1 direct `run` + 3 inside `parallel:`.
    (
        "github/zizmor-sample-workflows/parallel-steps-parallel.yml",
        4,
        PARALLEL,
    ),
    // 16 direct `run` + 3 + 2 inside two `parallel:` groups.
    ("github/schemastore/test/parallel-steps.yaml", 21, PARALLEL),
];

fn check_counts(ours: &[Extracted], reference: &BTreeMap<String, usize>) -> Vec<String> {
    let mut problems = Vec::new();
    for file in ours {
        let want = reference.get(&file.name).copied().unwrap_or(0);
        let allowed = ALLOWED.iter().find(|(n, _, _)| *n == file.name);
        let expected = allowed.map_or(want, |(_, ours, _)| *ours);
        if file.count != expected {
            problems.push(format!(
                "{}: {} steps, reference {want} ({:?})",
                file.name, file.count, file.kind
            ));
        }
    }
    problems
}

/// Sums per corpus folder: (ours, reference).
fn per_folder(
    ours: &[Extracted],
    reference: &BTreeMap<String, usize>,
) -> BTreeMap<&'static str, (usize, usize)> {
    let mut sums = BTreeMap::new();
    for file in ours {
        let corpus = CORPORA
            .iter()
            .find(|c| file.name.starts_with(&format!("{c}/")))
            .unwrap();
        let entry = sums.entry(*corpus).or_insert((0, 0));
        entry.0 += file.count;
        entry.1 += reference.get(&file.name).copied().unwrap_or(0);
    }
    sums
}

fn expected_counts() -> (BTreeMap<String, usize>, Vec<String>) {
    let text = std::fs::read_to_string(fixtures().join("expected-step-counts.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let counts = json["counts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap() as usize))
        .collect();
    let failures = json["parse_failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    (counts, failures)
}

#[test]
fn corpora_agree_with_committed_reference_counts() {
    let start = Instant::now();
    let ours = extract_corpora();
    let elapsed = start.elapsed();
    let (reference, failures) = expected_counts();
    assert_eq!(
        ours.iter().map(|f| f.name.clone()).collect::<BTreeSet<_>>(),
        reference.keys().cloned().collect::<BTreeSet<_>>(),
        "the corpus and expected-step-counts.json list different files"
    );
    let problems = check_counts(&ours, &reference);
    for (corpus, (a, b)) in per_folder(&ours, &reference) {
        eprintln!("{corpus}: ours {a}, reference {b}");
    }
    eprintln!("extracted {} files in {elapsed:?}", ours.len());
    assert!(
        problems.is_empty(),
        "step counts differ:\n{}",
        problems.join("\n")
    );
    for file in &ours {
        assert!(
            file.extraction.errors.is_empty(),
            "{}: {:?}",
            file.name,
            file.extraction.errors
        );
    }
    // The reference cannot parse these; we must say so too, with a line.
    for name in failures {
        let path = fixtures().join("ci-corpora").join(&name);
        let text = subst_mustache(&std::fs::read(&path).unwrap());
        let kind = detect(&name, &text).map(|d| d.kind);
        assert_eq!(
            kind, None,
            "{name}: not YAML, so content guessing finds nothing"
        );
        let kind = if name.starts_with("azure/") {
            FileKind::AzurePipelines
        } else {
            FileKind::GitlabCi
        };
        let e = extract(kind, &name, &text, &NoFiles);
        assert!(e.steps.is_empty(), "{name}");
        assert!(
            e.errors.len() == 1 && e.errors[0].line > 0,
            "{name}: {:?}",
            e.errors
        );
    }
}

/// The reference's name for a kind.
fn reference_kind(kind: FileKind) -> &'static str {
    match kind {
        FileKind::GithubWorkflow => "github",
        FileKind::GithubAction => "github-action",
        FileKind::GitlabCi => "gitlab",
        FileKind::AzurePipelines => "azure",
        _ => "other",
    }
}

#[test]
fn corpora_kinds_agree_with_the_reference() {
    let text = std::fs::read_to_string(fixtures().join("expected-step-counts.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let kinds = json["kinds"].as_object().unwrap();
    let mut checked = 0;
    for file in extract_corpora() {
        if let Some(want) = kinds.get(&file.name).and_then(|k| k.as_str()) {
            assert_eq!(file.kind.map(reference_kind), Some(want), "{}", file.name);
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}

/// Runs the reference script on `files` (relative to `ci-corpora`): the commands it finds, per
/// file.
fn run_reference(
    files: &[String],
    mustache: bool,
) -> Result<BTreeMap<String, Vec<String>>, String> {
    let corpora = fixtures().join("ci-corpora");
    let out = std::env::temp_dir().join(format!(
        "cavra-reference-{}-{}.jsonl",
        std::process::id(),
        mustache
    ));
    let mut cmd = std::process::Command::new("python3");
    cmd.current_dir(&corpora)
        .arg(fixtures().join("extract_run_commands.py"))
        .arg("--jsonl")
        .arg(&out);
    if mustache {
        cmd.arg("--subst-mustache");
    }
    let output = cmd
        .args(files)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the reference script failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let jsonl = std::fs::read_to_string(&out).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&out);
    let mut counts = BTreeMap::new();
    for line in jsonl.lines() {
        let row: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let file = row["file"].as_str().ok_or("a row without `file`")?;
        let command = match &row["command"] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        counts
            .entry(file.to_string())
            .or_insert_with(Vec::new)
            .push(command);
    }
    Ok(counts)
}

/// python3 with PyYAML, or why not.
fn python_with_pyyaml() -> Result<(), String> {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .map_err(|e| format!("python3 is not available ({e})"))?;
    if probe.status.success() {
        Ok(())
    } else {
        Err("python3 cannot import PyYAML (`pip install pyyaml` or apt `python3-yaml`)".into())
    }
}

#[test]
fn corpora_agree_with_the_reference_script_run_live() {
    if let Err(why) = python_with_pyyaml() {
        if std::env::var_os("CI").is_some() {
            panic!("the live reference comparison needs python3 with PyYAML in CI: {why}");
        }
        eprintln!("note: skipping the live reference comparison: {why}");
        return;
    }
    let ours = extract_corpora();
    let (azure, other): (Vec<String>, Vec<String>) = ours
        .iter()
        .map(|f| f.name.clone())
        .partition(|n| n.starts_with("azure/"));
    let mut commands = run_reference(&other, false).unwrap();
    commands.extend(run_reference(&azure, true).unwrap());
    let reference: BTreeMap<String, usize> =
        commands.iter().map(|(f, c)| (f.clone(), c.len())).collect();
    let problems = check_counts(&ours, &reference);
    assert!(
        problems.is_empty(),
        "step counts differ from the live reference:\n{}",
        problems.join("\n")
    );
    let (committed, _) = expected_counts();
    let stale: Vec<&String> = committed
        .iter()
        .filter(|(name, n)| reference.get(*name).copied().unwrap_or(0) != **n)
        .map(|(name, _)| name)
        .collect();
    for file in ours
        .iter()
        .filter(|f| !ALLOWED.iter().any(|(n, _, _)| *n == f.name))
    {
        let mut want = commands.get(&file.name).cloned().unwrap_or_default();
        let mut got: Vec<String> = file
            .extraction
            .steps
            .iter()
            .filter(|s| s.via == Via::Direct)
            .map(|s| s.script.clone())
            .collect();
        want.sort();
        got.sort();
        assert_eq!(
            got, want,
            "{}: the scripts differ from the reference's",
            file.name
        );
    }
    assert!(
        stale.is_empty(),
        "expected-step-counts.json is stale for {stale:?}; regenerate it (see fixtures/README.md)"
    );
}

#[test]
fn computed_shells_parse_as_posix() {
    let text = "on: push\njobs:\n  a:\n    steps:\n      - run: curl x | sh\n        shell: ${{ matrix.shell }}\n      - run: print(1)\n        shell: python {0}\n";
    let ex = run(FileKind::GithubWorkflow, "w.yml", text);
    let dialects: Vec<_> = ex.steps.iter().map(|s| s.parse_options().dialect).collect();
    assert_eq!(
        dialects,
        [cavra_shell::Dialect::Posix, cavra_shell::Dialect::Opaque]
    );
}

#[test]
fn azure_computed_task_mode_is_read() {
    let text = "steps:\n- task: Bash@3\n  inputs:\n    targetType: ${{ parameters.kind }}\n    script: curl x | sh\n- task: AzureCLI@2\n  inputs:\n    scriptType: bash\n    scriptLocation: scriptPath\n    scriptPath: a.sh\n    inlineScript: not run\n";
    let ex = run(FileKind::AzurePipelines, "a.yml", text);
    let scripts: Vec<&str> = ex.steps.iter().map(|s| s.script.as_str()).collect();
    assert_eq!(scripts, ["curl x | sh"]);
}
