//! `verify_rfc3161` over the sigstore-conformance bundles' timestamps.

use super::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::path::PathBuf;

fn case_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance/bundle-verify")
        .join(name)
}

/// The case's trusted root (or the public-good one).
fn trust_root(name: &str) -> TrustRoot {
    match std::fs::read(case_dir(name).join("trusted_root.json")) {
        Ok(json) => TrustRoot::from_json(&json).unwrap(),
        Err(_) => TrustRoot::public_good(),
    }
}

fn b64(v: &serde_json::Value) -> Vec<u8> {
    let text: String = v.as_str().unwrap().split_whitespace().collect();
    B64.decode(text).unwrap()
}

/// The case's timestamp tokens and the signature bytes they should cover.
fn tokens(name: &str) -> (Vec<Vec<u8>>, Vec<u8>) {
    let json = std::fs::read(case_dir(name).join("bundle.sigstore.json")).unwrap();
    let bundle: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let tokens = bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .map(|list| list.iter().map(|t| b64(&t["signedTimestamp"])).collect())
        .unwrap_or_default();
    let signed = match bundle.get("messageSignature") {
        Some(m) => b64(&m["signature"]),
        None => b64(&bundle["dsseEnvelope"]["signatures"][0]["sig"]),
    };
    (tokens, signed)
}

fn check_case(name: &str) -> Result<Vec<Time>> {
    let (tokens, signed) = tokens(name);
    let root = trust_root(name);
    tokens
        .iter()
        .map(|t| verify_rfc3161(t, &signed, &root))
        .collect()
}

fn err(r: Result<Time>) -> String {
    r.expect_err("should fail").to_string()
}

/// One case's first token, its signed bytes and trusted root, to tamper with.
fn parts(name: &str) -> (Vec<u8>, Vec<u8>, TrustRoot) {
    let (tokens, signed) = tokens(name);
    (tokens[0].clone(), signed, trust_root(name))
}

#[test]
fn conformance_timestamps_that_verify() {
    for name in [
        "rekor2-happy-path",
        "rekor2-dsse-happy-path",
        "rekor2-timestamp-with-embedded-cert",
        "rekor2-timestamp-without-embedded-cert",
        "rekor2-timestamp-with-expired-cert-chain",
        "trust-root-tsa-validity-end-inclusive",
        "intoto-with-custom-trust-root",
        "managed-key-happy-path",
        "bundle-with-sct-with-extensions",
        // The timestamp is fine; the bundle fails elsewhere (signing certificate lifetime).
        "rekor2-timestamp-with-incorrect-time_fail",
        "intoto-tsa-timestamp-outside-cert-validity_fail",
    ] {
        if let Err(e) = check_case(name) {
            panic!("{name}: {e}");
        }
    }
    // genTime 2025-06-12T12:02:20Z, exactly the end of the TSA's validity in this root.
    let times = check_case("trust-root-tsa-validity-end-inclusive").unwrap();
    assert_eq!(times, vec![Time::from_secs(1_749_729_740)]);
}

#[test]
fn conformance_timestamps_that_fail() {
    for (name, why) in [
        (
            "rekor2-timestamp-payload-mismatch_fail",
            "over other data than the bundle's signature",
        ),
        (
            "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
            "not a timestamp authority in the trusted root",
        ),
        (
            "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
            "not a timestamp authority in the trusted root",
        ),
        (
            "rekor2-timestamp-outside-tsa-cert-validity_fail",
            "outside the validity of TSA certificate",
        ),
        (
            "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
            "outside the validity of timestamp authority",
        ),
    ] {
        match check_case(name) {
            Ok(t) => panic!("{name}: expected `{why}`, got {t:?}"),
            Err(e) => assert!(
                e.to_string().contains(why),
                "{name}: expected `{why}`, got `{e}`"
            ),
        }
    }
}

#[test]
fn the_authority_validity_window_is_closed() {
    let (token, signed, root) = parts("rekor2-happy-path");
    let t = verify_rfc3161(&token, &signed, &root).unwrap();
    let mut early = root.clone();
    early.timestamp_authorities[0].validity.end = Some(Time {
        secs: t.secs - 1,
        nanos: 0,
    });
    assert!(err(verify_rfc3161(&token, &signed, &early)).contains("outside the validity"));
    let mut late = root.clone();
    late.timestamp_authorities[0].validity.start = Time {
        secs: t.secs + 1,
        nanos: 0,
    };
    assert!(err(verify_rfc3161(&token, &signed, &late)).contains("outside the validity"));
    let mut exact = root;
    exact.timestamp_authorities[0].validity.start = t;
    exact.timestamp_authorities[0].validity.end = Some(t);
    assert_eq!(verify_rfc3161(&token, &signed, &exact).unwrap(), t);
}

#[test]
fn tampering_fails() {
    let (token, signed, root) = parts("rekor2-timestamp-without-embedded-cert");
    verify_rfc3161(&token, &signed, &root).unwrap();
    // The signature is the token's last field.
    let mut bad_sig = token.clone();
    *bad_sig.last_mut().unwrap() ^= 1;
    assert!(err(verify_rfc3161(&bad_sig, &signed, &root)).contains("signature"));
    let mut other = signed.clone();
    other[0] ^= 1;
    assert!(err(verify_rfc3161(&token, &other, &root)).contains("over other data"));
    let no_tsa = TrustRoot {
        timestamp_authorities: vec![],
        ..root.clone()
    };
    assert!(err(verify_rfc3161(&token, &signed, &no_tsa)).contains("no timestamp authorities"));
}

/// Where `part` lies within `whole`.
fn span(whole: &[u8], part: &[u8]) -> std::ops::Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

#[test]
fn untrusted_input_never_panics() {
    let (token, signed, root) = parts("rekor2-timestamp-with-embedded-cert");
    for len in 0..token.len() {
        assert!(
            verify_rfc3161(&token[..len], &signed, &root).is_err(),
            "prefix {len}"
        );
    }
    // Every bit flip in the TSTInfo and the signer info must fail.
    let info = content_info(&token).unwrap();
    let sd: SignedData<'_> = info.content.decode_as().unwrap();
    let tst = span(&token, sd.encap_content_info.e_content.unwrap().as_bytes());
    let signer = span(&token, sd.signer_infos.0);
    for i in 0..token.len() {
        for bit in [0x01, 0x80] {
            let mut t = token.clone();
            t[i] ^= bit;
            if verify_rfc3161(&t, &signed, &root).is_ok() {
                assert!(
                    !tst.contains(&i) && !signer.contains(&i),
                    "flip {bit:#x} at {i} verified"
                );
            }
        }
    }
    assert!(verify_rfc3161(b"", &signed, &root).is_err());
    assert!(verify_rfc3161(&[0x30, 0x80, 0, 0], &signed, &root).is_err());
}

#[test]
fn accepts_the_bare_token_and_refuses_a_rejection() {
    let (token, signed, root) = parts("rekor2-happy-path");
    let resp = TimeStampResp::from_der(&token).unwrap();
    let bare = resp.time_stamp_token.unwrap().to_der().unwrap();
    assert_eq!(
        verify_rfc3161(&bare, &signed, &root).unwrap(),
        verify_rfc3161(&token, &signed, &root).unwrap()
    );
    // TimeStampResp { status: rejection (2) }.
    let rejected = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02];
    assert!(err(verify_rfc3161(&rejected, &signed, &root)).contains("status 2"));
}

#[test]
fn the_signer_may_be_issued_by_the_trusted_certificate() {
    // The trusted root lists only the TSA's CA; the token embeds the TSA certificate.
    let (token, signed, mut root) = parts("rekor2-timestamp-with-embedded-cert");
    let tsa = &mut root.timestamp_authorities[0];
    assert_eq!(tsa.chain.len(), 2);
    tsa.chain.remove(0);
    verify_rfc3161(&token, &signed, &root).unwrap();
    // Without the embedded certificate there is nothing to check the CA's signature on.
    let (token, signed, _) = parts("rekor2-timestamp-without-embedded-cert");
    assert!(err(verify_rfc3161(&token, &signed, &root)).contains("not a timestamp authority"));
}
