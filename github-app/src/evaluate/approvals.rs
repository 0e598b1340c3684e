//! Approvals from pull request reviews, checked against the policy's approver groups, and
//! break-glass from a label plus a comment.

use super::api::{ApiError, Repo};
use cavra_gate::Approval;
use cavra_policy::model::ApproverGroup;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a team membership answer is trusted.
pub const MEMBERSHIP_TTL: Duration = Duration::from_secs(60);

/// The label that asks for break-glass.
pub const BREAK_GLASS_LABEL: &str = "cavra:break-glass";
/// The comment command that gives the justification.
pub const BREAK_GLASS_COMMAND: &str = "/cavra break-glass";

/// Team membership answers, kept [`MEMBERSHIP_TTL`].
#[derive(Default)]
pub struct Memberships(Mutex<HashMap<MemberKey, (bool, Instant)>>);

/// `(org, team, user)`, lowercased.
type MemberKey = (String, String, String);

impl Memberships {
    fn member(&self, api: &Repo<'_>, org: &str, slug: &str, user: &str) -> Result<bool, ApiError> {
        let key = (
            org.to_ascii_lowercase(),
            slug.to_ascii_lowercase(),
            user.to_ascii_lowercase(),
        );
        if let Some((member, at)) = self.0.lock().unwrap().get(&key)
            && at.elapsed() < MEMBERSHIP_TTL
        {
            return Ok(*member);
        }
        let member = api.team_member(org, slug, user)?;
        self.0.lock().unwrap().insert(key, (member, Instant::now()));
        Ok(member)
    }
}

/// The users whose latest review approves `head` (a later comment-only review does not undo an
/// approval; a later `CHANGES_REQUESTED` or `DISMISSED` does).
pub fn approvers_of(reviews: &[Value], head: &str) -> Vec<String> {
    let mut latest: BTreeMap<String, (&str, &str)> = BTreeMap::new();
    for review in reviews {
        let (Some(user), Some(state)) =
            (review["user"]["login"].as_str(), review["state"].as_str())
        else {
            continue;
        };
        if matches!(state, "COMMENTED" | "PENDING") {
            continue;
        }
        let commit = review["commit_id"].as_str().unwrap_or_default();
        latest.insert(user.to_string(), (state, commit));
    }
    latest
        .into_iter()
        .filter(|(_, (state, commit))| *state == "APPROVED" && commit.eq_ignore_ascii_case(head))
        .map(|(user, _)| user)
        .collect()
}

/// The approvals `approvers` give for `groups`: a user counts for a group when the group's
/// `github` list names them, or a team (`@org/slug`) they are an active member of.
pub fn approvals(
    api: &Repo<'_>,
    memberships: &Memberships,
    policy_groups: &BTreeMap<String, ApproverGroup>,
    groups: &[String],
    approvers: &[String],
    head: &str,
) -> Result<Vec<Approval>, ApiError> {
    let mut out = Vec::new();
    for group in groups {
        let members = policy_groups
            .get(group)
            .and_then(|g| g.members.get("github"))
            .cloned()
            .unwrap_or_default();
        for user in approvers {
            let mut counts = false;
            for member in &members {
                let member = member.trim();
                if let Some((org, slug)) = member.strip_prefix('@').and_then(|t| t.split_once('/'))
                {
                    if memberships.member(api, org, slug, user)? {
                        counts = true;
                    }
                } else if member.trim_start_matches('@').eq_ignore_ascii_case(user) {
                    counts = true;
                }
                if counts {
                    break;
                }
            }
            if counts {
                out.push(Approval {
                    group: group.clone(),
                    approver: user.clone(),
                    commit: head.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// Break-glass: the latest `/cavra break-glass <justification>` comment by one of `allowed`.
pub fn break_glass(comments: &[Value], allowed: &[String]) -> Option<(String, String)> {
    comments.iter().rev().find_map(|c| {
        let user = c["user"]["login"].as_str()?;
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(user)) {
            return None;
        }
        let body = c["body"].as_str()?.trim();
        let rest = body.strip_prefix(BREAK_GLASS_COMMAND)?;
        let justification = rest.lines().next().unwrap_or_default().trim();
        (!justification.is_empty()).then(|| (user.to_string(), justification.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_latest_review_on_the_head_counts() {
        let head = "a".repeat(40);
        let old = "b".repeat(40);
        let reviews = vec![
            json!({"user": {"login": "alice"}, "state": "APPROVED", "commit_id": head}),
            json!({"user": {"login": "alice"}, "state": "COMMENTED", "commit_id": head}),
            json!({"user": {"login": "bob"}, "state": "APPROVED", "commit_id": old}),
            json!({"user": {"login": "carol"}, "state": "APPROVED", "commit_id": head}),
            json!({"user": {"login": "carol"}, "state": "CHANGES_REQUESTED", "commit_id": head}),
        ];
        assert_eq!(approvers_of(&reviews, &head), ["alice"]);
    }

    #[test]
    fn break_glass_needs_an_allowed_user_and_a_reason() {
        let comments = vec![
            json!({"user": {"login": "mallory"}, "body": "/cavra break-glass because"}),
            json!({"user": {"login": "oncall"}, "body": "/cavra break-glass"}),
            json!({"user": {"login": "oncall"}, "body": "/cavra break-glass prod is down, hotfix"}),
        ];
        let allowed = vec!["OnCall".to_string()];
        assert_eq!(
            break_glass(&comments, &allowed),
            Some(("oncall".into(), "prod is down, hotfix".into()))
        );
        assert_eq!(break_glass(&comments[..2], &allowed), None);
    }
}
