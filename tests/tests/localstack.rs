//! The LocalStack recipe in `infra/README.md` runs as written, with moto standing at the
//! LocalStack address for the two services LocalStack's free tier has (DynamoDB and SQS): the
//! first block starts the local stack on them, the second checks a cart out and reads the cart
//! and the order back with the AWS CLI, printing what the recipe says it prints.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tests::service_setting;

fn repo() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `sh` blocks of the README's LocalStack section.
fn recipe() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("infra/README.md")).expect("infra/README.md");
    let section = readme
        .split("\n## LocalStack")
        .nth(1)
        .expect("a LocalStack section")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    section
        .split("```sh")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .map(str::to_owned)
        .collect()
}

/// A process group of its own (its leader's id is the group's), killed when dropped.
struct Group(tokio::process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        // `--` first: a negative id is a process group, never an option.
        if let Some(id) = self.0.id().filter(|id| *id > 1) {
            let _ = std::process::Command::new("kill")
                .args(["-s", "TERM", "--", &format!("-{id}")])
                .status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_localstack_recipe_runs_as_written_against_moto() {
    let blocks = recipe();
    assert_eq!(blocks.len(), 2, "a block to start the stack, one to use it");
    let moto = service_setting("DYNAMODB_ENDPOINT");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let data = std::env::temp_dir().join(format!("localstack-recipe-{run}"));
    let on_moto = |block: &str| {
        assert!(
            block.contains("http://127.0.0.1:4566"),
            "the recipe names LocalStack's port"
        );
        block
            .replace("http://127.0.0.1:4566", &moto)
            .replace("http://127.0.0.1:3000", &format!("http://127.0.0.1:{port}"))
            // Tables and a queue of this run's own, beside the other tests'.
            .replace("CARTS_TABLE=carts", &format!("CARTS_TABLE=carts-{run}"))
            .replace("--table-name carts", &format!("--table-name carts-{run}"))
            .replace("/orders", &format!("/orders-{run}"))
            .replace("--queue-name orders", &format!("--queue-name orders-{run}"))
    };

    // Built first, so `cargo run` starts it at once.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = tokio::process::Command::new(&cargo)
        .args(["build", "--quiet", "--locked", "-p", "local"])
        .current_dir(repo())
        .status()
        .await
        .expect("cargo builds the local stack");
    assert!(built.success());
    assert!(
        blocks[0].contains("cargo run"),
        "the first block starts the stack"
    );
    let start = on_moto(&blocks[0]).replace(
        "cargo run",
        &format!(
            "exec {cargo} run --quiet --locked -- --port {port} --data-dir {}",
            data.display()
        ),
    );
    let _stack = Group(
        tokio::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", &start])
            // A group of its own, so that dropping it stops `cargo run` and the stack with it.
            .process_group(0)
            .current_dir(repo())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the first block starts"),
    );
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the local stack did not start on moto"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let script = on_moto(&blocks[1]);
    let output = tokio::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env(
            "PATH",
            format!(
                "{}:{}",
                service_setting("AWS_CLI_DIR"),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .await
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the second block failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // What the recipe shows a command printing: `# ` lines of one word.
    let promised: Vec<&str> = blocks[1]
        .lines()
        .filter_map(|l| l.trim().strip_prefix("# "))
        .filter(|l| !l.contains(' '))
        .collect();
    assert_eq!(promised, ["CHECKED_OUT", "CHECKED_OUT", "true"]);
    assert_eq!(stdout.lines().collect::<Vec<_>>(), promised);
    let _ = std::fs::remove_dir_all(data);
}
