//! The `cavra/gate` pull-request status, on the iteration of the judged commit.

use serde_json::{Value, json};

use super::client::Client;
use super::{PrStatusState, STATUS_CONTEXT_NAME, STATUS_GENRE};
use crate::{ForgeError, STATUS_NAME};

impl Client<'_> {
    /// The iteration whose source commit is the first of `commits` that has one, else the
    /// latest; `None` when the pull request lists no iterations.
    pub(super) fn iteration(&self, commits: &[Option<&str>]) -> Result<Option<u64>, ForgeError> {
        let iterations: Vec<(u64, String)> = self
            .list("/iterations", "list pull request iterations")?
            .iter()
            .filter_map(|it| {
                let id = it.get("id")?.as_u64()?;
                let commit = it
                    .pointer("/sourceRefCommit/commitId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Some((id, commit.to_ascii_lowercase()))
            })
            .collect();
        for commit in commits.iter().flatten() {
            let commit = commit.trim().to_ascii_lowercase();
            if commit.is_empty() {
                continue;
            }
            if let Some((id, _)) = iterations.iter().rev().find(|(_, c)| *c == commit) {
                return Ok(Some(*id));
            }
        }
        Ok(iterations.iter().map(|(id, _)| *id).max())
    }

    /// Posts the status; the action line.
    pub(super) fn post_status(
        &self,
        state: PrStatusState,
        description: &str,
        iteration: Option<u64>,
    ) -> Result<String, ForgeError> {
        let mut body = json!({
            "state": state.as_str(),
            "description": description,
            "context": {"genre": STATUS_GENRE, "name": STATUS_CONTEXT_NAME},
        });
        if let Some(url) = &self.cfg.target_url {
            body["targetUrl"] = json!(url);
        }
        if let Some(id) = iteration {
            body["iterationId"] = json!(id);
        }
        self.send(
            reqwest::Method::POST,
            &self.url("/statuses"),
            Some(&body),
            "create pull request status",
        )?;
        let on = iteration.map_or(String::new(), |id| format!(" (iteration {id})"));
        Ok(format!(
            "pull request {} status {STATUS_NAME} = {}{on}",
            self.cfg.pull_request_id,
            state.as_str()
        ))
    }
}
