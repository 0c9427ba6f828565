//! The local stack on real servers (started by `tests/services.sh`): carts and connections in
//! DynamoDB, events through Kafka to `sync-push`, which posts to the members' sockets.

use std::time::Duration;
use tests::{real_servers, spawn_stack_on};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_reaches_another_members_socket_through_kafka() {
    let backends = real_servers();
    let stack = spawn_stack_on(backends.clone()).await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    alice.share(&cart, &["bob"], "editor").await;
    let mut bob = stack.socket("bob").await;

    let added = alice.add(&cart, "coffee", 2).await;
    assert_eq!(added.status, 200, "{}", added.body);
    // The share's own push may or may not beat bob's connection; the add's must come.
    let pushed = loop {
        let message = bob
            .next_json(Duration::from_secs(10))
            .await
            .expect("the change, through the broker");
        if message["event"] != "CartShared" {
            break message;
        }
    };
    assert_eq!(
        (
            pushed["event"].as_str(),
            pushed["actor"].as_str(),
            pushed["version"].as_u64()
        ),
        (Some("CartItemAdded"), Some("alice"), Some(3))
    );
    assert_eq!(pushed["cart"]["items"][0]["quantity"], 2);

    // The connection is in the DynamoDB table, as the Lambdas would keep it.
    let bob_id = domain::UserId::parse("bob").unwrap();
    assert_eq!(
        stack
            .registry()
            .connections_of(&bob_id)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_on_the_same_tables_sees_the_same_carts() {
    // Two stacks with their own embedded stores, as two Lambda instances: what one writes, the
    // other reads, so it is in DynamoDB.
    let backends = real_servers();
    let (first, second) = (
        spawn_stack_on(backends.clone()).await,
        spawn_stack_on(backends).await,
    );
    let cart = first.user("alice").await.create_cart().await;
    let mut alice = second.user("alice").await;
    let read = alice.send("GET", &format!("/carts/{cart}"), None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    let mine = alice.send("GET", "/me/carts", None).await;
    assert_eq!(mine.body["carts"][0]["cartId"], cart.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_hands_its_order_to_the_orders_queue() {
    let backends = real_servers();
    let stack = spawn_stack_on(backends.clone()).await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    assert_eq!(alice.add(&cart, "coffee", 2).await.status, 200);
    let done = alice
        .send("POST", &format!("/carts/{cart}/checkout"), None)
        .await;
    assert_eq!(done.status, 200, "{}", done.body);

    let messages = tests::orders_handed_over(&backends).await;
    assert_eq!(messages.len(), 1, "one order per checkout");
    let order = &messages[0];
    assert_eq!(order["orderId"], cart.as_str());
    assert_eq!(order["buyer"], "alice");
    assert_eq!(order["lines"][0]["itemId"], "coffee");
    assert_eq!(order["lines"][0]["quantity"], 2);
    assert_eq!(order["total"], done.body["total"]);
}
