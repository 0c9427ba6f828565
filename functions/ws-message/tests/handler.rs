//! ws-message's handler, fed its sample `subscribe` event and variations of it.

use domain::limits::{self, Buckets};
use domain::memory::MemoryConnectionRegistry;
use domain::testing::{SAMPLE_CART_ID, Sample, user};
use domain::{Connection, ConnectionId, ConnectionRegistry};
use edge::testing::{answer_json, sample_event, websocket_event};

async fn connected(as_user: &str) -> MemoryConnectionRegistry {
    let registry = MemoryConnectionRegistry::default();
    let id = ConnectionId::parse("L0SM9cOFvHcCIhw=").expect("the sample's connection id");
    let connection = Connection::opened(id, user(as_user), chrono::Utc::now());
    registry
        .register(&connection)
        .await
        .expect("the memory registry never fails");
    registry
}

fn rate() -> Buckets<ConnectionId> {
    Buckets::new(limits::PER_CONNECTION)
}

fn message(body: &str) -> edge::websocket::Event {
    let mut event = sample_event("ws-message");
    event["body"] = body.into();
    websocket_event(&event)
}

#[tokio::test]
async fn the_sample_subscribe_answers_with_the_snapshot_for_a_member() {
    let sample = Sample::new().await;
    let answer = ws_message::handle(
        &sample.carts,
        &connected("carol").await,
        &rate(),
        websocket_event(&sample_event("ws-message")),
    )
    .await;
    let reply = answer_json(&answer);
    assert_eq!(reply["type"], "snapshot");
    assert_eq!(reply["cartId"], SAMPLE_CART_ID);
    assert_eq!(reply["cart"]["version"], 3);
}

#[tokio::test]
async fn a_non_member_cannot_subscribe() {
    let sample = Sample::new().await;
    let answer = ws_message::handle(
        &sample.carts,
        &connected("eve").await,
        &rate(),
        websocket_event(&sample_event("ws-message")),
    )
    .await;
    let reply = answer_json(&answer);
    assert_eq!(
        (reply["type"].as_str(), reply["code"].as_str()),
        (Some("error"), Some("CART_NOT_FOUND"))
    );
}

#[tokio::test]
async fn ping_pongs_and_nonsense_gets_an_error_message() {
    let sample = Sample::new().await;
    let registry = connected("bob").await;
    assert_eq!(
        answer_json(
            &ws_message::handle(
                &sample.carts,
                &registry,
                &rate(),
                message(r#"{"action":"ping"}"#)
            )
            .await
        )["type"],
        "pong"
    );
    for (body, code) in [
        ("not json", "MALFORMED_MESSAGE"),
        (r#"{"action":"dance"}"#, "UNKNOWN_ACTION"),
        (r#"{"action":"subscribe"}"#, "VALIDATION_FAILED"),
    ] {
        let reply = answer_json(
            &ws_message::handle(&sample.carts, &registry, &rate(), message(body)).await,
        );
        assert_eq!(reply["code"], code, "{body}");
    }
}

#[tokio::test]
async fn an_unregistered_connection_is_told_to_reconnect() {
    let sample = Sample::new().await;
    let answer = ws_message::handle(
        &sample.carts,
        &MemoryConnectionRegistry::default(),
        &rate(),
        message(r#"{"action":"ping"}"#),
    )
    .await;
    assert_eq!(answer_json(&answer)["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_connection_past_its_message_rate_is_told_so_and_others_are_not() {
    let sample = Sample::new().await;
    let (registry, rate) = (connected("bob").await, rate());
    let ping = || message(r#"{"action":"ping"}"#);
    for _ in 0..limits::PER_CONNECTION.burst {
        let reply = answer_json(&ws_message::handle(&sample.carts, &registry, &rate, ping()).await);
        assert_eq!(reply["type"], "pong");
    }
    let refused = answer_json(&ws_message::handle(&sample.carts, &registry, &rate, ping()).await);
    assert_eq!(refused["code"], "RATE_LIMITED");
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("10 messages per second")),
        "{refused}"
    );
    let mut other = sample_event("ws-message");
    other["requestContext"]["connectionId"] = "other-connection=".into();
    other["body"] = r#"{"action":"ping"}"#.into();
    let other_registry = MemoryConnectionRegistry::default();
    let id = ConnectionId::parse("other-connection=").expect("an id");
    other_registry
        .register(&Connection::opened(id, user("bob"), chrono::Utc::now()))
        .await
        .expect("the memory registry never fails");
    let reply = answer_json(
        &ws_message::handle(
            &sample.carts,
            &other_registry,
            &rate,
            websocket_event(&other),
        )
        .await,
    );
    assert_eq!(
        reply["type"], "pong",
        "another connection has its own bucket"
    );
}
