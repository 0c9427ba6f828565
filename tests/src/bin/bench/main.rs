//! The bench: `cargo run --release -p tests --bin bench -- rest [--seconds N] [--connections N]`
//! and `... -- push [--seconds N] [--members 1,100,1000]`, and `... -- soak [--seconds N]
//! [--users N] [--carts N] [--faults] [--cuts]` (see `soak`: the promises under load, checked at
//! the end; with `--faults`, on real servers while the broker, the outbox and the registry are
//! cut and restored: run it through `tests/services.sh`; with `--cuts`, while the server closes
//! users' WebSockets), and `... -- cold [--starts N] [--functions
//! a,b] [--bin-dir DIR] [--link-delay-ms N]` (see `cold`: each function's start under a runtime API emulation, on
//! real servers through delayed links; through `tests/services.sh` too), and `... -- ops
//! [--rounds N] [--bin-dir DIR] [--link-delay-ms N]` (see `ops`: each REST cart operation on the
//! same deployed functions, with its sequential round trips), and `... -- wrk [--seconds N]
//! [--connections N]` (see `wrk`: `rest`'s routes driven by wrk against the release build of
//! `local`).
//!
//! `push` makes N WebSocket clients members of one cart while one of them adds items over HTTP at
//! a steady rate, and prints change-to-message latency (from sending the add to each member's
//! socket receiving its version) beside a ping/pong round trip on the same server (the ceiling).
//!
//! Starts the local stack in this process on loopback, then drives two routes for the same time
//! with the same number of kept-alive connections: an empty function behind the same gateway
//! and authorizer (the baseline), and addItemToCart. Prints one Markdown table with ops/s and
//! latency percentiles for each, and the ratio of the two.
//!
//! The stack runs without its per-user rate limit: each bench connection is one user going as
//! fast as the server lets it, which is what is measured.

use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tests::{Client, TestStack};

mod cold;
mod deployed;
mod faults;
mod ops;
mod push;
mod push_cpu;
mod runtime_api;
mod soak;
mod wrk;

/// The local stack of the bench: as `cargo run` starts it, without the per-user rate limit.
pub(crate) async fn unthrottled_stack() -> TestStack {
    tests::spawn_stack_with(|config| config.rate_per_user = None).await
}

/// The `q` quantile (0 to 1) of `sorted` values, NaN when there are none.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted
        .get(((sorted.len().saturating_sub(1)) as f64 * q).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

/// The `p`th percentile (0 to 100) of sorted microseconds, in milliseconds; NaN when there are
/// none.
pub(crate) fn percentile_ms<T: Copy + Into<u64>>(sorted_us: &[T], p: f64) -> f64 {
    sorted_us
        .get(((sorted_us.len().saturating_sub(1)) as f64 * p / 100.0).round() as usize)
        .map_or(f64::NAN, |&us| us.into() as f64 / 1000.0)
}

/// Rounds each route's time is split into, alternating between the two routes.
const ROUNDS: u32 = 5;
/// Adds per cart before a worker starts a new one, so carts stay the size people make them.
const ADDS_PER_CART: usize = 100;
/// The demo catalog's items, cycled through by the adds.
const ITEMS: &[&str] = &[
    "apple",
    "banana",
    "bread",
    "butter",
    "cheese",
    "coffee",
    "eggs",
    "milk",
    "olive-oil",
    "pasta",
    "tomatoes",
];

struct Options {
    seconds: u64,
    connections: usize,
    members: Vec<usize>,
    users: usize,
    carts: usize,
    faults: bool,
    cuts: bool,
    starts: usize,
    rounds: usize,
    functions: Vec<String>,
    bin_dir: std::path::PathBuf,
    link_delay: Duration,
}

fn parse_args() -> Result<(String, Options), String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: bench rest [--seconds N] [--connections N] | bench push [--seconds N] [--members 1,100,1000] | bench soak [--seconds N] [--users N] [--carts N] [--faults] [--cuts] | bench cold [--starts N] [--functions a,b] [--bin-dir DIR] [--link-delay-ms N] | bench ops [--rounds N] [--bin-dir DIR] [--link-delay-ms N] | bench wrk [--seconds N] [--connections N] [--bin-dir DIR]";
    let mode = args.next().ok_or(usage)?;
    let mut options = Options {
        seconds: 10,
        connections: 64,
        members: vec![1, 100, 1000],
        users: 40,
        carts: 12,
        faults: false,
        cuts: false,
        starts: 10,
        rounds: 50,
        functions: Vec::new(),
        bin_dir: deployed::default_bin_dir(),
        link_delay: deployed::LINK_DELAY,
    };
    while let Some(flag) = args.next() {
        if flag == "--faults" || flag == "--cuts" {
            options.faults |= flag == "--faults";
            options.cuts |= flag == "--cuts";
            continue;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: '{value}' is not a number"))
        };
        match flag.as_str() {
            "--seconds" => options.seconds = number()?,
            "--connections" => options.connections = number()? as usize,
            "--users" => options.users = number()? as usize,
            "--carts" => options.carts = number()? as usize,
            "--starts" => options.starts = number()? as usize,
            "--rounds" => options.rounds = number()? as usize,
            "--functions" => options.functions = value.split(',').map(str::to_owned).collect(),
            "--bin-dir" => options.bin_dir = value.into(),
            "--link-delay-ms" => {
                options.link_delay = value
                    .parse::<f64>()
                    .ok()
                    .filter(|ms| (0.0..1000.0).contains(ms))
                    .map(|ms| Duration::from_secs_f64(ms / 1e3))
                    .ok_or(format!("{flag}: '{value}' is not milliseconds"))?
            }
            "--members" => {
                let parsed: Result<Vec<usize>, _> = value.split(',').map(str::parse).collect();
                options.members =
                    parsed.map_err(|_| format!("--members: '{value}' is not a list of numbers"))?;
            }
            other => return Err(format!("unknown flag {other}\n{usage}")),
        }
    }
    Ok((mode, options))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let (mode, options) = match parse_args() {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    match mode.as_str() {
        "rest" => rest(options).await,
        "push" => push::run(options.seconds, &options.members).await,
        "soak" => {
            let shape = soak::Shape {
                seconds: options.seconds,
                users: options.users,
                carts: options.carts,
                faults: options.faults,
                cuts: options.cuts,
            };
            if !soak::run(shape).await {
                return std::process::ExitCode::from(1);
            }
        }
        "wrk" => {
            if !wrk::run(options.seconds, options.connections, &options.bin_dir).await {
                return std::process::ExitCode::from(1);
            }
        }
        "ops" => {
            let delay = options.link_delay;
            if !ops::run(options.rounds, &options.bin_dir, delay).await {
                return std::process::ExitCode::from(1);
            }
        }
        "cold" => {
            let delay = options.link_delay;
            if !cold::run(options.starts, &options.functions, &options.bin_dir, delay).await {
                return std::process::ExitCode::from(1);
            }
        }
        other => {
            eprintln!("unknown mode '{other}'; modes: rest, push, soak, cold, ops, wrk");
            return std::process::ExitCode::from(2);
        }
    }
    std::process::ExitCode::SUCCESS
}

/// Latencies and failures of one route's run.
struct Run {
    label: &'static str,
    latencies_us: Vec<u32>,
    errors: usize,
    elapsed: Duration,
}

impl Run {
    fn empty(label: &'static str) -> Self {
        Run {
            label,
            latencies_us: Vec::new(),
            errors: 0,
            elapsed: Duration::ZERO,
        }
    }

    /// Adds another round of the same route.
    fn absorb(&mut self, round: Run) {
        self.latencies_us.extend(round.latencies_us);
        self.latencies_us.sort_unstable();
        self.errors += round.errors;
        self.elapsed += round.elapsed;
    }

    fn ops_per_sec(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies_us, p)
    }
}

async fn rest(options: Options) {
    let stack = Arc::new(unthrottled_stack().await);
    let admin = stack.token("bench-admin", &["admin"]).await;
    let mut setup = stack.client().await;
    for item in ITEMS {
        let (status, _, _) = setup
            .send_raw(
                "PUT",
                &format!("/items/{item}/stock"),
                Some(&admin),
                Bytes::from(r#"{"stock":1000000}"#),
                &[],
            )
            .await;
        assert_eq!(status, 200, "restocking {item}");
    }
    // A short warm-up of both routes so neither pays for first-touch costs in its numbers.
    drive(
        &stack,
        "warm-up",
        options.connections,
        Duration::from_secs(1),
        Route::Noop,
    )
    .await;
    drive(
        &stack,
        "warm-up",
        options.connections,
        Duration::from_secs(1),
        Route::AddItem,
    )
    .await;
    // The routes take turns in short rounds, so drift in the machine's speed (shared hosts drift
    // by tens of percent within a minute) lands on both alike rather than on whichever ran last.
    let round = Duration::from_secs_f64(options.seconds as f64 / ROUNDS as f64);
    let mut baseline = Run::empty("GET /dev/noop (empty function, baseline)");
    let mut add = Run::empty("POST /carts/{cartId}/items (addItemToCart)");
    for _ in 0..ROUNDS {
        baseline.absorb(
            drive(
                &stack,
                baseline.label,
                options.connections,
                round,
                Route::Noop,
            )
            .await,
        );
        add.absorb(
            drive(
                &stack,
                add.label,
                options.connections,
                round,
                Route::AddItem,
            )
            .await,
        );
    }

    println!(
        "\nbench rest: {} connections, {} s per route in {ROUNDS} alternating rounds, {} cores, local stack on loopback, release build\n",
        options.connections,
        options.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| route | ops/s | p50 ms | p99 ms | p99.9 ms | max ms | errors |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for run in [&baseline, &add] {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            run.label,
            run.ops_per_sec(),
            run.percentile_ms(50.0),
            run.percentile_ms(99.0),
            run.percentile_ms(99.9),
            run.percentile_ms(100.0),
            run.errors
        );
    }
    println!(
        "| addItemToCart / baseline | {:.2} | {:.2} | {:.2} | {:.2} | | |",
        add.ops_per_sec() / baseline.ops_per_sec(),
        add.percentile_ms(50.0) / baseline.percentile_ms(50.0),
        add.percentile_ms(99.0) / baseline.percentile_ms(99.0),
        add.percentile_ms(99.9) / baseline.percentile_ms(99.9),
    );
    println!(
        "\ntargets: addItemToCart p99 < 5 ms ({}); throughput >= 0.50 of baseline ({})",
        verdict(add.percentile_ms(99.0) < 5.0),
        verdict(add.ops_per_sec() / baseline.ops_per_sec() >= 0.5)
    );
    if let Ok(stack) = Arc::try_unwrap(stack) {
        stack.shutdown().await;
    }
}

pub(crate) fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

#[derive(Clone, Copy)]
enum Route {
    Noop,
    AddItem,
}

/// Runs `connections` workers against `route` for `duration`; each owns one connection and one
/// user, and sends its next request as soon as the previous one is answered.
async fn drive(
    stack: &Arc<TestStack>,
    label: &'static str,
    connections: usize,
    duration: Duration,
    route: Route,
) -> Run {
    let mut workers = Vec::with_capacity(connections);
    let start_line = Arc::new(tokio::sync::Barrier::new(connections));
    for worker in 0..connections {
        let (stack, start_line) = (stack.clone(), start_line.clone());
        workers.push(tokio::spawn(async move {
            let token = stack.token(&format!("bench-user-{worker}"), &[]).await;
            let mut client = stack.client().await;
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut cart = String::new();
            let mut adds = 0usize;
            start_line.wait().await;
            let deadline = Instant::now() + duration;
            while Instant::now() < deadline {
                let (path, body) = match route {
                    Route::Noop => ("/dev/noop".to_owned(), Bytes::new()),
                    Route::AddItem => {
                        if adds.is_multiple_of(ADDS_PER_CART) {
                            cart = new_cart(&mut client, &token).await;
                        }
                        let item = ITEMS[(worker + adds) % ITEMS.len()];
                        adds += 1;
                        (
                            format!("/carts/{cart}/items"),
                            Bytes::from(format!(r#"{{"itemId":"{item}","quantity":1}}"#)),
                        )
                    }
                };
                let method = if matches!(route, Route::Noop) {
                    "GET"
                } else {
                    "POST"
                };
                let sent = Instant::now();
                let (status, _, _) = client
                    .send_raw(method, &path, Some(&token), body, &[])
                    .await;
                let took = sent.elapsed();
                if status == 200 {
                    latencies.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let started = Instant::now();
    let mut run = Run {
        label,
        latencies_us: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for worker in workers {
        let (latencies, errors) = worker.await.unwrap_or_default();
        run.latencies_us.extend(latencies);
        run.errors += errors;
    }
    // Workers start together after setup; the run lasts `duration` from their common start.
    run.elapsed = duration.min(started.elapsed());
    run.latencies_us.sort_unstable();
    run
}

async fn new_cart(client: &mut Client, token: &str) -> String {
    let (status, _, body) = client
        .send_raw("POST", "/carts", Some(token), Bytes::new(), &[])
        .await;
    assert_eq!(status, 201, "creating a cart for the bench");
    let cart: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    cart["cartId"].as_str().unwrap_or_default().to_owned()
}

// The local stack's allocator, so the bench measures what `cargo run` runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
