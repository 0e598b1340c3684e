//! The policy packs embedded in the binary, each with its own test cases.

/// One built-in pack.
pub struct Pack {
    /// Its name (`builtin:NAME` in `extends`).
    pub name: &'static str,
    /// One line on what it covers.
    pub summary: &'static str,
    /// The pack's YAML.
    pub policy: &'static str,
    /// Its test cases (see [`crate::cases`]).
    pub tests: &'static str,
}

macro_rules! pack {
    ($name:literal, $summary:literal) => {
        Pack {
            name: $name,
            summary: $summary,
            policy: include_str!(concat!("../packs/", $name, ".yaml")),
            tests: include_str!(concat!("../packs/", $name, ".tests.yaml")),
        }
    };
}

/// Every built-in pack.
pub const PACKS: &[Pack] = &[
    pack!(
        "baseline",
        "secrets, CI and policy changes, dependencies, executables, symlinks, submodules, large binaries"
    ),
    pack!(
        "github",
        "GitHub Actions workflows and actions, pull_request_target, token scopes, script injection, runners"
    ),
    pack!(
        "gitlab",
        "GitLab CI files and includes, CODEOWNERS, exposed job tokens, disabled scanners, manual jobs"
    ),
    pack!(
        "azure-devops",
        "Azure Pipelines and .azuredevops, System.AccessToken, persisted credentials, external templates"
    ),
    pack!(
        "terraform",
        "Terraform state, secrets in tfvars, production stacks, prevent_destroy, backends, external data"
    ),
    pack!(
        "kubernetes",
        "manifests and Helm charts: privileged pods, host access, root, cluster RBAC, Secret manifests"
    ),
    pack!(
        "cloud-iam",
        "AWS, GCP and Azure IAM: wildcard actions, public principals, owner roles, iam:PassRole"
    ),
];

/// The policy text of the pack `name`.
pub fn pack(name: &str) -> Option<&'static str> {
    PACKS.iter().find(|p| p.name == name).map(|p| p.policy)
}

/// The names of every pack.
pub fn names() -> Vec<&'static str> {
    PACKS.iter().map(|p| p.name).collect()
}

/// The policy used when a repository has none of its own: the baseline, enforced, with a
/// recorded break-glass for emergencies.
pub const DEFAULT_POLICY: &str =
    "version: 1\nextends: [builtin:baseline]\nmode: enforce\nbreak_glass: { allowed: true }\n";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NoFiles, cases, resolve_policy};

    #[test]
    fn every_pack_resolves_and_passes_its_own_cases() {
        for pack in PACKS {
            let name = format!("builtin:{}", pack.name);
            let policy = resolve_policy(&name, pack.policy, &NoFiles)
                .unwrap_or_else(|e| panic!("{name} does not resolve:\n{e}"));
            let results = cases::run(&policy, &format!("{name}.tests.yaml"), pack.tests)
                .unwrap_or_else(|e| panic!("{name} tests do not parse:\n{e}"));
            assert!(
                results.len() >= 5,
                "{name} has only {} cases",
                results.len()
            );
            let failed: Vec<String> = results
                .iter()
                .filter(|r| !r.passed)
                .map(|r| {
                    format!(
                        "{}:{}: {}: {}",
                        name,
                        r.line,
                        r.name,
                        r.failure.as_deref().unwrap_or("")
                    )
                })
                .collect();
            assert!(failed.is_empty(), "failing cases:\n{}", failed.join("\n"));
        }
    }

    #[test]
    fn a_wrong_expectation_fails() {
        let policy = resolve_policy("p", DEFAULT_POLICY, &NoFiles).unwrap();
        let results = cases::run(
            &policy,
            "t.yaml",
            "cases:\n  - { path: a.pem, expect: allow }\n",
        )
        .unwrap();
        assert!(!results[0].passed);
        assert!(
            results[0]
                .failure
                .as_deref()
                .unwrap()
                .contains("expected allow, got deny")
        );
    }
}
