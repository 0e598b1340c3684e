//! Finds the commands a shell script runs.
//!
//! cavra judges commands that strangers add to CI files, Dockerfiles and scripts, so this parser:
//! - never fails: unterminated quotes or heredocs become [`Issue`]s and the commands found so far
//!   are still returned (an attacker must not hide a command behind a syntax error);
//! - sees through quoting (`"cu""rl"`, `c\url`, `$'\x63url'`), `&&`, `||`, `;`, `&`, pipes,
//!   subshells, `{ }` groups, compound commands, functions, `$(...)`, backticks, `<(...)`,
//!   here-docs and line continuations;
//! - unwraps `sudo`, `doas`, `env A=1`, `command`, `exec`, `nohup`, `time`, `timeout N`, `nice`,
//!   `ionice`, `stdbuf`, `setsid`, `chroot DIR`, `busybox`, `xargs` and program paths
//!   (`/usr/bin/curl`), and parses the scripts given as text to `bash -c`/`sh -c`, `eval`,
//!   `trap`, `su -c`, `env -S`, `pwsh -Command`/`-EncodedCommand`, `cmd /c`, to a shell's
//!   standard input (`bash <<EOF`, `bash <<<'...'`, `echo '...' | sh`) and Dockerfile
//!   `RUN <<EOF` bodies (recursively, to a bounded depth);
//! - keeps GitHub/Azure `${{ ... }}` expressions and Azure `$(Macro.Names)` as opaque words;
//! - reads PowerShell and Windows `cmd` scripts too.
//!
//! Bounded: recursion stops at [`Options::max_depth`] (and at a fixed limit of 48 nested
//! constructs of any kind), output at [`Options::max_commands`]; time is linear in the script's
//! length.
//!
//! Not understood (the command stays as written): commands run by other programs' own options
//! (`find -exec`, `ssh host cmd`, `docker run img cmd`, `watch`, `flock`, `parallel`), aliases
//! and functions called by name (their bodies are listed where they are defined), programs
//! named by variables (`$CMD` is a command with an empty program), arithmetic (`$((...))` is
//! opaque, though `$(...)` inside it is found), `${...}` operators (opaque, `$(...)` inside found)
//! and the extended globs `@(...)`/`!(...)`.

mod ast;
mod cmd;
mod context;
mod emit;
mod lexer;
mod lines;
mod normal;
mod parser;
mod powershell;
mod redact;
mod scan;
mod unwrap;
mod words;

pub use context::Context;

/// The language a script is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// sh, bash, zsh, dash, ksh.
    #[default]
    Posix,
    /// PowerShell (`pwsh`, `powershell`): backtick is the escape character.
    PowerShell,
    /// Windows `cmd`: `^` is the escape character.
    Cmd,
    /// Not a shell (python, node...): each non-empty line becomes one command with no program.
    Opaque,
}

impl Dialect {
    /// The dialect of a declared shell such as `bash`, `pwsh`, `cmd` or `python {0}`.
    pub fn for_shell(shell: &str) -> Dialect {
        let program = shell.split_whitespace().next().unwrap_or("");
        let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
        let name = name.strip_suffix(".exe").unwrap_or(name);
        match name {
            "" | "sh" | "bash" | "zsh" | "dash" | "ksh" | "ash" | "busybox" => Dialect::Posix,
            "pwsh" | "powershell" => Dialect::PowerShell,
            "cmd" => Dialect::Cmd,
            _ => Dialect::Opaque,
        }
    }
}

/// How to parse.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The script's language.
    pub dialect: Dialect,
    /// Treat `${{ ... }}` as one opaque word (GitHub Actions, Azure template expressions).
    pub template_expressions: bool,
    /// Treat `$(Name.With.Dots)` as an opaque Azure Pipelines macro, not a command substitution.
    pub azure_macros: bool,
    /// How deep `bash -c`, `$(...)` and subshells may nest before the rest is left unparsed.
    pub max_depth: usize,
    /// Most commands returned for one script; the rest is reported as an [`Issue`].
    pub max_commands: usize,
}

impl Options {
    /// How to parse a script in `dialect` written where `context` says: GitHub and Azure
    /// scripts hold `${{ }}` template expressions, Azure scripts also `$(macro)`s.
    pub fn for_context(context: Context, dialect: Dialect) -> Options {
        Options {
            dialect,
            template_expressions: matches!(
                context,
                Context::GithubActions | Context::AzurePipelines
            ),
            azure_macros: context == Context::AzurePipelines,
            ..Options::default()
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dialect: Dialect::Posix,
            template_expressions: false,
            azure_macros: false,
            max_depth: 8,
            max_commands: 10_000,
        }
    }
}

/// One simple command, after quote removal and unwrapping.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Command {
    /// 1-based line in the script where the command starts.
    pub line: u32,
    /// The program's name: basename of the path, quotes removed (`/usr/bin/curl` -> `curl`).
    /// Empty when the program is dynamic (`$CMD`) or absent (a bare assignment).
    pub program: String,
    /// The words after the program, quotes removed; expansions such as `$X` or `${{ x }}` stay as written.
    pub args: Vec<String>,
    /// `NAME=value` prefixes, including those given through `env`.
    pub assignments: Vec<String>,
    /// The wrappers that were unwrapped, outermost first (`sudo`, `env`, `bash -c`, `xargs`...).
    pub wrappers: Vec<String>,
    /// Programs that receive this command's output, nearest first, without repeats: later stages
    /// of its pipeline, the command whose `$(...)`/`<(...)` argument it is, then (for commands
    /// nested in a substitution or in `bash -c '...'`) what that command feeds.
    pub feeds: Vec<String>,
    /// This command in normal form: assignments, program and args joined by single spaces,
    /// each word re-quoted only where needed (rules in the `normal` module); no wrappers, no
    /// redirections. Equal commands have equal text, however written.
    pub text: String,
    /// The normal form of the whole pipeline it belongs to, for display: the stages' texts
    /// joined by ` | ` (a compound stage as written, in normal form).
    pub pipeline: String,
}

/// Something the parser could not read; parsing went on after it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    /// 1-based line in the script.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

/// The commands of a script and the problems met on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Every simple command, in source order (nested ones after the command that holds them).
    pub commands: Vec<Command>,
    /// Syntax the parser could not read.
    pub issues: Vec<Issue>,
}

/// Parses `script` and returns every command it runs.
pub fn parse(script: &str, options: &Options) -> Parsed {
    let script = script.strip_prefix('\u{feff}').unwrap_or(script);
    if options.dialect == Dialect::Opaque {
        return opaque(script, options);
    }
    let (tree, mut issues) = parse_tree(script.as_bytes(), 1, options, 0, 0);
    let mut emitter = emit::Emitter::new(options);
    emitter.top(&tree);
    issues.append(&mut emitter.issues);
    issues.sort_by_key(|i| i.line);
    Parsed {
        commands: emitter.commands,
        issues,
    }
}

/// The syntax tree of `text` in `options.dialect`, whose first line is `line`, starting at the
/// given nesting.
pub(crate) fn parse_tree(
    text: &[u8],
    line: u32,
    options: &Options,
    depth: usize,
    nest: usize,
) -> (ast::Script, Vec<Issue>) {
    match options.dialect {
        Dialect::Posix => parser::parse(text, line, options, depth, nest),
        Dialect::PowerShell => powershell::parse(text, line, options, depth, nest),
        Dialect::Cmd => cmd::parse(text, line, options, depth, nest),
        Dialect::Opaque => (ast::Script::default(), Vec::new()),
    }
}

/// Not a shell: one command per non-empty line that is not a `#` comment.
fn opaque(script: &str, options: &Options) -> Parsed {
    let mut parsed = Parsed::default();
    for (i, line) in script.lines().enumerate() {
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if parsed.commands.len() >= options.max_commands {
            parsed.issues.push(Issue {
                line,
                message: format!(
                    "more than {} commands: the rest are not listed",
                    options.max_commands
                ),
            });
            break;
        }
        parsed.commands.push(Command {
            line,
            program: String::new(),
            args: Vec::new(),
            assignments: Vec::new(),
            wrappers: Vec::new(),
            feeds: Vec::new(),
            text: text.to_string(),
            pipeline: text.to_string(),
        });
    }
    parsed
}

/// `text` with likely secrets replaced by `***`: credentials in URLs, `Authorization` headers,
/// values of password/token/secret options and assignments, and well-known token formats.
/// References such as `$TOKEN` or `${{ secrets.X }}` are names, not values: they are kept.
pub fn redact(text: &str) -> String {
    redact::redact(text)
}
