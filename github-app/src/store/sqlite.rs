//! The SQLite backend: one database file, one connection behind a mutex.
//!
//! Settings, chosen for "a `kill -9` at any moment loses no accepted delivery" at thousands of
//! deliveries per second on two cores:
//! - `journal_mode=WAL`: a commit appends to the write-ahead log (no rewrite of the database
//!   pages), and readers never block the writer.
//! - `synchronous=NORMAL`: in WAL mode a commit is complete once its frames are written to the
//!   log with `write(2)`, i.e. in the operating system's page cache, which survives the death of
//!   the process (`kill -9`, a panic, an OOM kill); only the checkpoint fsyncs. What NORMAL gives
//!   up against FULL is the last commits before an operating-system crash or power loss (the
//!   database stays consistent). FULL would fsync the log on every commit, which costs a disk
//!   flush per accepted delivery (a few ms on most disks, far more on network volumes) and would
//!   put the ack latency at the disk's mercy; GitHub redelivers failed deliveries on request and
//!   the App can redeliver on its own, so the narrower guarantee is the one that fits.
//! - `busy_timeout=5000`: another process holding the write lock (an operator's `sqlite3`, a
//!   second App started by mistake) is waited for instead of failing at once.
//! - One connection for everything behind a mutex: SQLite has a single writer anyway, and every
//!   statement here is a short write or an indexed read, so a mutex is cheaper than a pool
//!   contending for the write lock through `busy_timeout`. Statements are cached.
//!
//! Claims are one `UPDATE ... WHERE id = (SELECT ...) RETURNING` in a `BEGIN IMMEDIATE`
//! transaction, so they stay atomic even if a second process opens the same file.

use super::{
    Enqueued, Job, NewDelivery, Store, StoreError, VerdictStore, check, ms, now_ms, short,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    payload BLOB NOT NULL,
    key TEXT,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    completions INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    lease_until INTEGER,
    run_after INTEGER NOT NULL,
    outcome TEXT,
    error TEXT,
    received_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_queued ON jobs (id) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS jobs_running ON jobs (worker) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_running_id ON jobs (id) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key, id) WHERE key IS NOT NULL;
CREATE TABLE IF NOT EXISTS verdicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    verdict_json TEXT NOT NULL,
    bundle_json TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_repo_sha ON verdicts (repo, head_sha);
";

/// The runnable job with the smallest id: queued and due, or running with an expired lease.
const CLAIM: &str = "
UPDATE jobs SET state = 'running', worker = ?2, lease_until = ?3, attempts = attempts + 1
WHERE id = (SELECT min(c) FROM (
    SELECT (SELECT id FROM jobs WHERE state = 'queued' AND run_after <= ?1 ORDER BY id LIMIT 1) AS c
    UNION ALL
    SELECT (SELECT id FROM jobs WHERE state = 'running' AND lease_until < ?1 ORDER BY id LIMIT 1)
))
RETURNING id, delivery_id, event, payload, key, attempts";

/// A SQLite database file holding the queue and the verdicts.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Db(format!("sqlite: {e}"))
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path` (`:memory:` for a private in-memory
    /// one) and migrates it.
    pub fn open(path: &str) -> Result<Self, StoreError> {
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Db(format!("sqlite: opening {path}: {e}")))?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(db)?;
        // Answers "memory" for an in-memory database; the file's mode otherwise.
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") && path != ":memory:" {
            return Err(StoreError::Db(format!(
                "sqlite: {path} refuses WAL mode (journal_mode={mode})"
            )));
        }
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(db)?;
        conn.set_prepared_statement_cache_capacity(32);
        conn.execute_batch(SCHEMA).map_err(db)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no transaction open (rusqlite rolls back on drop).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies a state change to a job still running under the claim `job` came from.
    fn finish(&self, job: &Job, sql: &str, p: &[&dyn rusqlite::ToSql]) -> Result<(), StoreError> {
        let conn = self.conn();
        let changed = conn
            .prepare_cached(sql)
            .map_err(db)?
            .execute(p)
            .map_err(db)?;
        if changed == 1 {
            Ok(())
        } else {
            Err(StoreError::Lost(job.id))
        }
    }
}

impl Store for SqliteStore {
    fn enqueue(&self, d: &NewDelivery<'_>) -> Result<Enqueued, StoreError> {
        check(d)?;
        let now = now_ms();
        let conn = self.conn();
        let n = conn
            .prepare_cached(
                "INSERT INTO jobs (delivery_id, event, payload, key, run_after, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (delivery_id) DO NOTHING",
            )
            .map_err(db)?
            .execute(params![d.id, d.event, d.payload, d.key, now])
            .map_err(db)?;
        Ok(if n == 1 {
            Enqueued::Accepted
        } else {
            Enqueued::Duplicate
        })
    }

    fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>, StoreError> {
        let now = now_ms();
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let job = tx
            .prepare_cached(CLAIM)
            .map_err(db)?
            .query_row(params![now, worker, now + ms(lease)], |r| {
                Ok(Job {
                    id: r.get(0)?,
                    delivery_id: r.get(1)?,
                    event: r.get(2)?,
                    payload: r.get(3)?,
                    key: r.get(4)?,
                    attempts: r.get(5)?,
                })
            })
            .optional()
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(job)
    }

    fn heartbeat(&self, job: &Job, worker: &str, lease: Duration) -> Result<bool, StoreError> {
        let conn = self.conn();
        let n = conn
            .prepare_cached(
                "UPDATE jobs SET lease_until = ?1
                 WHERE id = ?2 AND state = 'running' AND worker = ?3 AND attempts = ?4",
            )
            .map_err(db)?
            .execute(params![now_ms() + ms(lease), job.id, worker, job.attempts])
            .map_err(db)?;
        Ok(n == 1)
    }

    fn complete(&self, job: &Job, outcome: &str) -> Result<(), StoreError> {
        self.finish(
            job,
            "UPDATE jobs SET state = 'done', completions = completions + 1, outcome = ?1,
                 worker = NULL, lease_until = NULL, finished_at = ?2
             WHERE id = ?3 AND state = 'running' AND attempts = ?4",
            params![short(outcome), now_ms(), job.id, job.attempts],
        )
    }

    fn retry_later(&self, job: &Job, delay: Duration, error: &str) -> Result<(), StoreError> {
        self.finish(
            job,
            "UPDATE jobs SET state = 'queued', run_after = ?1, error = ?2,
                 worker = NULL, lease_until = NULL
             WHERE id = ?3 AND state = 'running' AND attempts = ?4",
            params![now_ms() + ms(delay), short(error), job.id, job.attempts],
        )
    }

    fn fail(&self, job: &Job, error: &str) -> Result<(), StoreError> {
        self.finish(
            job,
            "UPDATE jobs SET state = 'failed', error = ?1, worker = NULL, lease_until = NULL,
                 finished_at = ?2
             WHERE id = ?3 AND state = 'running' AND attempts = ?4",
            params![short(error), now_ms(), job.id, job.attempts],
        )
    }

    fn release(&self, worker: &str) -> Result<u64, StoreError> {
        let conn = self.conn();
        let n = conn
            .prepare_cached(
                "UPDATE jobs SET state = 'queued', run_after = ?1, worker = NULL, lease_until = NULL
                 WHERE state = 'running' AND worker = ?2",
            )
            .map_err(db)?
            .execute(params![now_ms(), worker])
            .map_err(db)?;
        Ok(n as u64)
    }

    fn superseded(&self, job: &Job) -> Result<bool, StoreError> {
        let Some(key) = &job.key else {
            return Ok(false);
        };
        let conn = self.conn();
        conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM jobs WHERE key = ?1 AND id > ?2)")
            .map_err(db)?
            .query_row(params![key, job.id], |r| r.get(0))
            .map_err(db)
    }

    fn depth(&self) -> Result<u64, StoreError> {
        let conn = self.conn();
        let n: i64 = conn
            .prepare_cached(
                "SELECT (SELECT count(*) FROM jobs WHERE state = 'queued')
                      + (SELECT count(*) FROM jobs WHERE state = 'running')",
            )
            .map_err(db)?
            .query_row([], |r| r.get(0))
            .map_err(db)?;
        Ok(n as u64)
    }

    fn ready(&self) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.query_row("SELECT count(*) FROM jobs WHERE id = 0", [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|_| ())
        .map_err(db)
    }

    fn verdict(
        &self,
        id: i64,
    ) -> Result<Option<(String, String, String, Option<String>)>, StoreError> {
        let conn = self.conn();
        conn.prepare_cached(
            "SELECT repo, head_sha, verdict_json, bundle_json FROM verdicts WHERE id = ?1",
        )
        .map_err(db)?
        .query_row(params![id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()
        .map_err(db)
    }

    fn state(&self, delivery_id: &str) -> Result<Option<(String, u32)>, StoreError> {
        let conn = self.conn();
        conn.prepare_cached("SELECT state, completions FROM jobs WHERE delivery_id = ?1")
            .map_err(db)?
            .query_row(params![delivery_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db)
    }
}

impl VerdictStore for SqliteStore {
    fn save_verdict(
        &self,
        repo: &str,
        head_sha: &str,
        verdict_json: &str,
        bundle_json: Option<&str>,
    ) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.prepare_cached(
            "INSERT INTO verdicts (repo, head_sha, verdict_json, bundle_json, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        )
        .map_err(db)?
        .query_row(
            params![repo, head_sha, verdict_json, bundle_json, now_ms()],
            |r| r.get(0),
        )
        .map_err(db)
    }
}
