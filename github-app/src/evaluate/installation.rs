//! Installation tokens: the App signs a short JWT (RS256 with its private key) and trades it
//! for an installation token at `POST /app/installations/{id}/access_tokens`. Tokens are cached
//! per installation until five minutes before GitHub says they expire.

use super::api::{ApiError, Http};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A token is renewed this long before it expires.
const MARGIN: Duration = Duration::from_secs(5 * 60);

/// An installation token; `Debug` never shows it.
#[derive(Clone)]
pub struct InstallationToken(String);

impl InstallationToken {
    /// The secret itself, for an `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for InstallationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InstallationToken(***)")
    }
}

/// The App's identity and the tokens it holds.
pub struct TokenCache {
    app_id: u64,
    key: jsonwebtoken::EncodingKey,
    tokens: Mutex<HashMap<u64, (InstallationToken, Instant)>>,
}

impl TokenCache {
    /// Reads the App's private key (PKCS#1 or PKCS#8 PEM).
    pub fn new(app_id: u64, private_key_pem: &str) -> Result<TokenCache, String> {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem.as_bytes())
            .map_err(|e| format!("the App's private key is not an RSA PEM key: {e}"))?;
        Ok(TokenCache {
            app_id,
            key,
            tokens: Mutex::default(),
        })
    }

    /// The App JWT: issued a minute ago (clock drift), valid nine minutes (GitHub allows ten).
    pub fn app_jwt(&self) -> Result<String, String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = serde_json::json!({
            "iat": now.saturating_sub(60),
            "exp": now + 9 * 60,
            "iss": self.app_id.to_string(),
        });
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| format!("cannot sign the App JWT: {e}"))
    }

    /// A token for `installation`, from the cache or GitHub.
    pub fn token(&self, http: &Http, installation: u64) -> Result<InstallationToken, ApiError> {
        if let Some((token, until)) = self.tokens.lock().unwrap().get(&installation)
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let jwt = self.app_jwt().map_err(ApiError::permanent)?;
        let route = format!("app/installations/{installation}/access_tokens");
        let answer = http.send(
            "installation_token",
            reqwest::Method::POST,
            &route,
            &jwt,
            Some(&serde_json::json!({})),
        )?;
        let token = answer["token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::permanent("the installation token answer holds no token"))?;
        let lifetime = answer["expires_at"]
            .as_str()
            .and_then(seconds_until)
            .unwrap_or(3600);
        let until = Instant::now() + Duration::from_secs(lifetime).saturating_sub(MARGIN);
        let token = InstallationToken(token.to_string());
        self.tokens
            .lock()
            .unwrap()
            .insert(installation, (token.clone(), until));
        Ok(token)
    }

    /// Forgets the token of `installation` (installed, removed, repositories changed).
    pub fn drop_installation(&self, installation: u64) {
        self.tokens.lock().unwrap().remove(&installation);
    }
}

/// Seconds from now until `stamp` (`YYYY-MM-DDTHH:MM:SSZ`), 0 when past.
fn seconds_until(stamp: &str) -> Option<u64> {
    let b = stamp.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| stamp.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let at = days * 86_400 + hh * 3600 + mm * 60 + ss;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    Some((at - now).max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_stamps_are_read() {
        assert_eq!(seconds_until("2000-01-01T00:00:00Z"), Some(0));
        let far = seconds_until("2999-01-01T00:00:00Z").unwrap();
        assert!(far > 100 * 365 * 86_400);
        assert_eq!(seconds_until("soon"), None);
    }
}
