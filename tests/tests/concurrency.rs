//! The product's first promise, over HTTP: many members adding to one cart at once lose nothing.

use serde_json::json;
use std::sync::Arc;
use tests::spawn_stack;

const CLIENTS: usize = 50;
const ADDS_PER_CLIENT: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_add_from_50_concurrent_clients_is_in_the_cart() {
    let stack = spawn_stack().await;
    let mut owner = stack.user("owner").await;
    let cart = owner.create_cart().await;
    let members: Vec<String> = (0..CLIENTS).map(|i| format!("member-{i}")).collect();
    let shared = owner
        .send(
            "POST",
            &format!("/carts/{cart}/members"),
            Some(json!({"userIds": members, "role": "editor"})),
        )
        .await;
    assert_eq!(shared.status, 200);
    // Every client adds to one of a few items, so adds both create lines and grow them.
    let items = ["apple", "banana", "milk", "pasta", "eggs"];
    let admin = stack.token("ops", &["admin"]).await;
    for item in items {
        let restock = owner
            .client
            .send(
                "PUT",
                &format!("/items/{item}/stock"),
                Some(&admin),
                Some(json!({"stock": 100_000})),
            )
            .await;
        assert_eq!(restock.status, 200, "stock is not what this test is about");
    }
    let stack = Arc::new(stack);

    let mut tasks = Vec::new();
    for (i, member) in members.iter().enumerate() {
        let (stack, cart, member) = (stack.clone(), cart.clone(), member.clone());
        tasks.push(tokio::spawn(async move {
            let mut user = stack.user(&member).await;
            let mut acknowledged = Vec::new();
            for n in 0..ADDS_PER_CLIENT {
                let item = items[(i + n) % items.len()];
                let reply = user
                    .send(
                        "POST",
                        &format!("/carts/{cart}/items"),
                        Some(json!({"itemId": item, "quantity": 1})),
                    )
                    .await;
                match reply.status {
                    200 => acknowledged.push(item),
                    409 if reply.code() == "VERSION_CONFLICT" => {}
                    other => panic!("unexpected {other}: {}", reply.body),
                }
            }
            acknowledged
        }));
    }
    let mut expected = std::collections::HashMap::<&str, u64>::new();
    let mut successes = 0u64;
    for task in tasks {
        for item in task.await.unwrap() {
            *expected.entry(item).or_default() += 1;
            successes += 1;
        }
    }

    let cart = owner
        .send("GET", &format!("/carts/{cart}"), None)
        .await
        .body;
    let held: std::collections::HashMap<&str, u64> = cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["itemId"].as_str().unwrap(),
                l["quantity"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        held, expected,
        "every acknowledged add, and nothing else, is in the cart"
    );
    // Version 1 at creation, 2 after sharing, then one per successful add.
    assert_eq!(cart["version"].as_u64(), Some(2 + successes));
    assert!(
        successes as usize >= CLIENTS * ADDS_PER_CLIENT * 99 / 100,
        "only {successes} adds landed: retries are too timid"
    );
}
