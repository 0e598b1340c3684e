//! Fulcio v2 `CreateSigningCertificate`: a short-lived certificate for an ephemeral key, bound to
//! the identity token.

use crate::certificate::chain_from_pem;
use crate::config::join;
use crate::error::{Error, Result};
use crate::http::{self, Http, Request};
use crate::token::IdentityToken;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer;
use serde_json::{Value, json};
use spki::EncodePublicKey;

const SERVICE: &str = "Fulcio";

/// The certificate chain Fulcio issued, leaf first, as DER.
#[derive(Debug, Clone)]
pub(crate) struct IssuedCertificate {
    /// Leaf, intermediates, root.
    pub chain: Vec<Vec<u8>>,
}

/// The JSON body of `POST /api/v2/signingCert` for `key`, proving possession by signing the
/// token's subject.
pub(crate) fn request_body(token: &IdentityToken, key: &SigningKey) -> Result<Vec<u8>> {
    let pem = key
        .verifying_key()
        .to_public_key_pem(spki::der::pem::LineEnding::LF)
        .map_err(|e| Error::Signing(format!("cannot encode the public key: {e}")))?;
    let proof: p256::ecdsa::DerSignature = key
        .try_sign(token.subject().as_bytes())
        .map_err(|e| Error::Signing(format!("cannot sign the proof of possession: {e}")))?;
    let body = json!({
        "credentials": { "oidcIdentityToken": token.jwt() },
        "publicKeyRequest": {
            "publicKey": { "algorithm": "ECDSA", "content": pem },
            "proofOfPossession": STANDARD.encode(proof.as_bytes()),
        },
    });
    serde_json::to_vec(&body).map_err(|e| Error::Signing(format!("cannot encode the request: {e}")))
}

/// Asks Fulcio for a certificate for `key`.
pub(crate) fn request_certificate(
    http: &Http,
    fulcio_url: &str,
    token: &IdentityToken,
    key: &SigningKey,
) -> Result<IssuedCertificate> {
    let url = join(fulcio_url, "/api/v2/signingCert");
    let request = Request {
        method: reqwest::Method::POST,
        url: &url,
        headers: vec![("Accept", "application/json".into())],
        json_body: Some(request_body(token, key)?),
    };
    let secrets = token.secrets();
    let response =
        http::expect_success(SERVICE, http.send(SERVICE, &request, &secrets)?, &secrets)?;
    parse_response(&response.body)
}

/// Reads a `SigningCertificate` answer: `signedCertificateEmbeddedSct` or
/// `signedCertificateDetachedSct`, each with `chain.certificates` (PEM, leaf first). A detached
/// SCT has no place in a v0.3 bundle and is dropped: verifiers that require SCTs (trusted roots
/// with CT logs) need a Fulcio that embeds them, as the public-good instance does.
pub(crate) fn parse_response(body: &[u8]) -> Result<IssuedCertificate> {
    let bad = |why: &str| Error::Certificate(why.to_owned());
    let value: Value = serde_json::from_slice(body).map_err(|_| bad("the answer is not JSON"))?;
    let inner = if let Some(v) = value.get("signedCertificateEmbeddedSct") {
        v
    } else if let Some(v) = value.get("signedCertificateDetachedSct") {
        v
    } else {
        return Err(bad(
            "the answer has neither signedCertificateEmbeddedSct nor signedCertificateDetachedSct",
        ));
    };
    let pems = inner
        .get("chain")
        .and_then(|c| c.get("certificates"))
        .and_then(Value::as_array)
        .ok_or_else(|| bad("the answer has no chain.certificates list"))?
        .iter()
        .map(|c| c.as_str().map(str::to_owned))
        .collect::<Option<Vec<String>>>()
        .ok_or_else(|| bad("chain.certificates holds a non-string"))?;
    Ok(IssuedCertificate {
        chain: chain_from_pem(&pems)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_without_a_chain_are_errors() {
        for body in [
            "[]",
            "{}",
            r#"{"signedCertificateEmbeddedSct":{}}"#,
            r#"{"signedCertificateEmbeddedSct":{"chain":{"certificates":[1]}}}"#,
            r#"{"signedCertificateDetachedSct":{"chain":{"certificates":[]}}}"#,
        ] {
            assert!(parse_response(body.as_bytes()).is_err(), "{body}");
        }
    }
}
