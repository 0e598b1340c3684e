//! SARIF 2.1.0 for GitHub code scanning: one run, one rule per rule id that fired,
//! one result per deny, require_approval and audit finding.

use crate::common::{Class, describe, finding_path, fingerprint, start_line};
use cavra_gate::Verdict;
use cavra_policy::{Decision, Severity};
use serde::Serialize;
use std::collections::BTreeMap;

/// The schema GitHub documents for uploads.
const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where to read about the tool.
const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

/// The SARIF level of a decision.
fn level(decision: Decision) -> &'static str {
    match decision {
        Decision::Deny => "error",
        Decision::RequireApproval => "warning",
        Decision::Audit | Decision::Allow => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score; it ranks alerts as critical, high,
/// medium or low).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "0.0",
        Severity::Low => "3.0",
        Severity::Medium => "5.5",
        Severity::High => "8.0",
        Severity::Critical => "9.5",
    }
}

/// A repository path as a relative URI reference: every byte outside the unreserved set
/// (and `/`) is percent-encoded, so spaces, `%`, `#`, `?`, `:` and non-ASCII survive.
pub(crate) fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One rule as SARIF describes it, gathered from the findings that fired.
struct RuleInfo {
    message: String,
    decision: Decision,
    severity: Severity,
}

// The SARIF objects written, in the order their fields are conventionally shown.

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
struct Run<'a> {
    tool: Tool<'a>,
    results: Vec<SarifResult<'a>>,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'a str,
    information_uri: &'static str,
    rules: Vec<Descriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor<'a> {
    id: &'a str,
    name: &'a str,
    short_description: Text,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: [&'static str; 2],
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    #[serde(rename = "cavra/decision")]
    decision: &'static str,
    #[serde(rename = "cavra/severity")]
    severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
    partial_fingerprints: Fingerprints,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "cavraFinding/v1")]
    finding: String,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    #[serde(rename = "cavra/decision")]
    decision: &'static str,
    #[serde(rename = "cavra/severity")]
    severity: &'static str,
    #[serde(rename = "cavra/change")]
    change: &'a str,
    #[serde(
        rename = "cavra/approvers",
        skip_serializing_if = "<[String]>::is_empty"
    )]
    approvers: &'a [String],
}

#[derive(Serialize)]
struct RunProperties<'a> {
    #[serde(rename = "cavra/verdict")]
    verdict: &'static str,
    #[serde(rename = "cavra/mode")]
    mode: &'static str,
    #[serde(rename = "cavra/base")]
    base: &'a str,
    #[serde(rename = "cavra/head")]
    head: &'a str,
    #[serde(rename = "cavra/policy")]
    policy: &'a str,
    #[serde(rename = "cavra/policySha256")]
    policy_sha256: &'a str,
}

/// Renders the verdict as a SARIF 2.1.0 log.
pub(crate) fn render(v: &Verdict) -> Result<String, String> {
    let shown: Vec<_> = v
        .findings()
        .filter(|(_, f)| !Class::of(f).is_quiet())
        .collect();

    let mut rules: BTreeMap<&str, RuleInfo> = BTreeMap::new();
    for (_, f) in &shown {
        let rule = rules.entry(&f.rule).or_insert_with(|| RuleInfo {
            message: f.message.clone(),
            decision: f.decision,
            severity: f.severity,
        });
        rule.decision = rule.decision.max(f.decision);
        rule.severity = rule.severity.max(f.severity);
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let descriptors = rules
        .iter()
        .map(|(id, r)| Descriptor {
            id,
            name: id,
            short_description: Text {
                text: r.message.clone(),
            },
            default_configuration: Configuration {
                level: level(r.decision),
            },
            properties: RuleProperties {
                tags: ["security", "cavra"],
                security_severity: security_severity(r.severity),
                decision: r.decision.as_str(),
                severity: r.severity.as_str(),
            },
        })
        .collect();

    let results = shown
        .iter()
        .map(|(change, f)| SarifResult {
            rule_id: &f.rule,
            rule_index: index[f.rule.as_str()],
            level: level(f.decision),
            message: Text { text: describe(f) },
            locations: [Location {
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation {
                        uri: uri_path(finding_path(change, f)),
                    },
                    region: Region {
                        start_line: start_line(f),
                    },
                },
            }],
            partial_fingerprints: Fingerprints {
                finding: fingerprint(change, f),
            },
            properties: ResultProperties {
                decision: f.decision.as_str(),
                severity: f.severity.as_str(),
                change: &change.change,
                approvers: &f.approvers,
            },
        })
        .collect();

    let log = Log {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "cavra",
                    version: &v.tool.version,
                    information_uri: INFORMATION_URI,
                    rules: descriptors,
                },
            },
            results,
            properties: RunProperties {
                verdict: v.verdict.as_str(),
                mode: v.mode.as_str(),
                base: &v.revisions.base,
                head: &v.revisions.head,
                policy: &v.policy.source,
                policy_sha256: &v.policy.sha256,
            },
        }],
    };
    let mut out = serde_json::to_string_pretty(&log).map_err(|e| e.to_string())?;
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{empty, sample};
    use serde_json::{Value, json};

    #[test]
    fn percent_encodes_what_a_uri_cannot_hold() {
        assert_eq!(uri_path("src/main.rs"), "src/main.rs");
        assert_eq!(uri_path("a b/clé#1?.pem"), "a%20b/cl%C3%A9%231%3F.pem");
        assert_eq!(uri_path("100%.txt"), "100%25.txt");
        assert_eq!(uri_path("c:d"), "c%3Ad");
    }

    #[test]
    fn results_skip_allowed_and_waived_findings() {
        let log: Value = serde_json::from_str(&render(&sample()).unwrap()).unwrap();
        let run = &log["runs"][0];
        let results = run["results"].as_array().unwrap();
        let got: Vec<(&str, &str, u64)> = results
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap(),
                    r["level"].as_str().unwrap(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("ci-config", "warning", 1),
                ("dependency-manifest", "note", 1),
                ("private-keys", "error", 1),
                ("cloud-credentials", "error", 3),
            ]
        );
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 4);
        for r in results {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
        }
    }

    #[test]
    fn an_empty_change_has_one_run_and_no_results() {
        let log: Value = serde_json::from_str(&render(&empty()).unwrap()).unwrap();
        assert_eq!(log["runs"][0]["results"], json!([]));
        assert_eq!(log["runs"][0]["tool"]["driver"]["rules"], json!([]));
    }
}
