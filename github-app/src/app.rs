//! The process: the store, the evaluator, the worker pool and the webhook server, started and
//! stopped together. SIGTERM or Ctrl-C stops accepting deliveries, lets running evaluations
//! finish or cancel, and puts whatever is still held back in the queue.

use crate::config::{Config, redact_url};
use crate::evaluate::{Evaluator, VerdictStore};
use crate::log;
use crate::metrics::Metrics;
use crate::server::{self, AppState};
use crate::store;
use crate::worker::{Pool, Shared};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Runs the App until it is told to stop.
pub fn run(cfg: Config) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let store = store::open(&cfg.database_url)
        .map_err(|e| format!("database {}: {e}", redact_url(&cfg.database_url)))?;
    let metrics = Arc::new(Metrics::new());
    let verdicts: Arc<dyn VerdictStore> = store.clone();
    let evaluator = Evaluator::new(&cfg, verdicts, metrics.clone())?;
    let wake = Arc::new(tokio::sync::Notify::new());
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(AtomicBool::new(false));
    let pool = Pool::start(
        Shared {
            store: store.clone(),
            handler: Arc::new(evaluator),
            metrics: metrics.clone(),
            lease: cfg.lease,
            stop: stop.clone(),
            wake: wake.clone(),
            runtime: runtime.handle().clone(),
        },
        &worker_prefix(),
        cfg.workers,
    );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&cfg.listen))
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let state = AppState {
        store,
        secret: cfg.webhook_secret.as_bytes().to_vec(),
        metrics,
        max_body_bytes: cfg.max_body_bytes,
        wake,
        ready: ready.clone(),
    };
    ready.store(true, Ordering::SeqCst);
    log::event(
        "info",
        "listening",
        &[
            ("addr", &addr),
            ("database", &redact_url(&cfg.database_url)),
            ("workers", &cfg.workers.to_string()),
        ],
    );
    let served = runtime.block_on(server::serve(listener, state, shutdown_signal()));
    ready.store(false, Ordering::SeqCst);
    log::event("info", "stopping", &[]);
    pool.stop();
    log::event("info", "stopped", &[]);
    served.map_err(|e| format!("server: {e}"))
}

/// Worker names start with the host and process, so replicas sharing a database tell their
/// jobs apart.
fn worker_prefix() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    format!("{host}-{}", std::process::id())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
