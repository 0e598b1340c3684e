//! What a webhook delivery asks the App to do, read from its event name and payload. Only the
//! fields the App needs are read; anything else in the payload is ignored.

use serde_json::Value;

/// A repository, as `owner/name`, and the installation that covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// The installation id (its token acts for the App there).
    pub installation: u64,
    /// `owner/name`.
    pub full_name: String,
    /// The clone URL GitHub gives (`https://github.com/owner/name.git`).
    pub clone_url: String,
}

/// The work a delivery asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Evaluate pull request `number` at its current head (a push, a review, a re-run, a
    /// break-glass request or a new base all lead here).
    PullRequest {
        /// Where.
        repo: Repo,
        /// The pull request.
        number: u64,
        /// The head the delivery names, when it names one (a newer head may exist by now).
        head_sha: Option<String>,
        /// Why, for logs: `pull_request.synchronize`, `pull_request_review.submitted`...
        reason: String,
    },
    /// Evaluate a merge queue group's head against its base.
    MergeGroup {
        /// Where.
        repo: Repo,
        /// The group's head commit.
        head_sha: String,
        /// The group's base commit.
        base_sha: String,
    },
    /// Re-run the evaluations of a commit (`check_run`/`check_suite` rerequested): its pull
    /// requests, or the commit alone when it has none.
    Rerun {
        /// Where.
        repo: Repo,
        /// The commit.
        head_sha: String,
        /// Its pull requests.
        pull_requests: Vec<u64>,
    },
    /// The App was installed, removed, or its repositories changed: cached tokens and
    /// repositories of the installation are dropped.
    Installation {
        /// The installation.
        installation: u64,
        /// `created`, `deleted`, `added`, `removed`, ...
        action: String,
    },
    /// Nothing to do; the reason is logged.
    Ignore(String),
}

/// Pull request actions that change what must be judged.
const PR_ACTIONS: [&str; 6] = [
    "opened",
    "synchronize",
    "reopened",
    "ready_for_review",
    "labeled",
    "unlabeled",
];

/// What `event` with `payload` asks for.
pub fn classify(event: &str, payload: &Value) -> Work {
    let action = payload["action"].as_str().unwrap_or_default();
    let ignore = |why: &str| Work::Ignore(format!("{event}.{action}: {why}"));
    if matches!(event, "installation" | "installation_repositories") {
        return match payload["installation"]["id"].as_u64() {
            Some(installation) => Work::Installation {
                installation,
                action: action.to_string(),
            },
            None => ignore("no installation id"),
        };
    }
    let Some(repo) = repo_of(payload) else {
        return ignore("no installation or repository");
    };
    match event {
        "pull_request" => {
            let edited_base = action == "edited" && payload["changes"]["base"].is_object();
            if !PR_ACTIONS.contains(&action) && !edited_base {
                return ignore("action not evaluated");
            }
            pull_request(repo, payload, format!("{event}.{action}"))
                .unwrap_or_else(|| ignore("no pull request number"))
        }
        "pull_request_review" if matches!(action, "submitted" | "dismissed" | "edited") => {
            pull_request(repo, payload, format!("{event}.{action}"))
                .unwrap_or_else(|| ignore("no pull request number"))
        }
        // A break-glass justification is a comment on the pull request.
        "issue_comment" if action == "created" && payload["issue"]["pull_request"].is_object() => {
            match payload["issue"]["number"].as_u64() {
                Some(number) => Work::PullRequest {
                    repo,
                    number,
                    head_sha: None,
                    reason: format!("{event}.{action}"),
                },
                None => ignore("no issue number"),
            }
        }
        "merge_group" if action == "checks_requested" => {
            let group = &payload["merge_group"];
            match (sha(&group["head_sha"]), sha(&group["base_sha"])) {
                (Some(head_sha), Some(base_sha)) => Work::MergeGroup {
                    repo,
                    head_sha,
                    base_sha,
                },
                _ => ignore("no merge group head or base"),
            }
        }
        "check_run" | "check_suite" if action == "rerequested" => {
            let object = &payload[event];
            let name = object["name"].as_str().unwrap_or(cavra_forge::STATUS_NAME);
            if event == "check_run" && name != cavra_forge::STATUS_NAME {
                return ignore("another check");
            }
            match sha(&object["head_sha"]) {
                Some(head_sha) => Work::Rerun {
                    repo,
                    head_sha,
                    pull_requests: object["pull_requests"]
                        .as_array()
                        .map(|prs| prs.iter().filter_map(|p| p["number"].as_u64()).collect())
                        .unwrap_or_default(),
                },
                None => ignore("no head sha"),
            }
        }
        _ => ignore("not an event the App evaluates"),
    }
}

/// The key that makes a newer delivery supersede an older one still queued: one evaluation
/// per pull request (or merge group head) at a time.
pub fn coalescing_key(work: &Work) -> Option<String> {
    match work {
        Work::PullRequest { repo, number, .. } => Some(format!("{}#{number}", repo.full_name)),
        Work::MergeGroup { repo, head_sha, .. } => Some(format!("{}@{head_sha}", repo.full_name)),
        _ => None,
    }
}

/// The pull request a `pull_request` or `pull_request_review` payload is about.
fn pull_request(repo: Repo, payload: &Value, reason: String) -> Option<Work> {
    let pull = &payload["pull_request"];
    Some(Work::PullRequest {
        repo,
        number: pull["number"].as_u64()?,
        head_sha: sha(&pull["head"]["sha"]),
        reason,
    })
}

fn repo_of(payload: &Value) -> Option<Repo> {
    let installation = payload["installation"]["id"].as_u64()?;
    let repository = &payload["repository"];
    let full_name = repository["full_name"].as_str()?;
    cavra_forge::github::repository_parts(full_name)?;
    Some(Repo {
        installation,
        full_name: full_name.to_string(),
        clone_url: repository["clone_url"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    })
}

/// A commit id: 40 or 64 hex digits.
fn sha(v: &Value) -> Option<String> {
    let s = v.as_str()?;
    cavra_forge::github::is_commit_id(s).then(|| s.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(path: &str) -> Value {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testkit/fixtures/github-webhooks/examples")
            .join(path);
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
    }

    #[test]
    fn the_published_examples_classify() {
        match classify("pull_request", &example("pull_request/opened.payload.json")) {
            Work::PullRequest {
                repo,
                number,
                head_sha,
                reason,
            } => {
                assert_eq!(
                    (repo.installation, repo.full_name.as_str(), number),
                    (1, "Codertocat/Hello-World", 2)
                );
                assert!(head_sha.is_some());
                assert_eq!(reason, "pull_request.opened");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify("pull_request", &example("pull_request/closed.payload.json")),
            Work::Ignore(_)
        ));
        match classify(
            "merge_group",
            &example("merge_group/checks_requested.payload.json"),
        ) {
            Work::MergeGroup { head_sha, .. } => {
                assert_eq!(head_sha, "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d")
            }
            other => panic!("{other:?}"),
        }
        match classify(
            "check_suite",
            &example("check_suite/rerequested.payload.json"),
        ) {
            Work::Rerun { pull_requests, .. } => assert_eq!(pull_requests, [2]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(
                "installation",
                &example("installation/created.payload.json")
            ),
            Work::Installation {
                installation: 957387,
                ..
            }
        ));
        assert!(matches!(
            classify("push", &example("push/payload.json")),
            Work::Ignore(_)
        ));
        assert!(matches!(
            classify("ping", &example("ping/payload.json")),
            Work::Ignore(_)
        ));
    }

    #[test]
    fn odd_payloads_are_ignored() {
        for payload in [
            serde_json::json!(null),
            serde_json::json!({"action": "opened"}),
            serde_json::json!({"action": "opened", "installation": {"id": 1},
                "repository": {"full_name": "../etc"}, "pull_request": {"number": 1}}),
            serde_json::json!({"action": "opened", "installation": {"id": "1"}}),
        ] {
            assert!(
                matches!(classify("pull_request", &payload), Work::Ignore(_)),
                "{payload}"
            );
        }
    }
}
