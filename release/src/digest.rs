//! Parallel, bounded-memory file hashing: every file is read once, in fixed-size chunks, and each
//! chunk feeds SHA-256 and SHA-512 together. Files are spread over a fixed number of worker
//! threads; the results come back in input order.

use sha2::{Digest, Sha256, Sha512};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// The size of the read buffer (one per worker thread), whatever the size of the file.
pub const CHUNK: usize = 1 << 20;

/// One file's size and digests (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub sha512: String,
}

/// A file that could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("cannot hash {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("a worker thread panicked while hashing")]
    Panicked,
}

/// The size, SHA-256 and SHA-512 of everything `r` yields, read in [`CHUNK`]-sized pieces.
pub fn digest_reader(mut r: impl Read) -> io::Result<(u64, String, String)> {
    let mut buf = vec![0u8; CHUNK];
    digest_with(&mut r, &mut buf)
}

fn digest_with(r: &mut impl Read, buf: &mut [u8]) -> io::Result<(u64, String, String)> {
    let mut s256 = Sha256::new();
    let mut s512 = Sha512::new();
    let mut size = 0u64;
    loop {
        let n = match r.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        s256.update(&buf[..n]);
        s512.update(&buf[..n]);
        size += n as u64;
    }
    Ok((
        size,
        hex::encode(s256.finalize()),
        hex::encode(s512.finalize()),
    ))
}

fn digest_path(path: &Path, buf: &mut [u8]) -> Result<FileDigest, DigestError> {
    let io_err = |source| DigestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = File::open(path).map_err(io_err)?;
    let (size, sha256, sha512) = digest_with(&mut f, buf).map_err(io_err)?;
    Ok(FileDigest {
        path: path.to_path_buf(),
        size,
        sha256,
        sha512,
    })
}

/// Hashes `paths` over `threads` worker threads (at least one, at most one per file), calling
/// `progress` (on the calling thread) with the size of each file once it is hashed. The results
/// are in input order; the first error (in input order) is returned, naming the file.
pub fn digest_files(
    paths: &[PathBuf],
    threads: usize,
    progress: &dyn Fn(u64),
) -> Result<Vec<FileDigest>, DigestError> {
    let threads = threads.max(1).min(paths.len().max(1));
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<Result<FileDigest, DigestError>>> =
        paths.iter().map(|_| None).collect();
    let panicked = std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let tx = tx.clone();
                let next = &next;
                s.spawn(move || {
                    let mut buf = vec![0u8; CHUNK];
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = paths.get(i) else { break };
                        if tx.send((i, digest_path(path, &mut buf))).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        for (i, r) in rx {
            if let Ok(d) = &r {
                progress(d.size);
            }
            results[i] = Some(r);
        }
        handles.into_iter().any(|h| h.join().is_err())
    });
    if panicked {
        return Err(DigestError::Panicked);
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or(Err(DigestError::Panicked)))
        .collect()
}
