//! Offline bundle verification, following the Sigstore client spec ("Verification using a
//! Bundle"): parse, check the signer against what the caller expects, the signature over the
//! content, the log entries and timestamps, then (for certificates) the chain, the times, the
//! embedded SCTs and the identity.

use crate::bundle;
use crate::cert::{self, Cert, FulcioIdentity};
use crate::content;
use crate::error::{Error, Result};
use crate::key::PublicKey;
use crate::time::Time;
use crate::trust::TrustRoot;
use crate::{sct, timestamp, tlog};
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::verification_material::Content as Material;

/// What the artifact is: its bytes, or only its SHA-256 digest.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    /// The artifact's bytes.
    Bytes(&'a [u8]),
    /// The artifact's SHA-256 digest.
    Sha256([u8; 32]),
}

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum Expect {
    /// A bundle signed with this public key (`verificationMaterial.publicKey`).
    Key(PublicKey),
    /// A certificate from a trusted CA for this identity (exact SAN) and OIDC issuer.
    Identity {
        /// The expected subject alternative name (URI or email), compared exactly.
        identity: String,
        /// The expected OIDC issuer, compared exactly.
        issuer: String,
    },
}

/// What was signed, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifiedContent {
    /// A signature over the artifact's digest.
    MessageSignature,
    /// A DSSE envelope; the payload is returned for the caller to read.
    Dsse {
        /// The envelope's payload type.
        payload_type: String,
        /// The payload bytes, exactly as signed.
        payload: Vec<u8>,
    },
}

/// Who signed, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifiedSigner {
    /// A public key, by key id (lowercase hex SHA-256 of its SPKI).
    Key {
        /// The key id.
        key_id: String,
    },
    /// A signing certificate.
    Certificate {
        /// The SAN identity.
        identity: String,
        /// The OIDC issuer.
        issuer: String,
    },
}

impl std::fmt::Display for VerifiedSigner {
    /// Who signed, for people: `key <id>` or `<identity> (issuer <url>)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifiedSigner::Key { key_id } => write!(f, "key {key_id}"),
            VerifiedSigner::Certificate { identity, issuer } => {
                write!(f, "{identity} (issuer {issuer})")
            }
        }
    }
}

/// A bundle that passed every check.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The bundle's media type.
    pub media_type: String,
    /// What was signed.
    pub content: VerifiedContent,
    /// Who signed.
    pub signer: VerifiedSigner,
    /// Verified times: (source, time), e.g. ("rekor integrated time", t) or ("rfc3161", t).
    pub timestamps: Vec<(String, Time)>,
}

/// Verifies `bundle_json` offline against `root`. With `artifact` = `None`, a DSSE bundle's
/// subjects are not checked (message signatures always need the artifact).
///
/// A certificate-signed bundle needs at least one transparency-log entry and at least one
/// verified time (a signed entry timestamp's integrated time or an RFC 3161 timestamp); every
/// verified time must fall within the certificate's validity and that of a trusted CA. A
/// key-signed bundle's log entries and timestamps are checked when present, none is required.
pub fn verify(
    bundle_json: &[u8],
    artifact: Option<Artifact<'_>>,
    expect: &Expect,
    root: &TrustRoot,
) -> Result<Verified> {
    let parsed = bundle::parse(bundle_json)?;
    let b = &parsed.bundle;
    let (vm, content) = match (b.verification_material.as_ref(), b.content.as_ref()) {
        (Some(vm), Some(content)) => (vm, content),
        _ => {
            return Err(Error::Bundle(
                "missing verificationMaterial or content".into(),
            ));
        }
    };
    let material = vm
        .content
        .as_ref()
        .ok_or_else(|| Error::Bundle("missing verificationMaterial content".into()))?;
    let signer = Signer::new(material, expect)?;

    let verified_content = content::verify(content, signer.key(), artifact)?;

    let entry_signer = match &signer {
        Signer::Key(key) => tlog::EntrySigner::Key(key),
        Signer::Certificate { leaf, .. } => tlog::EntrySigner::Certificate(&leaf.der),
    };
    let expected = tlog::Expected {
        content,
        signer: entry_signer,
    };
    let mut timestamps = Vec::new();
    for (i, entry) in vm.tlog_entries.iter().enumerate() {
        let time = tlog::verify_entry(entry, &expected, root).map_err(|e| match e {
            Error::Tlog(why) => {
                Error::Tlog(format!("entry {i} (log index {}): {why}", entry.log_index))
            }
            other => other,
        })?;
        if let Some(t) = time {
            timestamps.push(("rekor integrated time".to_string(), t));
        }
    }
    let signed = content::signature_bytes(content);
    let tokens = vm
        .timestamp_verification_data
        .iter()
        .flat_map(|t| &t.rfc3161_timestamps);
    for (i, token) in tokens.enumerate() {
        let t =
            timestamp::verify_rfc3161(&token.signed_timestamp, signed, root).map_err(
                |e| match e {
                    Error::Timestamp(why) => {
                        Error::Timestamp(format!("rfc3161Timestamps[{i}]: {why}"))
                    }
                    other => other,
                },
            )?;
        timestamps.push(("rfc3161 timestamp".to_string(), t));
    }

    let signer = match signer {
        Signer::Key(key) => VerifiedSigner::Key {
            key_id: key.key_id(),
        },
        Signer::Certificate {
            leaf,
            identity,
            issuer,
            ..
        } => {
            check_certificate_times(&leaf, &timestamps, root)?;
            if vm.tlog_entries.is_empty() {
                return Err(Error::Tlog(
                    "a certificate-signed bundle needs a transparency log entry, it has none"
                        .into(),
                ));
            }
            VerifiedSigner::Certificate { identity, issuer }
        }
    };
    Ok(Verified {
        media_type: b.media_type.clone(),
        content: verified_content,
        signer,
        timestamps,
    })
}

/// Who signed, as the bundle says and the caller accepted (before the times are checked).
enum Signer {
    Key(PublicKey),
    Certificate {
        leaf: Box<Cert>,
        key: PublicKey,
        identity: String,
        issuer: String,
    },
}

impl Signer {
    /// Matches the bundle's verification material with what the caller expects: the same kind
    /// (key or certificate), a well-formed code-signing leaf, and the expected identity.
    fn new(material: &Material, expect: &Expect) -> Result<Signer> {
        let leaf_der = match material {
            Material::PublicKey(hint) => {
                return match expect {
                    Expect::Key(key) => Ok(Signer::Key(key.clone())),
                    Expect::Identity { .. } => Err(Error::Policy(format!(
                        "the bundle is signed with a public key (hint `{}`), but a certificate \
                         identity was expected; verify it with the key",
                        hint.hint
                    ))),
                };
            }
            Material::Certificate(cert) => cert.raw_bytes.as_slice(),
            Material::X509CertificateChain(chain) => {
                let (leaf, rest) = chain.certificates.split_first().ok_or_else(|| {
                    Error::Bundle("verificationMaterial.x509CertificateChain is empty".into())
                })?;
                for (i, c) in rest.iter().enumerate() {
                    let what = format!("x509CertificateChain[{}]", i + 1);
                    if Cert::parse(&c.raw_bytes, &what)?.is_self_issued() {
                        return Err(Error::Certificate(format!(
                            "{what} is a root (self-issued) certificate; roots must come only \
                             from the trusted root"
                        )));
                    }
                }
                leaf.raw_bytes.as_slice()
            }
        };
        let (want_identity, want_issuer) = match expect {
            Expect::Identity { identity, issuer } => (identity, issuer),
            Expect::Key(key) => {
                return Err(Error::Policy(format!(
                    "the bundle is signed with a certificate, but the public key {} ({}) was \
                     expected",
                    key.key_id(),
                    key.kind()
                )));
            }
        };
        let leaf = Cert::parse(leaf_der, "the signing certificate")?;
        leaf.check_code_signing_leaf()?;
        let id = FulcioIdentity::of(&leaf)?;
        let issuer = id.issuer.clone().ok_or_else(|| {
            Error::Certificate("the signing certificate has no OIDC issuer extension".into())
        })?;
        if !id.sans.iter().any(|s| s == want_identity) {
            return Err(Error::Policy(format!(
                "certificate identity mismatch: expected `{want_identity}`, the certificate is \
                 for {}",
                if id.sans.is_empty() {
                    "no URI, email or username SAN".to_string()
                } else {
                    id.sans
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )));
        }
        if &issuer != want_issuer {
            return Err(Error::Policy(format!(
                "certificate issuer mismatch: expected `{want_issuer}`, the certificate names \
                 `{issuer}`"
            )));
        }
        let key = leaf.public_key()?;
        Ok(Signer::Certificate {
            leaf: Box::new(leaf),
            key,
            identity: want_identity.clone(),
            issuer,
        })
    }

    fn key(&self) -> &PublicKey {
        match self {
            Signer::Key(key) | Signer::Certificate { key, .. } => key,
        }
    }
}

/// Every verified time must fall within the leaf's validity, with the chain to a trusted CA
/// valid then; the embedded SCTs must verify against the issuing CA.
fn check_certificate_times(leaf: &Cert, times: &[(String, Time)], root: &TrustRoot) -> Result<()> {
    if times.is_empty() {
        let v = leaf.validity();
        return Err(Error::Certificate(format!(
            "no verified time: the signing certificate (valid {} to {}) needs a signed entry \
             timestamp or an RFC 3161 timestamp showing it was used while valid",
            v.start,
            v.end.map(|t| t.to_string()).unwrap_or_default()
        )));
    }
    let validity = leaf.validity();
    let mut issuer = None;
    for (source, t) in times {
        if !validity.contains(*t) {
            return Err(Error::Certificate(format!(
                "the {source} {t} is outside the signing certificate's validity ({} to {})",
                validity.start,
                validity.end.map(|t| t.to_string()).unwrap_or_default()
            )));
        }
        let chain = cert::verify_chain(leaf, root, *t)?;
        issuer.get_or_insert(chain.issuer);
    }
    match issuer {
        // A trusted root without CT logs (a private Fulcio without a CT log) opts out of
        // certificate transparency; any CT log listed makes an embedded SCT mandatory.
        Some(_) if root.ctlogs.is_empty() => Ok(()),
        Some(issuer) => sct::verify_embedded(leaf, &issuer, root).map(|_| ()),
        None => Err(Error::Certificate("no chain to a trusted CA".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HAPPY_V03: &str = include_str!(
        "../tests/fixtures/conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json"
    );
    const MANAGED_KEY: &str = include_str!(
        "../tests/fixtures/conformance/bundle-verify/managed-key-happy-path/bundle.sigstore.json"
    );
    const MANAGED_KEY_PUB: &str =
        include_str!("../tests/fixtures/conformance/bundle-verify/managed-key-happy-path/key.pub");
    const ARTIFACT: &[u8] = include_bytes!("../tests/fixtures/conformance/bundle-verify/a.txt");
    const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    const ISSUER: &str = "https://token.actions.githubusercontent.com";

    fn identity() -> Expect {
        Expect::Identity {
            identity: IDENTITY.into(),
            issuer: ISSUER.into(),
        }
    }

    fn run(json: &[u8], expect: &Expect) -> Result<Verified> {
        verify(
            json,
            Some(Artifact::Bytes(ARTIFACT)),
            expect,
            &TrustRoot::public_good(),
        )
    }

    #[test]
    fn a_key_bundle_needs_a_key_and_a_certificate_bundle_an_identity() {
        let err = run(MANAGED_KEY.as_bytes(), &identity()).unwrap_err();
        assert!(
            matches!(&err, Error::Policy(m) if m.contains("signed with a public key")),
            "{err}"
        );
        let key = Expect::Key(PublicKey::from_pem(MANAGED_KEY_PUB).unwrap());
        let err = run(HAPPY_V03.as_bytes(), &key).unwrap_err();
        assert!(
            matches!(&err, Error::Policy(m) if m.contains("signed with a certificate")),
            "{err}"
        );
    }

    #[test]
    fn another_identity_or_issuer_is_rejected() {
        let other = Expect::Identity {
            identity: "https://example.com/x".into(),
            issuer: ISSUER.into(),
        };
        let err = run(HAPPY_V03.as_bytes(), &other).unwrap_err().to_string();
        assert!(
            err.contains("identity mismatch") && err.contains("https://example.com/x"),
            "{err}"
        );
        assert!(err.contains(IDENTITY), "{err}");
        let other = Expect::Identity {
            identity: IDENTITY.into(),
            issuer: "https://accounts.google.com".into(),
        };
        let err = run(HAPPY_V03.as_bytes(), &other).unwrap_err().to_string();
        assert!(
            err.contains("issuer mismatch") && err.contains(ISSUER),
            "{err}"
        );
    }

    #[test]
    fn a_certificate_without_a_verified_time_is_rejected() {
        let mut v: serde_json::Value = serde_json::from_str(HAPPY_V03).unwrap();
        v["verificationMaterial"]["tlogEntries"] = serde_json::json!([]);
        let err = run(v.to_string().as_bytes(), &identity())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no verified time"), "{err}");
    }

    #[test]
    fn a_message_signature_needs_the_artifact() {
        let err = verify(
            HAPPY_V03.as_bytes(),
            None,
            &identity(),
            &TrustRoot::public_good(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Artifact(_)), "{err}");
    }

    #[test]
    fn a_bad_signature_is_rejected_before_anything_is_trusted() {
        let mut v: serde_json::Value = serde_json::from_str(HAPPY_V03).unwrap();
        let sig = v["messageSignature"]["signature"]
            .as_str()
            .unwrap()
            .to_string();
        // Swap two base64 characters inside the DER signature body.
        let mut chars: Vec<char> = sig.chars().collect();
        chars.swap(20, 21);
        assert_ne!(chars[20], chars[21]);
        v["messageSignature"]["signature"] = chars.into_iter().collect::<String>().into();
        let err = run(v.to_string().as_bytes(), &identity()).unwrap_err();
        assert!(matches!(err, Error::Signature(_)), "{err}");
    }

    #[test]
    fn tampered_bundles_never_verify_and_never_panic() {
        let original = HAPPY_V03.as_bytes();
        // The media type is unsigned: flipping `0.3` to `0.2` leaves a readable bundle.
        let media_type = HAPPY_V03.find("version=0.3").unwrap() + "version=0.".len();
        // Neither is the name on a checkpoint signature line (the key hint picks the key): the
        // tlog module decides about the checkpoint's text, skip it here.
        let note_start = HAPPY_V03.find("\"envelope\"").unwrap();
        let note = note_start..note_start + HAPPY_V03[note_start..].find("\"}").unwrap();
        let positions = (0..original.len()).step_by(11);
        for i in positions.filter(|i| *i != media_type && !note.contains(i)) {
            let mut tampered = original.to_vec();
            tampered[i] ^= 0x01;
            if let Ok(v) = run(&tampered, &identity()) {
                panic!("byte {i} flipped, still verified: {v:?}");
            }
        }
    }
}
