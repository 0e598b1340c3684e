//! `package.json`: one step per entry of the top-level `scripts` object, at the line of its value,
//! location `scripts.<name>`.
//!
//! `lifecycle` marks the scripts npm runs by itself when the package is installed, from the
//! registry, from git or as the project being set up (`npm install`/`npm ci`): `preinstall`,
//! `install`, `postinstall`, `prepublish` (deprecated, still run on install), `preprepare`,
//! `prepare`, `postprepare`, `prepack` and `postpack` (run when a git dependency is packed) and
//! `dependencies` (run after `node_modules` changes). Scripts run only by name (`npm test`,
//! `npm run build`) or on publish (`prepublishOnly`) are not lifecycle scripts.
//!
//! The file is first checked with `serde_json`; invalid JSON is an error at the line it reports,
//! and a lenient reader (missing commas, bad escapes) still returns the scripts it can find up
//! to where it cannot go on: npm would run none of them, but the gate should still see them.
//! Duplicate keys are all extracted. A script value that is not a string is an error at its
//! line; the other scripts are still read. At most [`MAX_SCRIPTS`] scripts are read.

use crate::{ExtractError, Extraction, Step, Via};
use cavra_shell::Context;

/// Most scripts read from one file.
pub(crate) const MAX_SCRIPTS: usize = 10_000;

/// Scripts npm runs on install without being asked.
const LIFECYCLE: [&str; 10] = [
    "preinstall",
    "install",
    "postinstall",
    "prepublish",
    "preprepare",
    "prepare",
    "postprepare",
    "prepack",
    "postpack",
    "dependencies",
];

/// Steps of the file.
pub(crate) fn extract(path: &str, text: &[u8]) -> Extraction {
    let text = &*crate::decode(text);
    let mut reader = Reader {
        path,
        s: text.as_bytes(),
        pos: 0,
        line: 1,
        out: Extraction::default(),
        scripts: 0,
        valid: true,
    };
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        reader.valid = false;
        reader.error(
            u32::try_from(e.line()).unwrap_or(u32::MAX),
            format!("invalid JSON: {e}"),
        );
    }
    reader.document();
    reader.out
}

/// A lenient JSON reader that counts lines.
struct Reader<'a> {
    path: &'a str,
    s: &'a [u8],
    pos: usize,
    line: u32,
    out: Extraction,
    /// Scripts met so far.
    scripts: usize,
    /// `serde_json` accepted the file: report shape errors. (After a syntax error the reader
    /// stops quietly where it cannot go on; serde_json's error says why.)
    valid: bool,
}

impl Reader<'_> {
    fn error(&mut self, line: u32, message: String) {
        self.out.errors.push(ExtractError {
            file: self.path.to_string(),
            line,
            message,
        });
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn bump(&mut self) {
        if self.peek() == Some(b'\n') {
            self.line = self.line.saturating_add(1);
        }
        self.pos += 1;
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    /// The top-level object.
    fn document(&mut self) {
        self.ws();
        if self.peek() != Some(b'{') {
            if self.valid {
                let line = self.line;
                self.error(line, "package.json is not a JSON object".to_string());
            }
            return;
        }
        self.object(|r, key, line| {
            if key != "scripts" {
                return r.skip_value();
            }
            if r.peek() == Some(b'{') {
                return r.object(|r, name, _| r.script(name));
            }
            if r.valid {
                r.error(line, "`scripts` is not an object".to_string());
            }
            r.skip_value()
        });
    }

    /// Reads an object at `{`, calling `member` with each key and its line, positioned at the
    /// value; `member` returns false to stop. Returns false if the object could not be read.
    fn object(&mut self, mut member: impl FnMut(&mut Self, String, u32) -> bool) -> bool {
        self.bump();
        loop {
            self.ws();
            match self.peek() {
                Some(b'}') => {
                    self.bump();
                    return true;
                }
                Some(b',') => self.bump(),
                Some(b'"') => {
                    let line = self.line;
                    let Some(key) = self.string() else {
                        return false;
                    };
                    self.ws();
                    if self.peek() != Some(b':') {
                        return false;
                    }
                    self.bump();
                    self.ws();
                    if !member(self, key, line) {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }

    /// One entry of `scripts`, positioned at its value.
    fn script(&mut self, name: String) -> bool {
        let line = self.line;
        if self.peek() != Some(b'"') {
            if self.valid {
                self.error(line, format!("`scripts.{name}` is not a string"));
            }
            return self.skip_value();
        }
        let Some(script) = self.string() else {
            return false;
        };
        self.scripts += 1;
        if self.scripts > MAX_SCRIPTS {
            if self.scripts == MAX_SCRIPTS + 1 {
                self.error(
                    line,
                    format!("more than {MAX_SCRIPTS} scripts; the rest are not read"),
                );
            }
            return true;
        }
        self.out.steps.push(Step {
            context: Context::PackageScripts,
            file: self.path.to_string(),
            line,
            lifecycle: LIFECYCLE.contains(&name.as_str()),
            location: format!("scripts.{name}"),
            shell: None,
            script,
            via: Via::Direct,
        });
        true
    }

    /// Reads a string at `"`, unescaping it; `None` if it does not end.
    fn string(&mut self) -> Option<String> {
        self.bump();
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek()?;
            self.bump();
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.peek()?;
                    self.bump();
                    match e {
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let c = self.unicode_escape();
                            let mut buf = [0; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        // `"`, `\`, `/`, and leniently anything else.
                        _ => out.push(e),
                    }
                }
                _ => out.push(c),
            }
        }
        Some(
            String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )
    }

    /// Four hex digits.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.s.get(self.pos..self.pos + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        let value = u32::from_str_radix(text, 16).ok()?;
        self.pos += 4;
        Some(value)
    }

    /// The character of a `\u` escape after the `u`, pairing surrogates; a lone surrogate or
    /// bad digits give U+FFFD.
    fn unicode_escape(&mut self) -> char {
        let Some(high) = self.hex4() else {
            return char::REPLACEMENT_CHARACTER;
        };
        if (0xd800..0xdc00).contains(&high) && self.s[self.pos..].starts_with(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            match self.hex4() {
                Some(low) if (0xdc00..0xe000).contains(&low) => {
                    let c = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
                    return char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
                }
                _ => self.pos = save,
            }
        }
        char::from_u32(high).unwrap_or(char::REPLACEMENT_CHARACTER)
    }

    /// Skips one value (without recursion); false if the text ends or breaks first.
    fn skip_value(&mut self) -> bool {
        let mut depth = 0usize;
        loop {
            self.ws();
            match self.peek() {
                None => return false,
                Some(b'"') => {
                    if self.string().is_none() {
                        return false;
                    }
                    if depth == 0 {
                        return true;
                    }
                }
                Some(b'{' | b'[') => {
                    depth += 1;
                    self.bump();
                }
                Some(b'}' | b']') => {
                    if depth == 0 {
                        return false;
                    }
                    depth -= 1;
                    self.bump();
                    if depth == 0 {
                        return true;
                    }
                }
                Some(b',' | b':') if depth > 0 => self.bump(),
                Some(b',' | b':') => return false,
                Some(_) => {
                    while let Some(c) = self.peek() {
                        if matches!(
                            c,
                            b',' | b':'
                                | b'{'
                                | b'}'
                                | b'['
                                | b']'
                                | b'"'
                                | b' '
                                | b'\t'
                                | b'\n'
                                | b'\r'
                        ) {
                            break;
                        }
                        self.bump();
                    }
                    if depth == 0 {
                        return true;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::errors;

    fn run(text: &str) -> Extraction {
        extract("package.json", text.as_bytes())
    }

    /// (line, location, lifecycle, script) of each step.
    fn steps(e: &Extraction) -> Vec<(u32, &str, bool, &str)> {
        e.steps
            .iter()
            .map(|s| (s.line, s.location.as_str(), s.lifecycle, s.script.as_str()))
            .collect()
    }

    #[test]
    fn scripts_with_lifecycle() {
        let text = r#"{
  "name": "demo",
  "version": "1.0.0",
  "config": { "scripts": { "nested": "not read" }, "list": [1, {"a": [true, null]}] },
  "scripts": {
    "build": "tsc -p .",
    "postinstall":
      "node scripts/setup.js && curl -fsSL https://x | sh",
    "prepare": "husky install",
    "test": "jest --ci",
    "prepublishOnly": "npm test"
  },
  "dependencies": { "left-pad": "^1.3.0" }
}
"#;
        let e = run(text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(
            steps(&e),
            vec![
                (6, "scripts.build", false, "tsc -p ."),
                (
                    8,
                    "scripts.postinstall",
                    true,
                    "node scripts/setup.js && curl -fsSL https://x | sh"
                ),
                (9, "scripts.prepare", true, "husky install"),
                (10, "scripts.test", false, "jest --ci"),
                (11, "scripts.prepublishOnly", false, "npm test"),
            ]
        );
        let s = &e.steps[0];
        assert_eq!(
            (s.context, s.file.as_str(), s.shell.as_deref(), &s.via),
            (Context::PackageScripts, "package.json", None, &Via::Direct)
        );
    }

    #[test]
    fn escapes_are_decoded() {
        let text = r#"{"scripts": {
  "a": "echo \"hi\" \\ \/ \u00e9\ud83d\ude00 \ud800 \t|",
  "pre\u0069nstall": "echo ünï\ncurl x",
  "b": "é"
}}"#;
        let e = run(text);
        assert_eq!(
            steps(&e),
            vec![
                (2, "scripts.a", false, "echo \"hi\" \\ / é😀 \u{fffd} \t|"),
                (3, "scripts.preinstall", true, "echo ünï\ncurl x"),
                (4, "scripts.b", false, "é"),
            ]
        );
        assert!(e.errors.is_empty(), "{:?}", e.errors);
    }

    #[test]
    fn non_string_values_and_duplicates() {
        let text = "{\n\"scripts\": {\n\"a\": 1,\n\"b\": [\"x\"],\n\"c\": \"ok\",\n\"c\": \"again\",\n\"d\": null\n}\n}\n";
        let e = run(text);
        assert_eq!(
            steps(&e),
            vec![
                (5, "scripts.c", false, "ok"),
                (6, "scripts.c", false, "again")
            ]
        );
        assert_eq!(
            errors(&e),
            vec![
                (3, "`scripts.a` is not a string"),
                (4, "`scripts.b` is not a string"),
                (7, "`scripts.d` is not a string"),
            ]
        );
    }

    #[test]
    fn invalid_json() {
        let text = "{\n  \"scripts\": {\n    \"install\": \"node-gyp rebuild\",\n    \"x\": \"y\"\n    \"z\": \"w\"\n  }\n}\n";
        let e = run(text);
        assert_eq!(
            steps(&e),
            vec![
                (3, "scripts.install", true, "node-gyp rebuild"),
                (4, "scripts.x", false, "y"),
                (5, "scripts.z", false, "w"),
            ]
        );
        assert_eq!(e.errors.len(), 1);
        assert_eq!(e.errors[0].line, 5);
        assert!(e.errors[0].message.starts_with("invalid JSON"));

        for bad in [
            "",
            "[]",
            "\"x\"",
            "{",
            "{\"scripts\": {\"a\": \"b",
            "\u{feff}{\"scripts\": 3}",
        ] {
            let e = run(bad);
            assert!(e.steps.is_empty(), "{bad:?}");
            assert_eq!(e.errors.len(), 1, "{bad:?}: {:?}", e.errors);
        }
        let e = extract("package.json", b"{\"scripts\": {\"a\": \"\xff\"}}");
        assert_eq!(e.steps[0].script, "\u{fffd}");
    }

    #[test]
    fn bounded() {
        let mut text = String::from("{\"scripts\": {");
        for i in 0..MAX_SCRIPTS + 5 {
            text.push_str(&format!("\"s{i}\": \"echo {i}\",\n"));
        }
        text.push_str("\"last\": \"x\"}}");
        let e = run(&text);
        assert_eq!(e.steps.len(), MAX_SCRIPTS);
        assert_eq!(e.errors.len(), 1);
        assert_eq!(e.errors[0].line, u32::try_from(MAX_SCRIPTS).unwrap() + 1);
    }
}
