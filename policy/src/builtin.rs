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
pub const PACKS: &[Pack] = &[pack!(
    "baseline",
    "secrets, CI and policy changes, dependencies, executables, symlinks, submodules, large binaries"
)];

/// The policy text of the pack `name`.
pub fn pack(name: &str) -> Option<&'static str> {
    PACKS.iter().find(|p| p.name == name).map(|p| p.policy)
}

/// The names of every pack.
pub fn names() -> Vec<&'static str> {
    PACKS.iter().map(|p| p.name).collect()
}

/// The policy used when a repository has none of its own.
pub const DEFAULT_POLICY: &str = "version: 1\nextends: [builtin:baseline]\n";
