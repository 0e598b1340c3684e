//! The verdict chain on real repositories: direct, merge, squash and rebase coverage, and the
//! commits nothing covers, with their reasons.

use cavra_release::chain::{
    ChainError, CommitCoverage, GateVerdict, How, MAX_RANGE_COMMITS, cover, first_parent_commits,
    parse_range,
};
use cavra_testkit::git_http::{commit, git};
use cavra_tests::TestRepo;
use std::io::Write;
use std::process::{Command, Stdio};

/// A commit id that is in no repository.
const MISSING_A: &str = "0123456789abcdef0123456789abcdef01234567";
const MISSING_B: &str = "fedcba9876543210fedcba9876543210fedcba98";

fn verdict(kind: &str, head: &str, merge_base: &str) -> GateVerdict {
    GateVerdict {
        head: head.to_string(),
        merge_base: merge_base.to_string(),
        verdict: kind.to_string(),
    }
}

fn pass(head: &str, merge_base: &str) -> GateVerdict {
    verdict("pass", head, merge_base)
}

/// The coverage of `base..head`.
fn coverage(t: &TestRepo, base: &str, head: &str, verdicts: &[GateVerdict]) -> Vec<CommitCoverage> {
    let range = first_parent_commits(&t.repo, base, head).expect("range");
    let covered = cover(&t.repo, &range, verdicts).expect("cover");
    assert_eq!(
        covered.iter().map(|c| c.commit.clone()).collect::<Vec<_>>(),
        range.commits,
        "one coverage per commit, in order"
    );
    covered
}

fn rev(t: &TestRepo, name: &str) -> String {
    git(t.path(), &["rev-parse", name])
}

/// Ten lines, the `n`th replaced by `line`.
fn lines(n: usize, line: &str) -> String {
    (1..=10)
        .map(|i| {
            if i == n {
                format!("{line}\n")
            } else {
                format!("line {i}\n")
            }
        })
        .collect()
}

/// A repository on `main` with `a.txt` and `c.txt`; the first commit.
fn start() -> (TestRepo, String) {
    let t = TestRepo::new();
    let base = commit(
        t.path(),
        &[("a.txt", &lines(0, "")), ("c.txt", "c\n")],
        "base",
    );
    (t, base)
}

fn assert_covered(c: &CommitCoverage, how: How, verdict: &str) {
    assert_eq!(c.how, how, "{c:?}");
    assert_eq!(c.verdict.as_deref(), Some(verdict), "{c:?}");
    assert_eq!(c.reason, None, "{c:?}");
}

fn assert_uncovered(c: &CommitCoverage) -> &str {
    assert_eq!(c.how, How::Uncovered, "{c:?}");
    assert_eq!(c.verdict, None, "{c:?}");
    c.reason.as_deref().expect("a reason")
}

/// `main` after base: a pull request `pr` of two commits (b.txt, then a.txt), main moved on in
/// c.txt, then `git merge --no-ff pr` (not committed when `commit_merge` is false).
/// (pr head, main's commit, merge commit if made).
fn merged(commit_merge: bool) -> (TestRepo, String, String, String) {
    let (t, base) = start();
    git(t.path(), &["checkout", "-q", "-b", "pr"]);
    commit(t.path(), &[("b.txt", "b\n")], "pr 1");
    let pr = commit(t.path(), &[("a.txt", &lines(1, "pr"))], "pr 2");
    git(t.path(), &["checkout", "-q", "main"]);
    let moved = commit(t.path(), &[("c.txt", "c moved\n")], "main moves on");
    let mut args = vec!["merge", "-q", "--no-ff", "-m", "Merge pr"];
    if !commit_merge {
        args.push("--no-commit");
    }
    args.push("pr");
    git(t.path(), &args);
    (t, base, pr, moved)
}

#[test]
fn a_verdict_on_the_commit_itself_covers_it_directly() {
    let t = TestRepo::new();
    let base = t.write("a.txt", "1").commit("base").to_string();
    let one = t.write("a.txt", "2").commit("one").to_string();
    let two = t.write("b.txt", "b").commit("two").to_string();
    let covered = coverage(
        &t,
        &base,
        "main",
        &[
            pass(&two, &one),
            verdict("fail", &one, &base),
            pass(&one, &base),
        ],
    );
    assert_eq!(covered.len(), 2);
    assert_eq!(covered[0].commit, one);
    assert_covered(&covered[0], How::Direct, &one);
    assert_covered(&covered[1], How::Direct, &two);
}

#[test]
fn a_merge_commit_is_covered_by_its_second_parents_verdict() {
    let (t, base, pr, moved) = merged(true);
    let merge = rev(&t, "main");
    let covered = coverage(&t, &base, "main", &[pass(&pr, &base), pass(&moved, &base)]);
    assert_eq!(covered.len(), 2);
    assert_eq!(covered[1].commit, merge);
    assert_covered(&covered[0], How::Direct, &moved);
    assert_covered(&covered[1], How::Merge, &pr);
}

#[test]
fn first_parent_commits_leave_out_the_merged_branch() {
    let (t, base, pr, moved) = merged(true);
    let merge = rev(&t, "main");
    let pr_first = rev(&t, "pr~1");
    let range = first_parent_commits(&t.repo, &base[..12], "main").expect("range");
    assert_eq!(range.base, base);
    assert_eq!(range.head, merge);
    assert_eq!(range.commits, vec![moved.clone(), merge.clone()]);
    assert!(!range.commits.contains(&pr) && !range.commits.contains(&pr_first));
    // From the merged branch's head: only what main added on top of it, on main's side.
    let range = first_parent_commits(&t.repo, "pr", "main").expect("range");
    assert_eq!(range.commits, vec![moved, merge]);
}

#[test]
fn a_merge_bringing_in_an_extra_file_is_uncovered_naming_it() {
    let (t, base, pr, _) = merged(false);
    let merge = commit(t.path(), &[("evil.txt", "sneaked in\n")], "Merge pr");
    let covered = coverage(&t, &base, "main", &[pass(&pr, &base)]);
    assert_eq!(covered[1].commit, merge);
    let reason = assert_uncovered(&covered[1]);
    assert!(reason.contains("evil.txt"), "{reason}");
    assert!(reason.contains(&pr), "{reason}");
    assert!(reason.starts_with("merge of"), "{reason}");
}

#[test]
fn a_merge_resolving_a_judged_file_differently_is_uncovered_naming_it() {
    let (t, base, pr, _) = merged(false);
    commit(t.path(), &[("b.txt", "not what was judged\n")], "Merge pr");
    let covered = coverage(&t, &base, "main", &[pass(&pr, &base)]);
    let reason = assert_uncovered(&covered[1]);
    assert!(reason.contains("`b.txt`"), "{reason}");
    assert!(reason.contains("differs from the judged head"), "{reason}");
}

/// base; `pr` changes a.txt line 1 and adds b.txt (two commits); main changes `main_file` to
/// `main_text`; then `git merge --squash pr` committed. (repo, base, pr head, main's commit,
/// squash commit).
fn squashed(main_file: &str, main_text: &str) -> (TestRepo, String, String, String, String) {
    let (t, base) = start();
    git(t.path(), &["checkout", "-q", "-b", "pr"]);
    commit(t.path(), &[("b.txt", "b\n")], "pr 1");
    let pr = commit(t.path(), &[("a.txt", &lines(1, "pr"))], "pr 2");
    git(t.path(), &["checkout", "-q", "main"]);
    let moved = commit(t.path(), &[(main_file, main_text)], "main moves on");
    git(t.path(), &["merge", "-q", "--squash", "pr"]);
    let squash = commit(t.path(), &[], "Squashed pr");
    (t, base, pr, moved, squash)
}

#[test]
fn a_squash_merge_after_main_moved_on_elsewhere_is_covered_as_squash() {
    let (t, base, pr, moved, squash) = squashed("c.txt", "c moved\n");
    let covered = coverage(&t, &base, "main", &[pass(&pr, &base)]);
    assert_eq!(covered.len(), 2);
    assert_eq!(covered[0].commit, moved);
    assert_eq!(assert_uncovered(&covered[0]), "no verdict for this commit");
    assert_eq!(covered[1].commit, squash);
    assert_covered(&covered[1], How::Squash, &pr);
}

#[test]
fn a_squash_merge_where_main_changed_the_same_file_is_uncovered() {
    let (t, base, pr, moved, squash) = squashed("a.txt", &lines(10, "main"));
    // The squash merged cleanly, but a.txt is not the blob the verdict judged.
    assert_eq!(
        git(t.path(), &["show", &format!("{squash}:a.txt")])
            .lines()
            .last(),
        Some("main")
    );
    let covered = coverage(&t, &base, "main", &[pass(&pr, &base), pass(&moved, &base)]);
    assert_covered(&covered[0], How::Direct, &moved);
    assert_eq!(covered[1].commit, squash);
    let reason = assert_uncovered(&covered[1]);
    assert!(reason.contains("no verdict"), "{reason}");
}

#[test]
fn a_rebase_merge_of_three_commits_is_covered_as_rebase() {
    let (t, base) = start();
    git(t.path(), &["checkout", "-q", "-b", "pr"]);
    let p1 = commit(t.path(), &[("x.txt", "x\n")], "pr 1");
    let p2 = commit(t.path(), &[("y.txt", "y\n")], "pr 2");
    let p3 = commit(t.path(), &[("x.txt", "x again\n")], "pr 3");
    git(t.path(), &["checkout", "-q", "main"]);
    let moved = commit(t.path(), &[("c.txt", "c moved\n")], "main moves on");
    git(t.path(), &["rebase", "-q", "main", "pr"]);
    git(t.path(), &["checkout", "-q", "main"]);
    git(t.path(), &["merge", "-q", "--ff-only", "pr"]);
    let covered = coverage(&t, &base, "main", &[pass(&p3, &base)]);
    assert_eq!(covered.len(), 4);
    assert_eq!(covered[0].commit, moved);
    assert_uncovered(&covered[0]);
    for (c, original) in covered[1..].iter().zip([&p1, &p2, &p3]) {
        assert_ne!(&c.commit, original, "rebased commits are new commits");
        assert_covered(c, How::Rebase, &p3);
    }
    // Without the last commit the run's diff is not the judged one.
    let covered = coverage(&t, &base, "main~1", &[pass(&p3, &base)]);
    assert!(
        covered.iter().all(|c| c.how == How::Uncovered),
        "{covered:?}"
    );
}

#[test]
fn a_fast_forward_covers_the_head_directly_and_the_commits_before_it_as_a_run() {
    let (t, base) = start();
    git(t.path(), &["checkout", "-q", "-b", "pr"]);
    let p1 = commit(t.path(), &[("x.txt", "x\n")], "pr 1");
    let p2 = commit(t.path(), &[("a.txt", &lines(3, "pr"))], "pr 2");
    git(t.path(), &["checkout", "-q", "main"]);
    git(t.path(), &["merge", "-q", "--ff-only", "pr"]);
    let covered = coverage(&t, &base, "main", &[pass(&p2, &base)]);
    assert_eq!(covered[0].commit, p1);
    assert_covered(&covered[0], How::Rebase, &p2);
    assert_covered(&covered[1], How::Direct, &p2);
}

#[test]
fn a_commit_without_a_verdict_is_uncovered() {
    let (t, base) = start();
    let one = commit(t.path(), &[("x.txt", "x\n")], "one");
    let two = commit(t.path(), &[("y.txt", "y\n")], "two");
    let covered = coverage(&t, &base, "main", &[pass(&two, &one)]);
    assert_eq!(assert_uncovered(&covered[0]), "no verdict for this commit");
    assert_covered(&covered[1], How::Direct, &two);
}

#[test]
fn a_failing_verdict_does_not_cover_and_is_named() {
    let (t, base) = start();
    let one = commit(t.path(), &[("x.txt", "x\n")], "one");
    let covered = coverage(&t, &base, "main", &[verdict("fail", &one, &base)]);
    let reason = assert_uncovered(&covered[0]);
    assert!(reason.contains("`fail`"), "{reason}");
    assert!(reason.contains(&one), "{reason}");
}

#[test]
fn a_needs_approval_verdict_does_not_cover_and_is_named() {
    let (t, base, pr, _, _) = squashed("c.txt", "c moved\n");
    let covered = coverage(&t, &base, "main", &[verdict("needs_approval", &pr, &base)]);
    assert_eq!(assert_uncovered(&covered[0]), "no verdict for this commit");
    let reason = assert_uncovered(&covered[1]);
    assert!(reason.contains("`needs_approval`"), "{reason}");
    assert!(reason.contains(&pr), "{reason}");

    // And through a merge's second parent.
    let (t, base, pr, _) = merged(true);
    let covered = coverage(&t, &base, "main", &[verdict("needs_approval", &pr, &base)]);
    let reason = assert_uncovered(&covered[1]);
    assert!(reason.contains("`needs_approval`"), "{reason}");
}

#[test]
fn verdicts_whose_commits_are_not_in_the_repository_cover_only_directly() {
    let (t, base) = start();
    let one = commit(t.path(), &[("x.txt", "x\n")], "one");
    let two = commit(t.path(), &[("y.txt", "y\n")], "two");
    let covered = coverage(
        &t,
        &base,
        "main",
        &[
            pass(&one, MISSING_A),
            pass(MISSING_B, MISSING_A),
            pass(MISSING_A, &base),
            pass("not hex at all", "nor this"),
        ],
    );
    assert_covered(&covered[0], How::Direct, &one);
    assert_eq!(assert_uncovered(&covered[1]), "no verdict for this commit");
    assert_eq!(covered[1].commit, two);

    // A merge whose head's verdict judged from a merge base we do not have.
    let (t, base, pr, _) = merged(true);
    let covered = coverage(&t, &base, "main", &[pass(&pr, MISSING_A)]);
    let reason = assert_uncovered(&covered[1]);
    assert!(reason.contains("not in the repository"), "{reason}");
}

#[test]
fn squash_coverage_compares_submodule_gitlinks() {
    let t = TestRepo::new();
    let base = t.write("a.txt", "a").commit("base");
    let x = git2::Oid::from_str(MISSING_A).expect("oid");
    let y = git2::Oid::from_str(MISSING_B).expect("oid");
    t.branch("pr");
    let pr = t.commit_gitlink("sub", x, "pin sub to x");
    t.checkout("main");
    let squash = t.commit_gitlink("sub", x, "Squashed pr");
    let wrong = t.commit_gitlink("sub", y, "pin sub to y");
    assert_ne!(squash, pr);
    let (base, pr) = (base.to_string(), pr.to_string());
    let covered = coverage(&t, &base, "main", &[pass(&pr, &base)]);
    assert_eq!(covered[0].commit, squash.to_string());
    assert_covered(&covered[0], How::Squash, &pr);
    assert_eq!(covered[1].commit, wrong.to_string());
    assert_eq!(assert_uncovered(&covered[1]), "no verdict for this commit");
}

#[test]
fn ranges_are_parsed_strictly() {
    assert_eq!(
        parse_range("v1.0..HEAD").expect("range"),
        ("v1.0".to_string(), "HEAD".to_string())
    );
    assert_eq!(
        parse_range("main~3..abc123").expect("range"),
        ("main~3".to_string(), "abc123".to_string())
    );
    for bad in [
        "a", "a...", "..b", "a..b..c", "a...b", "a..", "..", "", " a..b",
    ] {
        match parse_range(bad) {
            Err(e @ ChainError::BadRange { .. }) => {
                assert!(e.to_string().contains("BASE..HEAD"), "{e}")
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}

#[test]
fn an_unknown_revision_is_named() {
    let (t, _) = start();
    for (base, head) in [("main", "no-such-branch"), ("no-such-branch", "main")] {
        match first_parent_commits(&t.repo, base, head) {
            Err(e @ ChainError::UnknownRevision { .. }) => {
                assert!(e.to_string().contains("`no-such-branch`"), "{e}")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_range_from_a_commit_to_itself_is_empty() {
    let (t, base) = start();
    let range = first_parent_commits(&t.repo, "main", &base).expect("range");
    assert_eq!((range.base.as_str(), range.head.as_str()), (&*base, &*base));
    assert!(range.commits.is_empty());
    assert!(cover(&t.repo, &range, &[]).expect("cover").is_empty());
}

#[test]
fn a_range_over_the_limit_is_refused() {
    let (t, base) = start();
    // fast-import writes thousands of commits in a moment.
    let mut stream = format!("reset refs/heads/long\nfrom {base}\n");
    for i in 0..=MAX_RANGE_COMMITS {
        let text = i.to_string();
        stream.push_str(&format!(
            "commit refs/heads/long\ncommitter t <t@example.com> 1700000000 +0000\ndata 1\nc\n\
             M 100644 inline n.txt\ndata {}\n{text}\n",
            text.len()
        ));
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(t.path())
        .args(["fast-import", "--quiet"])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::piped())
        .spawn()
        .expect("fast-import");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("stream");
    assert!(child.wait().expect("wait").success());
    match first_parent_commits(&t.repo, &base, "long") {
        Err(e @ ChainError::RangeTooLong { .. }) => {
            assert!(e.to_string().contains("10000"), "{e}")
        }
        other => panic!("{:?}", other.map(|r| r.commits.len())),
    }
    let range = first_parent_commits(&t.repo, "long~1", "long").expect("range");
    assert_eq!(range.commits.len(), 1);
    let range = first_parent_commits(&t.repo, &base, "long~1").expect("range");
    assert_eq!(range.commits.len(), MAX_RANGE_COMMITS);
}

#[test]
fn coverage_round_trips_through_json() {
    let squash = CommitCoverage {
        commit: "a".repeat(40),
        verdict: Some("b".repeat(40)),
        how: How::Squash,
        reason: None,
    };
    let json = serde_json::to_value(&squash).expect("json");
    assert_eq!(
        json,
        serde_json::json!({"commit": "a".repeat(40), "verdict": "b".repeat(40), "how": "squash"})
    );
    let back: CommitCoverage = serde_json::from_value(json).expect("back");
    assert_eq!(back, squash);

    let uncovered = CommitCoverage {
        commit: "c".repeat(40),
        verdict: None,
        how: How::Uncovered,
        reason: Some("no verdict for this commit".to_string()),
    };
    let text = serde_json::to_string(&uncovered).expect("json");
    assert!(
        text.contains(r#""how":"uncovered""#) && !text.contains("verdict\":"),
        "{text}"
    );
    assert_eq!(
        serde_json::from_str::<CommitCoverage>(&text).expect("back"),
        uncovered
    );
    for (how, name) in [
        (How::Direct, "direct"),
        (How::Merge, "merge"),
        (How::Rebase, "rebase"),
    ] {
        assert_eq!(serde_json::to_value(how).expect("json"), name);
    }
}
