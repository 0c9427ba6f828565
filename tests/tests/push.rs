//! Live pushes over real sockets: a change made over HTTP reaches every member's connections
//! through the bus, `sync-push`, the AWS SDK client and the `@connections` emulation.

use domain::{Connection, ConnectionId, UserId};
use serde_json::json;
use std::time::Duration;
use tests::spawn_stack;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_reaches_every_connection_of_every_member_with_actor_and_version() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    alice.share(&cart, &["bob"], "editor").await;
    let (mut bob_phone, mut bob_laptop, mut alice_tab, mut eve) = (
        stack.socket("bob").await,
        stack.socket("bob").await,
        stack.socket("alice").await,
        stack.socket("eve").await,
    );

    let added = alice.add(&cart, "coffee", 1).await;
    assert_eq!(added.status, 200);
    for socket in [&mut bob_phone, &mut bob_laptop, &mut alice_tab] {
        let message = socket.next_json(WAIT).await.expect("a push");
        assert_eq!(
            (message["type"].as_str(), message["event"].as_str()),
            (Some("change"), Some("CartItemAdded"))
        );
        assert_eq!(
            (message["actor"].as_str(), message["version"].as_u64()),
            (Some("alice"), Some(3))
        );
        assert_eq!(message["cart"]["items"][0]["itemId"], "coffee");
    }
    assert_eq!(
        eve.next_json(Duration::from_millis(300)).await,
        None,
        "non-members hear nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_for_one_cart_arrive_in_version_order() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    let mut tab = stack.socket("alice").await;
    for _ in 0..30 {
        alice.add(&cart, "apple", 1).await;
    }
    let mut versions = Vec::new();
    while let Some(message) = tab.next_json(Duration::from_millis(500)).await {
        versions.push(message["version"].as_u64().unwrap_or_default());
    }
    assert_eq!(versions, (2..=31).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unshared_member_is_told_once_and_then_hears_nothing() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    alice.share(&cart, &["bob"], "viewer").await;
    let mut bob = stack.socket("bob").await;
    alice
        .send("DELETE", &format!("/carts/{cart}/members/bob"), None)
        .await;
    let told = bob.next_json(WAIT).await.expect("the removal");
    assert_eq!(
        (told["type"].as_str(), told["actor"].as_str()),
        (Some("removed"), Some("alice"))
    );
    assert!(
        told.get("cart").is_none(),
        "no snapshot of a cart bob may no longer see"
    );
    alice.add(&cart, "milk", 1).await;
    assert_eq!(bob.next_json(Duration::from_millis(300)).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_is_gone_is_cleaned_up_on_410_and_the_others_still_receive() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    let mut tab = stack.socket("alice").await;
    // A connection whose $disconnect never arrived: registered a minute ago (past the moment
    // a new one may answer 410), but no socket behind it.
    let alice_id = UserId::parse("alice").unwrap();
    let stale = Connection::opened(
        ConnectionId::parse("StaleTab=").unwrap(),
        alice_id.clone(),
        chrono::Utc::now() - chrono::Duration::minutes(1),
    );
    stack.registry().register(&stale).await.unwrap();

    alice.add(&cart, "eggs", 1).await;
    assert_eq!(
        tab.next_json(WAIT).await.map(|m| m["version"].clone()),
        Some(json!(2))
    );
    let registry = stack.registry();
    tests::eventually(|| {
        let registry = registry.clone();
        let key = stale.connection_id.clone();
        async move {
            registry
                .connection(&key)
                .await
                .map(|c| c.is_none())
                .unwrap_or(false)
        }
    })
    .await;
    assert!(
        stack
            .registry()
            .connection(&stale.connection_id)
            .await
            .unwrap()
            .is_none(),
        "the 410 removed it"
    );
    assert_eq!(
        stack
            .registry()
            .connections_of(&alice_id)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_record_does_not_stop_the_batch_behind_it() {
    use aws_lambda_events::event::kafka::{KafkaEvent, KafkaRecord};
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    let mut tab = stack.socket("alice").await;
    let mut published = stack.events();
    alice.add(&cart, "coffee", 1).await;
    let event = published.recv().await.expect("the add's event");
    let live = tab.next_json(WAIT).await.expect("the live push");

    // The same event redelivered behind a record that is not a cart event, in one partition,
    // through the function and the SDK client as MSK and AWS would run them.
    let record = |offset: i64, value: Vec<u8>| {
        let mut record = KafkaRecord::default();
        record.topic = Some("cart-events".into());
        record.partition = 0;
        record.offset = offset;
        record.value = Some(STANDARD.encode(value));
        record
    };
    let mut batch = KafkaEvent::default();
    batch.records.insert(
        "cart-events-0".into(),
        vec![
            record(7, b"{\"not\": \"a cart event\"}".to_vec()),
            record(8, serde_json::to_vec(event.as_ref()).unwrap()),
        ],
    );
    // An instance of its own: the stack's has pushed this version and would skip it.
    let push = sync_push::Push::new(
        stack.registry(),
        std::sync::Arc::new(apigw::ManagementApi::unsigned_local(&format!(
            "http://{}",
            stack.addr()
        ))),
    );
    let report = sync_push::handle(&push, batch)
        .await
        .expect("the registry answers");
    assert_eq!(
        (report.records, report.undecodable, report.posted),
        (2, 1, 1)
    );
    let redelivered = tab
        .next_json(WAIT)
        .await
        .expect("the record behind the poison");
    assert_eq!(
        redelivered, live,
        "a redelivery is the same message: the client drops it by version"
    );
}
