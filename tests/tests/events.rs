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

/// The analytics consumer counts what the day's changes did, from the same events every other
/// consumer reads, and an admin reads it back; the same cart shared twice counts as shared once.
#[tokio::test]
async fn an_admin_reads_what_the_day_s_changes_counted() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    let at = |path: &str| format!("/carts/{cart}{path}");
    for (method, path, body) in [
        (
            "POST",
            at("/items"),
            json!({"itemId": "apple", "quantity": 3}),
        ),
        (
            "POST",
            at("/items"),
            json!({"itemId": "milk", "quantity": 1}),
        ),
        (
            "POST",
            at("/members"),
            json!({"userIds": ["bob"], "role": "editor"}),
        ),
        (
            "POST",
            at("/members"),
            json!({"userIds": ["carol"], "role": "viewer"}),
        ),
        (
            "PATCH",
            at(""),
            json!({"changes": [{"itemId": "apple", "quantity": 2}]}),
        ),
        ("POST", at("/checkout"), json!({})),
    ] {
        let reply = alice.send(method, &path, Some(body)).await;
        assert!(reply.status < 300, "{method} {path}: {}", reply.body);
    }
    let admin = stack.token("ops", &["admin"]).await;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let read = || async {
        stack
            .client()
            .await
            .send(
                "GET",
                &format!("/analytics/days/{today}"),
                Some(&admin),
                None,
            )
            .await
    };
    let counted = tests::within(std::time::Duration::from_secs(5), || async {
        read().await.body["funnel"]["checkedOut"] == 1
    })
    .await;
    assert!(counted, "the checkout was counted: {}", read().await.body);
    let day = read().await.body;
    assert_eq!(
        day["funnel"],
        json!({"created": 1, "shared": 1, "checkedOut": 1})
    );
    let item = |id: &str| {
        day["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["itemId"] == id))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        item("apple"),
        json!({"itemId": "apple", "added": 3, "removed": 1, "checkedOut": 2, "short": 0})
    );
    assert_eq!(
        item("milk"),
        json!({"itemId": "milk", "added": 1, "removed": 0, "checkedOut": 1, "short": 0})
    );
}
