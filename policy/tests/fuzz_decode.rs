//! Mutation fuzzing of the policy decoder (untrusted YAML must never panic it).
//!
//! Seeds: every built-in pack and its test cases. Each round applies a few byte-level
//! mutations (flip, insert, delete, duplicate a slice, splice YAML punctuation) with a fixed
//! PRNG seed, so a failure is reproducible; `CAVRA_FUZZ_ROUNDS` raises the round count.

use cavra_policy::builtin::PACKS;
use cavra_policy::{NoFiles, cases, resolve_policy};
use cavra_testkit::fuzz::{Rng, mutate, rounds};

const TOKENS: &[&[u8]] = &[
    b": ",
    b"- ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"&a ",
    b"*a",
    b"!reference ",
    b"|\n",
    b">-\n",
    b"'",
    b"\"",
    b"\n  ",
    b"\t",
    b"**/",
    b"(?",
    b"\\",
    b"~",
    b"---\n",
    b"? ",
    b"<<: *a\n",
    b"\xff",
    b"\x00",
    b"version: 1\n",
    b"extends: [builtin:baseline]\n",
];

#[test]
fn mutated_policies_never_panic() {
    let rounds = rounds(3_000);
    let baseline = resolve_policy("builtin:baseline", PACKS[0].policy, &NoFiles).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0;
    for round in 0..rounds {
        let pack = &PACKS[round % PACKS.len()];
        let seed = if round % 2 == 0 {
            pack.policy
        } else {
            pack.tests
        };
        let bytes = mutate(&mut rng, seed.as_bytes(), TOKENS);
        let text = String::from_utf8_lossy(&bytes);
        let result = std::panic::catch_unwind(|| {
            let ok = resolve_policy("fuzz.yaml", &text, &NoFiles).is_ok();
            let _ = cases::run(&baseline, "fuzz.tests.yaml", &text);
            ok
        });
        match result {
            Ok(ok) => accepted += usize::from(ok),
            Err(_) => panic!("round {round} panicked on input:\n{text}"),
        }
    }
    // The mutations must exercise both paths: some inputs still decode, most do not.
    assert!(
        accepted > 0 && accepted < rounds,
        "accepted {accepted} of {rounds}"
    );
}
