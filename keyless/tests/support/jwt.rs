//! Unsigned test identity tokens (the mocks, like Fulcio's callers, do not check signatures).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The GitHub Actions OIDC issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// GitLab.com's OIDC issuer.
pub const GITLAB_ISSUER: &str = "https://gitlab.com";
/// An email-based issuer (like Google accounts).
pub const EMAIL_ISSUER: &str = "https://accounts.example.com";

/// A compact JWS with these claims and a dummy signature.
pub fn jwt(claims: &Value) -> String {
    let enc = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let header = json!({"alg": "RS256", "kid": "test-key", "typ": "JWT"});
    format!(
        "{}.{}.{}",
        enc(&header),
        enc(claims),
        URL_SAFE_NO_PAD.encode([7u8; 64])
    )
}

/// Claims like a GitHub Actions token: no `email`, workflow identity in `job_workflow_ref`.
pub fn github_claims(expires_in: i64) -> Value {
    json!({
        "iss": GITHUB_ISSUER,
        "aud": "sigstore",
        "sub": "repo:cavra-dev/cavra:ref:refs/heads/main",
        "repository": "cavra-dev/cavra",
        "ref": "refs/heads/main",
        "job_workflow_ref": "cavra-dev/cavra/.github/workflows/gate.yml@refs/heads/main",
        "iat": now(),
        "nbf": now() - 5,
        "exp": now() + expires_in,
    })
}

/// Claims like a GitLab CI `id_tokens:` token.
pub fn gitlab_claims(expires_in: i64) -> Value {
    json!({
        "iss": GITLAB_ISSUER,
        "aud": "sigstore",
        "sub": "project_path:cavra-dev/cavra:ref_type:branch:ref:main",
        "project_path": "cavra-dev/cavra",
        "ci_config_ref_uri": "gitlab.com/cavra-dev/cavra//.gitlab-ci.yml@refs/heads/main",
        "iat": now(),
        "exp": now() + expires_in,
    })
}

/// Claims of an email identity.
pub fn email_claims(expires_in: i64) -> Value {
    json!({
        "iss": EMAIL_ISSUER,
        "aud": ["sigstore"],
        "sub": "1234567890",
        "email": "dev@cavra.example",
        "email_verified": true,
        "iat": now(),
        "exp": now() + expires_in,
    })
}

/// The identity Fulcio puts in the SAN for these claims.
pub fn expected_identity(claims: &Value) -> String {
    if let Some(email) = claims.get("email").and_then(Value::as_str) {
        return email.to_owned();
    }
    if let Some(workflow) = claims.get("job_workflow_ref").and_then(Value::as_str) {
        return format!("https://github.com/{workflow}");
    }
    if let Some(config) = claims.get("ci_config_ref_uri").and_then(Value::as_str) {
        return format!("https://{config}");
    }
    claims["sub"].as_str().unwrap().to_owned()
}

/// The claims of a JWT, unchecked.
pub fn claims_of(jwt: &str) -> Option<Value> {
    let payload = jwt.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    super::ca::unix_now() as i64
}
