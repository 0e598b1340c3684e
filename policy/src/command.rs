//! The `command` match kind, compiled: which parsed commands a rule's `command:` block matches.

use crate::model::{CommandMatch, Context};
use cavra_shell::Command;
use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use regex::Regex;

/// Builds one word glob: `*` matches any run of characters, `/` included.
fn word_glob(glob: &str, case_insensitive: bool) -> Result<Glob, String> {
    GlobBuilder::new(glob)
        .literal_separator(false)
        .backslash_escape(true)
        .case_insensitive(case_insensitive)
        .build()
        .map_err(|e| e.kind().to_string())
}

/// Compiles one word glob (see [`word_glob`]).
pub(crate) fn compile_word_glob(glob: &str, case_insensitive: bool) -> Result<GlobMatcher, String> {
    word_glob(glob, case_insensitive).map(|g| g.compile_matcher())
}

fn word_set(globs: &[String], case_insensitive: bool) -> Option<GlobSet> {
    if globs.is_empty() {
        return None;
    }
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(word_glob(g, case_insensitive).expect("command globs validated when decoded"));
    }
    Some(b.build().expect("command globs validated when decoded"))
}

/// A rule's `command:` block, ready to match.
pub(crate) struct CommandMatcher {
    spec: CommandMatch,
    program: Option<GlobSet>,
    subcommands: Vec<Vec<GlobMatcher>>,
    args: Option<GlobSet>,
    piped_to: Option<GlobSet>,
    regex: Option<Regex>,
}

/// A command to match, with where it was found.
#[derive(Debug, Clone, Copy)]
pub struct CommandSubject<'a> {
    /// The parsed command.
    pub command: &'a Command,
    /// The kind of file (or caller) it comes from.
    pub context: Context,
    /// The line of the file it is written on (0 for commands not in a file).
    pub line: u32,
    /// Where in the file, for people (`jobs.build.steps[2]`); may be empty.
    pub step: &'a str,
}

impl CommandMatcher {
    /// Compiles a decoded (so already validated) `command:` block.
    pub(crate) fn new(spec: &CommandMatch) -> CommandMatcher {
        CommandMatcher {
            program: word_set(&spec.program, true),
            subcommands: spec
                .subcommand
                .iter()
                .map(|s| {
                    s.split_whitespace()
                        .map(|w| compile_word_glob(w, false).expect("validated when decoded"))
                        .collect()
                })
                .collect(),
            args: word_set(&spec.args, false),
            piped_to: word_set(&spec.piped_to, true),
            regex: spec
                .regex
                .as_deref()
                .map(|r| crate::engine::compile_regex(r).expect("validated when decoded")),
            spec: spec.clone(),
        }
    }

    /// The reasons it matches `subject`, or `None` when some condition fails.
    pub(crate) fn matches(&self, s: &CommandSubject<'_>) -> Option<Vec<String>> {
        let c = s.command;
        let mut why = Vec::new();
        if !self.spec.contexts.is_empty() {
            if !self.spec.contexts.contains(&s.context) {
                return None;
            }
            why.push(format!("in {}", s.context));
        }
        if let Some(set) = &self.program {
            if !set.is_match(&c.program) {
                return None;
            }
            why.push(format!("program `{}`", c.program));
        }
        if !self.subcommands.is_empty() {
            let words = positional(&c.args);
            let hit = self
                .subcommands
                .iter()
                .position(|sub| subcommand_matches(sub, &words))?;
            why.push(format!("subcommand `{}`", self.spec.subcommand[hit]));
        }
        if let Some(set) = &self.args {
            let arg = c
                .args
                .iter()
                .flat_map(|a| arg_forms(a))
                .find(|a| set.is_match(a))?;
            why.push(format!("argument `{arg}`"));
        }
        if let Some(set) = &self.piped_to {
            let to = c.feeds.iter().find(|p| set.is_match(p.as_str()))?;
            why.push(format!("output goes to `{to}`"));
        }
        if let Some(piped) = self.spec.piped {
            if piped == c.feeds.is_empty() {
                return None;
            }
            why.push(
                if piped {
                    "output is piped"
                } else {
                    "output goes to the log"
                }
                .to_string(),
            );
        }
        if let Some(re) = &self.regex {
            if !re.is_match(&c.text) {
                return None;
            }
            why.push(format!(
                "matches `{}`",
                self.spec.regex.as_deref().unwrap_or("")
            ));
        }
        Some(why)
    }
}

/// A word and, for a short-option cluster such as `-sSLk`, each of its options (`-s`, `-S`...).
fn arg_forms(arg: &str) -> Vec<String> {
    let mut out = vec![arg.to_string()];
    if let Some(letters) = arg.strip_prefix('-')
        && letters.len() >= 2
        && letters.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        out.extend(letters.chars().map(|ch| format!("-{ch}")));
    }
    out
}

/// The non-option words, each marked when it directly follows an option (and so may be its value).
fn positional(args: &[String]) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut after_option = false;
    for a in args {
        if a.starts_with('-') && a.len() > 1 {
            after_option = !a.contains('=');
            continue;
        }
        out.push((a.as_str(), after_option));
        after_option = false;
    }
    out
}

/// True when `sub` matches consecutive positional words starting at the first word, or after
/// words that may be option values (`kubectl -n prod delete` has subcommand `delete`).
fn subcommand_matches(sub: &[GlobMatcher], words: &[(&str, bool)]) -> bool {
    for start in 0..words.len() {
        if start > 0 && !words[start - 1].1 {
            break;
        }
        if words.len() - start >= sub.len()
            && sub
                .iter()
                .zip(&words[start..])
                .all(|(glob, (word, _))| glob.is_match(word))
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(program: &str, args: &[&str], feeds: &[&str]) -> Command {
        Command {
            line: 1,
            program: program.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            assignments: vec![],
            wrappers: vec![],
            feeds: feeds.iter().map(|s| s.to_string()).collect(),
            text: std::iter::once(program)
                .chain(args.iter().copied())
                .collect::<Vec<_>>()
                .join(" "),
            pipeline: String::new(),
        }
    }

    fn matcher(spec: CommandMatch) -> CommandMatcher {
        CommandMatcher::new(&spec)
    }

    fn hit(m: &CommandMatcher, c: &Command) -> bool {
        m.matches(&CommandSubject {
            command: c,
            context: Context::Shell,
            line: 1,
            step: "",
        })
        .is_some()
    }

    #[test]
    fn subcommands_skip_options_and_their_values() {
        let m = matcher(CommandMatch {
            program: vec!["kubectl".into()],
            subcommand: vec!["delete".into()],
            ..Default::default()
        });
        assert!(hit(&m, &command("kubectl", &["delete", "pod", "x"], &[])));
        assert!(hit(
            &m,
            &command("kubectl", &["-n", "prod", "delete", "ns"], &[])
        ));
        assert!(hit(
            &m,
            &command("KUBECTL", &["--context=x", "delete"], &[])
        ));
        assert!(!hit(&m, &command("kubectl", &["get", "delete"], &[])));
        assert!(!hit(&m, &command("kubectl", &["get", "pods"], &[])));
        let git = matcher(CommandMatch {
            program: vec!["git".into()],
            subcommand: vec!["push".into()],
            ..Default::default()
        });
        assert!(!hit(&git, &command("git", &["commit", "-m", "push"], &[])));
        let aws = matcher(CommandMatch {
            program: vec!["aws".into()],
            subcommand: vec!["iam attach-*-policy".into()],
            ..Default::default()
        });
        assert!(hit(
            &aws,
            &command("aws", &["--profile", "p", "iam", "attach-role-policy"], &[])
        ));
        assert!(!hit(&aws, &command("aws", &["iam", "list-roles"], &[])));
    }

    #[test]
    fn args_see_option_clusters_and_globs_escape() {
        let m = matcher(CommandMatch {
            program: vec!["curl".into()],
            args: vec!["-k".into(), "--insecure".into()],
            ..Default::default()
        });
        assert!(hit(&m, &command("curl", &["-sSLk", "https://x"], &[])));
        assert!(hit(&m, &command("curl", &["--insecure", "u"], &[])));
        assert!(!hit(&m, &command("curl", &["-sSL", "https://k"], &[])));
        let rm = matcher(CommandMatch {
            program: vec!["rm".into()],
            args: vec!["/".into(), "/\\*".into()],
            ..Default::default()
        });
        assert!(hit(&rm, &command("rm", &["-rf", "/*"], &[])));
        assert!(hit(&rm, &command("rm", &["-rf", "/"], &[])));
        assert!(!hit(&rm, &command("rm", &["-rf", "/tmp/build"], &[])));
    }

    #[test]
    fn piped_to_contexts_and_regex() {
        let m = matcher(CommandMatch {
            program: vec!["curl".into(), "wget".into()],
            piped_to: vec!["sh".into(), "bash".into(), "python*".into()],
            contexts: vec![Context::Shell],
            ..Default::default()
        });
        assert!(hit(&m, &command("curl", &["u"], &["tee", "bash"])));
        assert!(hit(&m, &command("wget", &["-qO-", "u"], &["python3"])));
        assert!(!hit(&m, &command("curl", &["u"], &["tee"])));
        let elsewhere = CommandSubject {
            command: &command("curl", &["u"], &["sh"]),
            context: Context::Dockerfile,
            line: 1,
            step: "",
        };
        assert!(m.matches(&elsewhere).is_none());
        let re = matcher(CommandMatch {
            regex: Some("GIT_SSL_NO_VERIFY=(1|true)".into()),
            ..Default::default()
        });
        let mut c = command("git", &["clone", "u"], &[]);
        assert!(!hit(&re, &c));
        c.text = "GIT_SSL_NO_VERIFY=1 git clone u".into();
        let why = re
            .matches(&CommandSubject {
                command: &c,
                context: Context::Shell,
                line: 1,
                step: "",
            })
            .unwrap();
        assert_eq!(why, ["matches `GIT_SSL_NO_VERIFY=(1|true)`"]);
    }
}
