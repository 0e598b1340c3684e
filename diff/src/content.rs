//! The added and removed lines of one change, loaded on demand.

use crate::Error;
use crate::change::{Change, EntryKind, Side};
use crate::error::fetch_hint;
use git2::Repository;
use imara_diff::{Algorithm, Diff, InternedInput};

/// How much content the analyzer reads for one file.
#[derive(Debug, Clone)]
pub struct ContentLimits {
    /// Blobs larger than this are not diffed line by line (they are reported as too large).
    pub max_text_bytes: u64,
}

impl Default for ContentLimits {
    fn default() -> Self {
        ContentLimits {
            max_text_bytes: 16 * 1024 * 1024,
        }
    }
}

/// One line of a text file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number in its file (head file for added lines, base file for removed).
    pub number: u32,
    /// The text, without its line ending (invalid UTF-8 replaced).
    pub text: String,
}

/// The content of one change.
#[derive(Debug, Clone, Default)]
pub struct Content {
    /// Either side holds a NUL byte in its first 8000 bytes (git's rule).
    pub binary: bool,
    /// A side is larger than [`ContentLimits::max_text_bytes`]; no lines were read.
    pub too_large: bool,
    /// Size of the base blob in bytes (0 when added or a submodule).
    pub old_size: u64,
    /// Size of the head blob in bytes (0 when deleted or a submodule).
    pub new_size: u64,
    /// Lines present in head and not in base.
    pub added: Vec<Line>,
    /// Lines present in base and not in head.
    pub removed: Vec<Line>,
    /// The whole base blob (empty when added, binary, too large or a submodule).
    pub old_text: Vec<u8>,
    /// The whole head blob (empty when deleted, binary, too large or a submodule).
    pub new_text: Vec<u8>,
}

fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8000)].contains(&0)
}

/// The blobs of one change as read from the object store: the only step that needs git.
///
/// A side over [`ContentLimits::max_text_bytes`] keeps only its first 8000 bytes (enough to
/// tell binary from text), so the memory a change holds is bounded.
#[derive(Debug, Clone, Default)]
pub struct Blobs {
    old: Option<Vec<u8>>,
    new: Option<Vec<u8>>,
    old_size: u64,
    new_size: u64,
    same: bool,
}

impl Blobs {
    /// Bytes held in memory.
    pub fn held_bytes(&self) -> usize {
        self.old.as_ref().map_or(0, Vec::len) + self.new.as_ref().map_or(0, Vec::len)
    }
}

/// Reads one side's blob, truncated past the limit; `(bytes, size)`.
fn read_side(
    repo: &Repository,
    side: Option<&Side>,
    limits: &ContentLimits,
) -> Result<(Option<Vec<u8>>, u64), Error> {
    let Some(side) = side.filter(|s| s.kind != EntryKind::Submodule) else {
        return Ok((None, 0));
    };
    let blob = repo.find_blob(side.oid).map_err(|_| Error::MissingObject {
        oid: side.oid.to_string(),
        path: side.path.display(),
        hint: fetch_hint(repo.is_shallow()),
    })?;
    let bytes = blob.content();
    let size = bytes.len() as u64;
    let kept = if size > limits.max_text_bytes {
        &bytes[..bytes.len().min(8000)]
    } else {
        bytes
    };
    Ok((Some(kept.to_vec()), size))
}

/// Reads both blobs of `change`.
pub(crate) fn read_blobs(
    repo: &Repository,
    change: &Change,
    limits: &ContentLimits,
) -> Result<Blobs, Error> {
    let (old, old_size) = read_side(repo, change.old.as_ref(), limits)?;
    let (new, new_size) = read_side(repo, change.new.as_ref(), limits)?;
    let same = matches!((&change.old, &change.new), (Some(o), Some(n)) if o.oid == n.oid);
    Ok(Blobs {
        old,
        new,
        old_size,
        new_size,
        same,
    })
}

impl Content {
    /// Diffs the blobs line by line (pure computation: any thread may run it).
    pub fn from_blobs(blobs: Blobs, limits: &ContentLimits) -> Content {
        let old = blobs.old.as_deref().unwrap_or_default();
        let new = blobs.new.as_deref().unwrap_or_default();
        let mut content = Content {
            old_size: blobs.old_size,
            new_size: blobs.new_size,
            binary: is_binary(old) || is_binary(new),
            too_large: blobs.old_size > limits.max_text_bytes
                || blobs.new_size > limits.max_text_bytes,
            ..Content::default()
        };
        if content.binary || content.too_large {
            return content;
        }
        match (&blobs.old, &blobs.new) {
            // Both sides: a line diff of the bytes we already hold. (libgit2's blob diff APIs
            // either re-hash both buffers or look up .gitattributes for every file; both cost
            // more than the diff itself.)
            (Some(_), Some(_)) if !blobs.same => {
                let input = InternedInput::new(old, new);
                let diff = Diff::compute(Algorithm::Histogram, &input);
                for hunk in diff.hunks() {
                    for i in hunk.before {
                        content.removed.push(Line {
                            number: i + 1,
                            text: trim_eol(input.interner[input.before[i as usize]]),
                        });
                    }
                    for i in hunk.after {
                        content.added.push(Line {
                            number: i + 1,
                            text: trim_eol(input.interner[input.after[i as usize]]),
                        });
                    }
                }
            }
            // One side only: every line is added (or removed); no diff needed.
            (None, Some(_)) => content.added = all_lines(new),
            (Some(_), None) => content.removed = all_lines(old),
            _ => {}
        }
        content.old_text = blobs.old.unwrap_or_default();
        content.new_text = blobs.new.unwrap_or_default();
        content
    }
}

/// Every line of `bytes`, numbered from 1 (a final newline ends the last line, as in git).
fn all_lines(bytes: &[u8]) -> Vec<Line> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    body.split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| Line {
            number: i as u32 + 1,
            text: trim_eol(line),
        })
        .collect()
}

fn trim_eol(bytes: &[u8]) -> String {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modified_files_give_added_and_removed_lines_with_numbers() {
        let dir = std::env::temp_dir().join(format!("cavra-content-{}", std::process::id()));
        let repo = Repository::init(&dir).unwrap();
        let old = repo.blob(b"a\nb\nc\nd\n").unwrap();
        let new = repo.blob(b"a\nB\nc\nd\ne\n").unwrap();
        let side = |oid| crate::Side {
            path: crate::RepoPath::from("f"),
            mode: 0o100644,
            kind: EntryKind::File,
            oid,
        };
        let change = Change {
            kind: crate::ChangeKind::Modified,
            old: Some(side(old)),
            new: Some(side(new)),
            similarity: None,
        };
        let limits = ContentLimits::default();
        let c = Content::from_blobs(read_blobs(&repo, &change, &limits).unwrap(), &limits);
        let pairs = |v: &[Line]| {
            v.iter()
                .map(|l| (l.number, l.text.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(pairs(&c.removed), vec![(2, "b".to_string())]);
        assert_eq!(
            pairs(&c.added),
            vec![(2, "B".to_string()), (5, "e".to_string())]
        );
        assert_eq!((c.old_size, c.new_size), (8, 10));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn lines_of_a_whole_file() {
        let texts = |b: &[u8]| {
            all_lines(b)
                .into_iter()
                .map(|l| (l.number, l.text))
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(b""), vec![]);
        assert_eq!(texts(b"a\n"), vec![(1, "a".to_string())]);
        assert_eq!(
            texts(b"a\r\nb"),
            vec![(1, "a".to_string()), (2, "b".to_string())]
        );
        assert_eq!(texts(b"\n\n"), vec![(1, String::new()), (2, String::new())]);
    }
}
