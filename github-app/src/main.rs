//! `cavra-github-app`: the cavra GitHub App's webhook server and workers.
//!
//! Usage: `cavra-github-app [--config FILE]` (configuration: docs/github-app.md).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut config: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => config = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                println!(
                    "cavra-github-app [--config FILE]\n\nThe cavra GitHub App: a webhook server that posts a required cavra/gate check run\non every pull request. Settings come from FILE (TOML) and CAVRA_APP_* variables;\nsee docs/github-app.md."
                );
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("cavra-github-app: unknown argument {other} (try --help)");
                return ExitCode::from(3);
            }
        }
    }
    let env = |k: &str| std::env::var(k).ok();
    let cfg = match cavra_github_app::config::load(config.as_deref(), &env) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("cavra-github-app: {e}");
            return ExitCode::from(3);
        }
    };
    match cavra_github_app::app::run(cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cavra-github-app: {e}");
            ExitCode::from(4)
        }
    }
}
