//! schemathesis against `infra/openapi.yaml` and the local stack: generated requests, valid and
//! not, for every operation, with every check on. The promise: no input makes the API answer
//! 5xx, and every answer is one the spec describes (status, headers, body). Bounded by
//! `SCHEMATHESIS_MAX_EXAMPLES` per operation (default 25) and `SCHEMATHESIS_MAX_TIME` seconds
//! (default 90); `SCHEMATHESIS_SEED` picks another seed for a longer hunt.

use std::path::Path;
use std::process::Command;
use tests::spawn_stack_with;

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_get_no_5xx_and_only_answers_the_spec_describes() {
    let st = std::env::var("SCHEMATHESIS_BIN").unwrap_or_else(|_| {
        panic!("SCHEMATHESIS_BIN is not set: run the tests through tests/services.sh (tests/run.sh does)")
    });
    // Rates are not what this checks: thousands of requests come from one user.
    let stack = spawn_stack_with(|config| config.rate_per_user = None).await;
    let token = stack.token("fuzzer", &["admin"]).await;
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let reports = std::env::temp_dir().join(format!("schemathesis-{}", std::process::id()));
    let (max_examples, max_time, seed) = (
        setting("SCHEMATHESIS_MAX_EXAMPLES", "25"),
        setting("SCHEMATHESIS_MAX_TIME", "90"),
        setting("SCHEMATHESIS_SEED", "1"),
    );
    let url = format!("http://{}", stack.addr());
    let run = tokio::task::spawn_blocking(move || {
        Command::new(st)
            .current_dir(std::env::temp_dir())
            .arg("--config-file")
            .arg(repo.join("tests/schemathesis.toml"))
            .arg("run")
            .arg(repo.join("infra/openapi.yaml"))
            .args(["--url", &url])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--checks", "all", "--max-examples", &max_examples])
            .args(["--max-time", &max_time, "--seed", &seed, "--no-color"])
            .arg("--report-dir")
            .arg(&reports)
            .output()
    })
    .await
    .expect("the run finishes")
    .expect("schemathesis starts");
    let output = String::from_utf8_lossy(&run.stdout);
    println!("{output}");
    assert!(
        run.status.success(),
        "schemathesis found answers the spec does not describe (seed {}):\n{output}\n{}",
        setting("SCHEMATHESIS_SEED", "1"),
        String::from_utf8_lossy(&run.stderr)
    );
}
