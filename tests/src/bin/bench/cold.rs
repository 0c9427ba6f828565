//! `bench cold`: how long each function takes from its process starting to its first poll of
//! the Lambda runtime API for an invocation, the end of Lambda's init phase. Each function runs
//! as its own process under an emulation of the runtime API, with the settings the template
//! gives it, its AWS adapters pointed at the real servers `tests/services.sh` starts (and a CQL
//! server as strict as Keyspaces, in this process) through links that delay everything by 1 ms
//! each way. Each link counts the connections and round trips a start made on it: a function
//! must open no connection it does not use.
//!
//! The binaries and the servers are `deployed`'s: `cargo build --release --locked -p
//! <function>...` for every package of `functions/`, then `tests/services.sh
//! target/release/bench cold`.

use crate::deployed::{Deployed, Links, Running};
use std::path::Path;
use std::time::Duration;

/// Targets: a function with no connection to open, and one with connections at 1 ms each way.
const WITHOUT_CONNECTIONS_MS: f64 = 20.0;
const WITH_CONNECTIONS_MS: f64 = 100.0;

/// One function's starts.
struct Row {
    function: String,
    millis: Vec<f64>,
    /// Per link: connections and round trips of one start (the last).
    opened: Vec<(u64, u64)>,
}

/// Starts every function `starts` times (those named in `only`, when given) and prints the table.
pub async fn run(starts: usize, only: &[String], bin_dir: &Path, delay: Duration) -> bool {
    let deployed = Deployed::start(delay).await;
    let mut rows = Vec::new();
    let mut failed = false;
    for function in deployed.functions().into_keys() {
        if !only.is_empty() && !only.contains(&function) {
            continue;
        }
        let mut row = Row {
            function: function.clone(),
            millis: Vec::with_capacity(starts),
            opened: Vec::new(),
        };
        for _ in 0..starts {
            let before = deployed.links.counts();
            match Running::start(&deployed, &function, bin_dir).await {
                Ok((running, took)) => {
                    row.millis.push(took.as_secs_f64() * 1e3);
                    running.stop().await;
                }
                Err(why) => {
                    eprintln!("{function} did not start: {why}");
                    failed = true;
                    break;
                }
            }
            row.opened = before
                .iter()
                .zip(deployed.links.counts())
                .map(|((c0, r0), (c1, r1))| (c1 - c0, r1 - r0))
                .collect();
        }
        rows.push(row);
    }
    print_table(&rows, &deployed.links, starts, delay);
    !failed
}

fn print_table(rows: &[Row], links: &Links, starts: usize, delay: Duration) {
    let names = links.names();
    println!(
        "\nbench cold: process start to the first poll of the runtime API, {starts} starts each; production adapters through links of {} ms each way; connections / round trips of one start per link ({}); {} cores\n",
        delay.as_secs_f64() * 1e3,
        names.join(", "),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "| function | min ms | median ms | max ms | connections / round trips at start | target |"
    );
    println!("|---|---:|---:|---:|---|---|");
    let mut missed = Vec::new();
    for row in rows {
        let mut millis = row.millis.clone();
        millis.sort_by(f64::total_cmp);
        let at = |q: f64| crate::quantile(&millis, q);
        let opens: u64 = row.opened.iter().map(|(connections, _)| connections).sum();
        let target = if opens == 0 {
            WITHOUT_CONNECTIONS_MS
        } else {
            WITH_CONNECTIONS_MS
        };
        let verdict = if millis.len() == starts && at(0.5) <= target {
            "met"
        } else {
            missed.push(row.function.as_str());
            "MISSED"
        };
        let opened: Vec<String> = names
            .iter()
            .zip(&row.opened)
            .filter(|(_, (connections, _))| *connections > 0)
            .map(|(name, (connections, trips))| format!("{name} {connections} / {trips}"))
            .collect();
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {} | ≤ {target:.0} ms ({verdict}) |",
            row.function,
            at(0.0),
            at(0.5),
            at(1.0),
            if opened.is_empty() {
                "none".to_owned()
            } else {
                opened.join(", ")
            }
        );
    }
    println!(
        "\ntargets (median): ≤ {WITHOUT_CONNECTIONS_MS:.0} ms with no connection to open, ≤ {WITH_CONNECTIONS_MS:.0} ms with connections; missed by {} of {}",
        missed.len(),
        rows.len()
    );
}
