//! `cavra attest sign|verify`: in-toto Statements (or any file) signed into Sigstore bundles,
//! and verified offline.

use super::signing::SigningArgs;
use crate::exit;
use cavra_attestation::statement::Statement;
use cavra_gate::GateError;
use cavra_sigstore::bundle::MAX_BUNDLE_BYTES;
use cavra_sigstore::dsse::IN_TOTO_PAYLOAD_TYPE;
use cavra_sigstore::{Artifact, Expect, PublicKey, TrustRoot, Verified, VerifiedContent};
use clap::{Args, Subcommand};
use std::io::Read;
use std::path::{Path, PathBuf};

const SIGN_EXAMPLES: &str = "\
Examples:
  cavra attest sign --key ci-signing.key --in-toto statement.json --out statement.sigstore.json
      signs an in-toto Statement v1 as a DSSE envelope (payload type application/vnd.in-toto+json)
  cavra attest sign --key env:CAVRA_SIGNING_KEY dist/app.tar.gz --out app.tar.gz.sigstore.json
      signs any file (a message signature over its SHA-256), with the PEM key held in a CI secret

  cavra attest sign --keyless --in-toto statement.json --out statement.sigstore.json
      keyless: in GitHub Actions (permissions: id-token: write) or GitLab CI (id_tokens:
      SIGSTORE_ID_TOKEN), a Fulcio certificate for the job's identity and a Rekor entry

With a key, the bundle is a Sigstore bundle v0.3 with the key id as `publicKey.hint` and no
transparency-log entry; anyone with the .pub file verifies it offline (`cavra attest verify`,
sigstore-js). Keyless bundles verify with --certificate-identity and --certificate-oidc-issuer.
An encrypted key reads its passphrase from CAVRA_KEY_PASSPHRASE (or --passphrase-env NAME).";

const VERIFY_EXAMPLES: &str = "\
Examples:
  cavra attest verify statement.sigstore.json --key ci-signing.pub
      prints the verified in-toto Statement on stdout
  cavra attest verify verdict.sigstore.json --key ci-signing.pub \\
      --predicate-type https://cavra.dev/attestation/gate-verdict/v1 sha256:<64 hex digits>
      also checks the predicate type and that a subject has this digest
  cavra attest verify app.tar.gz.sigstore.json --key ci-signing.pub dist/app.tar.gz
  cavra attest verify release.sigstore.json \\
      --certificate-identity https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com

Exit status: 0 verified; 1 the bundle does not verify (each reason on stderr); 3 bad flags,
key or trusted root; 4 a file could not be read.";

/// `cavra attest ...`.
#[derive(Debug, Subcommand)]
pub enum AttestCommand {
    /// Sign an in-toto Statement (--in-toto) or any file into a Sigstore bundle.
    #[command(after_help = SIGN_EXAMPLES)]
    Sign(SignArgs),
    /// Verify a Sigstore bundle offline and print what it signs.
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(VerifyArgs),
}

/// `cavra attest sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// How to sign: --key KEY or --keyless.
    #[command(flatten)]
    pub signing: SigningArgs,
    /// FILE is an in-toto Statement v1: sign it as a DSSE envelope.
    #[arg(long)]
    pub in_toto: bool,
    /// The file to sign.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to write the bundle.
    #[arg(long, value_name = "BUNDLE")]
    pub out: PathBuf,
}

/// Who must have signed a bundle: a public key, or a certificate identity and issuer.
#[derive(Debug, Args)]
pub struct SignerArgs {
    /// The signer's PEM public key.
    #[arg(long, value_name = "PEM", required_unless_present = "certificate_identity",
          conflicts_with_all = ["certificate_identity", "certificate_oidc_issuer"])]
    pub key: Option<PathBuf>,
    /// The exact identity (SAN URI or email) of the signing certificate.
    #[arg(long, value_name = "ID", requires = "certificate_oidc_issuer")]
    pub certificate_identity: Option<String>,
    /// The exact OIDC issuer recorded in the signing certificate.
    #[arg(long, value_name = "URL", requires = "certificate_identity")]
    pub certificate_oidc_issuer: Option<String>,
}

impl SignerArgs {
    /// Who must have signed, as the verifier takes it.
    pub(super) fn expect(&self) -> Result<Expect, GateError> {
        match (
            &self.key,
            &self.certificate_identity,
            &self.certificate_oidc_issuer,
        ) {
            (Some(key), _, _) => Ok(Expect::Key(read_public_key(key)?)),
            (None, Some(identity), Some(issuer)) => Ok(Expect::Identity {
                identity: identity.clone(),
                issuer: issuer.clone(),
            }),
            _ => Err(GateError::Usage(
                "give --key PEM, or --certificate-identity ID with --certificate-oidc-issuer URL"
                    .into(),
            )),
        }
    }
}

/// `cavra attest verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The Sigstore bundle.
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,
    /// Who must have signed.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// A trusted root JSON (default: the embedded Sigstore public-good root).
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// Require an in-toto Statement with this predicateType.
    #[arg(long, value_name = "URI")]
    pub predicate_type: Option<String>,
    /// The artifact (a file, or sha256:DIGEST): a subject of the Statement, or the signed blob.
    #[arg(value_name = "ARTIFACT")]
    pub artifact: Option<String>,
}

/// Runs an attest subcommand.
pub fn run(cmd: AttestCommand) -> Result<u8, GateError> {
    match cmd {
        AttestCommand::Sign(args) => sign(args),
        AttestCommand::Verify(args) => verify(args),
    }
}

fn sign(args: SignArgs) -> Result<u8, GateError> {
    let signer = args
        .signing
        .signer()?
        .ok_or_else(|| GateError::Usage("choose how to sign: --key KEY or --keyless".into()))?;
    let content = std::fs::read(&args.file)
        .map_err(|e| GateError::Io(format!("{}: {e}", args.file.display())))?;
    let signed = if args.in_toto {
        Statement::from_json(&content)
            .map_err(|e| GateError::Usage(format!("{}: {e}", args.file.display())))?;
        signer.sign_dsse(IN_TOTO_PAYLOAD_TYPE, &content)
    } else {
        signer.sign_blob(&content)
    }
    .map_err(|e| GateError::Io(e.to_string()))?;
    crate::output::write(Some(&args.out), &signed.json).map_err(GateError::Io)?;
    eprintln!(
        "signed {} ({}) by {}: wrote {}",
        args.file.display(),
        if args.in_toto {
            "in-toto Statement, DSSE"
        } else {
            "message signature"
        },
        signed.signer,
        args.out.display()
    );
    Ok(exit::PASS)
}

fn verify(args: VerifyArgs) -> Result<u8, GateError> {
    let request = VerifyRequest::new(
        &args.bundle,
        &args.signer,
        args.trusted_root.as_deref(),
        args.artifact.as_deref(),
    )?;
    let verified = match request.run() {
        Ok(v) => v,
        Err(reason) => {
            eprintln!(
                "cavra: {}: does not verify: {reason}",
                args.bundle.display()
            );
            return Ok(exit::FAIL);
        }
    };
    match report(&args, &request, &verified) {
        Ok(()) => Ok(exit::PASS),
        Err(reason) => {
            eprintln!("cavra: {}: {reason}", args.bundle.display());
            Ok(exit::FAIL)
        }
    }
}

/// Prints what was verified: the Statement (or payload) on stdout, or a summary for a blob;
/// fails when the Statement is invalid or has another predicate type than asked for.
fn report(args: &VerifyArgs, request: &VerifyRequest, v: &Verified) -> Result<(), String> {
    let signer = &v.signer;
    let times: Vec<String> = v
        .timestamps
        .iter()
        .map(|(source, t)| format!("{source} {t}"))
        .collect();
    let when = if times.is_empty() {
        String::new()
    } else {
        format!("; {}", times.join(", "))
    };
    match &v.content {
        VerifiedContent::Dsse {
            payload_type,
            payload,
        } => {
            if payload_type == IN_TOTO_PAYLOAD_TYPE {
                let statement = Statement::from_json(payload)
                    .map_err(|e| format!("the signature is good but the payload is {e}"))?;
                if let Some(want) = &args.predicate_type
                    && &statement.predicate_type != want
                {
                    return Err(format!(
                        "predicateType is `{}`, expected `{want}`",
                        statement.predicate_type
                    ));
                }
                eprintln!(
                    "verified: in-toto Statement ({}) signed by {signer}{when}",
                    statement.predicate_type
                );
            } else if args.predicate_type.is_some() {
                return Err(format!(
                    "the envelope's payload type is `{payload_type}`, not an in-toto Statement \
                     (--predicate-type needs one)"
                ));
            } else {
                eprintln!("verified: DSSE payload ({payload_type}) signed by {signer}{when}");
            }
            let text = String::from_utf8_lossy(payload);
            println!("{}", text.trim_end_matches('\n'));
        }
        VerifiedContent::MessageSignature => {
            if args.predicate_type.is_some() {
                return Err(
                    "the bundle holds a message signature over a file, not an in-toto \
                     Statement (--predicate-type needs one)"
                        .into(),
                );
            }
            let digest = request
                .artifact_digest()
                .map(|d| format!(" over sha256:{}", cavra_sigstore::key::hex_lower(&d)))
                .unwrap_or_default();
            println!(
                "verified: {}: message signature{digest} by {signer}{when}",
                args.bundle.display()
            );
        }
    }
    Ok(())
}

/// Everything a verification needs, read and checked: shared by `attest verify` and
/// `verify-bundle`.
pub(super) struct VerifyRequest {
    bundle: Vec<u8>,
    /// The bundle file's size on disk (only its first bytes are read when it is too large).
    bundle_size: u64,
    expect: Expect,
    root: TrustRoot,
    artifact: Option<ArtifactInput>,
}

/// The artifact as given on the command line.
pub(super) enum ArtifactInput {
    /// A file's bytes.
    Bytes(Vec<u8>),
    /// `sha256:<64 hex>`.
    Sha256([u8; 32]),
}

impl VerifyRequest {
    /// Reads the bundle (at most one byte over the verifier's limit), the key or identity, the
    /// trusted root (default: public good) and the artifact.
    pub(super) fn new(
        bundle: &Path,
        signer: &SignerArgs,
        trusted_root: Option<&Path>,
        artifact: Option<&str>,
    ) -> Result<VerifyRequest, GateError> {
        let expect = signer.expect()?;
        let root = load_trusted_root(trusted_root)?;
        let bundle_bytes = read_capped(bundle, MAX_BUNDLE_BYTES)?;
        let bundle_size = std::fs::metadata(bundle)
            .map(|m| m.len())
            .unwrap_or(bundle_bytes.len() as u64);
        Ok(VerifyRequest {
            bundle: bundle_bytes,
            bundle_size,
            expect,
            root,
            artifact: artifact.map(parse_artifact).transpose()?,
        })
    }

    /// Verifies; the error is the verifier's reason.
    pub(super) fn run(&self) -> Result<Verified, String> {
        if self.bundle.len() > MAX_BUNDLE_BYTES {
            return Err(format!(
                "bundle: {} bytes is over the {MAX_BUNDLE_BYTES} byte limit",
                self.bundle_size.max(self.bundle.len() as u64)
            ));
        }
        let artifact = self.artifact.as_ref().map(|a| match a {
            ArtifactInput::Bytes(b) => Artifact::Bytes(b),
            ArtifactInput::Sha256(d) => Artifact::Sha256(*d),
        });
        cavra_sigstore::verify(&self.bundle, artifact, &self.expect, &self.root)
            .map_err(|e| e.to_string())
    }

    /// The artifact's SHA-256, when one was given.
    fn artifact_digest(&self) -> Option<[u8; 32]> {
        self.artifact.as_ref().map(|a| match a {
            ArtifactInput::Bytes(b) => cavra_sigstore::key::sha256(b),
            ArtifactInput::Sha256(d) => *d,
        })
    }
}

/// `sha256:<64 hex digits>` that is not an existing path is a digest; anything else is a file.
pub(super) fn parse_artifact(arg: &str) -> Result<ArtifactInput, GateError> {
    let path = Path::new(arg);
    if !path.exists()
        && let Some(hex) = arg.strip_prefix("sha256:")
    {
        return match decode_sha256(hex) {
            Some(d) => Ok(ArtifactInput::Sha256(d)),
            None => Err(GateError::Usage(format!(
                "{arg}: no such file, and not a digest (sha256: takes 64 hex digits)"
            ))),
        };
    }
    std::fs::read(path)
        .map(ArtifactInput::Bytes)
        .map_err(|e| GateError::Io(format!("{arg}: {e}")))
}

fn decode_sha256(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The trusted root in `path`, or the embedded Sigstore public-good root.
pub(super) fn load_trusted_root(path: Option<&Path>) -> Result<TrustRoot, GateError> {
    match path {
        Some(path) => {
            let bytes = read_capped(path, cavra_sigstore::trust::MAX_TRUSTED_ROOT_BYTES)?;
            TrustRoot::from_json(&bytes)
                .map_err(|e| GateError::Usage(format!("{}: {e}", path.display())))
        }
        None => Ok(TrustRoot::public_good()),
    }
}

/// A PEM public key file; problems are usage errors naming the file.
pub(super) fn read_public_key(path: &Path) -> Result<PublicKey, GateError> {
    let bytes = read_capped(path, 1 << 20)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        GateError::Usage(format!(
            "{}: not a PEM public key (the file is not text)",
            path.display()
        ))
    })?;
    PublicKey::from_pem(text).map_err(|e| GateError::Usage(format!("{}: {e}", path.display())))
}

/// Reads at most `limit + 1` bytes, so that an oversized file is refused by the parser's own
/// limit without being read whole.
fn read_capped(path: &Path, limit: usize) -> Result<Vec<u8>, GateError> {
    let io = |e: std::io::Error| GateError::Io(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_are_files_unless_a_well_formed_digest() {
        let hex = "ab".repeat(32);
        match parse_artifact(&format!("sha256:{hex}")).unwrap() {
            ArtifactInput::Sha256(d) => assert_eq!(d, [0xab; 32]),
            ArtifactInput::Bytes(_) => panic!("a digest"),
        }
        let err = parse_artifact("sha256:abc").err().unwrap().to_string();
        assert!(err.contains("64 hex digits"), "{err}");
        let err = parse_artifact("no-such-file").err().unwrap().to_string();
        assert!(err.contains("no-such-file"), "{err}");
        assert_eq!(decode_sha256(&"0F".repeat(32)), Some([0x0f; 32]));
        assert_eq!(decode_sha256(&"g".repeat(64)), None);
    }
}
