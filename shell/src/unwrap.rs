//! Seeing through wrappers: `sudo`, `env`, `timeout 30`, `xargs -I{}`... are peeled off to the
//! program they run; `bash -c '...'`, `eval`, `pwsh -Command`, `cmd /c`, `su -c` hand a script
//! back to be parsed.

use crate::Dialect;
use crate::ast::{Simple, Word};
use crate::words::program_name;

/// A simple command with its wrappers peeled off.
pub(crate) struct Peeled<'w> {
    /// `NAME=value` prefixes and those given to `env`/`sudo`.
    pub assigns: Vec<&'w Word>,
    /// The wrappers peeled off, outermost first.
    pub wrappers: Vec<String>,
    /// The program's name (empty when dynamic or absent).
    pub program: String,
    /// The word naming the program.
    pub program_word: Option<&'w Word>,
    /// The words after the program.
    pub args: &'w [Word],
    /// A script the program runs from a string (`bash -c '...'`).
    pub reparse: Option<Reparse>,
    /// The program is a POSIX shell reading its script from standard input.
    pub stdin_script: bool,
}

/// A script given to a program as text.
pub(crate) struct Reparse {
    /// How it was given: `bash -c`, `eval`, `pwsh -Command`...
    pub wrapper: String,
    pub text: Vec<u8>,
    /// Absolute line of the text's first line.
    pub line: u32,
    pub dialect: Dialect,
}

/// Options of a wrapper, to find the command after them.
struct Spec {
    /// Short options that take an argument (attached or the next word).
    short_arg: &'static [u8],
    /// Short options whose argument can only be attached (`xargs -i[R]`).
    short_opt_arg: &'static [u8],
    /// Long options that take the next word as argument when written without `=`.
    long_arg: &'static [&'static str],
    /// Short options meaning the command is not run (`command -v`).
    stop: &'static [u8],
    /// Operands before the command (`timeout DURATION`, `chroot DIR`).
    operands: usize,
    /// `NAME=value` words before the command are assignments.
    assignments: bool,
}

const fn spec(short_arg: &'static [u8], long_arg: &'static [&'static str]) -> Spec {
    Spec {
        short_arg,
        short_opt_arg: b"",
        long_arg,
        stop: b"",
        operands: 0,
        assignments: false,
    }
}

const SUDO: Spec = Spec {
    assignments: true,
    ..spec(
        b"ugpCDRTUrt",
        &[
            "--user",
            "--group",
            "--host",
            "--prompt",
            "--close-from",
            "--chdir",
            "--role",
            "--type",
            "--other-user",
            "--command-timeout",
        ],
    )
};
const DOAS: Spec = spec(b"uC", &[]);
const ENV: Spec = Spec {
    assignments: true,
    ..spec(b"uCP", &["--unset", "--chdir"])
};
const COMMAND: Spec = Spec {
    stop: b"vV",
    ..spec(b"", &[])
};
const EXEC: Spec = spec(b"a", &[]);
const PLAIN: Spec = spec(b"", &[]);
const TIME: Spec = spec(b"of", &["--output", "--format"]);
const TIMEOUT: Spec = Spec {
    operands: 1,
    ..spec(b"sk", &["--signal", "--kill-after"])
};
const NICE: Spec = spec(b"n", &["--adjustment"]);
const IONICE: Spec = spec(
    b"cnpPu",
    &["--class", "--classdata", "--pid", "--pgid", "--uid"],
);
const STDBUF: Spec = spec(b"ioe", &["--input", "--output", "--error"]);
const CHROOT: Spec = Spec {
    operands: 1,
    ..spec(b"", &["--userspec", "--groups"])
};
const XARGS: Spec = Spec {
    short_opt_arg: b"ile",
    ..spec(
        b"InLPsdEa",
        &[
            "--arg-file",
            "--delimiter",
            "--max-args",
            "--max-procs",
            "--max-chars",
            "--process-slot-var",
        ],
    )
};

/// POSIX shells that take `-c 'script'`.
const SHELLS: [&str; 9] = [
    "sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "yash", "rbash",
];

/// `name` is a POSIX shell (`bash`, `sh`...).
pub(crate) fn is_shell(name: &str) -> bool {
    SHELLS.contains(&name)
}

/// Peels the wrappers off `simple`.
pub(crate) fn peel(simple: &Simple, dialect: Dialect) -> Peeled<'_> {
    let words = simple.words.as_slice();
    let mut out = Peeled {
        assigns: simple.assigns.iter().collect(),
        wrappers: Vec::new(),
        program: String::new(),
        program_word: None,
        args: &[],
        reparse: None,
        stdin_script: false,
    };
    let windows = matches!(dialect, Dialect::PowerShell | Dialect::Cmd);
    let mut i = 0;
    while i < words.len() {
        let name = program_name(&words[i], dialect);
        let key = if windows {
            name.to_ascii_lowercase()
        } else {
            name.clone()
        };
        let simple_spec = match key.as_str() {
            "sudo" => Some(&SUDO),
            "doas" => Some(&DOAS),
            "command" => Some(&COMMAND),
            "builtin" | "nohup" | "setsid" | "busybox" => Some(&PLAIN),
            "call" if dialect == Dialect::Cmd => Some(&PLAIN),
            "exec" => Some(&EXEC),
            "time" => Some(&TIME),
            "timeout" => Some(&TIMEOUT),
            "nice" => Some(&NICE),
            "ionice" => Some(&IONICE),
            "stdbuf" => Some(&STDBUF),
            "chroot" => Some(&CHROOT),
            "xargs" => Some(&XARGS),
            "env" => {
                if let Some(text) = env_split_string(&words[i + 1..]) {
                    out.reparse = Some(Reparse {
                        wrapper: "env -S".to_string(),
                        text,
                        line: words[i].line,
                        dialect: Dialect::Posix,
                    });
                    break;
                }
                Some(&ENV)
            }
            _ => None,
        };
        if let Some(spec) = simple_spec {
            match skip_options(words, i + 1, spec) {
                Some((next, assigns)) => {
                    out.assigns.extend(assigns.into_iter().map(|k| &words[k]));
                    out.wrappers.push(key);
                    i = next;
                    continue;
                }
                None => break,
            }
        }
        out.reparse = match key.as_str() {
            "eval" => eval(&words[i + 1..], dialect),
            "trap" if dialect == Dialect::Posix => trap(&words[i + 1..]),
            "pwsh" | "powershell" => powershell(&words[i + 1..], &key),
            "cmd" => cmd(&words[i + 1..], &key),
            "su" | "runuser" => su(&words[i + 1..], &key),
            k if is_shell(k) => {
                let (reparse, stdin) = shell(&words[i + 1..], k);
                out.stdin_script = stdin;
                reparse
            }
            _ => None,
        };
        break;
    }
    if let Some(word) = words.get(i) {
        out.program = program_name(word, dialect);
        if dialect == Dialect::PowerShell && !simple.call && word.starts_unquoted().is_none() {
            out.program.clear();
        }
        out.program_word = Some(word);
        out.args = &words[i + 1..];
    }
    out
}

/// The index of the command after a wrapper's options, and the `NAME=value` words before it.
fn skip_options(words: &[Word], from: usize, spec: &Spec) -> Option<(usize, Vec<usize>)> {
    let mut j = from;
    while j < words.len() {
        let v = words[j].value();
        if v == b"--" {
            j += 1;
            break;
        }
        if let Some(long) = v.strip_prefix(b"--") {
            let takes_next = !long.contains(&b'=')
                && spec
                    .long_arg
                    .iter()
                    .any(|o| o.as_bytes().get(2..) == Some(long));
            j += if takes_next { 2 } else { 1 };
            continue;
        }
        if v == b"-" {
            j += 1;
            continue;
        }
        if v.len() > 1 && v[0] == b'-' {
            let mut takes_next = false;
            for (k, c) in v.iter().enumerate().skip(1) {
                if spec.stop.contains(c) {
                    return None;
                }
                if spec.short_arg.contains(c) {
                    takes_next = k + 1 == v.len();
                    break;
                }
                if spec.short_opt_arg.contains(c) {
                    break;
                }
            }
            j += if takes_next { 2 } else { 1 };
            continue;
        }
        break;
    }
    let mut assigns = Vec::new();
    if spec.assignments {
        while j < words.len() && words[j].is_assignment() {
            assigns.push(j);
            j += 1;
        }
    }
    j += spec.operands;
    (j < words.len()).then_some((j, assigns))
}

/// `env -S 'cmd args' more` / `--split-string=...`: the command line it splits.
fn env_split_string(args: &[Word]) -> Option<Vec<u8>> {
    let mut skip_next = false;
    for (j, word) in args.iter().enumerate() {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        let v = word.value();
        if matches!(
            v.as_slice(),
            b"-u" | b"-C" | b"-P" | b"--unset" | b"--chdir"
        ) {
            skip_next = true;
            continue;
        }
        let (first, rest_from) = if v == b"-S" || v == b"--split-string" {
            (args.get(j + 1)?.value(), j + 2)
        } else if let Some(s) = v.strip_prefix(b"--split-string=") {
            (s.to_vec(), j + 1)
        } else if v.starts_with(b"-S") && v.len() > 2 {
            (v[2..].to_vec(), j + 1)
        } else if v.first() == Some(&b'-') {
            continue;
        } else {
            return None;
        };
        if args.iter().any(Word::has_commands) {
            return None;
        }
        return Some(join(first, args.get(rest_from..).unwrap_or(&[])));
    }
    None
}

/// `first` and the values of `rest`, joined by spaces.
fn join(first: Vec<u8>, rest: &[Word]) -> Vec<u8> {
    let mut text = first;
    for w in rest {
        if !text.is_empty() {
            text.push(b' ');
        }
        text.extend_from_slice(&w.value());
    }
    text
}

fn eval(args: &[Word], dialect: Dialect) -> Option<Reparse> {
    let first = args.first()?;
    if args.iter().any(Word::has_commands) {
        return None;
    }
    Some(Reparse {
        wrapper: "eval".to_string(),
        text: join(Vec::new(), args),
        line: first.line,
        dialect,
    })
}

/// `trap 'commands' SIGNAL...`: the commands run on a signal.
fn trap(args: &[Word]) -> Option<Reparse> {
    let action = args.first()?;
    let value = action.value();
    if args.len() < 2 || value == b"-" || value.starts_with(b"-") || action.has_commands() {
        return None;
    }
    Some(Reparse {
        wrapper: "trap".to_string(),
        text: value,
        line: action.line,
        dialect: Dialect::Posix,
    })
}

/// `sh -c 'script'` (also `bash -ex -c`, `bash -lc`, `sh -c -- 'script'`): the script, and
/// whether the shell reads its script from standard input instead.
fn shell(args: &[Word], name: &str) -> (Option<Reparse>, bool) {
    let mut j = 0;
    let mut saw_c = false;
    let mut saw_s = false;
    while j < args.len() {
        let v = args[j].value();
        if v == b"--" || v == b"-" {
            j += 1;
            break;
        }
        if v.starts_with(b"--") {
            j += if v == b"--rcfile" || v == b"--init-file" {
                2
            } else {
                1
            };
            continue;
        }
        if v.len() > 1 && (v[0] == b'-' || v[0] == b'+') {
            let mut extra = 0;
            for c in &v[1..] {
                match c {
                    b'c' => saw_c = true,
                    b's' => saw_s = true,
                    b'o' | b'O' => extra += 1,
                    _ => {}
                }
            }
            j += 1 + extra;
            continue;
        }
        break;
    }
    if saw_c {
        let reparse = args.get(j).filter(|w| !w.has_commands()).map(|w| Reparse {
            wrapper: format!("{name} -c"),
            text: w.value(),
            line: w.line,
            dialect: Dialect::Posix,
        });
        return (reparse, false);
    }
    (None, saw_s || j >= args.len())
}

/// `pwsh -Command ...`, `powershell -c ...`, `-EncodedCommand BASE64`, and Windows PowerShell's
/// default of running its first argument as a command.
fn powershell(args: &[Word], name: &str) -> Option<Reparse> {
    let is_prefix = |v: &str, full: &str, min: usize| v.len() >= min && full.starts_with(v);
    let mut j = 0;
    while j < args.len() {
        let v = args[j].string().to_ascii_lowercase();
        let Some(opt) = v.strip_prefix('-') else {
            // Windows PowerShell runs a bare argument as a command, pwsh as a file.
            if name == "powershell" {
                return command_text(&args[j..], name);
            }
            return None;
        };
        if is_prefix(opt, "command", 1) {
            return command_text(&args[j + 1..], name);
        }
        if is_prefix(opt, "encodedcommand", 1) || opt == "ec" {
            let word = args.get(j + 1)?;
            let text = decode_utf16le(&base64(&word.value())?);
            return Some(Reparse {
                wrapper: format!("{name} -EncodedCommand"),
                text: text.into_bytes(),
                line: word.line,
                dialect: Dialect::PowerShell,
            });
        }
        if is_prefix(opt, "file", 1) {
            return None;
        }
        let takes_arg = is_prefix(opt, "executionpolicy", 2)
            || opt == "ep"
            || is_prefix(opt, "windowstyle", 1)
            || is_prefix(opt, "workingdirectory", 2)
            || opt == "wd"
            || is_prefix(opt, "configurationname", 4)
            || is_prefix(opt, "outputformat", 1)
            || opt == "of"
            || is_prefix(opt, "inputformat", 2)
            || opt == "if"
            || is_prefix(opt, "version", 1)
            || is_prefix(opt, "psconsolefile", 2)
            || is_prefix(opt, "settingsfile", 2)
            || is_prefix(opt, "custompipename", 2)
            || is_prefix(opt, "encodedarguments", 8)
            || opt == "ea";
        j += if takes_arg { 2 } else { 1 };
    }
    None
}

/// The PowerShell script given as the remaining arguments (`-` means standard input).
fn command_text(args: &[Word], name: &str) -> Option<Reparse> {
    let first = args.first()?;
    if first.value() == b"-" || args.iter().any(Word::has_commands) {
        return None;
    }
    Some(Reparse {
        wrapper: format!("{name} -Command"),
        text: join(Vec::new(), args),
        line: first.line,
        dialect: Dialect::PowerShell,
    })
}

/// `cmd /c command` (`/k`, `/s`, `/q`..., Git Bash's `//c`).
fn cmd(args: &[Word], name: &str) -> Option<Reparse> {
    for (j, word) in args.iter().enumerate() {
        let v = word.string().to_ascii_lowercase();
        let opt = v.strip_prefix("//").or_else(|| v.strip_prefix('/'))?;
        if opt == "c" || opt == "k" {
            let rest = &args[j + 1..];
            let first = rest.first()?;
            if rest.iter().any(Word::has_commands) {
                return None;
            }
            return Some(Reparse {
                wrapper: format!("{name} /c"),
                text: join(Vec::new(), rest),
                line: first.line,
                dialect: Dialect::Cmd,
            });
        }
    }
    None
}

/// `su [options] [user] -c 'command'`, `runuser -l user -c ...`, `--command=...`.
fn su(args: &[Word], name: &str) -> Option<Reparse> {
    let mut j = 0;
    while j < args.len() {
        let v = args[j].value();
        let command = if let Some(c) = v.strip_prefix(b"--command=") {
            Some((c.to_vec(), args[j].line))
        } else if v == b"--command" || v == b"--session-command" {
            args.get(j + 1).map(|w| (w.value(), w.line))
        } else if v.len() > 1 && v[0] == b'-' && v[1] != b'-' {
            match v.iter().position(|c| *c == b'c') {
                Some(k) if k + 1 < v.len() => Some((v[k + 1..].to_vec(), args[j].line)),
                Some(_) => args.get(j + 1).map(|w| (w.value(), w.line)),
                None => {
                    if matches!(v.last(), Some(b's' | b'g' | b'G' | b'w')) {
                        j += 1;
                    }
                    None
                }
            }
        } else {
            None
        };
        if let Some((text, line)) = command {
            if args.iter().any(Word::has_commands) {
                return None;
            }
            return Some(Reparse {
                wrapper: format!("{name} -c"),
                text,
                line,
                dialect: Dialect::Posix,
            });
        }
        j += 1;
    }
    None
}

/// Standard base64 (padding and whitespace ignored); `None` on other bytes.
fn base64(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn decode_utf16le(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes() {
        assert_eq!(base64(b"aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64(b"aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64(b"YQ==").unwrap(), b"a");
        assert!(base64(b"a*b").is_none());
        // "ls" in UTF-16LE
        assert_eq!(decode_utf16le(&base64(b"bABzAA==").unwrap()), "ls");
        assert_eq!(decode_utf16le(&[0x6c]), "");
    }

    #[test]
    fn shells() {
        assert!(is_shell("bash"));
        assert!(!is_shell("python"));
    }

    /// Peels the first simple command of a POSIX `script`: (wrappers, program, args, reparse).
    fn peeled(script: &str) -> (Vec<String>, String, Vec<String>, Option<String>, bool) {
        use crate::ast::Node;
        let (tree, _) =
            crate::parser::parse(script.as_bytes(), 1, &crate::Options::default(), 0, 0);
        let Node::Simple(s) = &tree.items[0].first.stages[0] else {
            panic!("not simple: {script}")
        };
        let p = peel(s, Dialect::Posix);
        let reparse = p
            .reparse
            .map(|r| format!("{}: {}", r.wrapper, String::from_utf8_lossy(&r.text)));
        let args = p.args.iter().map(Word::string).collect();
        (p.wrappers, p.program, args, reparse, p.stdin_script)
    }

    #[test]
    fn option_skipping() {
        let (w, p, a, _, _) = peeled("sudo -u root -g wheel -E -- id -u");
        assert_eq!(
            (w, p, a),
            (vec!["sudo".into()], "id".into(), vec!["-u".into()])
        );
        let (w, p, _, _, _) = peeled("timeout --kill-after 5 --signal=TERM 1m make");
        assert_eq!((w, p), (vec!["timeout".into()], "make".to_string()));
        let (w, p, _, _, _) = peeled("xargs -r -L 1 -i{} -- echo");
        assert_eq!((w, p), (vec!["xargs".into()], "echo".to_string()));
        let (w, p, _, _, _) = peeled("timeout 10");
        assert_eq!((w, p), (vec![], "timeout".to_string()));
        let (w, p, _, _, _) = peeled("command -V ls");
        assert_eq!((w, p), (vec![], "command".to_string()));
    }

    #[test]
    fn scripts_given_as_text() {
        assert_eq!(peeled("bash -xc 'a b'").3.as_deref(), Some("bash -c: a b"));
        assert_eq!(peeled("sh -c -e 'a'").3.as_deref(), Some("sh -c: a"));
        assert_eq!(peeled("sh -c \"$(x)\"").3, None);
        assert_eq!(peeled("eval a '|' b").3.as_deref(), Some("eval: a | b"));
        assert_eq!(peeled("su - deploy -c 'a'").3.as_deref(), Some("su -c: a"));
        assert_eq!(
            peeled("su --command='a b' x").3.as_deref(),
            Some("su -c: a b")
        );
        assert_eq!(peeled("trap 'a' EXIT").3.as_deref(), Some("trap: a"));
        assert_eq!(peeled("trap - EXIT").3, None);
        assert_eq!(peeled("env -S'a b' c").3.as_deref(), Some("env -S: a b c"));
        assert_eq!(peeled("env -u X -S 'a'").3.as_deref(), Some("env -S: a"));
        assert_eq!(peeled("cmd //c dir").3.as_deref(), Some("cmd /c: dir"));
        assert_eq!(
            peeled("pwsh -nop -c Get-Item x").3.as_deref(),
            Some("pwsh -Command: Get-Item x")
        );
        assert_eq!(peeled("pwsh -c -").3, None);
        assert_eq!(peeled("pwsh x.ps1").3, None);
        assert_eq!(
            peeled("powershell Get-Item").3.as_deref(),
            Some("powershell -Command: Get-Item")
        );
        assert_eq!(
            peeled("powershell -ec ZABpAHIA").3.as_deref(),
            Some("powershell -EncodedCommand: dir")
        );
    }

    #[test]
    fn shells_reading_standard_input() {
        assert!(peeled("bash").4);
        assert!(peeled("sh -s a b").4);
        assert!(peeled("bash -ex").4);
        assert!(!peeled("bash x.sh").4);
        assert!(!peeled("bash -c x").4);
        assert!(!peeled("python3").4);
    }
}
