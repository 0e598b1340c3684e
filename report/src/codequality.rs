//! GitLab Code Quality: a JSON array of issues, one per deny, require_approval and audit
//! finding.

use crate::common::{Class, describe, finding_path, fingerprint, start_line};
use cavra_gate::Verdict;
use cavra_policy::Severity;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;

/// GitLab's severity for a policy severity.
fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "minor",
        Severity::Medium => "major",
        Severity::High => "critical",
        Severity::Critical => "blocker",
    }
}

/// One Code Quality issue (the Code Climate fields GitLab reads).
#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: Location<'a>,
    #[serde(rename = "type")]
    kind: &'static str,
    categories: [&'static str; 1],
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

/// Renders the verdict as a Code Quality report.
pub(crate) fn render(v: &Verdict) -> Result<String, String> {
    let mut seen = HashSet::new();
    let issues: Vec<Issue> = v
        .findings()
        .filter(|(_, f)| !Class::of(f).is_quiet())
        .map(|(change, f)| {
            // GitLab keys issues by fingerprint: keep them unique even if a rule fired twice
            // on the same line.
            let base = fingerprint(change, f);
            let mut print = base.clone();
            let mut n = 1;
            while !seen.insert(print.clone()) {
                n += 1;
                print = hex::encode(Sha256::digest(format!("{base}#{n}")));
            }
            Issue {
                description: describe(f),
                check_name: &f.rule,
                fingerprint: print,
                severity: severity(f.severity),
                location: Location {
                    path: finding_path(change, f),
                    lines: Lines {
                        begin: start_line(f),
                    },
                },
                kind: "issue",
                categories: ["Security"],
            }
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&issues).map_err(|e| e.to_string())?;
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{change, empty, finding, sample};
    use cavra_policy::Decision;
    use serde_json::Value;

    #[test]
    fn one_issue_per_shown_finding() {
        let issues: Value = serde_json::from_str(&render(&sample()).unwrap()).unwrap();
        let names: Vec<&str> = issues
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["check_name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "ci-config",
                "dependency-manifest",
                "private-keys",
                "cloud-credentials"
            ]
        );
        assert_eq!(issues[3]["location"]["lines"]["begin"], 3);
        assert_eq!(issues[3]["severity"], "critical");
    }

    #[test]
    fn fingerprints_stay_unique_and_hex() {
        let mut v = empty();
        let f = finding("r", Decision::Deny, Some(1));
        v.changes = vec![change("a", vec![f.clone(), f.clone(), f])];
        let issues: Value = serde_json::from_str(&render(&v).unwrap()).unwrap();
        let prints: HashSet<&str> = issues
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap())
            .collect();
        assert_eq!(prints.len(), 3);
        assert!(
            prints
                .iter()
                .all(|p| p.len() == 64 && p.bytes().all(|b| b.is_ascii_hexdigit()))
        );
        assert_eq!(render(&empty()).unwrap(), "[]\n");
    }

    #[test]
    fn severities_map_to_gitlab_names() {
        let got: Vec<_> = [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .map(severity)
        .to_vec();
        assert_eq!(got, ["info", "minor", "major", "critical", "blocker"]);
    }
}
