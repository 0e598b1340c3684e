//! Hashes the files listed in `CAVRA_DIGEST_FILES` (one path a line) with `digest_files` over
//! `CAVRA_DIGEST_THREADS` threads (default: the available cores) and prints one JSON line: bytes,
//! seconds, MB/s and the peak resident set (VmHWM). Driven by
//! `bench/release_hash_vs_sha256sum.py`; without the variable it hashes a small generated file.

use cavra_release::digest::digest_files;
use std::path::PathBuf;
use std::time::Instant;

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let _tmp;
    let paths: Vec<PathBuf> = match std::env::var("CAVRA_DIGEST_FILES") {
        Ok(list) => list
            .lines()
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect(),
        Err(_) => {
            let dir = tempfile::tempdir().expect("temp dir");
            let p = dir.path().join("sample");
            std::fs::write(&p, vec![0x5a; 64 << 20]).expect("write sample");
            _tmp = dir;
            vec![p]
        }
    };
    let threads = std::env::var("CAVRA_DIGEST_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let start = Instant::now();
    let digests = digest_files(&paths, threads, &|_| {}).expect("hashing failed");
    let secs = start.elapsed().as_secs_f64();
    let bytes: u64 = digests.iter().map(|d| d.size).sum();
    println!(
        "{{\"files\":{},\"threads\":{},\"bytes\":{},\"seconds\":{:.4},\"mb_per_s\":{:.1},\"vm_hwm_kib\":{}}}",
        digests.len(),
        threads,
        bytes,
        secs,
        bytes as f64 / secs / 1e6,
        vm_hwm_kib().unwrap_or(0)
    );
}
