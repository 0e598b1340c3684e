//! One octocrab client on its own current-thread runtime, and the loop that retries its
//! requests as [`crate::retry::RetryPolicy`] says (octocrab's own retries are off).

use std::time::Duration;

use octocrab::Octocrab;
use serde::Serialize;

use super::{FORGE, GithubConfig, check_api_url, split_repository};
use crate::error::chain;
use crate::present::cut_chars;
use crate::retry::{self, Answer, Next};
use crate::{ForgeError, Token};

/// A request that failed for good.
pub(super) struct Refused {
    pub(super) error: ForgeError,
    /// GitHub's answer was a rate limit (a header or the message says so).
    rate_limited: bool,
}

impl Refused {
    /// A 403 that is not a rate limit: the token may not write checks (a fork's pull request,
    /// a workflow without `checks: write`).
    pub(super) fn forbids_checks(&self) -> bool {
        self.error.status() == Some(403) && !self.rate_limited
    }
}

/// A failed step: the check run's create request (which may fall back to a status), or a
/// later one.
pub(super) enum Failure {
    Create(Refused),
    Later(ForgeError),
}

impl Failure {
    pub(super) fn into_error(self) -> ForgeError {
        match self {
            Failure::Create(Refused { error, .. }) | Failure::Later(error) => error,
        }
    }
}

impl From<Refused> for Failure {
    fn from(refused: Refused) -> Failure {
        Failure::Later(refused.error)
    }
}

/// The parts of GitHub's answer that are used (lenient, so a new field never breaks a report).
#[derive(serde::Deserialize)]
pub(super) struct Created {
    pub(super) id: Option<u64>,
    pub(super) html_url: Option<String>,
}

/// One octocrab client on its own runtime.
pub(super) struct Client<'a> {
    pub(super) cfg: &'a GithubConfig,
    pub(super) owner: &'a str,
    pub(super) name: &'a str,
    runtime: tokio::runtime::Runtime,
    crab: Octocrab,
}

impl<'a> Client<'a> {
    pub(super) fn new(cfg: &'a GithubConfig) -> Result<Client<'a>, ForgeError> {
        let (owner, name) = split_repository(&cfg.repository)?;
        let api_url = check_api_url(&cfg.api_url, "the API URL")?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ForgeError::Config(format!("GitHub: cannot start a runtime: {e}")))?;
        let base = format!("{api_url}/");
        // Octocrab spawns its request worker, so it is built inside the runtime.
        let crab = runtime
            .block_on(async {
                Octocrab::builder()
                    .base_uri(base.as_str())?
                    .personal_token(cfg.token.expose().to_string())
                    .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
                    .add_header(http::header::ACCEPT, "application/vnd.github+json".into())
                    .set_connect_timeout(Some(Duration::from_secs(15)))
                    .set_read_timeout(Some(Duration::from_secs(60)))
                    .set_write_timeout(Some(Duration::from_secs(60)))
                    .build()
            })
            .map_err(|e| {
                ForgeError::Config(cfg.token.scrub(&format!(
                    "GitHub: cannot use the API URL {api_url:?}: {}",
                    chain(&e)
                )))
            })?;
        Ok(Client {
            cfg,
            owner,
            name,
            runtime,
            crab,
        })
    }

    /// Sends `body` with `method` to `route`, retrying as the policy says.
    pub(super) fn send<B: Serialize>(
        &self,
        operation: &str,
        method: http::Method,
        route: &str,
        body: &B,
    ) -> Result<Created, Refused> {
        self.runtime.block_on(async {
            let mut attempt = 0;
            loop {
                attempt += 1;
                let result: Result<serde_json::Value, octocrab::Error> =
                    if method == http::Method::PATCH {
                        self.crab.patch(route, Some(body)).await
                    } else {
                        self.crab.post(route, Some(body)).await
                    };
                let error = match result {
                    Ok(value) => {
                        return serde_json::from_value::<Created>(value).or(Ok(Created {
                            id: None,
                            html_url: None,
                        }));
                    }
                    Err(error) => error,
                };
                let failed = Failed::of(&error, &self.cfg.token);
                let lookup = |name: &str| failed.header(name);
                let answer = Answer {
                    status: failed.status,
                    header: &lookup,
                    now_unix: retry::now_unix(),
                };
                let next = if failed.retryable {
                    self.cfg.retry.next(attempt, &answer)
                } else {
                    Next::GiveUp(None)
                };
                match next {
                    Next::RetryAfter(wait) => tokio::time::sleep(wait).await,
                    Next::GiveUp(why) => {
                        return Err(Refused {
                            rate_limited: failed.rate_limited(),
                            error: failed.into_error(operation, why),
                        });
                    }
                }
            }
        })
    }
}

/// An octocrab error, read for the retry policy and the message.
struct Failed {
    status: Option<u16>,
    headers: Option<http::HeaderMap>,
    message: String,
    retryable: bool,
}

impl Failed {
    fn of(error: &octocrab::Error, token: &Token) -> Failed {
        match error {
            octocrab::Error::GitHub { source, .. } => {
                let mut message = source.message.clone();
                if let Some(errors) = source.errors.as_ref().filter(|e| !e.is_empty()) {
                    let details = serde_json::to_string(errors).unwrap_or_default();
                    message.push_str(": ");
                    message.push_str(&cut_chars(&details, 500));
                }
                Failed {
                    status: Some(source.status_code.as_u16()),
                    headers: source.headers.clone(),
                    message: token.scrub(&message),
                    retryable: true,
                }
            }
            // No answer came (connection refused or reset, timeout): retried.
            octocrab::Error::Hyper { .. } | octocrab::Error::Service { .. } => Failed {
                status: None,
                headers: None,
                message: token.scrub(&chain(error)),
                retryable: true,
            },
            // Anything else (the answer could not be read) is not retried: the request may
            // well have been carried out.
            other => Failed {
                status: None,
                headers: None,
                message: token.scrub(&chain(other)),
                retryable: false,
            },
        }
    }

    fn header(&self, name: &str) -> Option<String> {
        let value = self.headers.as_ref()?.get(name)?;
        value.to_str().ok().map(str::to_string)
    }

    /// A rate limit, primary or secondary: 429, `Retry-After`, `X-RateLimit-Remaining: 0`,
    /// or a message that says so.
    fn rate_limited(&self) -> bool {
        self.status == Some(429)
            || self.header("retry-after").is_some()
            || self
                .header("x-ratelimit-remaining")
                .is_some_and(|v| v.trim() == "0")
            || self.message.to_ascii_lowercase().contains("rate limit")
    }

    fn into_error(self, operation: &str, why: Option<String>) -> ForgeError {
        let mut message = self.message;
        if let Some(why) = why {
            message = format!("{message} ({why})");
        }
        match self.status {
            Some(status) => ForgeError::Api {
                forge: FORGE,
                operation: operation.to_string(),
                status,
                message,
            },
            None => ForgeError::Transport {
                forge: FORGE,
                operation: operation.to_string(),
                message,
            },
        }
    }
}
