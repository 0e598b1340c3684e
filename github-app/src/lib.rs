//! The cavra GitHub App: every pull request of every repository the App is installed on gets a
//! `cavra/gate` check run that branch protection can require, pinned to the App.
//!
//! ```text
//! POST /webhook -> webhook (signature, limits, dedupe) -> store (durable queue, SQLite/PostgreSQL)
//!   -> worker pool -> events (what to evaluate) -> evaluate (installation token, git cache,
//!      gate, approvals, signed verdict) -> check run completed
//! ```

pub mod app;
pub mod config;
pub mod evaluate;
pub mod events;
pub mod log;
pub mod metrics;
pub mod server;
pub mod store;
pub mod webhook;
pub mod worker;
