//! Exit codes: one meaning each, documented in the README and in `cavra --help`.

/// The gate passed (or an action is allowed, or a check succeeded).
pub const PASS: u8 = 0;
/// The gate failed: a `deny` finding (or a blocked action, or failing policy tests).
pub const FAIL: u8 = 1;
/// The gate needs approval from the listed groups.
pub const NEEDS_APPROVAL: u8 = 2;
/// The command line or the policy is wrong (file:line:column printed).
pub const USAGE: u8 = 3;
/// The environment failed: missing commits, unreadable repository, I/O.
pub const OPERATIONAL: u8 = 4;
