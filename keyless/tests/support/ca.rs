//! A test certificate authority shaped like Fulcio's: a P-384 root and intermediate, and
//! short-lived P-256 code-signing leaves with Fulcio's OIDC-issuer extensions.

use der::asn1::{Ia5String, OctetString, Utf8StringRef};
use der::{Encode, EncodePem};
use p384::elliptic_curve::Generate;
use sha2::{Digest, Sha256};
use spki::{SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// Fulcio's OIDC issuer extension (v1, raw bytes).
pub const OIDC_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
/// Fulcio's OIDC issuer extension (v2, DER UTF8String).
pub const OIDC_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// The embedded SCT list extension (RFC 6962).
const SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
/// The code-signing extended key usage.
const CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";

static SERIAL: AtomicU32 = AtomicU32::new(1);

/// Who a leaf certificate is for.
#[derive(Debug, Clone)]
pub enum San {
    /// An `rfc822Name` (email tokens).
    Email(String),
    /// A URI (workload identities such as a GitHub workflow).
    Uri(String),
}

impl San {
    /// The SAN as a verifier compares it.
    pub fn value(&self) -> &str {
        match self {
            San::Email(s) | San::Uri(s) => s,
        }
    }
}

/// The root and intermediate, with the intermediate's key for issuing leaves, and a CT log that
/// timestamps them.
pub struct TestCa {
    pub root_der: Vec<u8>,
    pub intermediate_der: Vec<u8>,
    intermediate_key: p384::ecdsa::SigningKey,
    intermediate_name: Name,
    /// The CT log's key (P-256) as SPKI DER; its log id is the SHA-256 of that.
    pub ct_log_spki: Vec<u8>,
    ct_log_key: p256::ecdsa::SigningKey,
    /// When the CA chain starts and stops being valid (seconds since the Unix epoch).
    pub valid_from: u64,
    pub valid_until: u64,
}

impl TestCa {
    /// A fresh root and intermediate, valid from an hour ago for a day.
    pub fn new() -> TestCa {
        let now = unix_now();
        let (from, until) = (now - 3600, now + 86_400);
        let root_key = p384::ecdsa::SigningKey::generate();
        let root_name = Name::from_str("CN=cavra-test-root,O=cavra-test").unwrap();
        let root = issue(
            Profile {
                subject: root_name.clone(),
                issuer: root_name.clone(),
                kind: Kind::Ca {
                    path_len: Some(1),
                    code_signing: false,
                },
            },
            spki(root_key.verifying_key()),
            from,
            until,
            &root_key,
        );
        let intermediate_key = p384::ecdsa::SigningKey::generate();
        let intermediate_name = Name::from_str("CN=cavra-test-intermediate,O=cavra-test").unwrap();
        let intermediate = issue(
            Profile {
                subject: intermediate_name.clone(),
                issuer: root_name,
                kind: Kind::Ca {
                    path_len: Some(0),
                    code_signing: true,
                },
            },
            spki(intermediate_key.verifying_key()),
            from,
            until,
            &root_key,
        );
        let ct_log_key = p256::ecdsa::SigningKey::generate();
        let ct_log_spki = spki::EncodePublicKey::to_public_key_der(ct_log_key.verifying_key())
            .unwrap()
            .as_bytes()
            .to_vec();
        TestCa {
            root_der: root.to_der().unwrap(),
            intermediate_der: intermediate.to_der().unwrap(),
            intermediate_key,
            intermediate_name,
            ct_log_spki,
            ct_log_key,
            valid_from: from,
            valid_until: until,
        }
    }

    /// A leaf for `key_spki_der`, valid for ten minutes from now, naming `san` and `issuer`; with
    /// `embed_sct`, carrying the CT log's SCT over its precertificate, as Fulcio's leaves do.
    pub fn issue_leaf(
        &self,
        key_spki_der: &[u8],
        san: &San,
        issuer: &str,
        embed_sct: bool,
    ) -> Vec<u8> {
        let now = unix_now();
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        let key = SubjectPublicKeyInfoOwned::try_from(key_spki_der).unwrap();
        let leaf = |sct: Option<Extension>| {
            let profile = Profile {
                subject: Name::default(),
                issuer: self.intermediate_name.clone(),
                kind: Kind::Leaf {
                    san: san.clone(),
                    oidc_issuer: issuer.to_owned(),
                    sct,
                },
            };
            issue_serial(
                profile,
                key.clone(),
                now,
                now + 600,
                &self.intermediate_key,
                serial,
            )
        };
        let precert = leaf(None);
        if !embed_sct {
            return precert.to_der().unwrap();
        }
        let tbs = precert.tbs_certificate().to_der().unwrap();
        leaf(Some(self.sct_extension(&tbs, now * 1000)))
            .to_der()
            .unwrap()
    }

    /// The SCT list extension (RFC 6962 3.3) with one SCT by the CT log over `precert_tbs`.
    fn sct_extension(&self, precert_tbs: &[u8], timestamp_ms: u64) -> Extension {
        use p256::ecdsa::signature::Signer;
        let intermediate = <Certificate as der::Decode>::from_der(&self.intermediate_der).unwrap();
        let issuer_spki = intermediate
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap();
        let log_id = Sha256::digest(&self.ct_log_spki);
        // digitally-signed: version v1, certificate_timestamp, time, precert_entry,
        // issuer key hash, TBS (24-bit length), no extensions.
        let mut signed = vec![0u8, 0u8];
        signed.extend_from_slice(&timestamp_ms.to_be_bytes());
        signed.extend_from_slice(&1u16.to_be_bytes());
        signed.extend_from_slice(&Sha256::digest(&issuer_spki));
        signed.extend_from_slice(&(precert_tbs.len() as u32).to_be_bytes()[1..]);
        signed.extend_from_slice(precert_tbs);
        signed.extend_from_slice(&0u16.to_be_bytes());
        let signature: p256::ecdsa::DerSignature = self.ct_log_key.sign(&signed);
        let signature = signature.as_bytes();
        // SignedCertificateTimestamp: version, log id, timestamp, extensions, sha256/ecdsa, sig.
        let mut sct = vec![0u8];
        sct.extend_from_slice(&log_id);
        sct.extend_from_slice(&timestamp_ms.to_be_bytes());
        sct.extend_from_slice(&0u16.to_be_bytes());
        sct.extend_from_slice(&[4, 3]);
        sct.extend_from_slice(&(signature.len() as u16).to_be_bytes());
        sct.extend_from_slice(signature);
        let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
        list.extend_from_slice(&(sct.len() as u16).to_be_bytes());
        list.extend_from_slice(&sct);
        raw_extension(SCT_LIST, OctetString::new(list).unwrap().to_der().unwrap())
    }

    /// The chain as PEM strings, leaf first (what Fulcio answers).
    pub fn chain_pem(&self, leaf_der: &[u8]) -> Vec<String> {
        [leaf_der, &self.intermediate_der, &self.root_der]
            .iter()
            .map(|der| {
                use der::Decode;
                Certificate::from_der(der)
                    .unwrap()
                    .to_pem(der::pem::LineEnding::LF)
                    .unwrap()
            })
            .collect()
    }
}

enum Kind {
    Ca {
        path_len: Option<u8>,
        code_signing: bool,
    },
    Leaf {
        san: San,
        oidc_issuer: String,
        sct: Option<Extension>,
    },
}

struct Profile {
    subject: Name,
    issuer: Name,
    kind: Kind,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let subject = &tbs.subject();
        let mut out = Vec::new();
        let mut push = |ext: Extension| out.push(ext);
        let ski = key_id(spk.subject_public_key.raw_bytes());
        push(
            SubjectKeyIdentifier(OctetString::new(ski.clone()).unwrap())
                .to_extension(subject, &[])?,
        );
        let aki = key_id(issuer_spk.subject_public_key.raw_bytes());
        if aki != ski {
            push(
                AuthorityKeyIdentifier {
                    key_identifier: Some(OctetString::new(aki).unwrap()),
                    authority_cert_issuer: None,
                    authority_cert_serial_number: None,
                }
                .to_extension(subject, &[])?,
            );
        }
        match &self.kind {
            Kind::Ca {
                path_len,
                code_signing,
            } => {
                push(
                    BasicConstraints {
                        ca: true,
                        path_len_constraint: *path_len,
                    }
                    .to_extension(subject, &[])?,
                );
                push(
                    KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)
                        .to_extension(subject, &[])?,
                );
                if *code_signing {
                    push(
                        ExtendedKeyUsage(vec![CODE_SIGNING.parse().unwrap()])
                            .to_extension(subject, &[])?,
                    );
                }
            }
            Kind::Leaf {
                san,
                oidc_issuer,
                sct,
            } => {
                push(KeyUsage(KeyUsages::DigitalSignature.into()).to_extension(subject, &[])?);
                push(
                    ExtendedKeyUsage(vec![CODE_SIGNING.parse().unwrap()])
                        .to_extension(subject, &[])?,
                );
                let name = match san {
                    San::Email(s) => GeneralName::Rfc822Name(Ia5String::new(s).unwrap()),
                    San::Uri(s) => {
                        GeneralName::UniformResourceIdentifier(Ia5String::new(s).unwrap())
                    }
                };
                // An empty subject makes the SAN critical (RFC 5280 4.2.1.6), as in Fulcio.
                let mut san = SubjectAltName(vec![name]).to_extension(subject, &[])?;
                san.critical = true;
                push(san);
                push(raw_extension(
                    OIDC_ISSUER_V1,
                    oidc_issuer.as_bytes().to_vec(),
                ));
                let v2 = Utf8StringRef::new(oidc_issuer).unwrap().to_der().unwrap();
                push(raw_extension(OIDC_ISSUER_V2, v2));
                if let Some(sct) = sct {
                    push(sct.clone());
                }
            }
        }
        Ok(out)
    }
}

fn raw_extension(oid: &str, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: oid.parse().unwrap(),
        critical: false,
        extn_value: OctetString::new(value).unwrap(),
    }
}

fn key_id(key_bits: &[u8]) -> Vec<u8> {
    Sha256::digest(key_bits)[..20].to_vec()
}

fn spki(key: &p384::ecdsa::VerifyingKey) -> SubjectPublicKeyInfoOwned {
    SubjectPublicKeyInfoOwned::from_key(key).unwrap()
}

fn issue(
    profile: Profile,
    key: SubjectPublicKeyInfoOwned,
    from: u64,
    until: u64,
    signer: &p384::ecdsa::SigningKey,
) -> Certificate {
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    issue_serial(profile, key, from, until, signer, serial)
}

fn issue_serial(
    profile: Profile,
    key: SubjectPublicKeyInfoOwned,
    from: u64,
    until: u64,
    signer: &p384::ecdsa::SigningKey,
    serial: u32,
) -> Certificate {
    let time =
        |secs: u64| Time::try_from(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)).unwrap();
    let validity = Validity::new(time(from), time(until));
    let serial = SerialNumber::from(serial);
    CertificateBuilder::new(profile, serial, validity, key)
        .unwrap()
        .build::<_, p384::ecdsa::DerSignature>(signer)
        .unwrap()
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
