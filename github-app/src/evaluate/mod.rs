//! One piece of work, evaluated to completion: an installation token, the pull request as it
//! is now, an `in_progress` check run, the base and head fetched into the repository's cache,
//! approvals from reviews, the gate, a signed verdict saved (and uploaded), and the check run
//! completed with its conclusion, summary and annotations.
//!
//! - `installation`: the App JWT and the installation token cache;
//! - `api`: the REST calls (pull requests, reviews, comments, teams, check runs, attestations);
//! - `git_cache`: the per-repository bare cache and why it fetches with the `git` program;
//! - `approvals`: reviews and team membership to [`cavra_gate::Approval`]s, and break-glass.

pub mod api;
pub mod approvals;
pub mod git_cache;
pub mod installation;

use crate::config::Config;
use crate::events::{Repo as WorkRepo, Work};
use crate::metrics::Metrics;
pub use crate::store::VerdictStore;
use api::{ApiError, Http, Repo};
use approvals::Memberships;
use cavra_forge::present::{self, GateState};
use cavra_gate::{Approval, GateOptions, Status, Verdict, run_gate};
use git_cache::{FetchError, GitCache};
use installation::TokenCache;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a job did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Try again after `after` (GitHub unavailable, rate limited, no answer).
    Retry { after: Duration, reason: String },
    /// No retry will help (no access, a repository that is gone, a broken configuration).
    Permanent(String),
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::Retry { after, reason } => {
                write!(f, "retry in {}s: {reason}", after.as_secs())
            }
            JobError::Permanent(reason) => f.write_str(reason),
        }
    }
}

/// What [`Evaluator::run`] returns when `cancelled()` stopped it.
pub const SUPERSEDED: &str = "superseded";

/// How long to wait before retrying when GitHub gives no hint.
const DEFAULT_RETRY: Duration = Duration::from_secs(30);

impl From<ApiError> for JobError {
    fn from(e: ApiError) -> JobError {
        if e.transient() {
            JobError::Retry {
                after: e.retry_after.unwrap_or(DEFAULT_RETRY),
                reason: e.to_string(),
            }
        } else {
            JobError::Permanent(e.to_string())
        }
    }
}

impl From<FetchError> for JobError {
    fn from(e: FetchError) -> JobError {
        if e.transient {
            JobError::Retry {
                after: DEFAULT_RETRY,
                reason: e.message,
            }
        } else {
            JobError::Permanent(e.message)
        }
    }
}

/// Evaluates work; shared by the worker threads.
pub struct Evaluator {
    cfg: Config,
    http: Http,
    tokens: TokenCache,
    git: GitCache,
    memberships: Memberships,
    /// Check runs left `in_progress` by a superseded or retried job, by `(repo, head)`: the
    /// next job on the same head completes that one instead of starting another.
    open_runs: std::sync::Mutex<std::collections::HashMap<(String, String), u64>>,
    metrics: Arc<Metrics>,
    store: Arc<dyn VerdictStore>,
    signer: Option<cavra_attestation::signer::Signer>,
}

/// A pull request (or merge group, or lone commit) to judge.
struct Target {
    head: String,
    base: String,
    /// Refspecs that bring both into the cache.
    refspecs: Vec<String>,
    /// The pull request, for reviews and comments.
    number: Option<u64>,
    labels: Vec<String>,
}

impl Evaluator {
    /// Reads the App's key (and the signing key, when set).
    pub fn new(
        cfg: &Config,
        store: Arc<dyn VerdictStore>,
        metrics: Arc<Metrics>,
    ) -> Result<Evaluator, String> {
        let tokens = TokenCache::new(cfg.app_id, &cfg.private_key_pem)?;
        let signer = match &cfg.signing_key {
            Some(spec) => {
                let passphrase = cavra_attestation::keys::passphrase_from_env(
                    "CAVRA_APP_SIGNING_KEY_PASSPHRASE",
                );
                let key = cavra_attestation::keys::KeySource::parse(spec)
                    .load(passphrase.as_deref().map(|p| p.as_slice()))
                    .map_err(|e| format!("the signing key: {e}"))?;
                Some(cavra_attestation::signer::Signer::Key(key))
            }
            None => None,
        };
        Ok(Evaluator {
            cfg: cfg.clone(),
            http: Http::new(&cfg.api_url, metrics.clone()),
            tokens,
            git: GitCache::new(&cfg.cache_dir),
            memberships: Memberships::default(),
            open_runs: Default::default(),
            metrics,
            store,
            signer,
        })
    }

    /// The bare cache of `owner/name`.
    pub fn cache_path(&self, full_name: &str) -> std::path::PathBuf {
        self.git.path(full_name)
    }

    /// Evaluates `work` to completion (check run completed) and returns a one-line outcome
    /// for the log; `cancelled()` is polled between steps: a newer delivery superseded this
    /// job, or the App is shutting down. Then it stops with `Ok("superseded")`, leaving at most
    /// an `in_progress` check run that the newer job completes.
    ///
    /// It blocks (HTTP, `git`, the gate): call it from a worker thread or `spawn_blocking`,
    /// never from an async task.
    pub fn run(&self, work: &Work, cancelled: &dyn Fn() -> bool) -> Result<String, JobError> {
        let started = Instant::now();
        let result = self.dispatch(work, cancelled);
        let outcome = match &result {
            Ok(line) if line == SUPERSEDED => "superseded",
            Ok(_) => "success",
            Err(JobError::Retry { .. }) => "retry",
            Err(JobError::Permanent(_)) => "failure",
        };
        self.metrics
            .evaluation(started.elapsed().as_secs_f64(), outcome);
        result
    }

    fn dispatch(&self, work: &Work, cancelled: &dyn Fn() -> bool) -> Result<String, JobError> {
        match work {
            Work::Ignore(why) => Ok(format!("ignored: {why}")),
            Work::Installation {
                installation,
                action,
            } => {
                self.tokens.drop_installation(*installation);
                Ok(format!(
                    "installation {installation} {action}: cached token dropped"
                ))
            }
            Work::PullRequest { repo, number, .. } => self.pull_request(repo, *number, cancelled),
            Work::MergeGroup {
                repo,
                head_sha,
                base_sha,
            } => {
                let target = Target {
                    head: head_sha.clone(),
                    base: base_sha.clone(),
                    refspecs: vec![head_sha.clone(), base_sha.clone()],
                    number: None,
                    labels: Vec::new(),
                };
                self.evaluate(repo, target, cancelled)
            }
            Work::Rerun {
                repo,
                head_sha,
                pull_requests,
            } => {
                if pull_requests.is_empty() {
                    let token = self.tokens.token(&self.http, repo.installation)?;
                    let api = self.api(repo, token.expose());
                    let branch = api.default_branch()?;
                    // The base is the default branch's tip, read from the cache after the
                    // fetch: fetch first with the branch as refspec.
                    let refspecs = vec![
                        head_sha.clone(),
                        format!("+refs/heads/{branch}:refs/heads/{branch}"),
                    ];
                    let url = self.clone_url(repo);
                    let (path, _) =
                        self.git
                            .ensure(&repo.full_name, &url, token.expose(), &refspecs, &[])?;
                    let base = rev_parse(&path, &format!("refs/heads/{branch}"))
                        .map_err(JobError::Permanent)?;
                    let target = Target {
                        head: head_sha.clone(),
                        base,
                        refspecs,
                        number: None,
                        labels: Vec::new(),
                    };
                    return self.evaluate(repo, target, cancelled);
                }
                let mut lines = Vec::new();
                for number in pull_requests {
                    lines.push(format!(
                        "#{number}: {}",
                        self.pull_request(repo, *number, cancelled)?
                    ));
                }
                Ok(lines.join("; "))
            }
        }
    }

    fn api<'a>(&'a self, repo: &'a WorkRepo, token: &'a str) -> Repo<'a> {
        Repo {
            http: &self.http,
            token,
            full_name: &repo.full_name,
        }
    }

    /// The URL to fetch from: `git_url` + `owner/name.git` when configured, else the
    /// payload's clone URL.
    fn clone_url(&self, repo: &WorkRepo) -> String {
        match &self.cfg.git_url {
            Some(root) => format!("{}/{}.git", root.trim_end_matches('/'), repo.full_name),
            None if !repo.clone_url.is_empty() => repo.clone_url.clone(),
            None => format!("https://github.com/{}.git", repo.full_name),
        }
    }

    fn pull_request(
        &self,
        repo: &WorkRepo,
        number: u64,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<String, JobError> {
        let token = self.tokens.token(&self.http, repo.installation)?;
        let api = self.api(repo, token.expose());
        let pull = api.pull(number)?;
        if pull["state"].as_str() != Some("open") {
            return Ok(format!("#{number} is not open: skipped"));
        }
        let field = |v: &serde_json::Value, what: &str| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| JobError::Permanent(format!("#{number}: no {what}")))
        };
        let head = field(&pull["head"]["sha"], "head sha")?;
        let base = field(&pull["base"]["sha"], "base sha")?;
        let base_ref = field(&pull["base"]["ref"], "base ref")?;
        let labels = pull["labels"]
            .as_array()
            .map(|ls| {
                ls.iter()
                    .filter_map(|l| l["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let target = Target {
            head,
            base,
            refspecs: vec![
                format!("+refs/pull/{number}/head:refs/pull/{number}/head"),
                format!("+refs/heads/{base_ref}:refs/heads/{base_ref}"),
            ],
            number: Some(number),
            labels,
        };
        self.evaluate(repo, target, cancelled)
    }

    /// Check run, fetch, gate, verdict, completion.
    fn evaluate(
        &self,
        repo: &WorkRepo,
        target: Target,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<String, JobError> {
        if cancelled() {
            return Ok(SUPERSEDED.into());
        }
        let token = self.tokens.token(&self.http, repo.installation)?;
        let api = self.api(repo, token.expose());
        let key = (repo.full_name.clone(), target.head.clone());
        let open = self.open_runs.lock().unwrap().get(&key).copied();
        let check_run = match open {
            Some(id) => id,
            None => {
                let id = api.start_check_run(&target.head)?;
                self.open_runs.lock().unwrap().insert(key.clone(), id);
                id
            }
        };
        let result = match self.judge(repo, &api, check_run, &target, cancelled) {
            // The check run is completed as failed unless a retry will complete it.
            Err(JobError::Permanent(why)) => self.fail(&api, check_run, &why),
            other => other,
        };
        let finished = match &result {
            Ok(line) => line != SUPERSEDED,
            Err(JobError::Retry { .. }) => false,
            Err(JobError::Permanent(_)) => true,
        };
        if finished {
            self.open_runs.lock().unwrap().remove(&key);
        }
        result
    }

    /// Everything after the check run is created: fetch, gate, verdict, completion.
    fn judge(
        &self,
        repo: &WorkRepo,
        api: &Repo<'_>,
        check_run: u64,
        target: &Target,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<String, JobError> {
        if cancelled() {
            return Ok(SUPERSEDED.into());
        }
        let url = self.clone_url(repo);
        let fetched = self.git.ensure(
            &repo.full_name,
            &url,
            api.token,
            &target.refspecs,
            &[&target.head, &target.base],
        );
        let path = match fetched {
            Ok((path, _)) => path,
            Err(e) => return Err(e.into()),
        };
        if cancelled() {
            return Ok(SUPERSEDED.into());
        }
        let (reviews, break_glass) = match target.number {
            Some(number) => {
                let reviews = api.reviews(number)?;
                let glass = if target
                    .labels
                    .iter()
                    .any(|l| l == approvals::BREAK_GLASS_LABEL)
                    && !self.cfg.break_glass_users.is_empty()
                {
                    approvals::break_glass(&api.comments(number)?, &self.cfg.break_glass_users)
                } else {
                    None
                };
                (reviews, glass)
            }
            None => (Vec::new(), None),
        };
        let mut opts = GateOptions {
            repo_path: path.clone(),
            revisions: cavra_diff::RevisionsRequest {
                base: Some(target.base.clone()),
                head: Some(target.head.clone()),
            },
            policy_file: None,
            mode: None,
            approvals: Vec::new(),
            break_glass,
            today: cavra_policy::Date::today(),
            threads: 1,
            content_limits: cavra_diff::ContentLimits::default(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        let full_name = repo.full_name.clone();
        let env = move |k: &str| (k == "GITHUB_REPOSITORY").then(|| full_name.clone());
        let mut verdict = match run_gate(&opts, &env) {
            Ok(v) => v,
            Err(e) => return Err(JobError::Permanent(format!("the gate failed: {e}"))),
        };
        let approvers = approvals::approvers_of(&reviews, &target.head);
        if verdict.verdict == Status::NeedsApproval && !approvers.is_empty() {
            let approved = self.approvals(api, &path, target, &verdict, &approvers)?;
            if !approved.is_empty() {
                opts.approvals = approved;
                verdict = match run_gate(&opts, &env) {
                    Ok(v) => v,
                    Err(e) => return Err(JobError::Permanent(format!("the gate failed: {e}"))),
                };
            }
        }
        if cancelled() {
            return Ok(SUPERSEDED.into());
        }
        let state = GateState::of(&verdict);
        let title = cavra_report::title(&verdict);
        let mut summary = match present::summary(&verdict, self.cfg.summary_template.as_deref()) {
            Ok(s) => s,
            Err(e) => return Err(JobError::Permanent(format!("cannot render: {e}"))),
        };
        if !verdict.approvals.is_empty() {
            summary.push_str("\n**Approved by:** ");
            let names: Vec<String> = verdict
                .approvals
                .iter()
                .map(|a| format!("@{} ({})", a.approver, a.group))
                .collect();
            summary.push_str(&names.join(", "));
            summary.push('\n');
        }
        summary.push_str(
            &self
                .record(api, &repo.full_name, &verdict)
                .map_err(JobError::Permanent)?,
        );
        let annotations = cavra_report::annotations(&verdict);
        let sent =
            api.complete_check_run(check_run, Some(state), &title, &summary, &annotations)?;
        Ok(format!(
            "{} {}: check run {check_run} {}, {sent} annotation(s)",
            repo.full_name,
            short(&target.head),
            conclusion_word(state)
        ))
    }

    /// The approvals the approving reviewers give for the groups still pending.
    fn approvals(
        &self,
        api: &Repo<'_>,
        path: &std::path::Path,
        target: &Target,
        verdict: &Verdict,
        approvers: &[String],
    ) -> Result<Vec<Approval>, JobError> {
        let groups = if verdict.pending_approvals.is_empty() {
            // Any reviewer may approve: the group name does not matter.
            return Ok(approvers
                .iter()
                .map(|user| Approval {
                    group: "reviewers".to_string(),
                    approver: user.clone(),
                    commit: target.head.clone(),
                })
                .collect());
        } else {
            verdict.pending_approvals.clone()
        };
        let policy_groups = git2::Repository::open_bare(path)
            .ok()
            .and_then(|repo| {
                let base = git2::Oid::from_str(&target.base).ok()?;
                cavra_gate::load_policy(Some(&repo), Some(base), None).ok()
            })
            .map(|loaded| loaded.policy.approvers)
            .unwrap_or_default();
        Ok(approvals::approvals(
            api,
            &self.memberships,
            &policy_groups,
            &groups,
            approvers,
            &target.head,
        )?)
    }

    /// Signs (when a key is set), saves and uploads the verdict; the summary's note.
    fn record(&self, api: &Repo<'_>, full_name: &str, verdict: &Verdict) -> Result<String, String> {
        let verdict_json = serde_json::to_string(verdict).map_err(|e| e.to_string())?;
        let bundle = match &self.signer {
            Some(signer) => {
                let statement = cavra_attestation::verdict::statement(verdict);
                Some(
                    signer
                        .sign_statement(&statement)
                        .map_err(|e| format!("cannot sign the verdict: {e}"))?
                        .json,
                )
            }
            None => None,
        };
        let id = self
            .store
            .save_verdict(
                full_name,
                &verdict.revisions.head,
                &verdict_json,
                bundle.as_deref(),
            )
            .map_err(|e| format!("cannot save the verdict: {e}"))?;
        let mut note = match &self.cfg.public_url {
            Some(url) => format!("\nVerdict record: [`{id}`]({url}/verdicts/{id})"),
            None => format!("\nVerdict record: `{id}`"),
        };
        if bundle.is_some() {
            note.push_str(" (signed)");
        }
        if let (Some(bundle), true) = (&bundle, self.cfg.upload_attestations) {
            match api.upload_attestation(bundle) {
                Ok(answer) => {
                    if let Some(aid) = answer["id"].as_u64() {
                        note.push_str(&format!(", attestation {aid}"));
                    }
                }
                Err(e) => note.push_str(&format!(", attestation not uploaded: {e}")),
            }
        }
        note.push('\n');
        Ok(note)
    }

    /// Completes the check run as failed with `why`, so it never stays `in_progress`.
    fn fail(&self, api: &Repo<'_>, check_run: u64, why: &str) -> Result<String, JobError> {
        let why = api::scrub(why, api.token);
        let summary = format!(
            "{}\nThe gate could not judge this change:\n\n```\n{}\n```\n",
            present::NOTE_MARKER,
            present::cut_chars(&why, 4000)
        );
        match api.complete_check_run(check_run, None, "cavra gate error", &summary, &[]) {
            Ok(_) => Ok(format!("check run {check_run} failure: {why}")),
            Err(e) if e.transient() => Err(e.into()),
            Err(e) => Err(JobError::Permanent(format!(
                "{why}; and the check run could not be completed: {e}"
            ))),
        }
    }
}

fn conclusion_word(state: GateState) -> &'static str {
    match state {
        GateState::Success => "success",
        GateState::Neutral => "neutral",
        GateState::ActionRequired => "action_required",
        GateState::Failure => "failure",
    }
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// The commit `rev` names in the bare repository at `path`.
fn rev_parse(path: &std::path::Path, rev: &str) -> Result<String, String> {
    let repo = git2::Repository::open_bare(path).map_err(|e| e.to_string())?;
    let commit = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| format!("{rev}: {e}"))?;
    Ok(commit.id().to_string())
}
