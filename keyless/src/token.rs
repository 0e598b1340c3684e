//! OIDC identity tokens: found in the CI runner's environment (GitHub Actions, GitLab CI) or given
//! explicitly, and read without checking their signature (Fulcio does that).
//!
//! The token is a bearer secret: it appears in no `Debug` output, error or log line.

use crate::config::{KeylessConfig, check_url};
use crate::error::{Error, Result};
use crate::http::{self, Http, Request};
use base64::Engine;
use serde_json::Value;
use std::fmt;

/// The largest identity token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 64 << 10;

/// GitLab CI (and any runner) hands the token over in this variable (`id_tokens:` in the job).
pub const SIGSTORE_ID_TOKEN: &str = "SIGSTORE_ID_TOKEN";
/// GitHub Actions: the URL to ask for a token (set when the job has `id-token: write`).
pub const ACTIONS_ID_TOKEN_REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
/// GitHub Actions: the bearer token for [`ACTIONS_ID_TOKEN_REQUEST_URL`].
pub const ACTIONS_ID_TOKEN_REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

/// Seconds of clock skew tolerated for `nbf`.
const CLOCK_SKEW_SECS: i64 = 60;

/// An OIDC identity token (a JWT) with the claims keyless signing needs.
#[derive(Clone)]
pub struct IdentityToken {
    jwt: String,
    issuer: String,
    sub: String,
    email: Option<String>,
    audiences: Vec<String>,
    expires_at: i64,
}

impl IdentityToken {
    /// Reads a JWT given explicitly (e.g. `--identity-token`). Fails on a malformed token, one
    /// without `iss`, `sub`, `aud` or `exp`, and on an expired one.
    pub fn new(jwt: impl Into<String>) -> Result<IdentityToken> {
        let jwt = jwt.into().trim().to_owned();
        let token = parse(&jwt)?;
        token.check_expiry(now())?;
        Ok(token)
    }

    /// Finds the token in this process's environment; see [`IdentityToken::from_vars`].
    pub fn from_env(config: &KeylessConfig) -> Result<IdentityToken> {
        IdentityToken::from_vars(|name| std::env::var(name).ok(), config)
    }

    /// Finds the token through `var` (an environment lookup), in this order:
    /// 1. `SIGSTORE_ID_TOKEN` (GitLab CI `id_tokens:`, or any runner that provides it);
    /// 2. GitHub Actions: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<audience>` with
    ///    `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    ///
    /// The token must carry `config.audience`. Without a token, the error says how to get one.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        config: &KeylessConfig,
    ) -> Result<IdentityToken> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let token = if let Some(jwt) = set(SIGSTORE_ID_TOKEN) {
            IdentityToken::new(jwt)
                .map_err(|e| Error::Token(format!("{SIGSTORE_ID_TOKEN}: {}", strip(e))))?
        } else if let (Some(url), Some(bearer)) = (
            set(ACTIONS_ID_TOKEN_REQUEST_URL),
            set(ACTIONS_ID_TOKEN_REQUEST_TOKEN),
        ) {
            fetch_github_actions(&url, &bearer, config)?
        } else if set("GITHUB_ACTIONS").as_deref() == Some("true") {
            return Err(Error::Token(format!(
                "running in GitHub Actions, but {ACTIONS_ID_TOKEN_REQUEST_URL} is not set: give \
                 the job `permissions: id-token: write`"
            )));
        } else if set("GITLAB_CI").as_deref() == Some("true") {
            return Err(Error::Token(format!(
                "running in GitLab CI, but {SIGSTORE_ID_TOKEN} is not set: add `id_tokens: \
                 {SIGSTORE_ID_TOKEN}: aud: {}` to the job",
                config.audience
            )));
        } else {
            return Err(Error::Token(
                "no identity token found: pass one explicitly (--identity-token), or run in \
                 GitHub Actions with `permissions: id-token: write`, or in GitLab CI with \
                 `id_tokens: SIGSTORE_ID_TOKEN`"
                    .into(),
            ));
        };
        token.check_audience(&config.audience)?;
        Ok(token)
    }

    /// The `iss` claim: the OIDC issuer URL.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The subject Fulcio asks to be signed as proof of possession: `email` if the token has
    /// one, else `sub` (GitHub Actions and GitLab tokens have no `email`).
    pub fn subject(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.sub)
    }

    /// The `email` claim, if any.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The `aud` claim (one or more audiences).
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The `exp` claim, in seconds since the Unix epoch.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// The raw JWT, for the request to Fulcio only.
    pub(crate) fn jwt(&self) -> &str {
        &self.jwt
    }

    /// The JWT and its parts, to be redacted from anything shown.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        let mut out = vec![self.jwt.as_str()];
        out.extend(self.jwt.split('.'));
        out
    }

    /// Fails unless `audience` is one of the token's audiences.
    pub fn check_audience(&self, audience: &str) -> Result<()> {
        if self.audiences.iter().any(|a| a == audience) {
            return Ok(());
        }
        Err(Error::Token(format!(
            "the token is for audience {:?}, not `{audience}` (ask the identity provider for a \
             token with audience `{audience}`)",
            self.audiences
        )))
    }

    /// Fails if the token has expired at `now` (seconds since the Unix epoch).
    pub(crate) fn check_expiry(&self, now: i64) -> Result<()> {
        if self.expires_at <= now {
            return Err(Error::Token(format!(
                "the token expired at {} (now {}); get a fresh one",
                cavra_sigstore::Time::from_secs(self.expires_at),
                cavra_sigstore::Time::from_secs(now)
            )));
        }
        Ok(())
    }
}

impl fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityToken")
            .field("issuer", &self.issuer)
            .field("subject", &self.subject())
            .field("audiences", &self.audiences)
            .field("expires_at", &self.expires_at)
            .field("jwt", &"[redacted]")
            .finish()
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    cavra_sigstore::Time::now().secs
}

/// The message of a token error, without its `identity token:` prefix.
fn strip(e: Error) -> String {
    match e {
        Error::Token(m) => m,
        other => other.to_string(),
    }
}

/// Reads the claims of a compact JWS (`header.payload.signature`) without verifying it.
fn parse(jwt: &str) -> Result<IdentityToken> {
    let bad = |why: &str| Error::Token(format!("malformed token: {why}"));
    if jwt.is_empty() {
        return Err(bad("it is empty"));
    }
    if jwt.len() > MAX_TOKEN_BYTES {
        return Err(bad(&format!("it is over {MAX_TOKEN_BYTES} bytes")));
    }
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err(bad("a JWT has three dot-separated parts"));
    }
    let header = decode_part(parts[0]).ok_or_else(|| bad("the header is not base64url JSON"))?;
    if !header.is_object() {
        return Err(bad("the header is not a JSON object"));
    }
    let claims = decode_part(parts[1]).ok_or_else(|| bad("the payload is not base64url JSON"))?;
    let string = |name: &str| -> Result<String> {
        match claims.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(_) => Err(bad(&format!("claim `{name}` is not a non-empty string"))),
            None => Err(bad(&format!("claim `{name}` is missing"))),
        }
    };
    let issuer = string("iss")?;
    let sub = string("sub")?;
    let email = match claims.get("email") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => return Err(bad("claim `email` is not a non-empty string")),
    };
    let audiences = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|a| a.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("claim `aud` holds a non-string"))?,
        Some(_) => return Err(bad("claim `aud` is neither a string nor a list")),
        None => return Err(bad("claim `aud` is missing")),
    };
    let seconds = |name: &str| -> Result<Option<i64>> {
        match claims.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| bad(&format!("claim `{name}` is not a time"))),
            Some(_) => Err(bad(&format!("claim `{name}` is not a number"))),
        }
    };
    let expires_at = seconds("exp")?.ok_or_else(|| bad("claim `exp` is missing"))?;
    if let Some(nbf) = seconds("nbf")? {
        if nbf > now() + CLOCK_SKEW_SECS {
            return Err(Error::Token(format!(
                "the token is not valid before {}",
                cavra_sigstore::Time::from_secs(nbf)
            )));
        }
    }
    Ok(IdentityToken {
        jwt: jwt.to_owned(),
        issuer,
        sub,
        email,
        audiences,
        expires_at,
    })
}

/// A base64url JSON part of a JWT (padding tolerated).
fn decode_part(part: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Asks the GitHub Actions runner for a token with our audience.
fn fetch_github_actions(url: &str, bearer: &str, config: &KeylessConfig) -> Result<IdentityToken> {
    const SERVICE: &str = "GitHub Actions token endpoint";
    check_url(ACTIONS_ID_TOKEN_REQUEST_URL, url)
        .map_err(|e| Error::Token(format!("cannot ask GitHub Actions for a token: {e}")))?;
    let mut request_url = reqwest::Url::parse(url)
        .map_err(|e| Error::Token(format!("{ACTIONS_ID_TOKEN_REQUEST_URL} is not a URL: {e}")))?;
    request_url
        .query_pairs_mut()
        .append_pair("audience", &config.audience);
    let http = Http::new(config)?;
    let request = Request {
        method: reqwest::Method::GET,
        url: request_url.as_str(),
        headers: vec![
            ("Authorization", format!("bearer {bearer}")),
            ("Accept", "application/json".into()),
        ],
        json_body: None,
    };
    let secrets = [bearer];
    let response =
        http::expect_success(SERVICE, http.send(SERVICE, &request, &secrets)?, &secrets)?;
    let value = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|v| v.get("value").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| Error::Http {
            service: SERVICE,
            message: "the answer is not JSON with a string `value`".into(),
        })?;
    IdentityToken::new(value)
        .map_err(|e| Error::Token(format!("from GitHub Actions: {}", strip(e))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &Value) -> String {
        let enc = |v: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
        };
        format!(
            "{}.{}.c2lnbmF0dXJl",
            enc(&serde_json::json!({"alg": "RS256"})),
            enc(claims)
        )
    }

    fn claims(exp: i64) -> Value {
        serde_json::json!({"iss": "https://issuer.example", "sub": "repo:o/r:ref:refs/heads/main",
            "aud": "sigstore", "exp": exp})
    }

    #[test]
    fn reads_claims_and_prefers_email_as_subject() {
        let mut c = claims(now() + 600);
        let token = IdentityToken::new(jwt(&c)).unwrap();
        assert_eq!(token.subject(), "repo:o/r:ref:refs/heads/main");
        assert_eq!(token.issuer(), "https://issuer.example");
        assert_eq!(token.audiences(), ["sigstore"]);
        c["email"] = "dev@example.com".into();
        c["aud"] = serde_json::json!(["other", "sigstore"]);
        let token = IdentityToken::new(format!("  {}\n", jwt(&c))).unwrap();
        assert_eq!(token.subject(), "dev@example.com");
        token.check_audience("sigstore").unwrap();
        assert!(token.check_audience("fulcio").is_err());
    }

    #[test]
    fn rejects_expired_and_malformed_tokens() {
        let err = IdentityToken::new(jwt(&claims(now() - 5))).unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
        for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.x"] {
            assert!(IdentityToken::new(bad).is_err(), "{bad}");
        }
        let mut c = claims(now() + 600);
        c.as_object_mut().unwrap().remove("sub");
        let err = IdentityToken::new(jwt(&c)).unwrap_err();
        assert!(err.to_string().contains("`sub`"), "{err}");
        let mut c = claims(now() + 600);
        c["exp"] = "soon".into();
        assert!(IdentityToken::new(jwt(&c)).is_err());
    }

    #[test]
    fn debug_hides_the_jwt() {
        let raw = jwt(&claims(now() + 600));
        let shown = format!("{:?}", IdentityToken::new(raw.clone()).unwrap());
        assert!(!shown.contains(&raw));
        for part in raw.split('.') {
            assert!(!shown.contains(part), "{shown}");
        }
        assert!(shown.contains("https://issuer.example"));
    }

    #[test]
    fn environment_without_a_token_says_how_to_get_one() {
        let config = KeylessConfig::default();
        let gha = |name: &str| (name == "GITHUB_ACTIONS").then(|| "true".to_owned());
        let err = IdentityToken::from_vars(gha, &config).unwrap_err();
        assert!(err.to_string().contains("id-token: write"), "{err}");
        let gitlab = |name: &str| (name == "GITLAB_CI").then(|| "true".to_owned());
        let err = IdentityToken::from_vars(gitlab, &config).unwrap_err();
        assert!(err.to_string().contains("id_tokens"), "{err}");
        let err = IdentityToken::from_vars(|_| None, &config).unwrap_err();
        assert!(err.to_string().contains("--identity-token"), "{err}");
    }
}
