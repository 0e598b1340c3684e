//! Where a command was found.

/// The kind of file (or caller) a command comes from; policies match it with `command.contexts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// A GitHub Actions workflow or composite action `run:` step.
    GithubActions,
    /// A GitLab CI `script`, `before_script` or `after_script`.
    GitlabCi,
    /// An Azure Pipelines script step or script task input.
    AzurePipelines,
    /// A Dockerfile or Containerfile `RUN`.
    Dockerfile,
    /// A `package.json` script.
    PackageScripts,
    /// A Makefile recipe.
    Makefile,
    /// A shell script.
    Shell,
    /// A command an agent asks to run (`cavra evaluate execute_command`).
    Agent,
}

impl Context {
    /// Every context, in the order of the policy reference.
    pub const ALL: [Context; 8] = [
        Context::GithubActions,
        Context::GitlabCi,
        Context::AzurePipelines,
        Context::Dockerfile,
        Context::PackageScripts,
        Context::Makefile,
        Context::Shell,
        Context::Agent,
    ];

    /// Every context's name, in the order of [`Context::ALL`].
    pub const NAMES: [&'static str; 8] = [
        "github-actions",
        "gitlab-ci",
        "azure-pipelines",
        "dockerfile",
        "package-scripts",
        "makefile",
        "shell",
        "agent",
    ];

    /// The name used in policies and outputs.
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The context named `name`, if any.
    pub fn parse(name: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl std::fmt::Display for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Context {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Context {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Context, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Context::parse(&name)
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, &Context::NAMES))
    }
}
