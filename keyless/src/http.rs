//! The one HTTP client of the crate: blocking, no redirects, bounded answers, a few retries on
//! 429/5xx and connection failures, and error messages with secrets taken out.

use crate::config::KeylessConfig;
use crate::error::{Error, Result};
use std::io::Read;
use std::time::Duration;

/// The longest server message kept in an error.
const MAX_MESSAGE_CHARS: usize = 500;

/// A request to send: method, URL, headers and an optional JSON body.
pub(crate) struct Request<'a> {
    pub method: reqwest::Method,
    pub url: &'a str,
    pub headers: Vec<(&'static str, String)>,
    pub json_body: Option<Vec<u8>>,
}

/// An answer read in full (within the size limit).
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// The shared blocking client with the configured limits.
pub(crate) struct Http {
    client: reqwest::blocking::Client,
    max_response_bytes: usize,
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl Http {
    pub fn new(config: &KeylessConfig) -> Result<Http> {
        let client = reqwest::blocking::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cavra-keyless/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot set up the HTTP client: {}", chain(&e))))?;
        Ok(Http {
            client,
            max_response_bytes: config.max_response_bytes,
            max_attempts: config.max_attempts.max(1),
            initial_backoff: config.initial_backoff,
            max_backoff: config.max_backoff,
        })
    }

    /// Sends `request`, retrying on 429, 5xx and connection failures. Any other status is
    /// returned as is; the last retryable answer is returned once the attempts are used up.
    pub fn send(
        &self,
        service: &'static str,
        request: &Request<'_>,
        secrets: &[&str],
    ) -> Result<Response> {
        let mut attempt = 1;
        loop {
            let retry_wait = match self.send_once(service, request, secrets) {
                Ok((response, retry_after)) => {
                    let retryable = response.status == 429 || response.status >= 500;
                    if !retryable || attempt >= self.max_attempts {
                        return Ok(response);
                    }
                    retry_after
                }
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Transient(e)) => {
                    if attempt >= self.max_attempts {
                        return Err(e);
                    }
                    None
                }
            };
            let backoff = self
                .initial_backoff
                .saturating_mul(1 << (attempt - 1).min(16));
            std::thread::sleep(retry_wait.unwrap_or(backoff).min(self.max_backoff));
            attempt += 1;
        }
    }

    fn send_once(
        &self,
        service: &'static str,
        request: &Request<'_>,
        secrets: &[&str],
    ) -> Result<(Response, Option<Duration>), Attempt> {
        let mut builder = self.client.request(request.method.clone(), request.url);
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &request.json_body {
            builder = builder
                .header("Content-Type", "application/json")
                .body(body.clone());
        }
        let mut response = builder.send().map_err(|e| {
            let error = Error::Http {
                service,
                message: redact(&chain(&e), secrets),
            };
            if e.is_timeout() || e.is_connect() || e.is_request() {
                Attempt::Transient(error)
            } else {
                Attempt::Fatal(error)
            }
        })?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let location = header("location");
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let limit = self.max_response_bytes;
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(Attempt::Fatal(too_large(service, limit)));
        }
        let mut body = Vec::new();
        response
            .by_ref()
            .take(limit as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| {
                Attempt::Transient(Error::Http {
                    service,
                    message: redact(&format!("reading the answer failed: {e}"), secrets),
                })
            })?;
        if body.len() > limit {
            return Err(Attempt::Fatal(too_large(service, limit)));
        }
        Ok((
            Response {
                status,
                location,
                body,
            },
            retry_after,
        ))
    }
}

/// Whether a failed attempt may be tried again.
enum Attempt {
    Transient(Error),
    Fatal(Error),
}

fn too_large(service: &'static str, limit: usize) -> Error {
    Error::Http {
        service,
        message: format!("the answer is larger than the {limit} byte limit"),
    }
}

/// Turns a non-2xx answer into an error carrying the server's message (redacted); passes 2xx.
pub(crate) fn expect_success(
    service: &'static str,
    response: Response,
    secrets: &[&str],
) -> Result<Response> {
    if (200..300).contains(&response.status) {
        return Ok(response);
    }
    Err(status_error(service, &response, secrets))
}

/// The error for an answer with an unexpected status.
pub(crate) fn status_error(service: &'static str, response: &Response, secrets: &[&str]) -> Error {
    Error::Status {
        service,
        status: response.status,
        message: redact(&server_message(response), secrets),
    }
}

/// The server's explanation: `message` (or `error`) of a JSON body, else the text itself.
fn server_message(response: &Response) -> String {
    let from_json = serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|v| {
            ["message", "error", "detail"]
                .iter()
                .find_map(|k| v.get(k).and_then(|m| m.as_str()).map(str::to_owned))
        });
    let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(&response.body).into_owned());
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = if text.chars().count() > MAX_MESSAGE_CHARS {
        let cut: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
        format!("{cut}...")
    } else {
        text
    };
    if text.is_empty() {
        reqwest::StatusCode::from_u16(response.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("no message")
            .to_owned()
    } else {
        text
    }
}

/// `text` with every secret (of 8 characters or more) replaced by `[redacted]`.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 8) {
        if out.contains(secret) {
            out = out.replace(secret, "[redacted]");
        }
    }
    out
}

/// An error and its sources, without the URL (which may carry query parameters).
fn chain(error: &reqwest::Error) -> String {
    let mut out = String::new();
    let mut current: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = current {
        let text = match e.downcast_ref::<reqwest::Error>() {
            Some(re) if re.url().is_some() => {
                let mut bare = String::new();
                describe_kind(re, &mut bare);
                bare
            }
            _ => e.to_string(),
        };
        if !text.is_empty() && !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        current = e.source();
    }
    if out.is_empty() {
        "request failed".into()
    } else {
        out
    }
}

fn describe_kind(e: &reqwest::Error, out: &mut String) {
    out.push_str(if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "cannot read the answer"
    } else if e.is_redirect() {
        "unexpected redirect"
    } else {
        "request failed"
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            location: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn redacts_every_long_secret() {
        let text =
            "bad token eyJhbGciOi.payload-part-xyz.sig; again eyJhbGciOi.payload-part-xyz.sig";
        let out = redact(text, &["eyJhbGciOi.payload-part-xyz.sig", "short"]);
        assert_eq!(out, "bad token [redacted]; again [redacted]");
        assert_eq!(redact("a short b", &["short"]), "a short b");
    }

    #[test]
    fn server_message_prefers_the_json_message() {
        let r = response(400, r#"{"code":400,"message":"invalid   public key"}"#);
        assert_eq!(server_message(&r), "invalid public key");
        assert_eq!(
            server_message(&response(502, "upstream\ngone")),
            "upstream gone"
        );
        assert_eq!(server_message(&response(503, "")), "Service Unavailable");
        let long = "x".repeat(2000);
        assert_eq!(
            server_message(&response(500, &long)).len(),
            MAX_MESSAGE_CHARS + 3
        );
    }

    #[test]
    fn status_errors_are_redacted() {
        let r = response(401, r#"{"message":"token secret-token-value is expired"}"#);
        let err = expect_success("Fulcio", r, &["secret-token-value"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Fulcio answered HTTP 401: token [redacted] is expired"
        );
        assert!(expect_success("Fulcio", response(201, "{}"), &[]).is_ok());
    }
}
