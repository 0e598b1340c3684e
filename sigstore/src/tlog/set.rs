//! Signed entry timestamps (SET, Rekor v1 inclusion promises): the log's signature over the
//! RFC 8785 canonical JSON `{"body","integratedTime","logID","logIndex"}` of the entry.

use crate::error::{Error, Result};
use crate::key::hex_lower;
use crate::time::Time;
use crate::trust::LogKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::TransparencyLogEntry;

/// How far an integrated time may be ahead of this machine's clock (seconds).
const MAX_CLOCK_SKEW_SECS: i64 = 60;

/// Verifies the SET with a log key valid at the integrated time; returns that time.
pub(super) fn verify(entry: &TransparencyLogEntry, set: &[u8], logs: &[&LogKey]) -> Result<Time> {
    if set.is_empty() {
        return Err(Error::Tlog("inclusion promise has an empty SET".into()));
    }
    if entry.integrated_time <= 0 {
        return Err(Error::Tlog(format!(
            "inclusion promise with integrated time {}",
            entry.integrated_time
        )));
    }
    let time = Time::from_secs(entry.integrated_time);
    if entry.integrated_time > Time::now().secs.saturating_add(MAX_CLOCK_SKEW_SECS) {
        return Err(Error::Tlog(format!(
            "integrated time {time} is in the future"
        )));
    }
    let log_id = entry
        .log_id
        .as_ref()
        .map(|l| l.key_id.as_slice())
        .unwrap_or_default();
    let message = payload(
        &entry.canonicalized_body,
        entry.integrated_time,
        log_id,
        entry.log_index,
    );
    let valid: Vec<&&LogKey> = logs.iter().filter(|l| l.validity.contains(time)).collect();
    if valid.is_empty() {
        return Err(Error::Tlog(format!(
            "integrated time {time} is outside the validity of the log key in the trusted root"
        )));
    }
    if valid
        .iter()
        .any(|l| l.key.verify(message.as_bytes(), set).is_ok())
    {
        Ok(time)
    } else {
        Err(Error::Tlog(
            "inclusion promise (SET) does not verify with the log key".into(),
        ))
    }
}

/// The signed payload: canonical JSON, keys in order, no spaces; the log id in lowercase hex.
pub(super) fn payload(body: &[u8], integrated_time: i64, log_id: &[u8], log_index: i64) -> String {
    // Base64 and hex need no JSON escaping.
    format!(
        r#"{{"body":"{}","integratedTime":{integrated_time},"logID":"{}","logIndex":{log_index}}}"#,
        B64.encode(body),
        hex_lower(log_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_canonical_json() {
        let p = payload(b"{}", 1_689_177_396, &[0xc0, 0xd2], 27_246_492);
        assert_eq!(
            p,
            r#"{"body":"e30=","integratedTime":1689177396,"logID":"c0d2","logIndex":27246492}"#
        );
        let v: serde_json::Value = serde_json::from_str(&p).unwrap();
        assert_eq!(v["logIndex"], 27_246_492);
    }
}
