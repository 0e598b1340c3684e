//! How a command signs: `--key` or `--keyless` (with the identity token and service URLs),
//! shared by `cavra gate --attest` and `cavra attest sign`.

use super::keys::{PASSPHRASE_ENV, load_signing_key};
use cavra_attestation::signer::Signer;
use cavra_gate::GateError;
use cavra_keyless::config::{DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL};
use cavra_keyless::{IdentityToken, KeylessConfig, KeylessSigner};
use clap::Args;

/// Signing options.
#[derive(Debug, Clone, Args)]
pub struct SigningArgs {
    /// Sign with this private key: a PKCS#8 PEM file, or env:NAME for a PEM held in an
    /// environment variable (a CI secret), which never touches the disk.
    #[arg(long, value_name = "KEY", conflicts_with = "keyless")]
    pub key: Option<String>,
    /// The environment variable holding the passphrase of an encrypted key.
    #[arg(long, value_name = "NAME", default_value = PASSPHRASE_ENV)]
    pub passphrase_env: String,
    /// Sign keyless: an ephemeral key, a Fulcio certificate for the CI job's OIDC identity,
    /// and a Rekor log entry. The identity token comes from --identity-token, SIGSTORE_ID_TOKEN
    /// (GitLab `id_tokens:`) or GitHub Actions (`permissions: id-token: write`).
    #[arg(long)]
    pub keyless: bool,
    /// The OIDC identity token for keyless signing (audience `sigstore`). Prefer the
    /// environment variable: command lines are visible to other processes.
    #[arg(
        long,
        value_name = "JWT",
        env = "CAVRA_IDENTITY_TOKEN",
        hide_env_values = true
    )]
    pub identity_token: Option<String>,
    /// Fulcio, for keyless signing (a private instance, or the public good default).
    #[arg(long, value_name = "URL", env = "CAVRA_FULCIO_URL", default_value = DEFAULT_FULCIO_URL)]
    pub fulcio_url: String,
    /// Rekor, for keyless signing.
    #[arg(long, value_name = "URL", env = "CAVRA_REKOR_URL", default_value = DEFAULT_REKOR_URL)]
    pub rekor_url: String,
}

impl SigningArgs {
    /// True when a way to sign was chosen.
    pub fn chosen(&self) -> bool {
        self.key.is_some() || self.keyless
    }

    /// The signer, loaded before any work so that a bad key or a missing token fails fast.
    /// `None` when neither `--key` nor `--keyless` was given.
    pub fn signer(&self) -> Result<Option<Signer>, GateError> {
        if let Some(spec) = &self.key {
            return load_signing_key(spec, &self.passphrase_env).map(|k| Some(Signer::Key(k)));
        }
        if !self.keyless {
            return Ok(None);
        }
        let config = KeylessConfig {
            fulcio_url: self.fulcio_url.clone(),
            rekor_url: self.rekor_url.clone(),
            ..KeylessConfig::default()
        };
        let token = match &self.identity_token {
            Some(jwt) => IdentityToken::new(jwt.as_str()),
            None => IdentityToken::from_env(&config),
        }
        .map_err(|e| GateError::Usage(format!("keyless signing: {e}")))?;
        KeylessSigner::new(config, token)
            .map(|s| Some(Signer::Keyless(Box::new(s))))
            .map_err(|e| GateError::Usage(format!("keyless signing: {e}")))
    }
}
