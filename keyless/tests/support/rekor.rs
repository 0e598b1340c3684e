//! A mock Rekor v1 with a real RFC 6962 Merkle tree: checks each proposed entry against the
//! published schema and its signature, canonicalizes the body as Rekor does, and answers with an
//! inclusion proof, a signed checkpoint and a signed entry timestamp from a test log key.

use super::jwt::now;
use super::merkle;
use super::schema::{check_inclusion_proof, check_rekor_request};
use super::server::{Request, Response, TestServer};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use der::Decode;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::elliptic_curve::Generate;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use spki::{DecodePublicKey, EncodePublicKey};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// The name the mock log signs checkpoints with.
pub const LOG_NAME: &str = "rekor.cavra.test";

/// A scripted misbehaviour.
pub enum Fault {
    /// Answer this without logging anything.
    Respond(Response),
    /// Log the entry, then answer this (a lost answer: the retry meets a 409).
    CommitThen(Response),
    /// Answer 409 without a `Location`.
    ConflictWithoutLocation,
}

/// One logged entry.
pub struct Stored {
    pub uuid: String,
    pub body: Vec<u8>,
    pub index: usize,
    pub integrated_time: i64,
}

/// The log and how the mock answers.
pub struct RekorState {
    pub faults: VecDeque<Fault>,
    pub leaves: Vec<[u8; 32]>,
    pub entries: Vec<Stored>,
    /// Every POST body received, as text.
    pub requests: Vec<String>,
    /// Pad answers with this many bytes (to test size limits).
    pub padding: usize,
    key: SigningKey,
    tree_id: u64,
}

/// A running mock Rekor.
pub struct MockRekor {
    pub server: TestServer,
    pub state: Arc<Mutex<RekorState>>,
    /// The log key (SPKI DER) and id (its SHA-256).
    pub key_spki: Vec<u8>,
    pub log_id: [u8; 32],
}

impl MockRekor {
    /// A log that already holds `existing` unrelated entries.
    pub fn start(existing: usize) -> MockRekor {
        let key = SigningKey::generate();
        let key_spki = key
            .verifying_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes()
            .to_vec();
        let log_id: [u8; 32] = Sha256::digest(&key_spki).into();
        let leaves = (0..existing)
            .map(|i| merkle::leaf_hash(format!("unrelated entry {i}").as_bytes()))
            .collect();
        let state = Arc::new(Mutex::new(RekorState {
            faults: VecDeque::new(),
            leaves,
            entries: Vec::new(),
            requests: Vec::new(),
            padding: 0,
            key,
            tree_id: 1_193_050_959_916_656_506,
        }));
        let shared = state.clone();
        let server = TestServer::start(move |request| handle(request, &shared));
        MockRekor {
            server,
            state,
            key_spki,
            log_id,
        }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push_back(fault);
    }

    pub fn post_count(&self) -> usize {
        self.state.lock().unwrap().requests.len()
    }

    /// The log's verifying key.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey::from_public_key_der(&self.key_spki).unwrap()
    }
}

fn handle(request: &Request, state: &Mutex<RekorState>) -> Response {
    let mut state = state.lock().unwrap();
    let path = request.path();
    if request.method == "GET" {
        if let Some(uuid) = path.strip_prefix("/api/v1/log/entries/") {
            return match state.entries.iter().position(|e| e.uuid == uuid) {
                Some(i) => answer(&state, i, 200),
                None => Response::error(404, "entry not found"),
            };
        }
    }
    if request.method != "POST" || path != "/api/v1/log/entries" {
        return Response::error(404, "Not Found");
    }
    state
        .requests
        .push(String::from_utf8_lossy(&request.body).into_owned());
    let proposed: Value = match serde_json::from_slice(&request.body) {
        Ok(v) => v,
        Err(e) => return Response::error(400, &format!("invalid JSON: {e}")),
    };
    if let Err(e) = check_rekor_request(&proposed) {
        return Response::error(400, &format!("request does not match the schema: {e}"));
    }
    let body = match canonical_body(&proposed) {
        Ok(body) => body,
        Err(e) => return Response::error(400, &e),
    };
    let fault = state.faults.pop_front();
    if let Some(Fault::Respond(response)) = fault {
        return response;
    }
    if let Some(Fault::ConflictWithoutLocation) = fault {
        return Response::error(409, "an equivalent entry already exists");
    }
    let leaf = merkle::leaf_hash(&body);
    let uuid = format!("{:016x}{}", state.tree_id, hex::encode(leaf));
    if state.entries.iter().any(|e| e.uuid == uuid) {
        let location = format!("/api/v1/log/entries/{uuid}");
        return Response::error(
            409,
            &format!("an equivalent entry already exists in the transparency log with UUID {uuid}"),
        )
        .with_header("Location", &location);
    }
    let index = state.leaves.len();
    state.leaves.push(leaf);
    state.entries.push(Stored {
        uuid,
        body,
        index,
        integrated_time: now(),
    });
    if let Some(Fault::CommitThen(response)) = fault {
        return response;
    }
    answer(&state, state.entries.len() - 1, 201)
}

/// The `LogEntry` answer for stored entry `i`, proven against the current tree.
fn answer(state: &RekorState, i: usize, status: u16) -> Response {
    let entry = &state.entries[i];
    let size = state.leaves.len();
    let root = merkle::root(&state.leaves);
    let hashes: Vec<String> = merkle::inclusion_path(entry.index, &state.leaves)
        .iter()
        .map(hex::encode)
        .collect();
    let key_spki = state.key.verifying_key().to_public_key_der().unwrap();
    let log_id = Sha256::digest(key_spki.as_bytes());
    let body_b64 = STANDARD.encode(&entry.body);
    let set_payload = canonical_json(&json!({
        "body": body_b64,
        "integratedTime": entry.integrated_time,
        "logID": hex::encode(log_id),
        "logIndex": entry.index,
    }));
    let set: DerSignature = state.key.sign(set_payload.as_bytes());
    let proof = json!({
        "checkpoint": checkpoint(state, size, &root, &log_id[..4]),
        "hashes": hashes,
        "logIndex": entry.index,
        "rootHash": hex::encode(root),
        "treeSize": size,
    });
    if let Err(e) = check_inclusion_proof(&proof) {
        return Response::error(500, &format!("mock bug, inclusion proof off schema: {e}"));
    }
    let mut value = json!({ &entry.uuid: {
        "body": body_b64,
        "integratedTime": entry.integrated_time,
        "logID": hex::encode(log_id),
        "logIndex": entry.index,
        "verification": {
            "inclusionProof": proof,
            "signedEntryTimestamp": STANDARD.encode(set.as_bytes()),
        },
    }});
    if state.padding > 0 {
        value[&entry.uuid]["padding"] = "x".repeat(state.padding).into();
    }
    Response::json(status, &value)
        .with_header("Location", &format!("/api/v1/log/entries/{}", entry.uuid))
        .with_header("ETag", &entry.uuid)
}

/// A C2SP signed note: `origin\nsize\nbase64(root)\n`, a blank line, and the log's signature
/// line `— name base64(keyhint || signature)` (key hint: first 4 bytes of the log id).
fn checkpoint(state: &RekorState, size: usize, root: &[u8; 32], key_hint: &[u8]) -> String {
    let text = format!(
        "{LOG_NAME} - {}\n{size}\n{}\n",
        state.tree_id,
        STANDARD.encode(root)
    );
    let signature: DerSignature = state.key.sign(text.as_bytes());
    let mut signed = key_hint.to_vec();
    signed.extend_from_slice(signature.as_bytes());
    format!("{text}\n\u{2014} {LOG_NAME} {}\n", STANDARD.encode(signed))
}

/// Checks the proposed entry's signature and builds the body Rekor logs for it.
fn canonical_body(proposed: &Value) -> Result<Vec<u8>, String> {
    let spec = &proposed["spec"];
    let b64 = |v: &Value, what: &str| {
        v.as_str()
            .and_then(|s| STANDARD.decode(s).ok())
            .ok_or_else(|| format!("{what} is not base64"))
    };
    let body = match proposed["kind"].as_str() {
        Some("dsse") => {
            let content = &spec["proposedContent"];
            let envelope_text = content["envelope"].as_str().ok_or("no envelope")?;
            let envelope: Value =
                serde_json::from_str(envelope_text).map_err(|e| format!("envelope: {e}"))?;
            let payload_type = envelope["payloadType"].as_str().ok_or("no payloadType")?;
            let payload = b64(&envelope["payload"], "payload")?;
            let verifier_b64 = content["verifiers"][0].as_str().ok_or("no verifier")?;
            let key = key_from_certificate(&b64(&content["verifiers"][0], "verifier")?)?;
            let pae = cavra_sigstore::dsse::pae(payload_type, &payload);
            let sigs = envelope["signatures"].as_array().ok_or("no signatures")?;
            let mut signatures = Vec::new();
            for sig in sigs {
                let text = sig["sig"].as_str().ok_or("no sig")?;
                let der = p256::ecdsa::Signature::from_der(&b64(&sig["sig"], "sig")?)
                    .map_err(|e| format!("sig: {e}"))?;
                key.verify(&pae, &der)
                    .map_err(|_| "could not verify envelope".to_owned())?;
                signatures.push(json!({"signature": text, "verifier": verifier_b64}));
            }
            json!({
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {"algorithm": "sha256",
                        "value": hex::encode(Sha256::digest(envelope_text.as_bytes()))},
                    "payloadHash": {"algorithm": "sha256",
                        "value": hex::encode(Sha256::digest(&payload))},
                    "signatures": signatures,
                },
            })
        }
        Some("hashedrekord") => {
            let digest_hex = spec.pointer("/data/hash/value").and_then(Value::as_str);
            let digest = digest_hex
                .and_then(|h| hex::decode(h).ok())
                .filter(|d| d.len() == 32)
                .ok_or("data.hash.value is not a SHA-256")?;
            let signature = spec
                .pointer("/signature/content")
                .cloned()
                .unwrap_or_default();
            let public_key = spec
                .pointer("/signature/publicKey/content")
                .cloned()
                .unwrap_or_default();
            let key = key_from_certificate(&b64(&public_key, "publicKey.content")?)?;
            let sig = p256::ecdsa::Signature::from_der(&b64(&signature, "signature.content")?)
                .map_err(|e| format!("signature: {e}"))?;
            key.verify_prehash(&digest, &sig)
                .map_err(|_| "invalid signature when validating ASN.1 encoded signature")?;
            json!({
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": digest_hex}},
                    "signature": {"content": signature, "publicKey": {"content": public_key}},
                },
            })
        }
        other => return Err(format!("unsupported kind {other:?}")),
    };
    Ok(canonical_json(&body).into_bytes())
}

/// The key of a PEM certificate.
fn key_from_certificate(pem: &[u8]) -> Result<VerifyingKey, String> {
    let (label, der) = der::pem::decode_vec(pem).map_err(|e| format!("verifier PEM: {e}"))?;
    if label != "CERTIFICATE" {
        return Err(format!("verifier is a {label}, not a certificate"));
    }
    let cert = x509_cert::Certificate::from_der(&der).map_err(|e| format!("certificate: {e}"))?;
    let spki = der::Encode::to_der(cert.tbs_certificate().subject_public_key_info())
        .map_err(|e| e.to_string())?;
    VerifyingKey::from_public_key_der(&spki).map_err(|e| format!("key: {e}"))
}

/// RFC 8785 for the values used here (ASCII strings, integers): keys sorted, no spaces.
pub fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        Value::String((*k).clone()),
                        canonical_json(&map[*k])
                    )
                })
                .collect();
            format!("{{{}}}", items.join(","))
        }
        Value::Array(items) => {
            format!(
                "[{}]",
                items
                    .iter()
                    .map(canonical_json)
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }
        other => other.to_string(),
    }
}
