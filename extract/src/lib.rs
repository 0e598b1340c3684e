//! Finds the scripts a file runs, with the file and line where each one is written.
//!
//! One module per kind of file, each turning a file's text into [`Step`]s: a script plus where it
//! is and how it runs. Nothing here judges anything; the gate parses each step's script with
//! `cavra-shell` and asks the policy about every command.
//!
//! Extraction never panics on bad input: a file that cannot be read yields an [`ExtractError`]
//! with its line, and the steps that could be read are still returned.

mod azure;
mod detect;
mod dockerfile;
mod github;
mod gitlab;
mod makefile;
mod package_json;
mod shell_script;
mod yaml_util;

pub use detect::{Detected, FileKind, detect};

use std::borrow::Cow;

use cavra_shell::{Context, Dialect, Options};

/// Largest file read, in bytes; larger files yield an error.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Most files one extraction may load through [`Files`] (`include: local`, templates).
pub const MAX_LINKED_FILES: usize = 64;

/// Other files of the same revision, for `include: local` and pipeline templates.
pub trait Files {
    /// The content of the file at the repository path `path`, if it exists and is a regular file.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
}

/// No other files.
pub struct NoFiles;

impl Files for NoFiles {
    fn read(&self, _path: &str) -> Option<Vec<u8>> {
        None
    }
}

/// How a step came to be in the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// Written in the file being extracted.
    Direct,
    /// Pulled in by a GitLab `!reference [job, key]` written at `line` of the extracted file.
    Reference {
        /// The line of the `!reference` tag in the extracted file.
        line: u32,
    },
    /// An Azure script task's inline script (`Bash@3` `inputs.script`, `CmdLine@2`,
    /// `PowerShell@2`, `AzureCLI@2` `inlineScript`, `AzurePowerShell@5` `Inline`).
    Task,
}

/// One script and where it runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// The kind of file it was found in.
    pub context: Context,
    /// The repository path of the file where the script's text is written (for a GitLab
    /// `!reference` or an included file this may differ from the file being extracted).
    pub file: String,
    /// 1-based line of the script's first line in `file`.
    pub line: u32,
    /// Where in the file, for people: `jobs.build.steps[2]`, `deploy.script[0]`,
    /// `stages[0].jobs[1].steps[3]`, `RUN`, `scripts.postinstall`, `target build`.
    pub location: String,
    /// The declared shell (`bash`, `pwsh`, `cmd`, `python {0}`), if any.
    pub shell: Option<String>,
    /// The script text. Line `n` of the script is line `line + n - 1` of `file` wherever the
    /// format allows (block scalars, continuation lines, heredocs).
    pub script: String,
    /// A package lifecycle script (`preinstall`, `install`, `postinstall`, `prepare`), which
    /// runs on every install: findings in it rank one severity higher.
    pub lifecycle: bool,
    /// How the step came to be here.
    pub via: Via,
}

impl Step {
    /// How to parse this step's script.
    pub fn parse_options(&self) -> Options {
        let dialect = match &self.shell {
            // A computed shell (`${{ matrix.shell }}`) is unknown until the run: read the script
            // as POSIX rather than as an opaque language whose commands no rule would see.
            Some(shell) if shell.contains("${{") || shell.contains("$(") => Dialect::Posix,
            Some(shell) => Dialect::for_shell(shell),
            None => Dialect::Posix,
        };
        Options::for_context(self.context, dialect)
    }
}

/// A file, or a part of one, that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExtractError {
    /// The repository path.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

/// The steps of one file and the errors met on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extraction {
    /// Every step found, in file order.
    pub steps: Vec<Step>,
    /// Parts that could not be read.
    pub errors: Vec<ExtractError>,
}

/// A file's text: invalid UTF-8 read as U+FFFD, a leading byte-order mark dropped.
pub(crate) fn decode(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    String::from_utf8_lossy(bytes)
}

/// Extracts the steps of the file at `path` of kind `kind`. `files` reads other files of the same
/// revision (GitLab `include: local`, Azure templates).
pub fn extract(kind: FileKind, path: &str, text: &[u8], files: &dyn Files) -> Extraction {
    if text.len() > MAX_FILE_BYTES {
        return Extraction {
            steps: Vec::new(),
            errors: vec![ExtractError {
                file: path.to_string(),
                line: 0,
                message: format!("file is larger than {MAX_FILE_BYTES} bytes; not read"),
            }],
        };
    }
    match kind {
        FileKind::GithubWorkflow => github::workflow(path, text),
        FileKind::GithubAction => github::action(path, text),
        FileKind::GitlabCi => gitlab::extract(path, text, files),
        FileKind::AzurePipelines => azure::extract(path, text, files),
        FileKind::Dockerfile => dockerfile::extract(path, text),
        FileKind::PackageJson => package_json::extract(path, text),
        FileKind::Makefile => makefile::extract(path, text),
        FileKind::ShellScript => shell_script::extract(path, text),
    }
}

/// Helpers shared by the unit tests.
#[cfg(test)]
mod test_util {
    use crate::Extraction;

    /// (line, message) of each error.
    pub(crate) fn errors(e: &Extraction) -> Vec<(u32, &str)> {
        e.errors
            .iter()
            .map(|e| (e.line, e.message.as_str()))
            .collect()
    }
}
