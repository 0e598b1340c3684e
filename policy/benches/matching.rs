//! Policy matching throughput: path decisions per second against a 300-rule policy.
//! Goal (issue 2): at least 2 million path decisions per second on one core.

use cavra_policy::{Action, ChangeKind, Date, Engine, Mode, NoFiles, Subject, resolve_policy};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::PathBuf;

/// 300 rules of the shapes real packs use: extensions, directories, exact files, prefixes.
fn policy_text() -> String {
    let mut text = String::from("version: 1\nrules:\n");
    for i in 0..300 {
        let (glob, decision) = match i % 5 {
            0 => (format!("**/*.ext{i}"), "deny"),
            1 => (format!("service{i}/**"), "require_approval"),
            2 => (format!("config/app{i}.yaml"), "audit"),
            3 => (format!("**/secrets{i}/**"), "deny"),
            _ => (format!("**/Makefile{i}"), "audit"),
        };
        text.push_str(&format!(
            "  - {{ id: r{i}, match: {{ paths: ['{glob}'], change: [added, modified] }}, decision: {decision} }}\n"
        ));
    }
    text
}

fn paths() -> Vec<PathBuf> {
    (0..10_000)
        .map(|i| match i % 4 {
            0 => PathBuf::from(format!("src/module{}/file{i}.rs", i % 97)),
            1 => PathBuf::from(format!("service{}/handlers/h{i}.go", i % 400)),
            2 => PathBuf::from(format!("web/components/c{i}/index.ext{}", i % 600)),
            _ => PathBuf::from(format!("deep/a/b/c/d/e/f/secrets{}/k{i}.txt", i % 500)),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let policy = resolve_policy("bench.yaml", &policy_text(), &NoFiles).expect("policy");
    assert_eq!(policy.rules.len(), 300);
    let engine = Engine::new(policy, Mode::Enforce, Date::parse("2026-11-23").unwrap());
    let paths = paths();
    let mut group = c.benchmark_group("policy");
    group.throughput(Throughput::Elements(paths.len() as u64));
    group.bench_function("path_decisions_300_rules", |b| {
        b.iter(|| {
            let mut denied = 0usize;
            for p in &paths {
                let mut s = Subject::new(Action::WriteFile, p);
                s.change = Some(ChangeKind::Modified);
                denied += engine.evaluate(black_box(&s)).len();
            }
            denied
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
