//! Transparency-log entries (Rekor v1 and v2): body, SET, inclusion proof, checkpoint.
//!
//! An entry is accepted when its body commits to the bundle's signature, signer and digest, and
//! it is anchored by the log: a verified inclusion promise (SET, Rekor v1) and/or an inclusion
//! proof whose root is in a checkpoint signed by the log. Only a SET vouches for the integrated
//! time; Rekor v2 entries have none, so their time must come from a timestamp authority.

mod checkpoint;
mod matching;
mod merkle;
mod rekor_v1;
mod rekor_v2;
mod set;

use crate::error::{Error, Result};
use crate::key::PublicKey;
use crate::time::Time;
use crate::trust::{LogKey, TrustRoot};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::bundle::Content;
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::{KindVersion, TransparencyLogEntry};

/// Who the entry must name as the signer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EntrySigner<'a> {
    /// The leaf certificate (DER).
    Certificate(&'a [u8]),
    /// A public key.
    Key(&'a PublicKey),
}

/// What a log entry must commit to: the bundle's content and its signer.
///
/// For a message signature the entry is matched against `messageDigest`, so the caller must
/// check that this digest is the artifact's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    /// The bundle's content (message signature or DSSE envelope).
    pub content: &'a Content,
    /// The signer.
    pub signer: EntrySigner<'a>,
}

/// Which Rekor API produced the entry, from its kind and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    /// Rekor v1 (`hashedrekord 0.0.1`, `dsse 0.0.1`, `intoto 0.0.2`).
    V1,
    /// Rekor v2 (`hashedrekord 0.0.2`, `dsse 0.0.2`).
    V2,
}

/// Checks one entry against the bundle and the trusted logs. Returns the integrated time when it
/// is vouched for (a verified SET on a Rekor v1 entry), `None` otherwise (Rekor v2, or a v1 entry
/// anchored only by its inclusion proof).
///
/// Every inclusion proof present is checked. An entry must be anchored by a SET or by an
/// inclusion proof with a signed checkpoint; Rekor v2 entries need the latter. Whether the
/// bundle's version requires an inclusion proof (v0.2 on) is the caller's check.
pub(crate) fn verify_entry(
    entry: &TransparencyLogEntry,
    expected: &Expected<'_>,
    root: &TrustRoot,
) -> Result<Option<Time>> {
    if entry.log_index < 0 {
        return Err(Error::Tlog(format!(
            "negative log index {}",
            entry.log_index
        )));
    }
    let logs = trusted_logs(entry, root)?;
    let kind_version = entry
        .kind_version
        .as_ref()
        .ok_or_else(|| Error::Tlog("entry has no kindVersion".into()))?;
    let api = api_of(kind_version)?;
    match api {
        Api::V1 => rekor_v1::check_body(&entry.canonicalized_body, kind_version, expected)?,
        Api::V2 => rekor_v2::check_body(&entry.canonicalized_body, kind_version, expected)?,
    }

    let mut proven = false;
    if let Some(proof) = &entry.inclusion_proof {
        merkle::verify_inclusion(proof, &entry.canonicalized_body)?;
        if let Some(cp) = proof.checkpoint.as_ref().filter(|c| !c.envelope.is_empty()) {
            checkpoint::verify(&cp.envelope, proof, &logs)?;
            proven = true;
        }
    }

    match api {
        Api::V2 if !proven => Err(Error::Tlog(
            "a Rekor v2 entry needs an inclusion proof with a signed checkpoint".into(),
        )),
        Api::V2 => Ok(None),
        Api::V1 => {
            let time = match &entry.inclusion_promise {
                Some(promise) => Some(set::verify(entry, &promise.signed_entry_timestamp, &logs)?),
                None => None,
            };
            if time.is_none() && !proven {
                return Err(Error::Tlog(
                    "entry has neither an inclusion promise (SET) nor an inclusion proof with a \
                     checkpoint"
                        .into(),
                ));
            }
            Ok(time)
        }
    }
}

/// The trusted-root logs the entry names by its log id (or, for Rekor v2, checkpoint key id).
fn trusted_logs<'r>(entry: &TransparencyLogEntry, root: &'r TrustRoot) -> Result<Vec<&'r LogKey>> {
    let id = entry
        .log_id
        .as_ref()
        .map(|l| l.key_id.as_slice())
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Error::Tlog("entry has no log id".into()))?;
    let logs: Vec<&LogKey> = root
        .tlogs
        .iter()
        .filter(|l| l.log_id == id || l.checkpoint_key_id.as_deref() == Some(id))
        .collect();
    if logs.is_empty() {
        return Err(Error::Tlog(format!(
            "entry is from log {}, which is not in the trusted root",
            B64.encode(id)
        )));
    }
    Ok(logs)
}

fn api_of(kv: &KindVersion) -> Result<Api> {
    match (kv.kind.as_str(), kv.version.as_str()) {
        ("hashedrekord", "0.0.1") | ("dsse", "0.0.1") | ("intoto", "0.0.2") => Ok(Api::V1),
        ("hashedrekord", "0.0.2") | ("dsse", "0.0.2") => Ok(Api::V2),
        (kind, version) => Err(Error::Tlog(format!(
            "unsupported entry kind `{kind}` version `{version}`"
        ))),
    }
}

/// Checks that the body's own kind and version are the ones the bundle states.
fn check_kind_version(kv: &KindVersion, kind: &str, version: &str) -> Result<()> {
    if kv.kind != kind || kv.version != version {
        return Err(Error::Tlog(format!(
            "bundle says the entry is `{} {}` but its body is `{kind} {version}`",
            kv.kind, kv.version
        )));
    }
    Ok(())
}

/// Decodes standard base64 from a log entry field.
fn b64_decode(what: &str, text: &str) -> Result<Vec<u8>> {
    B64.decode(text)
        .map_err(|e| Error::Tlog(format!("entry {what} is not base64: {e}")))
}

#[cfg(test)]
mod tests;
