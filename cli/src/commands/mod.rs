//! One module per subcommand; each returns its exit code.

mod evaluate;
mod gate;
mod list_commands;
mod policy;

use crate::args::{Cli, Command};
use crate::exit;
use cavra_gate::GateError;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> u8 {
    let result = match cli.command {
        Command::Gate(args) => gate::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Commands(args) => list_commands::run(args),
        Command::Policy(cmd) => policy::run(cmd),
    };
    result.unwrap_or_else(|e| {
        eprintln!("cavra: error: {e}");
        exit_code(&e)
    })
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
