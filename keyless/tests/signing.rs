//! The keyless flow against loopback Fulcio and Rekor mocks (which check every request against
//! the published schemas): the bundle's shape and proofs, retries, and errors without secrets.

mod support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cavra_keyless::{Error, IdentityToken, KeylessConfig, KeylessSigner};
use p256::ecdsa::signature::Verifier;
use serde_json::{Value, json};
use support::jwt::{self, email_claims, github_claims, gitlab_claims};
use support::merkle;
use support::rekor::{Fault, LOG_NAME, canonical_json};
use support::server::Response;
use support::{Services, ca};

const STATEMENT: &[u8] = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[]}"#;

fn signer(services: &Services, claims: &Value) -> (KeylessSigner, String) {
    let raw = jwt::jwt(claims);
    let token = IdentityToken::new(raw.clone()).unwrap();
    (KeylessSigner::new(services.config(), token).unwrap(), raw)
}

/// Fails if `text` shows the token or any of its three parts.
fn assert_no_secret(text: &str, raw_token: &str) {
    assert!(!text.contains(raw_token), "token leaked in: {text}");
    for part in raw_token.split('.') {
        assert!(!text.contains(part), "token part leaked in: {text}");
    }
}

fn bundle(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

fn b64(value: &Value) -> Vec<u8> {
    STANDARD.decode(value.as_str().unwrap()).unwrap()
}

/// Checks what a verifier checks of the tlog entry, independently of `cavra_sigstore`.
fn check_tlog_entry(services: &Services, bundle: &Value) {
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    let body = b64(&entry["canonicalizedBody"]);
    let log_id = b64(&entry["logId"]["keyId"]);
    assert_eq!(log_id, services.rekor.log_id);
    let index: i64 = entry["logIndex"].as_str().unwrap().parse().unwrap();
    let time: i64 = entry["integratedTime"].as_str().unwrap().parse().unwrap();
    assert!((time - jwt::now()).abs() < 60, "integrated time {time}");
    let key = services.rekor.verifying_key();

    // The SET: the log's signature over the canonical JSON of body, time, log id and index.
    let set_payload = canonical_json(&json!({
        "body": STANDARD.encode(&body),
        "integratedTime": time,
        "logID": hex::encode(&log_id),
        "logIndex": index,
    }));
    let set =
        p256::ecdsa::Signature::from_der(&b64(&entry["inclusionPromise"]["signedEntryTimestamp"]))
            .unwrap();
    key.verify(set_payload.as_bytes(), &set)
        .expect("SET verifies with the log key");

    // The inclusion proof leads from the body's leaf hash to the root.
    let proof = &entry["inclusionProof"];
    let proof_index: u64 = proof["logIndex"].as_str().unwrap().parse().unwrap();
    let size: u64 = proof["treeSize"].as_str().unwrap().parse().unwrap();
    let root = b64(&proof["rootHash"]);
    let hashes: Vec<Vec<u8>> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(b64)
        .collect();
    assert_eq!(proof_index, index as u64);
    assert!(
        size > proof_index && size >= 7,
        "the log held 6 entries before: size {size}"
    );
    assert!(!hashes.is_empty());
    assert!(merkle::verify_inclusion(
        proof_index,
        size,
        merkle::leaf_hash(&body),
        &hashes,
        &root
    ));
    let mut wrong = hashes.clone();
    wrong[0][0] ^= 1;
    assert!(!merkle::verify_inclusion(
        proof_index,
        size,
        merkle::leaf_hash(&body),
        &wrong,
        &root
    ));

    // The checkpoint commits to that root and size and is signed by the log key.
    let checkpoint = proof["checkpoint"]["envelope"].as_str().unwrap();
    let (text, signature_line) = checkpoint.split_once("\n\n").unwrap();
    let text = format!("{text}\n");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with(LOG_NAME));
    assert_eq!(lines[1], size.to_string());
    assert_eq!(STANDARD.decode(lines[2]).unwrap(), root);
    let signed = signature_line
        .trim_end()
        .strip_prefix(&format!("\u{2014} {LOG_NAME} "))
        .unwrap();
    let signed = STANDARD.decode(signed).unwrap();
    assert_eq!(signed[..4], log_id[..4], "key hint");
    let sig = p256::ecdsa::Signature::from_der(&signed[4..]).unwrap();
    key.verify(text.as_bytes(), &sig)
        .expect("checkpoint verifies with the log key");
}

#[test]
fn dsse_bundle_for_a_github_actions_token() {
    let services = Services::start();
    let claims = github_claims(600);
    let (signer, raw) = signer(&services, &claims);
    let signed = signer
        .sign_dsse(cavra_sigstore::dsse::IN_TOTO_PAYLOAD_TYPE, STATEMENT)
        .unwrap();

    assert_eq!(
        signed.identity,
        "https://github.com/cavra-dev/cavra/.github/workflows/gate.yml@refs/heads/main"
    );
    assert_eq!(signed.issuer, jwt::GITHUB_ISSUER);
    let bundle = bundle(&signed.bundle_json);
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_no_secret(&signed.bundle_json, &raw);

    // v0.3: the leaf certificate alone, the one Fulcio issued.
    let material = &bundle["verificationMaterial"];
    assert!(material.get("x509CertificateChain").is_none());
    let leaf = b64(&material["certificate"]["rawBytes"]);
    assert_eq!(
        services.fulcio.state.lock().unwrap().issued,
        vec![leaf.clone()]
    );

    // The envelope's signature verifies over PAE with the certified key.
    let envelope = &bundle["dsseEnvelope"];
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    assert_eq!(b64(&envelope["payload"]), STATEMENT);
    assert_eq!(envelope["signatures"].as_array().unwrap().len(), 1);
    let sig = p256::ecdsa::Signature::from_der(&b64(&envelope["signatures"][0]["sig"])).unwrap();
    let cert = <x509_cert::Certificate as der::Decode>::from_der(&leaf).unwrap();
    let spki = der::Encode::to_der(cert.tbs_certificate().subject_public_key_info()).unwrap();
    let key =
        <p256::ecdsa::VerifyingKey as spki::DecodePublicKey>::from_public_key_der(&spki).unwrap();
    let pae = cavra_sigstore::dsse::pae("application/vnd.in-toto+json", STATEMENT);
    key.verify(&pae, &sig).unwrap();

    // The tlog entry is a dsse 0.0.1 body naming the payload hash and our signature.
    let entry = &material["tlogEntries"][0];
    assert_eq!(
        entry["kindVersion"],
        json!({"kind": "dsse", "version": "0.0.1"})
    );
    assert_eq!(entry["logIndex"], json!("6"));
    assert_eq!(signed.log_index, 6);
    let body: Value = serde_json::from_slice(&b64(&entry["canonicalizedBody"])).unwrap();
    assert_eq!(
        body["spec"]["payloadHash"]["value"],
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(STATEMENT))
    );
    assert_eq!(
        body["spec"]["signatures"][0]["signature"],
        envelope["signatures"][0]["sig"]
    );
    check_tlog_entry(&services, &bundle);
    assert_eq!(services.fulcio.request_count(), 1);
    assert_eq!(services.rekor.post_count(), 1);
}

#[test]
fn blob_bundle_for_an_email_token() {
    let services = Services::start();
    let (signer, _) = signer(&services, &email_claims(600));
    let blob = b"cavra gate verdict\n";
    let signed = signer.sign_blob(blob).unwrap();
    assert_eq!(signed.identity, "dev@cavra.example");
    assert_eq!(signed.issuer, jwt::EMAIL_ISSUER);

    let bundle = bundle(&signed.bundle_json);
    let message = &bundle["messageSignature"];
    let digest = <sha2::Sha256 as sha2::Digest>::digest(blob);
    assert_eq!(message["messageDigest"]["algorithm"], "SHA2_256");
    assert_eq!(b64(&message["messageDigest"]["digest"]), digest.as_slice());
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(
        entry["kindVersion"],
        json!({"kind": "hashedrekord", "version": "0.0.1"})
    );
    let body: Value = serde_json::from_slice(&b64(&entry["canonicalizedBody"])).unwrap();
    assert_eq!(body["spec"]["data"]["hash"]["value"], hex::encode(digest));
    assert_eq!(body["spec"]["signature"]["content"], message["signature"]);
    check_tlog_entry(&services, &bundle);
}

#[test]
fn two_signatures_use_two_keys_and_two_log_entries() {
    let services = Services::start();
    let (signer, _) = signer(&services, &gitlab_claims(600));
    let first = signer.sign_blob(b"one").unwrap();
    let second = signer.sign_blob(b"two").unwrap();
    assert_eq!(
        first.identity,
        "https://gitlab.com/cavra-dev/cavra//.gitlab-ci.yml@refs/heads/main"
    );
    assert_eq!(second.log_index, first.log_index + 1);
    let issued = services.fulcio.state.lock().unwrap().issued.clone();
    assert_eq!(issued.len(), 2);
    assert_ne!(issued[0], issued[1]);
    check_tlog_entry(&services, &bundle(&second.bundle_json));
}

#[test]
fn detached_sct_answers_are_accepted() {
    let services = Services::start();
    services.fulcio.state.lock().unwrap().detached_sct = true;
    let (signer, _) = signer(&services, &github_claims(600));
    let signed = signer.sign_blob(b"x").unwrap();
    assert!(signed.identity.starts_with("https://github.com/"));
}

#[test]
fn fulcio_5xx_and_429_are_retried() {
    let services = Services::start();
    services
        .fulcio
        .fault(Response::error(500, "internal error"));
    services
        .fulcio
        .fault(Response::error(429, "slow down").with_header("Retry-After", "0"));
    let (signer, _) = signer(&services, &github_claims(600));
    signer.sign_blob(b"x").unwrap();
    assert_eq!(services.fulcio.request_count(), 3);
}

#[test]
fn fulcio_keeps_failing_after_the_retries() {
    let services = Services::start();
    for _ in 0..3 {
        services.fulcio.fault(Response::error(503, "maintenance"));
    }
    let (signer, raw) = signer(&services, &github_claims(600));
    let err = signer.sign_blob(b"x").unwrap_err();
    assert_eq!(
        err,
        Error::Status {
            service: "Fulcio",
            status: 503,
            message: "maintenance".into()
        }
    );
    assert_eq!(services.fulcio.request_count(), 3);
    assert_eq!(services.rekor.post_count(), 0);
    assert_no_secret(&err.to_string(), &raw);
}

#[test]
fn fulcio_401_is_not_retried_and_its_message_is_redacted() {
    let services = Services::start();
    let claims = github_claims(600);
    let raw = jwt::jwt(&claims);
    // A server that echoes the token back must not get it into our error.
    services.fulcio.fault(Response::error(
        401,
        &format!("There was an error processing the identity token {raw}"),
    ));
    let (signer, raw) = signer(&services, &claims);
    let err = signer
        .sign_dsse("application/vnd.in-toto+json", STATEMENT)
        .unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("HTTP 401"), "{shown}");
    assert!(
        shown.contains("There was an error processing the identity token"),
        "{shown}"
    );
    assert!(shown.contains("[redacted]"), "{shown}");
    assert_no_secret(&shown, &raw);
    assert_no_secret(&format!("{err:?}"), &raw);
    assert_no_secret(&format!("{signer:?}"), &raw);
    assert_eq!(services.fulcio.request_count(), 1);
}

#[test]
fn fulcio_rejects_a_token_without_our_audience_before_any_signature() {
    let services = Services::start();
    let mut claims = github_claims(600);
    claims["aud"] = json!("not-sigstore");
    let token = IdentityToken::new(jwt::jwt(&claims)).unwrap();
    let err = KeylessSigner::new(services.config(), token).unwrap_err();
    assert!(
        matches!(&err, Error::Token(m) if m.contains("not-sigstore")),
        "{err}"
    );
    assert_eq!(services.fulcio.request_count(), 0);
}

#[test]
fn rekor_5xx_is_retried() {
    let services = Services::start();
    services
        .rekor
        .fault(Fault::Respond(Response::error(502, "bad gateway")));
    let (signer, _) = signer(&services, &github_claims(600));
    let signed = signer
        .sign_dsse("application/vnd.in-toto+json", STATEMENT)
        .unwrap();
    assert_eq!(services.rekor.post_count(), 2);
    check_tlog_entry(&services, &bundle(&signed.bundle_json));
}

#[test]
fn rekor_lost_answer_then_409_fetches_the_existing_entry() {
    let services = Services::start();
    // The first POST is logged but its answer is lost; the retry meets "already exists".
    services
        .rekor
        .fault(Fault::CommitThen(Response::error(500, "lost")));
    let (signer, _) = signer(&services, &github_claims(600));
    let signed = signer
        .sign_dsse("application/vnd.in-toto+json", STATEMENT)
        .unwrap();
    assert_eq!(services.rekor.post_count(), 2);
    assert_eq!(services.rekor.state.lock().unwrap().entries.len(), 1);
    assert_eq!(signed.log_index, 6);
    check_tlog_entry(&services, &bundle(&signed.bundle_json));
}

#[test]
fn rekor_409_without_location_is_an_error() {
    let services = Services::start();
    services.rekor.fault(Fault::ConflictWithoutLocation);
    let (signer, _) = signer(&services, &github_claims(600));
    let err = signer.sign_blob(b"x").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Status {
                service: "Rekor",
                status: 409,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[test]
fn rekor_400_carries_the_server_message() {
    let services = Services::start();
    services.rekor.fault(Fault::Respond(Response::error(
        400,
        "entry kind not supported",
    )));
    let (signer, _) = signer(&services, &github_claims(600));
    let err = signer.sign_blob(b"x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Rekor answered HTTP 400: entry kind not supported"
    );
    assert_eq!(services.rekor.post_count(), 1);
}

#[test]
fn oversized_answers_are_rejected() {
    let services = Services::start();
    let config = KeylessConfig {
        max_response_bytes: 64 << 10,
        ..services.config()
    };
    let make = |claims: &Value| {
        let token = IdentityToken::new(jwt::jwt(claims)).unwrap();
        KeylessSigner::new(config.clone(), token).unwrap()
    };
    // With Content-Length ...
    services.fulcio.state.lock().unwrap().padding = 100 << 10;
    let err = make(&github_claims(600)).sign_blob(b"x").unwrap_err();
    assert!(
        err.to_string().contains("larger than the 65536 byte limit"),
        "{err}"
    );
    // ... and without, read up to the limit only.
    services.fulcio.state.lock().unwrap().close_delimited = true;
    let err = make(&github_claims(600)).sign_blob(b"x").unwrap_err();
    assert!(
        err.to_string().contains("larger than the 65536 byte limit"),
        "{err}"
    );
    // Rekor too.
    {
        let mut fulcio = services.fulcio.state.lock().unwrap();
        fulcio.padding = 0;
        fulcio.close_delimited = false;
    }
    services.rekor.state.lock().unwrap().padding = 100 << 10;
    let err = make(&github_claims(600)).sign_blob(b"x").unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Http {
                service: "Rekor",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn garbage_answers_are_errors_not_panics() {
    let services = Services::start();
    let (signer, _) = signer(&services, &github_claims(600));
    let junk = |body: &str| Response {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
        close_delimited: false,
    };
    for body in [
        "",
        "null",
        "{\"signedCertificateEmbeddedSct\":{\"chain\":{\"certificates\":[\"x\"]}}}",
    ] {
        services.fulcio.fault(junk(body));
        assert!(
            matches!(signer.sign_blob(b"x"), Err(Error::Certificate(_))),
            "{body:?}"
        );
    }
    for body in ["{}", "{\"a\":{\"body\":\"!!\"}}", "[]"] {
        services.rekor.fault(Fault::Respond(Response {
            status: 201,
            ..junk(body)
        }));
        assert!(
            matches!(signer.sign_blob(b"x"), Err(Error::LogEntry(_))),
            "{body:?}"
        );
    }
}

#[test]
fn a_certificate_for_another_key_is_refused() {
    let services = Services::start();
    let other = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
    let other_spki = spki::EncodePublicKey::to_public_key_der(other.verifying_key()).unwrap();
    let leaf = services.ca.issue_leaf(
        other_spki.as_bytes(),
        &ca::San::Email("dev@cavra.example".into()),
        jwt::EMAIL_ISSUER,
        true,
    );
    let chain = json!({"signedCertificateEmbeddedSct": {"chain": {"certificates":
        services.ca.chain_pem(&leaf)}}});
    services.fulcio.fault(Response::json(200, &chain));
    let (signer, _) = signer(&services, &email_claims(600));
    let err = signer.sign_blob(b"x").unwrap_err();
    assert!(err.to_string().contains("another key"), "{err}");
    assert_eq!(services.rekor.post_count(), 0);
}

#[test]
fn unreachable_services_fail_after_the_retries() {
    let services = Services::start();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let config = KeylessConfig {
        fulcio_url: url,
        ..services.config()
    };
    let claims = github_claims(600);
    let raw = jwt::jwt(&claims);
    let token = IdentityToken::new(raw.clone()).unwrap();
    let err = KeylessSigner::new(config, token)
        .unwrap()
        .sign_blob(b"x")
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Http {
                service: "Fulcio",
                ..
            }
        ),
        "{err}"
    );
    assert_no_secret(&err.to_string(), &raw);
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let services = Services::start();
    let config = KeylessConfig {
        rekor_url: "http://rekor.example.com".into(),
        ..services.config()
    };
    let token = IdentityToken::new(jwt::jwt(&github_claims(600))).unwrap();
    let err = KeylessSigner::new(config, token).unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("https")),
        "{err}"
    );
}

#[test]
fn mock_services_reject_what_real_ones_would() {
    // The mocks must fail the client on a bad request, or the tests above prove little.
    let services = Services::start();
    let bad = [
        json!({"credentials": {"oidcIdentityToken": "x"}}),
        json!({"credentials": {"oidcIdentityToken": "x"}, "publicKeyRequest": {"publicKey":
            {"content": "k"}}}),
        json!({"credentials": {}, "publicKeyRequest": {"publicKey": {"content": "k",
            "algorithm": "EC"}, "proofOfPossession": "c2ln"}}),
    ];
    for body in bad {
        assert!(
            support::schema::check_fulcio_request(&body).is_err(),
            "{body}"
        );
    }
    let rekor_bad = [
        json!({"kind": "dsse", "apiVersion": "0.0.1", "spec": {"proposedContent":
            {"envelope": "{}", "verifiers": []}}}),
        json!({"kind": "dsse", "apiVersion": "0.0.1", "spec": {"proposedContent":
            {"envelope": "{}", "verifiers": ["YQ=="]}}, "extra": 1}),
        json!({"kind": "hashedrekord", "apiVersion": "0.0.1", "spec": {"data": {}}}),
        json!({"kind": "hashedrekord", "apiVersion": "v1", "spec": {"data": {}, "signature": {}}}),
        json!({"kind": "intoto", "apiVersion": "0.0.2", "spec": {}}),
    ];
    for body in rekor_bad {
        assert!(
            support::schema::check_rekor_request(&body).is_err(),
            "{body}"
        );
    }
    let ok = json!({"kind": "hashedrekord", "apiVersion": "0.0.1", "spec": {"data": {"hash":
        {"algorithm": "sha256", "value": "00"}}, "signature": {"content": "YQ==",
        "publicKey": {"content": "YQ=="}}}});
    support::schema::check_rekor_request(&ok).unwrap();
    drop(services);
}

#[test]
fn slow_services_time_out() {
    let services = Services::start();
    let slow = support::server::TestServer::start(|_| {
        std::thread::sleep(std::time::Duration::from_secs(2));
        Response::error(500, "too late")
    });
    let config = KeylessConfig {
        fulcio_url: slow.url(),
        timeout: std::time::Duration::from_millis(300),
        max_attempts: 2,
        ..services.config()
    };
    let token = IdentityToken::new(jwt::jwt(&github_claims(600))).unwrap();
    let started = std::time::Instant::now();
    let err = KeylessSigner::new(config, token)
        .unwrap()
        .sign_blob(b"x")
        .unwrap_err();
    assert!(
        matches!(&err, Error::Http { service: "Fulcio", message } if message.contains("timed out")),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_token_that_expires_before_signing_is_not_sent() {
    let services = Services::start();
    let token = IdentityToken::new(jwt::jwt(&github_claims(1))).unwrap();
    let signer = KeylessSigner::new(services.config(), token).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let err = signer.sign_blob(b"x").unwrap_err();
    assert!(
        matches!(&err, Error::Token(m) if m.contains("expired")),
        "{err}"
    );
    assert_eq!(services.fulcio.request_count(), 0);
}
