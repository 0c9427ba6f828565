//! ws-message's handler, fed its sample `subscribe` event and variations of it.

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
            &ws_message::handle(&sample.carts, &registry, message(r#"{"action":"ping"}"#)).await
        )["type"],
        "pong"
    );
    for (body, code) in [
        ("not json", "MALFORMED_MESSAGE"),
        (r#"{"action":"dance"}"#, "UNKNOWN_ACTION"),
        (r#"{"action":"subscribe"}"#, "VALIDATION_FAILED"),
    ] {
        let reply = answer_json(&ws_message::handle(&sample.carts, &registry, message(body)).await);
        assert_eq!(reply["code"], code, "{body}");
    }
}

#[tokio::test]
async fn an_unregistered_connection_is_told_to_reconnect() {
    let sample = Sample::new().await;
    let answer = ws_message::handle(
        &sample.carts,
        &MemoryConnectionRegistry::default(),
        message(r#"{"action":"ping"}"#),
    )
    .await;
    assert_eq!(answer_json(&answer)["code"], "UNAUTHENTICATED");
}
