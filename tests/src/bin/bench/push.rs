//! `bench push`: change-to-message latency at each member count, beside a WebSocket echo.

use crate::percentile_ms;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tests::Socket;

/// Changes made first and left out of the numbers: the first post opens the SDK client's
/// connection and the first socket reads warm their paths.
const WARM_UP_CHANGES: usize = 3;
/// CPU microseconds `sync-push` may spend per delivery.
const PUSH_CPU_TARGET_US: f64 = 30.0;
/// Changes per second the adding member makes.
const CHANGES_PER_SECOND: u64 = 10;

/// Latencies in microseconds, sorted, how many deliveries never came, and the process's
/// resident memory with every socket open.
struct Sample {
    latencies_us: Vec<u64>,
    missing: usize,
    rss_mb: f64,
    /// How long each add took to answer, sorted: the part of the latency before any push.
    adds_us: Vec<u64>,
    /// `sync-push`'s own CPU per delivery, with each client.
    push_cpu: Option<crate::push_cpu::PerDelivery>,
    /// The whole process's CPU (stack, `@connections`, clients) over the run, per delivery.
    process_cpu_us: f64,
}

impl Sample {
    fn ms(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies_us, p)
    }
}

/// Runs every member count and prints the table.
pub async fn run(seconds: u64, member_counts: &[usize]) {
    let changes = (seconds * CHANGES_PER_SECOND).max(1) as usize;
    let echo = echo(changes).await;
    let mut rows = Vec::new();
    for &members in member_counts {
        rows.push((members, fan_out(members, changes).await));
    }
    println!(
        "\nbench push: one member adds {CHANGES_PER_SECOND} items/s over HTTP for {seconds} s; latency from sending the add to each member's socket receiving that version; local stack on loopback, {} cores\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "| members (sockets) | deliveries | p50 ms | p99 ms | max ms | missing | add answered p50 / p99 ms | RSS MB (stack + clients) | sync-push CPU µs per delivery: AWS client / local client / plain HTTP / no posts | process CPU µs per delivery |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| echo: ping -> pong on one socket (ceiling) | {} | {:.2} | {:.2} | {:.2} | {} | | {:.0} | | |",
        echo.latencies_us.len(),
        echo.ms(50.0),
        echo.ms(99.0),
        echo.ms(100.0),
        echo.missing,
        echo.rss_mb
    );
    for (members, sample) in &rows {
        let (aws, local, plain, without_posts) = sample
            .push_cpu
            .as_ref()
            .map_or((f64::NAN, f64::NAN, f64::NAN, f64::NAN), |cpu| {
                (cpu.aws, cpu.local, cpu.plain_http, cpu.without_posts)
            });
        println!(
            "| {members} | {} | {:.2} | {:.2} | {:.2} | {} | {:.2} / {:.2} | {:.0} | {aws:.1} / {local:.1} / {plain:.1} / {without_posts:.1} | {:.1} |",
            sample.latencies_us.len(),
            sample.ms(50.0),
            sample.ms(99.0),
            sample.ms(100.0),
            sample.missing,
            percentile_ms(&sample.adds_us, 50.0),
            percentile_ms(&sample.adds_us, 99.0),
            sample.rss_mb,
            sample.process_cpu_us
        );
    }
    if let Some(cpu) = rows
        .iter()
        .rev()
        .find_map(|(_, sample)| sample.push_cpu.as_ref())
    {
        crate::push_cpu::print_memory_arithmetic(cpu.aws);
    }
    if let Some((members, sample)) = rows.iter().find(|(members, _)| *members == 1000) {
        let verdict = if sample.rss_mb < 200.0 {
            "met"
        } else {
            "MISSED"
        };
        println!(
            "target at {members} sockets: the stack under 200 MB RSS ({verdict}: {:.0} MB measured with the clients in the same process)",
            sample.rss_mb
        );
    }
    for (members, sample) in &rows {
        if let Some(cpu) = &sample.push_cpu {
            let verdict = if cpu.aws <= PUSH_CPU_TARGET_US {
                "met"
            } else {
                "MISSED"
            };
            println!(
                "target at {members} members: sync-push CPU <= {PUSH_CPU_TARGET_US} µs per delivery with the AWS client ({verdict}: {:.1})",
                cpu.aws
            );
        }
    }
    for (members, sample) in &rows {
        let target = match members {
            m if *m <= 100 => Some(10.0),
            m if *m <= 1000 => Some(50.0),
            _ => None,
        };
        if let Some(target) = target {
            let verdict = if sample.ms(99.0) < target && sample.missing == 0 {
                "met"
            } else {
                "MISSED"
            };
            println!("target at {members} members: p99 < {target} ms, none missing ({verdict})");
        }
    }
}

/// Round trips of `ping` on one socket, at the same pace as the changes.
async fn echo(count: usize) -> Sample {
    let stack = crate::unthrottled_stack().await;
    let mut socket = stack.socket("echo").await;
    let mut latencies_us = Vec::with_capacity(count);
    let mut missing = 0;
    let mut pace = tokio::time::interval(Duration::from_micros(1_000_000 / CHANGES_PER_SECOND));
    for _ in 0..count {
        pace.tick().await;
        let sent = Instant::now();
        if socket.ask(json!({"action": "ping"})).await["type"] == "pong" {
            latencies_us.push(sent.elapsed().as_micros() as u64);
        } else {
            missing += 1;
        }
    }
    latencies_us.sort_unstable();
    let rss_mb = resident_mb();
    stack.shutdown().await;
    Sample {
        latencies_us,
        missing,
        rss_mb,
        adds_us: Vec::new(),
        push_cpu: None,
        process_cpu_us: f64::NAN,
    }
}

/// `members` sockets on one cart, one member adding `changes` items at a steady pace.
async fn fan_out(members: usize, changes: usize) -> Sample {
    let stack = crate::unthrottled_stack().await;
    let mut owner = stack.user("owner").await;
    let admin = stack.token("bench-admin", &["admin"]).await;
    let restocked = owner
        .client
        .send(
            "PUT",
            "/items/apple/stock",
            Some(&admin),
            Some(json!({"stock": 1_000_000})),
        )
        .await;
    assert_eq!(restocked.status, 200);
    let cart = owner.create_cart().await;
    let others: Vec<String> = (1..members).map(|i| format!("member-{i}")).collect();
    for chunk in others.chunks(domain::cart::MAX_USERS_PER_SHARE) {
        let shared = owner
            .send(
                "POST",
                &format!("/carts/{cart}/members"),
                Some(json!({"userIds": chunk, "role": "viewer"})),
            )
            .await;
        assert_eq!(shared.status, 200, "{}", shared.body);
    }

    let mut sockets = vec![stack.socket("owner").await];
    for user in &others {
        sockets.push(stack.socket(user).await);
    }
    let deadline =
        Duration::from_secs(6) + Duration::from_millis(changes as u64 * 1000 / CHANGES_PER_SECOND);
    let expected = WARM_UP_CHANGES + changes;
    // The listeners read from the start, so no message waits in the stack; their clock starts
    // with the measured changes.
    let clock = Arc::new(std::sync::OnceLock::new());
    let listeners: Vec<_> = sockets
        .into_iter()
        .map(|socket| tokio::spawn(listen(socket, expected, deadline, clock.clone())))
        .collect();
    let mut published = stack.events();
    for _ in 0..WARM_UP_CHANGES {
        owner
            .send(
                "POST",
                &format!("/carts/{cart}/items"),
                Some(json!({"itemId": "apple", "quantity": 1})),
            )
            .await;
    }
    let mut warm_up_events = Vec::new();
    while warm_up_events.len() < WARM_UP_CHANGES {
        warm_up_events.push(published.recv().await.expect("a warm-up change's event"));
    }
    // Pushed again, to the same sockets, by instances of the function measured on their own
    // thread; the listeners keep each version's first arrival.
    let push_cpu = crate::push_cpu::measure(stack.registry(), stack.addr(), warm_up_events).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = clock.set(Instant::now());

    let process_cpu = cpu_time::ProcessTime::now();
    let sent_at = Arc::new(tokio::sync::Mutex::new(HashMap::new()));
    let mut adds_us = Vec::with_capacity(changes);
    let mut pace = tokio::time::interval(Duration::from_micros(1_000_000 / CHANGES_PER_SECOND));
    for _ in 0..changes {
        pace.tick().await;
        let sent = Instant::now();
        let added = owner
            .send(
                "POST",
                &format!("/carts/{cart}/items"),
                Some(json!({"itemId": "apple", "quantity": 1})),
            )
            .await;
        adds_us.push(sent.elapsed().as_micros() as u64);
        if let Some(version) = added.body["version"].as_u64() {
            sent_at.lock().await.insert(version, sent);
        }
    }

    let rss_mb = resident_mb();
    let sent_at = sent_at.lock().await.clone();
    let listened: Vec<_> = futures_util::future::join_all(listeners)
        .await
        .into_iter()
        .map(Result::unwrap_or_default)
        .collect();
    let process_cpu = process_cpu.elapsed();
    let mut latencies_us = Vec::new();
    let mut missing = 0;
    for received in &listened {
        for (version, sent) in &sent_at {
            match received.get(version) {
                Some(arrived) => {
                    latencies_us.push(arrived.saturating_duration_since(*sent).as_micros() as u64)
                }
                None => missing += 1,
            }
        }
    }
    latencies_us.sort_unstable();
    adds_us.sort_unstable();
    stack.shutdown().await;
    let process_cpu_us = process_cpu.as_secs_f64() * 1e6 / latencies_us.len().max(1) as f64;
    Sample {
        latencies_us,
        missing,
        rss_mb,
        adds_us,
        push_cpu: Some(push_cpu),
        process_cpu_us,
    }
}

/// This process's resident memory in MB (Linux), NaN where it cannot be read.
fn resident_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb / 1024.0)
        })
        .unwrap_or(f64::NAN)
}

/// The fields of a server message the bench reads; the snapshot is skipped, not built.
#[derive(serde::Deserialize)]
struct Heard<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    event: Option<&'a str>,
    version: Option<u64>,
}

/// When each version's change message arrived on `socket`, until `deadline` after the `clock`
/// starts (it reads in short waits before that).
async fn listen(
    mut socket: Socket,
    expected: usize,
    deadline: Duration,
    clock: Arc<std::sync::OnceLock<Instant>>,
) -> HashMap<u64, Instant> {
    const BEFORE_THE_CLOCK: Duration = Duration::from_millis(100);
    let mut arrived = HashMap::with_capacity(expected);
    while arrived.len() < expected {
        let left = match clock.get() {
            Some(started) => (*started + deadline).saturating_duration_since(Instant::now()),
            None => BEFORE_THE_CLOCK,
        };
        if left.is_zero() {
            break;
        }
        let Some(text) = socket.next_text(left).await else {
            if clock.get().is_some() {
                break;
            }
            continue;
        };
        let at = Instant::now();
        if let Ok(Heard {
            kind: "change",
            event: Some("CartItemAdded"),
            version: Some(version),
        }) = serde_json::from_str(&text)
        {
            arrived.entry(version).or_insert(at);
        }
    }
    arrived
}
