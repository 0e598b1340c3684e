//! The policy engine: version-1 YAML policy packs, layered and compiled into one matcher.
//!
//! - [`model`]: what a resolved policy holds (rules, decisions, approvers, exceptions).
//! - [`decode`]: YAML text -> one layer, with `file:line:column` for every error.
//! - [`resolve`]: `extends` chains (built-in packs and files) -> one [`Policy`].
//! - [`builtin`]: the packs embedded in the binary, with their own test cases.
//! - [`engine`]: the compiled matcher; [`Subject`] in, [`Finding`]s out.
//! - [`cases`]: policy unit tests (`input -> expected decision`) that teams write for their packs.

pub mod builtin;
pub mod cases;
mod command;
mod date;
pub mod decode;
pub mod engine;
mod error;
pub mod model;
pub mod resolve;
mod size;

pub use date::Date;
pub use engine::{CommandSubject, Engine, Finding, FindingCommand, Subject};
pub use error::{PolicyError, PolicyErrors};
pub use model::{
    Action, ChangeKind, CommandMatch, Context, Decision, Exception, Mode, Policy, Rule, RuleMatch,
    Severity,
};
pub use resolve::{FileSource, NoFiles, resolve_policy};
