//! The `cavra/gate` commit status, joined to the pipeline when GitLab lets it.

use gitlab::api::projects::repository::commits::CreateCommitStatus;
use gitlab::api::{self, ApiError, Query};

use super::transport::{Transport, TransportError};
use super::{FIELD_MAX_BYTES, GitlabConfig, StatusState};
use crate::{ForgeError, STATUS_NAME};

/// `value` when GitLab accepts its length, else nothing (rather than failing the report).
fn fitting(value: Option<&String>) -> Option<&str> {
    value
        .map(String::as_str)
        .filter(|v| !v.is_empty() && v.len() <= FIELD_MAX_BYTES)
}

/// Sets the status on `sha`; the action line.
pub(super) fn set(
    client: &Transport<'_>,
    cfg: &GitlabConfig,
    sha: &str,
    state: StatusState,
    description: &str,
) -> Result<String, ForgeError> {
    let sha = sha.trim();
    if sha.is_empty() {
        return Err(ForgeError::Config(
            "GitLab: no commit to set the status on".into(),
        ));
    }
    let short = sha.get(..7).unwrap_or(sha);
    let action = format!(
        "commit status {STATUS_NAME} = {} on {short}",
        state.as_str()
    );
    let post = |pipeline_id: Option<u64>| {
        let mut builder = CreateCommitStatus::builder();
        builder
            .project(cfg.project_id())
            .commit(sha)
            .state(state.endpoint_state())
            .name(STATUS_NAME)
            .description(description);
        if let Some(url) = fitting(cfg.target_url.as_ref()) {
            builder.target_url(url);
        }
        if let Some(name) = fitting(cfg.ref_name.as_ref()) {
            builder.ref_(name);
        }
        if let Some(id) = pipeline_id {
            builder.pipeline_id(id);
        }
        let endpoint = builder
            .build()
            .map_err(|e| ForgeError::Config(format!("GitLab: commit status: {e}")))?;
        Ok(api::raw(endpoint).query(client))
    };
    let mut answer = post(cfg.pipeline_id)?;
    let mut outside = None;
    // GitLab answers 404 "Pipeline for pipeline_id, sha and ref" when the pipeline ran on
    // another commit (a merged-results pipeline tests the merge commit, the gate reports on the
    // merge request's head) or another ref. Then the status goes on that commit's own pipeline
    // (or an external one GitLab makes) rather than failing the report.
    if let (Some(id), Err(e)) = (cfg.pipeline_id, &answer) {
        if no_such_pipeline(e) {
            client.forget_give_up();
            answer = post(None)?;
            outside = Some(id);
        }
    }
    match answer {
        Ok(_) => Ok(match outside {
            Some(id) => {
                format!("{action} (outside pipeline {id}, which ran on another commit or ref)")
            }
            None => action,
        }),
        Err(e) if already_in(&e, state) => {
            client.forget_give_up();
            Ok(format!("{action} (already set)"))
        }
        Err(e) => Err(client.error("set commit status", e)),
    }
}

/// `404 Pipeline for pipeline_id, sha and ref Not Found`.
fn no_such_pipeline(err: &ApiError<TransportError>) -> bool {
    matches!(err, ApiError::GitlabWithStatus { status, msg }
        if status.as_u16() == 404 && msg.contains("Pipeline for pipeline_id"))
}

/// GitLab refuses to re-post the state a status already has: `400 Cannot transition status via
/// :run from :running`. That is success.
fn already_in(err: &ApiError<TransportError>, state: StatusState) -> bool {
    match err {
        ApiError::GitlabWithStatus { status, msg } => {
            status.as_u16() == 400
                && msg.contains("Cannot transition status")
                && msg.contains(&format!("from :{}", state.as_str()))
        }
        _ => false,
    }
}
