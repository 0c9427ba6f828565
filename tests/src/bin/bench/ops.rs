//! `bench ops`: each REST cart operation as API Gateway invokes it on AWS, on the deployed
//! functions (`deployed`: release binaries, production adapters, real servers behind delayed
//! links). Prints p50/p99 per operation with every link delayed by 1 ms each way, the round
//! trips its links carried, and how many of them were sequential: the growth of the median
//! when every link's round trip grows from 0 to 20 ms, over those 20 ms. Concurrent round
//! trips cost one round trip's wait, so that count is what a user waits for.
//!
//! Targets: a read is one sequential round trip, an add or a remove at most three (cart read,
//! conditional write, produce: the catalog comes from the cache).

use crate::deployed::{Deployed, Running};
use crate::quantile;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Each way, on every link, in the round that counts sequential round trips.
const WIDE_DELAY: Duration = Duration::from_millis(10);
/// The functions the operations need, `create-cart` to make the cart they work on.
const FUNCTIONS: [&str; 4] = [
    "create-cart",
    "get-cart",
    "add-item-to-cart",
    "remove-item-from-cart",
];
/// The caller of every operation: the cart's owner.
const USER: &str = "alice";
/// The item added and removed, with stock for every add.
const ITEM: &str = "apple";
/// How long one invocation may take before it counts as failed.
const INVOCATION_LIMIT: Duration = Duration::from_secs(10);

/// One operation: a label, its function, and its target in sequential round trips.
struct Operation {
    label: &'static str,
    function: &'static str,
    target: Option<f64>,
}

const GET: Operation = Operation {
    label: "getCart",
    function: "get-cart",
    target: Some(1.0),
};
const ADD: Operation = Operation {
    label: "addItemToCart",
    function: "add-item-to-cart",
    target: Some(3.0),
};
const ADD_ONCE: Operation = Operation {
    label: "addItemToCart with Idempotency-Key",
    function: "add-item-to-cart",
    target: None,
};
const REMOVE: Operation = Operation {
    label: "removeItemFromCart",
    function: "remove-item-from-cart",
    target: Some(3.0),
};
/// One round, in order: each remove takes out what the add before it put in.
const ROUND: [&Operation; 5] = [&ADD, &GET, &REMOVE, &ADD_ONCE, &REMOVE];

/// What one invocation took, and the round trips per link while it ran.
struct Sample {
    millis: f64,
    round_trips: Vec<u64>,
}

/// Runs `rounds` rounds at `delay` (and a few at 0 and at [`WIDE_DELAY`]) and prints the table.
pub async fn run(rounds: usize, bin_dir: &Path, delay: Duration) -> bool {
    match measure(rounds, bin_dir, delay).await {
        Ok(()) => true,
        Err(why) => {
            eprintln!("bench ops failed: {why}");
            false
        }
    }
}

async fn measure(rounds: usize, bin_dir: &Path, delay: Duration) -> Result<(), String> {
    let deployed = Deployed::start(delay).await;
    seed(&deployed).await;
    let mut running = BTreeMap::new();
    for function in FUNCTIONS {
        let (process, _) = Running::start(&deployed, function, bin_dir).await?;
        running.insert(function, process);
    }
    let created = invoke(&deployed, &mut running, "create-cart", &create_cart()).await?;
    let cart_id = created.1["cartId"]
        .as_str()
        .ok_or("createCart answered without a cartId")?
        .to_owned();

    // By operation and link delay (µs). The first rounds prepare statements and fill the
    // catalog's cache: not measured.
    let mut samples: BTreeMap<(&str, u64), Vec<Sample>> = BTreeMap::new();
    let phases = [
        (delay, 3, false),
        (Duration::ZERO, rounds.div_ceil(2), true),
        (WIDE_DELAY, rounds.div_ceil(2), true),
        (delay, rounds, true),
    ];
    for (phase_delay, phase_rounds, kept) in phases {
        deployed.links.delay_each_way(phase_delay);
        for _ in 0..phase_rounds {
            for operation in ROUND {
                let event = event_of(operation, &cart_id);
                let (sample, _) =
                    invoke(&deployed, &mut running, operation.function, &event).await?;
                if kept {
                    samples
                        .entry((operation.label, phase_delay.as_micros() as u64))
                        .or_default()
                        .push(sample);
                }
            }
        }
    }
    for (_, process) in running {
        process.stop().await;
    }
    print_table(&samples, &deployed.links.names(), rounds, delay);
    Ok(())
}

/// The item in the catalog, and the idempotency table on the DynamoDB server.
async fn seed(deployed: &Deployed) {
    let keyspace = keyspaces::Keyspace::open(&deployed.keyspace())
        .await
        .expect("the keyspace");
    let catalog = keyspaces::KeyspacesCatalog::new(keyspace);
    for mut item in domain::testing::sample_items() {
        item.stock = 1_000_000;
        domain::ports::Catalog::put(&catalog, &item)
            .await
            .expect("the catalog takes an item");
    }
    let keys = deployed.cql.sigv4_keys();
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .endpoint_url(tests::service_setting("DYNAMODB_ENDPOINT"))
            .region(aws_sdk_dynamodb::config::Region::new(cqlserver::REGION))
            .http_client(tls::aws_http_client())
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                &keys.access_key_id,
                &keys.secret_access_key,
                None,
                None,
                "bench",
            ))
            .build(),
    );
    dynamo::tables::create_idempotency_table(&dynamodb, &Deployed::table("IDEMPOTENCY_TABLE"))
        .await
        .expect("the idempotency table");
}

/// Hands `event` to `function` and waits for its answer, which must be a success: returns
/// what it took and the body, as JSON.
async fn invoke(
    deployed: &Deployed,
    running: &mut BTreeMap<&str, Running>,
    function: &str,
    event: &Value,
) -> Result<(Sample, Value), String> {
    let process = running.get_mut(function).ok_or("not started")?;
    let before = deployed.links.counts();
    let started = Instant::now();
    process.api.invoke(event.to_string());
    let answer = loop {
        let heard = tokio::time::timeout(INVOCATION_LIMIT, process.api.heard.recv())
            .await
            .map_err(|_| format!("{function} did not answer within {INVOCATION_LIMIT:?}"))?;
        match heard {
            Some(crate::runtime_api::Heard::Answered { body, failed }) => break (body, failed),
            Some(_) => continue,
            None => return Err(format!("{function}'s runtime API stopped")),
        }
    };
    let millis = started.elapsed().as_secs_f64() * 1e3;
    let round_trips = before
        .iter()
        .zip(deployed.links.counts())
        .map(|((_, before), (_, after))| after - before)
        .collect();
    let (body, failed) = answer;
    let response: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let status = response["statusCode"].as_u64().unwrap_or(0);
    if failed || !(200..300).contains(&status) {
        return Err(format!("{function} answered {status}: {body}"));
    }
    let body = response["body"]
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    Ok((
        Sample {
            millis,
            round_trips,
        },
        body,
    ))
}

/// The sample event of `function` (`events/`), as [`USER`] calls it.
fn sample_event(function: &str, cart_id: &str) -> Value {
    let path = format!("{}/../events/{function}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let text = text.replace(domain::testing::SAMPLE_CART_ID, cart_id);
    let mut event: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let authorizer = &mut event["requestContext"]["authorizer"];
    authorizer["userId"] = USER.into();
    authorizer["principalId"] = USER.into();
    event
}

fn create_cart() -> Value {
    sample_event("create-cart", domain::testing::SAMPLE_CART_ID)
}

fn event_of(operation: &Operation, cart_id: &str) -> Value {
    let mut event = sample_event(operation.function, cart_id);
    if operation.function == ADD.function {
        event["body"] = json!({ "itemId": ITEM, "quantity": 1 }).to_string().into();
    }
    if operation.function == REMOVE.function {
        event["pathParameters"]["itemId"] = ITEM.into();
        for pointer in ["/path", "/requestContext/path"] {
            if let Some(field) = event.pointer_mut(pointer) {
                let path = field
                    .as_str()
                    .unwrap_or_default()
                    .replace("/pear", "/apple");
                *field = path.into();
            }
        }
    }
    if operation.label == ADD_ONCE.label {
        let key = format!("bench-{:016x}", fastrand::u64(..));
        event["headers"]["Idempotency-Key"] = key.clone().into();
        event["multiValueHeaders"]["Idempotency-Key"] = json!([key]);
    }
    event
}

fn print_table(
    samples: &BTreeMap<(&str, u64), Vec<Sample>>,
    links: &[&str],
    rounds: usize,
    delay: Duration,
) {
    let (at, wide) = (delay.as_micros() as u64, WIDE_DELAY.as_micros() as u64);
    println!(
        "\nbench ops: each REST cart operation on its deployed function (release build, production adapters), invoked through the runtime API emulation; {rounds} rounds with links of {} ms each way; sequential round trips = (median at {} ms − median at 0 ms) / {} ms; {} cores\n",
        at as f64 / 1e3,
        wide / 1000,
        2 * wide / 1000,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "| operation | p50 ms | p99 ms | p50 ms at 0 ms | round trips at links (median) | sequential | target |"
    );
    println!("|---|---:|---:|---:|---|---:|---|");
    let mut missed = 0;
    let mut seen = Vec::new();
    for operation in ROUND {
        if seen.contains(&operation.label) {
            continue;
        }
        seen.push(operation.label);
        let of = |micros: u64| {
            samples
                .get(&(operation.label, micros))
                .map(Vec::as_slice)
                .unwrap_or_default()
        };
        let millis = |phase: &[Sample]| {
            let mut all: Vec<f64> = phase.iter().map(|s| s.millis).collect();
            all.sort_by(f64::total_cmp);
            all
        };
        let measured = millis(of(at));
        let at_zero = quantile(&millis(of(0)), 0.5);
        let sequential = (quantile(&millis(of(wide)), 0.5) - at_zero) / (2 * wide) as f64 * 1e3;
        let trips: Vec<String> = links
            .iter()
            .enumerate()
            .filter_map(|(link, name)| {
                let mut counts: Vec<u64> = of(at).iter().map(|s| s.round_trips[link]).collect();
                counts.sort_unstable();
                let median = counts.get(counts.len() / 2).copied().unwrap_or(0);
                (median > 0).then(|| format!("{name} {median}"))
            })
            .collect();
        let target = match operation.target {
            Some(target) if sequential.round() <= target => format!("≤ {target:.0} (met)"),
            Some(target) => {
                missed += 1;
                format!("≤ {target:.0} (MISSED)")
            }
            None => "—".to_owned(),
        };
        println!(
            "| {} | {:.1} | {:.1} | {at_zero:.1} | {} | {sequential:.1} | {target} |",
            operation.label,
            quantile(&measured, 0.5),
            quantile(&measured, 0.99),
            if trips.is_empty() {
                "none".to_owned()
            } else {
                trips.join(", ")
            },
        );
    }
    println!(
        "\ntargets (sequential round trips): a read 1, an add or a remove 3; {missed} operation(s) missed"
    );
}
