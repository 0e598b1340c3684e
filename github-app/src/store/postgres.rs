//! The PostgreSQL backend: the same schema as SQLite, for several App replicas sharing a queue.
//!
//! A small pool of synchronous connections (`postgres` crate, no TLS: run the database on the
//! same host or a private network), opened lazily and reopened when one breaks. Claims lock the
//! oldest runnable row with `SELECT ... FOR UPDATE SKIP LOCKED` in a transaction, so concurrent
//! workers (in this process or another replica) each take a different job without waiting on
//! each other. Errors name the database by [`redact_url`], never with its password.

use super::{
    Enqueued, Job, NewDelivery, Store, StoreError, VerdictStore, check, ms, now_ms, short,
};
use crate::config::redact_url;
use postgres::{Client, Config, NoTls};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Connections kept open (claims, heartbeats and enqueues from the server and the workers).
const POOL: usize = 8;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    payload BYTEA NOT NULL,
    key TEXT,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    completions INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    lease_until BIGINT,
    run_after BIGINT NOT NULL,
    outcome TEXT,
    error TEXT,
    received_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX IF NOT EXISTS jobs_queued ON jobs (id) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS jobs_running ON jobs (worker) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_running_id ON jobs (id) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key, id) WHERE key IS NOT NULL;
CREATE TABLE IF NOT EXISTS verdicts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repo TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    verdict_json TEXT NOT NULL,
    bundle_json TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_repo_sha ON verdicts (repo, head_sha);
";

/// A PostgreSQL database holding the queue and the verdicts.
pub struct PostgresStore {
    config: Config,
    /// The URL without its password, for error messages.
    name: String,
    slots: Vec<Mutex<Option<Client>>>,
    next: AtomicUsize,
}

/// A pooled connection, put back when dropped.
struct Conn<'a>(MutexGuard<'a, Option<Client>>);

impl Conn<'_> {
    fn client(&mut self) -> &mut Client {
        self.0.as_mut().expect("connected")
    }
}

impl PostgresStore {
    /// Connects to `url` and migrates the schema.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let name = redact_url(url);
        let mut config = Config::from_str(url)
            .map_err(|_| StoreError::Url(format!("{name}: not a PostgreSQL connection URL")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("cavra-github-app");
        let store = PostgresStore {
            config,
            name,
            slots: (0..POOL).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        };
        let mut conn = store.conn()?;
        let mut tx = conn.client().transaction().map_err(|e| store.db(e))?;
        // Replicas starting together would otherwise race on CREATE ... IF NOT EXISTS.
        tx.execute("SELECT pg_advisory_xact_lock(7346921001)", &[])
            .map_err(|e| store.db(e))?;
        tx.batch_execute(SCHEMA).map_err(|e| store.db(e))?;
        tx.commit().map_err(|e| store.db(e))?;
        drop(conn);
        Ok(store)
    }

    fn db(&self, e: postgres::Error) -> StoreError {
        StoreError::Db(format!("postgres {}: {e}", self.name))
    }

    /// A connection from the pool, (re)connecting when it is missing or broken.
    fn conn(&self) -> Result<Conn<'_>, StoreError> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.slots.len();
        let guard = (0..n)
            .find_map(|i| self.slots[(start + i) % n].try_lock().ok())
            .unwrap_or_else(|| {
                let slot = &self.slots[start % n];
                slot.lock().unwrap_or_else(|p| p.into_inner())
            });
        let mut conn = Conn(guard);
        if conn.0.as_ref().is_none_or(|c| c.is_closed()) {
            *conn.0 = Some(self.config.connect(NoTls).map_err(|e| self.db(e))?);
        }
        Ok(conn)
    }

    fn execute(
        &self,
        sql: &str,
        p: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let mut conn = self.conn()?;
        conn.client().execute(sql, p).map_err(|e| self.db(e))
    }

    fn finish(
        &self,
        job: &Job,
        sql: &str,
        p: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<(), StoreError> {
        match self.execute(sql, p)? {
            1 => Ok(()),
            _ => Err(StoreError::Lost(job.id)),
        }
    }
}

impl Store for PostgresStore {
    fn enqueue(&self, d: &NewDelivery<'_>) -> Result<Enqueued, StoreError> {
        check(d)?;
        let now = now_ms();
        let n = self.execute(
            "INSERT INTO jobs (delivery_id, event, payload, key, run_after, received_at)
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (delivery_id) DO NOTHING",
            &[&d.id, &d.event, &d.payload, &d.key, &now],
        )?;
        Ok(if n == 1 {
            Enqueued::Accepted
        } else {
            Enqueued::Duplicate
        })
    }

    fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>, StoreError> {
        let now = now_ms();
        let until = now + ms(lease);
        let mut conn = self.conn()?;
        let mut tx = conn.client().transaction().map_err(|e| self.db(e))?;
        // Two lookups, each walking one partial index in id order (an OR of both would walk
        // every finished job too); the older candidate wins, the other's lock ends at commit.
        let mut oldest: Option<i64> = None;
        for sql in [
            "SELECT id FROM jobs WHERE state = 'queued' AND run_after <= $1
             ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
            "SELECT id FROM jobs WHERE state = 'running' AND lease_until < $1
             ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
        ] {
            if let Some(r) = tx.query_opt(sql, &[&now]).map_err(|e| self.db(e))? {
                let id: i64 = r.get(0);
                oldest = Some(oldest.map_or(id, |o| o.min(id)));
            }
        }
        let row = match oldest {
            None => None,
            Some(id) => Some(
                tx.query_one(
                    "UPDATE jobs SET state = 'running', worker = $2, lease_until = $3,
                         attempts = attempts + 1
                     WHERE id = $1
                     RETURNING id, delivery_id, event, payload, key, attempts",
                    &[&id, &worker, &until],
                )
                .map_err(|e| self.db(e))?,
            ),
        };
        tx.commit().map_err(|e| self.db(e))?;
        Ok(row.map(|r| Job {
            id: r.get(0),
            delivery_id: r.get(1),
            event: r.get(2),
            payload: r.get(3),
            key: r.get(4),
            attempts: r.get::<_, i32>(5) as u32,
        }))
    }

    fn heartbeat(&self, job: &Job, worker: &str, lease: Duration) -> Result<bool, StoreError> {
        let n = self.execute(
            "UPDATE jobs SET lease_until = $1
             WHERE id = $2 AND state = 'running' AND worker = $3 AND attempts = $4",
            &[
                &(now_ms() + ms(lease)),
                &job.id,
                &worker,
                &(job.attempts as i32),
            ],
        )?;
        Ok(n == 1)
    }

    fn complete(&self, job: &Job, outcome: &str) -> Result<(), StoreError> {
        self.finish(
            job,
            "UPDATE jobs SET state = 'done', completions = completions + 1, outcome = $1,
                 worker = NULL, lease_until = NULL, finished_at = $2
             WHERE id = $3 AND state = 'running' AND attempts = $4",
            &[&short(outcome), &now_ms(), &job.id, &(job.attempts as i32)],
        )
    }

    fn retry_later(&self, job: &Job, delay: Duration, error: &str) -> Result<(), StoreError> {
        self.finish(
            job,
            "UPDATE jobs SET state = 'queued', run_after = $1, error = $2,
                 worker = NULL, lease_until = NULL
             WHERE id = $3 AND state = 'running' AND attempts = $4",
            &[
                &(now_ms() + ms(delay)),
                &short(error),
                &job.id,
                &(job.attempts as i32),
            ],
        )
    }

    fn fail(&self, job: &Job, error: &str) -> Result<(), StoreError> {
        self.finish(
            job,
            "UPDATE jobs SET state = 'failed', error = $1, worker = NULL, lease_until = NULL,
                 finished_at = $2
             WHERE id = $3 AND state = 'running' AND attempts = $4",
            &[&short(error), &now_ms(), &job.id, &(job.attempts as i32)],
        )
    }

    fn release(&self, worker: &str) -> Result<u64, StoreError> {
        self.execute(
            "UPDATE jobs SET state = 'queued', run_after = $1, worker = NULL, lease_until = NULL
             WHERE state = 'running' AND worker = $2",
            &[&now_ms(), &worker],
        )
    }

    fn superseded(&self, job: &Job) -> Result<bool, StoreError> {
        let Some(key) = &job.key else {
            return Ok(false);
        };
        let mut conn = self.conn()?;
        let row = conn
            .client()
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM jobs WHERE key = $1 AND id > $2)",
                &[key, &job.id],
            )
            .map_err(|e| self.db(e))?;
        Ok(row.get(0))
    }

    fn depth(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn()?;
        let row = conn
            .client()
            .query_one(
                "SELECT (SELECT count(*) FROM jobs WHERE state = 'queued')
                      + (SELECT count(*) FROM jobs WHERE state = 'running')",
                &[],
            )
            .map_err(|e| self.db(e))?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    fn ready(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        conn.client()
            .query_one("SELECT count(*) FROM jobs WHERE id = 0", &[])
            .map(|_| ())
            .map_err(|e| self.db(e))
    }

    fn verdict(
        &self,
        id: i64,
    ) -> Result<Option<(String, String, String, Option<String>)>, StoreError> {
        let mut conn = self.conn()?;
        let row = conn
            .client()
            .query_opt(
                "SELECT repo, head_sha, verdict_json, bundle_json FROM verdicts WHERE id = $1",
                &[&id],
            )
            .map_err(|e| self.db(e))?;
        Ok(row.map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))))
    }

    fn state(&self, delivery_id: &str) -> Result<Option<(String, u32)>, StoreError> {
        let mut conn = self.conn()?;
        let row = conn
            .client()
            .query_opt(
                "SELECT state, completions FROM jobs WHERE delivery_id = $1",
                &[&delivery_id],
            )
            .map_err(|e| self.db(e))?;
        Ok(row.map(|r| (r.get(0), r.get::<_, i32>(1) as u32)))
    }
}

impl VerdictStore for PostgresStore {
    fn save_verdict(
        &self,
        repo: &str,
        head_sha: &str,
        verdict_json: &str,
        bundle_json: Option<&str>,
    ) -> Result<i64, StoreError> {
        let mut conn = self.conn()?;
        let row = conn
            .client()
            .query_one(
                "INSERT INTO verdicts (repo, head_sha, verdict_json, bundle_json, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&repo, &head_sha, &verdict_json, &bundle_json, &now_ms()],
            )
            .map_err(|e| self.db(e))?;
        Ok(row.get(0))
    }
}
