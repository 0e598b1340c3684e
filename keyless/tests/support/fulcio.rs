//! A mock Fulcio v2: checks each request against the published schema, the token's expiry and
//! audience, and the proof of possession; issues a leaf from the test CA.

use super::ca::{San, TestCa};
use super::jwt::{claims_of, expected_identity, now};
use super::schema::check_fulcio_request;
use super::server::{Request, Response, TestServer};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Verifier;
use serde_json::{Value, json};
use spki::{DecodePublicKey, EncodePublicKey};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// How the mock answers.
#[derive(Default)]
pub struct FulcioState {
    /// Answers given instead of the real one, first in first out.
    pub faults: VecDeque<Response>,
    /// Answer with `signedCertificateDetachedSct` instead of the embedded form.
    pub detached_sct: bool,
    /// Pad the answer with this many bytes (to test size limits).
    pub padding: usize,
    /// Send the answer without `Content-Length`.
    pub close_delimited: bool,
    /// Every request body received, as text.
    pub requests: Vec<String>,
    /// Leaves issued (DER).
    pub issued: Vec<Vec<u8>>,
}

/// A running mock Fulcio.
pub struct MockFulcio {
    pub server: TestServer,
    pub state: Arc<Mutex<FulcioState>>,
}

impl MockFulcio {
    pub fn start(ca: Arc<TestCa>) -> MockFulcio {
        let state = Arc::new(Mutex::new(FulcioState::default()));
        let shared = state.clone();
        let server = TestServer::start(move |request| handle(request, &ca, &shared));
        MockFulcio { server, state }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Queues an answer to give before the real ones.
    pub fn fault(&self, response: Response) {
        self.state.lock().unwrap().faults.push_back(response);
    }

    /// How many requests arrived.
    pub fn request_count(&self) -> usize {
        self.state.lock().unwrap().requests.len()
    }
}

fn handle(request: &Request, ca: &TestCa, state: &Mutex<FulcioState>) -> Response {
    if request.method != "POST" || request.path() != "/api/v2/signingCert" {
        return Response::error(404, "Not Found");
    }
    let mut state = state.lock().unwrap();
    state
        .requests
        .push(String::from_utf8_lossy(&request.body).into_owned());
    if let Some(fault) = state.faults.pop_front() {
        return fault;
    }
    if request.header("content-type") != Some("application/json") {
        return Response::error(400, "expected a JSON body");
    }
    let body: Value = match serde_json::from_slice(&request.body) {
        Ok(v) => v,
        Err(e) => return Response::error(400, &format!("invalid JSON: {e}")),
    };
    if let Err(e) = check_fulcio_request(&body) {
        return Response::error(400, &format!("request does not match the schema: {e}"));
    }
    let token = body
        .pointer("/credentials/oidcIdentityToken")
        .and_then(Value::as_str);
    let Some(claims) = token.and_then(claims_of) else {
        return Response::error(401, "There was an error processing the identity token");
    };
    if claims["exp"].as_i64().is_none_or(|exp| exp <= now()) {
        return Response::error(401, "There was an error processing the identity token");
    }
    let audience_ok = match &claims["aud"] {
        Value::String(a) => a == "sigstore",
        Value::Array(list) => list.iter().any(|a| a == "sigstore"),
        _ => false,
    };
    if !audience_ok {
        return Response::error(401, "There was an error processing the identity token");
    }
    let key_request = &body["publicKeyRequest"];
    if key_request
        .pointer("/publicKey/algorithm")
        .and_then(Value::as_str)
        != Some("ECDSA")
    {
        return Response::error(400, "unsupported public key algorithm");
    }
    let pem = key_request
        .pointer("/publicKey/content")
        .and_then(Value::as_str)
        .unwrap_or("");
    let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) else {
        return Response::error(
            400,
            "The public key supplied in the request could not be parsed",
        );
    };
    let subject = claims
        .get("email")
        .and_then(Value::as_str)
        .or_else(|| claims["sub"].as_str())
        .unwrap_or_default();
    let proof = key_request["proofOfPossession"].as_str().unwrap_or("");
    let verified = STANDARD
        .decode(proof)
        .ok()
        .and_then(|der| p256::ecdsa::DerSignature::from_bytes(&der).ok())
        .is_some_and(|sig| key.verify(subject.as_bytes(), &sig).is_ok());
    if !verified {
        return Response::error(
            400,
            "The signature supplied in the request could not be verified",
        );
    }
    let identity = expected_identity(&claims);
    let san = if claims.get("email").is_some() {
        San::Email(identity)
    } else {
        San::Uri(identity)
    };
    let issuer = claims["iss"].as_str().unwrap_or_default();
    let spki = key.to_public_key_der().unwrap();
    let leaf = ca.issue_leaf(spki.as_bytes(), &san, issuer, !state.detached_sct);
    state.issued.push(leaf.clone());
    let chain = json!({ "chain": { "certificates": ca.chain_pem(&leaf) } });
    let mut answer = if state.detached_sct {
        let mut detached = chain;
        detached["signedCertificateTimestamp"] = STANDARD.encode(b"{}").into();
        json!({ "signedCertificateDetachedSct": detached })
    } else {
        json!({ "signedCertificateEmbeddedSct": chain })
    };
    if state.padding > 0 {
        answer["padding"] = "x".repeat(state.padding).into();
    }
    let mut response = Response::json(200, &answer);
    response.close_delimited = state.close_delimited;
    response
}
