//! `cavra report FORGE` and `cavra gate --post FORGE`: one way to post a verdict to a forge,
//! through `cavra-forge`. Where to post and the token come from the CI's variables.

use crate::args::{GithubModeArg, PostArgs, ReportArgs, ReportForge};
use crate::exit;
use cavra_forge::{ForgeError, Posted, azure, github, gitlab, present};
use cavra_gate::{GateError, Status, Verdict};
use std::io::Read;

/// Runs `cavra report`.
pub fn run(args: ReportArgs) -> Result<u8, GateError> {
    let env = |k: &str| std::env::var(k).ok();
    let template = read_template(args.markdown_template.as_deref())?;
    if args.pending {
        let repo = git2::Repository::discover(&args.repo)?;
        let head = repo
            .revparse_single(&args.head)?
            .peel_to_commit()?
            .id()
            .to_string();
        let posted = pending(args.forge, &head, &args.post, &env).map_err(forge_error)?;
        print_posted(&posted);
        return Ok(exit::PASS);
    }
    let path = args.result.expect("clap requires RESULT without --pending");
    let text = read_result(&path)?;
    let verdict = Verdict::from_json(&text)
        .map_err(|e| GateError::Usage(format!("{}: {e}", path.display())))?;
    let posted =
        post(args.forge, &verdict, &args.post, template.as_deref(), &env).map_err(forge_error)?;
    print_posted(&posted);
    Ok(if args.exit_code {
        verdict_code(verdict.verdict)
    } else {
        exit::PASS
    })
}

/// Posts `verdict` to `forge`; for GitHub also appends the step summary and prints workflow
/// commands, unless told not to.
pub fn post(
    forge: ReportForge,
    verdict: &Verdict,
    args: &PostArgs,
    template: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Posted, ForgeError> {
    let summary = present::summary(verdict, template).map_err(ForgeError::Config)?;
    match forge {
        ReportForge::Github => {
            let cfg = github_config(args, env)?;
            if !args.no_annotations {
                print!("{}", github::workflow_commands(verdict));
            }
            if !args.no_step_summary {
                if let Some(path) = env("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
                    github::append_step_summary(std::path::Path::new(&path), &summary).map_err(
                        |e| {
                            ForgeError::Config(format!("cannot append to GITHUB_STEP_SUMMARY: {e}"))
                        },
                    )?;
                }
            }
            github::report(&cfg, verdict, &summary)
        }
        ReportForge::Gitlab => gitlab::report(&gitlab_config(args, env)?, verdict, &summary),
        ReportForge::Azure => azure::report(&azure_config(args, env)?, verdict, &summary),
    }
}

/// Posts a pending (GitLab: running) status for `head`.
fn pending(
    forge: ReportForge,
    head: &str,
    args: &PostArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Posted, ForgeError> {
    match forge {
        ReportForge::Github => github::pending(&github_config(args, env)?, head),
        ReportForge::Gitlab => gitlab::pending(
            &gitlab_config(args, env)?,
            head,
            gitlab::StatusState::Running,
        ),
        ReportForge::Azure => azure::pending(&azure_config(args, env)?, head),
    }
}

fn github_config(
    args: &PostArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<github::GithubConfig, ForgeError> {
    let mut cfg = github::GithubConfig::from_env(env)?;
    if let Some(url) = &args.api_url {
        cfg.api_url = url.clone();
    }
    cfg.mode = match args.github_mode {
        GithubModeArg::Auto => github::GithubMode::Auto,
        GithubModeArg::CheckRun => github::GithubMode::CheckRun,
        GithubModeArg::Status => github::GithubMode::Status,
    };
    Ok(cfg)
}

fn gitlab_config(
    args: &PostArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<gitlab::GitlabConfig, ForgeError> {
    let mut cfg = gitlab::GitlabConfig::from_env(env)?;
    if let Some(url) = &args.api_url {
        cfg.api_url = url.clone();
    }
    Ok(cfg)
}

fn azure_config(
    args: &PostArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<azure::AzureConfig, ForgeError> {
    let mut cfg = azure::AzureConfig::from_env(env)?;
    if let Some(url) = &args.api_url {
        cfg.collection_url = url.clone();
    }
    Ok(cfg)
}

/// Prints what was posted, one line each.
pub fn print_posted(posted: &Posted) {
    for action in &posted.actions {
        eprintln!("cavra: {action}");
    }
    if let Some(url) = &posted.url {
        eprintln!("cavra: {url}");
    }
}

/// A forge error as a gate error: a missing variable is a usage error (exit 3), anything the
/// forge refused is operational (exit 4).
pub fn forge_error(e: ForgeError) -> GateError {
    match e {
        ForgeError::Config(m) => GateError::Usage(m),
        other => GateError::Io(other.to_string()),
    }
}

/// The exit code of a verdict.
pub fn verdict_code(status: Status) -> u8 {
    match status {
        Status::Pass => exit::PASS,
        Status::Fail => exit::FAIL,
        Status::NeedsApproval => exit::NEEDS_APPROVAL,
    }
}

/// Reads a `--markdown-template` file.
pub fn read_template(path: Option<&std::path::Path>) -> Result<Option<String>, GateError> {
    path.map(|p| {
        std::fs::read_to_string(p)
            .map_err(|e| GateError::Usage(format!("cannot read template {}: {e}", p.display())))
    })
    .transpose()
}

/// Reads the result file (or stdin for `-`), bounded.
fn read_result(path: &std::path::Path) -> Result<String, GateError> {
    let limit = cavra_gate::MAX_RESULT_BYTES as u64 + 1;
    let mut text = String::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_string(&mut text))
    };
    read.map_err(|e| GateError::Usage(format!("cannot read {}: {e}", path.display())))?;
    Ok(text)
}
