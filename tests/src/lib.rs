//! Helpers for the end-to-end tests: real git repositories built in temporary directories.

use git2::{Oid, Repository, Signature};
use std::path::{Path, PathBuf};

/// A real git repository in a temporary directory, committed to with libgit2.
pub struct TestRepo {
    dir: tempfile::TempDir,
    /// The repository.
    pub repo: Repository,
}

impl Default for TestRepo {
    fn default() -> Self {
        Self::new()
    }
}

impl TestRepo {
    /// An empty repository whose first branch is `main`.
    pub fn new() -> TestRepo {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(dir.path(), &opts).expect("git init");
        TestRepo { dir, repo }
    }

    /// The working tree.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating directories).
    pub fn write(&self, path: impl AsRef<Path>, content: impl AsRef<[u8]>) -> &Self {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, content).expect("write");
        self
    }

    /// Sets or clears the executable bit.
    pub fn chmod_x(&self, path: impl AsRef<Path>, executable: bool) -> &Self {
        use std::os::unix::fs::PermissionsExt;
        let full = self.path().join(path);
        let mode = if executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(full, std::fs::Permissions::from_mode(mode)).expect("chmod");
        self
    }

    /// Creates a symlink `path` -> `target`.
    pub fn symlink(&self, path: impl AsRef<Path>, target: &str) -> &Self {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        let _ = std::fs::remove_file(&full);
        std::os::unix::fs::symlink(target, full).expect("symlink");
        self
    }

    /// Removes a file.
    pub fn remove(&self, path: impl AsRef<Path>) -> &Self {
        std::fs::remove_file(self.path().join(path)).expect("rm");
        self
    }

    /// Renames a file.
    pub fn rename(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> &Self {
        let to = self.path().join(to);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::rename(self.path().join(from), to).expect("mv");
        self
    }

    /// Stages everything (adds, changes, removals) and commits on the current branch.
    pub fn commit(&self, message: &str) -> Oid {
        let mut index = self.repo.index().expect("index");
        index
            .add_all(
                ["*"],
                git2::IndexAddOption::DEFAULT | git2::IndexAddOption::FORCE,
                None,
            )
            .expect("add");
        index.update_all(["*"], None).expect("update");
        self.commit_index(&mut index, message)
    }

    /// Writes `index` and commits its tree on the current branch.
    fn commit_index(&self, index: &mut git2::Index, message: &str) -> Oid {
        index.write().expect("write index");
        let tree = self
            .repo
            .find_tree(index.write_tree().expect("tree"))
            .expect("tree");
        self.commit_tree(&tree, message)
    }

    /// Commits `tree` on the current branch.
    pub fn commit_tree(&self, tree: &git2::Tree<'_>, message: &str) -> Oid {
        let sig = Signature::new(
            "Test",
            "test@example.com",
            &git2::Time::new(1_700_000_000, 0),
        )
        .expect("sig");
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, tree, &parents)
            .expect("commit")
    }

    /// Adds a submodule-style gitlink entry `path` -> `commit` to the index and commits.
    pub fn commit_gitlink(&self, path: &str, commit: Oid, message: &str) -> Oid {
        let mut index = self.repo.index().expect("index");
        let entry = git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o160000,
            uid: 0,
            gid: 0,
            file_size: 0,
            id: commit,
            flags: path.len() as u16,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        };
        index.add(&entry).expect("add gitlink");
        self.commit_index(&mut index, message)
    }

    /// Creates branch `name` at HEAD and checks it out.
    pub fn branch(&self, name: &str) -> &Self {
        let head = self
            .repo
            .head()
            .expect("head")
            .peel_to_commit()
            .expect("commit");
        self.repo.branch(name, &head, false).expect("branch");
        self.repo
            .set_head(&format!("refs/heads/{name}"))
            .expect("set head");
        self
    }

    /// Checks out branch `name`, making the working tree and index match it.
    pub fn checkout(&self, name: &str) -> &Self {
        self.repo
            .set_head(&format!("refs/heads/{name}"))
            .expect("set head");
        self.repo
            .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
            .expect("checkout");
        self
    }

    /// A path inside the working tree.
    pub fn join(&self, path: &str) -> PathBuf {
        self.path().join(path)
    }
}
