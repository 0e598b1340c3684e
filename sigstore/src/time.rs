//! Points in time as the checks compare them: Unix seconds plus nanoseconds, totally ordered.

use std::fmt;

/// A point in time (UTC), ordered; as precise as the source (seconds for Rekor, nanos for TSAs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time {
    /// Seconds since the Unix epoch.
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl Time {
    /// A whole number of seconds since the Unix epoch.
    pub fn from_secs(secs: i64) -> Time {
        Time { secs, nanos: 0 }
    }

    /// From a protobuf `Timestamp` (as found in trusted roots).
    pub fn from_proto(ts: &prost_types_shim::Timestamp) -> Time {
        Time {
            secs: ts.seconds,
            nanos: ts.nanos.clamp(0, 999_999_999) as u32,
        }
    }

    /// From an X.509 validity time.
    pub fn from_x509(t: &x509_cert::time::Time) -> Time {
        let d = t.to_unix_duration();
        Time {
            secs: d.as_secs() as i64,
            nanos: d.subsec_nanos(),
        }
    }

    /// The current time of this machine.
    pub fn now() -> Time {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Time {
            secs: d.as_secs() as i64,
            nanos: d.subsec_nanos(),
        }
    }
}

impl fmt::Display for Time {
    /// RFC 3339 in UTC, e.g. `2024-05-01T12:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

/// A closed interval of time; an open end means "still valid".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// First instant of validity (inclusive).
    pub start: Time,
    /// Last instant of validity (inclusive), if any.
    pub end: Option<Time>,
}

impl Validity {
    /// Whether `t` lies within the interval, both ends included.
    pub fn contains(&self, t: Time) -> bool {
        t >= self.start && self.end.is_none_or(|end| t <= end)
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The protobuf timestamp type, re-exported from the specs crate's dependency.
pub mod prost_types_shim {
    pub use prost_types::Timestamp;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_rfc3339() {
        assert_eq!(Time::from_secs(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Time::from_secs(1_700_000_000).to_string(),
            "2023-11-14T22:13:20Z"
        );
    }

    #[test]
    fn validity_is_closed() {
        let v = Validity {
            start: Time::from_secs(10),
            end: Some(Time::from_secs(20)),
        };
        assert!(v.contains(Time::from_secs(10)) && v.contains(Time::from_secs(20)));
        assert!(!v.contains(Time::from_secs(21)) && !v.contains(Time::from_secs(9)));
    }
}
