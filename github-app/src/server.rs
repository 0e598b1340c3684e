//! The HTTP server: `POST /webhook` authenticates a delivery, stores it durably and answers in
//! milliseconds (the worker pool does the GitHub calls later); `GET /healthz`, `GET /readyz` and
//! `GET /metrics` are for the orchestrator and Prometheus.
//!
//! `POST /webhook`, in order (nothing is parsed before the signature is checked):
//!
//! | check | answer |
//! |---|---|
//! | `X-GitHub-Event`, `X-GitHub-Delivery` (1-100 of `[A-Za-z0-9-]`), `X-Hub-Signature-256` present and well formed | 400 |
//! | `Content-Length`, then the bytes actually read, at most `max_body_bytes` | 413 |
//! | the body arrives within [`BODY_TIMEOUT`] | 408 |
//! | the signature is the body's HMAC-SHA256 under the secret | 401 |
//! | the body is a JSON object | 400 |
//! | the event asks for nothing ([`Work::Ignore`]: ping, push, closed pull requests...) | 200 `{"ignored": reason}` |
//! | stored | 202 `{"delivery": id, "queued": true}` |
//! | seen before | 200 `{"delivery": id, "duplicate": true}` |
//! | the store failed, or did not answer within [`ENQUEUE_TIMEOUT`] | 503 (GitHub redelivers) |

use crate::events::{self, Work};
use crate::log;
use crate::metrics::Metrics;
use crate::store::{Enqueued, NewDelivery, Store, StoreError};
use crate::webhook;
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long a client may take to send the body (a slow sender holds a connection, not more).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the answer waits for the store; past it the answer is 503 and GitHub redelivers
/// (if the write still lands, the redelivery is a duplicate).
pub const ENQUEUE_TIMEOUT: Duration = Duration::from_secs(8);

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The durable queue.
    pub store: Arc<dyn Store>,
    /// The webhook secret (never logged).
    pub secret: Vec<u8>,
    /// The App's metrics.
    pub metrics: Arc<Metrics>,
    /// Largest body accepted; larger ones get 413 without being read whole.
    pub max_body_bytes: usize,
    /// Notified once after each accepted delivery, so an idle worker wakes.
    pub wake: Arc<tokio::sync::Notify>,
    /// Set once the App is ready to take traffic (`/readyz`).
    pub ready: Arc<AtomicBool>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("secret", &"***")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("ready", &self.ready.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The App's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/webhook", post(webhook))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/verdicts/{id}", get(verdict))
        .with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` completes, then lets the requests in
/// flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> Response {
    if !state.ready.load(Ordering::Acquire) {
        return (StatusCode::SERVICE_UNAVAILABLE, "starting\n").into_response();
    }
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || store.ready()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready\n").into_response(),
        Ok(Err(e)) => {
            log::event("warn", "not ready", &[("error", &e.to_string())]);
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response(),
    }
}

/// A stored verdict and its Sigstore bundle, linked from the check run's summary:
/// `{"repository", "head_sha", "verdict", "bundle"}` (the bundle is `null` when unsigned).
async fn verdict(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return (StatusCode::NOT_FOUND, "no such verdict\n").into_response();
    };
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || store.verdict(id)).await {
        Ok(Ok(Some((repository, head_sha, verdict, bundle)))) => {
            let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
            axum::Json(serde_json::json!({
                "repository": repository,
                "head_sha": head_sha,
                "verdict": parse(&verdict),
                "bundle": bundle.as_deref().and_then(parse),
            }))
            .into_response()
        }
        Ok(Ok(None)) => (StatusCode::NOT_FOUND, "no such verdict\n").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response(),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    if let Ok(Ok(depth)) = tokio::task::spawn_blocking(move || store.depth()).await {
        state.metrics.queue_depth(depth);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// A refused delivery: counted, logged and answered with `{"error": ...}`.
fn refuse(
    state: &AppState,
    status: StatusCode,
    outcome: &'static str,
    delivery: &str,
    why: &str,
) -> Response {
    state.metrics.delivery(outcome);
    log::event(
        "warn",
        "delivery refused",
        &[
            ("delivery", delivery),
            ("outcome", outcome),
            ("status", status.as_str()),
            ("reason", why),
        ],
    );
    (status, axum::Json(json!({ "error": why }))).into_response()
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn webhook(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    // Only well-formed ids reach the logs.
    let delivery = header_str(headers, "x-github-delivery")
        .filter(|id| webhook::valid_delivery_id(id))
        .unwrap_or_default()
        .to_string();
    let missing = |why: &str| refuse(&state, StatusCode::BAD_REQUEST, "missing_header", "", why);
    let Some(event) = header_str(headers, "x-github-event") else {
        return missing("missing X-GitHub-Event");
    };
    if !webhook::valid_event(event) {
        return missing("malformed X-GitHub-Event");
    }
    let event = event.to_string();
    if header_str(headers, "x-github-delivery").is_none() {
        return missing("missing X-GitHub-Delivery");
    }
    if delivery.is_empty() {
        return missing("malformed X-GitHub-Delivery (1 to 100 of A-Z a-z 0-9 -)");
    }
    let Some(signature) = header_str(headers, "x-hub-signature-256") else {
        return missing("missing X-Hub-Signature-256");
    };
    if webhook::parse_signature(signature).is_none() {
        return missing("malformed X-Hub-Signature-256 (sha256= and 64 hex digits)");
    }
    let signature = signature.to_string();

    let too_large = |state: &AppState| {
        refuse(
            state,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            &delivery,
            &format!("body larger than {} bytes", state.max_body_bytes),
        )
    };
    let declared = header_str(headers, "content-length").map(str::parse::<u64>);
    match declared {
        Some(Ok(len)) if len > state.max_body_bytes as u64 => return too_large(&state),
        Some(Err(_)) => {
            return refuse(
                &state,
                StatusCode::BAD_REQUEST,
                "malformed",
                &delivery,
                "malformed Content-Length",
            );
        }
        _ => {}
    }
    let hint = match declared {
        Some(Ok(len)) => len as usize,
        _ => 0,
    };
    let read = tokio::time::timeout(BODY_TIMEOUT, read_limited(body, state.max_body_bytes, hint));
    let body: Bytes = match read.await.unwrap_or(Err(ReadError::TimedOut)) {
        Ok(body) => body,
        Err(ReadError::TimedOut) => {
            return refuse(
                &state,
                StatusCode::REQUEST_TIMEOUT,
                "malformed",
                &delivery,
                "the body was not sent in time",
            );
        }
        Err(ReadError::TooLarge) => return too_large(&state),
        Err(ReadError::Failed) => {
            return refuse(
                &state,
                StatusCode::BAD_REQUEST,
                "malformed",
                &delivery,
                "the body could not be read",
            );
        }
    };

    if !webhook::verify(&state.secret, &body, &signature) {
        return refuse(
            &state,
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            &delivery,
            "signature mismatch",
        );
    }

    let payload: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return refuse(
                &state,
                StatusCode::BAD_REQUEST,
                "malformed",
                &delivery,
                "the body is not a JSON object",
            );
        }
        Err(_) => {
            return refuse(
                &state,
                StatusCode::BAD_REQUEST,
                "malformed",
                &delivery,
                "the body is not JSON",
            );
        }
    };
    let work = events::classify(&event, &payload);
    if let Work::Ignore(reason) = &work {
        state.metrics.delivery("ignored");
        log::event(
            "info",
            "delivery ignored",
            &[
                ("delivery", &delivery),
                ("event", &event),
                ("reason", reason),
            ],
        );
        return (StatusCode::OK, axum::Json(json!({ "ignored": reason }))).into_response();
    }
    let key = events::coalescing_key(&work);

    let store = state.store.clone();
    let (id, ev, k) = (delivery.clone(), event.clone(), key.clone());
    let enqueue = tokio::task::spawn_blocking(move || {
        store.enqueue(&NewDelivery {
            id: &id,
            event: &ev,
            payload: &body,
            key: k.as_deref(),
        })
    });
    let stored = match tokio::time::timeout(ENQUEUE_TIMEOUT, enqueue).await {
        Ok(joined) => joined.map_err(|e| e.to_string()),
        Err(_) => Err("timed out".to_string()),
    };
    let key = key.unwrap_or_default();
    match stored {
        Ok(Ok(Enqueued::Accepted)) => {
            state.metrics.delivery("accepted");
            state.wake.notify_one();
            log::event(
                "info",
                "delivery queued",
                &[("delivery", &delivery), ("event", &event), ("key", &key)],
            );
            (
                StatusCode::ACCEPTED,
                axum::Json(json!({ "delivery": delivery, "queued": true })),
            )
                .into_response()
        }
        Ok(Ok(Enqueued::Duplicate)) => {
            state.metrics.delivery("duplicate");
            log::event(
                "info",
                "delivery seen before",
                &[("delivery", &delivery), ("event", &event)],
            );
            (
                StatusCode::OK,
                axum::Json(json!({ "delivery": delivery, "duplicate": true })),
            )
                .into_response()
        }
        Ok(Err(StoreError::Invalid(why))) => refuse(
            &state,
            StatusCode::BAD_REQUEST,
            "malformed",
            &delivery,
            &why,
        ),
        Ok(Err(e)) => store_down(&state, &delivery, &e.to_string()),
        Err(why) => store_down(&state, &delivery, &why),
    }
}

/// The queue failed: 503, the detail only in the log.
fn store_down(state: &AppState, delivery: &str, error: &str) -> Response {
    log::event(
        "error",
        "enqueue failed",
        &[("delivery", delivery), ("error", error)],
    );
    refuse(
        state,
        StatusCode::SERVICE_UNAVAILABLE,
        "store_error",
        delivery,
        "the queue is unavailable; redeliver later",
    )
}

enum ReadError {
    TooLarge,
    TimedOut,
    Failed,
}

/// Reads at most `limit` bytes of `body`; stops (without reading further) as soon as more come.
async fn read_limited(mut body: Body, limit: usize, hint: usize) -> Result<Bytes, ReadError> {
    // The declared length is only a hint: a client that declares much and sends little must not
    // make the server reserve it.
    let mut buf = Vec::with_capacity(hint.min(limit).min(64 << 10));
    loop {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => return Ok(Bytes::from(buf)),
            Some(Err(_)) => return Err(ReadError::Failed),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if buf.len() + data.len() > limit {
                        return Err(ReadError::TooLarge);
                    }
                    buf.extend_from_slice(&data);
                }
            }
        }
    }
}
