//! Why a report failed, in words that say what to do. No message ever holds a token.

/// A failed report.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// Something the caller must supply is missing or malformed (a variable, a URL, the result).
    #[error("{0}")]
    Config(String),
    /// The forge answered with an error that retrying does not fix, or retries ran out.
    #[error("{forge} {operation}: HTTP {status}: {message}{hint}", hint = hint(*status))]
    Api {
        /// `GitHub`, `GitLab` or `Azure DevOps`.
        forge: &'static str,
        /// What was asked, e.g. `create check run`.
        operation: String,
        /// The HTTP status.
        status: u16,
        /// The forge's own message (scrubbed of the token), or the reason retries stopped.
        message: String,
    },
    /// The forge could not be reached (DNS, TLS, connection, timeout) after retries.
    #[error("{forge} {operation}: {message}")]
    Transport {
        /// `GitHub`, `GitLab` or `Azure DevOps`.
        forge: &'static str,
        /// What was asked.
        operation: String,
        /// What went wrong.
        message: String,
    },
}

impl ForgeError {
    /// The HTTP status, for an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ForgeError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// An error with its causes, `: `-joined, each cause once (reqwest's and octocrab's own text
/// leaves out why a connection failed); the first line only (octocrab's `Display` of some
/// variants appends a backtrace section).
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text.lines().next().unwrap_or_default().to_string()
}

/// What an HTTP status usually means for a report, as a hint appended to the message.
fn hint(status: u16) -> &'static str {
    match status {
        401 => " (the token is missing, expired or invalid)",
        403 => " (the token lacks a permission or scope this call needs, or a rate limit was hit)",
        404 => " (no such project, pull request or commit, or the token cannot see it)",
        409 => " (a conflicting change was made at the same time)",
        422 => " (the forge rejected the request's content)",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_name_the_call_and_hint_at_the_cause() {
        let e = ForgeError::Api {
            forge: "GitLab",
            operation: "create commit status".into(),
            status: 401,
            message: "401 Unauthorized".into(),
        };
        let text = e.to_string();
        assert!(
            text.starts_with("GitLab create commit status: HTTP 401"),
            "{text}"
        );
        assert!(text.contains("expired or invalid"), "{text}");
        assert_eq!(e.status(), Some(401));
    }
}
