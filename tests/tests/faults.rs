//! Dependencies failing under the local stack, each behind a link the test cuts and restores.
//! The promises: no acknowledged change is lost, and an outage answers a clear 503, never a
//! lost write.

use aws_lambda_events::event::kafka::{KafkaEvent, KafkaRecord};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tests::{CuttableLink, real_servers, spawn_stack_on};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_loses_no_acknowledged_change_the_open_breaker_stops_the_waiting_and_each_push_arrives_once_after()
 {
    let (link, _broker) = tests::broker::tansu_behind_link().await;
    let mut backends = real_servers();
    backends.kafka_brokers = Some(vec![link.addr().to_string()]);
    let stack = spawn_stack_on(backends).await;
    let (mut alice, cart, mut bob) = stack.alice_shares_a_cart_with_bob_listening().await;

    // The first adds each wait out the broker's bound before their events go to the outbox;
    // then its breaker opens, and the rest go to the outbox at once.
    link.cut();
    let failures = domain::breaker::EVENTS.failures as usize;
    let adds = failures + 2;
    let mut answered_in = Vec::new();
    for _ in 0..adds {
        let started = Instant::now();
        let added = alice.add(&cart, "apple", 1).await;
        answered_in.push(started.elapsed());
        assert_eq!(
            added.status, 200,
            "the write is acknowledged: {}",
            added.body
        );
    }
    assert!(
        answered_in[failures..]
            .iter()
            .all(|took| *took < Duration::from_millis(500)),
        "once the breaker is open, no add waits for the broker: {answered_in:?}"
    );
    link.restore();

    // The outbox drains through event-relay into the topic, and sync-push posts each change.
    // The share's own push (version 2) may or may not beat bob's connection: it is not counted.
    let mut arrivals: BTreeMap<u64, usize> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    // Until all three came, then two quiet seconds: anything delivered twice is here by then.
    loop {
        let wait = if arrivals.len() < adds { 1 } else { 2 };
        match bob.next_json(Duration::from_secs(wait)).await {
            Some(message) => {
                let version = message["version"].as_u64().unwrap_or_default();
                if message["type"] == "change" && version >= 3 {
                    *arrivals.entry(version).or_default() += 1;
                }
            }
            None if arrivals.len() >= adds || Instant::now() > deadline => break,
            None => {}
        }
    }
    let every_version_once: BTreeMap<u64, usize> = (3..3 + adds as u64).map(|v| (v, 1)).collect();
    assert_eq!(arrivals, every_version_once);
    let read = alice.send("GET", &format!("/carts/{cart}"), None).await;
    assert_eq!(
        read.body["items"][0]["quantity"], adds,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_catalog_costs_an_add_its_timeout_then_the_open_breaker_answers_at_once_and_reads_keep_working()
 {
    let (keyspace, link) = tests::keyspace_behind_a_link().await;
    let mut backends = real_servers();
    // Carts on DynamoDB, the catalog alone behind the slow link.
    backends.keyspaces = Some(keyspace);
    // The shared Redis tier might hold items another test read: every item here is read fresh.
    backends.redis_url = None;
    let settings = domain::breaker::BreakerSettings {
        failures: 2,
        open_for: Duration::from_secs(2),
        call_timeout: Duration::from_millis(300),
    };
    backends.breakers.catalog = settings;
    let stack = spawn_stack_on(backends).await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;

    link.slow_down(Duration::from_secs(2));
    for item in ["apple", "banana"] {
        let started = Instant::now();
        let refused = alice.add(&cart, item, 1).await;
        assert_eq!(
            (refused.status, refused.code()),
            (503, "UNAVAILABLE"),
            "{}",
            refused.body
        );
        assert!(
            started.elapsed() < settings.call_timeout + Duration::from_millis(700),
            "bounded by the call timeout: {:?}",
            started.elapsed()
        );
    }
    let started = Instant::now();
    let fast = alice.add(&cart, "bread", 1).await;
    assert_eq!(
        (fast.status, fast.code()),
        (503, "DEPENDENCY_UNAVAILABLE"),
        "{}",
        fast.body
    );
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "at once: {:?}",
        started.elapsed()
    );
    assert!(fast.headers.contains_key("retry-after"));
    let read = alice.send("GET", &format!("/carts/{cart}"), None).await;
    assert_eq!(
        (read.status, &read.body["version"]),
        (200, &1.into()),
        "reads keep working: {}",
        read.body
    );

    link.slow_down(Duration::ZERO);
    tokio::time::sleep(settings.open_for).await;
    let added = alice.add(&cart, "apple", 1).await;
    assert_eq!(
        added.status, 200,
        "the probe finds the catalog back: {}",
        added.body
    );
    assert_eq!(added.body["version"], 2, "nothing was half-done before");
}

/// `events` as MSK delivers them: each cart's events in its own partition, in version order.
fn kafka_batch(events: &[Arc<domain::CartEvent>], carts: &[String]) -> KafkaEvent {
    let mut batch = KafkaEvent::default();
    for (offset, event) in events.iter().enumerate() {
        let partition = carts
            .iter()
            .position(|c| *c == event.cart_id.to_string())
            .unwrap_or_default();
        let mut record = KafkaRecord::default();
        record.topic = Some("cart-events".into());
        record.partition = partition as i64;
        record.offset = offset as i64;
        record.key = Some(STANDARD.encode(event.cart_id.to_string()));
        record.value =
            Some(STANDARD.encode(serde_json::to_vec(event.as_ref()).unwrap_or_default()));
        batch
            .records
            .entry(format!("cart-events-{partition}"))
            .or_default()
            .push(record);
    }
    batch
}

/// The first half of each partition of `batch`: what a consumer got through before failing.
fn first_half(batch: &KafkaEvent) -> KafkaEvent {
    let mut half = batch.clone();
    for records in half.records.values_mut() {
        records.truncate(records.len() / 2);
    }
    half
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_redelivered_after_failing_halfway_takes_stock_once_and_pushes_each_version_once() {
    let keyspace = tests::keyspaces_server()
        .await
        .keyspaces
        .expect("a keyspace");
    let mut backends = real_servers();
    backends.keyspaces = Some(keyspace.clone());
    let stack = spawn_stack_on(backends).await;
    let ledger = keyspaces::Keyspace::open(&keyspace)
        .await
        .expect("the keyspace opens");
    let catalog = keyspaces::KeyspacesCatalog::new(ledger.clone());
    // Both checkouts take coffee, so the stack's inventory consumer takes from one item's row
    // for two carts at once (their events sit in different partitions): each take is a
    // conditional write, and the CQL test server, like Keyspaces, lets only one of two racing
    // takes land; the other reads again and retries.
    let (item, quantities) = ("coffee", [2u32, 3]);
    let stock = || async {
        use domain::ports::Catalog;
        let id = domain::ItemId::parse(item).expect("an item id");
        catalog
            .item(&id)
            .await
            .ok()
            .flatten()
            .map_or(0, |i| i.stock)
    };
    let before = stock().await;
    let after = before - quantities.iter().sum::<u32>();

    let mut published = stack.events();
    let mut alice = stack.user("alice").await;
    let mut alice_tab = stack.socket("alice").await;
    let mut carts = Vec::new();
    for quantity in quantities {
        let cart = alice.create_cart().await;
        assert_eq!(alice.share(&cart, &["bob"], "viewer").await.status, 200);
        assert_eq!(alice.add(&cart, item, quantity).await.status, 200);
        let checkout = alice
            .send("POST", &format!("/carts/{cart}/checkout"), None)
            .await;
        assert_eq!(checkout.status, 200, "{}", checkout.body);
        carts.push(cart);
    }
    let mut events = Vec::new();
    while events.len() < 8 {
        let event = tokio::time::timeout(Duration::from_secs(5), published.recv())
            .await
            .expect("every change's event")
            .expect("the bus is open");
        if event.event_type.is_change() {
            events.push(event);
        }
    }
    assert!(
        tests::within(Duration::from_secs(20), || async { stock().await == after }).await,
        "the stack's own inventory consumer took both checkouts (through Kafka): {} of {before}",
        stock().await
    );
    // Bob connects once the stack's own pushes are done (Alice, the owner, has heard all eight
    // versions): they went to nobody on his side, so every push he gets is a redelivery's.
    let mut heard_by_alice = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while heard_by_alice < 8 && Instant::now() < deadline {
        if alice_tab.next_json(Duration::from_secs(1)).await.is_some() {
            heard_by_alice += 1;
        }
    }
    assert_eq!(
        heard_by_alice, 8,
        "the stack pushed every version to the owner"
    );
    let mut bob = stack.socket("bob").await;

    let batch = kafka_batch(&events, &carts);
    let inventory = inventory::Inventory {
        ledger: Arc::new(keyspaces::KeyspacesLedger::new(ledger)),
        events: Arc::new(domain::memory::RecordingPublisher::default()),
    };
    let push = sync_push::Push::new(
        stack.registry(),
        Arc::new(apigw::ManagementApi::unsigned_local(&format!(
            "http://{}",
            stack.addr()
        ))),
    );
    for delivery in [first_half(&batch), batch.clone()] {
        let taken = inventory::handle(&inventory, delivery.clone())
            .await
            .expect("the ledger answers");
        assert_eq!(taken.taken, 0, "nothing is taken twice: {taken:?}");
        sync_push::handle(&push, delivery)
            .await
            .expect("the registry answers");
    }
    assert_eq!(stock().await, after, "stock decremented once per checkout");

    let mut pushed: BTreeMap<(String, u64), usize> = BTreeMap::new();
    while let Some(message) = bob.next_json(Duration::from_secs(1)).await {
        let cart = message["cartId"].as_str().unwrap_or_default().to_owned();
        let version = message["version"].as_u64().unwrap_or_default();
        *pushed.entry((cart, version)).or_default() += 1;
    }
    // Bob is a member from the share (version 2) on; each of his versions came once.
    let expected: BTreeMap<(String, u64), usize> = carts
        .iter()
        .flat_map(|cart| (2..=4).map(move |v| ((cart.clone(), v), 1)))
        .collect();
    assert_eq!(pushed, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_outage_leaves_the_rest_api_working_and_its_pushes_arrive_after() {
    let mut backends = real_servers();
    // Carts on a CQL server, so that the DynamoDB link carries the connection registry alone.
    backends.keyspaces = tests::keyspaces_server().await.keyspaces;
    backends.cart_tables = None;
    backends.idempotency_table = None;
    let link = CuttableLink::in_front_of(&mut backends.dynamodb_endpoint).await;
    let stack = spawn_stack_on(backends).await;
    let (mut alice, cart, mut bob) = stack.alice_shares_a_cart_with_bob_listening().await;

    link.cut();
    for _ in 0..2 {
        let added = alice.add(&cart, "apple", 1).await;
        assert_eq!(
            added.status, 200,
            "REST does not need the registry: {}",
            added.body
        );
    }
    link.restore();
    let added = alice.add(&cart, "apple", 1).await;
    assert_eq!(added.status, 200, "{}", added.body);

    let mut versions = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !versions.contains(&5) && Instant::now() < deadline {
        if let Some(message) = bob.next_json(Duration::from_secs(1)).await {
            versions.push(message["version"].as_u64().unwrap_or_default());
        }
    }
    // The share's own push (version 2) may reach bob's new socket too.
    versions.retain(|v| *v > 2);
    assert_eq!(
        versions,
        [3, 4, 5],
        "the changes made while the registry was down arrive once it is back, in order, once each"
    );
    let read = alice.send("GET", &format!("/carts/{cart}"), None).await;
    assert_eq!(
        (&read.body["version"], &read.body["items"][0]["quantity"]),
        (&5.into(), &3.into())
    );
}

/// The apple's stock, as the catalog answers it.
async fn apple_stock(user: &mut tests::User) -> i64 {
    user.send("GET", "/items/apple", None).await.body["stock"]
        .as_i64()
        .unwrap_or_else(|| panic!("the apple has a stock"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_whose_function_died_after_its_save_reaches_every_member_once_and_its_checkout_takes_stock_once()
 {
    let stack = tests::spawn_stack().await;
    let (mut alice, cart, mut bob) = stack.alice_shares_a_cart_with_bob_listening().await;
    let before = apple_stock(&mut alice).await;

    // An add and the checkout each end right after their save: the caller hears a failure (as
    // from a function that died), the store has the change, and nothing was published.
    let crash = stack.crash_after_save();
    crash.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(alice.add(&cart, "apple", 2).await.status, 503);
    let checkout = alice
        .send("POST", &format!("/carts/{cart}/checkout"), None)
        .await;
    assert_eq!(checkout.status, 503, "{}", checkout.body);
    crash.store(false, std::sync::atomic::Ordering::SeqCst);
    let stored = alice.send("GET", &format!("/carts/{cart}"), None).await;
    assert_eq!(
        (&stored.body["version"], &stored.body["status"]),
        (&4.into(), &"CHECKED_OUT".into())
    );

    // The relay publishes what they left: bob hears both, once each and in order, and the
    // inventory takes the checkout's stock once.
    let mut heard: Vec<u64> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let wait = if heard.contains(&4) { 2 } else { 1 };
        match bob.next_json(Duration::from_secs(wait)).await {
            Some(message) if message["type"] == "change" => {
                heard.push(message["version"].as_u64().unwrap_or_default());
            }
            Some(_) => {}
            None if heard.contains(&4) || Instant::now() > deadline => break,
            None => {}
        }
    }
    heard.retain(|v| *v > 2);
    assert_eq!(heard, [3, 4], "each crashed change once, in order");
    let deadline = Instant::now() + Duration::from_secs(10);
    while apple_stock(&mut alice).await != before - 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        apple_stock(&mut alice).await,
        before - 2,
        "the stock is taken"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        apple_stock(&mut alice).await,
        before - 2,
        "and taken once, though the relay runs every second"
    );
}
