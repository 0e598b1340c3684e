//! Structured logs: one JSON object per line on stderr, with a UTC timestamp, the level, the
//! message and the fields. Values of secret-looking fields (`token`, `secret`,
//! `authorization`, `password`, `private_key`, ...) are replaced by `***`; every value is JSON
//! escaped, so a newline in a value cannot start a forged log line.

use serde_json::Value;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// Key fragments whose values are never logged.
const SECRET_KEYS: [&str; 7] = [
    "token",
    "secret",
    "authorization",
    "password",
    "passphrase",
    "private_key",
    "cookie",
];

/// Logs `message` at `level` (`info`, `warn`, `error`, `debug`) with `fields`.
pub fn event(level: &str, message: &str, fields: &[(&str, &str)]) {
    let mut line = render(level, message, fields, SystemTime::now());
    line.push('\n');
    // One write per line so concurrent lines do not interleave.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Whether the value of field `key` must be hidden.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace('-', "_");
    SECRET_KEYS.iter().any(|s| key.contains(s))
}

/// The log line for an event at `now` (without the newline): `ts`, `level` and `msg` first, then
/// the fields in order (a key given twice, or naming one of the first three, is dropped).
pub fn render(level: &str, message: &str, fields: &[(&str, &str)], now: SystemTime) -> String {
    let quote = |s: &str| Value::String(s.to_string()).to_string();
    let mut line = format!(
        "{{\"ts\":{},\"level\":{},\"msg\":{}",
        quote(&timestamp(now)),
        quote(level),
        quote(message)
    );
    let mut seen: Vec<&str> = vec!["ts", "level", "msg"];
    for (key, value) in fields {
        if seen.contains(key) {
            continue;
        }
        seen.push(key);
        let value = if is_secret_key(key) { "***" } else { value };
        line.push(',');
        line.push_str(&quote(key));
        line.push(':');
        line.push_str(&quote(value));
    }
    line.push('}');
    line
}

/// RFC 3339 UTC with milliseconds: `2026-11-23T20:19:34.123Z`.
pub fn timestamp(now: SystemTime) -> String {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_465_174_123);
        assert_eq!(timestamp(t), "2026-11-23T20:19:34.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(timestamp(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn secrets_are_masked_and_newlines_cannot_forge_lines() {
        let line = render(
            "info",
            "delivery\naccepted",
            &[
                ("delivery", "abc\n{\"level\":\"error\",\"msg\":\"forged\"}"),
                ("token", "ghs_0123456789abcdef"),
                ("Authorization", "Bearer eyJhbGciOi"),
                ("webhook_secret", "It's a Secret"),
                ("db_password", "pw123"),
                ("level", "forged-level"),
                ("repo", "octo/hello"),
            ],
            UNIX_EPOCH,
        );
        assert!(!line.contains('\n') && !line.contains('\r'), "{line}");
        for secret in ["ghs_0123", "eyJhbG", "It's a Secret", "pw123"] {
            assert!(!line.contains(secret), "{line}");
        }
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["token"], "***");
        assert_eq!(v["Authorization"], "***");
        assert_eq!(v["webhook_secret"], "***");
        assert_eq!(v["db_password"], "***");
        assert_eq!(v["level"], "info");
        assert_eq!(v["msg"], "delivery\naccepted");
        assert_eq!(v["repo"], "octo/hello");
        assert_eq!(
            v["delivery"],
            "abc\n{\"level\":\"error\",\"msg\":\"forged\"}"
        );
        assert_eq!(v["ts"], "1970-01-01T00:00:00.000Z");
        assert!(
            line.starts_with("{\"ts\":\"1970-01-01T00:00:00.000Z\",\"level\":\"info\",\"msg\":")
        );
        let twice = render("info", "m", &[("a", "1"), ("a", "2")], UNIX_EPOCH);
        assert_eq!(serde_json::from_str::<Value>(&twice).unwrap()["a"], "1");
        assert_eq!(twice.matches("\"a\"").count(), 1);
    }
}
