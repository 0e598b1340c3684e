//! `cavra keys generate|id`: signing keys for `cavra attest sign` and `cavra gate --attest`.

use crate::exit;
use cavra_attestation::keys::{
    KeyError, KeySource, KeyType, SigningKey, passphrase_from_env, write_private_key,
    write_public_key,
};
use cavra_gate::GateError;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// The environment variable that holds a key's passphrase, unless `--passphrase-env` names another.
pub const PASSPHRASE_ENV: &str = "CAVRA_KEY_PASSPHRASE";

const GENERATE_EXAMPLES: &str = "\
Examples:
  cavra keys generate --out ci-signing
      writes ci-signing.key (Ed25519, PKCS#8 PEM, mode 0600) and ci-signing.pub,
      and prints the key id
  CAVRA_KEY_PASSPHRASE=... cavra keys generate --type p256 --encrypt --out release
      an ECDSA P-256 key, encrypted with the passphrase (scrypt + AES-256-CBC)

Store the .key file as a CI secret (e.g. CAVRA_SIGNING_KEY) and sign with
`cavra attest sign --key env:CAVRA_SIGNING_KEY ...`; give the .pub file to verifiers.";

const ID_EXAMPLES: &str = "\
Examples:
  cavra keys id ci-signing.pub
  cavra keys id ci-signing.key
  cavra keys id env:CAVRA_SIGNING_KEY

The key id is the lowercase hex SHA-256 of the public key's DER SubjectPublicKeyInfo; it is
the `publicKey.hint` of the bundles the key signs.";

/// `cavra keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a signing key pair: PREFIX.key (private, owner-only) and PREFIX.pub.
    #[command(after_help = GENERATE_EXAMPLES)]
    Generate(GenerateArgs),
    /// Print the key id of a public or private key.
    #[command(after_help = ID_EXAMPLES)]
    Id(IdArgs),
}

/// `cavra keys generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The key type.
    #[arg(long = "type", default_value = "ed25519", value_parser = clap::builder::PossibleValuesParser::new(KeyType::NAMES))]
    pub key_type: String,
    /// Encrypt the private key with the passphrase from --passphrase-env.
    #[arg(long)]
    pub encrypt: bool,
    /// The environment variable holding the passphrase (with --encrypt).
    #[arg(long, value_name = "NAME", default_value = PASSPHRASE_ENV)]
    pub passphrase_env: String,
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(long, value_name = "PREFIX")]
    pub out: PathBuf,
    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
}

/// `cavra keys id`.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// A PEM public key file, a PEM private key file, or env:NAME (a private key in a variable).
    #[arg(value_name = "KEY")]
    pub key: String,
    /// The environment variable holding the passphrase of an encrypted private key.
    #[arg(long, value_name = "NAME", default_value = PASSPHRASE_ENV)]
    pub passphrase_env: String,
}

/// Runs a keys subcommand.
pub fn run(cmd: KeysCommand) -> Result<u8, GateError> {
    match cmd {
        KeysCommand::Generate(args) => generate(args),
        KeysCommand::Id(args) => id(args),
    }
}

fn generate(args: GenerateArgs) -> Result<u8, GateError> {
    let kind: KeyType = args.key_type.parse().map_err(key_error)?;
    let private_path = with_suffix(&args.out, "key");
    let public_path = with_suffix(&args.out, "pub");
    if !args.force {
        for path in [&private_path, &public_path] {
            if path.exists() {
                return Err(GateError::Usage(format!(
                    "{}: already exists (refusing to overwrite it; --force replaces it)",
                    path.display()
                )));
            }
        }
    }
    let passphrase = if args.encrypt {
        Some(passphrase_from_env(&args.passphrase_env).ok_or_else(|| {
            GateError::Usage(format!(
                "--encrypt needs a passphrase in the environment variable {} (set it, or name \
                 another with --passphrase-env)",
                args.passphrase_env
            ))
        })?)
    } else {
        None
    };
    let key = SigningKey::generate(kind).map_err(key_error)?;
    let pem = match &passphrase {
        Some(p) => key.to_encrypted_pkcs8_pem(p),
        None => key.to_pkcs8_pem(),
    }
    .map_err(key_error)?;
    write_private_key(&private_path, &pem, args.force).map_err(key_error)?;
    if let Err(e) = write_public_key(&public_path, &key.public_key_pem(), args.force) {
        // Do not leave half a key pair behind.
        let _ = std::fs::remove_file(&private_path);
        return Err(key_error(e));
    }
    eprintln!(
        "wrote {} ({}{}, owner-only) and {}",
        private_path.display(),
        kind,
        if passphrase.is_some() {
            ", encrypted"
        } else {
            ""
        },
        public_path.display()
    );
    println!("{}", key.key_id());
    Ok(exit::PASS)
}

fn id(args: IdArgs) -> Result<u8, GateError> {
    let source = KeySource::parse(&args.key);
    if let KeySource::File(path) = &source {
        let text =
            std::fs::read(path).map_err(|e| GateError::Io(format!("{}: {e}", path.display())))?;
        if text
            .trim_ascii_start()
            .starts_with(b"-----BEGIN PUBLIC KEY-----")
        {
            let text = String::from_utf8_lossy(&text);
            let public = cavra_sigstore::PublicKey::from_pem(&text)
                .map_err(|e| GateError::Usage(format!("{}: {e}", path.display())))?;
            println!("{}", public.key_id());
            return Ok(exit::PASS);
        }
    }
    let key = load_signing_key(&args.key, &args.passphrase_env)?;
    println!("{}", key.key_id());
    Ok(exit::PASS)
}

/// Loads a private key from a file or `env:NAME`, with the passphrase from `passphrase_env`
/// when the key is encrypted.
pub fn load_signing_key(spec: &str, passphrase_env: &str) -> Result<SigningKey, GateError> {
    let source = KeySource::parse(spec);
    let passphrase = passphrase_from_env(passphrase_env);
    source
        .load(passphrase.as_ref().map(|p| p.as_slice()))
        .map_err(|e| match e {
            KeyError::PassphraseNeeded(from) => GateError::Usage(format!(
                "{from}: the key is encrypted: put its passphrase in the environment variable \
                 {passphrase_env}"
            )),
            other => key_error(other),
        })
}

/// Key problems are the caller's to fix (exit 3), except I/O and randomness (exit 4).
fn key_error(e: KeyError) -> GateError {
    match e {
        KeyError::Io { .. } | KeyError::Random(_) => GateError::Io(e.to_string()),
        KeyError::Exists(path) => GateError::Usage(format!(
            "{path}: already exists (refusing to overwrite it; --force replaces it)"
        )),
        other => GateError::Usage(other.to_string()),
    }
}

/// `prefix.ext`, keeping any dots already in the prefix (`ci.signing` -> `ci.signing.key`).
fn with_suffix(prefix: &std::path::Path, ext: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_os_string();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}
