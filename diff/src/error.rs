//! Errors of the diff analyzer.

/// What went wrong while reading the change.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not inside a git repository.
    #[error("not a git repository ({path}): {source}")]
    NotARepository {
        /// Where we looked.
        path: String,
        /// libgit2's reason.
        source: git2::Error,
    },
    /// A revision name that does not resolve to a commit.
    #[error("cannot resolve {what} revision `{spec}`: {reason}{hint}")]
    UnknownRevision {
        /// `base` or `head`.
        what: &'static str,
        /// The name as given.
        spec: String,
        /// libgit2's reason.
        reason: String,
        /// How to fix it (fetch depth) where that applies.
        hint: String,
    },
    /// Base and head share no history in this clone.
    #[error("no merge base between base {base} and head {head}{hint}")]
    NoMergeBase {
        /// Base commit.
        base: String,
        /// Head commit.
        head: String,
        /// How to fix it (fetch depth) where that applies.
        hint: String,
    },
    /// An object the diff needs is not in the clone.
    #[error("object {oid} needed for {path} is missing from this clone{hint}")]
    MissingObject {
        /// The missing object id.
        oid: String,
        /// The path that refers to it.
        path: String,
        /// How to fix it.
        hint: String,
    },
    /// No base could be chosen.
    #[error("cannot choose a base revision: {0}")]
    NoBase(String),
    /// Any other libgit2 failure.
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

/// The advice for a shallow or partial clone.
pub(crate) fn fetch_hint(shallow: bool) -> String {
    if shallow {
        "\n  this is a shallow clone: fetch the full history (`fetch-depth: 0` in actions/checkout, \
         `GIT_DEPTH: 0` in GitLab, `fetchDepth: 0` in Azure Pipelines) or deepen it with \
         `git fetch --deepen=200` / `git fetch --unshallow`"
            .to_string()
    } else {
        "\n  fetch it first, e.g. `git fetch origin <branch-or-sha>`".to_string()
    }
}
