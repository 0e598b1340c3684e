//! Webhook authentication and header checks: `X-Hub-Signature-256` is HMAC-SHA256 of the exact
//! body bytes with the webhook secret, compared in constant time before anything is parsed.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix GitHub puts before the hex digest.
const PREFIX: &str = "sha256=";

/// Whether `header` (`sha256=<64 hex digits>`) is the HMAC-SHA256 of `body` under `secret`.
/// A malformed header is `false`; the comparison of the digests is constant-time.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(expected) = parse_signature(header) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The digest a well-formed `X-Hub-Signature-256` carries (`sha256=` and 64 hex digits, either
/// case), or `None`.
pub fn parse_signature(header: &str) -> Option<[u8; 32]> {
    let hex_digits = header.trim().strip_prefix(PREFIX)?;
    if hex_digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_digits, &mut out).ok()?;
    Some(out)
}

/// `X-Hub-Signature-256` for `body` under `secret` (for tests and tools).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("{PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `id` is an acceptable `X-GitHub-Delivery`: 1 to 100 characters of `[A-Za-z0-9-]`
/// (GitHub sends a UUID).
pub fn valid_delivery_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 100 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whether `event` is an acceptable `X-GitHub-Event`: 1 to 100 characters of `[a-z0-9_]`.
pub fn valid_event(event: &str) -> bool {
    !event.is_empty()
        && event.len() <= 100
        && event
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn fixtures() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testkit/fixtures/github-webhooks")
    }

    #[test]
    fn githubs_documented_vector_and_the_fixture_vectors_verify() {
        let v: Value = serde_json::from_str(
            &std::fs::read_to_string(fixtures().join("hmac_vectors.json")).unwrap(),
        )
        .unwrap();
        let docs = &v["github_docs_vector"];
        let header = docs["X-Hub-Signature-256"].as_str().unwrap();
        let secret = docs["secret"].as_str().unwrap().as_bytes();
        let payload = docs["payload"].as_str().unwrap().as_bytes();
        assert!(verify(secret, payload, header));
        assert_eq!(sign(secret, payload), header);
        assert!(!verify(secret, b"Hello, World", header));
        assert!(!verify(b"It's a Secret to everybody", payload, header));

        let secret = v["secret"].as_str().unwrap().as_bytes();
        let vectors = v["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), 21);
        for vector in vectors {
            let file = vector["file"].as_str().unwrap();
            let body = std::fs::read(fixtures().join(file)).unwrap();
            let header = vector["X-Hub-Signature-256"].as_str().unwrap();
            assert!(verify(secret, &body, header), "{file}");
            assert!(
                verify(
                    secret,
                    &body,
                    &header.to_ascii_uppercase().replace("SHA256=", "sha256=")
                ),
                "{file}: upper-case hex"
            );
            let mut tampered = body.clone();
            tampered.push(b'\n');
            assert!(!verify(secret, &tampered, header), "{file}: tampered");
            assert!(!verify(b"another secret", &body, header), "{file}");
        }
    }

    #[test]
    fn malformed_headers_fail() {
        let body = b"{}";
        let good = sign(b"k", body);
        assert!(verify(b"k", body, &good));
        for bad in [
            "",
            "sha256=",
            "sha1=0123",
            &good[7..],
            &good[..good.len() - 1],
            &format!("{good}0"),
            &good.replace("sha256=", "sha512="),
            &format!("sha256={}", "zz".repeat(32)),
        ] {
            assert!(!verify(b"k", body, bad), "{bad:?}");
        }
    }

    #[test]
    fn delivery_ids_and_events() {
        assert!(valid_delivery_id("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
        assert!(!valid_delivery_id(""));
        assert!(!valid_delivery_id(&"a".repeat(101)));
        assert!(valid_delivery_id(&"a".repeat(100)));
        for bad in ["a b", "a/b", "a\nb", "é", "../x"] {
            assert!(!valid_delivery_id(bad), "{bad:?}");
        }
        assert!(valid_event("pull_request_review"));
        assert!(!valid_event("Pull Request"));
        assert!(!valid_event(""));
    }
}
