//! Rekor v2 entry bodies: the proto-JSON of `dev.sigstore.rekor.v2.Entry` (`hashedrekord 0.0.2`,
//! `dsse 0.0.2`), matched against the bundle.
//!
//! A DSSE envelope may be logged as a `hashedrekord 0.0.2` whose digest is the hash of the
//! envelope's pre-authentication encoding (PAE) and whose signature is the envelope's.

use super::matching::{self, Logged};
use super::{Expected, check_kind_version};
use crate::error::{Error, Result};
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::bundle::Content;
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::KindVersion;
use sigstore_protobuf_specs::dev::sigstore::rekor::v2::{
    DsseLogEntryV002, Entry, HashedRekordLogEntryV002, Signature, spec::Spec, verifier,
};

/// Checks a Rekor v2 body against the bundle.
pub(super) fn check_body(body: &[u8], kv: &KindVersion, expected: &Expected<'_>) -> Result<()> {
    let entry: Entry = serde_json::from_slice(body)
        .map_err(|e| Error::Tlog(format!("entry body is not a Rekor v2 entry: {e}")))?;
    check_kind_version(kv, &entry.kind, &entry.api_version)?;
    let spec = entry.spec.and_then(|s| s.spec);
    match (entry.kind.as_str(), entry.api_version.as_str(), spec) {
        ("hashedrekord", "0.0.2", Some(Spec::HashedRekordV002(h))) => hashedrekord(&h, expected),
        ("dsse", "0.0.2", Some(Spec::DsseV002(d))) => dsse(&d, expected),
        (kind, version, _) => Err(Error::Tlog(format!(
            "entry body `{kind} {version}` does not hold the matching Rekor v2 spec"
        ))),
    }
}

fn hashedrekord(spec: &HashedRekordLogEntryV002, expected: &Expected<'_>) -> Result<()> {
    let data = spec
        .data
        .as_ref()
        .ok_or_else(|| Error::Tlog("hashedrekord entry has no data digest".into()))?;
    let algorithm = matching::algorithm(data.algorithm)?;
    let sig = spec
        .signature
        .as_ref()
        .ok_or_else(|| Error::Tlog("hashedrekord entry has no signature".into()))?;
    match expected.content {
        Content::MessageSignature(msg) => {
            matching::check_signature(&sig.content, &msg.signature)?;
            check_verifier(sig, expected)?;
            matching::check_message_digest(msg, algorithm, &data.digest)
        }
        Content::DsseEnvelope(env) => {
            matching::check_signature(&sig.content, matching::envelope_signature(env)?)?;
            check_verifier(sig, expected)?;
            let pae = crate::dsse::pae(&env.payload_type, &env.payload);
            if matching::hash(algorithm, &pae)? != data.digest {
                return Err(Error::Tlog(
                    "entry records a different digest than the DSSE envelope's PAE".into(),
                ));
            }
            Ok(())
        }
    }
}

fn dsse(spec: &DsseLogEntryV002, expected: &Expected<'_>) -> Result<()> {
    let env = matching::envelope(expected.content, "dsse")?;
    let [sig] = spec.signatures.as_slice() else {
        return Err(Error::Tlog(format!(
            "dsse entry has {} signatures, expected exactly one",
            spec.signatures.len()
        )));
    };
    matching::check_signature(&sig.content, matching::envelope_signature(env)?)?;
    check_verifier(sig, expected)?;
    let logged = spec
        .payload_hash
        .as_ref()
        .ok_or_else(|| Error::Tlog("dsse entry has no payload hash".into()))?;
    if matching::hash(matching::algorithm(logged.algorithm)?, &env.payload)? != logged.digest {
        return Err(Error::Tlog(
            "entry records a different DSSE payload hash".into(),
        ));
    }
    Ok(())
}

fn check_verifier(sig: &Signature, expected: &Expected<'_>) -> Result<()> {
    let logged = match sig.verifier.as_ref().and_then(|v| v.verifier.as_ref()) {
        Some(verifier::Verifier::X509Certificate(c)) => Logged::Certificate(c.raw_bytes.clone()),
        Some(verifier::Verifier::PublicKey(k)) => Logged::PublicKey(k.raw_bytes.clone()),
        None => return Err(Error::Tlog("entry signature has no verifier".into())),
    };
    logged.check(expected.signer)
}
