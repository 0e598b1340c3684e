//! `cavra release build|verify`: release packets (artifacts, checksums, SBOM, gate verdicts and
//! notes under one signature), built and verified offline. The work is in `cavra-release`.

use super::attest::{SignerArgs, load_trusted_root, read_public_key};
use super::signing::SigningArgs;
use crate::exit;
use cavra_attestation::signer::Signer;
use cavra_gate::GateError;
use cavra_release::build::{BuildError, BuildRequest, SbomInput};
use cavra_release::manifest::{Manifest, Source};
use cavra_release::progress::Bar;
use cavra_release::tarball::{self, Limits};
use cavra_release::verdicts::Trust;
use cavra_release::verify::{Require, VerifyRequest};
use cavra_sigstore::{Expect, PublicKey};
use clap::{Args, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

const BUILD_EXAMPLES: &str = "\
Examples:
  cavra release build --name app --version 1.4.0 \\
      --artifact dist/app-linux-amd64.tar.gz --artifact dist/app-darwin-arm64.tar.gz \\
      --lockfile Cargo.lock --verdicts verdicts/ --range v1.3.0..v1.4.0 \\
      --key env:CAVRA_SIGNING_KEY --out packet/app-1.4.0 --tar
  cavra release build --name app --version 1.4.0 --artifact app.tar.gz --sbom app.cdx.json \\
      --keyless --out app-1.4.0

Layout of --out: packet.json (the manifest), packet.sigstore.json (a Sigstore bundle over an
in-toto Statement whose subjects are every artifact and the SBOM, predicate = the manifest),
sbom.cdx.json, artifacts/, verdicts/COMMIT.sigstore.json, SHA256SUMS, SHA512SUMS, RELEASE.md.
The directory is written beside --out and renamed into place only when complete.

Verdicts: --verdicts DIR holds the bundles `cavra gate --attest` wrote. Each must verify
against --verdict-key (default: the public half of --key) or the --verdict-certificate-*
identity. With --range BASE..HEAD every first-parent commit of the range must be covered by a
passing verdict: the commit itself, the pull request head a merge commit brought in, or a
squash/rebase whose diff is exactly the diff a verdict judged (README: \"The verdict chain\").
Uncovered commits stop the build; --allow-uncovered goes on and records them in the packet.

Exit status: 0 built; 1 commits not covered by a passing verdict; 3 bad flags, inputs or
template; 4 reading, writing or signing failed.";

const VERIFY_EXAMPLES: &str = "\
Examples:
  cavra release verify packet/app-1.4.0 --key ci-signing.pub
  cavra release verify app-1.4.0.tar.gz --key ci-signing.pub --require sbom,verdicts --format json
  cavra release verify app-1.4.0.tar.gz \\
      --certificate-identity https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.4.0 \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com \\
      --verdict-key gate-signing.pub

Checks, one line each: layout (no links, `..`, absolute paths or special files), manifest,
signature (and signer), statement (packet.json is exactly what was signed, subjects are the
artifacts and SBOM), each artifact's size, sha256 and sha512, the checksum files, the notes,
sbom (digest, CycloneDX 1.4-1.6 schema), each verdict (digest, signed by a trusted verdict
signer, a passing gate verdict for its commit), range (every commit covered), complete (nothing
missing), extra (nothing added); with --repo, history (the range walked again in the
repository gives the manifest's commits, covered as it says). Tarballs are read streaming into a private temporary directory.

Exit status: 0 verified; 1 a check failed; 3 bad flags, key or trusted root; 4 the packet
cannot be read.";

/// `cavra release ...`.
#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Build a signed release packet from artifacts, an SBOM and gate verdicts.
    #[command(after_help = BUILD_EXAMPLES)]
    Build(Box<BuildArgs>),
    /// Verify a release packet (directory or tarball) offline, one line per check.
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(Box<VerifyArgs>),
}

/// `cavra release build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The product's name.
    #[arg(long)]
    pub name: String,
    /// The version released.
    #[arg(long)]
    pub version: String,
    /// A file to release (repeat for each); stored under artifacts/ by its file name.
    #[arg(long = "artifact", value_name = "PATH", required = true)]
    pub artifacts: Vec<PathBuf>,
    /// Use this CycloneDX JSON SBOM (1.4-1.6, validated) instead of generating one.
    #[arg(long, value_name = "FILE", conflicts_with = "lockfiles")]
    pub sbom: Option<PathBuf>,
    /// A lockfile whose packages go into the generated SBOM (Cargo.lock, package-lock.json,
    /// poetry.lock, requirements*.txt, go.sum); repeat for each.
    #[arg(long = "lockfile", value_name = "PATH")]
    pub lockfiles: Vec<PathBuf>,
    /// A directory of gate verdict bundles (`cavra gate --attest` output).
    #[arg(long, value_name = "DIR")]
    pub verdicts: Option<PathBuf>,
    /// BASE..HEAD: every first-parent commit must be covered by a passing verdict.
    #[arg(long, value_name = "BASE..HEAD")]
    pub range: Option<String>,
    /// The git repository for --range and commit summaries.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Build even when commits are not covered; the packet records which.
    #[arg(long)]
    pub allow_uncovered: bool,
    /// Who may sign verdicts.
    #[command(flatten)]
    pub verdict_signer: VerdictSignerArgs,
    /// A trusted root JSON for certificate-signed verdicts (default: Sigstore public good).
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// The repository the release comes from, recorded in the manifest.
    #[arg(long, value_name = "NAME")]
    pub source_repository: Option<String>,
    /// The released commit (default: the head of --range).
    #[arg(long, value_name = "SHA")]
    pub source_commit: Option<String>,
    /// The release tag.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// A minijinja template for RELEASE.md (variables: name, version, source, artifacts, sbom,
    /// sbom_components, verdicts, range, changes, allow_uncovered, uncovered, time).
    #[arg(long, value_name = "FILE")]
    pub notes_template: Option<PathBuf>,
    /// How to sign the packet.
    #[command(flatten)]
    pub signing: SigningArgs,
    /// The packet directory to write (new, or empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Also write OUT.tar.gz (deterministic: sorted, mtime 0, owner 0).
    #[arg(long)]
    pub tar: bool,
    /// The gzip level of OUT.tar.gz: 0 stores (the default: release artifacts are usually
    /// compressed already, and deflating them again runs at tens of MB/s for nothing), 1 to 9
    /// compress, for artifacts that are not.
    #[arg(long, value_name = "0-9", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=9), requires = "tar")]
    pub tar_level: u32,
}

/// Who may sign verdicts, when not the packet's own key.
#[derive(Debug, Args)]
pub struct VerdictSignerArgs {
    /// A PEM public key trusted for verdicts (repeat for several).
    #[arg(long = "verdict-key", value_name = "PEM")]
    pub keys: Vec<PathBuf>,
    /// A certificate identity trusted for verdicts (keyless `cavra gate --attest`).
    #[arg(
        long = "verdict-certificate-identity",
        value_name = "ID",
        requires = "verdict_issuer"
    )]
    pub identity: Option<String>,
    /// The OIDC issuer for --verdict-certificate-identity.
    #[arg(
        long = "verdict-certificate-oidc-issuer",
        id = "verdict_issuer",
        value_name = "URL",
        requires = "identity"
    )]
    pub issuer: Option<String>,
}

impl VerdictSignerArgs {
    /// The trusted verdict signers given, or `default` when none is.
    fn expects(&self, default: Vec<Expect>) -> Result<Vec<Expect>, GateError> {
        let mut out = Vec::new();
        for k in &self.keys {
            out.push(Expect::Key(read_public_key(k)?));
        }
        if let (Some(identity), Some(issuer)) = (&self.identity, &self.issuer) {
            out.push(Expect::Identity {
                identity: identity.clone(),
                issuer: issuer.clone(),
            });
        }
        Ok(if out.is_empty() { default } else { out })
    }
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per check.
    Text,
    /// The report as JSON.
    Json,
}

/// What must be in the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Required {
    /// An SBOM that lists dependencies, not only the artifacts.
    Sbom,
    /// At least one verdict, and every commit covered (no --allow-uncovered).
    Verdicts,
}

/// `cavra release verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The packet: a directory, or a .tar / .tar.gz of one.
    #[arg(value_name = "PACKET")]
    pub packet: PathBuf,
    /// Who must have signed the packet.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Who may sign verdicts (default: the packet's signer).
    #[command(flatten)]
    pub verdict_signer: VerdictSignerArgs,
    /// A trusted root JSON (default: the embedded Sigstore public-good root).
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// What the packet must hold (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "WHAT")]
    pub require: Vec<Required>,
    /// Accept commits the packet records as uncovered (reported as WARN).
    #[arg(long)]
    pub allow_uncovered: bool,
    /// A clone of the source repository: walk the range again and confirm the manifest's
    /// commits and their coverage (the `history` check) rather than trusting the signed list.
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The report's format (on stdout).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The largest file accepted in a tarball, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_entry_bytes)]
    pub max_file_bytes: u64,
    /// The most bytes accepted in a tarball, in all.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_total_bytes)]
    pub max_total_bytes: u64,
}

/// Runs a release subcommand.
pub fn run(cmd: ReleaseCommand) -> Result<u8, GateError> {
    match cmd {
        ReleaseCommand::Build(args) => build(*args),
        ReleaseCommand::Verify(args) => verify(*args),
    }
}

fn build(args: BuildArgs) -> Result<u8, GateError> {
    let signer = args
        .signing
        .signer()?
        .ok_or_else(|| GateError::Usage("choose how to sign: --key KEY or --keyless".into()))?;
    let default_trust = match &signer {
        Signer::Key(key) => vec![Expect::Key(
            PublicKey::from_pem(&key.public_key_pem())
                .map_err(|e| GateError::Usage(format!("--key: {e}")))?,
        )],
        Signer::Keyless(_) => Vec::new(),
    };
    let signers = args.verdict_signer.expects(default_trust)?;
    if args.verdicts.is_some() && signers.is_empty() {
        return Err(GateError::Usage(
            "--verdicts with --keyless: say who signs verdicts with --verdict-key or \
             --verdict-certificate-identity and --verdict-certificate-oidc-issuer"
                .into(),
        ));
    }
    let notes_template = match &args.notes_template {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| GateError::Usage(format!("{}: {e}", path.display())))?,
        ),
        None => None,
    };
    let request = BuildRequest {
        name: args.name.clone(),
        version: args.version.clone(),
        source: Source {
            repository: args.source_repository.clone(),
            commit: args.source_commit.clone(),
            tag: args.tag.clone(),
        },
        artifacts: args.artifacts.clone(),
        sbom: match &args.sbom {
            Some(path) => SbomInput::Supplied(path.clone()),
            None => SbomInput::Generate(args.lockfiles.clone()),
        },
        verdicts_dir: args.verdicts.clone(),
        verdict_trust: Trust {
            signers,
            root: load_trusted_root(args.trusted_root.as_deref())?,
        },
        range: args.range.clone(),
        repo: args.repo.clone(),
        allow_uncovered: args.allow_uncovered,
        notes_template,
        out: args.out.clone(),
        time: cavra_gate::now_rfc3339(),
        progress: true,
    };
    let tar = args.tar.then(|| tar_path(&args.out));
    if let Some(tar) = &tar
        && tar.exists()
    {
        return Err(GateError::Usage(format!(
            "{}: exists; remove it or choose another --out",
            tar.display()
        )));
    }
    let built = match cavra_release::build::build(&request, &signer) {
        Ok(b) => b,
        Err(BuildError::Uncovered(why)) => {
            eprintln!("cavra: release not built: {why}");
            return Ok(exit::FAIL);
        }
        Err(BuildError::Usage(why)) => return Err(GateError::Usage(why)),
        Err(BuildError::Io(why)) => return Err(GateError::Io(why)),
    };
    for path in &built.unused_verdicts {
        eprintln!(
            "cavra: note: {} covers no commit of the range; left out",
            path.display()
        );
    }
    let m = &built.manifest;
    let uncovered = m
        .coverage
        .commits
        .iter()
        .filter(|c| c.verdict.is_none())
        .count();
    eprintln!(
        "cavra: packet {} {} written to {}: {} artifact(s), SBOM CycloneDX {}, {} verdict(s), \
         {} commit(s) covered{}; signed by {}",
        m.name,
        m.version,
        args.out.display(),
        m.artifacts.len(),
        m.sbom.spec_version,
        m.verdicts.len(),
        m.coverage.commits.len() - uncovered,
        if uncovered > 0 {
            format!(", {uncovered} UNCOVERED (--allow-uncovered)")
        } else {
            String::new()
        },
        built.signer
    );
    if let Some(tar) = &tar {
        let bar = Bar::bytes(true, "packing", total_size(&built.manifest));
        let partial = tar.with_extension(format!("partial-{}", std::process::id()));
        let packed = tarball::pack(&args.out, &partial, Some(args.tar_level), &|n| bar.inc(n))
            .map_err(|e| e.to_string())
            .and_then(|_| std::fs::rename(&partial, tar).map_err(|e| e.to_string()));
        bar.finish();
        if let Err(e) = packed {
            let _ = std::fs::remove_file(&partial);
            return Err(GateError::Io(format!(
                "{}: {e} (the packet directory {} is complete)",
                tar.display(),
                args.out.display()
            )));
        }
        eprintln!("cavra: wrote {}", tar.display());
    }
    Ok(exit::PASS)
}

/// The bytes of every file the manifest lists.
fn total_size(m: &Manifest) -> u64 {
    m.files().map(|f| f.size).sum()
}

/// `OUT.tar.gz` beside the packet directory.
fn tar_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".tar.gz");
    out.with_file_name(name)
}

fn verify(args: VerifyArgs) -> Result<u8, GateError> {
    let root = load_trusted_root(args.trusted_root.as_deref())?;
    let expect = args.signer.expect()?;
    let verdict_signers = args.verdict_signer.expects(vec![expect.clone()])?;
    let request = VerifyRequest {
        packet: args.packet.clone(),
        signer: Trust {
            signers: vec![expect],
            root: root.clone(),
        },
        verdict_signer: Trust {
            signers: verdict_signers,
            root,
        },
        require: Require {
            sbom: args.require.contains(&Required::Sbom),
            verdicts: args.require.contains(&Required::Verdicts),
        },
        allow_uncovered: args.allow_uncovered,
        limits: Limits {
            max_entry_bytes: args.max_file_bytes,
            max_total_bytes: args.max_total_bytes,
            ..Limits::default()
        },
        progress: true,
        repo: args.repo.clone(),
    };
    let report = cavra_release::verify::verify(&request).map_err(GateError::Io)?;
    match args.format {
        Format::Text => print!("{}", report.to_text()),
        Format::Json => print!("{}", report.to_json()),
    }
    Ok(if report.verified {
        exit::PASS
    } else {
        exit::FAIL
    })
}
