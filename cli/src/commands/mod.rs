//! One module per subcommand; each returns its exit code.

pub(crate) mod attest;
mod evaluate;
mod gate;
mod init;
pub(crate) mod keys;
mod list_commands;
mod policy;
pub(crate) mod release;
pub(crate) mod report;
pub(crate) mod signing;
pub(crate) mod verify_bundle;

use crate::args::{Cli, Command};
use crate::exit;
use cavra_gate::GateError;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> u8 {
    let result = match cli.command {
        Command::Gate(args) => gate::run(*args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Commands(args) => list_commands::run(args),
        Command::Policy(cmd) => policy::run(cmd),
        Command::Keys(cmd) => keys::run(cmd),
        Command::Attest(cmd) => attest::run(cmd),
        Command::VerifyBundle(args) => verify_bundle::run(args),
        Command::Report(args) => report::run(args),
        Command::Init(args) => init::run(args),
        Command::Release(cmd) => release::run(cmd),
        Command::App(crate::args::AppCommand::Serve { config }) => app_serve(config.as_deref()),
    };
    result.unwrap_or_else(|e| {
        eprintln!("cavra: error: {e}");
        exit_code(&e)
    })
}

/// `cavra app serve`: the GitHub App in this process.
fn app_serve(config: Option<&std::path::Path>) -> Result<u8, GateError> {
    let env = |k: &str| std::env::var(k).ok();
    let cfg = cavra_github_app::config::load(config, &env).map_err(GateError::Usage)?;
    cavra_github_app::app::run(cfg).map_err(GateError::Io)?;
    Ok(exit::PASS)
}

/// The exit code for an error.
fn exit_code(e: &GateError) -> u8 {
    match e {
        GateError::Policy(_) | GateError::Usage(_) => exit::USAGE,
        GateError::Diff(_) | GateError::Io(_) => exit::OPERATIONAL,
    }
}

/// The mode named on the command line.
fn mode(arg: crate::args::ModeArg) -> cavra_policy::Mode {
    use crate::args::ModeArg;
    match arg {
        ModeArg::Audit => cavra_policy::Mode::Audit,
        ModeArg::Enforce => cavra_policy::Mode::Enforce,
        ModeArg::Strict => cavra_policy::Mode::Strict,
    }
}

/// An engine for the policy committed at HEAD of the repository around `dir` (or `policy_file`,
/// or the built-in default), in the policy's own mode. The committed policy, not the working
/// tree's: an agent must not loosen its own rules by editing the file. Also returns the
/// repository, when there is one.
fn committed_engine(
    dir: &std::path::Path,
    policy_file: Option<&std::path::Path>,
) -> Result<(cavra_policy::Engine, Option<git2::Repository>), GateError> {
    let repo = git2::Repository::discover(dir).ok();
    let head = repo
        .as_ref()
        .and_then(|r| r.head().ok())
        .and_then(|h| h.peel_to_commit().ok())
        .map(|c| c.id());
    let loaded = cavra_gate::load_policy(repo.as_ref(), head, policy_file)?;
    let mode = loaded.policy.mode;
    let engine = cavra_policy::Engine::new(loaded.policy, mode, cavra_policy::Date::today());
    Ok((engine, repo))
}
