//! ws-disconnect's handler, fed its sample `$disconnect` event.

use domain::memory::MemoryConnectionRegistry;
use domain::testing::user;
use domain::{Connection, ConnectionId, ConnectionRegistry};
use edge::testing::{sample_event, websocket_event};

#[tokio::test]
async fn the_sample_event_forgets_the_connection() {
    let registry = MemoryConnectionRegistry::default();
    let id = ConnectionId::parse("L0SM9cOFvHcCIhw=").unwrap();
    registry
        .register(&Connection::opened(
            id.clone(),
            user("bob"),
            chrono::Utc::now(),
        ))
        .await
        .unwrap();
    let answer =
        ws_disconnect::handle(&registry, websocket_event(&sample_event("ws-disconnect"))).await;
    assert_eq!(answer.status_code, 200);
    assert!(registry.connection(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn disconnecting_an_unknown_connection_is_harmless() {
    let answer = ws_disconnect::handle(
        &MemoryConnectionRegistry::default(),
        websocket_event(&sample_event("ws-disconnect")),
    )
    .await;
    assert_eq!(answer.status_code, 200);
}
