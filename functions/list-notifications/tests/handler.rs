//! listNotifications' handler, fed its sample API Gateway event (alice asking for hers).

use domain::memory::MemoryNotifications;
use domain::notification::{Mailing, Notice, NotificationStore, Plan, Topic};
use domain::testing::user;
use edge::testing::{body_json, request, sample_event};

fn notice(topic: Topic, minute: u32) -> Notice {
    Notice {
        event_id: uuid::Uuid::new_v4(),
        topic,
        cart_id: domain::CartId::new(),
        owner_name: Some("Bob Berg".into()),
        actor: user("bob"),
        actor_name: Some("Bob Berg".into()),
        occurred_at: chrono::DateTime::parse_from_rfc3339(&format!(
            "2026-11-22T09:{minute:02}:00Z"
        ))
        .expect("a time")
        .into(),
    }
}

#[tokio::test]
async fn the_caller_reads_their_own_notifications_newest_first() {
    let store = MemoryNotifications::default();
    let (locked, added) = (notice(Topic::Locked, 5), notice(Topic::Added, 1));
    let now = chrono::Utc::now();
    for n in [&added, &locked] {
        store
            .record(&user("alice"), n, Plan::ListOnly(Mailing::Connected), now)
            .await
            .unwrap();
    }
    store
        .record(
            &user("carol"),
            &notice(Topic::CheckedOut, 9),
            Plan::ListOnly(Mailing::NoEmail),
            now,
        )
        .await
        .unwrap();
    store.set_mails_off(&user("alice"), true).await.unwrap();

    let response =
        list_notifications::handle(&store, request(&sample_event("list-notifications"))).await;
    assert_eq!(response.status(), 200);
    let body = body_json(&response);
    assert_eq!(body["mailsOff"], true);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "carol's is not alice's: {body}");
    assert_eq!(
        items[0],
        serde_json::json!({
            "eventId": locked.event_id,
            "topic": "locked",
            "cartId": locked.cart_id,
            "ownerName": "Bob Berg",
            "actor": "bob",
            "actorName": "Bob Berg",
            "occurredAt": "2026-11-22T09:05:00Z",
            "mailing": "connected"
        })
    );
    assert_eq!(items[1]["topic"], "added");
}

#[tokio::test]
async fn without_a_caller_it_is_401() {
    let mut event = sample_event("list-notifications");
    event["requestContext"]["authorizer"] = serde_json::Value::Null;
    let response =
        list_notifications::handle(&MemoryNotifications::default(), request(&event)).await;
    assert_eq!(response.status(), 401);
}
