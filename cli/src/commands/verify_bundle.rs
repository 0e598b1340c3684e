//! `cavra verify-bundle`: the sigstore-conformance CLI protocol for bundle verification, so the
//! conformance suite (and scripts written for other Sigstore clients) can drive cavra.

use super::attest::{SignerArgs, VerifyRequest};
use crate::exit;
use cavra_gate::GateError;
use clap::Args;
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  cavra verify-bundle --bundle a.txt.sigstore.json \\
      --certificate-identity https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1 \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com a.txt
  cavra verify-bundle --bundle statement.sigstore.json --key signer.pub \\
      sha256:3a441f927ce7c04af0d5ac04b2305439d4ced69f2f644b9676693cf4ec10e032

FILE_OR_DIGEST is `sha256:` and 64 hex digits when that is not an existing path; anything else
is a file. For a DSSE bundle it must be a subject of the in-toto Statement.
Without --trusted-root the embedded Sigstore public-good root is used; --staging needs
--trusted-root (no staging root is embedded).
Exit status: 0 verified, 1 not verified (the reason on stderr), 3 bad flags, 4 unreadable file.
For human use, `cavra attest verify` prints what the bundle signs.";

/// `cavra verify-bundle` (sigstore-conformance protocol).
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct VerifyBundleArgs {
    /// Use Sigstore's staging instance (needs --trusted-root).
    #[arg(long)]
    pub staging: bool,
    /// The Sigstore bundle to verify.
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    /// Who must have signed.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// A trusted root JSON (default: the embedded Sigstore public-good root).
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// The artifact, or its digest as sha256:<64 hex digits>.
    #[arg(value_name = "FILE_OR_DIGEST")]
    pub file_or_digest: String,
}

/// Verifies; prints `OK: BUNDLE` or the reason it does not verify.
pub fn run(args: VerifyBundleArgs) -> Result<u8, GateError> {
    if args.staging && args.trusted_root.is_none() {
        return Err(GateError::Usage(
            "--staging needs --trusted-root FILE: cavra embeds only the public-good trusted root"
                .into(),
        ));
    }
    let request = VerifyRequest::new(
        &args.bundle,
        &args.signer,
        args.trusted_root.as_deref(),
        Some(&args.file_or_digest),
    )?;
    match request.run() {
        Ok(_) => {
            println!("OK: {}", args.bundle.display());
            Ok(exit::PASS)
        }
        Err(reason) => {
            eprintln!(
                "cavra: {}: does not verify: {reason}",
                args.bundle.display()
            );
            Ok(exit::FAIL)
        }
    }
}
