//! When to try a request again, and how long to wait first: one policy for every forge.
//!
//! Retried: connection failures, 429, 500, 502, 503, 504, and a 403 that is a rate limit (it
//! carries `Retry-After`, or `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset`). A wait
//! the server asks for is honoured up to [`RetryPolicy::max_wait`]; beyond that the request
//! fails at once with the reason, rather than blocking a pipeline for an hour.

use std::time::Duration;

/// How many times, and how patiently, a request is retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all (1: no retry).
    pub attempts: u32,
    /// The first backoff; it doubles each attempt.
    pub initial_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
    /// The longest wait a server may ask for (`Retry-After`, rate-limit reset).
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_wait: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy for tests: the same rules, millisecond waits.
    pub fn fast() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            max_wait: Duration::from_secs(2),
        }
    }
}

/// What the policy says about one failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Wait, then try again.
    RetryAfter(Duration),
    /// Do not retry; the reason is added to the error when it is not the status alone.
    GiveUp(Option<String>),
}

/// The parts of an answer the policy reads (header lookups are case-insensitive).
pub struct Answer<'a> {
    /// The HTTP status, or `None` when no answer came (connection error, timeout).
    pub status: Option<u16>,
    /// Looks a header up by its lowercase name.
    pub header: &'a dyn Fn(&str) -> Option<String>,
    /// Now, in seconds since the Unix epoch (for `X-RateLimit-Reset`).
    pub now_unix: u64,
}

impl RetryPolicy {
    /// What to do after failed attempt number `attempt` (1-based).
    pub fn next(&self, attempt: u32, answer: &Answer<'_>) -> Next {
        let asked = asked_wait(answer);
        let retryable = match answer.status {
            None => true,
            Some(429 | 500 | 502 | 503 | 504) => true,
            Some(403) => asked.is_some(),
            Some(_) => false,
        };
        if !retryable {
            return Next::GiveUp(None);
        }
        if attempt >= self.attempts {
            return Next::GiveUp(Some(format!("gave up after {attempt} attempts")));
        }
        match asked {
            Some(wait) if wait > self.max_wait => Next::GiveUp(Some(format!(
                "rate limited: the forge asks to wait {}s, longer than the {}s allowed",
                wait.as_secs(),
                self.max_wait.as_secs()
            ))),
            Some(wait) => Next::RetryAfter(wait),
            None => Next::RetryAfter(self.backoff(attempt)),
        }
    }

    /// Exponential backoff for attempt `attempt` (1-based), capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// The wait a server asked for: `Retry-After` in seconds, else a rate-limit reset time when
/// nothing is left of the limit.
fn asked_wait(answer: &Answer<'_>) -> Option<Duration> {
    if let Some(v) = (answer.header)("retry-after") {
        if let Ok(secs) = v.trim().parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
    }
    let remaining = (answer.header)("x-ratelimit-remaining")?;
    if remaining.trim() != "0" {
        return None;
    }
    let reset: u64 = (answer.header)("x-ratelimit-reset")?.trim().parse().ok()?;
    Some(Duration::from_secs(reset.saturating_sub(answer.now_unix)))
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(status: Option<u16>, headers: &[(&str, &str)], attempt: u32) -> Next {
        let lookup = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        };
        RetryPolicy::default().next(
            attempt,
            &Answer {
                status,
                header: &lookup,
                now_unix: 1_000,
            },
        )
    }

    #[test]
    fn server_errors_and_rate_limits_are_retried() {
        let s = Duration::from_secs;
        assert_eq!(next(Some(503), &[], 1), Next::RetryAfter(s(1)));
        assert_eq!(next(Some(502), &[], 2), Next::RetryAfter(s(2)));
        assert_eq!(next(None, &[], 3), Next::RetryAfter(s(4)));
        assert_eq!(
            next(Some(429), &[("retry-after", "7")], 1),
            Next::RetryAfter(s(7))
        );
        assert_eq!(
            next(Some(403), &[("retry-after", "3")], 1),
            Next::RetryAfter(s(3))
        );
        let reset = [
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1010"),
        ];
        assert_eq!(next(Some(403), &reset, 1), Next::RetryAfter(s(10)));
    }

    #[test]
    fn client_errors_and_long_waits_are_not() {
        for status in [400, 401, 403, 404, 409, 422] {
            assert_eq!(next(Some(status), &[], 1), Next::GiveUp(None), "{status}");
        }
        let left = [
            ("x-ratelimit-remaining", "12"),
            ("x-ratelimit-reset", "1010"),
        ];
        assert_eq!(next(Some(403), &left, 1), Next::GiveUp(None));
        match next(Some(429), &[("retry-after", "3600")], 1) {
            Next::GiveUp(Some(why)) => assert!(why.contains("3600s"), "{why}"),
            other => panic!("{other:?}"),
        }
        match next(Some(500), &[], 4) {
            Next::GiveUp(Some(why)) => assert!(why.contains("4 attempts"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
