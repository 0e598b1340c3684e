//! in-toto Statement v1: the envelope payload that names what is attested (subjects) and what is
//! said about it (a typed predicate). Parsed with the checks verifiers apply.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The Statement's `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// The largest Statement we parse, in bytes.
pub const MAX_STATEMENT_BYTES: usize = 16 << 20;

/// An in-toto Statement v1 with a JSON predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// What is attested.
    pub subject: Vec<Subject>,
    /// The URI that names the predicate's meaning and schema.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub predicate: serde_json::Value,
}

/// A subject: a name and its digests (algorithm -> lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// A name for people and tools (a file name, a repository, ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Digests by algorithm (`sha256`, `sha512`, `gitCommit`, ...).
    pub digest: BTreeMap<String, String>,
}

/// Why a document is not a valid Statement.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not an in-toto Statement v1: {0}")]
pub struct StatementError(pub String);

impl Statement {
    /// Parses and checks a Statement: `_type`, at least one subject, every subject with at least
    /// one digest in lowercase hex of a plausible length, and a `predicateType`.
    pub fn from_json(bytes: &[u8]) -> Result<Statement, StatementError> {
        if bytes.len() > MAX_STATEMENT_BYTES {
            return Err(StatementError(format!(
                "{} bytes is over the {MAX_STATEMENT_BYTES} byte limit",
                bytes.len()
            )));
        }
        let statement: Statement =
            serde_json::from_slice(bytes).map_err(|e| StatementError(e.to_string()))?;
        statement.check()?;
        Ok(statement)
    }

    /// The checks of [`Statement::from_json`] on a value built in memory.
    pub fn check(&self) -> Result<(), StatementError> {
        if self.statement_type != STATEMENT_TYPE {
            return Err(StatementError(format!(
                "`_type` is `{}`, expected `{STATEMENT_TYPE}`",
                self.statement_type
            )));
        }
        if self.predicate_type.is_empty() {
            return Err(StatementError("`predicateType` is empty".into()));
        }
        if self.subject.is_empty() {
            return Err(StatementError("`subject` is empty".into()));
        }
        for (i, subject) in self.subject.iter().enumerate() {
            if subject.digest.is_empty() {
                return Err(StatementError(format!("subject[{i}] has no digest")));
            }
            for (alg, value) in &subject.digest {
                check_digest(alg, value)
                    .map_err(|why| StatementError(format!("subject[{i}].digest.{alg}: {why}")))?;
            }
        }
        Ok(())
    }

    /// The Statement as compact JSON bytes (the DSSE payload).
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain strings, maps and a JSON value cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// True when some subject has `digest[algorithm] == value` (case-insensitive hex).
    pub fn has_subject_digest(&self, algorithm: &str, value: &str) -> bool {
        self.subject.iter().any(|s| {
            s.digest
                .get(algorithm)
                .is_some_and(|d| d.eq_ignore_ascii_case(value))
        })
    }
}

/// Hex digests of the algorithms we know must have their exact length.
fn check_digest(algorithm: &str, value: &str) -> Result<(), String> {
    let expected_len = match algorithm {
        "sha256" | "sha512_256" | "sha3_256" => Some(64),
        "sha384" | "sha3_384" => Some(96),
        "sha512" | "sha3_512" => Some(128),
        "sha1" => Some(40),
        "gitCommit" | "gitTree" | "gitBlob" | "gitTag" => None, // SHA-1 (40) or SHA-256 (64) repositories
        _ => {
            return if value.is_empty() {
                Err("empty".into())
            } else {
                Ok(())
            };
        }
    };
    if !value
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err("not lowercase hex".into());
    }
    match expected_len {
        Some(n) if value.len() != n => Err(format!("{} hex digits, expected {n}", value.len())),
        None if value.len() != 40 && value.len() != 64 => {
            Err(format!("{} hex digits, expected 40 or 64", value.len()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(digest: (&str, &str)) -> String {
        format!(
            r#"{{"_type":"{STATEMENT_TYPE}","subject":[{{"name":"a","digest":{{"{}":"{}"}}}}],"predicateType":"https://example.com/p","predicate":{{"x":1}}}}"#,
            digest.0, digest.1
        )
    }

    #[test]
    fn parses_a_valid_statement() {
        let sha = "a".repeat(64);
        let s = Statement::from_json(statement(("sha256", &sha)).as_bytes()).unwrap();
        assert!(s.has_subject_digest("sha256", &sha.to_uppercase()));
        assert!(!s.has_subject_digest("sha512", &sha));
        assert_eq!(Statement::from_json(&s.to_json()).unwrap(), s);
    }

    #[test]
    fn rejects_bad_statements() {
        let cases = [
            (statement(("sha256", "abc")), "3 hex digits"),
            (statement(("sha256", &"A".repeat(64))), "lowercase hex"),
            (statement(("gitCommit", &"0".repeat(41))), "40 or 64"),
            (
                statement(("sha256", ""))
                    .replace("\"a\",\"digest\":{\"sha256\":\"\"}", "\"a\",\"digest\":{}"),
                "no digest",
            ),
            (
                statement(("sha256", &"a".repeat(64))).replace("Statement/v1", "Statement/v0.1"),
                "`_type`",
            ),
            ("[]".to_string(), "expected struct Statement"),
        ];
        for (json, why) in cases {
            let err = Statement::from_json(json.as_bytes()).unwrap_err();
            assert!(err.to_string().contains(why), "{json}: {err}");
        }
    }
}
