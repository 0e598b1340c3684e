use cavra_release::digest::{DigestError, digest_files, digest_reader};
use std::cell::Cell;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

const EMPTY256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const EMPTY512: &str = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
const ABC256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const ABC512: &str = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

#[test]
fn known_vectors() {
    let (n, a, b) = digest_reader(&b""[..]).unwrap();
    assert_eq!((n, a.as_str(), b.as_str()), (0, EMPTY256, EMPTY512));
    let (n, a, b) = digest_reader(&b"abc"[..]).unwrap();
    assert_eq!((n, a.as_str(), b.as_str()), (3, ABC256, ABC512));
}

fn coreutils(tool: &str, path: &std::path::Path) -> Option<String> {
    let out = Command::new(tool).arg(path).output().ok()?;
    assert!(out.status.success());
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string(),
    )
}

#[test]
fn a_multi_mib_file_matches_coreutils() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    let mut f = std::fs::File::create(&path).unwrap();
    // 5 MiB + 17 bytes: several chunks and a partial one, with non-repeating-ish content.
    let mut x: u32 = 1;
    let data: Vec<u8> = (0..5 * 1024 * 1024 + 17)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    f.write_all(&data).unwrap();
    drop(f);
    let got = digest_files(std::slice::from_ref(&path), 2, &|_| {}).unwrap();
    assert_eq!(got[0].size, data.len() as u64);
    let (Some(s256), Some(s512)) = (coreutils("sha256sum", &path), coreutils("sha512sum", &path))
    else {
        eprintln!("sha256sum/sha512sum not installed: skipped the comparison");
        return;
    };
    assert_eq!(got[0].sha256, s256);
    assert_eq!(got[0].sha512, s512);
}

#[test]
fn order_is_preserved_with_several_threads() {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = (0..40)
        .map(|i| {
            let p = dir.path().join(format!("f{i}"));
            // Varying sizes so workers finish out of order.
            std::fs::write(&p, vec![i as u8; (40 - i) * 3000]).unwrap();
            p
        })
        .collect();
    let seen = Cell::new(0u64);
    let calls = Cell::new(0usize);
    let got = digest_files(&paths, 4, &|n| {
        seen.set(seen.get() + n);
        calls.set(calls.get() + 1);
    })
    .unwrap();
    assert_eq!(got.len(), paths.len());
    for (i, (d, p)) in got.iter().zip(&paths).enumerate() {
        assert_eq!(&d.path, p);
        let (n, a, b) = digest_reader(std::fs::File::open(p).unwrap()).unwrap();
        assert_eq!((d.size, &d.sha256, &d.sha512), (n, &a, &b), "file {i}");
    }
    assert_eq!(calls.get(), paths.len());
    assert_eq!(seen.get(), got.iter().map(|d| d.size).sum::<u64>());
    assert!(digest_files(&[], 4, &|_| {}).unwrap().is_empty());
}

#[test]
fn a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("ok");
    std::fs::write(&ok, b"abc").unwrap();
    let missing = dir.path().join("no-such-artifact.tar.gz");
    let err = digest_files(&[ok, missing.clone()], 2, &|_| {}).unwrap_err();
    assert!(matches!(&err, DigestError::Io { path, .. } if *path == missing));
    assert!(err.to_string().contains("no-such-artifact.tar.gz"), "{err}");
}
