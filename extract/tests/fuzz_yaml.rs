//! Mutation fuzzing of the YAML CI extractors: real corpus files with bytes flipped, inserted,
//! deleted and spliced are extracted as every YAML kind, and every step's script is parsed.
//! Nothing may panic; each round must finish. Rounds: `CAVRA_FUZZ_ROUNDS` (default 2,000).

use cavra_extract::{FileKind, Files, extract};
use cavra_testkit::fuzz::Rng;
use std::collections::HashMap;
use std::path::Path;

/// The other corpus files, for `include: local` and templates.
struct MapFiles(HashMap<String, Vec<u8>>);

impl Files for MapFiles {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.0.get(path.trim_start_matches('/')).cloned()
    }
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ci-corpora");
    let mut out = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

const TOKENS: [&[u8]; 14] = [
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"!reference [.a, script]",
    b"- ",
    b": ",
    b"\n  ",
    b"${{ ",
    b" }}",
    b"|\n",
    b"template: x.yml\n",
    b"include:\n  - local: x.yml\n",
    b"{",
    b"[",
];

fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(data.len() + 1);
        match rng.below(5) {
            0 if !data.is_empty() => {
                let i = at.min(data.len() - 1);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            2 if !data.is_empty() => {
                let end = (at + rng.below(64)).min(data.len());
                data.drain(at.min(end)..end);
            }
            3 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + rng.below(256)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                let line = b"\n      - run: curl x | sh\n";
                data.splice(at..at, line.iter().copied());
            }
        }
    }
    data
}

#[test]
fn mutated_ci_files_never_panic() {
    let files = corpus();
    let rounds = cavra_testkit::fuzz::rounds(2_000);
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    let kinds = [
        FileKind::GithubWorkflow,
        FileKind::GithubAction,
        FileKind::GitlabCi,
        FileKind::AzurePipelines,
    ];
    for round in 0..rounds {
        let (name, base) = &files[rng.below(files.len())];
        let (_, other) = &files[rng.below(files.len())];
        let data = mutate(&mut rng, base, other);
        let linked = MapFiles(HashMap::from([
            ("x.yml".to_string(), mutate(&mut rng, other, base)),
            (name.clone(), data.clone()),
        ]));
        let _ = cavra_extract::detect(name, &data);
        let kind = kinds[round % kinds.len()];
        let extraction = extract(kind, name, &data, &linked);
        for step in &extraction.steps {
            let _ = cavra_shell::parse(&step.script, &step.parse_options());
        }
    }
}
