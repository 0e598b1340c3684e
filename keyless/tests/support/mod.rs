//! Shared test support: a test CA, unsigned identity tokens, loopback HTTP servers playing Fulcio
//! and Rekor (checking requests against the published schemas), and Merkle-tree helpers.
#![allow(dead_code)]

pub mod ca;
pub mod fulcio;
pub mod jwt;
pub mod merkle;
pub mod rekor;
pub mod schema;
pub use cavra_testkit::http as server;

use cavra_keyless::KeylessConfig;
use std::sync::Arc;
use std::time::Duration;

/// A test CA, a mock Fulcio and a mock Rekor (already holding a few entries).
pub struct Services {
    pub ca: Arc<ca::TestCa>,
    pub fulcio: fulcio::MockFulcio,
    pub rekor: rekor::MockRekor,
}

impl Services {
    pub fn start() -> Services {
        let ca = Arc::new(ca::TestCa::new());
        let fulcio = fulcio::MockFulcio::start(ca.clone());
        let rekor = rekor::MockRekor::start(6);
        Services { ca, fulcio, rekor }
    }

    /// A configuration pointing at the mocks, with fast retries.
    pub fn config(&self) -> KeylessConfig {
        KeylessConfig {
            fulcio_url: self.fulcio.url(),
            rekor_url: format!("{}/", self.rekor.url()),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            ..KeylessConfig::default()
        }
    }
}
