//! Rekor v1: proposed entries (`dsse` 0.0.1 for envelopes, `hashedrekord` 0.0.1 for blobs), the
//! `POST /api/v1/log/entries` call and the `LogEntry` it answers.

use crate::config::join;
use crate::error::{Error, Result};
use crate::http::{self, Http, Request};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

const SERVICE: &str = "Rekor";

/// An entry to propose, with what the logged body must show of it.
#[derive(Debug, Clone)]
pub(crate) struct Proposed {
    /// The JSON body sent to Rekor.
    pub entry: Value,
    /// `dsse` or `hashedrekord`.
    pub kind: &'static str,
    /// `0.0.1`.
    pub api_version: &'static str,
    /// The signature (base64) that the logged body must carry.
    pub signature_b64: String,
}

impl Proposed {
    /// A `dsse` 0.0.1 entry: the envelope as JSON text and the certificate that verifies it.
    pub fn dsse(envelope_json: &str, signature: &[u8], cert_pem: &str) -> Proposed {
        Proposed {
            entry: json!({
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": { "proposedContent": {
                    "envelope": envelope_json,
                    "verifiers": [STANDARD.encode(cert_pem)],
                }},
            }),
            kind: "dsse",
            api_version: "0.0.1",
            signature_b64: STANDARD.encode(signature),
        }
    }

    /// A `hashedrekord` 0.0.1 entry: the artifact's SHA-256, the signature over it and the
    /// certificate.
    pub fn hashedrekord(sha256: &[u8; 32], signature: &[u8], cert_pem: &str) -> Proposed {
        let signature_b64 = STANDARD.encode(signature);
        Proposed {
            entry: json!({
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": { "hash": { "algorithm": "sha256", "value": hex::encode(sha256) } },
                    "signature": {
                        "content": signature_b64,
                        "publicKey": { "content": STANDARD.encode(cert_pem) },
                    },
                },
            }),
            kind: "hashedrekord",
            api_version: "0.0.1",
            signature_b64,
        }
    }
}

/// A Rekor inclusion proof with its signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InclusionProof {
    pub log_index: i64,
    pub root_hash: Vec<u8>,
    pub tree_size: i64,
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: String,
}

/// A logged entry as Rekor v1 answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogEntry {
    pub uuid: String,
    /// The canonicalized body (decoded from base64).
    pub body: Vec<u8>,
    pub integrated_time: i64,
    pub log_id: Vec<u8>,
    pub log_index: i64,
    pub proof: InclusionProof,
    pub signed_entry_timestamp: Vec<u8>,
}

/// Logs `proposed`. A 409 (the entry exists, e.g. a retried request that had succeeded) is
/// answered by fetching the existing entry at the `Location` Rekor gives.
pub(crate) fn create_entry(http: &Http, rekor_url: &str, proposed: &Proposed) -> Result<LogEntry> {
    let url = join(rekor_url, "/api/v1/log/entries");
    let body = serde_json::to_vec(&proposed.entry)
        .map_err(|e| Error::LogEntry(format!("cannot encode the proposed entry: {e}")))?;
    let request = Request {
        method: reqwest::Method::POST,
        url: &url,
        headers: vec![("Accept", "application/json".into())],
        json_body: Some(body),
    };
    let response = http.send(SERVICE, &request, &[])?;
    let response = if response.status == 409 {
        let location = response
            .location
            .as_deref()
            .ok_or_else(|| http::status_error(SERVICE, &response, &[]))?;
        let existing = resolve_location(rekor_url, location)?;
        let get = Request {
            method: reqwest::Method::GET,
            url: &existing,
            headers: vec![("Accept", "application/json".into())],
            json_body: None,
        };
        http::expect_success(SERVICE, http.send(SERVICE, &get, &[])?, &[])?
    } else {
        http::expect_success(SERVICE, response, &[])?
    };
    let entry = parse_log_entry(&response.body)?;
    check_body(&entry.body, proposed)?;
    Ok(entry)
}

/// The absolute URL of a `Location` header, which must stay on the Rekor host.
fn resolve_location(rekor_url: &str, location: &str) -> Result<String> {
    let base = reqwest::Url::parse(rekor_url)
        .map_err(|e| Error::Config(format!("rekor_url is not a URL: {e}")))?;
    let target = base
        .join(location)
        .map_err(|_| Error::LogEntry("the 409 answer's Location is not a URL".into()))?;
    if target.origin() != base.origin() {
        return Err(Error::LogEntry(
            "the 409 answer points to an entry on another host; not following it".into(),
        ));
    }
    Ok(target.into())
}

/// Reads a `LogEntry` answer: `{uuid: {body, integratedTime, logID, logIndex, verification}}`.
pub(crate) fn parse_log_entry(bytes: &[u8]) -> Result<LogEntry> {
    let bad = |why: String| Error::LogEntry(why);
    let value: Value =
        serde_json::from_slice(bytes).map_err(|_| bad("the answer is not JSON".into()))?;
    let map = value
        .as_object()
        .ok_or_else(|| bad("the answer is not a JSON object".into()))?;
    if map.len() != 1 {
        return Err(bad(format!(
            "the answer holds {} entries, not one",
            map.len()
        )));
    }
    let Some((uuid, entry)) = map.iter().next() else {
        return Err(bad("the answer holds no entry".into()));
    };
    let field = |v: &Value, name: &str| v.get(name).cloned().unwrap_or(Value::Null);
    let string = |v: &Value, name: &str| -> Result<String> {
        field(v, name)
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| bad(format!("`{name}` is missing")))
    };
    let int = |v: &Value, name: &str| -> Result<i64> {
        field(v, name)
            .as_i64()
            .filter(|n| *n >= 0)
            .ok_or_else(|| bad(format!("`{name}` is missing or not a non-negative integer")))
    };
    let b64 = |s: &str, name: &str| {
        STANDARD
            .decode(s)
            .map_err(|_| bad(format!("`{name}` is not base64")))
    };
    let hex32 = |s: &str, name: &str| -> Result<Vec<u8>> {
        hex::decode(s)
            .ok()
            .filter(|h| h.len() == 32)
            .ok_or_else(|| bad(format!("`{name}` is not a 32-byte hex hash")))
    };

    let body = b64(&string(entry, "body")?, "body")?;
    let verification = field(entry, "verification");
    let set = b64(
        &string(&verification, "signedEntryTimestamp")?,
        "signedEntryTimestamp",
    )?;
    let proof = field(&verification, "inclusionProof");
    if proof.is_null() {
        return Err(bad("the entry has no inclusion proof".into()));
    }
    let hashes = field(&proof, "hashes")
        .as_array()
        .ok_or_else(|| bad("`inclusionProof.hashes` is missing".into()))?
        .iter()
        .map(|h| {
            h.as_str()
                .ok_or_else(|| bad("a proof hash is not a string".into()))
        })
        .map(|h| h.and_then(|h| hex32(h, "inclusionProof.hashes")))
        .collect::<Result<Vec<_>>>()?;
    let proof = InclusionProof {
        log_index: int(&proof, "logIndex")?,
        root_hash: hex32(&string(&proof, "rootHash")?, "inclusionProof.rootHash")?,
        tree_size: int(&proof, "treeSize")?,
        hashes,
        checkpoint: string(&proof, "checkpoint")?,
    };
    Ok(LogEntry {
        uuid: uuid.clone(),
        body,
        integrated_time: int(entry, "integratedTime")?,
        log_id: hex32(&string(entry, "logID")?, "logID")?,
        log_index: int(entry, "logIndex")?,
        proof,
        signed_entry_timestamp: set,
    })
}

/// Checks that the logged body is of the proposed kind and carries our signature.
fn check_body(body: &[u8], proposed: &Proposed) -> Result<()> {
    let bad = |why: &str| Error::LogEntry(format!("the logged body {why}"));
    let value: Value = serde_json::from_slice(body).map_err(|_| bad("is not JSON"))?;
    if value.get("kind").and_then(Value::as_str) != Some(proposed.kind)
        || value.get("apiVersion").and_then(Value::as_str) != Some(proposed.api_version)
    {
        return Err(bad(&format!(
            "is not a {} {} entry",
            proposed.kind, proposed.api_version
        )));
    }
    let spec = value.get("spec").cloned().unwrap_or(Value::Null);
    let carries = match proposed.kind {
        "dsse" => spec
            .get("signatures")
            .and_then(Value::as_array)
            .is_some_and(|sigs| {
                sigs.iter().any(|s| {
                    s.get("signature").and_then(Value::as_str) == Some(&proposed.signature_b64)
                })
            }),
        _ => {
            spec.pointer("/signature/content").and_then(Value::as_str)
                == Some(&proposed.signature_b64)
        }
    };
    if !carries {
        return Err(bad("does not carry our signature"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(entry: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({ "24296fb24b8ad77a": entry })).unwrap()
    }

    fn good() -> Value {
        json!({
            "body": STANDARD.encode(br#"{"kind":"hashedrekord"}"#),
            "integratedTime": 1_700_000_000,
            "logID": "ab".repeat(32),
            "logIndex": 7,
            "verification": {
                "inclusionProof": {
                    "checkpoint": "origin\n8\nroot\n\n— origin sig\n",
                    "hashes": ["cd".repeat(32)],
                    "logIndex": 7,
                    "rootHash": "ef".repeat(32),
                    "treeSize": 8,
                },
                "signedEntryTimestamp": "MEUCIQ==",
            },
        })
    }

    #[test]
    fn reads_a_log_entry() {
        let entry = parse_log_entry(&answer(good())).unwrap();
        assert_eq!(entry.uuid, "24296fb24b8ad77a");
        assert_eq!(entry.log_index, 7);
        assert_eq!(entry.proof.tree_size, 8);
        assert_eq!(entry.proof.hashes, vec![vec![0xcd; 32]]);
        assert_eq!(entry.log_id, vec![0xab; 32]);
    }

    #[test]
    fn rejects_incomplete_entries() {
        for pointer in [
            "/body",
            "/logID",
            "/verification/inclusionProof",
            "/logIndex",
        ] {
            let mut entry = good();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            entry
                .pointer_mut(parent)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(key);
            assert!(parse_log_entry(&answer(entry)).is_err(), "{pointer}");
        }
        let mut entry = good();
        entry["logIndex"] = json!(-1);
        assert!(parse_log_entry(&answer(entry)).is_err());
        let mut entry = good();
        entry["verification"]["inclusionProof"]["hashes"] = json!(["zz"]);
        assert!(parse_log_entry(&answer(entry)).is_err());
        assert!(parse_log_entry(b"{}").is_err());
        assert!(parse_log_entry(b"[1]").is_err());
    }

    #[test]
    fn locations_stay_on_the_rekor_host() {
        let base = "https://rekor.example";
        assert_eq!(
            resolve_location(base, "/api/v1/log/entries/ab").unwrap(),
            "https://rekor.example/api/v1/log/entries/ab"
        );
        assert!(resolve_location(base, "https://evil.example/api/v1/log/entries/ab").is_err());
    }

    #[test]
    fn body_must_carry_our_signature() {
        let proposed = Proposed::hashedrekord(&[1; 32], b"sig", "PEM");
        let body = json!({"apiVersion": "0.0.1", "kind": "hashedrekord",
            "spec": {"signature": {"content": STANDARD.encode(b"sig")}}});
        check_body(&serde_json::to_vec(&body).unwrap(), &proposed).unwrap();
        let other = json!({"apiVersion": "0.0.1", "kind": "hashedrekord",
            "spec": {"signature": {"content": STANDARD.encode(b"other")}}});
        assert!(check_body(&serde_json::to_vec(&other).unwrap(), &proposed).is_err());
        let dsse = json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {}});
        assert!(check_body(&serde_json::to_vec(&dsse).unwrap(), &proposed).is_err());
    }
}
