//! The gate: a change set judged by a policy, turned into a verdict.
//!
//! - [`load_policy`]: the policy from the base revision (never the head), or a local file.
//! - [`run_gate`]: revisions -> changes -> subjects -> findings -> [`Verdict`].
//! - [`evaluate_action`]: one agent action judged by the same engine.

mod action;
mod commands;
mod error;
mod judge;
mod policy_source;
mod run;
mod time;
mod verdict;

pub use action::{ActionResult, evaluate_action};
pub use commands::{INJECTION_RULE, UNREADABLE_RULE};
pub use error::GateError;
pub use policy_source::{LoadedPolicy, POLICY_PATHS, load_policy};
pub use run::{GateOptions, run_gate};
pub use time::now_rfc3339;
pub use verdict::{
    Approval, BreakGlassRecord, ChangeReport, Counts, MAX_RESULT_BYTES, PolicyInfo, RevisionInfo,
    SCHEMA_VERSION, Status, ToolInfo, Verdict, is_approved,
};
