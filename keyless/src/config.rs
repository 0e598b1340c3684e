//! Where Fulcio and Rekor are, and how patiently and how much we read from them.

use crate::error::{Error, Result};
use std::time::Duration;

/// The public-good Fulcio instance.
pub const DEFAULT_FULCIO_URL: &str = "https://fulcio.sigstore.dev";
/// The public-good Rekor instance.
pub const DEFAULT_REKOR_URL: &str = "https://rekor.sigstore.dev";
/// The audience Fulcio expects in identity tokens (the public-good client id).
pub const DEFAULT_AUDIENCE: &str = "sigstore";

/// Service endpoints and HTTP limits for keyless signing.
///
/// URLs must be `https`, except on loopback hosts (`localhost`, `127.0.0.0/8`, `[::1]`), where
/// `http` is accepted for local instances and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeylessConfig {
    /// Fulcio base URL, without the `/api/v2/...` path.
    pub fulcio_url: String,
    /// Rekor base URL, without the `/api/v1/...` path.
    pub rekor_url: String,
    /// The audience the identity token must carry (and that is asked of GitHub Actions).
    pub audience: String,
    /// Time limit for one whole request (connect, send, read).
    pub timeout: Duration,
    /// Time limit for opening a connection.
    pub connect_timeout: Duration,
    /// Largest response body read; a larger answer is rejected, not truncated.
    pub max_response_bytes: usize,
    /// How many times a request is sent at most (1 = no retry). Retried: 429, 5xx, connection
    /// failures and timeouts.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each further one (a `Retry-After` of a few
    /// seconds from the server is honoured instead, capped at [`KeylessConfig::max_backoff`]).
    pub initial_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
}

impl Default for KeylessConfig {
    fn default() -> Self {
        KeylessConfig {
            fulcio_url: DEFAULT_FULCIO_URL.into(),
            rekor_url: DEFAULT_REKOR_URL.into(),
            audience: DEFAULT_AUDIENCE.into(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_response_bytes: 1 << 20,
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
        }
    }
}

impl KeylessConfig {
    /// Checks the URLs and limits; called by the signer before any request.
    pub fn validate(&self) -> Result<()> {
        check_url("fulcio_url", &self.fulcio_url)?;
        check_url("rekor_url", &self.rekor_url)?;
        if self.audience.trim().is_empty() {
            return Err(Error::Config("audience is empty".into()));
        }
        if self.max_attempts == 0 {
            return Err(Error::Config("max_attempts must be at least 1".into()));
        }
        if self.max_response_bytes == 0 {
            return Err(Error::Config("max_response_bytes must be positive".into()));
        }
        Ok(())
    }
}

/// A base URL with its trailing slashes removed, checked for scheme and host.
pub(crate) fn check_url(field: &str, url: &str) -> Result<()> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::Config(format!("{field} `{url}` is not a URL: {e}")))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| Error::Config(format!("{field} `{url}` has no host")))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(host) => Ok(()),
        scheme => Err(Error::Config(format!(
            "{field} `{url}` must use https (plain `{scheme}` is accepted only on loopback hosts)"
        ))),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `base` without trailing slashes, followed by `path` (which starts with `/`).
pub(crate) fn join(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_public_good_and_valid() {
        let config = KeylessConfig::default();
        assert_eq!(config.fulcio_url, "https://fulcio.sigstore.dev");
        assert_eq!(config.rekor_url, "https://rekor.sigstore.dev");
        config.validate().unwrap();
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(check_url("u", "http://127.0.0.1:8080").is_ok());
        assert!(check_url("u", "http://[::1]:8080").is_ok());
        assert!(check_url("u", "http://localhost").is_ok());
        let err = check_url("u", "http://fulcio.example.com").unwrap_err();
        assert!(err.to_string().contains("must use https"), "{err}");
        assert!(check_url("u", "ftp://127.0.0.1").is_err());
        assert!(check_url("u", "not a url").is_err());
    }

    #[test]
    fn zero_limits_are_rejected() {
        let config = KeylessConfig {
            max_attempts: 0,
            ..KeylessConfig::default()
        };
        assert!(config.validate().is_err());
        let config = KeylessConfig {
            audience: " ".into(),
            ..KeylessConfig::default()
        };
        assert!(config.validate().is_err());
    }

    #[test]
    fn join_strips_trailing_slashes() {
        assert_eq!(join("https://x/", "/api"), "https://x/api");
        assert_eq!(join("https://x", "/api"), "https://x/api");
    }
}
