//! The blocking HTTP exchange of the reqwest-based forges (GitLab, Azure DevOps): one client
//! set-up (no redirects, so a token never follows one; timeouts) and one sending loop that asks
//! [`RetryPolicy`] after every failed attempt. What a forge's answers mean stays in its module.

use std::time::Duration;

use bytes::Bytes;
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::HeaderMap;

use crate::error::chain;
use crate::retry::{Answer, Next, RetryPolicy, now_unix};
use crate::{ForgeError, Token};

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer read (a page of notes or threads is far smaller).
pub(crate) const MAX_REPLY_BYTES: usize = 16 << 20;

/// A blocking client that follows no redirect, gives up on a request after `timeout`, and
/// says it is cavra.
pub(crate) fn client(forge: &'static str, timeout: Duration) -> Result<Client, ForgeError> {
    Client::builder()
        .user_agent(concat!("cavra/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ForgeError::Transport {
            forge,
            operation: "set up the HTTP client".into(),
            message: chain(&e),
        })
}

/// Reads an answer's body, refusing one over [`MAX_REPLY_BYTES`].
fn read_bounded(rsp: reqwest::blocking::Response) -> std::io::Result<Bytes> {
    use std::io::Read;
    let mut body = Vec::new();
    rsp.take(MAX_REPLY_BYTES as u64 + 1)
        .read_to_end(&mut body)?;
    if body.len() > MAX_REPLY_BYTES {
        return Err(std::io::Error::other(format!(
            "the answer is larger than {MAX_REPLY_BYTES} bytes"
        )));
    }
    Ok(body.into())
}

/// A whole answer.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Why retries stopped, when the answer is a failure that was given up on.
    pub gave_up: Option<String>,
}

impl Reply {
    /// The header `name`, when it is text.
    pub fn header(&self, name: &str) -> Option<String> {
        header(&self.headers, name)
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// How one forge's requests are sent.
pub(crate) struct Exchange<'a> {
    /// `GitLab` or `Azure DevOps`.
    pub forge: &'static str,
    pub retry: &'a RetryPolicy,
    /// Scrubbed from transport messages.
    pub token: &'a Token,
}

impl Exchange<'_> {
    /// Sends the request `build` makes, once per attempt, until an answer is not a failure,
    /// or the policy gives up on it (the reply says why), or no answer came (the error's causes
    /// and why retries stopped, scrubbed of the token).
    ///
    /// `failure` reads an answer: the status the policy should see for a failure (Azure DevOps'
    /// sign-in page is a 401), `None` for a success. With `at_most_once`, a request the forge
    /// may have acted on is not repeated: a 5xx or a lost answer is final; a 429 or a refused
    /// connection is still retried.
    pub fn send(
        &self,
        build: &dyn Fn() -> RequestBuilder,
        failure: &dyn Fn(&Reply) -> Option<u16>,
        at_most_once: bool,
    ) -> Result<Reply, String> {
        let not_repeated = || {
            Next::GiveUp(Some(format!(
                "not repeated, as {} may have acted on it",
                self.forge
            )))
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = build().send().map(|rsp| {
                let status = rsp.status().as_u16();
                let headers = rsp.headers().clone();
                (status, headers, read_bounded(rsp))
            });
            let reply = match sent {
                Ok((status, headers, Ok(body))) => Reply {
                    status,
                    headers,
                    body,
                    gave_up: None,
                },
                Ok((status, _, Err(e))) => {
                    return Err(self.token.scrub(&format!("HTTP {status}: {e}")));
                }
                Err(e) => {
                    let next = if at_most_once && !e.is_connect() {
                        not_repeated()
                    } else {
                        self.retry.next(attempt, &answer(None, &|_| None))
                    };
                    match next {
                        Next::RetryAfter(wait) => {
                            std::thread::sleep(wait);
                            continue;
                        }
                        Next::GiveUp(why) => {
                            let mut message = chain(&e);
                            if let Some(why) = why {
                                message = format!("{message} ({why})");
                            }
                            return Err(self.token.scrub(&message));
                        }
                    }
                }
            };
            let Some(status) = failure(&reply) else {
                return Ok(reply);
            };
            let next = if at_most_once && (500..600).contains(&status) {
                not_repeated()
            } else {
                self.retry
                    .next(attempt, &answer(Some(status), &|name| reply.header(name)))
            };
            match next {
                Next::RetryAfter(wait) => std::thread::sleep(wait),
                Next::GiveUp(why) => {
                    return Ok(Reply {
                        gave_up: why,
                        ..reply
                    });
                }
            }
        }
    }
}

/// What the retry policy reads of an answer.
fn answer<'a>(status: Option<u16>, header: &'a dyn Fn(&str) -> Option<String>) -> Answer<'a> {
    Answer {
        status,
        header,
        now_unix: now_unix(),
    }
}
