//! Where keys live: files (private keys created 0600, atomically, never overwritten unless asked)
//! and environment variables (a CI secret holding the PEM, read without touching disk).

use super::{KeyError, SigningKey};
use pkcs8::der::zeroize::Zeroizing;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The largest key file we read; a PEM private key is well under 1 KiB.
const MAX_KEY_BYTES: u64 = 64 << 10;

/// Where a private key is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A PEM file.
    File(PathBuf),
    /// An environment variable holding the PEM text (`env:NAME` on the command line).
    Env(String),
}

impl KeySource {
    /// `env:NAME` names an environment variable; anything else is a file path.
    pub fn parse(spec: &str) -> KeySource {
        match spec.strip_prefix("env:") {
            Some(name) if !name.is_empty() => KeySource::Env(name.to_string()),
            _ => KeySource::File(PathBuf::from(spec)),
        }
    }

    /// Reads the private key, decrypting it with `passphrase` when it is encrypted.
    pub fn load(&self, passphrase: Option<&[u8]>) -> Result<SigningKey, KeyError> {
        let pem = self.read_pem()?;
        SigningKey::from_pem(&pem, passphrase, &self.to_string())
    }

    /// The PEM text (zeroed when dropped).
    fn read_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        match self {
            KeySource::Env(name) => match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => Ok(Zeroizing::new(v)),
                _ => Err(KeyError::EnvMissing(name.clone())),
            },
            KeySource::File(path) => {
                let io = |error| KeyError::Io {
                    path: path.display().to_string(),
                    error,
                };
                let meta = std::fs::metadata(path).map_err(io)?;
                if meta.len() > MAX_KEY_BYTES {
                    return Err(KeyError::NotPem {
                        from: self.to_string(),
                        reason: format!("{} bytes is too large for a key file", meta.len()),
                    });
                }
                let bytes = Zeroizing::new(std::fs::read(path).map_err(io)?);
                match std::str::from_utf8(&bytes) {
                    Ok(s) => Ok(Zeroizing::new(s.to_string())),
                    Err(_) => Err(KeyError::NotPem {
                        from: self.to_string(),
                        reason: "the file is not text (a DER key? cavra reads PEM)".into(),
                    }),
                }
            }
        }
    }
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::File(p) => write!(f, "{}", p.display()),
            KeySource::Env(name) => write!(f, "environment variable {name}"),
        }
    }
}

/// The passphrase in environment variable `name`, if it is set and not empty.
pub fn passphrase_from_env(name: &str) -> Option<Zeroizing<Vec<u8>>> {
    let value = std::env::var_os(name)?;
    let bytes = Zeroizing::new(value.into_encoded_bytes());
    (!bytes.is_empty()).then_some(bytes)
}

/// Writes private key PEM to `path`, readable by the owner only (mode 0600 from creation, so
/// never readable by others even briefly). Refuses an existing file unless `overwrite`; an
/// overwrite goes through a new 0600 file in the same directory renamed over the old one.
pub fn write_private_key(path: &Path, pem: &str, overwrite: bool) -> Result<(), KeyError> {
    if !overwrite {
        return write_new(path, pem.as_bytes(), 0o600);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let mut last = None;
    for attempt in 0..16u32 {
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| KeyError::Random(e.to_string()))?;
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            name.as_deref().unwrap_or("key"),
            cavra_sigstore::key::hex_lower(&nonce)
        ));
        match write_new(&tmp, pem.as_bytes(), 0o600) {
            Ok(()) => {
                return std::fs::rename(&tmp, path).map_err(|error| {
                    let _ = std::fs::remove_file(&tmp);
                    KeyError::Io {
                        path: path.display().to_string(),
                        error,
                    }
                });
            }
            Err(KeyError::Exists(_)) if attempt < 15 => continue,
            Err(e) => last = Some(e),
        }
        break;
    }
    Err(last.unwrap_or_else(|| KeyError::Exists(path.display().to_string())))
}

/// Writes public key PEM to `path` (mode 0644), refusing an existing file unless `overwrite`.
pub fn write_public_key(path: &Path, pem: &str, overwrite: bool) -> Result<(), KeyError> {
    if overwrite {
        std::fs::write(path, pem).map_err(|error| KeyError::Io {
            path: path.display().to_string(),
            error,
        })
    } else {
        write_new(path, pem.as_bytes(), 0o644)
    }
}

/// Creates `path` (which must not exist) with `mode` and writes `bytes`; removes it on failure.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let io = |error| KeyError::Io {
        path: path.display().to_string(),
        error,
    };
    let mut file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(KeyError::Exists(path.display().to_string()));
        }
        Err(e) => return Err(io(e)),
    };
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(io(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyType;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn sources_parse() {
        assert_eq!(KeySource::parse("env:K"), KeySource::Env("K".into()));
        assert_eq!(KeySource::parse("env:"), KeySource::File("env:".into()));
        assert_eq!(
            KeySource::parse("a/b.key"),
            KeySource::File("a/b.key".into())
        );
        assert_eq!(
            KeySource::Env("K".into()).to_string(),
            "environment variable K"
        );
    }

    #[test]
    fn private_keys_are_owner_only_and_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        let key = SigningKey::generate(KeyType::Ed25519).unwrap();
        let pem = key.to_pkcs8_pem().unwrap();
        write_private_key(&path, &pem, false).unwrap();
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        let err = write_private_key(&path, "other", false).unwrap_err();
        assert!(matches!(err, KeyError::Exists(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), *pem);

        let other = SigningKey::generate(KeyType::P256).unwrap();
        write_private_key(&path, &other.to_pkcs8_pem().unwrap(), true).unwrap();
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        let loaded = KeySource::File(path.clone()).load(None).unwrap();
        assert_eq!(loaded.key_id(), other.key_id());
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn public_keys_refuse_overwrite_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pub");
        write_public_key(&path, "a", false).unwrap();
        assert!(matches!(
            write_public_key(&path, "b", false),
            Err(KeyError::Exists(_))
        ));
        write_public_key(&path, "c", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "c");
    }

    #[test]
    fn missing_and_oversized_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.key");
        let err = KeySource::File(missing.clone()).load(None).unwrap_err();
        assert!(err.to_string().contains("nope.key"), "{err}");
        let big = dir.path().join("big.key");
        std::fs::write(&big, vec![b'a'; 100_000]).unwrap();
        let err = KeySource::File(big).load(None).unwrap_err().to_string();
        assert!(
            err.contains("big.key") && err.contains("too large"),
            "{err}"
        );
        let err = KeySource::Env("CAVRA_TEST_SURELY_UNSET_VARIABLE".into())
            .load(None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("CAVRA_TEST_SURELY_UNSET_VARIABLE"), "{err}");
    }
}
