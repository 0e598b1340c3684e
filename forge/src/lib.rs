//! Posts a gate verdict to a forge, so every pipeline reports the same verdict the same way:
//!
//! - [`github`]: a check run with annotations (or a commit status), the step summary and
//!   workflow-command annotations;
//! - [`gitlab`]: the `cavra/gate` commit status and one merge-request note, updated in place;
//! - [`azure`]: a pull-request status (`cavra/gate`) and one pull-request thread.
//!
//! What is shown (title, Markdown summary, annotations) and how text is cut to a forge's limits
//! is [`present`]; how requests are retried is [`retry`]; tokens are [`Token`]s, which never
//! print. Shared within the crate: reading CI variables and checking API URLs (`config`), and
//! the blocking HTTP exchange of GitLab and Azure DevOps (`http`).

pub mod azure;
mod config;
pub mod error;
pub mod github;
pub mod gitlab;
mod http;
pub mod present;
pub mod retry;
pub mod token;

pub use error::ForgeError;
pub use token::Token;

/// What a report did, for the command's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// One line per object created or updated, e.g. `check run 42 (failure, 120 annotations)`.
    pub actions: Vec<String>,
    /// A link to what was posted, when the forge gives one.
    pub url: Option<String>,
}

/// The name every forge shows: the status context (`cavra/gate`), check run name, etc.
pub const STATUS_NAME: &str = "cavra/gate";
