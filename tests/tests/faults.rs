//! Dependencies failing under the local stack, each behind a link the test cuts and restores.
//! The promises: no acknowledged change is lost, and an outage answers a clear 503, never a
//! lost write.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tests::{CuttableLink, real_servers, spawn_stack_on};
use tokio::net::TcpListener;

/// A broker of the test's own, reachable only through a link, and advertising the link's
/// address so that every client connection goes through it.
async fn broker_behind_a_link() -> (tokio::process::Child, CuttableLink) {
    let tansu = std::env::var("TANSU_BIN").unwrap_or_else(|_| {
        panic!("TANSU_BIN is not set: run the tests through tests/services.sh (tests/run.sh does)")
    });
    let front = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let advertised = front.local_addr().expect("its address");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let broker: SocketAddr = ([127, 0, 0, 1], port).into();
    let child = tokio::process::Command::new(tansu)
        .args([
            "broker",
            "--listener-url",
            &format!("tcp://{broker}"),
            "--advertised-listener-url",
            &format!("tcp://{advertised}"),
            "--storage-engine",
            "memory://tansu/",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("tansu starts");
    let started = Instant::now();
    while tokio::net::TcpStream::connect(broker).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the broker did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (child, CuttableLink::on(front, broker))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_loses_no_acknowledged_change_and_each_push_arrives_once_after() {
    let (_broker, link) = broker_behind_a_link().await;
    let mut backends = real_servers();
    backends.kafka_brokers = Some(vec![link.addr().to_string()]);
    let stack = spawn_stack_on(backends).await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    alice.share(&cart, &["bob"], "viewer").await;
    let mut bob = stack.socket("bob").await;

    link.cut();
    for _ in 0..3 {
        let added = alice.add(&cart, "apple", 1).await;
        assert_eq!(
            added.status, 200,
            "the write is acknowledged: {}",
            added.body
        );
    }
    link.restore();

    // The outbox drains through event-relay into the topic, and sync-push posts each change.
    // The share's own push (version 2) may or may not beat bob's connection: it is not counted.
    let mut arrivals: BTreeMap<u64, usize> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    // Until all three came, then two quiet seconds: anything delivered twice is here by then.
    loop {
        let wait = if arrivals.len() < 3 { 1 } else { 2 };
        match bob.next_json(Duration::from_secs(wait)).await {
            Some(message) => {
                let version = message["version"].as_u64().unwrap_or_default();
                if message["type"] == "change" && version >= 3 {
                    *arrivals.entry(version).or_default() += 1;
                }
            }
            None if arrivals.len() >= 3 || Instant::now() > deadline => break,
            None => {}
        }
    }
    assert_eq!(arrivals, BTreeMap::from([(3, 1), (4, 1), (5, 1)]));
    let read = alice.send("GET", &format!("/carts/{cart}"), None).await;
    assert_eq!(
        read.body["items"][0]["quantity"], 3,
        "every acknowledged add is there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamodb_outage_answers_503_and_the_next_write_finds_nothing_half_done() {
    let mut backends = real_servers();
    let link = CuttableLink::in_front_of(&mut backends.dynamodb_endpoint).await;
    let stack = spawn_stack_on(backends).await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;

    link.cut();
    let refused = alice.add(&cart, "apple", 1).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.body["code"], "UNAVAILABLE");
    assert!(refused.headers.contains_key("retry-after"));

    link.restore();
    let added = alice.add(&cart, "apple", 1).await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.body["version"], 2);
    assert_eq!(added.body["items"][0]["quantity"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqs_outage_at_checkout_answers_503_and_the_retry_hands_the_order_over_once() {
    let backends = real_servers();
    let mut through_link = backends.clone();
    let link = CuttableLink::in_front_of(&mut through_link.sqs_endpoint).await;
    let stack = spawn_stack_on(through_link).await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    assert_eq!(alice.add(&cart, "coffee", 1).await.status, 200);
    let checkout = format!("/carts/{cart}/checkout");

    link.cut();
    let refused = alice.send("POST", &checkout, None).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.body["code"], "UNAVAILABLE");
    let read = alice.send("GET", &format!("/carts/{cart}"), None).await;
    assert_eq!(
        read.body["status"], "CHECKED_OUT",
        "the checkout itself was kept"
    );

    link.restore();
    let retried = alice.send("POST", &checkout, None).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(
        retried.body["version"], read.body["version"],
        "the retry changes nothing"
    );
    let orders = tests::orders_handed_over(&backends).await;
    assert_eq!(orders.len(), 1, "the order, once: {orders:?}");
    assert_eq!(orders[0]["orderId"], cart.as_str());
}
