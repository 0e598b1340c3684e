//! Rekor v1 entry bodies (`hashedrekord 0.0.1`, `dsse 0.0.1`, `intoto 0.0.2`), with the field
//! names of Rekor's OpenAPI types, matched against the bundle.

use super::matching::{self, Logged};
use super::{Expected, b64_decode, check_kind_version};
use crate::error::{Error, Result};
use serde::Deserialize;
use sigstore_protobuf_specs::dev::sigstore::common::v1::HashAlgorithm;
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::KindVersion;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    kind: String,
    api_version: String,
    spec: serde_json::Value,
}

/// `{algorithm, value}` with a lowercase hex value.
#[derive(Deserialize)]
struct Hash {
    algorithm: String,
    value: String,
}

#[derive(Deserialize)]
struct HashedRekord {
    data: HashedRekordData,
    signature: HashedRekordSignature,
}

#[derive(Deserialize)]
struct HashedRekordData {
    hash: Hash,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HashedRekordSignature {
    content: String,
    public_key: HashedRekordKey,
}

#[derive(Deserialize)]
struct HashedRekordKey {
    /// Base64 of a PEM certificate or public key.
    content: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Dsse {
    payload_hash: Hash,
    #[serde(default)]
    signatures: Vec<DsseSignature>,
}

#[derive(Deserialize)]
struct DsseSignature {
    signature: String,
    /// Base64 of a PEM certificate or public key.
    verifier: String,
}

#[derive(Deserialize)]
struct Intoto {
    content: IntotoContent,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoContent {
    envelope: IntotoEnvelope,
    payload_hash: Hash,
}

#[derive(Deserialize)]
struct IntotoEnvelope {
    #[serde(default)]
    signatures: Vec<IntotoSignature>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoSignature {
    /// Base64 of the base64 signature (Rekor encodes it twice).
    sig: String,
    /// Base64 of a PEM certificate or public key.
    public_key: String,
}

/// Checks a Rekor v1 body (the canonicalized JSON) against the bundle.
pub(super) fn check_body(body: &[u8], kv: &KindVersion, expected: &Expected<'_>) -> Result<()> {
    let body: Body = serde_json::from_slice(body)
        .map_err(|e| Error::Tlog(format!("entry body is not a Rekor entry: {e}")))?;
    check_kind_version(kv, &body.kind, &body.api_version)?;
    match (body.kind.as_str(), body.api_version.as_str()) {
        ("hashedrekord", "0.0.1") => hashedrekord(spec(body.spec)?, expected),
        ("dsse", "0.0.1") => dsse(spec(body.spec)?, expected),
        ("intoto", "0.0.2") => intoto(spec(body.spec)?, expected),
        (kind, version) => Err(Error::Tlog(format!(
            "unsupported Rekor v1 entry `{kind} {version}`"
        ))),
    }
}

fn spec<T: for<'de> Deserialize<'de>>(spec: serde_json::Value) -> Result<T> {
    serde_json::from_value(spec).map_err(|e| Error::Tlog(format!("entry body spec: {e}")))
}

fn hashedrekord(spec: HashedRekord, expected: &Expected<'_>) -> Result<()> {
    let msg = matching::message_signature(expected.content, "hashedrekord")?;
    matching::check_signature(
        &b64_decode("signature", &spec.signature.content)?,
        &msg.signature,
    )?;
    let pem = b64_decode("public key", &spec.signature.public_key.content)?;
    Logged::from_pem(&pem)?.check(expected.signer)?;
    let algorithm = algorithm(&spec.data.hash.algorithm)?;
    let digest = hex_decode(&spec.data.hash.value)?;
    matching::check_message_digest(msg, algorithm, &digest)
}

fn dsse(spec: Dsse, expected: &Expected<'_>) -> Result<()> {
    let env = matching::envelope(expected.content, "dsse")?;
    let [logged] = spec.signatures.as_slice() else {
        return Err(Error::Tlog(format!(
            "dsse entry has {} signatures, expected exactly one",
            spec.signatures.len()
        )));
    };
    matching::check_signature(
        &b64_decode("signature", &logged.signature)?,
        matching::envelope_signature(env)?,
    )?;
    Logged::from_pem(&b64_decode("verifier", &logged.verifier)?)?.check(expected.signer)?;
    check_payload_hash(&spec.payload_hash, &env.payload)
}

fn intoto(spec: Intoto, expected: &Expected<'_>) -> Result<()> {
    let env = matching::envelope(expected.content, "intoto")?;
    let sigs = &spec.content.envelope.signatures;
    let [logged] = sigs.as_slice() else {
        return Err(Error::Tlog(format!(
            "intoto entry has {} signatures, expected exactly one",
            sigs.len()
        )));
    };
    let bundle_sig = matching::envelope_signature(env)?;
    // Rekor stores the base64 signature base64-encoded again; accept it encoded once too.
    let once = b64_decode("signature", &logged.sig)?;
    let twice = std::str::from_utf8(&once)
        .ok()
        .and_then(|s| b64_decode("signature", s).ok());
    if twice.as_deref() != Some(bundle_sig) {
        matching::check_signature(&once, bundle_sig)?;
    }
    Logged::from_pem(&b64_decode("public key", &logged.public_key)?)?.check(expected.signer)?;
    check_payload_hash(&spec.content.payload_hash, &env.payload)
}

fn check_payload_hash(logged: &Hash, payload: &[u8]) -> Result<()> {
    let algorithm = algorithm(&logged.algorithm)?;
    if !matching::hex_eq(&logged.value, &matching::hash(algorithm, payload)?) {
        return Err(Error::Tlog(
            "entry records a different DSSE payload hash".into(),
        ));
    }
    Ok(())
}

/// A Rekor v1 hash algorithm name.
fn algorithm(name: &str) -> Result<HashAlgorithm> {
    match name {
        "sha256" => Ok(HashAlgorithm::Sha2256),
        "sha384" => Ok(HashAlgorithm::Sha2384),
        "sha512" => Ok(HashAlgorithm::Sha2512),
        other => Err(Error::Tlog(format!(
            "unsupported entry hash algorithm `{other}`"
        ))),
    }
}

fn hex_decode(hex: &str) -> Result<Vec<u8>> {
    let bad = || Error::Tlog(format!("entry digest `{hex}` is not hex"));
    if hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_decodes_and_rejects_garbage() {
        assert_eq!(hex_decode("00ffA0").unwrap(), vec![0, 255, 160]);
        assert!(hex_decode("0").is_err());
        assert!(hex_decode("zz").is_err());
        assert!(hex_decode("+1").is_err());
    }
}
