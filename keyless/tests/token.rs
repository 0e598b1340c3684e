//! Identity tokens from the CI runner's environment (a mock GitHub Actions token endpoint, GitLab's
//! `SIGSTORE_ID_TOKEN`) or given explicitly; expiry, audience, and secrets kept out of errors.

mod support;

use cavra_keyless::{Error, IdentityToken, KeylessConfig};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::jwt::{self, email_claims, github_claims, gitlab_claims};
use support::server::{Request, Response, TestServer};

const REQUEST_TOKEN: &str = "ghs_runner-request-token-0123456789";

fn config() -> KeylessConfig {
    KeylessConfig {
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..KeylessConfig::default()
    }
}

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

/// A GitHub Actions token endpoint that answers `answers` in turn (then the last one again) and
/// records the requests.
fn github_endpoint(answers: Vec<Response>) -> (TestServer, Arc<Mutex<Vec<Request>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = TestServer::start(move |request| {
        let mut log = log.lock().unwrap();
        log.push(request.clone());
        answers[(log.len() - 1).min(answers.len() - 1)].clone()
    });
    (server, seen)
}

fn github_vars(server: &TestServer) -> impl Fn(&str) -> Option<String> + use<> {
    let url = format!(
        "{}/_apis/distributedtask/token?api-version=2.0",
        server.url()
    );
    vars(&[
        ("GITHUB_ACTIONS", "true"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", &url),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
    ])
}

fn token_answer(claims: &Value) -> Response {
    Response::json(200, &json!({"count": 1, "value": jwt::jwt(claims)}))
}

#[test]
fn github_actions_token_is_fetched_with_the_sigstore_audience() {
    let (server, seen) = github_endpoint(vec![token_answer(&github_claims(300))]);
    let token = IdentityToken::from_vars(github_vars(&server), &config()).unwrap();
    assert_eq!(token.issuer(), jwt::GITHUB_ISSUER);
    // No `email` claim: the subject for the proof of possession is `sub`.
    assert_eq!(token.email(), None);
    assert_eq!(token.subject(), "repo:cavra-dev/cavra:ref:refs/heads/main");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(
        seen[0].target,
        "/_apis/distributedtask/token?api-version=2.0&audience=sigstore"
    );
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("bearer {REQUEST_TOKEN}").as_str())
    );
}

#[test]
fn github_actions_endpoint_errors_are_retried_then_reported_without_secrets() {
    let echo = format!("bad credentials {REQUEST_TOKEN}");
    let (server, seen) = github_endpoint(vec![
        Response::error(503, "busy"),
        token_answer(&github_claims(300)),
    ]);
    IdentityToken::from_vars(github_vars(&server), &config()).unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2);

    let (server, seen) = github_endpoint(vec![Response::error(403, &echo)]);
    let err = IdentityToken::from_vars(github_vars(&server), &config()).unwrap_err();
    assert!(matches!(err, Error::Status { status: 403, .. }), "{err}");
    let shown = err.to_string();
    assert!(shown.contains("bad credentials [redacted]"), "{shown}");
    assert!(!shown.contains(REQUEST_TOKEN), "{shown}");
    assert_eq!(seen.lock().unwrap().len(), 1, "4xx is not retried");

    for body in [json!({"count": 1}), json!({"value": 7}), json!([])] {
        let (server, _) = github_endpoint(vec![Response::json(200, &body)]);
        let err = IdentityToken::from_vars(github_vars(&server), &config()).unwrap_err();
        assert!(err.to_string().contains("`value`"), "{body}: {err}");
    }
}

#[test]
fn github_actions_token_must_be_fresh_and_for_our_audience() {
    let (server, _) = github_endpoint(vec![token_answer(&github_claims(-30))]);
    let err = IdentityToken::from_vars(github_vars(&server), &config()).unwrap_err();
    assert!(
        err.to_string()
            .contains("from GitHub Actions: the token expired"),
        "{err}"
    );

    let mut claims = github_claims(300);
    claims["aud"] = json!("https://github.com/cavra-dev");
    let (server, _) = github_endpoint(vec![token_answer(&claims)]);
    let err = IdentityToken::from_vars(github_vars(&server), &config()).unwrap_err();
    assert!(err.to_string().contains("not `sigstore`"), "{err}");

    let (server, _) = github_endpoint(vec![token_answer(&github_claims(300))]);
    let custom = KeylessConfig {
        audience: "private-fulcio".into(),
        ..config()
    };
    let err = IdentityToken::from_vars(github_vars(&server), &custom).unwrap_err();
    assert!(err.to_string().contains("not `private-fulcio`"), "{err}");
}

#[test]
fn github_actions_request_url_must_be_https_or_loopback() {
    let vars = vars(&[
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "http://runner.example.com/token?api-version=2.0",
        ),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
    ]);
    let err = IdentityToken::from_vars(vars, &config()).unwrap_err();
    assert!(err.to_string().contains("must use https"), "{err}");
    assert!(!err.to_string().contains(REQUEST_TOKEN));
}

#[test]
fn gitlab_token_comes_from_sigstore_id_token() {
    let raw = jwt::jwt(&gitlab_claims(300));
    let token = IdentityToken::from_vars(
        vars(&[
            ("GITLAB_CI", "true"),
            ("SIGSTORE_ID_TOKEN", &format!("{raw}\n")),
        ]),
        &config(),
    )
    .unwrap();
    assert_eq!(token.issuer(), jwt::GITLAB_ISSUER);
    assert_eq!(
        token.subject(),
        "project_path:cavra-dev/cavra:ref_type:branch:ref:main"
    );

    // SIGSTORE_ID_TOKEN wins over the GitHub Actions endpoint (which is then not called).
    let (server, seen) = github_endpoint(vec![token_answer(&github_claims(300))]);
    let url = format!("{}/token?api-version=2.0", server.url());
    let both = vars(&[
        ("SIGSTORE_ID_TOKEN", &raw),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", &url),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
    ]);
    assert_eq!(
        IdentityToken::from_vars(both, &config()).unwrap().issuer(),
        jwt::GITLAB_ISSUER
    );
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn expired_or_malformed_environment_tokens_are_named_and_not_shown() {
    let raw = jwt::jwt(&gitlab_claims(-1));
    let err =
        IdentityToken::from_vars(vars(&[("SIGSTORE_ID_TOKEN", &raw)]), &config()).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with("identity token: SIGSTORE_ID_TOKEN: the token expired"),
        "{shown}"
    );
    for part in raw.split('.') {
        assert!(!shown.contains(part), "{shown}");
    }
    let err = IdentityToken::from_vars(vars(&[("SIGSTORE_ID_TOKEN", "not-a-jwt")]), &config())
        .unwrap_err();
    assert!(err.to_string().contains("malformed token"), "{err}");
    assert!(!err.to_string().contains("not-a-jwt"));
}

#[test]
fn explicit_tokens() {
    let raw = jwt::jwt(&email_claims(300));
    let token = IdentityToken::new(raw.clone()).unwrap();
    assert_eq!(token.subject(), "dev@cavra.example");
    assert_eq!(token.audiences(), ["sigstore"]);
    assert!(token.expires_at() > jwt::now());
    let shown = format!("{token:?}");
    assert!(
        shown.contains("dev@cavra.example") && !shown.contains(&raw),
        "{shown}"
    );

    let err = IdentityToken::new(jwt::jwt(&email_claims(-120))).unwrap_err();
    assert!(
        matches!(&err, Error::Token(m) if m.contains("expired")),
        "{err}"
    );
    let mut no_exp = email_claims(300);
    no_exp.as_object_mut().unwrap().remove("exp");
    let err = IdentityToken::new(jwt::jwt(&no_exp)).unwrap_err();
    assert!(err.to_string().contains("`exp`"), "{err}");
    let mut later = email_claims(300);
    later["nbf"] = json!(jwt::now() + 3600);
    assert!(IdentityToken::new(jwt::jwt(&later)).is_err());
}
