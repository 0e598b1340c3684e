//! The diff analyzer: every change between two git revisions, read with libgit2.
//!
//! [`resolve`] picks the base, head and merge base (from flags, the CI environment, or the
//! default branch); [`ChangeSet::read`] lists every changed entry with its kind, paths, modes,
//! similarity and size; [`ChangeSet::content`] loads one entry's blobs on demand and gives its
//! added and removed lines, so a change of any size is walked one file at a time.

mod change;
mod content;
mod error;
mod path;
mod read;
mod revisions;

pub use change::{Change, ChangeKind, EntryKind, Side};
pub use content::{Blobs, Content, ContentLimits, Line};
pub use error::Error;
pub use path::RepoPath;
pub use read::ChangeSet;
pub use revisions::{Revisions, RevisionsRequest, resolve};
