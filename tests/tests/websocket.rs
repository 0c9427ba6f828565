//! The WebSocket half of the local stack over real sockets: `$connect` with a token, the message
//! routes, and the `@connections` management API the push function posts through.

use serde_json::json;
use std::time::Duration;
use tests::{Socket, spawn_stack};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_member_subscribes_and_gets_the_snapshot_and_a_stranger_does_not() {
    let stack = spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    let mut socket = stack.socket("alice").await;
    let snapshot = socket
        .ask(json!({"action": "subscribe", "cartId": cart}))
        .await;
    assert_eq!(
        (snapshot["type"].as_str(), snapshot["version"].as_u64()),
        (Some("snapshot"), Some(1))
    );
    assert_eq!(snapshot["cart"]["ownerId"], "alice");

    let mut eve = stack.socket("eve").await;
    let refused = eve
        .ask(json!({"action": "subscribe", "cartId": cart}))
        .await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("CART_NOT_FOUND"))
    );
}

#[tokio::test]
async fn members_see_who_has_the_cart_open_and_a_second_tab_is_the_same_people() {
    let stack = spawn_stack().await;
    let (_alice, cart, mut bob) = stack.alice_shares_a_cart_with_bob_listening().await;
    let subscribe = json!({"action": "subscribe", "cartId": cart});
    let mut alice = stack.socket("alice").await;
    assert_eq!(
        alice.ask(subscribe.clone()).await["viewers"],
        json!(["alice"])
    );
    assert_eq!(
        alice
            .next_presence(WAIT)
            .await
            .map(|p| p["viewers"].clone()),
        Some(json!(["alice"]))
    );

    let snapshot = bob.ask(subscribe.clone()).await;
    assert_eq!(snapshot["viewers"], json!(["alice", "bob"]));
    let arrived = alice.next_presence(WAIT).await.expect("bob's arrival");
    assert_eq!(
        (arrived["cartId"].as_str(), arrived["viewers"].clone()),
        (Some(cart.as_str()), json!(["alice", "bob"]))
    );

    let mut bobs_phone = stack.socket("bob").await;
    assert_eq!(
        bobs_phone.ask(subscribe.clone()).await["viewers"],
        json!(["alice", "bob"])
    );
    let second_tab = alice.next_presence(WAIT).await.expect("a presence message");
    assert_eq!(
        second_tab["viewers"],
        json!(["alice", "bob"]),
        "a second tab is the same people"
    );
    assert_eq!(
        alice.next_presence(Duration::from_secs(1)).await,
        None,
        "and one message"
    );

    drop(bobs_phone);
    drop(bob);
    let left = alice.next_presence(WAIT).await.expect("bob's departure");
    assert_eq!(left["viewers"], json!(["alice"]));
}

#[tokio::test]
async fn a_member_removed_while_viewing_leaves_the_viewers_at_once() {
    let stack = spawn_stack().await;
    let (mut alice, cart, mut bob) = stack.alice_shares_a_cart_with_bob_listening().await;
    let subscribe = json!({"action": "subscribe", "cartId": cart});
    let mut alices_socket = stack.socket("alice").await;
    alices_socket.ask(subscribe.clone()).await;
    assert_eq!(bob.ask(subscribe).await["viewers"], json!(["alice", "bob"]));
    let both = alices_socket
        .next_presence(WAIT)
        .await
        .map(|p| p["viewers"].clone());
    let both = match both {
        Some(viewers) if viewers == json!(["alice"]) => alices_socket
            .next_presence(WAIT)
            .await
            .map(|p| p["viewers"].clone()),
        other => other,
    };
    assert_eq!(both, Some(json!(["alice", "bob"])));

    let removed = alice
        .send("DELETE", &format!("/carts/{cart}/members/bob"), None)
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    let left = alices_socket
        .next_presence(WAIT)
        .await
        .expect("bob's departure");
    assert_eq!(
        left["viewers"],
        json!(["alice"]),
        "not at alice's next refresh: now"
    );
    let viewers = stack
        .registry()
        .viewers_of(domain::CartId::parse(&cart).expect("a cart id"))
        .await
        .expect("the registry answers");
    assert!(
        viewers.iter().all(|c| c.user_id.as_str() != "bob"),
        "bob's socket no longer views the cart"
    );
}

#[tokio::test]
async fn a_bad_token_is_refused_at_the_handshake() {
    let stack = spawn_stack().await;
    let refused = Socket::connect(stack.addr(), "not-a-token").await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("expected an HTTP refusal, got {:?}", refused.map(|_| ()));
    };
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn ping_pongs_and_nonsense_is_answered_not_fatal() {
    let stack = spawn_stack().await;
    let mut socket = stack.socket("bob").await;
    assert_eq!(socket.ask(json!({"action": "ping"})).await["type"], "pong");
    socket.send("{not json").await;
    assert_eq!(
        socket.next_json(WAIT).await.map(|m| m["code"].clone()),
        Some(json!("MALFORMED_MESSAGE"))
    );
    assert_eq!(
        socket.ask(json!({"action": "dance"})).await["code"],
        "UNKNOWN_ACTION"
    );
    assert_eq!(
        socket.ask(json!({"action": "ping"})).await["type"],
        "pong",
        "the socket is still fine"
    );
}

#[tokio::test]
async fn the_connections_api_posts_to_a_socket_and_answers_410_once_it_is_gone() {
    let stack = spawn_stack().await;
    let mut socket = stack.socket("carol").await;
    let carol = domain::UserId::parse("carol").unwrap();
    let connections = stack.registry().connections_of(&carol).await.unwrap();
    assert_eq!(connections.len(), 1, "ws-connect registered the connection");
    let id = connections[0].connection_id.to_string();
    let path = format!(
        "/@connections/{}",
        id.replace('=', "%3D")
            .replace('/', "%2F")
            .replace('+', "%2B")
    );

    let mut api = stack.client().await;
    let posted = api
        .send("POST", &path, None, Some(json!({"hello": "carol"})))
        .await;
    assert_eq!(posted.status, 200);
    assert_eq!(
        socket.next_json(WAIT).await,
        Some(json!({"hello": "carol"}))
    );
    assert_eq!(api.send("GET", &path, None, None).await.status, 200);

    assert_eq!(api.send("DELETE", &path, None, None).await.status, 204);
    assert_eq!(socket.next_json(WAIT).await, None, "the socket was closed");
    let registry = stack.registry();
    tests::eventually(|| {
        let registry = registry.clone();
        let key = carol.clone();
        async move {
            registry
                .connections_of(&key)
                .await
                .map(|c| c.is_empty())
                .unwrap_or(false)
        }
    })
    .await;
    assert!(
        stack
            .registry()
            .connections_of(&carol)
            .await
            .unwrap()
            .is_empty(),
        "$disconnect removed it"
    );
    let gone = api
        .send("POST", &path, None, Some(json!({"late": true})))
        .await;
    assert_eq!(gone.status, 410);
    assert_eq!(gone.headers["x-amzn-errortype"], "GoneException");
}
