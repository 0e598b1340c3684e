//! The `gitlab` crate's `Client` over the shared blocking exchange ([`crate::http`]).

use std::cell::{Cell, RefCell};
use std::time::Duration;

use bytes::Bytes;
use gitlab::api::{self, ApiError};
use http::header::{HeaderName, HeaderValue};

use super::{FORGE, GitlabConfig, TokenKind, check_api_url};
use crate::http::{Exchange, Reply, client};
use crate::present::bounded;
use crate::retry::RetryPolicy;
use crate::{ForgeError, Token};

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A transport failure (connection, TLS, timeout), already scrubbed of the token.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct TransportError(String);

/// The `gitlab` crate's `Client` over blocking reqwest, with [`RetryPolicy`] applied to every
/// request and the token in the header its kind needs. See the module documentation for why.
pub(super) struct Transport<'a> {
    http: reqwest::blocking::Client,
    rest_url: reqwest::Url,
    auth: (HeaderName, HeaderValue),
    token: &'a Token,
    kind: TokenKind,
    retry: &'a RetryPolicy,
    /// Why the last request stopped being retried, for its error message.
    gave_up: RefCell<Option<String>>,
    /// The request must not be repeated once GitLab may have acted on it (creating a note):
    /// a 5xx or a lost answer is returned at once; a 429 or refused connection is still retried.
    pub(super) at_most_once: Cell<bool>,
}

impl<'a> Transport<'a> {
    pub(super) fn new(cfg: &'a GitlabConfig) -> Result<Transport<'a>, ForgeError> {
        let rest_url = check_api_url(&cfg.api_url)?;
        if cfg.project.trim_matches('/').is_empty() {
            return Err(ForgeError::Config("GitLab: no project given".into()));
        }
        let name = match cfg.token_kind {
            TokenKind::Private => HeaderName::from_static("private-token"),
            TokenKind::Job => HeaderName::from_static("job-token"),
        };
        let mut value = HeaderValue::from_str(cfg.token.expose())
            .ok()
            .filter(|_| !cfg.token.expose().is_empty())
            .ok_or_else(|| {
                ForgeError::Config("GitLab: the token is empty or not a valid header value".into())
            })?;
        value.set_sensitive(true);
        Ok(Transport {
            http: client(FORGE, REQUEST_TIMEOUT)?,
            rest_url,
            auth: (name, value),
            token: &cfg.token,
            kind: cfg.token_kind,
            retry: &cfg.retry,
            gave_up: RefCell::new(None),
            at_most_once: Cell::new(false),
        })
    }

    /// Forgets why an earlier request stopped being retried.
    pub(super) fn forget_give_up(&self) {
        self.gave_up.borrow_mut().take();
    }

    /// The error for a failed query: GitLab's own `message`/`error`, scrubbed and bounded, why
    /// retries stopped, and for a job token which token to set instead.
    pub(super) fn error(&self, operation: &str, err: ApiError<TransportError>) -> ForgeError {
        let reason = self.gave_up.borrow_mut().take();
        let with_reason = |message: String| match &reason {
            Some(why) => format!("{message} ({why})"),
            None => message,
        };
        let (status, message) = match err {
            ApiError::Client { source } => {
                return ForgeError::Transport {
                    forge: FORGE,
                    operation: operation.into(),
                    message: self.token.scrub(&with_reason(source.0)),
                };
            }
            ApiError::GitlabWithStatus { status, msg } => (status.as_u16(), msg),
            ApiError::GitlabObjectWithStatus { status, obj }
            | ApiError::GitlabUnrecognizedWithStatus { status, obj } => {
                (status.as_u16(), obj.to_string())
            }
            ApiError::GitlabService { status, data } => {
                let text = String::from_utf8_lossy(&data).trim().to_string();
                let text = if text.is_empty() {
                    status
                        .canonical_reason()
                        .unwrap_or("no message")
                        .to_string()
                } else {
                    text
                };
                (status.as_u16(), text)
            }
            ApiError::GitlabRateLimited { retry_after, .. } => (
                429,
                format!(
                    "rate limited (GitLab asks to wait {}s)",
                    retry_after.as_secs()
                ),
            ),
            other => {
                return ForgeError::Transport {
                    forge: FORGE,
                    operation: operation.into(),
                    message: self
                        .token
                        .scrub(&with_reason(bounded(&other.to_string(), 500))),
                };
            }
        };
        let mut message = with_reason(bounded(&message, 500));
        if self.kind == TokenKind::Job && matches!(status, 401 | 403 | 404) {
            message.push_str(
                ". GitLab does not let a CI job token (CI_JOB_TOKEN) set commit statuses or \
                 write merge request notes: set CAVRA_GITLAB_TOKEN to a project access token \
                 with the api scope and the Developer role (Reporter is enough for notes alone)",
            );
        }
        ForgeError::Api {
            forge: FORGE,
            operation: operation.into(),
            status,
            message: self.token.scrub(&message),
        }
    }
}

impl api::RestClient for Transport<'_> {
    type Error = TransportError;

    fn rest_endpoint(&self, endpoint: &str) -> Result<reqwest::Url, ApiError<TransportError>> {
        Ok(self.rest_url.join(endpoint)?)
    }
}

impl api::Client for Transport<'_> {
    fn rest(
        &self,
        request: http::request::Builder,
        body: Vec<u8>,
    ) -> Result<http::Response<Bytes>, ApiError<TransportError>> {
        let method = request.method_ref().cloned().unwrap_or_default();
        let uri = request
            .uri_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        // The crate's queries leave an empty query (`…/notes?`) when there are no parameters.
        let uri = uri.strip_suffix('?').map(str::to_string).unwrap_or(uri);
        let mut headers = request.headers_ref().cloned().unwrap_or_default();
        headers.insert(self.auth.0.clone(), self.auth.1.clone());
        self.forget_give_up();
        let exchange = Exchange {
            forge: FORGE,
            retry: self.retry,
            token: self.token,
        };
        let build = || {
            self.http
                .request(method.clone(), &uri)
                .headers(headers.clone())
                .body(body.clone())
        };
        let failure = |reply: &Reply| (!(200..300).contains(&reply.status)).then_some(reply.status);
        let reply = exchange
            .send(&build, &failure, self.at_most_once.get())
            .map_err(|message| ApiError::client(TransportError(message)))?;
        *self.gave_up.borrow_mut() = reply.gave_up;
        let mut response = http::Response::builder().status(reply.status);
        if let Some(h) = response.headers_mut() {
            *h = reply.headers;
        }
        response
            .body(reply.body)
            .map_err(|e| ApiError::client(TransportError(e.to_string())))
    }
}
