//! The verdict chain: which gate verdict covers each first-parent commit of a release range.
//!
//! A release packet covers a git range `BASE..HEAD`. Every first-parent commit of the range
//! (reachable from `HEAD` by following first parents, and not reachable from `BASE`) must be
//! covered by a passing gate verdict. A gate verdict judged the diff `merge_base..head` of a
//! change (a pull request, a merge-queue entry, a push) and said `pass`, `needs_approval` or
//! `fail`.
//!
//! # Coverage rules
//!
//! Only `pass` verdicts cover. For each first-parent commit C of the range, oldest first:
//!
//! 1. **Direct**: a pass verdict whose `head` is C itself (a commit gated itself: a merge-queue
//!    or `merge_group` commit, a fast-forward to a gated head, a direct push gated on the
//!    branch). None of the verdict's objects need to be in the repository.
//! 2. **Merge**: C has two or more parents, a pass verdict's `head` is C's second parent P (the
//!    head the merge brought in), and the merge introduced nothing the verdict did not judge:
//!    every path changed between C's first parent and C is among the paths changed by the
//!    verdict's judged diff (`merge_base..head`) and has, in C, the same blob id and file mode
//!    as in P (no "evil merge", no conflict resolution that differs from the judged head).
//! 3. **Squash** and **Rebase**: a run of consecutive first-parent commits `C_i..=C_j` whose
//!    combined diff (from the first parent of `C_i` to `C_j`) is exactly the verdict's judged
//!    diff: the same set of changed paths, each with the same resulting blob id and file mode
//!    (a path deleted by one is deleted by the other). A run of one commit is a **Squash**, a
//!    run of several a **Rebase**; every commit of the run gets the same verdict. This needs the
//!    verdict's `head` and `merge_base` commits in the repository (fetched pull request refs);
//!    without them only rule 1 applies to that verdict. A run is at most 256 commits long, and
//!    starts at a commit not covered by rules 1 and 2 (it may extend over covered commits,
//!    which keep their coverage: a fast-forward to a gated head covers the head directly and
//!    the commits before it as a rebase run).
//!
//! Diffs are tree-to-tree, without rename detection (a rename is a deletion and an addition),
//! and compare each path's blob id and mode, submodule gitlinks included.
//!
//! Rules are tried in that order (Direct, then Merge, then runs), and verdicts in the order
//! given, so the result is deterministic. A verdict may cover several commits (duplicates, or
//! a run).
//!
//! A commit that no rule covers is **Uncovered**, with a reason for people: a merge whose pass
//! verdict names the path the merge got wrong, a commit that only a `fail` or `needs_approval`
//! verdict would have covered under rules 1 to 3 names that verdict, and otherwise "no verdict
//! for this commit".

use git2::{Delta, DiffOptions, ErrorCode, Oid, Repository, Tree};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// A gate verdict as the chain needs it (already signature-verified by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateVerdict {
    /// The commit the verdict judged (40 hex digits).
    pub head: String,
    /// The commit the judged diff starts at (40 hex digits).
    pub merge_base: String,
    /// `"pass"`, `"needs_approval"` or `"fail"`; only `"pass"` covers.
    pub verdict: String,
}

/// How a commit is covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    /// A pass verdict judged this very commit.
    Direct,
    /// A merge commit whose second parent has a pass verdict, and which changed nothing else.
    Merge,
    /// A single commit whose diff is exactly a pass verdict's judged diff.
    Squash,
    /// One of several consecutive commits whose combined diff is a pass verdict's judged diff.
    Rebase,
    /// Nothing covers this commit.
    Uncovered,
}

/// One first-parent commit of the range and what covers it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitCoverage {
    /// The commit (40 hex digits).
    pub commit: String,
    /// The covering verdict's `head`; `None` when uncovered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// How the commit is covered.
    pub how: How,
    /// Why the commit is uncovered, for people; set only when `how` is [`How::Uncovered`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Why a range could not be read or covered.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The range is not `BASE..HEAD`.
    #[error("bad range `{spec}`: {why} (expected BASE..HEAD)")]
    BadRange {
        /// The range as given.
        spec: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A revision of the range does not name a commit of the repository.
    #[error("unknown revision `{rev}`: {source}")]
    UnknownRevision {
        /// The revision as given.
        rev: String,
        /// What git said.
        #[source]
        source: git2::Error,
    },
    /// The range has more first-parent commits than [`MAX_RANGE_COMMITS`].
    #[error("range {base}..{head} has more than {max} first-parent commits")]
    RangeTooLong {
        /// The range's base as given.
        base: String,
        /// The range's head as given.
        head: String,
        /// The limit.
        max: usize,
    },
    /// Reading the repository failed.
    #[error("{context}: {source}")]
    Git {
        /// What was being done.
        context: String,
        /// What git said.
        #[source]
        source: git2::Error,
    },
}

/// Upper bound on the commits of a range.
pub const MAX_RANGE_COMMITS: usize = 10_000;

/// Upper bound on the commits of one squash or rebase run.
const MAX_RUN_COMMITS: usize = 256;

/// A resolved range: its ends and its first-parent commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// The base, resolved to a commit id (40 hex digits).
    pub base: String,
    /// The head, resolved to a commit id (40 hex digits).
    pub head: String,
    /// The first-parent commits reachable from `head` and not from `base`, oldest first.
    pub commits: Vec<String>,
}

/// Parses `"BASE..HEAD"` (both non-empty revspecs, exactly one `..`, no `...`) into
/// `(base, head)`.
pub fn parse_range(spec: &str) -> Result<(String, String), ChainError> {
    let bad = |why| ChainError::BadRange {
        spec: spec.to_string(),
        why,
    };
    if spec.contains("...") {
        return Err(bad("`...` (symmetric difference) is not a release range"));
    }
    let mut parts = spec.split("..");
    let (Some(base), Some(head), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("it needs exactly one `..`"));
    };
    if base.trim().is_empty() {
        return Err(bad("the base is empty"));
    }
    if head.trim().is_empty() {
        return Err(bad("the head is empty"));
    }
    if base.trim() != base || head.trim() != head {
        return Err(bad("revisions may not start or end with whitespace"));
    }
    Ok((base.to_string(), head.to_string()))
}

/// Wraps a git error with what was being done.
fn git_err(context: impl Into<String>) -> impl FnOnce(git2::Error) -> ChainError {
    let context = context.into();
    move |source| ChainError::Git { context, source }
}

/// Resolves a revision to a commit.
fn resolve<'r>(repo: &'r Repository, rev: &str) -> Result<git2::Commit<'r>, ChainError> {
    let unknown = |source| ChainError::UnknownRevision {
        rev: rev.to_string(),
        source,
    };
    repo.revparse_single(rev)
        .map_err(unknown)?
        .peel_to_commit()
        .map_err(unknown)
}

/// Whether `ancestor` is `of` or one of its ancestors.
fn is_ancestor(repo: &Repository, ancestor: Oid, of: Oid) -> Result<bool, ChainError> {
    if ancestor == of {
        return Ok(true);
    }
    repo.graph_descendant_of(of, ancestor)
        .map_err(git_err(format!(
            "checking whether {ancestor} is an ancestor of {of}"
        )))
}

/// The first-parent commits reachable from head and not from base, oldest first, as 40-hex ids
/// (also returns resolved base and head ids). Errors over [`MAX_RANGE_COMMITS`].
pub fn first_parent_commits(
    repo: &Repository,
    base: &str,
    head: &str,
) -> Result<Range, ChainError> {
    let base_commit = resolve(repo, base)?;
    let head_commit = resolve(repo, head)?;
    let base_id = base_commit.id();
    let head_id = head_commit.id();
    let stop = match repo.merge_base(base_id, head_id) {
        Ok(id) => Some(id),
        Err(e) if e.code() == ErrorCode::NotFound => None,
        Err(e) => return Err(git_err(format!("merge base of {base} and {head}"))(e)),
    };
    // Follow first parents from the head until the base, the merge base (both reachable from
    // the base), or the root; at most one commit past the limit.
    let mut chain: Vec<Oid> = Vec::new();
    let mut at = Some(head_commit);
    while let Some(commit) = at.take() {
        let id = commit.id();
        if id == base_id || Some(id) == stop || chain.len() > MAX_RANGE_COMMITS {
            break;
        }
        chain.push(id);
        if commit.parent_count() > 0 {
            at = Some(
                commit
                    .parent(0)
                    .map_err(git_err(format!("reading the first parent of {id}")))?,
            );
        }
    }
    // The chain's commits reachable from the base form a suffix (an ancestor's first parent is
    // an ancestor too), e.g. when the base was merged in through a second parent: find where.
    let (mut lo, mut hi) = (0, chain.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if is_ancestor(repo, chain[mid], base_id)? {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    if lo > MAX_RANGE_COMMITS {
        return Err(ChainError::RangeTooLong {
            base: base.to_string(),
            head: head.to_string(),
            max: MAX_RANGE_COMMITS,
        });
    }
    chain.truncate(lo);
    chain.reverse();
    Ok(Range {
        base: base_id.to_string(),
        head: head_id.to_string(),
        commits: chain.iter().map(Oid::to_string).collect(),
    })
}

/// A path's blob (or gitlink) id and file mode; `None` when the path is absent.
type State = Option<(Oid, i32)>;

/// The paths a diff changes, each with its state before and after.
type Changes = BTreeMap<Vec<u8>, (State, State)>;

/// The changes from `old` (none: the empty tree) to `new`, without rename detection.
fn changes(
    repo: &Repository,
    old: Option<&Tree<'_>>,
    new: &Tree<'_>,
    what: &str,
) -> Result<Changes, ChainError> {
    let mut opts = DiffOptions::new();
    opts.include_typechange(true).ignore_submodules(false);
    let diff = repo
        .diff_tree_to_tree(old, Some(new), Some(&mut opts))
        .map_err(git_err(format!("diffing {what}")))?;
    let mut out = Changes::new();
    for delta in diff.deltas() {
        let state = |file: git2::DiffFile<'_>, absent: bool| -> State {
            (!absent).then(|| (file.id(), i32::from(file.mode())))
        };
        let old = state(delta.old_file(), delta.status() == Delta::Added);
        let new = state(delta.new_file(), delta.status() == Delta::Deleted);
        let path = delta
            .new_file()
            .path_bytes()
            .or_else(|| delta.old_file().path_bytes())
            .unwrap_or_default()
            .to_vec();
        out.insert(path, (old, new));
    }
    Ok(out)
}

/// The paths of `changes` whose state differs.
fn changed(changes: &Changes) -> impl Iterator<Item = &Vec<u8>> {
    changes
        .iter()
        .filter(|(_, (old, new))| old != new)
        .map(|(path, _)| path)
}

/// A path for people.
fn show(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

/// What a commit is covered by, while working it out.
#[derive(Clone)]
enum Cover {
    /// By verdict `verdict` (an index into the verdicts), in that way.
    By(How, usize),
    /// Not covered (yet), with the reason if one is known.
    Not(Option<String>),
}

/// The commits of a range, the verdicts, and the diffs worked out so far.
struct Chain<'r, 'v> {
    repo: &'r Repository,
    commits: Vec<git2::Commit<'r>>,
    verdicts: &'v [GateVerdict],
    /// Each commit's first-parent diff, once computed.
    commit_changes: Vec<Option<Rc<Changes>>>,
    /// Each (merge base, head)'s judged diff, once computed; `None` when not in the repository.
    judged: HashMap<(String, String), Option<Rc<Changes>>>,
}

/// Finds a commit, or `None` when the id is malformed or the commit is not in the repository.
fn find_commit<'r>(repo: &'r Repository, id: &str) -> Result<Option<git2::Commit<'r>>, ChainError> {
    let Ok(oid) = Oid::from_str(id) else {
        return Ok(None);
    };
    if id.len() != 40 {
        return Ok(None);
    }
    match repo.find_commit(oid) {
        Ok(commit) => Ok(Some(commit)),
        Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::Invalid) => Ok(None),
        Err(e) => Err(git_err(format!("reading commit {id}"))(e)),
    }
}

impl<'r, 'v> Chain<'r, 'v> {
    /// The first-parent diff of commit `i`.
    fn commit_changes(&mut self, i: usize) -> Result<Rc<Changes>, ChainError> {
        if let Some(done) = &self.commit_changes[i] {
            return Ok(done.clone());
        }
        let commit = &self.commits[i];
        let id = commit.id();
        let tree = commit
            .tree()
            .map_err(git_err(format!("reading the tree of {id}")))?;
        let parent_tree = if commit.parent_count() > 0 {
            let parent = commit
                .parent(0)
                .map_err(git_err(format!("reading the first parent of {id}")))?;
            Some(
                parent
                    .tree()
                    .map_err(git_err(format!("reading the tree of {}", parent.id())))?,
            )
        } else {
            None
        };
        let done = Rc::new(changes(
            self.repo,
            parent_tree.as_ref(),
            &tree,
            &format!("commit {id}"),
        )?);
        self.commit_changes[i] = Some(done.clone());
        Ok(done)
    }

    /// The diff verdict `v` judged, or `None` when its commits are not in the repository.
    fn judged(&mut self, v: usize) -> Result<Option<Rc<Changes>>, ChainError> {
        let verdict = &self.verdicts[v];
        let key = (
            verdict.merge_base.to_ascii_lowercase(),
            verdict.head.to_ascii_lowercase(),
        );
        if let Some(done) = self.judged.get(&key) {
            return Ok(done.clone());
        }
        let done = match (
            find_commit(self.repo, &key.0)?,
            find_commit(self.repo, &key.1)?,
        ) {
            (Some(base), Some(head)) => {
                let tree = |c: &git2::Commit<'r>| {
                    c.tree()
                        .map_err(git_err(format!("reading the tree of {}", c.id())))
                };
                Some(Rc::new(changes(
                    self.repo,
                    Some(&tree(&base)?),
                    &tree(&head)?,
                    &format!("the judged diff {}..{}", key.0, key.1),
                )?))
            }
            _ => None,
        };
        self.judged.insert(key, done.clone());
        Ok(done)
    }

    /// The verdicts whose head is `id`, in the order given.
    fn verdicts_for(&self, id: Oid) -> Vec<usize> {
        let id = id.to_string();
        (0..self.verdicts.len())
            .filter(|&v| self.verdicts[v].head.eq_ignore_ascii_case(&id))
            .collect()
    }

    /// Whether merge commit `i` brought in only what verdict `v` (on its second parent) judged;
    /// `Err(reason)` when not.
    fn merge_ok(&mut self, i: usize, v: usize) -> Result<Result<(), String>, ChainError> {
        let commit = self.commits[i].clone();
        let second = commit.parent(1).map_err(git_err(format!(
            "reading the second parent of {}",
            commit.id()
        )))?;
        let p = second.id();
        let kind = &self.verdicts[v].verdict;
        let Some(judged) = self.judged(v)? else {
            return Ok(Err(format!(
                "merge of {p} whose `{kind}` verdict's merge base {} is not in the repository",
                self.verdicts[v].merge_base
            )));
        };
        let tree = |c: &git2::Commit<'r>| {
            c.tree()
                .map_err(git_err(format!("reading the tree of {}", c.id())))
        };
        let against_head = changes(
            self.repo,
            Some(&tree(&second)?),
            &tree(&commit)?,
            &format!("merge {} against its second parent", commit.id()),
        )?;
        let introduced = self.commit_changes(i)?;
        for path in changed(&introduced) {
            if !judged.contains_key(path) {
                return Ok(Err(format!(
                    "merge of {p} whose verdict is `{kind}`, but path `{}` is not in the judged \
                     diff",
                    show(path)
                )));
            }
            if against_head.get(path).is_some_and(|(old, new)| old != new) {
                return Ok(Err(format!(
                    "merge of {p} whose verdict is `{kind}`, but path `{}` differs from the \
                     judged head",
                    show(path)
                )));
            }
        }
        Ok(Ok(()))
    }

    /// The first of `candidates` (verdict indices) with a run starting at commit `i` whose
    /// combined diff is its judged diff: `(last commit of the run, verdict)`.
    fn find_run(
        &mut self,
        i: usize,
        candidates: &[usize],
    ) -> Result<Option<(usize, usize)>, ChainError> {
        let first = self.commit_changes(i)?;
        if changed(&first).next().is_none() {
            return Ok(None);
        }
        for &v in candidates {
            let Some(judged) = self.judged(v)? else {
                continue;
            };
            if !changed(&first).all(|path| judged.contains_key(path)) {
                continue;
            }
            let mut combined = Changes::new();
            let end = self.commits.len().min(i + MAX_RUN_COMMITS);
            for j in i..end {
                let step = self.commit_changes(j)?;
                let mut subset = true;
                for (path, (old, new)) in step.iter() {
                    let entry = combined.entry(path.clone()).or_insert((*old, *new));
                    entry.1 = *new;
                    if entry.0 != entry.1 && !judged.contains_key(path) {
                        subset = false;
                    }
                }
                if !subset {
                    break;
                }
                let same = changed(&combined).count() == judged.len()
                    && judged.iter().all(|(path, (_, new))| {
                        combined.get(path).is_some_and(|(o, n)| o != n && n == new)
                    });
                if same {
                    return Ok(Some((j, v)));
                }
            }
        }
        Ok(None)
    }

    /// Covers the commits not yet covered with runs of `candidates`, calling `mark` on each
    /// uncovered commit of a run found with (its index, the run's length, the verdict).
    fn runs(
        &mut self,
        covers: &[Cover],
        candidates: &[usize],
        mut mark: impl FnMut(usize, usize, usize),
    ) -> Result<(), ChainError> {
        let mut i = 0;
        while i < self.commits.len() {
            if !matches!(covers[i], Cover::Not(None)) {
                i += 1;
                continue;
            }
            match self.find_run(i, candidates)? {
                Some((j, v)) => {
                    for (k, cover) in covers.iter().enumerate().take(j + 1).skip(i) {
                        if matches!(cover, Cover::Not(None)) {
                            mark(k, j - i + 1, v);
                        }
                    }
                    i = j + 1;
                }
                None => i += 1,
            }
        }
        Ok(())
    }
}

/// Which verdict covers each commit, in the order of `range.commits`; see the module
/// documentation for the rules.
pub fn cover(
    repo: &Repository,
    range: &Range,
    verdicts: &[GateVerdict],
) -> Result<Vec<CommitCoverage>, ChainError> {
    let commits = range
        .commits
        .iter()
        .map(|id| {
            let oid = Oid::from_str(id).map_err(git_err(format!("parsing commit id `{id}`")))?;
            repo.find_commit(oid)
                .map_err(git_err(format!("reading commit {id}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let n = commits.len();
    let mut chain = Chain {
        repo,
        commits,
        verdicts,
        commit_changes: vec![None; n],
        judged: HashMap::new(),
    };
    let is_pass = |v: &usize| verdicts[*v].verdict == "pass";
    let pass: Vec<usize> = (0..verdicts.len()).filter(is_pass).collect();
    let other: Vec<usize> = (0..verdicts.len()).filter(|v| !is_pass(v)).collect();
    let mut covers = vec![Cover::Not(None); n];
    // Notes on why a commit is not covered, found on the way; the first one wins.
    let mut notes: Vec<Option<String>> = vec![None; n];

    // 1. Direct.
    for (i, cover) in covers.iter_mut().enumerate() {
        if let Some(&v) = chain
            .verdicts_for(chain.commits[i].id())
            .iter()
            .find(|v| is_pass(v))
        {
            *cover = Cover::By(How::Direct, v);
        }
    }
    // 2. Merge.
    for i in 0..n {
        if !matches!(covers[i], Cover::Not(None)) || chain.commits[i].parent_count() < 2 {
            continue;
        }
        let second = chain.commits[i].parent_id(1).map_err(git_err(format!(
            "reading the second parent of {}",
            chain.commits[i].id()
        )))?;
        for v in chain.verdicts_for(second) {
            if !is_pass(&v) {
                continue;
            }
            match chain.merge_ok(i, v)? {
                Ok(()) => {
                    covers[i] = Cover::By(How::Merge, v);
                    break;
                }
                Err(reason) => {
                    notes[i].get_or_insert(reason);
                }
            }
        }
    }
    // 3. Squash and rebase runs.
    let mut found = Vec::new();
    chain.runs(&covers, &pass, |k, len, v| found.push((k, len, v)))?;
    for (k, len, v) in found {
        let how = if len == 1 { How::Squash } else { How::Rebase };
        covers[k] = Cover::By(how, v);
    }

    // Reasons: which non-pass verdict would have covered an uncovered commit.
    let only = |v: usize| {
        format!(
            "only a `{}` verdict (head {})",
            verdicts[v].verdict, verdicts[v].head
        )
    };
    for i in 0..n {
        if !matches!(covers[i], Cover::Not(None)) {
            continue;
        }
        if let Some(&v) = chain
            .verdicts_for(chain.commits[i].id())
            .iter()
            .find(|v| !is_pass(v))
        {
            notes[i].get_or_insert(only(v));
            continue;
        }
        if chain.commits[i].parent_count() >= 2 {
            let second = chain.commits[i].parent_id(1).map_err(git_err(format!(
                "reading the second parent of {}",
                chain.commits[i].id()
            )))?;
            for v in chain.verdicts_for(second) {
                if !is_pass(&v) && chain.merge_ok(i, v)?.is_ok() {
                    notes[i].get_or_insert(only(v));
                    break;
                }
            }
        }
    }
    let open: Vec<Cover> = (0..n)
        .map(|i| match (&covers[i], &notes[i]) {
            (Cover::Not(None), Some(note)) => Cover::Not(Some(note.clone())),
            (cover, _) => cover.clone(),
        })
        .collect();
    let mut found = Vec::new();
    chain.runs(&open, &other, |k, _, v| found.push((k, v)))?;
    for (k, v) in found {
        notes[k].get_or_insert(only(v));
    }

    Ok(covers
        .into_iter()
        .enumerate()
        .map(|(i, cover)| {
            let commit = chain.commits[i].id().to_string();
            match cover {
                Cover::By(how, v) => CommitCoverage {
                    commit,
                    verdict: Some(verdicts[v].head.to_ascii_lowercase()),
                    how,
                    reason: None,
                },
                Cover::Not(_) => CommitCoverage {
                    commit,
                    verdict: None,
                    how: How::Uncovered,
                    reason: Some(
                        notes[i]
                            .take()
                            .unwrap_or_else(|| "no verdict for this commit".to_string()),
                    ),
                },
            }
        })
        .collect())
}
