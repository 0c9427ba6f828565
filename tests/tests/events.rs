//! Every change made over HTTP emits exactly one event, in version order, addressed to everyone
//! who must hear of it; a refused request emits nothing.

use domain::{EventType, UserId};
use serde_json::json;
use tests::spawn_stack;

#[tokio::test]
async fn each_operation_emits_its_event_with_the_snapshot_after_it() {
    let stack = spawn_stack().await;
    let mut events = stack.events();
    let mut alice = stack.user("alice").await;
    let mut bob = stack.user("bob").await;
    let cart = alice.create_cart().await;
    let at = |path: &str| format!("/carts/{cart}{path}");

    alice
        .send(
            "POST",
            &at("/members"),
            Some(json!({"userIds": ["bob"], "role": "editor"})),
        )
        .await;
    bob.send(
        "POST",
        &at("/items"),
        Some(json!({"itemId": "apple", "quantity": 2})),
    )
    .await;
    bob.send(
        "POST",
        &at("/items"),
        Some(json!({"itemId": "milk", "quantity": 1})),
    )
    .await;
    alice.send("DELETE", &at("/items/milk"), None).await;
    alice
        .send(
            "PATCH",
            &at(""),
            Some(json!({"changes": [{"itemId": "apple", "quantity": 3}]})),
        )
        .await;
    let refused = bob
        .send(
            "POST",
            &at("/members"),
            Some(json!({"userIds": ["eve"], "role": "viewer"})),
        )
        .await;
    assert_eq!(refused.status, 403);
    alice.send("DELETE", &at("/members/bob"), None).await;
    alice.send("POST", &at("/checkout"), None).await;

    let expected = [
        (EventType::CartCreated, "alice"),
        (EventType::CartShared, "alice"),
        (EventType::CartItemAdded, "bob"),
        (EventType::CartItemAdded, "bob"),
        (EventType::CartItemRemoved, "alice"),
        (EventType::CartModified, "alice"),
        (EventType::CartUnshared, "alice"),
        (EventType::CartCheckedOut, "alice"),
    ];
    for (version, (event_type, actor)) in (1u64..).zip(expected) {
        let event = events
            .try_recv()
            .unwrap_or_else(|e| panic!("event for version {version}: {e}"));
        assert_eq!(
            (event.event_type, event.version, event.actor.as_str()),
            (event_type, version, actor)
        );
        assert_eq!(event.cart_id.to_string(), cart);
        let snapshot: serde_json::Value = serde_json::from_str(event.snapshot.get()).unwrap();
        assert_eq!(
            snapshot["version"], version,
            "the snapshot is the cart after the change"
        );
        if event_type == EventType::CartUnshared {
            assert!(
                event.members.contains(&UserId::parse("bob").unwrap()),
                "the removed member hears of it once"
            );
        }
    }
    assert!(
        events.try_recv().is_err(),
        "the refused share published nothing"
    );
}
