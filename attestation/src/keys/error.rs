//! Why a key could not be created, read or written. Messages name the file or environment
//! variable and what was wrong; they never contain key material or passphrases.

/// A key problem. `from` fields describe where the key came from (`key.pem`,
/// `environment variable CAVRA_SIGNING_KEY`), never its contents.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing a file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// The file exists and overwriting was not asked for.
    #[error("{0}: already exists (refusing to overwrite it)")]
    Exists(String),
    /// The environment variable that should hold the key is not set or not Unicode.
    #[error("environment variable {0} is not set (it should hold a PEM private key)")]
    EnvMissing(String),
    /// The input is not a PEM private key at all.
    #[error("{from}: not a PEM private key: {reason}")]
    NotPem {
        /// Where the key came from.
        from: String,
        /// What was wrong.
        reason: String,
    },
    /// A PEM block of a kind or algorithm cavra does not sign with.
    #[error("{from}: unsupported {what}")]
    UnsupportedType {
        /// Where the key came from.
        from: String,
        /// What was found.
        what: String,
    },
    /// The key is encrypted and no passphrase was given.
    #[error("{0}: the key is encrypted and no passphrase was given")]
    PassphraseNeeded(String),
    /// Decryption failed: the passphrase is wrong (or the file is damaged).
    #[error("{0}: cannot decrypt the key: wrong passphrase, or the file is damaged")]
    WrongPassphrase(String),
    /// The PKCS#8 structure or the key inside it is malformed.
    #[error("{from}: malformed private key: {reason}")]
    Malformed {
        /// Where the key came from.
        from: String,
        /// What was wrong.
        reason: String,
    },
    /// Encrypting or encoding a key failed.
    #[error("cannot encode the key: {0}")]
    Encode(String),
    /// The operating system's random number generator failed.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
}
