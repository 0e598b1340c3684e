//! The command line.

use crate::output::ColorChoice;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit codes:
  0  pass (the gate passed, the action is allowed, the check succeeded)
  1  fail (a `deny` finding, a blocked action, a failing policy test)
  2  needs approval (a `require_approval` finding without an approval)
  3  usage or policy error (bad flags; bad policy, printed as file:line:column)
  4  operational error (missing commits in a shallow clone, unreadable repository, I/O)";

/// cavra: may this change go in, and can we prove why?
///
/// cavra judges every path a change touches against a YAML policy pack read from the
/// change's base revision (never from the change itself), and gives a verdict a CI job can
/// gate on. With no `.cavra/policy.yaml`, the embedded `builtin:baseline` pack applies.
#[derive(Debug, Parser)]
#[command(name = "cavra", version, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Judge the changes between a base and a head revision.
    ///
    /// Base detection, when --base is not given: the pull request base in GitHub Actions
    /// (event file, then GITHUB_BASE_REF), CI_MERGE_REQUEST_DIFF_BASE_SHA in GitLab,
    /// SYSTEM_PULLREQUEST_TARGETBRANCH in Azure Pipelines, else origin/HEAD, main or master.
    /// The diff runs from the merge base to the head; the policy is read at the base.
    #[command(after_help = EXIT_CODES)]
    Gate(Box<GateArgs>),
    /// Judge one action (for agent hooks and scripts); exits 1 when it is blocked.
    ///
    /// Example: `cavra evaluate write_file .github/workflows/ci.yml`
    #[command(after_help = EXIT_CODES)]
    Evaluate(EvaluateArgs),
    /// List the commands files run (CI steps, Dockerfile RUN, package.json scripts, Makefile
    /// recipes, shell scripts), and with --judge, what the policy says about each.
    ///
    /// Shows what `cavra gate` sees in a file: every command after parsing the shell and
    /// unwrapping sudo, env, bash -c and the like, with its file:line. Included files
    /// (GitLab `include: local`, Azure templates) are read from --root.
    ///
    /// Example: `cavra commands --judge .github/workflows/*.yml Dockerfile`
    #[command(after_help = EXIT_CODES)]
    Commands(CommandsArgs),
    /// Inspect, explain and test policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Create signing keys and show key ids.
    #[command(subcommand)]
    Keys(crate::commands::keys::KeysCommand),
    /// Sign in-toto Statements or files into Sigstore bundles, and verify bundles offline.
    #[command(subcommand)]
    Attest(crate::commands::attest::AttestCommand),
    /// Build and verify release packets: artifacts, checksums, a CycloneDX SBOM and gate
    /// verdicts under one signature, verified offline.
    #[command(subcommand)]
    Release(crate::commands::release::ReleaseCommand),
    /// Verify a Sigstore bundle (the sigstore-conformance CLI protocol).
    VerifyBundle(crate::commands::verify_bundle::VerifyBundleArgs),
    /// Post a gate result to a forge: a GitHub check run, a GitLab commit status and merge
    /// request note, or an Azure DevOps pull request status and thread.
    ///
    /// Reads the JSON a gate wrote (`cavra gate --report json=cavra-result.json`), so every
    /// pipeline posts the same verdict the same way. Where to post comes from the CI's own
    /// variables; every API base URL can be overridden with --api-url.
    ///
    ///   github  GITHUB_REPOSITORY, GITHUB_API_URL, token CAVRA_GITHUB_TOKEN or GITHUB_TOKEN
    ///           (`checks: write`; with only `statuses: write` a commit status is posted).
    ///           Also appends the summary to $GITHUB_STEP_SUMMARY and prints annotations.
    ///   gitlab  CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID, token CAVRA_GITLAB_TOKEN
    ///           (a project access token, api scope) or CI_JOB_TOKEN.
    ///   azure   SYSTEM_COLLECTIONURI, SYSTEM_TEAMPROJECTID, BUILD_REPOSITORY_ID,
    ///           SYSTEM_PULLREQUEST_PULLREQUESTID, token SYSTEM_ACCESSTOKEN (map it with env:).
    ///
    /// Tokens are never printed. Exits 0 when posted (whatever the verdict, unless
    /// --exit-code), 3 when a variable is missing, 4 when the forge refused.
    ///
    /// Example: `cavra report gitlab cavra-result.json`
    #[command(after_help = EXIT_CODES, verbatim_doc_comment)]
    Report(ReportArgs),
    /// Write a forge's CI template and a starter `.cavra/policy.yaml` into a repository.
    ///
    /// github: .github/workflows/cavra.yml (the cavra action on pull requests).
    /// gitlab: .gitlab/ci/cavra.gitlab-ci.yml (the merge request job) and a .gitlab-ci.yml
    ///         that includes it (an existing .gitlab-ci.yml is kept: add the include yourself).
    /// azure:  .azure-pipelines/cavra-steps.yml and a pipeline .azure-pipelines/cavra.yml for
    ///         branch-policy build validation.
    ///
    /// Existing files are not overwritten unless --force is given.
    ///
    /// Example: `cavra init github --mode audit`
    #[command(after_help = EXIT_CODES, verbatim_doc_comment)]
    Init(InitArgs),
    /// Run the cavra GitHub App (webhook server and workers); see docs/github-app.md.
    #[command(subcommand)]
    App(AppCommand),
}

/// `cavra app ...`.
#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Serve webhooks and evaluate pull requests until SIGTERM (as `cavra-github-app`).
    ///
    /// Settings come from FILE (TOML) and CAVRA_APP_* variables: app id, private key, webhook
    /// secret, API URL (GitHub Enterprise Server), database URL (sqlite:PATH or postgres://),
    /// cache directory, listen address, workers, signing key.
    Serve {
        /// The configuration file.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// Forges `cavra report` and `cavra gate --post` post to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportForge {
    /// A GitHub check run (or commit status), step summary and annotations.
    Github,
    /// A GitLab commit status `cavra/gate` and one merge request note.
    Gitlab,
    /// An Azure DevOps pull request status `cavra/gate` and one thread.
    Azure,
}

/// How `cavra report github` posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GithubModeArg {
    /// A check run; a commit status when the token may not create check runs.
    Auto,
    /// A check run only.
    CheckRun,
    /// A commit status only.
    Status,
}

/// How a forge report is posted (shared by `cavra report` and `cavra gate --post`).
#[derive(Debug, Clone, Args)]
pub struct PostArgs {
    /// The forge's API base URL, e.g. https://ghe.example.com/api/v3,
    /// https://gitlab.example.com/api/v4 or https://ado.example.com/tfs/DefaultCollection/
    /// (default: the CI's variable, else the public service).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// GitHub: a check run, a commit status, or a check run falling back to a status.
    #[arg(long, value_enum, default_value = "auto")]
    pub github_mode: GithubModeArg,
    /// GitHub: do not append the summary to $GITHUB_STEP_SUMMARY.
    #[arg(long)]
    pub no_step_summary: bool,
    /// GitHub: do not print workflow-command annotations.
    #[arg(long)]
    pub no_annotations: bool,
}

/// `cavra report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Where to post.
    #[arg(value_enum)]
    pub forge: ReportForge,
    /// The gate result: the JSON written by `cavra gate --report json=FILE` (`-`: stdin).
    #[arg(value_name = "RESULT", required_unless_present = "pending")]
    pub result: Option<PathBuf>,
    /// Post a pending status (GitLab: running) for --head instead; run it before the gate.
    #[arg(long, conflicts_with = "result")]
    pub pending: bool,
    /// The commit a --pending status is for.
    #[arg(long, value_name = "REV", default_value = "HEAD", requires = "pending")]
    pub head: String,
    /// The repository --head is resolved in.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub repo: PathBuf,
    /// A minijinja template for the Markdown summary (as `cavra gate --markdown-template`).
    #[arg(long, value_name = "FILE")]
    pub markdown_template: Option<PathBuf>,
    /// After posting, exit with the verdict's code (1 fail, 2 needs approval) instead of 0.
    #[arg(long)]
    pub exit_code: bool,
    /// How to post.
    #[command(flatten)]
    pub post: PostArgs,
}

/// `cavra init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The forge whose template to write.
    #[arg(value_enum)]
    pub forge: InitForge,
    /// The repository's root directory.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// The starter policy's mode (audit: report only, a good first week).
    #[arg(long, value_enum, default_value = "enforce")]
    pub mode: ModeArg,
    /// Sign each verdict keylessly with the CI's OIDC identity (Sigstore), or not at all.
    #[arg(long, value_enum, default_value = "none")]
    pub attest: InitAttest,
    /// Replace files that exist.
    #[arg(long)]
    pub force: bool,
}

/// Forges `cavra init` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InitForge {
    /// GitHub Actions.
    Github,
    /// GitLab CI/CD.
    Gitlab,
    /// Azure Pipelines.
    Azure,
}

/// Signing in the written template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InitAttest {
    /// Do not sign verdicts.
    None,
    /// Sign keylessly with the CI's OIDC token.
    Keyless,
}

/// `cavra commands`.
#[derive(Debug, Args)]
pub struct CommandsArgs {
    /// The files to read.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Judge every command with the policy; exit 1 on a deny, 2 when approval is needed.
    #[arg(long)]
    pub judge: bool,
    /// A local policy file instead of the repository's committed policy (with --judge).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The repository root that included files are read from, and file paths are shown relative to.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub root: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `cavra gate`.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// A directory inside the git repository.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub repo: PathBuf,
    /// The base revision (branch, tag or SHA); detected from CI variables when absent.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// The head revision.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub head: String,
    /// A local policy file instead of the base revision's `.cavra/policy.yaml` (for local use).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Override the policy's mode; only a stricter one, unless --policy is given.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Output format for stdout (or --output).
    #[arg(long, short, default_value = "text", value_parser = clap::builder::PossibleValuesParser::new(cavra_report::Format::NAMES))]
    pub format: String,
    /// Write the output to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write FORMAT to FILE, e.g. `--report junit=gate.xml --report sarif=gate.sarif`.
    #[arg(long, value_name = "FORMAT=FILE")]
    pub report: Vec<String>,
    /// Count an approval: `GROUP=USER` (of the head commit), or `GROUP=USER@SHA`.
    #[arg(long = "approve", value_name = "GROUP=USER")]
    pub approvals: Vec<String>,
    /// Break the glass: pass despite findings, recording this justification.
    #[arg(long, value_name = "JUSTIFICATION")]
    pub break_glass: Option<String>,
    /// Who breaks the glass (default: GITHUB_ACTOR, GITLAB_USER_LOGIN or BUILD_REQUESTEDFOR).
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,
    /// A minijinja template for the markdown format.
    #[arg(long, value_name = "FILE")]
    pub markdown_template: Option<PathBuf>,
    /// Threads for reading and judging files. One thread reads blobs (libgit2 serializes
    /// object reads); more threads diff and judge in parallel, which pays off when the
    /// change holds large edited text files. Default 1: fastest on typical changes.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Colour the text output.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// Sign the verdict (an in-toto Statement, subject = the head commit) and write the
    /// Sigstore bundle to FILE. Needs --key or --keyless.
    #[arg(long, value_name = "FILE")]
    pub attest: Option<PathBuf>,
    /// How to sign the --attest bundle.
    #[command(flatten)]
    pub signing: crate::commands::signing::SigningArgs,
    /// Also post the verdict to a forge, as `cavra report FORGE` does.
    #[arg(long, value_enum, value_name = "FORGE")]
    pub post: Option<ReportForge>,
    /// How to post.
    #[command(flatten)]
    pub post_args: PostArgs,
}

/// Modes on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ModeArg {
    /// Report, never block.
    Audit,
    /// Deny fails, require_approval waits.
    Enforce,
    /// Enforce, and unmatched paths need approval.
    Strict,
}

/// `cavra evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// read_file, write_file, delete_file, execute_command, git_push or mcp_tool_call.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(cavra_policy::Action::ALL))]
    pub action: String,
    /// The path, command line, ref or tool name.
    pub target: String,
    /// Print the decision as JSON.
    #[arg(long)]
    pub json: bool,
    /// A local policy file instead of the repository's committed policy.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// A directory inside the git repository (its HEAD commit's policy applies).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub repo: PathBuf,
}

/// `cavra policy ...`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check a policy file; print every error as file:line:column.
    Validate {
        /// The policy file (default: .cavra/policy.yaml in the working tree).
        file: Option<PathBuf>,
    },
    /// List the built-in packs.
    List,
    /// Print the resolved policy (every layer applied) and its sha256.
    Print(PolicySelect),
    /// Show which rules match a path, and why.
    Explain(ExplainArgs),
    /// Run policy test cases (YAML: input -> expected decision).
    Test(TestArgs),
}

/// Which policy a `policy` subcommand reads.
#[derive(Debug, Args)]
pub struct PolicySelect {
    /// The policy file (default: .cavra/policy.yaml in the working tree, else builtin:baseline).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// `cavra policy explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The repository path to explain.
    pub path: String,
    /// The change kind to assume.
    #[arg(long, default_value = "modified")]
    pub change: String,
    /// The action to assume.
    #[arg(long, default_value = "write_file")]
    pub action: String,
    /// The path before a rename.
    #[arg(long, value_name = "PATH")]
    pub old_path: Option<String>,
    /// An added line to test content rules with (repeatable).
    #[arg(long = "line", value_name = "TEXT")]
    pub lines: Vec<String>,
    /// Which policy.
    #[command(flatten)]
    pub select: PolicySelect,
}

/// `cavra policy test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Test case files.
    pub files: Vec<PathBuf>,
    /// Run the built-in packs' own test cases.
    #[arg(long)]
    pub builtin: bool,
    /// Which policy.
    #[command(flatten)]
    pub select: PolicySelect,
}
