use cavra_release::tarball::{Limits, TarError, extract, pack};
use cavra_testkit::fuzz;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::{Path, PathBuf};
use tar::{EntryType, Header};

/// A header whose name bytes are written as given (the `tar` crate's `set_path` refuses the
/// malicious ones we want to build).
fn header(name: &[u8], kind: EntryType, size: u64) -> Header {
    let mut h = Header::new_old();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    h
}

fn link(name: &[u8], kind: EntryType, target: &[u8]) -> Header {
    let mut h = header(name, kind, 0);
    h.as_old_mut().linkname[..target.len()].copy_from_slice(target);
    h.set_cksum();
    h
}

/// A plain tarball of (header, body) pairs, written without any checks.
fn tarball(entries: &[(Header, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (h, body) in entries {
        b.append(h, *body).unwrap();
    }
    b.into_inner().unwrap()
}

fn try_extract(
    bytes: &[u8],
    limits: &Limits,
) -> (tempfile::TempDir, Result<Vec<PathBuf>, TarError>) {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("packet.tar");
    std::fs::write(&archive, bytes).unwrap();
    let r = extract(&archive, &dir.path().join("out"), limits);
    (dir, r)
}

fn a_packet(dir: &Path) {
    let w = |rel: &str, body: &[u8]| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    };
    w(
        "packet.json",
        br#"{"name":"cavra","version":"1.0.0","artifacts":[]}"#,
    );
    w(
        "packet.sigstore.json",
        br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#,
    );
    w(
        "sbom.cdx.json",
        br#"{"bomFormat":"CycloneDX","specVersion":"1.6"}"#,
    );
    w("artifacts/cavra-linux-x86_64", &vec![0x7f; 3000]);
    w("artifacts/docs/README.txt", b"hello\n");
    w("verdicts/0123456789abcdef.sigstore.json", b"{}");
    w("RELEASE.md", b"# cavra 1.0.0\n");
    // Over 100 bytes: a GNU long-name header.
    w(
        &format!(
            "artifacts/{}/cavra.tar.gz",
            "a-rather-long-directory-name".repeat(4)
        ),
        b"long",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("artifacts/cavra-linux-x86_64");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}

#[test]
fn round_trip_plain_and_gzip_deterministic() {
    let src = tempfile::tempdir().unwrap();
    a_packet(src.path());
    for gzip in [false, true] {
        let work = tempfile::tempdir().unwrap();
        let a = work.path().join("a");
        let b = work.path().join("b");
        let names = pack(src.path(), &a, gzip.then_some(6), &|_| {}).unwrap();
        assert_eq!(names.len(), 8);
        assert!(names.iter().any(|n| n.len() > 100));
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        pack(src.path(), &b, gzip.then_some(6), &|_| {}).unwrap();
        assert_eq!(
            std::fs::read(&a).unwrap(),
            std::fs::read(&b).unwrap(),
            "deterministic"
        );
        let out = work.path().join("out");
        let got = extract(&a, &out, &Limits::default()).unwrap();
        let got: Vec<String> = got
            .iter()
            .map(|p| p.to_str().unwrap().to_string())
            .collect();
        assert_eq!(got, names);
        for n in &names {
            assert_eq!(
                std::fs::read(src.path().join(n)).unwrap(),
                std::fs::read(out.join(n)).unwrap(),
                "{n}"
            );
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &str| std::fs::metadata(out.join(p)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode("artifacts/cavra-linux-x86_64") & 0o111, 0o111);
            assert_eq!(mode("RELEASE.md") & 0o111, 0);
        }
        // The destination must be fresh.
        assert!(matches!(
            extract(&a, &out, &Limits::default()),
            Err(TarError::NotFresh(_))
        ));
    }
}

#[test]
fn parent_components_are_refused() {
    let bytes = tarball(&[(header(b"../evil", EntryType::Regular, 4), b"evil")]);
    let (dir, r) = try_extract(&bytes, &Limits::default());
    assert!(
        matches!(&r, Err(TarError::ParentDir { name }) if name == "../evil"),
        "{r:?}"
    );
    assert!(!dir.path().join("evil").exists());
    let bytes = tarball(&[(header(b"a/../../evil", EntryType::Regular, 4), b"evil")]);
    let (_d, r) = try_extract(&bytes, &Limits::default());
    assert!(matches!(&r, Err(TarError::ParentDir { .. })), "{r:?}");
}

#[test]
fn absolute_paths_are_refused() {
    let bytes = tarball(&[(header(b"/etc/x", EntryType::Regular, 4), b"evil")]);
    let (_d, r) = try_extract(&bytes, &Limits::default());
    assert!(
        matches!(&r, Err(TarError::Absolute { name }) if name == "/etc/x"),
        "{r:?}"
    );
    let err = r.unwrap_err().to_string();
    assert!(err.contains("/etc/x"), "{err}");
}

#[test]
fn links_and_special_files_are_refused() {
    let bytes = tarball(&[(link(b"passwd", EntryType::Symlink, b"/etc/passwd"), b"")]);
    let (dir, r) = try_extract(&bytes, &Limits::default());
    assert!(
        matches!(&r, Err(TarError::Symlink { name }) if name == "passwd"),
        "{r:?}"
    );
    assert!(std::fs::symlink_metadata(dir.path().join("out/passwd")).is_err());

    let bytes = tarball(&[
        (header(b"a", EntryType::Regular, 1), b"a"),
        (link(b"b", EntryType::Link, b"a"), b""),
    ]);
    let (dir, r) = try_extract(&bytes, &Limits::default());
    assert!(
        matches!(&r, Err(TarError::HardLink { name }) if name == "b"),
        "{r:?}"
    );
    // What was extracted before the refusal is removed again.
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        0
    );

    for kind in [EntryType::Char, EntryType::Block, EntryType::Fifo] {
        let bytes = tarball(&[(header(b"dev", kind, 0), b"")]);
        let (_d, r) = try_extract(&bytes, &Limits::default());
        assert!(
            matches!(&r, Err(TarError::Special { name }) if name == "dev"),
            "{r:?}"
        );
    }
}

#[test]
fn duplicates_and_bad_names_are_refused() {
    let bytes = tarball(&[
        (header(b"x", EntryType::Regular, 1), b"1"),
        (header(b"./x", EntryType::Regular, 1), b"2"),
    ]);
    let (_d, r) = try_extract(&bytes, &Limits::default());
    assert!(
        matches!(&r, Err(TarError::Duplicate { name }) if name == "./x"),
        "{r:?}"
    );

    let bytes = tarball(&[(header(b"bad\xff", EntryType::Regular, 1), b"1")]);
    let (_d, r) = try_extract(&bytes, &Limits::default());
    assert!(matches!(&r, Err(TarError::NotUtf8 { .. })), "{r:?}");

    let bytes = tarball(&[(header(b"bad\x1bname", EntryType::Regular, 1), b"1")]);
    let (_d, r) = try_extract(&bytes, &Limits::default());
    assert!(
        matches!(&r, Err(TarError::BadName { name }) if name == "bad\u{1b}name"),
        "{r:?}"
    );
}

#[test]
fn a_huge_header_size_is_refused_before_reading() {
    // 10 GB declared, 10 bytes of body.
    let bytes = tarball(&[(
        header(b"big", EntryType::Regular, 10_000_000_000),
        b"0123456789",
    )]);
    let (dir, r) = try_extract(&bytes, &Limits::default());
    assert!(
        matches!(&r, Err(TarError::EntryTooLarge { name, size: 10_000_000_000, .. }) if name == "big"),
        "{r:?}"
    );
    assert!(!dir.path().join("out/big").exists());

    // Each file under the per-entry limit, together over the total.
    let limits = Limits {
        max_entries: 100,
        max_entry_bytes: 100,
        max_total_bytes: 250,
    };
    let body = [7u8; 100];
    let bytes = tarball(&[
        (header(b"a", EntryType::Regular, 100), &body),
        (header(b"b", EntryType::Regular, 100), &body),
        (header(b"c", EntryType::Regular, 100), &body),
    ]);
    let (_d, r) = try_extract(&bytes, &limits);
    assert!(
        matches!(&r, Err(TarError::TotalTooLarge { name, limit: 250 }) if name == "c"),
        "{r:?}"
    );
}

#[test]
fn a_gzip_stream_of_many_entries_is_refused() {
    let mut b = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::best()));
    for i in 0..5000 {
        b.append(
            &header(format!("f{i}").as_bytes(), EntryType::Regular, 0),
            &b""[..],
        )
        .unwrap();
    }
    let mut gz = b.into_inner().unwrap();
    gz.flush().unwrap();
    let bytes = gz.finish().unwrap();
    let limits = Limits {
        max_entries: 1000,
        ..Limits::default()
    };
    let (dir, r) = try_extract(&bytes, &limits);
    assert!(
        matches!(&r, Err(TarError::TooManyEntries { name, limit: 1000 }) if name == "f1000"),
        "{r:?}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        0
    );
}

/// Every path under `dir`, and that none is a link.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        assert!(!t.is_symlink(), "{:?} is a link", e.path());
        out.push(e.path());
        if t.is_dir() {
            out.extend(tree(&e.path()));
        }
    }
    out
}

#[test]
fn fuzz_mutated_packets() {
    let src = tempfile::tempdir().unwrap();
    a_packet(src.path());
    let seeds: Vec<Vec<u8>> = [false, true]
        .iter()
        .map(|&gz| {
            let work = tempfile::tempdir().unwrap();
            let p = work.path().join(if gz { "p.tar.gz" } else { "p.tar" });
            pack(src.path(), &p, gz.then_some(1), &|_| {}).unwrap();
            std::fs::read(&p).unwrap()
        })
        .collect();
    let tokens: &[&[u8]] = &[
        b"../",
        b"/",
        b"..",
        b"2",
        b"1",
        b"5",
        b"\0",
        b"\xff",
        b"77777777777",
    ];
    let limits = Limits {
        max_entries: 64,
        max_entry_bytes: 1 << 20,
        max_total_bytes: 4 << 20,
    };
    let mut rng = fuzz::Rng(0x5eed_7a4b);
    let rounds = fuzz::rounds(500);
    let (mut ok, mut refused) = (0, 0);
    for round in 0..rounds {
        let seed = rng.pick(&seeds).clone();
        let bytes = fuzz::mutate(&mut rng, &seed, tokens);
        let outer = tempfile::tempdir().unwrap();
        let jail = outer.path().join("jail");
        std::fs::create_dir(&jail).unwrap();
        let archive = outer.path().join("in.tar");
        std::fs::write(&archive, &bytes).unwrap();
        let into = jail.join("into");
        match extract(&archive, &into, &limits) {
            Ok(files) => {
                ok += 1;
                for f in files {
                    assert!(into.join(&f).starts_with(&into), "round {round}: {f:?}");
                }
            }
            Err(_) => refused += 1,
        }
        // Nothing beside `into`, nothing beside the archive, no links inside.
        let beside: Vec<_> = std::fs::read_dir(&jail)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(beside, vec!["into"], "round {round}");
        let mut outer_names: Vec<_> = std::fs::read_dir(outer.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        outer_names.sort();
        assert_eq!(outer_names, vec!["in.tar", "jail"], "round {round}");
        tree(&into);
    }
    assert_eq!(ok + refused, rounds);
    eprintln!("fuzz: {rounds} rounds, {ok} extracted, {refused} refused");
}

/// One PAX record, `LEN key=value\n`, LEN counting itself.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let rest = format!(" {key}={value}\n");
    let mut len = rest.len() + 1;
    while format!("{len}").len() + rest.len() != len {
        len += 1;
    }
    format!("{len}{rest}").into_bytes()
}

#[test]
fn extension_headers_are_checked() {
    // A PAX path is the name that counts, and is checked.
    let rec = pax_record("path", "../evil");
    let bytes = tarball(&[
        (
            header(b"PaxHeaders/x", EntryType::XHeader, rec.len() as u64),
            &rec,
        ),
        (header(b"harmless", EntryType::Regular, 4), b"evil"),
    ]);
    let (_d, r) = try_extract(&bytes, &Limits::default());
    assert!(
        matches!(&r, Err(TarError::ParentDir { name }) if name == "../evil"),
        "{r:?}"
    );

    // A GNU long name likewise.
    let long = b"/etc/cron.d/evil";
    let bytes = tarball(&[
        (
            header(b"././@LongLink", EntryType::GNULongName, long.len() as u64),
            long,
        ),
        (header(b"harmless", EntryType::Regular, 4), b"evil"),
    ]);
    let (_d, r) = try_extract(&bytes, &Limits::default());
    assert!(
        matches!(&r, Err(TarError::Absolute { name }) if name == "/etc/cron.d/evil"),
        "{r:?}"
    );

    // A huge extension header is refused before it is read into memory.
    let bytes = tarball(&[(
        header(b"PaxHeaders/big", EntryType::XHeader, 1 << 30),
        b"10 a=bcd\n",
    )]);
    let (_d, r) = try_extract(&bytes, &Limits::default());
    assert!(
        matches!(&r, Err(TarError::Extension { name, .. }) if name == "PaxHeaders/big"),
        "{r:?}"
    );

    // A PAX size that disagrees with the header is refused.
    let rec = pax_record("size", "99999999999");
    let bytes = tarball(&[
        (
            header(b"PaxHeaders/s", EntryType::XHeader, rec.len() as u64),
            &rec,
        ),
        (header(b"file", EntryType::Regular, 4), b"data"),
    ]);
    let (_d, r) = try_extract(&bytes, &Limits::default());
    assert!(
        matches!(&r, Err(TarError::Extension { name, .. }) if name == "file"),
        "{r:?}"
    );

    // A PAX path that is fine is used.
    let rec = pax_record("path", "dir/fine.txt");
    let bytes = tarball(&[
        (
            header(b"PaxHeaders/ok", EntryType::XHeader, rec.len() as u64),
            &rec,
        ),
        (header(b"ignored", EntryType::Regular, 2), b"ok"),
    ]);
    let (dir, r) = try_extract(&bytes, &Limits::default());
    assert_eq!(r.unwrap(), vec![PathBuf::from("dir/fine.txt")]);
    assert_eq!(
        std::fs::read(dir.path().join("out/dir/fine.txt")).unwrap(),
        b"ok"
    );
}
