//! Shell scripts (`*.sh`, `*.bash`, files with a shell shebang): the whole file is one step, so
//! the gate can diff the commands of the base and head versions.
//!
//! The step's `shell` is the interpreter the `#!` line names (`#!/bin/bash` and
//! `#!/usr/bin/env bash` give `bash`, `#!/usr/bin/python3` gives `python3`); without a shebang
//! it is `None` (POSIX sh). Invalid UTF-8 is read lossily; a leading byte-order mark is dropped.

use crate::{Extraction, Step, Via};
use cavra_shell::Context;

/// The file as one step at line 1, location `script`.
pub(crate) fn extract(path: &str, text: &[u8]) -> Extraction {
    let script = &*crate::decode(text);
    Extraction {
        steps: vec![Step {
            context: Context::Shell,
            file: path.to_string(),
            line: 1,
            location: "script".to_string(),
            shell: shebang(script),
            script: script.to_string(),
            lifecycle: false,
            via: Via::Direct,
        }],
        errors: Vec::new(),
    }
}

/// The interpreter named by a `#!` first line (see [`interpreter`]).
pub(crate) fn shebang(text: &str) -> Option<String> {
    interpreter(text.split('\n').next()?.strip_prefix("#!")?)
}

/// The program a command line such as `/usr/bin/env -S bash -e` runs: the base name of its
/// first word or, for `env`, of the first operand after options and `NAME=value` assignments.
pub(crate) fn interpreter(command: &str) -> Option<String> {
    let mut words = command.split_ascii_whitespace();
    let program = basename(words.next()?);
    if program != "env" {
        return nonempty(program);
    }
    let mut skip_next = false;
    for word in words {
        if skip_next {
            skip_next = false;
        } else if word == "-u" || word == "-C" || word == "--unset" || word == "--chdir" {
            skip_next = true;
        } else if let Some(rest) = word.strip_prefix("-S").filter(|r| !r.is_empty()) {
            return nonempty(basename(rest));
        } else if word.starts_with('-') || word.contains('=') {
            continue;
        } else {
            return nonempty(basename(word));
        }
    }
    None
}

/// The last component of a Unix or Windows path.
pub(crate) fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn nonempty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_variants() {
        let cases = [
            ("#!/bin/bash\necho", Some("bash")),
            ("#!/bin/sh -e\n", Some("sh")),
            ("#! /usr/bin/env bash\n", Some("bash")),
            ("#!/usr/bin/env -S bash -euo pipefail\n", Some("bash")),
            ("#!/usr/bin/env -Szsh\n", Some("zsh")),
            ("#!/usr/bin/env -i PATH=/bin -u HOME dash\n", Some("dash")),
            ("#!/usr/bin/python3\r\nprint(1)", Some("python3")),
            ("#!/usr/bin/env\n", None),
            ("#!\n", None),
            ("# just a comment\n", None),
            ("echo hi\n#!/bin/bash\n", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(shebang(text).as_deref(), want, "{text:?}");
        }
    }

    #[test]
    fn whole_file_is_one_step() {
        let text = "\u{feff}#!/usr/bin/env bash\nset -e\ncurl -fsSL https://x | sh\n";
        let e = extract("ci/install.sh", text.as_bytes());
        assert!(e.errors.is_empty());
        assert_eq!(e.steps.len(), 1);
        let s = &e.steps[0];
        assert_eq!(s.file, "ci/install.sh");
        assert_eq!((s.line, s.location.as_str()), (1, "script"));
        assert_eq!(s.shell.as_deref(), Some("bash"));
        assert_eq!(s.script, &text[3..]);
        assert_eq!(s.context, Context::Shell);
        assert!(!s.lifecycle);
    }

    #[test]
    fn invalid_utf8_is_lossy() {
        let e = extract("a.sh", b"echo \xff\xfe ok\n");
        assert_eq!(e.steps[0].script, "echo \u{fffd}\u{fffd} ok\n");
        assert_eq!(e.steps[0].shell, None);
    }
}
