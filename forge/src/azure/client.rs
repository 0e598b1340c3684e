//! Requests for one pull request, and what Azure DevOps' answers mean: a sign-in page is a
//! 401, an error's own words come from its JSON body.

use std::time::Duration;

use serde_json::Value;

use super::{API_VERSION, AzureAuth, AzureConfig, FORGE, check_url, encode_segment};
use crate::ForgeError;
use crate::http::{Exchange, Reply, client};
use crate::present::bounded;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Sends requests for one pull request.
pub(super) struct Client<'a> {
    pub(super) cfg: &'a AzureConfig,
    http: reqwest::blocking::Client,
    /// `{collection}/{project}/_apis/git/repositories/{repo}/pullRequests/{id}`.
    base: String,
}

impl<'a> Client<'a> {
    pub(super) fn new(cfg: &'a AzureConfig) -> Result<Client<'a>, ForgeError> {
        check_url(&cfg.collection_url)
            .map_err(|why| ForgeError::Config(format!("Azure DevOps collection URL: {why}")))?;
        for (name, value) in [
            ("project", &cfg.project),
            ("repository id", &cfg.repository_id),
        ] {
            if value.trim().is_empty() {
                return Err(ForgeError::Config(format!(
                    "Azure DevOps: the {name} is empty"
                )));
            }
        }
        if cfg.token.expose().is_empty() {
            return Err(ForgeError::Config(
                "Azure DevOps: the token is empty".into(),
            ));
        }
        let http = client(FORGE, REQUEST_TIMEOUT)?;
        let base = format!(
            "{}/{}/_apis/git/repositories/{}/pullRequests/{}",
            cfg.collection_url.trim_end_matches('/'),
            encode_segment(&cfg.project),
            encode_segment(&cfg.repository_id),
            cfg.pull_request_id
        );
        Ok(Client { cfg, http, base })
    }

    /// The URL of `path` below the pull request, with the API version.
    pub(super) fn url(&self, path: &str) -> String {
        let version = match self.cfg.api_version.trim() {
            "" => API_VERSION,
            v => v,
        };
        format!(
            "{}{path}?api-version={}",
            self.base,
            encode_segment(version)
        )
    }

    /// An answer that is not what the API documents.
    pub(super) fn unexpected(&self, operation: &str, message: &str) -> ForgeError {
        ForgeError::Api {
            forge: FORGE,
            operation: operation.into(),
            status: 200,
            message: message.into(),
        }
    }

    /// The `value` array of the list at `path` (empty when the answer has none).
    pub(super) fn list(&self, path: &str, operation: &str) -> Result<Vec<Value>, ForgeError> {
        let list = self.send(reqwest::Method::GET, &self.url(path), None, operation)?;
        Ok(match list {
            Value::Object(mut fields) => match fields.remove("value") {
                Some(Value::Array(values)) => values,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        })
    }

    /// Sends one request, retrying as the policy says; the JSON answer (`Null` when empty).
    pub(super) fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
        operation: &str,
    ) -> Result<Value, ForgeError> {
        let build = || {
            let request = self
                .http
                .request(method.clone(), url)
                .header("Accept", "application/json");
            let request = match self.cfg.auth {
                AzureAuth::Bearer => request.bearer_auth(self.cfg.token.expose()),
                AzureAuth::Basic => request.basic_auth("", Some(self.cfg.token.expose())),
            };
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        };
        let failure = |reply: &Reply| match reply.status {
            _ if sign_in_page(reply) => Some(401),
            200..300 => None,
            status => Some(status),
        };
        let exchange = Exchange {
            forge: FORGE,
            retry: &self.cfg.retry,
            token: &self.cfg.token,
        };
        let reply =
            exchange
                .send(&build, &failure, false)
                .map_err(|message| ForgeError::Transport {
                    forge: FORGE,
                    operation: operation.into(),
                    message,
                })?;
        let text = String::from_utf8_lossy(&reply.body);
        let (status, message) = match reply.status {
            s if sign_in_page(&reply) => (
                401,
                format!(
                    "the token was not accepted (Azure DevOps answered HTTP {s} with a sign-in page)"
                ),
            ),
            200..300 if text.trim().is_empty() => return Ok(Value::Null),
            200..300 => {
                return serde_json::from_str(&text).map_err(|e| {
                    self.unexpected(operation, &format!("the answer is not JSON: {e}"))
                });
            }
            403 if reply.header("retry-after").is_none() => (
                403,
                format!(
                    "{}; with System.AccessToken, allow the build service identity \
                     \"Contribute to pull requests\" on the repository",
                    error_message(&text)
                ),
            ),
            s => (s, error_message(&text)),
        };
        let message = match reply.gave_up {
            Some(why) => format!("{message} ({why})"),
            None => message,
        };
        Err(ForgeError::Api {
            forge: FORGE,
            operation: operation.into(),
            status,
            message: self.cfg.token.scrub(&message),
        })
    }
}

/// Azure DevOps answers a request it cannot authenticate with a sign-in page: 203 (or a
/// redirect, or a 200 HTML page). That is a 401.
fn sign_in_page(reply: &Reply) -> bool {
    let html = reply
        .header("content-type")
        .is_some_and(|t| t.contains("text/html"));
    let s = reply.status;
    s == 203 || ((200..400).contains(&s) && (html || s >= 300))
}

/// Azure DevOps' own words from an error answer (`{"message": "TF401019: …", …}`), else the
/// start of the body.
fn error_message(text: &str) -> String {
    if let Ok(value) = serde_json::from_str::<Value>(text)
        && let Some(message) = value.get("message").and_then(Value::as_str)
    {
        return message.to_string();
    }
    if text.trim().is_empty() {
        return "no message".into();
    }
    bounded(text, 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_come_from_the_json_body() {
        let body = r#"{"$id":"1","innerException":null,"message":"TF401180: not found","typeKey":"X","errorCode":0}"#;
        assert_eq!(error_message(body), "TF401180: not found");
        assert_eq!(error_message(""), "no message");
        assert_eq!(error_message(&"x".repeat(400)).chars().count(), 301);
    }
}
