//! The keyless flow: an ephemeral P-256 key, a Fulcio certificate for it, the signature, a Rekor
//! entry, and the bundle.

use crate::bundle::assemble;
use crate::certificate::{CertIdentity, leaf_identity, to_pem};
use crate::config::KeylessConfig;
use crate::error::{Error, Result};
use crate::fulcio::request_certificate;
use crate::http::Http;
use crate::rekor::{Proposed, create_entry};
use crate::token::{IdentityToken, now};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cavra_sigstore::write::{dsse_content, message_content};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::elliptic_curve::Generate;
use sha2::{Digest, Sha256};
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::bundle::Content;
use spki::EncodePublicKey;
use std::fmt;

/// Signs with a fresh key and a Fulcio certificate for each signature, logging it in Rekor.
pub struct KeylessSigner {
    config: KeylessConfig,
    token: IdentityToken,
    http: Http,
}

/// A signed, logged bundle and who it names as the signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBundle {
    /// The Sigstore bundle v0.3, as JSON.
    pub bundle_json: String,
    /// The signer identity from the certificate's SAN (email or URI).
    pub identity: String,
    /// The OIDC issuer from the certificate.
    pub issuer: String,
    /// The entry's index in the Rekor log.
    pub log_index: i64,
    /// When Rekor logged the entry (seconds since the Unix epoch).
    pub integrated_time: i64,
}

impl KeylessSigner {
    /// A signer for `token` against the services of `config`. Fails on a bad configuration, an
    /// expired token, or one without the configured audience.
    pub fn new(config: KeylessConfig, token: IdentityToken) -> Result<KeylessSigner> {
        config.validate()?;
        token.check_audience(&config.audience)?;
        token.check_expiry(now())?;
        let http = Http::new(&config)?;
        Ok(KeylessSigner {
            config,
            token,
            http,
        })
    }

    /// Signs `payload` as a DSSE envelope of `payload_type` (e.g.
    /// [`cavra_sigstore::dsse::IN_TOTO_PAYLOAD_TYPE`]) and logs it as a `dsse` 0.0.1 entry.
    pub fn sign_dsse(&self, payload_type: &str, payload: &[u8]) -> Result<SignedBundle> {
        let session = self.certify()?;
        let signature = session.sign(&cavra_sigstore::dsse::pae(payload_type, payload))?;
        let envelope = serde_json::json!({
            "payloadType": payload_type,
            "payload": STANDARD.encode(payload),
            "signatures": [{ "keyid": "", "sig": STANDARD.encode(&signature) }],
        });
        let proposed = Proposed::dsse(&envelope.to_string(), &signature, &session.leaf_pem);
        let content = dsse_content(payload_type, payload, signature, String::new());
        self.log(&session, &proposed, content)
    }

    /// Signs `blob` (ECDSA P-256 over its SHA-256) and logs it as a `hashedrekord` 0.0.1 entry.
    pub fn sign_blob(&self, blob: &[u8]) -> Result<SignedBundle> {
        let sha256: [u8; 32] = Sha256::digest(blob).into();
        let session = self.certify()?;
        let signature = session.sign(blob)?;
        let proposed = Proposed::hashedrekord(&sha256, &signature, &session.leaf_pem);
        self.log(&session, &proposed, message_content(sha256, signature))
    }

    /// A fresh key and its Fulcio certificate.
    fn certify(&self) -> Result<Session> {
        self.token.check_expiry(now())?;
        let key = SigningKey::try_generate()
            .map_err(|e| Error::Signing(format!("no randomness for a key: {e}")))?;
        let spki = key
            .verifying_key()
            .to_public_key_der()
            .map_err(|e| Error::Signing(format!("cannot encode the public key: {e}")))?;
        let issued = request_certificate(&self.http, &self.config.fulcio_url, &self.token, &key)?;
        let leaf = issued.chain[0].clone();
        let who = leaf_identity(&leaf, spki.as_bytes())?;
        let leaf_pem = to_pem(&leaf)?;
        Ok(Session {
            key,
            leaf,
            leaf_pem,
            who,
        })
    }

    /// Logs `proposed` in Rekor and assembles the bundle.
    fn log(
        &self,
        session: &Session,
        proposed: &Proposed,
        content: Content,
    ) -> Result<SignedBundle> {
        let entry = create_entry(&self.http, &self.config.rekor_url, proposed)?;
        let bundle_json = assemble(
            content,
            &session.leaf,
            proposed.kind,
            proposed.api_version,
            &entry,
        )?;
        Ok(SignedBundle {
            bundle_json,
            identity: session.who.identity.clone(),
            issuer: session.who.issuer.clone(),
            log_index: entry.log_index,
            integrated_time: entry.integrated_time,
        })
    }
}

/// An ephemeral key with its certificate, used for one signature.
struct Session {
    key: SigningKey,
    leaf: Vec<u8>,
    leaf_pem: String,
    who: CertIdentity,
}

impl Session {
    /// ECDSA P-256 with SHA-256 over `message`, DER encoded.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let signature: DerSignature = self
            .key
            .try_sign(message)
            .map_err(|e| Error::Signing(e.to_string()))?;
        Ok(signature.as_bytes().to_vec())
    }
}

impl fmt::Debug for KeylessSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeylessSigner")
            .field("config", &self.config)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}
