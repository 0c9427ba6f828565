//! `bench soak --faults`: the soak's stack on real servers (tansu, moto's SQS and DynamoDB,
//! Redis), each of the three dependencies a change or a push needs reached through a link the
//! soak cuts and restores while the users work: the broker, the SQS outbox (both at once for a
//! while, when events wait in the carts' records for the relay), and the connection registry.
//! Carts stay on the embedded store and orders in the process, so that every answer the soak
//! counts is a change's, and the promises it checks at the end are the same.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tests::{CuttableLink, TestStack};

/// The links in front of a stack's dependencies, and the broker it owns.
pub struct FaultyStack {
    broker: CuttableLink,
    outbox: CuttableLink,
    registry: CuttableLink,
    _tansu: tokio::process::Child,
}

/// When, as a share of the run, each link is cut and restored.
const SCHEDULE: [(f64, Link, bool); 6] = [
    (0.15, Link::Broker, false),
    (0.30, Link::Outbox, false),
    (0.45, Link::Broker, true),
    (0.55, Link::Outbox, true),
    (0.60, Link::Registry, false),
    (0.75, Link::Registry, true),
];

#[derive(Clone, Copy, Debug)]
enum Link {
    Broker,
    Outbox,
    Registry,
}

/// How long the sockets must hear nothing before the counting starts, and the longest the
/// soak waits for that: what an outage held back (in the SQS outbox, in the carts' records, in a
/// push batch being redelivered) drains after the run.
const QUIET: Duration = Duration::from_secs(5);
const DRAIN_AT_MOST: Duration = Duration::from_secs(120);

/// Waits until the sockets (whose messages `heard` counts) have been quiet for [`QUIET`].
pub async fn drain(heard: &AtomicUsize) {
    let started = Instant::now();
    let mut last = heard.load(Ordering::SeqCst);
    let mut quiet_since = Instant::now();
    while quiet_since.elapsed() < QUIET && started.elapsed() < DRAIN_AT_MOST {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = heard.load(Ordering::SeqCst);
        if now != last {
            last = now;
            quiet_since = Instant::now();
        }
    }
    println!("drained in {:.1} s", started.elapsed().as_secs_f64());
}

impl FaultyStack {
    /// Starts the broker, the links and a stack on them (with its per-user rate limit on).
    pub async fn start() -> (Self, TestStack) {
        let (broker, tansu) = tests::broker::tansu_behind_link().await;
        let mut backends = tests::real_servers();
        backends.kafka_brokers = Some(vec![broker.addr().to_string()]);
        backends.cart_tables = None;
        backends.idempotency_table = None;
        backends.orders_queue_url = None;
        let outbox = CuttableLink::in_front_of(&mut backends.sqs_endpoint).await;
        let registry = CuttableLink::in_front_of(&mut backends.dynamodb_endpoint).await;
        let stack = tests::spawn_stack_on(backends).await;
        let links = Self {
            broker,
            outbox,
            registry,
            _tansu: tansu,
        };
        (links, stack)
    }

    /// Cuts and restores the links on [`SCHEDULE`] over a run of `length` from `started`, and
    /// says what it did.
    pub async fn run_schedule(&self, started: Instant, length: Duration) -> Vec<String> {
        let mut done = Vec::new();
        for (share, link, restore) in SCHEDULE {
            tokio::time::sleep_until((started + length.mul_f64(share)).into()).await;
            let target = match link {
                Link::Broker => &self.broker,
                Link::Outbox => &self.outbox,
                Link::Registry => &self.registry,
            };
            if restore {
                target.restore();
            } else {
                target.cut();
            }
            done.push(format!(
                "{:>5.1} s  {} {link:?}",
                started.elapsed().as_secs_f64(),
                if restore { "restored" } else { "cut" }
            ));
        }
        done
    }
}
