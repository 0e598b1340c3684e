//! Reading the list of changes between two trees.

use crate::change::{Change, ChangeKind, EntryKind, Side};
use crate::content::{self, Blobs, Content, ContentLimits};
use crate::{Error, RepoPath, Revisions};
use git2::{Delta, DiffFindOptions, DiffOptions, Repository};

/// Every change between the merge base and the head, in git's path order.
#[derive(Debug)]
pub struct ChangeSet {
    /// The revisions compared.
    pub revisions: Revisions,
    /// The changed entries.
    pub changes: Vec<Change>,
}

/// Past this many added and deleted files, git itself skips inexact rename detection;
/// we use the same bound as `git diff` (`diff.renameLimit`).
const RENAME_LIMIT: usize = 1000;

impl ChangeSet {
    /// Lists the changes from `revisions.merge_base` to `revisions.head`.
    pub fn read(repo: &Repository, revisions: Revisions) -> Result<ChangeSet, Error> {
        // git does not re-hash objects it reads; libgit2 does by default, which costs a fifth of
        // the gate's time on large changes. Objects come from the local object store.
        git2::opts::strict_hash_verification(false);
        let old_tree = repo.find_commit(revisions.merge_base)?.tree()?;
        let new_tree = repo.find_commit(revisions.head)?.tree()?;
        let mut opts = DiffOptions::new();
        opts.include_typechange(true)
            .ignore_submodules(false)
            .skip_binary_check(true);
        let mut diff = repo.diff_tree_to_tree(Some(&old_tree), Some(&new_tree), Some(&mut opts))?;
        let mut find = DiffFindOptions::new();
        find.renames(true)
            .copies(true)
            .rename_limit(RENAME_LIMIT)
            .rename_threshold(50)
            .copy_threshold(50);
        diff.find_similar(Some(&mut find))?;

        let mut changes = Vec::with_capacity(diff.deltas().len());
        for (idx, delta) in diff.deltas().enumerate() {
            let kind = match delta.status() {
                Delta::Added => ChangeKind::Added,
                Delta::Deleted => ChangeKind::Deleted,
                Delta::Modified => ChangeKind::Modified,
                Delta::Renamed => ChangeKind::Renamed,
                Delta::Copied => ChangeKind::Copied,
                Delta::Typechange => ChangeKind::TypeChanged,
                _ => continue,
            };
            let side = |file: git2::DiffFile<'_>| -> Option<Side> {
                let mode = u32::from(file.mode());
                if file.id().is_zero() || mode == 0 {
                    return None;
                }
                Some(Side {
                    path: RepoPath::new(file.path_bytes().unwrap_or_default()),
                    mode,
                    kind: EntryKind::from_mode(mode),
                    oid: file.id(),
                })
            };
            let old = side(delta.old_file());
            let new = side(delta.new_file());
            if old.is_none() && new.is_none() {
                continue;
            }
            let similarity = matches!(kind, ChangeKind::Renamed | ChangeKind::Copied)
                .then(|| similarity(&diff, idx));
            changes.push(Change {
                kind,
                old,
                new,
                similarity,
            });
        }
        Ok(ChangeSet { revisions, changes })
    }

    /// Reads the blobs of one change (the git half of [`ChangeSet::content`]).
    pub fn blobs(
        repo: &Repository,
        change: &Change,
        limits: &ContentLimits,
    ) -> Result<Blobs, Error> {
        content::read_blobs(repo, change, limits)
    }

    /// Reads the blobs of one change and diffs them line by line.
    pub fn content(
        repo: &Repository,
        change: &Change,
        limits: &ContentLimits,
    ) -> Result<Content, Error> {
        Ok(Content::from_blobs(
            Self::blobs(repo, change, limits)?,
            limits,
        ))
    }
}

/// git's similarity index for delta `idx`; git2 does not expose it.
fn similarity(diff: &git2::Diff<'_>, idx: usize) -> u16 {
    use git2::Binding;
    // SAFETY: `idx` comes from enumerating this diff's deltas, so it is in range, and the
    // returned pointer lives as long as `diff`, which we borrow for the whole read.
    unsafe {
        let delta = libgit2_sys::git_diff_get_delta(diff.raw(), idx);
        if delta.is_null() {
            0
        } else {
            (*delta).similarity
        }
    }
}
