//! Running the gate: revisions, policy, changes, findings, verdict.

use crate::judge::{Trees, judge_change};
use crate::policy_source::load_policy;
use crate::verdict::{
    Approval, BreakGlassRecord, ChangeReport, Counts, PolicyInfo, RevisionInfo, SCHEMA_VERSION,
    Status, ToolInfo, Verdict,
};
use crate::{GateError, is_approved, now_rfc3339};
use cavra_diff::{Blobs, ChangeSet, Content, ContentLimits, RevisionsRequest};
use cavra_policy::{Date, Decision, Engine, Mode};
use git2::Repository;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Shortest break-glass justification accepted.
const MIN_JUSTIFICATION: usize = 10;

/// What to gate and how.
#[derive(Debug, Clone)]
pub struct GateOptions {
    /// A directory inside the repository.
    pub repo_path: PathBuf,
    /// Base and head, when given.
    pub revisions: RevisionsRequest,
    /// A local policy file that replaces the base revision's.
    pub policy_file: Option<PathBuf>,
    /// A mode that replaces the policy's (only stricter, unless `policy_file` is given).
    pub mode: Option<Mode>,
    /// Approvals to take into account.
    pub approvals: Vec<Approval>,
    /// `(actor, justification)` to break the glass.
    pub break_glass: Option<(String, String)>,
    /// The day exceptions expire against.
    pub today: Date,
    /// Worker threads for reading and judging files.
    pub threads: usize,
    /// Per-file content bounds.
    pub content_limits: ContentLimits,
    /// The tool's version, for the record.
    pub tool_version: String,
}

/// Runs the gate; `env` reads CI variables (pass `|k| std::env::var(k).ok()`).
pub fn run_gate(
    opts: &GateOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Verdict, GateError> {
    let repo = Repository::discover(&opts.repo_path).map_err(|e| {
        GateError::Diff(cavra_diff::Error::NotARepository {
            path: opts.repo_path.display().to_string(),
            source: e,
        })
    })?;
    let revisions = cavra_diff::resolve(&repo, &opts.revisions, env)?;
    let loaded = load_policy(
        Some(&repo),
        Some(revisions.base),
        opts.policy_file.as_deref(),
    )?;
    let mode = choose_mode(loaded.policy.mode, opts.mode, loaded.local_override)?;
    if let Some((actor, justification)) = &opts.break_glass {
        check_break_glass(&loaded.policy, actor, justification)?;
    }
    let policy_info = PolicyInfo {
        source: loaded.source.clone(),
        sha256: loaded.policy.sha256(),
        layers: loaded.policy.layers.clone(),
    };
    let engine = Engine::new(loaded.policy, mode, opts.today);
    let changeset = ChangeSet::read(&repo, revisions.clone())?;
    let changes = judge_all(&repo, &engine, &changeset, opts)?;

    let head = revisions.head.to_string();
    let approvals: Vec<Approval> = opts
        .approvals
        .iter()
        .map(|a| {
            // An approval names the commit it saw; a short or symbolic name is resolved so
            // it compares with the head. An unknown commit stays as given (and never matches).
            let commit = if a.commit.is_empty() {
                head.clone()
            } else {
                repo.revparse_single(&a.commit)
                    .and_then(|o| o.peel_to_commit())
                    .map_or_else(|_| a.commit.clone(), |c| c.id().to_string())
            };
            Approval {
                commit,
                ..a.clone()
            }
        })
        .collect();
    let (enforced, pending, counts) = tally(&changes, &approvals, &head);
    let mut verdict_status = if mode == Mode::Audit {
        Status::Pass
    } else {
        enforced
    };
    let break_glass = opts.break_glass.as_ref().map(|(actor, justification)| {
        let record = BreakGlassRecord {
            actor: actor.clone(),
            justification: justification.clone(),
            overridden: verdict_status,
        };
        verdict_status = Status::Pass;
        record
    });
    Ok(Verdict {
        schema: SCHEMA_VERSION.to_string(),
        tool: ToolInfo {
            name: "cavra".to_string(),
            version: opts.tool_version.clone(),
        },
        repository: [
            "GITHUB_REPOSITORY",
            "CI_PROJECT_PATH",
            "BUILD_REPOSITORY_NAME",
        ]
        .iter()
        .find_map(|k| env(k).filter(|v| !v.is_empty())),
        revisions: RevisionInfo {
            base: revisions.base.to_string(),
            head,
            merge_base: revisions.merge_base.to_string(),
            base_source: revisions.base_source.clone(),
        },
        policy: policy_info,
        mode,
        verdict: verdict_status,
        enforced_verdict: (mode == Mode::Audit).then_some(enforced),
        counts,
        pending_approvals: pending,
        approvals,
        break_glass,
        expired_exceptions: engine.expired_exceptions().into_iter().cloned().collect(),
        changes,
        time: now_rfc3339(),
    })
}

fn choose_mode(policy: Mode, requested: Option<Mode>, local: bool) -> Result<Mode, GateError> {
    match requested {
        None => Ok(policy),
        Some(m) if m >= policy || local => Ok(m),
        Some(m) => Err(GateError::Usage(format!(
            "the policy sets mode `{}`; --mode may only make it stricter (asked for `{}`). \
             Change the mode in the policy, or test locally with --policy FILE",
            policy.as_str(),
            m.as_str()
        ))),
    }
}

fn check_break_glass(
    policy: &cavra_policy::Policy,
    actor: &str,
    justification: &str,
) -> Result<(), GateError> {
    if !policy.break_glass.allowed {
        return Err(GateError::Usage(
            "break-glass is not allowed by the policy (`break_glass: { allowed: false }`)".into(),
        ));
    }
    if actor.trim().is_empty() {
        return Err(GateError::Usage(
            "break-glass needs an actor (--actor, or the CI's user variable)".into(),
        ));
    }
    if !policy.break_glass.actors.is_empty()
        && !policy.break_glass.actors.iter().any(|a| a == actor)
    {
        return Err(GateError::Usage(format!(
            "`{actor}` may not break the glass (allowed: {})",
            policy.break_glass.actors.join(", ")
        )));
    }
    if justification.trim().chars().count() < MIN_JUSTIFICATION {
        return Err(GateError::Usage(format!(
            "a break-glass justification must say why, in at least {MIN_JUSTIFICATION} characters"
        )));
    }
    Ok(())
}

/// Most blob bytes read ahead of the workers at once.
const IN_FLIGHT_BYTES: usize = 64 << 20;

/// Judges every change, keeping path order.
///
/// libgit2 serializes object reads behind a global lock, so one thread (this one) reads blobs
/// and hands the bytes to workers that diff and judge them; the bytes read ahead are bounded.
fn judge_all(
    repo: &Repository,
    engine: &Engine,
    changeset: &ChangeSet,
    opts: &GateOptions,
) -> Result<Vec<ChangeReport>, GateError> {
    let changes = &changeset.changes;
    let limits = &opts.content_limits;
    let tree_of = |commit: git2::Oid| repo.find_commit(commit).map(|c| c.tree_id()).ok();
    let trees = (
        tree_of(changeset.revisions.head),
        tree_of(changeset.revisions.merge_base),
    );
    // The reading thread counts as one of `threads`.
    let workers = (opts.threads.max(1) - 1).min(changes.len().div_ceil(64));
    if workers == 0 {
        let files = Trees::new(repo, trees);
        return changes
            .iter()
            .map(|c| {
                let content = ChangeSet::content(repo, c, limits)?;
                Ok(judge_change(engine, c, &content, &files))
            })
            .collect();
    }
    let git_dir = repo.path().to_path_buf();
    let budget = Budget::default();
    let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<(usize, Blobs)>(1024);
    let work_rx = std::sync::Mutex::new(work_rx);
    let (done_tx, done_rx) = std::sync::mpsc::channel::<(usize, ChangeReport)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (work_rx, done_tx, budget) = (&work_rx, done_tx.clone(), &budget);
            let git_dir = &git_dir;
            scope.spawn(move || {
                // git2 repositories are not shared across threads: each worker opens its own,
                // to read the other files a CI file includes.
                let own = Repository::open(git_dir).ok();
                let files = own.as_ref().map(|r| Trees::new(r, trees));
                loop {
                    let next = work_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((index, blobs))) = next else { break };
                    let held = blobs.held_bytes();
                    let content = Content::from_blobs(blobs, limits);
                    budget.release(held);
                    let report = match &files {
                        Some(files) => judge_change(engine, &changes[index], &content, files),
                        None => judge_change(engine, &changes[index], &content, &Trees::none()),
                    };
                    if done_tx.send((index, report)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let read = (|| {
            for (index, change) in changes.iter().enumerate() {
                let blobs = ChangeSet::blobs(repo, change, limits)?;
                budget.acquire(blobs.held_bytes());
                if work_tx.send((index, blobs)).is_err() {
                    break;
                }
            }
            Ok::<(), GateError>(())
        })();
        drop(work_tx);
        let mut reports: Vec<Option<ChangeReport>> = vec![None; changes.len()];
        for (index, report) in done_rx {
            reports[index] = Some(report);
        }
        read?;
        reports
            .into_iter()
            .map(|r| r.ok_or_else(|| GateError::Io("a worker thread stopped early".into())))
            .collect()
    })
}

/// A byte budget shared by the reader and the workers.
#[derive(Default)]
struct Budget {
    used: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
}

impl Budget {
    /// Waits until `n` more bytes fit (a single item larger than the budget still passes).
    fn acquire(&self, n: usize) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while *used > 0 && *used + n > IN_FLIGHT_BYTES {
            used = self.freed.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += n;
    }

    fn release(&self, n: usize) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        *used = used.saturating_sub(n);
        self.freed.notify_one();
    }
}

/// The enforced status, the approver groups still needed, and the counts.
fn tally(
    changes: &[ChangeReport],
    approvals: &[Approval],
    head: &str,
) -> (Status, Vec<String>, Counts) {
    let mut counts = Counts {
        changes: changes.len(),
        ..Counts::default()
    };
    let mut fail = false;
    let mut needs = false;
    let mut pending = BTreeSet::new();
    for finding in changes.iter().flat_map(|c| &c.findings) {
        counts.findings += 1;
        if finding.waived.is_some() {
            counts.waived += 1;
        }
        match finding.decision {
            Decision::Deny => {
                counts.deny += 1;
                fail = true;
            }
            Decision::RequireApproval => {
                counts.require_approval += 1;
                let satisfied = is_approved(approvals, head, finding);
                if !satisfied {
                    needs = true;
                    pending.extend(finding.approvers.iter().cloned());
                }
            }
            Decision::Audit => counts.audit += 1,
            Decision::Allow => counts.allow += 1,
        }
    }
    let status = if fail {
        Status::Fail
    } else if needs {
        Status::NeedsApproval
    } else {
        Status::Pass
    };
    (status, pending.into_iter().collect(), counts)
}
