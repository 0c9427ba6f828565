//! `bench wrk`: `bench rest`'s two routes measured from outside the process. The local stack
//! runs as `cargo run --release` runs it (`target/release/local`, its per-user rate limit off),
//! and Debian's `wrk` drives it with `tests/wrk/routes.lua`: each request as one of many users,
//! the adds spread over their carts. The client then shares the cores with the server but not
//! its runtime, so this is the figure an outside client sees; the routes alternate in rounds,
//! as in `bench rest`.

use serde_json::json;
use std::path::Path;
use std::time::Duration;
use tests::Client;

/// Carts per user: the adds go to each in turn, so no cart grows past a few units a line.
const CARTS_PER_USER: usize = 16;
/// Rounds each route's time is split into, alternating between the two routes.
const ROUNDS: u64 = 5;

/// One route's rounds, as `wrk` reported them.
#[derive(Default)]
struct Totals {
    requests: u64,
    failed: u64,
    micros: u64,
    /// Per round: p50, p99, p99.9 and max, in microseconds.
    rounds: Vec<[u64; 4]>,
}

impl Totals {
    fn per_second(&self) -> f64 {
        self.requests as f64 / (self.micros as f64 / 1e6)
    }

    /// The median round's figure at `index` (0 p50 .. 3 max), in milliseconds: wrk gives
    /// percentiles, not samples to merge.
    fn median_ms(&self, index: usize) -> f64 {
        let mut figures: Vec<f64> = self.rounds.iter().map(|r| r[index] as f64 / 1e3).collect();
        figures.sort_by(f64::total_cmp);
        crate::quantile(&figures, 0.5)
    }
}

pub async fn run(seconds: u64, connections: usize, bin_dir: &Path) -> bool {
    let binary = bin_dir.join("local");
    if !binary.is_file() {
        eprintln!(
            "{} is missing: cargo build --release --locked -p local",
            binary.display()
        );
        return false;
    }
    let port = tests::broker::free_port();
    let data = std::env::temp_dir().join(format!("bench-wrk-{}", std::process::id()));
    let logs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    let _ = std::fs::create_dir_all(&logs);
    let log = std::fs::File::create(logs.join("local.log")).expect("a log file");
    let mut server = tokio::process::Command::new(&binary)
        .env("PORT", port.to_string())
        .env("DATA_DIR", &data)
        .env("RATE_PER_USER", "off")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("the local stack starts");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    tests::broker::wait_until_listening(addr, "the local stack", Duration::from_secs(30)).await;
    let users = logs.join("wrk-users.txt");
    std::fs::write(&users, users_file(addr, connections).await).expect("the users file");

    let round = (seconds / ROUNDS).max(1);
    let wrk = |mode: &'static str| {
        let users = users.clone();
        async move { wrk_round(addr, &users, mode, connections, round).await }
    };
    // A warm-up round: the catalog's cache, the store's pages.
    if let Err(why) = wrk("add").await {
        eprintln!("wrk failed: {why}");
        return false;
    }
    let (mut baseline, mut add) = (Totals::default(), Totals::default());
    for _ in 0..ROUNDS {
        for (totals, mode) in [(&mut baseline, "noop"), (&mut add, "add")] {
            match wrk(mode).await {
                Ok(line) => absorb(totals, &line),
                Err(why) => {
                    eprintln!("wrk failed: {why}");
                    return false;
                }
            }
        }
    }
    let _ = server.start_kill();
    let _ = server.wait().await;
    let _ = std::fs::remove_dir_all(&data);
    print_table(&baseline, &add, connections, round * ROUNDS);
    true
}

/// One line per user, "<token> <cartId>...": a token from the stack's dev sign-in, and
/// [`CARTS_PER_USER`] new carts.
async fn users_file(addr: std::net::SocketAddr, users: usize) -> String {
    let mut client = Client::connect(addr).await;
    let mut lines = String::new();
    for user in 0..users {
        let signed_in = client
            .send(
                "POST",
                "/dev/token",
                None,
                Some(json!({ "userId": format!("wrk-user-{user}") })),
            )
            .await;
        let token = signed_in.body["token"]
            .as_str()
            .expect("a token")
            .to_owned();
        lines.push_str(&token);
        for _ in 0..CARTS_PER_USER {
            let cart = client.send("POST", "/carts", Some(&token), None).await;
            assert_eq!(cart.status, 201, "a cart for the bench: {:?}", cart.body);
            lines.push(' ');
            lines.push_str(cart.body["cartId"].as_str().unwrap_or_default());
        }
        lines.push('\n');
    }
    lines
}

/// Runs wrk once (one thread, `connections` connections) and returns its result line.
async fn wrk_round(
    addr: std::net::SocketAddr,
    users: &Path,
    mode: &str,
    connections: usize,
    seconds: u64,
) -> Result<String, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/wrk/routes.lua");
    let output = tokio::process::Command::new("wrk")
        .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .args(["-s", script, &format!("http://{addr}"), "--"])
        .arg(users)
        .arg(mode)
        .output()
        .await
        .map_err(|e| format!("wrk (apt-get install wrk; tests/run.sh does): {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find(|line| line.starts_with("wrk-result "))
        .map(str::to_owned)
        .ok_or_else(|| format!("{stdout}{}", String::from_utf8_lossy(&output.stderr)))
}

fn absorb(totals: &mut Totals, line: &str) {
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    totals.requests += field("requests");
    totals.failed += field("failed");
    totals.micros += field("duration_us");
    totals.rounds.push([
        field("p50_us"),
        field("p99_us"),
        field("p999_us"),
        field("max_us"),
    ]);
}

fn print_table(baseline: &Totals, add: &Totals, connections: usize, seconds: u64) {
    println!(
        "\nbench wrk: wrk (1 thread, {connections} connections, a user each) against target/release/local, {seconds} s per route in {ROUNDS} alternating rounds, {} cores; latencies are the median round's\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| route | req/s | p50 ms | p99 ms | p99.9 ms | max ms | failed |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (label, totals) in [
        ("GET /dev/noop (empty function, baseline)", baseline),
        ("POST /carts/{cartId}/items (addItemToCart)", add),
    ] {
        println!(
            "| {label} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            totals.per_second(),
            totals.median_ms(0),
            totals.median_ms(1),
            totals.median_ms(2),
            totals.median_ms(3),
            totals.failed
        );
    }
    let ratio = add.per_second() / baseline.per_second();
    println!(
        "| addItemToCart / baseline | {ratio:.2} | {:.2} | {:.2} | {:.2} | | |",
        add.median_ms(0) / baseline.median_ms(0),
        add.median_ms(1) / baseline.median_ms(1),
        add.median_ms(2) / baseline.median_ms(2),
    );
    println!(
        "\ntargets: addItemToCart p99 < 5 ms ({}); throughput >= 0.50 of baseline ({})",
        crate::verdict(add.median_ms(1) < 5.0),
        crate::verdict(ratio >= 0.5)
    );
}
