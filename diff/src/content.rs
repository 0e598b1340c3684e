//! The added and removed lines of one change, loaded on demand.

use crate::Error;
use crate::change::{Change, EntryKind, Side};
use crate::error::fetch_hint;
use git2::{DiffOptions, Patch, Repository};

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

fn blob_bytes(repo: &Repository, side: Option<&Side>) -> Result<Vec<u8>, Error> {
    let Some(side) = side else {
        return Ok(Vec::new());
    };
    if side.kind == EntryKind::Submodule {
        return Ok(Vec::new());
    }
    match repo.find_blob(side.oid) {
        Ok(blob) => Ok(blob.content().to_vec()),
        Err(_) => Err(Error::MissingObject {
            oid: side.oid.to_string(),
            path: side.path.display(),
            hint: fetch_hint(repo.is_shallow()),
        }),
    }
}

/// Loads both sides of `change` and diffs them.
pub(crate) fn load(
    repo: &Repository,
    change: &Change,
    limits: &ContentLimits,
) -> Result<Content, Error> {
    let mut content = Content::default();
    let odb = repo.odb()?;
    for side in [&change.old, &change.new].into_iter().flatten() {
        if side.kind != EntryKind::Submodule
            && let Ok((size, _)) = odb.read_header(side.oid)
            && size as u64 > limits.max_text_bytes
        {
            content.too_large = true;
            content.binary = content.binary
                || repo
                    .find_blob(side.oid)
                    .map(|b| is_binary(b.content()))
                    .unwrap_or(false);
        }
    }
    if content.too_large {
        return Ok(content);
    }
    let old = blob_bytes(repo, change.old.as_ref())?;
    let new = blob_bytes(repo, change.new.as_ref())?;
    if is_binary(&old) || is_binary(&new) {
        content.binary = true;
        return Ok(content);
    }
    if old != new {
        let mut opts = DiffOptions::new();
        opts.context_lines(0).force_text(true);
        let patch = Patch::from_buffers(&old, None, &new, None, Some(&mut opts))?;
        for hunk in 0..patch.num_hunks() {
            for idx in 0..patch.num_lines_in_hunk(hunk)? {
                let line = patch.line_in_hunk(hunk, idx)?;
                let text = trim_eol(line.content());
                match (line.origin(), line.new_lineno(), line.old_lineno()) {
                    ('+', Some(n), _) => content.added.push(Line { number: n, text }),
                    ('-', _, Some(n)) => content.removed.push(Line { number: n, text }),
                    _ => {}
                }
            }
        }
    }
    content.old_text = old;
    content.new_text = new;
    Ok(content)
}

fn trim_eol(bytes: &[u8]) -> String {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}
