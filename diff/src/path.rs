//! Repository paths as raw bytes, so non-UTF-8 names survive.

use std::fmt;

/// A path inside the repository, `/`-separated, exactly as git stores it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoPath(Vec<u8>);

impl RepoPath {
    /// Wraps raw path bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        RepoPath(bytes.into())
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The path as UTF-8, if it is.
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The path for display: UTF-8 as is, other bytes as `\xNN` escapes (lossless and readable).
    pub fn display(&self) -> String {
        match self.to_str() {
            Some(s) => s.to_string(),
            None => {
                let mut out = String::new();
                for chunk in self.0.utf8_chunks() {
                    out.push_str(chunk.valid());
                    for b in chunk.invalid() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                out
            }
        }
    }

    /// The path as an OS path, for glob matching (lossless on Unix).
    #[cfg(unix)]
    pub fn as_path(&self) -> &std::path::Path {
        use std::os::unix::ffi::OsStrExt;
        std::path::Path::new(std::ffi::OsStr::from_bytes(&self.0))
    }

    /// The path as an OS path, for glob matching (lossy off Unix).
    #[cfg(not(unix))]
    pub fn as_path(&self) -> std::borrow::Cow<'_, std::path::Path> {
        std::borrow::Cow::Owned(String::from_utf8_lossy(&self.0).into_owned().into())
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl fmt::Debug for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.display())
    }
}

impl From<&str> for RepoPath {
    fn from(s: &str) -> Self {
        RepoPath(s.as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_utf8_is_escaped_not_lost() {
        let p = RepoPath::new(b"dir/caf\xe9.txt".to_vec());
        assert_eq!(p.display(), "dir/caf\\xe9.txt");
        assert_eq!(p.as_bytes(), b"dir/caf\xe9.txt");
        assert_eq!(RepoPath::from("ü/ß").display(), "ü/ß");
    }
}
