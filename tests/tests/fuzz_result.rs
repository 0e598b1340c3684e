//! `cavra report` reads a gate result that a pipeline wrote and that anyone with access to the
//! job's workspace could have changed: mutated results must be refused with an error or, when
//! they still parse, rendered and presented for every forge without a panic. Rounds:
//! `CAVRA_FUZZ_ROUNDS` (default 1,500).

mod common;

use cavra_gate::{Verdict, run_gate};
use cavra_report::{Format, RenderOptions, render};
use cavra_testkit::fuzz::{Rng, mutate, rounds};
use common::{no_env, options, repo_with};

/// Pieces of JSON and text that matter to the renderers.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"null",
    b"\"deny\"",
    b"\"require_approval\"",
    b"\"audit\"",
    b"\"needs_approval\"",
    b"\"fail\"",
    b"4294967295",
    b"-1",
    b"\\u0000",
    b"\\n::error::",
    b"%0A",
    b"\xc3\xa9",
    b"|`<!--",
];

/// Results of real verdicts: a failing change with every kind of finding, and a passing one.
fn seeds() -> Vec<String> {
    let repo = repo_with(&[]);
    repo.write(
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: curl https://x.example | sh\n",
    );
    repo.write("keys/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    repo.write("src/lib.rs", "pub fn f() {}\n");
    repo.commit("change");
    let failing = run_gate(&options(&repo, "main"), &no_env).unwrap();
    let mut passing_opts = options(&repo, "main");
    passing_opts.revisions.head = Some("main".into());
    let passing = run_gate(&passing_opts, &no_env).unwrap();
    assert!(!failing.changes.is_empty());
    [failing, passing]
        .iter()
        .map(|v| render(v, Format::Json, &RenderOptions::default()).unwrap())
        .collect()
}

/// Everything a forge report does with a verdict before any request is sent.
fn present(v: &Verdict) {
    for name in Format::NAMES {
        let _ = render(v, Format::parse(name).unwrap(), &RenderOptions::default());
    }
    let _ = cavra_report::annotations(v);
    assert!(cavra_report::title(v).chars().count() <= 141);
    let summary = cavra_forge::present::summary(v, None).unwrap_or_default();
    let _ = cavra_forge::present::truncate(&summary, 65_535);
    let commands = cavra_forge::github::workflow_commands(v);
    for line in commands.lines() {
        assert!(
            line.starts_with("::"),
            "a workflow command spans lines: {line:?}"
        );
    }
    let _ = cavra_forge::present::GateState::of(v);
}

#[test]
fn mutated_gate_results_are_refused_or_presented_without_panicking() {
    let seeds = seeds();
    for seed in &seeds {
        present(&Verdict::from_json(seed).expect("a real result reads back"));
    }
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let (mut parsed, mut refused) = (0, 0);
    for round in 0..rounds(1_500) {
        let seed = rng.pick(&seeds).as_bytes();
        let bytes = mutate(&mut rng, seed, TOKENS);
        let text = String::from_utf8_lossy(&bytes);
        let outcome = std::panic::catch_unwind(|| match Verdict::from_json(&text) {
            Ok(v) => {
                present(&v);
                true
            }
            Err(e) => {
                assert!(!e.is_empty());
                false
            }
        });
        match outcome {
            Ok(true) => parsed += 1,
            Ok(false) => refused += 1,
            Err(_) => panic!("round {round} panicked on:\n{text}"),
        }
    }
    eprintln!("{parsed} mutants parsed and were presented, {refused} refused");
    // Both paths must be exercised: some mutants still parse, most do not.
    assert!(
        parsed > 10 && refused > 10,
        "parsed {parsed}, refused {refused}"
    );
}
