//! Packet tarballs (`.tar` or `.tar.gz`): [`extract`] reads one, streaming, into a fresh directory
//! and refuses anything that could write outside it or exhaust the disk; [`pack`] writes a
//! deterministic one from a directory's regular files.

use flate2::Compression;
use flate2::read::GzDecoder;
use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};
use tar::EntryType;

/// What [`extract`] accepts at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Entries of any kind (files and directories).
    pub max_entries: usize,
    /// Bytes of one file.
    pub max_entry_bytes: u64,
    /// Bytes of all files together.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    /// 10,000 entries, 4 GiB per file, 16 GiB in all.
    fn default() -> Self {
        Limits {
            max_entries: 10_000,
            max_entry_bytes: 4 << 30,
            max_total_bytes: 16 << 30,
        }
    }
}

/// Why a tarball was refused or could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TarError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("reading the archive: {0}")]
    Archive(#[source] io::Error),
    #[error("{0}: the destination must be a new or empty directory")]
    NotFresh(PathBuf),
    #[error("entry {name:?}: the name is not UTF-8")]
    NotUtf8 { name: String },
    #[error("entry {name:?}: the name is empty or has a NUL or control character")]
    BadName { name: String },
    #[error("entry {name:?}: absolute path")]
    Absolute { name: String },
    #[error("entry {name:?}: `..` component")]
    ParentDir { name: String },
    #[error("entry {name:?}: symbolic link")]
    Symlink { name: String },
    #[error("entry {name:?}: hard link")]
    HardLink { name: String },
    #[error("entry {name:?}: device or fifo")]
    Special { name: String },
    #[error("entry {name:?}: unsupported entry type {kind}")]
    Unsupported { name: String, kind: u8 },
    #[error("entry {name:?}: duplicate name")]
    Duplicate { name: String },
    #[error("entry {name:?}: more than {limit} entries")]
    TooManyEntries { name: String, limit: usize },
    #[error("entry {name:?}: {size} bytes, over the limit of {limit} per entry")]
    EntryTooLarge { name: String, size: u64, limit: u64 },
    #[error("entry {name:?}: the archive's files total more than {limit} bytes")]
    TotalTooLarge { name: String, limit: u64 },
    #[error("entry {name:?}: a parent is not a directory")]
    NotADirectory { name: String },
    #[error("entry {name:?}: extension header: {reason}")]
    Extension { name: String, reason: &'static str },
    #[error("{0}: not a regular file or directory, cannot pack it")]
    CannotPack(PathBuf),
}

/// The largest GNU long-name or PAX extension header read (they are held in memory).
pub const MAX_EXTENSION_BYTES: u64 = 64 << 10;

/// Stops the raw (decompressed) stream after `left` bytes, so that neither a gzip bomb nor a
/// huge extension header can make the reader run unbounded.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other(
                "the archive stream is over the size limit",
            ));
        }
        let max = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// The name as a relative path of normal components, or why not.
fn check_name(raw: &[u8]) -> Result<(String, PathBuf), TarError> {
    let lossy = || String::from_utf8_lossy(raw).into_owned();
    let name = std::str::from_utf8(raw).map_err(|_| TarError::NotUtf8 { name: lossy() })?;
    let name_s = name.to_string();
    if name.is_empty() || name.chars().any(|c| c.is_control()) {
        return Err(TarError::BadName { name: name_s });
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return Err(TarError::Absolute { name: name_s });
    }
    let mut rel = PathBuf::new();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return Err(TarError::ParentDir { name: name_s }),
            p => {
                // One component, nothing Windows would read as a drive or root.
                let mut c = Path::new(p).components();
                match (c.next(), c.next()) {
                    (Some(Component::Normal(_)), None) if !p.contains(':') => rel.push(p),
                    _ => return Err(TarError::BadName { name: name_s }),
                }
            }
        }
    }
    if rel.as_os_str().is_empty() {
        return Err(TarError::BadName { name: name_s });
    }
    Ok((name_s, rel))
}

/// Creates `rel`'s directories under `root` one by one, refusing anything that is not a plain
/// directory (so a link, had one got there, is never followed).
fn make_dirs(root: &Path, rel: &Path, name: &str) -> Result<(), TarError> {
    let mut at = root.to_path_buf();
    for c in rel.components() {
        at.push(c);
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(_) => {
                return Err(TarError::NotADirectory {
                    name: name.to_string(),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&at).map_err(|source| TarError::Io {
                    path: at.clone(),
                    source,
                })?
            }
            Err(source) => return Err(TarError::Io { path: at, source }),
        }
    }
    Ok(())
}

fn open_archive(archive: &Path) -> Result<Box<dyn Read>, TarError> {
    let io_err = |source| TarError::Io {
        path: archive.to_path_buf(),
        source,
    };
    let mut f = BufReader::new(File::open(archive).map_err(io_err)?);
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match f.get_mut().read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(e)),
        }
    }
    let head = io::Cursor::new(magic[..got].to_vec()).chain(f);
    if got == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(GzDecoder::new(head)))
    } else {
        Ok(Box::new(head))
    }
}

/// Extracts `archive` (plain or gzip-compressed, told apart by its first bytes) into `into`,
/// which must not exist or be an empty directory, and returns the files written (relative to
/// `into`, in archive order). Only regular files and directories are accepted; every refusal
/// names the entry. On error, what was extracted so far is removed again.
pub fn extract(archive: &Path, into: &Path, limits: &Limits) -> Result<Vec<PathBuf>, TarError> {
    match fs::symlink_metadata(into) {
        Ok(m) if m.file_type().is_dir() => {
            let mut it = fs::read_dir(into).map_err(|source| TarError::Io {
                path: into.to_path_buf(),
                source,
            })?;
            if it.next().is_some() {
                return Err(TarError::NotFresh(into.to_path_buf()));
            }
        }
        Ok(_) => return Err(TarError::NotFresh(into.to_path_buf())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir(into).map_err(|source| TarError::Io {
                path: into.to_path_buf(),
                source,
            })?
        }
        Err(source) => {
            return Err(TarError::Io {
                path: into.to_path_buf(),
                source,
            });
        }
    }
    let result = extract_into(archive, into, limits);
    if result.is_err() {
        // Nothing in `into` can be a link, so this stays inside it.
        if let Ok(entries) = fs::read_dir(into) {
            for e in entries.flatten() {
                let p = e.path();
                let _ = match e.file_type() {
                    Ok(t) if t.is_dir() => fs::remove_dir_all(&p),
                    _ => fs::remove_file(&p),
                };
            }
        }
    }
    result
}

fn extract_into(archive: &Path, into: &Path, limits: &Limits) -> Result<Vec<PathBuf>, TarError> {
    let stream = Capped {
        inner: open_archive(archive)?,
        left: limits
            .max_total_bytes
            .saturating_add((limits.max_entries as u64).saturating_mul(4096))
            .saturating_add(1 << 20),
    };
    let mut ar = tar::Archive::new(stream);
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut written = Vec::new();
    let mut total = 0u64;
    let mut count = 0usize;
    // Extension headers are handled here, not by the `tar` crate, so that their size is checked
    // before they are read into memory.
    let mut long_name: Option<Vec<u8>> = None;
    let mut pax_path: Option<Vec<u8>> = None;
    let mut pax_size: Option<u64> = None;
    let mut extensions = 0usize;
    for entry in ar.entries().map_err(TarError::Archive)?.raw(true) {
        let mut entry = entry.map_err(TarError::Archive)?;
        let kind = entry.header().entry_type();
        if kind.is_gnu_longname()
            || kind.is_gnu_longlink()
            || kind.is_pax_local_extensions()
            || kind.is_pax_global_extensions()
        {
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let ext_err = |reason| TarError::Extension {
                name: name.clone(),
                reason,
            };
            extensions += 1;
            if extensions > 4 {
                return Err(ext_err("more than four in a row"));
            }
            if entry.size() > MAX_EXTENSION_BYTES {
                return Err(ext_err("over 64 KiB"));
            }
            let mut data = Vec::new();
            entry.read_to_end(&mut data).map_err(TarError::Archive)?;
            if kind.is_gnu_longname() {
                if long_name.is_some() {
                    return Err(ext_err("two long names for one entry"));
                }
                while data.last() == Some(&0) {
                    data.pop();
                }
                long_name = Some(data);
            } else if kind.is_pax_local_extensions() {
                for ext in tar::PaxExtensions::new(&data) {
                    let ext = ext.map_err(|_| ext_err("malformed PAX record"))?;
                    match ext.key_bytes() {
                        b"path" => pax_path = Some(ext.value_bytes().to_vec()),
                        b"size" => {
                            let v = std::str::from_utf8(ext.value_bytes())
                                .ok()
                                .and_then(|v| v.parse().ok())
                                .ok_or_else(|| ext_err("malformed PAX size"))?;
                            pax_size = Some(v);
                        }
                        _ => {}
                    }
                }
            }
            continue;
        }
        extensions = 0;
        let raw_name = match (pax_path.take(), long_name.take()) {
            (Some(p), _) | (None, Some(p)) => p,
            (None, None) => entry.path_bytes().into_owned(),
        };
        let (name, rel) = check_name(&raw_name)?;
        if pax_size.take().is_some_and(|s| s != entry.size()) {
            // The data would be framed by a size the header does not hold: not supported.
            return Err(TarError::Extension {
                name,
                reason: "PAX size differs from the header's",
            });
        }
        count += 1;
        if count > limits.max_entries {
            return Err(TarError::TooManyEntries {
                name,
                limit: limits.max_entries,
            });
        }
        match kind {
            EntryType::Regular | EntryType::Continuous | EntryType::Directory => {}
            EntryType::Symlink => return Err(TarError::Symlink { name }),
            EntryType::Link => return Err(TarError::HardLink { name }),
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                return Err(TarError::Special { name });
            }
            other => {
                return Err(TarError::Unsupported {
                    name,
                    kind: other.as_byte(),
                });
            }
        }
        if !seen.insert(rel.clone()) {
            return Err(TarError::Duplicate { name });
        }
        if kind == EntryType::Directory {
            make_dirs(into, &rel, &name)?;
            continue;
        }
        let declared = entry.size();
        if declared > limits.max_entry_bytes {
            return Err(TarError::EntryTooLarge {
                name,
                size: declared,
                limit: limits.max_entry_bytes,
            });
        }
        if total.saturating_add(declared) > limits.max_total_bytes {
            return Err(TarError::TotalTooLarge {
                name,
                limit: limits.max_total_bytes,
            });
        }
        if let Some(parent) = rel.parent() {
            make_dirs(into, parent, &name)?;
        }
        let dest = into.join(&rel);
        let io_err = |source| TarError::Io {
            path: dest.clone(),
            source,
        };
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let exec = entry
                .header()
                .mode()
                .map(|m| m & 0o111 != 0)
                .unwrap_or(false);
            opts.mode(if exec { 0o755 } else { 0o644 });
        }
        let mut out = opts.open(&dest).map_err(io_err)?;
        // Count what is actually written, whatever the header said.
        let n = io::copy(
            &mut (&mut entry).take(limits.max_entry_bytes.saturating_add(1)),
            &mut out,
        )
        .map_err(TarError::Archive)?;
        if n > limits.max_entry_bytes {
            return Err(TarError::EntryTooLarge {
                name,
                size: n,
                limit: limits.max_entry_bytes,
            });
        }
        total = total.saturating_add(n);
        if total > limits.max_total_bytes {
            return Err(TarError::TotalTooLarge {
                name,
                limit: limits.max_total_bytes,
            });
        }
        written.push(rel);
    }
    Ok(written)
}

/// The regular files under `dir`, as sorted relative paths with `/` separators.
fn regular_files(dir: &Path) -> Result<Vec<String>, TarError> {
    fn walk(root: &Path, rel: &str, out: &mut Vec<String>) -> Result<(), TarError> {
        let here = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        let io_err = |source| TarError::Io {
            path: here.clone(),
            source,
        };
        for e in fs::read_dir(&here).map_err(io_err)? {
            let e = e.map_err(io_err)?;
            let t = e.file_type().map_err(io_err)?;
            let name = e
                .file_name()
                .into_string()
                .map_err(|_| TarError::CannotPack(e.path()))?;
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if t.is_dir() {
                walk(root, &r, out)?;
            } else if t.is_file() {
                out.push(r);
            } else {
                return Err(TarError::CannotPack(e.path()));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.sort();
    Ok(out)
}

/// Writes the regular files under `dir` to `out` as a deterministic tarball, gzip-compressed at
/// `gzip` level (0 stores, 9 compresses most) or plain when `None`: sorted names, mtime 0, uid/gid 0, no owner names, mode 0755 for files with an
/// executable bit and 0644 otherwise. Links and special files are refused. Returns the names
/// packed. `progress` is called with the bytes of file content packed as they are read.
pub fn pack(
    dir: &Path,
    out: &Path,
    gzip: Option<u32>,
    progress: &dyn Fn(u64),
) -> Result<Vec<String>, TarError> {
    let names = regular_files(dir)?;
    let out_err = |source| TarError::Io {
        path: out.to_path_buf(),
        source,
    };
    let file = BufWriter::new(File::create(out).map_err(out_err)?);
    let sink: Box<dyn Write> = match gzip {
        Some(level) => Box::new(
            flate2::GzBuilder::new()
                .mtime(0)
                .write(file, Compression::new(level.min(9))),
        ),
        None => Box::new(file),
    };
    let mut b = tar::Builder::new(sink);
    b.mode(tar::HeaderMode::Deterministic);
    for name in &names {
        let path = dir.join(name);
        let io_err = |source| TarError::Io {
            path: path.clone(),
            source,
        };
        let f = File::open(&path).map_err(io_err)?;
        let meta = f.metadata().map_err(io_err)?;
        #[cfg(unix)]
        let exec = {
            use std::os::unix::fs::PermissionsExt;
            meta.permissions().mode() & 0o111 != 0
        };
        #[cfg(not(unix))]
        let exec = false;
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(EntryType::Regular);
        h.set_size(meta.len());
        h.set_mode(if exec { 0o755 } else { 0o644 });
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        let counted = Counting {
            inner: f.take(meta.len()),
            progress,
        };
        b.append_data(&mut h, name, counted).map_err(io_err)?;
    }
    let mut sink = b.into_inner().map_err(out_err)?;
    sink.flush().map_err(out_err)?;
    drop(sink);
    Ok(names)
}

/// A reader that reports how many bytes it yields.
struct Counting<'a, R> {
    inner: R,
    progress: &'a dyn Fn(u64),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress)(n as u64);
        Ok(n)
    }
}
