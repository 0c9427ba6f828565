//! The inventory consumer in the local stack: a checkout's lines leave stock once, and a
//! checkout that stock can no longer cover is announced to the cart's members.

use serde_json::json;
use std::time::Duration;
use tests::{TestStack, eventually, spawn_stack};

async fn stock_of(stack: &TestStack, item: &str) -> i64 {
    let mut reader = stack.user("reader").await;
    reader
        .send("GET", &format!("/items/{item}"), None)
        .await
        .body["stock"]
        .as_i64()
        .unwrap_or(-1)
}

async fn set_stock(stack: &TestStack, item: &str, stock: u32) {
    let token = stack.token("ops", &["admin"]).await;
    let reply = stack
        .client()
        .await
        .send(
            "PUT",
            &format!("/items/{item}/stock"),
            Some(token.as_str()),
            Some(json!({ "stock": stock })),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_takes_its_lines_from_stock_once() {
    let stack = spawn_stack().await;
    let before = stock_of(&stack, "coffee").await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    assert_eq!(alice.add(&cart, "coffee", 3).await.status, 200);
    let checkout = format!("/carts/{cart}/checkout");
    assert_eq!(alice.send("POST", &checkout, None).await.status, 200);
    assert!(
        eventually(|| async { stock_of(&stack, "coffee").await == before - 3 }).await,
        "the inventory consumer takes the checked-out coffee"
    );
    // Checking out again hands the order over again; it takes no more stock.
    assert_eq!(alice.send("POST", &checkout, None).await.status, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stock_of(&stack, "coffee").await, before - 3);
}

/// The first `shortfall` message on `socket` within `wait`, skipping everything else.
async fn shortfall_on(socket: &mut tests::Socket, wait: Duration) -> Option<serde_json::Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match socket.next_json(left).await {
            Some(message) if message["type"] == "shortfall" => return Some(message),
            Some(_) if !left.is_zero() => continue,
            _ => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkouts_racing_for_the_last_units_never_oversell_and_the_short_one_is_told() {
    let stack = spawn_stack().await;
    let (mut alice, mut bob) = (stack.user("alice").await, stack.user("bob").await);
    let (mut alices_socket, mut bobs_socket) =
        (stack.socket("alice").await, stack.socket("bob").await);
    // Each round two carts ask for both truffles left and check out at once. Checkout reads
    // stock before the consumer takes it, so both may pass: then the one the consumer serves
    // second is short, and its owner is told.
    for round in 0..20 {
        set_stock(&stack, "truffle", 2).await;
        let (a, b) = (alice.create_cart().await, bob.create_cart().await);
        assert_eq!(alice.add(&a, "truffle", 2).await.status, 200);
        assert_eq!(bob.add(&b, "truffle", 2).await.status, 200);
        let (checkout_a, checkout_b) = (
            format!("/carts/{a}/checkout"),
            format!("/carts/{b}/checkout"),
        );
        let (first, second) = tokio::join!(
            alice.send("POST", &checkout_a, None),
            bob.send("POST", &checkout_b, None)
        );
        assert!(
            eventually(|| async { stock_of(&stack, "truffle").await == 0 }).await,
            "round {round}: stock ends at zero, never below"
        );
        if first.status != 200 || second.status != 200 {
            continue; // the consumer was quicker: the second checkout saw no stock (409).
        }
        // Generous for a loaded CI machine: only the side that is never told waits it out.
        let wait = Duration::from_secs(5);
        let told = tokio::join!(
            shortfall_on(&mut alices_socket, wait),
            shortfall_on(&mut bobs_socket, wait)
        );
        let (shortfall, cart) = match told {
            (Some(shortfall), None) => (shortfall, a),
            (None, Some(shortfall)) => (shortfall, b),
            other => panic!("round {round}: exactly one checkout is short, told {other:?}"),
        };
        assert_eq!(shortfall["cartId"], cart.as_str());
        assert_eq!(shortfall["shortages"][0]["itemId"], "truffle");
        assert_eq!(shortfall["shortages"][0]["requested"], 2);
        assert_eq!(shortfall["shortages"][0]["available"], 0);
        return;
    }
    panic!("in 20 rounds no two checkouts raced past the stock check together");
}
