//! Evaluations end to end: a real git repository served over HTTP by `git http-backend` (which
//! insists on the installation token), the mock GitHub (installation tokens, pull requests,
//! reviews, team memberships, check runs; every body checked against GitHub's request schemas),
//! and a throwaway RSA key for the App JWT.

use cavra_github_app::config::Config;
use cavra_github_app::evaluate::{Evaluator, JobError, VerdictStore};
use cavra_github_app::events::{Repo, Work};
use cavra_github_app::metrics::Metrics;
use cavra_testkit::forges::github::{Call, MockGithub, TOKEN, pull, review};
use cavra_testkit::git_http::{GitServer, basic_token, commit, git};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

const APP_ID: u64 = 4242;
const INSTALLATION: u64 = 77;
const FULL_NAME: &str = "octo-org/hello-world";

const POLICY: &str = "version: 1
extends: [builtin:baseline]
approvers:
  security: { github: ['@octo-org/security', 'alice'] }
rules:
  - id: no-vendored-code
    match: { paths: ['vendor/**'] }
    decision: deny
    severity: high
  - id: infra-review
    match: { paths: ['infra/**'] }
    decision: require_approval
    approvers: [security]
break_glass: { allowed: true }
";

/// A throwaway RSA key (PKCS#8 PEM), made once.
fn app_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
        key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
    })
}

/// Verdicts saved, in order.
#[derive(Default)]
struct Saved(Mutex<Vec<(String, String, Value, bool)>>);

impl VerdictStore for Saved {
    fn save_verdict(
        &self,
        repo: &str,
        head_sha: &str,
        verdict_json: &str,
        bundle_json: Option<&str>,
    ) -> Result<i64, cavra_github_app::store::StoreError> {
        let mut all = self.0.lock().unwrap();
        all.push((
            repo.to_string(),
            head_sha.to_string(),
            serde_json::from_str(verdict_json).unwrap(),
            bundle_json.is_some(),
        ));
        Ok(all.len() as i64)
    }
}

/// A served repository with a policy on `main`, the mock GitHub and an evaluator.
struct Fixture {
    _dir: tempfile::TempDir,
    work: PathBuf,
    served: PathBuf,
    cache: PathBuf,
    base: String,
    git: GitServer,
    github: MockGithub,
    store: Arc<Saved>,
    evaluator: Evaluator,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with_policy(POLICY)
    }

    fn with_policy(policy: &str) -> Fixture {
        Fixture::configured(policy, |_| {})
    }

    fn configured(policy: &str, tweak: impl FnOnce(&mut Config)) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "-q", "-b", "main"]);
        let base = commit(
            &work,
            &[(".cavra/policy.yaml", policy), ("README.md", "hello\n")],
            "base",
        );
        let root = dir.path().join("served");
        let served = root.join(format!("{FULL_NAME}.git"));
        std::fs::create_dir_all(served.parent().unwrap()).unwrap();
        git(
            dir.path(),
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().unwrap(),
                served.to_str().unwrap(),
            ],
        );
        let git_server = GitServer::start(root, basic_token(TOKEN));
        let github = MockGithub::start("");
        github.with_state(|s| {
            s.app_id = Some(APP_ID);
            s.team_members.insert((
                "octo-org".to_string(),
                "security".to_string(),
                "bob".to_string(),
            ));
        });
        let cache = dir.path().join("cache");
        let mut cfg = Config {
            app_id: APP_ID,
            private_key_pem: app_key().to_string(),
            webhook_secret: "unused".to_string(),
            api_url: format!("{}/", github.api_url()),
            git_url: Some(git_server.server.url()),
            database_url: "sqlite::memory:".to_string(),
            cache_dir: cache.clone(),
            listen: "127.0.0.1:0".to_string(),
            workers: 1,
            max_body_bytes: 1 << 20,
            lease: std::time::Duration::from_secs(60),
            signing_key: None,
            upload_attestations: false,
            break_glass_users: vec!["oncall".to_string()],
            summary_template: None,
            public_url: None,
        };
        tweak(&mut cfg);
        let store = Arc::new(Saved::default());
        let evaluator = Evaluator::new(&cfg, store.clone(), Arc::new(Metrics::new())).unwrap();
        Fixture {
            _dir: dir,
            work,
            served,
            cache,
            base,
            git: git_server,
            github,
            store,
            evaluator,
        }
    }

    /// Opens pull request `number`: a branch off `main` with `files`, pushed to the served
    /// repository as `refs/pull/N/head`. Its head.
    fn open_pull(&self, number: u64, files: &[(&str, &str)], labels: &[&str]) -> String {
        let branch = format!("pr{number}");
        git(&self.work, &["checkout", "-q", "-B", &branch, "main"]);
        let head = commit(&self.work, files, &format!("pull request {number}"));
        self.push_pull(number, &head, labels);
        head
    }

    /// Adds a commit to pull request `number`'s branch and moves its head there.
    fn push_more(&self, number: u64, files: &[(&str, &str)]) -> String {
        git(&self.work, &["checkout", "-q", &format!("pr{number}")]);
        let head = commit(&self.work, files, "more");
        self.push_pull(number, &head, &[]);
        head
    }

    fn push_pull(&self, number: u64, head: &str, labels: &[&str]) {
        git(
            &self.work,
            &[
                "push",
                "-q",
                "-f",
                self.served.to_str().unwrap(),
                &format!("{head}:refs/pull/{number}/head"),
            ],
        );
        let base = self.base.clone();
        self.github.with_state(|s| {
            s.pulls
                .insert(number, pull(number, head, "main", &base, labels));
        });
    }

    fn repo() -> Repo {
        Repo {
            installation: INSTALLATION,
            full_name: FULL_NAME.to_string(),
            clone_url: "https://github.invalid/octo-org/hello-world.git".to_string(),
        }
    }

    fn work_for(&self, number: u64) -> Work {
        Work::PullRequest {
            repo: Fixture::repo(),
            number,
            head_sha: None,
            reason: "pull_request.opened".to_string(),
        }
    }

    fn run(&self, number: u64) -> Result<String, JobError> {
        self.evaluator.run(&self.work_for(number), &|| false)
    }

    /// The check run requests of the last evaluation: the create, then the updates.
    fn check_runs(&self) -> Vec<(Call, Value)> {
        self.github
            .calls()
            .into_iter()
            .filter(|(c, _)| matches!(c, Call::CreateCheckRun | Call::UpdateCheckRun(_)))
            .map(|(c, r)| (c, r.json()))
            .collect()
    }

    /// The completed check run's conclusion and summary.
    fn completed(&self) -> (String, String) {
        let runs = self.check_runs();
        let done = runs
            .iter()
            .rev()
            .find(|(_, b)| b["status"] == "completed")
            .unwrap_or_else(|| panic!("no completed check run: {runs:#?}"));
        (
            done.1["conclusion"].as_str().unwrap().to_string(),
            done.1["output"]["summary"].as_str().unwrap().to_string(),
        )
    }
}

#[test]
fn a_denied_change_fails_with_annotations_in_batches_of_fifty() {
    let f = Fixture::new();
    let files: Vec<(String, String)> = (0..120)
        .map(|i| (format!("vendor/lib{i:03}.c"), format!("int f{i};\n")))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let head = f.open_pull(1, &refs, &[]);
    let line = f.run(1).unwrap();
    assert!(line.contains("failure"), "{line}");
    let calls: Vec<Call> = f.github.calls().into_iter().map(|(c, _)| c).collect();
    assert_eq!(calls[0], Call::CreateInstallationToken(INSTALLATION));
    assert_eq!(calls[1], Call::GetPull(1));
    let runs = f.check_runs();
    assert_eq!(runs[0].0, Call::CreateCheckRun);
    assert_eq!(runs[0].1["status"], "in_progress");
    assert_eq!(runs[0].1["head_sha"], head.as_str());
    let sizes: Vec<usize> = runs[1..]
        .iter()
        .map(|(c, b)| {
            assert!(matches!(c, Call::UpdateCheckRun(_)));
            b["output"]["annotations"].as_array().unwrap().len()
        })
        .collect();
    assert_eq!(sizes, [50, 50, 20]);
    assert_eq!(runs[1].1["conclusion"], "failure");
    assert!(runs[1].1["output"]["title"].as_str().unwrap().len() > 3);
    assert_eq!(f.git.refused.load(Ordering::SeqCst), 0);
    assert!(f.git.upload_packs.load(Ordering::SeqCst) >= 1);
    let saved = f.store.0.lock().unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(
        (saved[0].0.as_str(), saved[0].1.as_str()),
        (FULL_NAME, head.as_str())
    );
    let (_, summary) = f.completed();
    assert!(summary.contains("Verdict record: `1`"), "{summary}");
}

#[test]
fn approval_by_a_team_member_on_the_head_passes() {
    let f = Fixture::new();
    let old = f.open_pull(2, &[("infra/main.tf", "resource \"x\" \"y\" {}\n")], &[]);
    f.run(2).unwrap();
    assert_eq!(f.completed().0, "action_required");

    // A newer push; an approval of the older commit does not count, nor does a non-member's.
    let head = f.push_more(2, &[("infra/more.tf", "# more\n")]);
    f.github.with_state(|s| {
        s.reviews.insert(
            2,
            vec![
                review(1, "bob", "APPROVED", &old),
                review(2, "mallory", "APPROVED", &head),
            ],
        )
    });
    f.github.clear_calls();
    f.run(2).unwrap();
    assert_eq!(f.completed().0, "action_required");
    let membership: Vec<String> = f
        .github
        .calls()
        .into_iter()
        .filter(|(c, _)| *c == Call::TeamMembership)
        .map(|(_, r)| r.path().to_string())
        .collect();
    assert_eq!(
        membership,
        ["/orgs/octo-org/teams/security/memberships/mallory"]
    );

    f.github.with_state(|s| {
        s.reviews
            .get_mut(&2)
            .unwrap()
            .push(review(3, "bob", "APPROVED", &head))
    });
    f.github.clear_calls();
    let line = f.run(2).unwrap();
    let (conclusion, summary) = f.completed();
    assert_eq!(conclusion, "success", "{line}\n{summary}");
    // Memberships are cached for a minute: only bob's was asked this time.
    let membership: Vec<String> = f
        .github
        .calls()
        .into_iter()
        .filter(|(c, _)| *c == Call::TeamMembership)
        .map(|(_, r)| r.path().to_string())
        .collect();
    assert_eq!(
        membership,
        ["/orgs/octo-org/teams/security/memberships/bob"]
    );
    assert!(summary.contains("@bob (security)"), "{summary}");
    assert!(!summary.contains("mallory"), "{summary}");
}

#[test]
fn audit_mode_is_neutral() {
    let f = Fixture::with_policy(&POLICY.replace("version: 1\n", "version: 1\nmode: audit\n"));
    f.open_pull(3, &[("vendor/x.c", "int x;\n")], &[]);
    f.run(3).unwrap();
    assert_eq!(f.completed().0, "neutral");
}

#[test]
fn a_second_event_reuses_the_cache() {
    let f = Fixture::new();
    f.open_pull(4, &[("docs/a.md", "a\n")], &[]);
    f.run(4).unwrap();
    assert_eq!(f.completed().0, "success");
    let packs = f.git.upload_packs.load(Ordering::SeqCst);
    assert!(packs >= 1);
    let cache = f.evaluator.cache_path(FULL_NAME);
    assert!(cache.starts_with(&f.cache) && cache.join("objects").is_dir());
    let marker = cache.join("cavra-test-marker");
    std::fs::write(&marker, "kept").unwrap();

    // The same head again: nothing to fetch.
    f.run(4).unwrap();
    assert_eq!(f.git.upload_packs.load(Ordering::SeqCst), packs);
    // A new push: one fetch into the same cache (no new clone).
    f.push_more(4, &[("docs/b.md", "b\n")]);
    f.run(4).unwrap();
    assert!(f.git.upload_packs.load(Ordering::SeqCst) > packs);
    assert!(marker.exists(), "the cache was replaced");
    assert_eq!(f.git.refused.load(Ordering::SeqCst), 0);
}

#[test]
fn cancelled_jobs_stop_between_steps() {
    let f = Fixture::new();
    f.open_pull(5, &[("vendor/x.c", "int x;\n")], &[]);
    let line = f.evaluator.run(&f.work_for(5), &|| true).unwrap();
    assert_eq!(line, "superseded");
    assert!(f.check_runs().is_empty());

    // Cancelled once the check run exists: it stays in_progress for the newer job.
    let polls = AtomicUsize::new(0);
    let line = f
        .evaluator
        .run(&f.work_for(5), &|| {
            polls.fetch_add(1, Ordering::SeqCst) >= 1
        })
        .unwrap();
    assert_eq!(line, "superseded");
    let runs = f.check_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].1["status"], "in_progress");
    assert!(f.store.0.lock().unwrap().is_empty());

    // The next job on the same head completes that check run rather than starting another.
    f.run(5).unwrap();
    let runs = f.check_runs();
    let created = runs
        .iter()
        .filter(|(c, _)| *c == Call::CreateCheckRun)
        .count();
    assert_eq!(created, 1, "{runs:#?}");
    assert_eq!(f.completed().0, "failure");
}

#[test]
fn an_unreachable_git_server_is_retried() {
    let f = Fixture::configured(POLICY, |cfg| {
        cfg.git_url = Some("http://127.0.0.1:9".to_string());
    });
    f.open_pull(15, &[("a.txt", "a\n")], &[]);
    match f.run(15) {
        Err(JobError::Retry { reason, .. }) => assert!(!reason.contains(TOKEN), "{reason}"),
        other => panic!("{other:?}"),
    }
    let runs = f.check_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].1["status"], "in_progress");
}

#[test]
fn closed_pull_requests_are_skipped_and_missing_ones_are_permanent() {
    let f = Fixture::new();
    f.open_pull(6, &[("a.txt", "a\n")], &[]);
    f.github
        .with_state(|s| s.pulls.get_mut(&6).unwrap()["state"] = "closed".into());
    assert!(f.run(6).unwrap().contains("not open"));
    assert!(f.check_runs().is_empty());
    match f.run(99) {
        Err(JobError::Permanent(why)) => {
            assert!(why.contains("404") && !why.contains(TOKEN), "{why}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn github_errors_become_retries_with_their_wait() {
    let f = Fixture::new();
    f.open_pull(7, &[("a.txt", "a\n")], &[]);
    // The token request works, the pull request read meets a rate limit.
    f.github.script_some([
        None,
        Some(
            cavra_testkit::forges::github::github_error(429, "rate limited")
                .with_header("Retry-After", "17"),
        ),
    ]);
    match f.run(7) {
        Err(JobError::Retry { after, reason }) => {
            assert_eq!(after.as_secs(), 17);
            assert!(!reason.contains(TOKEN), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 40;
    f.github.script([
        cavra_testkit::forges::github::github_error(403, "API rate limit exceeded")
            .with_header("X-RateLimit-Remaining", "0")
            .with_header("X-RateLimit-Reset", &reset.to_string()),
    ]);
    match f.run(7) {
        Err(JobError::Retry { after, .. }) => assert!((30..=41).contains(&after.as_secs())),
        other => panic!("{other:?}"),
    }
    f.github
        .script([cavra_testkit::forges::github::github_error(
            502,
            "bad gateway",
        )]);
    assert!(matches!(f.run(7), Err(JobError::Retry { .. })));
    // The token is cached: one token request for all the runs.
    let tokens = f
        .github
        .calls()
        .iter()
        .filter(|(c, _)| matches!(c, Call::CreateInstallationToken(_)))
        .count();
    assert_eq!(tokens, 1);
    f.run(7).unwrap();
    assert_eq!(f.completed().0, "success");
}

#[test]
fn a_gate_error_completes_the_check_run_as_failed() {
    let f = Fixture::with_policy("version: 1\nrules: [ {{ not yaml\n");
    f.open_pull(8, &[("a.txt", "a\n")], &[]);
    let line = f.run(8).unwrap();
    let (conclusion, summary) = f.completed();
    assert_eq!(conclusion, "failure", "{line}");
    assert!(summary.contains("could not judge"), "{summary}");
}

#[test]
fn installation_events_drop_the_cached_token() {
    let f = Fixture::new();
    f.open_pull(9, &[("a.txt", "a\n")], &[]);
    f.run(9).unwrap();
    let work = Work::Installation {
        installation: INSTALLATION,
        action: "deleted".to_string(),
    };
    f.evaluator.run(&work, &|| false).unwrap();
    f.run(9).unwrap();
    let tokens = f
        .github
        .calls()
        .iter()
        .filter(|(c, _)| matches!(c, Call::CreateInstallationToken(_)))
        .count();
    assert_eq!(tokens, 2);
}

#[test]
fn the_installation_token_schema_accepts_its_published_examples() {
    use cavra_testkit::forges::github::{fixture, schema};
    let examples: Value = serde_json::from_str(&fixture(
        "apps_create-installation-access-token.request.examples.json",
    ))
    .unwrap();
    let examples = examples.as_object().unwrap();
    assert!(!examples.is_empty());
    let schema = schema(Call::CreateInstallationToken(1));
    for (name, example) in examples {
        schema
            .check(example)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(
        schema
            .check(&serde_json::json!({"permissions": {"checks": "admin"}}))
            .is_err()
    );
}

#[test]
fn break_glass_needs_the_label_and_an_allowed_users_comment() {
    use cavra_testkit::forges::github::comment;
    let f = Fixture::new();
    f.open_pull(10, &[("vendor/x.c", "int x;\n")], &[]);
    f.github.with_state(|s| {
        s.comments.insert(
            10,
            vec![
                comment(1, "mallory", "/cavra break-glass let me in please"),
                comment(2, "oncall", "/cavra break-glass production is down, hotfix"),
            ],
        )
    });
    // Without the label the comment does nothing (and comments are not even read).
    f.run(10).unwrap();
    assert_eq!(f.completed().0, "failure");
    assert!(
        !f.github
            .calls()
            .iter()
            .any(|(c, _)| matches!(c, Call::ListComments(_)))
    );
    let head = f.github.with_state(|s| s.pulls[&10]["head"]["sha"].clone());
    f.push_pull(10, head.as_str().unwrap(), &["cavra:break-glass"]);
    f.github.clear_calls();
    f.run(10).unwrap();
    let (conclusion, summary) = f.completed();
    assert_eq!(conclusion, "success", "{summary}");
    let saved = f.store.0.lock().unwrap();
    let verdict = &saved.last().unwrap().2;
    assert_eq!(verdict["break_glass"]["actor"], "oncall");
    assert_eq!(
        verdict["break_glass"]["justification"],
        "production is down, hotfix"
    );
}

#[test]
fn signed_verdicts_are_saved_and_uploaded() {
    use cavra_attestation::keys::{KeyType, SigningKey};
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("verdicts.pem");
    let key = SigningKey::generate(KeyType::Ed25519).unwrap();
    std::fs::write(&key_path, key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
    let f = Fixture::configured(POLICY, |cfg| {
        cfg.signing_key = Some(key_path.display().to_string());
        cfg.upload_attestations = true;
    });
    f.open_pull(11, &[("docs/a.md", "a\n")], &[]);
    f.run(11).unwrap();
    let (conclusion, summary) = f.completed();
    assert_eq!(conclusion, "success");
    assert!(
        summary.contains("Verdict record: `1` (signed), attestation 7"),
        "{summary}"
    );
    assert!(f.store.0.lock().unwrap()[0].3, "no bundle saved");
    let uploads: Vec<Value> = f
        .github
        .calls()
        .into_iter()
        .filter(|(c, _)| *c == Call::CreateAttestation)
        .map(|(_, r)| r.json())
        .collect();
    assert_eq!(uploads.len(), 1);
    assert!(
        uploads[0]["bundle"]["dsseEnvelope"].is_object(),
        "{}",
        uploads[0]
    );
}

#[test]
fn merge_groups_and_lone_commits_are_judged_against_their_base() {
    let f = Fixture::new();
    git(&f.work, &["checkout", "-q", "-B", "queue", "main"]);
    let head = commit(&f.work, &[("vendor/q.c", "int q;\n")], "queued");
    git(
        &f.work,
        &[
            "push",
            "-q",
            f.served.to_str().unwrap(),
            &format!("{head}:refs/heads/gh-readonly-queue/main/pr-12-{head}"),
        ],
    );
    let work = Work::MergeGroup {
        repo: Fixture::repo(),
        head_sha: head.clone(),
        base_sha: f.base.clone(),
    };
    f.evaluator.run(&work, &|| false).unwrap();
    let runs = f.check_runs();
    assert_eq!(runs[0].1["head_sha"], head.as_str());
    assert_eq!(f.completed().0, "failure");

    // A re-run of a commit without pull requests: judged against the default branch.
    f.github.clear_calls();
    let work = Work::Rerun {
        repo: Fixture::repo(),
        head_sha: head.clone(),
        pull_requests: Vec::new(),
    };
    let line = f.evaluator.run(&work, &|| false).unwrap();
    assert_eq!(f.completed().0, "failure", "{line}");
    assert!(f.github.calls().iter().any(|(c, _)| *c == Call::GetRepo));
    let saved = f.store.0.lock().unwrap();
    assert_eq!(
        saved.last().unwrap().2["revisions"]["base"],
        f.base.as_str()
    );
}

#[test]
fn the_token_stays_out_of_the_cache_and_the_jwt_is_signed_by_the_app_key() {
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
    let f = Fixture::new();
    f.open_pull(13, &[("a.txt", "a\n")], &[]);
    f.run(13).unwrap();
    let cache = f.evaluator.cache_path(FULL_NAME);
    for file in ["config", "FETCH_HEAD", "packed-refs"] {
        let text = std::fs::read_to_string(cache.join(file)).unwrap_or_default();
        assert!(
            !text.contains(TOKEN) && !text.contains("extraHeader"),
            "{file}"
        );
    }
    let calls = f.github.calls();
    let jwt = calls[0].1.header("authorization").unwrap();
    let jwt = jwt.strip_prefix("Bearer ").unwrap();
    let key = rsa::PrivateKey::from_pkcs8_pem(app_key()).unwrap();
    let public = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let decoding = jsonwebtoken::DecodingKey::from_rsa_pem(public.as_bytes()).unwrap();
    let claims = jsonwebtoken::decode::<Value>(
        jwt,
        &decoding,
        &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256),
    )
    .expect("the App JWT is signed with the App's key")
    .claims;
    assert_eq!(claims["iss"], APP_ID.to_string());
}

#[test]
fn a_refusal_after_the_check_run_started_completes_it_as_failed() {
    let f = Fixture::new();
    f.open_pull(14, &[("a.txt", "a\n")], &[]);
    // Token, pull request and check run work; listing reviews is refused.
    f.github.script_some([
        None,
        None,
        None,
        Some(cavra_testkit::forges::github::github_error(
            403,
            "Resource not accessible by integration",
        )),
    ]);
    let line = f.run(14).unwrap();
    let (conclusion, summary) = f.completed();
    assert_eq!(conclusion, "failure", "{line}");
    assert!(
        summary.contains("403") && summary.contains("not accessible") && !summary.contains(TOKEN),
        "{summary}"
    );
}

#[test]
fn a_configured_summary_template_replaces_the_built_in_one() {
    let f = Fixture::configured(POLICY, |cfg| {
        cfg.public_url = Some("https://cavra.example.com".into());
        cfg.summary_template = Some(
            "Custom gate summary: {{ verdict.verdict }} at {{ verdict.revisions.head }}".into(),
        );
    });
    let head = f.open_pull(1, &[("src/lib.rs", "pub fn f() {}\n")], &[]);
    f.run(1).unwrap();
    let (_, summary) = f.completed();
    assert!(
        summary.contains(&format!("Custom gate summary: pass at {head}")),
        "{summary}"
    );
    assert!(
        summary.contains("Verdict record: [`1`](https://cavra.example.com/verdicts/1)"),
        "the check run links to the stored verdict: {summary}"
    );
}
