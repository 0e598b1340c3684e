//! cavra's pull-request thread: found again by its property or marker, created once, updated
//! in place, active while the verdict blocks.

use serde_json::{Value, json};

use super::THREAD_PROPERTY;
use super::client::Client;
use crate::ForgeError;
use crate::present::{GateState, NOTE_MARKER};

impl Client<'_> {
    /// Creates or updates cavra's thread; returns the action and the thread's id.
    pub(super) fn upsert_thread(
        &self,
        content: &str,
        gate: GateState,
    ) -> Result<(String, u64), ForgeError> {
        let pr = self.cfg.pull_request_id;
        let threads: Vec<Found> = self
            .list("/threads", "list pull request threads")?
            .iter()
            .filter_map(ours)
            .collect();
        // A thread carrying the property wins over one found by the marker alone.
        let found = threads
            .iter()
            .find(|t| t.marked)
            .or_else(|| threads.first());
        let Some(found) = found else {
            let status = if gate.passes() { "closed" } else { "active" };
            let body = json!({
                "comments": [{"parentCommentId": 0, "content": content, "commentType": "text"}],
                "status": status,
                "properties": {THREAD_PROPERTY: {"$type": "System.String", "$value": "1"}},
            });
            let created = self.send(
                reqwest::Method::POST,
                &self.url("/threads"),
                Some(&body),
                "create pull request thread",
            )?;
            let id = created.get("id").and_then(Value::as_u64).ok_or_else(|| {
                self.unexpected("create pull request thread", "the answer has no thread id")
            })?;
            return Ok((
                format!("pull request {pr} thread {id} created ({status})"),
                id,
            ));
        };

        let mut changes = Vec::new();
        if found.content != content {
            self.send(
                reqwest::Method::PATCH,
                &self.url(&format!("/threads/{}/comments/{}", found.id, found.comment)),
                Some(&json!({"content": content})),
                "update pull request thread comment",
            )?;
            changes.push("updated".to_string());
        }
        let resolved = !matches!(found.status.as_str(), "active" | "pending" | "unknown" | "");
        let status = match (gate.passes(), resolved) {
            (true, false) => Some("fixed"),
            (false, true) => Some("active"),
            _ => None,
        };
        if let Some(status) = status {
            self.send(
                reqwest::Method::PATCH,
                &self.url(&format!("/threads/{}", found.id)),
                Some(&json!({"status": status})),
                "update pull request thread status",
            )?;
            changes.push(status.to_string());
        }
        let what = if changes.is_empty() {
            "unchanged".to_string()
        } else {
            changes.join(", ")
        };
        Ok((
            format!("pull request {pr} thread {} {what}", found.id),
            found.id,
        ))
    }
}

/// cavra's thread, as found in a list.
struct Found {
    id: u64,
    comment: u64,
    content: String,
    status: String,
    /// It carries [`THREAD_PROPERTY`].
    marked: bool,
}

/// `thread` when it is cavra's: it carries [`THREAD_PROPERTY`] or its first comment holds
/// [`NOTE_MARKER`].
fn ours(thread: &Value) -> Option<Found> {
    if thread.get("isDeleted").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let id = thread.get("id")?.as_u64()?;
    let first = thread
        .get("comments")?
        .as_array()?
        .iter()
        .filter(|c| c.get("isDeleted").and_then(Value::as_bool) != Some(true))
        .min_by_key(|c| c.get("id").and_then(Value::as_u64).unwrap_or(u64::MAX))?;
    let content = first
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let marked = thread
        .pointer("/properties")
        .and_then(Value::as_object)
        .is_some_and(|p| p.contains_key(THREAD_PROPERTY));
    if !marked && !content.contains(NOTE_MARKER) {
        return None;
    }
    Some(Found {
        id,
        comment: first.get("id")?.as_u64()?,
        content: content.to_string(),
        status: thread
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        marked,
    })
}
