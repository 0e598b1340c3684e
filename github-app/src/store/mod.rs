//! The durable queue and verdict store: every accepted webhook delivery is written here before the
//! server answers 202, and the worker pool claims jobs from here with a lease.
//!
//! Two backends behind one [`Store`] trait with the same schema: SQLite (the default, one file)
//! and PostgreSQL (for several App replicas). [`open`] picks one from the database URL.
//!
//! Job life: `queued` -> claimed (`running`, held by a worker until its lease expires) -> `done`
//! ([`Store::complete`]), back to `queued` after a delay ([`Store::retry_later`], or
//! [`Store::release`] on shutdown), or `failed` ([`Store::fail`], the dead letter). A running job
//! whose lease expired (its worker died) is runnable again. Every claim counts one attempt, and
//! the attempt count is the fencing token: `complete`, `retry_later` and `fail` only apply while
//! the job is still running under the claim the [`Job`] came from, so a worker that lost its
//! lease cannot complete a job twice ([`StoreError::Lost`]).
//!
//! Times are milliseconds since the Unix epoch from this process's clock (replicas sharing a
//! PostgreSQL database are assumed to keep their clocks in sync within a small part of a lease).

mod postgres;
mod sqlite;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use self::postgres::PostgresStore;
pub use self::sqlite::SqliteStore;

/// The longest delivery id and event name stored (GitHub's are a UUID and a short word).
pub const MAX_ID_LEN: usize = 100;

/// A webhook delivery to enqueue.
#[derive(Debug, Clone, Copy)]
pub struct NewDelivery<'a> {
    /// `X-GitHub-Delivery`.
    pub id: &'a str,
    /// `X-GitHub-Event`.
    pub event: &'a str,
    /// The request body as received.
    pub payload: &'a [u8],
    /// The coalescing key ([`crate::events::coalescing_key`]): a newer job with the same key
    /// supersedes an older one.
    pub key: Option<&'a str>,
}

/// What [`Store::enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Stored durably.
    Accepted,
    /// The delivery id was seen before (queued, running or finished): nothing stored.
    Duplicate,
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub delivery_id: String,
    pub event: String,
    pub payload: Vec<u8>,
    pub key: Option<String>,
    /// How many times the job was claimed, this claim included (1 on the first run).
    pub attempts: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one this store opens.
    #[error("unsupported database URL {0} (expected sqlite:PATH, a path, or postgres://...)")]
    Url(String),
    /// The delivery is refused (too long an id or event name).
    #[error("refused: {0}")]
    Invalid(String),
    /// The job is no longer held under this claim (its lease expired and another worker took it,
    /// or it already finished).
    #[error("job {0} is no longer held by this claim")]
    Lost(i64),
    /// The database failed (the text never contains a password).
    #[error("database: {0}")]
    Db(String),
}

/// The durable queue and verdict store. Every method is blocking (call it from
/// `tokio::task::spawn_blocking` or a worker thread).
/// Where an evaluation keeps its verdicts (the part of the store the evaluator needs).
pub trait VerdictStore: Send + Sync {
    /// Keeps a verdict (and its Sigstore bundle JSON, when signed) for a repository and commit;
    /// returns its id.
    fn save_verdict(
        &self,
        repo: &str,
        head_sha: &str,
        verdict_json: &str,
        bundle_json: Option<&str>,
    ) -> Result<i64, StoreError>;
}

pub trait Store: VerdictStore + Send + Sync + 'static {
    /// Persists a delivery durably before returning (the server answers 202 only after this). A
    /// delivery id seen before -> Duplicate (nothing stored, even after it completed).
    fn enqueue(&self, d: &NewDelivery<'_>) -> Result<Enqueued, StoreError>;
    /// Takes the oldest runnable job (queued, or running with an expired lease, or whose retry
    /// time has come) for `worker`, holding it for `lease`. Never gives one job to two workers at
    /// once.
    fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>, StoreError>;
    /// Extends the lease of a job still held by this worker; Err/false if it was lost.
    fn heartbeat(&self, job: &Job, worker: &str, lease: Duration) -> Result<bool, StoreError>;
    /// Marks the job done with a short outcome text (kept for inspection).
    fn complete(&self, job: &Job, outcome: &str) -> Result<(), StoreError>;
    /// Puts the job back to run again after `delay` (attempts counted), with the error text.
    fn retry_later(&self, job: &Job, delay: Duration, error: &str) -> Result<(), StoreError>;
    /// Gives up on the job for good (dead letter), with the error text.
    fn fail(&self, job: &Job, error: &str) -> Result<(), StoreError>;
    /// Graceful shutdown: every job this worker holds goes back to the queue at once.
    fn release(&self, worker: &str) -> Result<u64, StoreError>;
    /// True when a newer job with the same key was enqueued after this one (a newer push
    /// supersedes a stale evaluation).
    fn superseded(&self, job: &Job) -> Result<bool, StoreError>;
    /// Jobs queued or running.
    fn depth(&self) -> Result<u64, StoreError>;
    /// Readiness: the database answers.
    fn ready(&self) -> Result<(), StoreError>;
    /// A verdict by id: (repo, head_sha, verdict_json, bundle_json).
    #[allow(clippy::type_complexity)]
    fn verdict(
        &self,
        id: i64,
    ) -> Result<Option<(String, String, String, Option<String>)>, StoreError>;
    /// The delivery's state, for tests and inspection: "queued", "running", "done", "failed", or
    /// None when unknown. Plus how many times it was completed (must never exceed 1).
    fn state(&self, delivery_id: &str) -> Result<Option<(String, u32)>, StoreError>;
}

/// Opens the store a URL names: `sqlite:PATH` (or a bare path; `sqlite::memory:` for tests),
/// `postgres://user:pass@host:port/db` (also `postgresql://`). Creates the schema if missing
/// (idempotent migrations).
pub fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url)?))
    } else if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err(StoreError::Url(url.to_string()));
        }
        Ok(Arc::new(SqliteStore::open(path)?))
    } else if url.contains("://") || url.is_empty() {
        Err(StoreError::Url(crate::config::redact_url(url)))
    } else {
        Ok(Arc::new(SqliteStore::open(url)?))
    }
}

/// Refuses ids and event names the store does not keep.
fn check(d: &NewDelivery<'_>) -> Result<(), StoreError> {
    if d.id.is_empty() || d.id.len() > MAX_ID_LEN {
        return Err(StoreError::Invalid(format!(
            "delivery id of {} bytes (1 to {MAX_ID_LEN})",
            d.id.len()
        )));
    }
    if d.event.is_empty() || d.event.len() > MAX_ID_LEN {
        return Err(StoreError::Invalid(format!(
            "event name of {} bytes (1 to {MAX_ID_LEN})",
            d.event.len()
        )));
    }
    Ok(())
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// Outcome and error texts are kept short.
fn short(text: &str) -> &str {
    const MAX: usize = 4096;
    if text.len() <= MAX {
        return text;
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
