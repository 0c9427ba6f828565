//! A function binary runs under `cargo lambda watch`, the Lambda runtime emulator, and answers
//! its sample event sent with `cargo lambda invoke`: the local Lambda loop of docs/running-locally.md, for real.
//! cargo-lambda comes from `$INFRA_TOOLS` (installed by `tests/services.sh`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cargo_lambda_path() -> PathBuf {
    let tools = std::env::var("INFRA_TOOLS")
        .expect("INFRA_TOOLS is not set: run the tests through tests/services.sh");
    Path::new(&tools).join("cargo-lambda")
}

fn cargo_lambda() -> Command {
    let mut command = Command::new(cargo_lambda_path());
    command
        .arg("lambda")
        .current_dir(repo())
        .stdin(Stdio::null());
    command
}

/// `cargo lambda watch` and the function it started, stopped together when dropped. The
/// watcher runs in a session of its own: it manages its terminal and process group, which must
/// not be the test runner's.
struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        // The watcher starts the function in a session of its own and outlives a TERM: kill
        // its children first, then it.
        let watcher = self.0.id().to_string();
        let _ = Command::new("pkill")
            .args(["-KILL", "-P", &watcher])
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The feature that links the embedded store, which a function on one machine runs on (the
/// deployed build leaves it out).
const LOCAL: &str = "wiring/local-adapters";

#[test]
fn create_cart_answers_its_sample_event_under_cargo_lambda_watch() {
    // Built first, so the watcher's `cargo run` starts it at once rather than building it while
    // the invocation waits.
    let built = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--quiet",
            "--locked",
            "-p",
            "create-cart",
            "-F",
            LOCAL,
        ])
        .current_dir(repo())
        .status()
        .expect("cargo builds create-cart");
    assert!(built.success(), "create-cart builds");
    let scratch = std::env::temp_dir().join(format!("lambda-watch-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    let port = free_port().to_string();
    let _watch = Watch(
        Command::new("setsid")
            .arg(cargo_lambda_path())
            .args([
                "lambda",
                "watch",
                "-A",
                "127.0.0.1",
                "-P",
                &port,
                "-p",
                "create-cart",
                "-F",
                LOCAL,
            ])
            // The function runs on its own embedded store: the servers the other tests use
            // (services.sh exports their addresses) would move its ports, and the topic the
            // publisher needs is not created here.
            .env_remove("KAFKA_BROKERS")
            .env_remove("MSK_CLUSTER_ARN")
            .env_remove("REDIS_URL")
            .env_remove("DYNAMODB_ENDPOINT")
            .env_remove("SQS_ENDPOINT")
            .env_remove("CASSANDRA_CONTACT_POINTS")
            .args(["--ignore-changes", "--env-var"])
            .arg(format!("DATA_DIR={}", scratch.join("data").display()))
            .current_dir(repo())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cargo lambda watch starts"),
    );
    // The sample event without its initial items: the embedded catalog of a fresh data
    // directory has none.
    let mut event: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("events/create-cart.json")).expect("the sample"),
    )
    .expect("JSON");
    event["body"] = "{}".into();
    event["isBase64Encoded"] = false.into();
    let event_file = scratch.join("create-cart.json");
    std::fs::write(&event_file, event.to_string()).expect("the event file");

    // The first invocation waits for the watcher to start the function, and an invocation sent
    // before the watcher is ready can wait forever: each attempt gets a deadline.
    let listening = (0..150).any(|_| {
        let open = std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap_or(0)));
        open.is_ok() || {
            std::thread::sleep(Duration::from_millis(200));
            false
        }
    });
    assert!(listening, "cargo lambda watch listens on {port}");
    let mut output = None;
    for _ in 0..10 {
        output = invoke(&port, &event_file, Duration::from_secs(60));
        if output.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    let output = output.expect("create-cart answered under cargo lambda watch");
    let answer: serde_json::Value = serde_json::from_slice(&output).expect("a JSON answer");
    assert_eq!(answer["statusCode"], 201, "{answer}");
    let cart: serde_json::Value =
        serde_json::from_str(answer["body"].as_str().expect("a body")).expect("a cart");
    assert_eq!(cart["ownerId"], "alice");
    assert_eq!(cart["version"], 1);
    let _ = std::fs::remove_dir_all(&scratch);
}

/// `cargo lambda invoke` of `event_file`, its output if it succeeds within `deadline`.
fn invoke(port: &str, event_file: &Path, deadline: Duration) -> Option<Vec<u8>> {
    let mut invocation = cargo_lambda()
        .args(["invoke", "-A", "127.0.0.1", "-P", port, "create-cart"])
        .arg("--data-file")
        .arg(event_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo lambda invoke runs");
    let started = Instant::now();
    loop {
        if let Some(status) = invocation.try_wait().expect("the invocation's status") {
            let mut output = Vec::new();
            // The answer is one small JSON document: it fits the pipe, so reading after the
            // exit loses nothing.
            invocation.stdout.take()?.read_to_end(&mut output).ok()?;
            return status.success().then_some(output);
        }
        if started.elapsed() > deadline {
            let _ = invocation.kill();
            let _ = invocation.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
