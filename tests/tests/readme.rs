//! The README's walk-through works as written: its shell block runs against a fresh local stack,
//! on the embedded defaults and on the real servers, and every output it shows (the `# ...`
//! lines) comes out, in order.

use std::path::Path;
use tests::{TestStack, keyspaces_server, real_servers, spawn_stack, spawn_stack_on};

fn walkthrough() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let section = readme
        .split("## Walk-through")
        .nth(1)
        .expect("a walk-through section");
    let block = section
        .split("```sh")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");
    block.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walkthrough_prints_what_it_promises() {
    walk_through(&spawn_stack().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walkthrough_holds_on_kafka_dynamodb_and_sqs() {
    walk_through(&spawn_stack_on(real_servers()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walkthrough_holds_on_keyspaces() {
    walk_through(&spawn_stack_on(keyspaces_server().await).await).await;
}

async fn walk_through(stack: &TestStack) {
    let script = walkthrough();
    assert!(
        script.contains("API=http://127.0.0.1:3000"),
        "the walk-through starts from the default address"
    );
    let script = script.replace(
        "API=http://127.0.0.1:3000",
        &format!("API=http://{}", stack.addr()),
    );
    let output = tokio::process::Command::new("bash")
        .arg("-euo")
        .arg("pipefail")
        .arg("-c")
        .arg(&script)
        .output()
        .await
        .expect("bash runs (curl and jq are installed by tests/run.sh)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the walk-through failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let promised: Vec<&str> = script
        .lines()
        .filter_map(|l| l.trim().strip_prefix("# "))
        .filter(|l| l.starts_with('{') || l.starts_with('['))
        .collect();
    assert!(promised.len() >= 6, "the walk-through shows its outputs");
    let mut printed = stdout.lines();
    for line in promised {
        assert!(
            printed.any(|p| p == line),
            "the README promises {line}, the run printed:\n{stdout}"
        );
    }
}
