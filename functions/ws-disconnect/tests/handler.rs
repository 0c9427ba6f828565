//! ws-disconnect's handler, fed its sample `$disconnect` event.

use domain::memory::{MemoryConnectionRegistry, RecordingNotices};
use domain::testing::user;
use domain::{CartId, Connection, ConnectionId, ConnectionRegistry};
use edge::testing::{sample_event, websocket_event};

async fn registered(registry: &MemoryConnectionRegistry) -> ConnectionId {
    let id = ConnectionId::parse("L0SM9cOFvHcCIhw=").expect("the sample's connection id");
    registry
        .register(&Connection::opened(
            id.clone(),
            user("bob"),
            chrono::Utc::now(),
        ))
        .await
        .expect("the memory registry never fails");
    id
}

#[tokio::test]
async fn the_sample_event_forgets_the_connection() {
    let (registry, notices) = (
        MemoryConnectionRegistry::default(),
        RecordingNotices::default(),
    );
    let id = registered(&registry).await;
    let answer = ws_disconnect::handle(
        &registry,
        &notices,
        websocket_event(&sample_event("ws-disconnect")),
    )
    .await;
    assert_eq!(answer.status_code, 200);
    assert!(registry.connection(&id).await.unwrap().is_none());
    assert_eq!(
        notices.take(),
        [],
        "it viewed no cart: nobody's presence changed"
    );
}

#[tokio::test]
async fn a_viewer_that_disconnects_changes_the_presence_of_its_cart() {
    let (registry, notices) = (
        MemoryConnectionRegistry::default(),
        RecordingNotices::default(),
    );
    let id = registered(&registry).await;
    let cart = CartId::new();
    registry
        .view(&id, Some(cart), chrono::Utc::now())
        .await
        .unwrap();
    let answer = ws_disconnect::handle(
        &registry,
        &notices,
        websocket_event(&sample_event("ws-disconnect")),
    )
    .await;
    assert_eq!(answer.status_code, 200);
    assert_eq!(notices.take(), [cart]);
}

#[tokio::test]
async fn disconnecting_an_unknown_connection_is_harmless() {
    let answer = ws_disconnect::handle(
        &MemoryConnectionRegistry::default(),
        &RecordingNotices::default(),
        websocket_event(&sample_event("ws-disconnect")),
    )
    .await;
    assert_eq!(answer.status_code, 200);
}
