//! Prometheus metrics: deliveries by outcome, queue depth, evaluation latency, GitHub API calls
//! and the rate limit left. Rendered in the text exposition format at `GET /metrics`.
//!
//! (Skeleton: the signatures are fixed; the webhook-server work fills in the bodies.)

/// The App's metrics, shared by the server and the workers.
#[derive(Debug, Default)]
pub struct Metrics {}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// A webhook delivery was answered: `accepted`, `duplicate`, `bad_signature`, `too_large`,
    /// `malformed`, `missing_header`, `ignored`.
    pub fn delivery(&self, _outcome: &'static str) {}

    /// Jobs waiting in the queue.
    pub fn queue_depth(&self, _depth: u64) {}

    /// An evaluation finished after `seconds`: `success`, `failure`, `superseded`, `retry`.
    pub fn evaluation(&self, _seconds: f64, _outcome: &'static str) {}

    /// A GitHub API call answered with `status` (0: no answer).
    pub fn api_call(&self, _endpoint: &'static str, _status: u16) {}

    /// GitHub's `X-RateLimit-Remaining` after the last call.
    pub fn rate_limit_remaining(&self, _left: u64) {}

    /// The text exposition format.
    pub fn render(&self) -> String {
        String::new()
    }
}
