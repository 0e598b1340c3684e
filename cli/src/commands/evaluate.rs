//! `cavra evaluate ACTION TARGET`.

use crate::args::EvaluateArgs;
use crate::exit;
use cavra_gate::{GateError, evaluate_action};
use cavra_policy::Action;

/// Judges one action against the committed policy (HEAD of the repository) or --policy.
pub fn run(args: EvaluateArgs) -> Result<u8, GateError> {
    let action = Action::parse(&args.action).expect("clap checked the action");
    let (engine, repo) = super::committed_engine(&args.repo, args.policy.as_deref())?;
    let exists = repo
        .as_ref()
        .and_then(|r| r.workdir())
        .is_some_and(|w| w.join(&args.target).exists());
    let result = evaluate_action(&engine, action, &args.target, exists);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&result).map_err(|e| GateError::Io(e.to_string()))?
        );
    } else {
        println!(
            "{} {} {}: {}",
            result.decision.as_str(),
            result.action.as_str(),
            result.target,
            if result.blocked { "blocked" } else { "allowed" }
        );
        for f in &result.findings {
            println!(
                "  {} [{}] {}: {}",
                f.rule,
                f.decision.as_str(),
                f.message,
                f.reason
            );
        }
    }
    Ok(if result.blocked {
        exit::FAIL
    } else {
        exit::PASS
    })
}
