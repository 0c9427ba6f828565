//! ws-connect's handler, fed its sample `$connect` event and variations of it.

use domain::memory::MemoryConnectionRegistry;
use domain::testing::user;
use domain::{ConnectionId, ConnectionRegistry};
use edge::testing::{sample_event, websocket_event};
use token::TokenKeys;

fn keys() -> TokenKeys {
    TokenKeys::new(
        "0123456789abcdef0123456789abcdef",
        "shared-carts",
        "shared-carts-api",
    )
}

fn connect_with(token: &str) -> edge::websocket::Event {
    let mut event = sample_event("ws-connect");
    event["queryStringParameters"]["token"] = token.into();
    event["multiValueQueryStringParameters"]["token"] = serde_json::json!([token]);
    websocket_event(&event)
}

#[tokio::test]
async fn a_valid_token_registers_the_connection_under_its_user() {
    let registry = MemoryConnectionRegistry::default();
    let token = keys().issue("bob", None, &[], chrono::Utc::now().timestamp(), 60);
    let answer = ws_connect::handle(&keys().into(), &registry, connect_with(&token)).await;
    assert_eq!(answer.status_code, 200);
    let connections = registry.connections_of(&user("bob")).await.unwrap();
    assert_eq!(
        connections[0].connection_id,
        ConnectionId::parse("L0SM9cOFvHcCIhw=").unwrap()
    );
}

#[tokio::test]
async fn the_sample_event_without_a_real_token_is_refused_with_401() {
    let registry = MemoryConnectionRegistry::default();
    let answer = ws_connect::handle(
        &keys().into(),
        &registry,
        websocket_event(&sample_event("ws-connect")),
    )
    .await;
    assert_eq!(answer.status_code, 401);
    assert!(
        registry
            .connection(&ConnectionId::parse("L0SM9cOFvHcCIhw=").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let token = keys().issue("bob", None, &[], chrono::Utc::now().timestamp() - 7200, 60);
    let answer = ws_connect::handle(
        &keys().into(),
        &MemoryConnectionRegistry::default(),
        connect_with(&token),
    )
    .await;
    assert_eq!(answer.status_code, 401);
}
