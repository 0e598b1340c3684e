//! The parser never panics, never loops, stays within its limits and scales linearly: mutation
//! fuzzing with a fixed seed, and megabyte-sized scripts.

use cavra_shell::{Dialect, Options, Parsed, parse, redact};
use cavra_testkit::fuzz::Rng;

/// Scripts to mutate: every construct the parsers know.
const SEEDS: &[&str] = &[
    "curl -fsSL https://x | sudo bash",
    "c\"ur\"l x | b'a'sh; \\curl y | sh",
    "bash -c \"bash -c 'curl x | sh'\"",
    "sudo -E env FOO=1 timeout 30 /usr/local/bin/terraform apply -auto-approve",
    "echo $(curl -s x | base64 -d | sh) `date` <(a) >(b) ${X:-$(c)} $((1 + $(d)))",
    "bash <<'EOF'\ncurl x | sh\nEOF\ncat <<-A <<B\n\ta\n\tA\n$(b)\nB\n",
    "if a; then b; elif c; then d; else e; fi; while f; do g; done; until h; do i; done",
    "for x in 1 2; do y; done; for ((i=0;i<3;i++)); do z; done; select s in a; do b; done",
    "case $x in a|b) c;; (d) e;& *) f;;& esac",
    "f() { a; }; function g { b; }; (c; d) | { e; f; } && ! g || h &",
    "[[ -f x && $(y) ]] && (( i++ )); arr=(a $(b) 'c d'); x=$'\\x63\\n\\101'",
    "cmd >out 2>&1 &>all <in <<<\"s\" 3<&0 >|f <>rw",
    "echo ${{ github.event.issue.title }} $(Build.SourcesDirectory) '${{ a }}'",
    "eval \"curl x | sh\"; trap 'rm -f t' EXIT; su -c 'a' u; xargs -I{} curl {}",
    "pwsh -Command \"iwr x | iex\"; cmd /c \"a & b\"; powershell -enc aQB3AHIA",
    "iex ((New-Object Net.WebClient).DownloadString('x')); & \"C:\\x\\y.exe\" a",
    "$env:A = \"b\"; if ($x) { a } else { b }; @'\nx\n'@ | c; <# c #> d `\n e",
    "@echo off\nREM x\nif exist f (del f) else (echo n)\nfor /f %%i in ('a') do b %%i ^& c",
];

/// Fragments to splice in.
const FRAGMENTS: &[&str] = &[
    "'",
    "\"",
    "`",
    "\\",
    "\\\n",
    "$(",
    "$((",
    "${",
    "${{",
    "}}",
    "(",
    ")",
    "{",
    "}",
    "[[",
    "]]",
    "<<",
    "<<-",
    "<<<",
    "EOF\n",
    "\n",
    ";",
    ";;",
    "&",
    "&&",
    "|",
    "||",
    "|&",
    "<(",
    ">(",
    "#",
    "if ",
    "then ",
    "fi",
    "do ",
    "done",
    "case ",
    " in ",
    "esac",
    "function ",
    "() ",
    "!",
    "$'",
    "\\x",
    "@(",
    "@{",
    "<#",
    "#>",
    "^",
    "%A%",
    "=",
    "A=",
    "sudo ",
    "bash -c ",
    "eval ",
    "env ",
    "xargs ",
    "é",
    "\u{feff}",
    "\r\n",
    "\t",
    " ",
];

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut s: Vec<u8> = seed.as_bytes().to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(s.len() + 1);
        match rng.below(5) {
            0 => {
                let f = rng.pick(FRAGMENTS).as_bytes();
                s.splice(at..at, f.iter().copied());
            }
            1 if !s.is_empty() => {
                let end = (at + 1 + rng.below(8)).min(s.len());
                s.drain(at.min(end)..end);
            }
            2 if !s.is_empty() => {
                let i = rng.below(s.len());
                s[i] = (rng.next() & 0x7f) as u8;
            }
            3 => {
                let other = rng.pick(SEEDS).as_bytes();
                let from = rng.below(other.len());
                let to = (from + rng.below(40)).min(other.len());
                s.splice(at..at, other[from..to].iter().copied());
            }
            _ => {
                let end = (at + rng.below(20)).min(s.len());
                let copy = s[at..end].to_vec();
                s.splice(at..at, copy);
            }
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

fn random_tokens(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(60) {
        if rng.below(4) == 0 {
            s.push(char::from(b'a' + rng.below(26) as u8));
        } else {
            let fragment = *rng.pick(FRAGMENTS);
            s.push_str(fragment);
        }
    }
    s
}

fn random_bytes(rng: &mut Rng) -> String {
    let bytes: Vec<u8> = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[track_caller]
fn check_invariants(script: &str, opts: &Options, p: &Parsed) {
    assert!(p.commands.len() <= opts.max_commands, "{script:?}");
    for c in &p.commands {
        assert!(c.line >= 1, "{script:?}: {c:?}");
        assert!(c.feeds.len() <= 32, "{script:?}: {c:?}");
        assert!(c.feeds.iter().all(|f| !f.is_empty()), "{script:?}: {c:?}");
        assert!(
            c.wrappers.iter().all(|w| !w.is_empty()),
            "{script:?}: {c:?}"
        );
        let _ = redact(&c.text);
    }
    for i in &p.issues {
        assert!(i.line >= 1, "{script:?}: {i:?}");
    }
}

#[test]
fn fuzz_never_panics() {
    let rounds: usize = std::env::var("CAVRA_SHELL_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let dialects = [
        Dialect::Posix,
        Dialect::PowerShell,
        Dialect::Cmd,
        Dialect::Opaque,
    ];
    for round in 0..rounds {
        let script = match round % 4 {
            0 => random_tokens(&mut rng),
            1 => random_bytes(&mut rng),
            _ => {
                let seed = *rng.pick(SEEDS);
                mutate(&mut rng, seed)
            }
        };
        let opts = Options {
            dialect: *rng.pick(&dialects),
            template_expressions: rng.below(2) == 0,
            azure_macros: rng.below(2) == 0,
            max_depth: rng.below(10),
            max_commands: 1 + rng.below(50),
        };
        let p = parse(&script, &opts);
        check_invariants(&script, &opts, &p);
        assert_eq!(p, parse(&script, &opts), "deterministic: {script:?}");
        let _ = redact(&script);
    }
}

#[test]
fn every_prefix_of_the_seeds() {
    // Cut anywhere, each seed still parses in every dialect.
    for seed in SEEDS {
        for (end, _) in seed.char_indices() {
            for dialect in [Dialect::Posix, Dialect::PowerShell, Dialect::Cmd] {
                let opts = Options {
                    dialect,
                    template_expressions: true,
                    azure_macros: true,
                    ..Options::default()
                };
                let p = parse(&seed[..end], &opts);
                check_invariants(&seed[..end], &opts, &p);
            }
        }
    }
}

#[test]
fn a_megabyte_of_lines() {
    let line =
        "curl -fsSL \"https://x/$(uname -m)\" | sudo bash -c 'tee /tmp/x && echo ${A:-b}' # c\n";
    let script = line.repeat(1_000_000 / line.len());
    let lines = script.lines().count();
    let opts = Options {
        max_commands: usize::MAX,
        ..Options::default()
    };
    let p = parse(&script, &opts);
    assert!(p.issues.is_empty());
    // curl, uname (in its argument), tee and echo (in the `bash -c` string) on every line.
    assert_eq!(p.commands.len(), 4 * lines);
    let last = p.commands.last().unwrap();
    assert_eq!((last.program.as_str(), last.line as usize), ("echo", lines));
    assert_eq!(p.commands[1].feeds, ["curl", "bash"]);
}

#[test]
fn megabyte_pathologies_complete() {
    let posix = Options::default();
    let ps = Options {
        dialect: Dialect::PowerShell,
        ..posix
    };
    let cmd = Options {
        dialect: Dialect::Cmd,
        ..posix
    };
    let tpl = Options {
        template_expressions: true,
        azure_macros: true,
        ..posix
    };
    let cases: Vec<(String, Options)> = vec![
        ("(".repeat(1 << 20), posix),
        ("$(".repeat(1 << 19), posix),
        ("{ ".repeat(1 << 19), posix),
        ("\"".repeat(1 << 20), posix),
        ("`".repeat(1 << 20), posix),
        ("${".repeat(1 << 19), posix),
        ("${{ ".repeat(1 << 18), tpl),
        ("$(a.".repeat(1 << 18), tpl),
        ("cat <<E <<F\n".repeat(1 << 16), posix),
        ("a | ".repeat(1 << 17), posix),
        ("sudo ".repeat(1 << 18), posix),
        ("case x in ".repeat(1 << 16), posix),
        ("a=(".repeat(1 << 18), posix),
        ("x".repeat(1 << 20), posix),
        ("(".repeat(1 << 19), ps),
        ("{".repeat(1 << 19), ps),
        ("\"".repeat(1 << 20), ps),
        (
            "${{ a } ".repeat(1 << 17),
            Options {
                template_expressions: true,
                ..ps
            },
        ),
        ("${{ a } ".repeat(1 << 17), tpl),
        ("(".repeat(1 << 19), cmd),
        ("%a".repeat(1 << 18), cmd),
        ("if a ".repeat(1 << 17), cmd),
    ];
    for (script, opts) in cases {
        let p = parse(&script, &opts);
        check_invariants("(large)", &opts, &p);
    }
}

#[test]
fn deep_nesting_within_the_stack() {
    // With an unlimited depth, the fixed nesting limit still keeps the stack small.
    let opts = Options {
        max_depth: usize::MAX,
        ..Options::default()
    };
    let mix = "$( { if a; then ( f() { case x in a) while b; do [[ $(x) ]] && for i in `y`; do "
        .repeat(60);
    let p = parse(&mix, &opts);
    assert!(!p.issues.is_empty());
    let evals = format!("{}curl x | sh", "eval ".repeat(500));
    let p = parse(&evals, &opts);
    assert!(
        p.issues
            .iter()
            .any(|i| i.message.contains("nested more than"))
    );
    let ps = Options {
        dialect: Dialect::PowerShell,
        ..opts
    };
    let p = parse(&"$(@({(".repeat(200), &ps);
    assert!(!p.issues.is_empty());
    let p = parse(&format!("{}iex", "pwsh -c ".repeat(300)), &ps);
    assert!(!p.issues.is_empty());
}
