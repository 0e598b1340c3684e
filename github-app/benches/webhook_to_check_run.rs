//! Time from a webhook delivery to the completed `cavra/gate` check run, for a pull request of
//! 50 changed files: the `cavra-github-app` binary (SQLite queue, 2 workers) on loopback, a
//! mock GitHub and a real `git http-backend`. Every step is real: signature check, durable
//! enqueue, claim, installation token, check run `in_progress`, git fetch into the cache, the
//! gate, the completed check run. Goal: under 1 s. Run: `cargo bench -p cavra-github-app --bench
//! webhook_to_check_run` (`CAVRA_BENCH_ROUNDS`, default 15).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};
use support::{World, conclusions, synchronize, wait_until};

fn main() {
    let rounds: usize = std::env::var("CAVRA_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let world = World::new();
    let app = world.start_app();
    let mut times = Vec::new();
    for round in 1..=rounds {
        let number = round as u64;
        let files: Vec<(String, String)> = (0..50)
            .map(|i| {
                (
                    format!("src/pr{number}/module{i:02}.rs"),
                    format!("pub fn f{i}() -> u32 {{\n    {i}\n}}\n"),
                )
            })
            .collect();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let head = world.open_pull(number, &refs);
        let body = synchronize(number, &head);
        let start = Instant::now();
        assert_eq!(
            app.deliver(&format!("bench-{number}"), "pull_request", &body),
            202
        );
        wait_until("the check run completed", Duration::from_secs(60), || {
            conclusions(&world.github).iter().any(|(h, _)| *h == head)
        });
        times.push(start.elapsed());
    }
    // The first round also fills the repository cache and the token cache.
    let first = times[0];
    let mut warm: Vec<Duration> = times[1..].to_vec();
    warm.sort();
    let pick = |q: f64| warm[((warm.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "webhook -> completed check run, 50-file pull request ({} rounds)",
        rounds
    );
    println!(
        "  first (cold cache): {:>7.1} ms",
        first.as_secs_f64() * 1e3
    );
    println!(
        "  median:             {:>7.1} ms",
        pick(0.5).as_secs_f64() * 1e3
    );
    println!(
        "  p90:                {:>7.1} ms",
        pick(0.9).as_secs_f64() * 1e3
    );
    println!(
        "  max:                {:>7.1} ms",
        warm.last().unwrap().as_secs_f64() * 1e3
    );
    println!(
        "  goal < 1000 ms: {}",
        if pick(0.9) < Duration::from_secs(1) {
            "met (p90)"
        } else {
            "NOT met (p90)"
        }
    );
    drop(app);
}
