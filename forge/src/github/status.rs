//! The `cavra/gate` commit status: for a token that may not write checks, or by choice.

use octocrab::models::StatusState;
use serde::Serialize;

use super::client::{Client, Failure};
use super::{MAX_STATUS_DESCRIPTION_CHARS, short};
use crate::present::{GateState, cut_chars};
use crate::{Posted, STATUS_NAME};

/// The commit status body.
#[derive(Serialize)]
struct StatusBody<'a> {
    state: StatusState,
    context: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_url: Option<&'a str>,
    description: String,
}

/// The commit status state of `state`. A missing approval is a `failure` whose description
/// (the title) says who must approve: `pending` would claim that something is still running.
pub(super) fn status_of(state: GateState) -> StatusState {
    match state {
        GateState::Success | GateState::Neutral => StatusState::Success,
        GateState::ActionRequired | GateState::Failure => StatusState::Failure,
    }
}

impl Client<'_> {
    /// Sets the `cavra/gate` commit status; `notes` come first in the actions.
    pub(super) fn status(
        &self,
        sha: &str,
        state: StatusState,
        description: &str,
        mut notes: Vec<String>,
    ) -> Result<Posted, Failure> {
        let body = StatusBody {
            state,
            context: STATUS_NAME,
            target_url: self.cfg.details_url.as_deref(),
            description: cut_chars(description, MAX_STATUS_DESCRIPTION_CHARS),
        };
        let route = format!("/repos/{}/{}/statuses/{sha}", self.owner, self.name);
        self.send("create commit status", http::Method::POST, &route, &body)?;
        let word = match state {
            StatusState::Success => "success",
            StatusState::Failure => "failure",
            StatusState::Pending => "pending",
            _ => "error",
        };
        notes.push(format!(
            "commit status {STATUS_NAME} set on {}: {word} ({})",
            short(sha),
            body.description
        ));
        Ok(Posted {
            actions: notes,
            url: self.cfg.details_url.clone(),
        })
    }
}
