//! cavra's merge-request note: found again by [`NOTE_MARKER`], created once, updated in place.

use gitlab::api::common::SortOrder;
use gitlab::api::projects::merge_requests::notes::{
    CreateMergeRequestNote, EditMergeRequestNote, MergeRequestNotes,
};
use gitlab::api::{self, Pagination, Query};

use super::transport::Transport;
use super::{FORGE, GitlabConfig, NOTE_MAX_CHARS};
use crate::ForgeError;
use crate::present::{NOTE_MARKER, truncate};

/// How many notes are read, at most, looking for cavra's (20 pages of 100).
const MAX_NOTES: usize = 2_000;

/// The note's body: the summary, starting with [`NOTE_MARKER`] (added when it does not), cut
/// to GitLab's limit.
pub(super) fn body(summary: &str) -> String {
    let body = if summary.trim_start().starts_with(NOTE_MARKER) {
        summary.trim_start().to_string()
    } else {
        format!("{NOTE_MARKER}\n{summary}")
    };
    truncate(&body, NOTE_MAX_CHARS)
}

/// Updates cavra's note on merge request `iid`, or creates it; `(note id, created)`.
///
/// After a failure that may be stale (the note was changed, 409, or deleted, 404, since it was
/// listed) or may have taken effect (a create answered 5xx or not at all), the notes are listed
/// again, once, so a run never leaves a second cavra note.
pub(super) fn upsert(
    client: &Transport<'_>,
    cfg: &GitlabConfig,
    iid: u64,
    body: &str,
) -> Result<(u64, bool), ForgeError> {
    let mut looked_again = false;
    loop {
        let result = match find_note(client, cfg, iid)? {
            None => create_note(client, cfg, iid, body).map(|id| (id, true)),
            Some(id) => edit_note(client, cfg, iid, id, body).map(|()| (id, false)),
        };
        match result {
            Err(e) if !looked_again && worth_a_second_look(&e) => looked_again = true,
            other => return other,
        }
    }
}

fn worth_a_second_look(err: &ForgeError) -> bool {
    match err {
        ForgeError::Transport { .. } => true,
        ForgeError::Api { status, .. } => matches!(status, 404 | 409 | 500..=599),
        ForgeError::Config(_) => false,
    }
}

/// cavra's note: the oldest note that is not a system note and whose body starts with
/// [`NOTE_MARKER`] (cavra's bodies always do). A body that merely contains the marker is someone
/// quoting or copying cavra's note (`> <!-- cavra:gate -->`), which cavra could not edit anyway.
fn find_note(
    client: &Transport<'_>,
    cfg: &GitlabConfig,
    iid: u64,
) -> Result<Option<u64>, ForgeError> {
    let endpoint = MergeRequestNotes::builder()
        .project(cfg.project_id())
        .merge_request(iid)
        .sort(SortOrder::Ascending)
        .build()
        .map_err(|e| ForgeError::Config(format!("GitLab: list notes: {e}")))?;
    let notes: Vec<serde_json::Value> = api::paged(endpoint, Pagination::Limit(MAX_NOTES))
        .query(client)
        .map_err(|e| client.error("list merge request notes", e))?;
    Ok(notes
        .iter()
        .filter(|n| n["system"].as_bool() != Some(true))
        .filter(|n| {
            n["body"]
                .as_str()
                .is_some_and(|body| body.trim_start().starts_with(NOTE_MARKER))
        })
        .find_map(|n| n["id"].as_u64()))
}

fn create_note(
    client: &Transport<'_>,
    cfg: &GitlabConfig,
    iid: u64,
    body: &str,
) -> Result<u64, ForgeError> {
    let endpoint = CreateMergeRequestNote::builder()
        .project(cfg.project_id())
        .merge_request(iid)
        .body(body)
        .build()
        .map_err(|e| ForgeError::Config(format!("GitLab: create note: {e}")))?;
    let operation = "create merge request note";
    client.at_most_once.set(true);
    let answer = api::raw(endpoint).query(client);
    client.at_most_once.set(false);
    let answer = answer.map_err(|e| client.error(operation, e))?;
    serde_json::from_slice::<serde_json::Value>(&answer)
        .ok()
        .and_then(|note| note["id"].as_u64())
        .ok_or_else(|| ForgeError::Transport {
            forge: FORGE,
            operation: operation.into(),
            message: "the answer holds no note id".into(),
        })
}

fn edit_note(
    client: &Transport<'_>,
    cfg: &GitlabConfig,
    iid: u64,
    note: u64,
    body: &str,
) -> Result<(), ForgeError> {
    let endpoint = EditMergeRequestNote::builder()
        .project(cfg.project_id())
        .merge_request(iid)
        .note(note)
        .body(body)
        .build()
        .map_err(|e| ForgeError::Config(format!("GitLab: update note: {e}")))?;
    api::raw(endpoint)
        .query(client)
        .map(|_| ())
        .map_err(|e| client.error("update merge request note", e))
}
