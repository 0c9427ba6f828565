//! ws-message's handler, fed its sample `subscribe` event and variations of it.

use domain::limits::{self, Buckets};
use domain::memory::{MemoryConnectionRegistry, RecordingNotices};
use domain::testing::{SAMPLE_CART_ID, Sample, user};
use domain::{CartId, CartService, Connection, ConnectionId, ConnectionRegistry};
use edge::testing::{answer_json, sample_event, websocket_event};
use edge::websocket::{Answer, Event};

/// One message through the routes, its presence notices dropped.
async fn send(
    carts: &CartService,
    registry: &MemoryConnectionRegistry,
    rate: &Buckets<ConnectionId>,
    event: Event,
) -> Answer {
    let notices = RecordingNotices::default();
    send_noting(carts, registry, &notices, rate, event).await
}

async fn send_noting(
    carts: &CartService,
    registry: &MemoryConnectionRegistry,
    notices: &RecordingNotices,
    rate: &Buckets<ConnectionId>,
    event: Event,
) -> Answer {
    let routes = ws_message::Routes {
        carts,
        registry,
        notices,
        rate,
    };
    ws_message::handle(&routes, event).await
}

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
    let answer = send(
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
    assert_eq!(reply["viewers"], serde_json::json!(["carol"]));
}

#[tokio::test]
async fn subscribing_announces_an_arrival_once_and_lists_who_else_views_the_cart() {
    let sample = Sample::new().await;
    let (registry, notices, rate) = (
        connected("carol").await,
        RecordingNotices::default(),
        rate(),
    );
    let bob = ConnectionId::parse("B0bsPhone=").expect("an id");
    registry
        .register(&Connection::opened(
            bob.clone(),
            user("bob"),
            chrono::Utc::now(),
        ))
        .await
        .expect("the memory registry never fails");
    let cart = CartId::parse(SAMPLE_CART_ID).expect("the sample cart");
    registry
        .view(&bob, Some(cart), chrono::Utc::now())
        .await
        .expect("the memory registry never fails");
    let subscribe = || message(&format!(r#"{{"action":"subscribe","cartId":"{cart}"}}"#));

    let first =
        answer_json(&send_noting(&sample.carts, &registry, &notices, &rate, subscribe()).await);
    assert_eq!(first["viewers"], serde_json::json!(["bob", "carol"]));
    assert_eq!(notices.take(), [cart], "carol arrived");
    let again =
        answer_json(&send_noting(&sample.carts, &registry, &notices, &rate, subscribe()).await);
    assert_eq!(again["viewers"], serde_json::json!(["bob", "carol"]));
    assert_eq!(notices.take(), [], "a refresh announces nothing");

    let ping = message(r#"{"action":"ping"}"#);
    send_noting(&sample.carts, &registry, &notices, &rate, ping).await;
    assert_eq!(notices.take(), [], "nor does a ping");

    let unsubscribe = message(&format!(r#"{{"action":"unsubscribe","cartId":"{cart}"}}"#));
    let reply =
        answer_json(&send_noting(&sample.carts, &registry, &notices, &rate, unsubscribe).await);
    assert_eq!(reply["type"], "unsubscribed");
    assert_eq!(notices.take(), [cart], "carol left");
    let viewers = registry
        .viewers_of(cart)
        .await
        .expect("the memory registry never fails");
    assert_eq!(
        domain::present_users(&viewers, cart, chrono::Utc::now()),
        [user("bob")]
    );
}

#[tokio::test]
async fn a_non_member_is_not_made_a_viewer() {
    let sample = Sample::new().await;
    let (registry, notices) = (connected("eve").await, RecordingNotices::default());
    let event = websocket_event(&sample_event("ws-message"));
    send_noting(&sample.carts, &registry, &notices, &rate(), event).await;
    assert_eq!(notices.take(), []);
    let cart = CartId::parse(SAMPLE_CART_ID).expect("the sample cart");
    assert_eq!(
        registry.viewers_of(cart).await.map(|v| v.len()).ok(),
        Some(0)
    );
}

#[tokio::test]
async fn a_non_member_cannot_subscribe() {
    let sample = Sample::new().await;
    let answer = send(
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
            &send(
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
        let reply = answer_json(&send(&sample.carts, &registry, &rate(), message(body)).await);
        assert_eq!(reply["code"], code, "{body}");
    }
}

#[tokio::test]
async fn an_unregistered_connection_is_told_to_reconnect() {
    let sample = Sample::new().await;
    let answer = send(
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
        let reply = answer_json(&send(&sample.carts, &registry, &rate, ping()).await);
        assert_eq!(reply["type"], "pong");
    }
    let refused = answer_json(&send(&sample.carts, &registry, &rate, ping()).await);
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
        &send(
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

#[tokio::test]
async fn opening_another_cart_leaves_the_first_and_a_refused_subscribe_ends_presence() {
    let sample = Sample::new().await;
    let (registry, notices, rate) = (
        connected("alice").await,
        RecordingNotices::default(),
        rate(),
    );
    let first = CartId::parse(SAMPLE_CART_ID).expect("the sample cart");
    let second = sample
        .carts
        .create(&user("alice"), domain::Currency::DEFAULT, &[])
        .await
        .expect("a second cart")
        .cart_id;
    let subscribe =
        |cart: CartId| message(&format!(r#"{{"action":"subscribe","cartId":"{cart}"}}"#));
    send_noting(&sample.carts, &registry, &notices, &rate, subscribe(first)).await;
    assert_eq!(notices.take(), [first]);
    send_noting(&sample.carts, &registry, &notices, &rate, subscribe(second)).await;
    assert_eq!(
        notices.take(),
        [first, second],
        "left the first, arrived at the second"
    );

    // Removed from the second cart while viewing it: the next refresh is refused, and ends it.
    sample
        .carts
        .share(&user("alice"), second, &[user("bob")], domain::Role::Editor)
        .await
        .expect("shared");
    let bob = ConnectionId::parse("B0bsPhone=").expect("an id");
    registry
        .register(&Connection::opened(
            bob.clone(),
            user("bob"),
            chrono::Utc::now(),
        ))
        .await
        .expect("the memory registry never fails");
    let mut bobs = sample_event("ws-message");
    bobs["requestContext"]["connectionId"] = "B0bsPhone=".into();
    bobs["body"] = format!(r#"{{"action":"subscribe","cartId":"{second}"}}"#).into();
    send_noting(
        &sample.carts,
        &registry,
        &notices,
        &rate,
        websocket_event(&bobs),
    )
    .await;
    assert_eq!(notices.take(), [second]);
    sample
        .carts
        .unshare(&user("alice"), second, &user("bob"))
        .await
        .expect("bob removed");
    let refused = answer_json(
        &send_noting(
            &sample.carts,
            &registry,
            &notices,
            &rate,
            websocket_event(&bobs),
        )
        .await,
    );
    assert_eq!(refused["code"], "CART_NOT_FOUND");
    assert_eq!(notices.take(), [second], "bob left");
    let viewers = registry
        .viewers_of(second)
        .await
        .expect("the memory registry never fails");
    assert_eq!(
        domain::present_users(&viewers, second, chrono::Utc::now()),
        [user("alice")]
    );
}

/// A message moves its connection's expiry to when API Gateway would close it idle, at most
/// once a minute: a connection whose expiry is near gets ten more minutes; one that spoke a
/// moment ago is not written again.
#[tokio::test]
async fn a_message_keeps_its_connection_registered_at_most_once_a_minute() {
    let sample = Sample::new().await;
    let registry = connected("carol").await;
    let id = ConnectionId::parse("L0SM9cOFvHcCIhw=").expect("the sample's connection id");
    let soon = chrono::Utc::now() + chrono::Duration::minutes(2);
    assert!(registry.keep_open(&id, soon).await.expect("kept"));
    let ping = message(r#"{"action":"ping"}"#);
    assert_eq!(
        answer_json(&send(&sample.carts, &registry, &rate(), ping).await)["type"],
        "pong"
    );
    let moved = registry
        .connection(&id)
        .await
        .ok()
        .flatten()
        .map(|c| c.expires_at)
        .expect("still registered");
    let ten_minutes = chrono::Utc::now() + chrono::Duration::minutes(10);
    assert!(
        (ten_minutes - moved).num_seconds().abs() <= 5,
        "{moved} is ten minutes from now"
    );

    let again = message(r#"{"action":"ping"}"#);
    send(&sample.carts, &registry, &rate(), again).await;
    let unchanged = registry
        .connection(&id)
        .await
        .ok()
        .flatten()
        .map(|c| c.expires_at);
    assert_eq!(
        unchanged,
        Some(moved),
        "a second ping within the minute writes nothing"
    );
}
