//! Lockfile readers: Cargo.lock, package-lock.json (v2/v3), poetry.lock, requirements.txt (with
//! `--hash`) and go.sum. Lenient about what they do not need, bounded, and an error names the file
//! and line of malformed input.

use super::SbomError;
use base64::Engine;
use std::collections::BTreeMap;
use std::path::Path;

/// The largest lockfile read (32 MiB).
pub const MAX_LOCKFILE_BYTES: u64 = 32 << 20;
/// The most packages one lockfile may list.
pub const MAX_PACKAGES: usize = 100_000;

/// The kinds of lockfile, detected from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lockfile {
    Cargo,
    Npm,
    Poetry,
    Requirements,
    GoSum,
}

impl Lockfile {
    /// The kind of the lockfile at `path`, from its file name.
    pub fn detect(path: &Path) -> Option<Lockfile> {
        let name = path.file_name()?.to_str()?;
        Some(match name {
            "Cargo.lock" => Lockfile::Cargo,
            "package-lock.json" | "npm-shrinkwrap.json" => Lockfile::Npm,
            "poetry.lock" => Lockfile::Poetry,
            "go.sum" => Lockfile::GoSum,
            n if n.starts_with("requirements") && n.ends_with(".txt") => Lockfile::Requirements,
            _ => return None,
        })
    }
}

/// One package of a lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub purl: String,
    /// (CycloneDX algorithm name, lowercase hex), e.g. `("SHA-256", "ab12..")`.
    pub hashes: Vec<(String, String)>,
    /// The purls of the packages this one depends on.
    pub depends_on: Vec<String>,
}

/// Read the lockfile at `path` (its kind from its name).
pub fn read_lockfile(path: &Path) -> Result<Vec<Package>, SbomError> {
    let kind = Lockfile::detect(path).ok_or_else(|| SbomError::UnknownLockfile {
        path: path.to_path_buf(),
    })?;
    let bytes = super::read_bounded(path, MAX_LOCKFILE_BYTES)?;
    read_lockfile_bytes(kind, path, &bytes)
}

/// Read a lockfile of kind `kind` from `bytes`; `path` is only used in errors.
pub fn read_lockfile_bytes(
    kind: Lockfile,
    path: &Path,
    bytes: &[u8],
) -> Result<Vec<Package>, SbomError> {
    let err = |line: usize, message: String| SbomError::Malformed {
        path: path.to_path_buf(),
        line,
        message,
    };
    if bytes.len() as u64 > MAX_LOCKFILE_BYTES {
        return Err(SbomError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_LOCKFILE_BYTES,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        err(line, "not UTF-8".to_string())
    })?;
    let packages = match kind {
        Lockfile::Cargo => cargo(text, &err)?,
        Lockfile::Npm => npm(text, &err)?,
        Lockfile::Poetry => poetry(text, &err)?,
        Lockfile::Requirements => requirements(text, &err)?,
        Lockfile::GoSum => go_sum(text, &err)?,
    };
    if packages.len() > MAX_PACKAGES {
        return Err(err(0, format!("more than {MAX_PACKAGES} packages")));
    }
    Ok(packages)
}

type Err<'a> = &'a dyn Fn(usize, String) -> SbomError;

fn line_of(text: &str, offset: usize) -> usize {
    1 + text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// The line where `"key"` first appears (1 when it does not).
fn key_line(text: &str, key: &str) -> usize {
    let quoted = serde_json::to_string(key).unwrap_or_default();
    text.find(&quoted).map(|at| line_of(text, at)).unwrap_or(1)
}

/// Percent-encode a purl segment (name, namespace part or version).
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn purl(kind: &str, namespace: &[&str], name: &str, version: &str) -> String {
    let mut p = format!("pkg:{kind}/");
    for ns in namespace {
        p.push_str(&enc(ns));
        p.push('/');
    }
    p.push_str(&enc(name));
    p.push('@');
    p.push_str(&enc(version));
    p
}

fn toml_doc(text: &str, err: Err) -> Result<toml::Table, SbomError> {
    text.parse::<toml::Table>().map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
        err(line, e.message().to_string())
    })
}

fn toml_packages<'t>(doc: &'t toml::Table, err: Err) -> Result<Vec<&'t toml::Table>, SbomError> {
    match doc.get("package") {
        None => Ok(Vec::new()),
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_table()
                    .ok_or_else(|| err(1, "a [[package]] entry is not a table".to_string()))
            })
            .collect(),
        Some(_) => Err(err(1, "`package` is not an array of tables".to_string())),
    }
}

/// The line of the `index`th `[[package]]` header, for errors after parsing.
fn package_line(text: &str, index: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[package]]"))
        .nth(index)
        .map(|(n, _)| n + 1)
        .unwrap_or(0)
}

fn str_field<'t>(t: &'t toml::Table, key: &str) -> Option<&'t str> {
    t.get(key).and_then(toml::Value::as_str)
}

fn cargo(text: &str, err: Err) -> Result<Vec<Package>, SbomError> {
    let doc = toml_doc(text, err)?;
    let tables = toml_packages(&doc, err)?;
    let mut out = Vec::new();
    let mut by_name: BTreeMap<&str, Vec<(&str, usize)>> = BTreeMap::new();
    for (i, t) in tables.iter().enumerate() {
        let (Some(name), Some(version)) = (str_field(t, "name"), str_field(t, "version")) else {
            return Err(err(
                package_line(text, i),
                "a package without name or version".into(),
            ));
        };
        by_name.entry(name).or_default().push((version, i));
        let mut hashes = Vec::new();
        if let Some(sum) = str_field(t, "checksum") {
            if sum.len() != 64 || !sum.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err(
                    package_line(text, i),
                    format!("{name}: checksum is not sha256 hex"),
                ));
            }
            hashes.push(("SHA-256".to_string(), sum.to_ascii_lowercase()));
        }
        out.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            purl: purl("cargo", &[], name, version),
            hashes,
            depends_on: Vec::new(),
        });
    }
    for (i, t) in tables.iter().enumerate() {
        let deps = match t.get("dependencies") {
            None => continue,
            Some(toml::Value::Array(d)) => d,
            Some(_) => {
                return Err(err(
                    package_line(text, i),
                    "`dependencies` is not an array".into(),
                ));
            }
        };
        let mut depends_on = Vec::new();
        for d in deps {
            let Some(d) = d.as_str() else {
                return Err(err(
                    package_line(text, i),
                    "a dependency is not a string".into(),
                ));
            };
            // "name", "name version" or "name version (source)".
            let mut parts = d.split_whitespace();
            let name = parts.next().unwrap_or("");
            let version = parts.next();
            let candidates = by_name.get(name).map(Vec::as_slice).unwrap_or(&[]);
            let found = match version {
                Some(v) => candidates.iter().find(|(cv, _)| *cv == v),
                None if candidates.len() == 1 => candidates.first(),
                None => None,
            };
            match found {
                Some(&(_, j)) => depends_on.push(out[j].purl.clone()),
                None => {
                    return Err(err(
                        package_line(text, i),
                        format!("dependency {d:?} is not a package of the lockfile"),
                    ));
                }
            }
        }
        out[i].depends_on = depends_on;
    }
    Ok(out)
}

fn npm_purl(name: &str, version: &str) -> String {
    match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
        Some((scope, n)) => purl("npm", &[&format!("@{scope}")], n, version),
        None => purl("npm", &[], name, version),
    }
}

fn npm(text: &str, err: Err) -> Result<Vec<Package>, SbomError> {
    use serde_json::Value;
    let doc: Value = serde_json::from_str(text).map_err(|e| err(e.line(), e.to_string()))?;
    let lv = doc.get("lockfileVersion").and_then(Value::as_u64);
    let Some(packages) = doc.get("packages").and_then(Value::as_object) else {
        return Err(err(
            1,
            format!("no `packages` (lockfileVersion {lv:?}; only v2 and v3 are read)"),
        ));
    };
    // Install path -> index into out.
    let mut at: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::new();
    let mut deps_of = Vec::new();
    for (key, p) in packages {
        if key.is_empty() || !key.contains("node_modules/") {
            continue; // the root project, or a workspace folder
        }
        let Some(p) = p.as_object() else {
            return Err(err(
                key_line(text, key),
                format!("packages[{key:?}] is not an object"),
            ));
        };
        if p.get("link").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let from_key = key
            .rsplit_once("node_modules/")
            .map(|(_, n)| n)
            .unwrap_or(key);
        let name = p.get("name").and_then(Value::as_str).unwrap_or(from_key);
        let Some(version) = p.get("version").and_then(Value::as_str) else {
            continue; // an optional dependency not installed here
        };
        let mut hashes = Vec::new();
        if let Some(integrity) = p.get("integrity").and_then(Value::as_str) {
            for sri in integrity.split_whitespace() {
                let Some((alg, b64)) = sri.split_once('-') else {
                    continue;
                };
                let alg = match alg {
                    "sha512" => "SHA-512",
                    "sha384" => "SHA-384",
                    "sha256" => "SHA-256",
                    "sha1" => "SHA-1",
                    _ => continue,
                };
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| {
                        err(
                            key_line(text, key),
                            format!("packages[{key:?}].integrity: {e}"),
                        )
                    })?;
                hashes.push((alg.to_string(), hex::encode(bytes)));
            }
        }
        let mut deps: Vec<&str> = Vec::new();
        for field in ["dependencies", "optionalDependencies", "peerDependencies"] {
            if let Some(d) = p.get(field).and_then(Value::as_object) {
                deps.extend(d.keys().map(String::as_str));
            }
        }
        at.insert(key.as_str(), out.len());
        deps_of.push((key.as_str(), deps));
        out.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            purl: npm_purl(name, version),
            hashes,
            depends_on: Vec::new(),
        });
    }
    // Node resolution: KEY/node_modules/DEP, then up the parents, then node_modules/DEP.
    for (i, (key, deps)) in deps_of.iter().enumerate() {
        let mut depends_on = Vec::new();
        for dep in deps {
            let mut base: &str = key;
            let found = loop {
                let candidate = format!("{base}/node_modules/{dep}");
                if let Some(&j) = at.get(candidate.as_str()) {
                    break Some(j);
                }
                match base.rsplit_once("/node_modules/") {
                    Some((parent, _)) => base = parent,
                    None => break at.get(format!("node_modules/{dep}").as_str()).copied(),
                }
            };
            if let Some(j) = found {
                depends_on.push(out[j].purl.clone());
            }
        }
        depends_on.sort();
        depends_on.dedup();
        out[i].depends_on = depends_on;
    }
    Ok(out)
}

/// PyPI names as purls want them: lowercase, `_` and `.` runs as `-` (PEP 503).
fn pypi_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c == '_' || c == '.' {
            '-'
        } else {
            c.to_ascii_lowercase()
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out
}

fn poetry(text: &str, err: Err) -> Result<Vec<Package>, SbomError> {
    let doc = toml_doc(text, err)?;
    let tables = toml_packages(&doc, err)?;
    let mut out = Vec::new();
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    for (i, t) in tables.iter().enumerate() {
        let (Some(name), Some(version)) = (str_field(t, "name"), str_field(t, "version")) else {
            return Err(err(
                package_line(text, i),
                "a package without name or version".into(),
            ));
        };
        let mut hashes = Vec::new();
        // poetry 1.x: files = [{file = "..", hash = "sha256:.."}]
        if let Some(files) = t.get("files").and_then(toml::Value::as_array) {
            for f in files {
                if let Some(h) = f.get("hash").and_then(toml::Value::as_str)
                    && let Some(hex) = h.strip_prefix("sha256:")
                {
                    hashes.push(("SHA-256".to_string(), hex.to_ascii_lowercase()));
                }
            }
        }
        let norm = pypi_name(name);
        by_name.insert(norm.clone(), out.len());
        out.push(Package {
            name: norm.clone(),
            version: version.to_string(),
            purl: purl("pypi", &[], &norm, version),
            hashes,
            depends_on: Vec::new(),
        });
    }
    for (i, t) in tables.iter().enumerate() {
        let Some(deps) = t.get("dependencies").and_then(toml::Value::as_table) else {
            continue;
        };
        let mut depends_on: Vec<String> = deps
            .keys()
            .filter_map(|d| by_name.get(&pypi_name(d)))
            .map(|&j| out[j].purl.clone())
            .collect();
        depends_on.sort();
        out[i].depends_on = depends_on;
    }
    Ok(out)
}

fn requirements(text: &str, err: Err) -> Result<Vec<Package>, SbomError> {
    let mut out: Vec<Package> = Vec::new();
    // Join continuation lines, remembering where each logical line starts.
    let mut logical: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or("");
        let line = if line.trim_start().starts_with('#') {
            ""
        } else {
            line
        };
        let (body, cont) = match line.trim_end().strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line, false),
        };
        let entry = pending.get_or_insert_with(|| (n + 1, String::new()));
        entry.1.push(' ');
        entry.1.push_str(body);
        if !cont {
            logical.extend(pending.take());
        }
    }
    logical.extend(pending.take());
    for (line, l) in logical {
        let mut words = l.split_whitespace();
        let Some(spec) = words.next() else { continue };
        if spec.starts_with('-') {
            continue; // -r, -c, --index-url and other options
        }
        let spec = spec.split(';').next().unwrap_or(spec);
        let Some((name, version)) = spec.split_once("==") else {
            return Err(err(line, format!("{spec:?} is not pinned with ==")));
        };
        let name = name.split('[').next().unwrap_or(name).trim();
        let version = version.trim();
        if name.is_empty()
            || version.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(err(line, format!("{spec:?} is not NAME==VERSION")));
        }
        let mut hashes = Vec::new();
        let mut rest: Vec<&str> = words.collect();
        let mut k = 0;
        while k < rest.len() {
            let w = rest[k];
            let value = if w == "--hash" {
                k += 1;
                rest.get(k).copied()
            } else {
                w.strip_prefix("--hash=")
            };
            if let Some(v) = value {
                let Some((alg, hex)) = v.split_once(':') else {
                    return Err(err(line, format!("--hash {v:?} is not ALG:HEX")));
                };
                let alg = match alg {
                    "sha256" => "SHA-256",
                    "sha384" => "SHA-384",
                    "sha512" => "SHA-512",
                    _ => return Err(err(line, format!("unknown hash algorithm {alg:?}"))),
                };
                hashes.push((alg.to_string(), hex.to_ascii_lowercase()));
            }
            k += 1;
        }
        rest.clear();
        let norm = pypi_name(name);
        out.push(Package {
            purl: purl("pypi", &[], &norm, version),
            name: norm,
            version: version.to_string(),
            hashes,
            depends_on: Vec::new(),
        });
    }
    Ok(out)
}

fn go_sum(text: &str, err: Err) -> Result<Vec<Package>, SbomError> {
    let mut out: Vec<Package> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => continue,
            [module, version, sum] if sum.starts_with("h1:") => {
                // A `/go.mod` line only says the module's go.mod was read, not that it is built in.
                if version.ends_with("/go.mod") || !seen.insert((*module, *version)) {
                    continue;
                }
                if !version.starts_with('v') {
                    return Err(err(n + 1, format!("{version:?} is not a module version")));
                }
                let segments: Vec<&str> = module.split('/').collect();
                if segments.iter().any(|s| s.is_empty()) {
                    return Err(err(n + 1, format!("{module:?} is not a module path")));
                }
                let (name, ns) = segments.split_last().expect("split gives one segment");
                out.push(Package {
                    name: module.to_string(),
                    version: version.to_string(),
                    purl: purl("golang", ns, name, version),
                    // h1: is a hash over the module's file tree, not of a downloadable file.
                    hashes: Vec::new(),
                    depends_on: Vec::new(),
                });
            }
            _ => return Err(err(n + 1, "not MODULE VERSION h1:HASH".to_string())),
        }
    }
    Ok(out)
}
