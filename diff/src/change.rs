//! One changed entry between base and head.

use crate::RepoPath;

/// What happened to an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// New in head.
    Added,
    /// Content or mode changed in place.
    Modified,
    /// Gone in head.
    Deleted,
    /// Moved (possibly with edits); both paths are known.
    Renamed,
    /// Copied from another path that still exists.
    Copied,
    /// The entry changed type: file <-> symlink <-> submodule.
    TypeChanged,
}

impl ChangeKind {
    /// The lower-case name used in policies and outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified => "modified",
            ChangeKind::Deleted => "deleted",
            ChangeKind::Renamed => "renamed",
            ChangeKind::Copied => "copied",
            ChangeKind::TypeChanged => "type_changed",
        }
    }
}

/// What a tree entry is, from its git mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file (100644).
    File,
    /// An executable file (100755).
    Executable,
    /// A symbolic link (120000); its content is the target.
    Symlink,
    /// A submodule pointer (160000); its id is the commit it points to.
    Submodule,
    /// Anything else (trees do not appear in a file diff).
    Other,
}

impl EntryKind {
    /// The kind for a raw git file mode.
    pub fn from_mode(mode: u32) -> Self {
        match mode {
            0o100644 | 0o100664 => EntryKind::File,
            0o100755 => EntryKind::Executable,
            0o120000 => EntryKind::Symlink,
            0o160000 => EntryKind::Submodule,
            _ => EntryKind::Other,
        }
    }

    /// The lower-case name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Executable => "executable",
            EntryKind::Symlink => "symlink",
            EntryKind::Submodule => "submodule",
            EntryKind::Other => "other",
        }
    }
}

/// One side (old or new) of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    /// The path on this side.
    pub path: RepoPath,
    /// The raw git mode (e.g. 0o100755).
    pub mode: u32,
    /// What the mode says the entry is.
    pub kind: EntryKind,
    /// The blob id (the commit id for a submodule).
    pub oid: git2::Oid,
}

/// One changed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What happened.
    pub kind: ChangeKind,
    /// The base side; `None` when added.
    pub old: Option<Side>,
    /// The head side; `None` when deleted.
    pub new: Option<Side>,
    /// For renames and copies: git's similarity index, 0-100.
    pub similarity: Option<u16>,
}

impl Change {
    /// The path that names this change: the head path, or the base path when deleted.
    pub fn path(&self) -> &RepoPath {
        match (&self.new, &self.old) {
            (Some(new), _) => &new.path,
            (None, Some(old)) => &old.path,
            (None, None) => unreachable!("a change has at least one side"),
        }
    }

    /// The base path when it differs from the head path (renames and copies).
    pub fn old_path(&self) -> Option<&RepoPath> {
        match (&self.old, &self.new) {
            (Some(old), Some(new)) if old.path != new.path => Some(&old.path),
            _ => None,
        }
    }

    /// True when the head side became executable (it was not before, or is new).
    pub fn became_executable(&self) -> bool {
        let now = self
            .new
            .as_ref()
            .is_some_and(|n| n.kind == EntryKind::Executable);
        let before = self
            .old
            .as_ref()
            .is_some_and(|o| o.kind == EntryKind::Executable);
        now && !before
    }

    /// True when the mode changed while the path stayed.
    pub fn mode_changed(&self) -> bool {
        matches!((&self.old, &self.new), (Some(o), Some(n)) if o.mode != n.mode)
    }

    /// The kind of the head side (of the base side when deleted).
    pub fn entry_kind(&self) -> EntryKind {
        self.new
            .as_ref()
            .or(self.old.as_ref())
            .map_or(EntryKind::Other, |s| s.kind)
    }

    /// True when either side is a symlink.
    pub fn involves_symlink(&self) -> bool {
        [&self.old, &self.new]
            .iter()
            .any(|s| s.as_ref().is_some_and(|s| s.kind == EntryKind::Symlink))
    }

    /// True when either side is a submodule.
    pub fn involves_submodule(&self) -> bool {
        [&self.old, &self.new]
            .iter()
            .any(|s| s.as_ref().is_some_and(|s| s.kind == EntryKind::Submodule))
    }
}
