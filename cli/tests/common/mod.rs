//! What the CLI's tests share: running the binary as a user would, without the machine's CI
//! variables; its output as text; and other projects' tools installed by
//! `.ci/install-verifiers.sh DIR` (found through `CAVRA_VERIFIERS=DIR`).

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs cavra in `dir` on a fixed day, with no CI variables from the machine.
pub fn cavra(dir: &Path, args: &[&str]) -> Output {
    cavra_with(dir, args, &[])
}

/// Runs cavra in `dir` with only `vars` beside `PATH`, `HOME` and `TMPDIR`, on a fixed day
/// (`CAVRA_TODAY=2026-11-23`).
pub fn cavra_with(dir: &Path, args: &[&str], vars: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cavra"));
    cmd.args(args).current_dir(dir).env_clear();
    for keep in ["PATH", "HOME", "TMPDIR"] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    cmd.env("CAVRA_TODAY", "2026-11-23");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("run cavra")
}

/// stdout then stderr, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A tool under `CAVRA_VERIFIERS` (`venv/bin/...`, `js/node_modules/.bin/...`). `None`, with a
/// note, when it is missing; under `CI` a missing tool fails the test.
pub fn tool(relative: &str) -> Option<PathBuf> {
    let found = std::env::var_os("CAVRA_VERIFIERS")
        .map(|dir| PathBuf::from(dir).join(relative))
        .filter(|path| path.is_file());
    if found.is_none() {
        missing(&format!(
            "{relative} is not under CAVRA_VERIFIERS (install it with .ci/install-verifiers.sh DIR)"
        ));
    }
    found
}

/// Skips with a note, or fails under `CI`.
pub fn missing(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what}");
    }
    eprintln!("note: skipped: {what}");
}
