//! UTC timestamps without a date-time dependency.

use cavra_policy::Date;

/// The current time as RFC 3339 UTC (`2026-11-23T16:28:00Z`); `CAVRA_TIME` overrides it.
pub fn now_rfc3339() -> String {
    if let Ok(fixed) = std::env::var("CAVRA_TIME") {
        return fixed;
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let date = Date::from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}
