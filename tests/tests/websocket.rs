//! The WebSocket half of the local stack over real sockets: `$connect` with a token, the message
//! routes, and the `@connections` management API the push function posts through.

use serde_json::json;
use std::time::{Duration, Instant};
use tests::{Socket, TestStack, real_servers, spawn_stack, spawn_stack_with};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

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
    let path = format!("/@connections/{}", tests::encode_path_segment(&id));

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

/// The per-user cap on one stack: bob's connections that died without `$disconnect` (their
/// clients silent past API Gateway's idle timeout) do not count; three open ones do, and the
/// fourth is refused at the handshake with 429 and a problem; alice is not bob; a closed
/// connection frees its place.
async fn the_cap_holds_on(stack: TestStack) {
    let token = stack.token("bob", &[]).await;
    let bob = domain::UserId::parse("bob").expect("a user id");
    let long_ago = chrono::Utc::now() - chrono::Duration::minutes(30);
    for n in 0..2 {
        let id = domain::ConnectionId::parse(&format!("deadBob{n}")).expect("a connection id");
        stack
            .registry()
            .register(&domain::Connection::opened(id, bob.clone(), long_ago))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut open = Vec::new();
    for n in 0..3 {
        let socket = Socket::connect(stack.addr(), &token).await;
        open.push(socket.unwrap_or_else(|e| panic!("connection {n} is within the cap: {e}")));
    }
    let refused = Socket::connect(stack.addr(), &token).await;
    let Err(WsError::Http(response)) = refused else {
        panic!("expected an HTTP refusal, got {:?}", refused.map(|_| ()));
    };
    assert_eq!(response.status(), 429);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value =
        serde_json::from_slice(response.body().as_deref().unwrap_or_default())
            .expect("the refusal's body is a problem");
    assert_eq!(
        (&problem["code"], &problem["limit"]),
        (&json!("TOO_MANY_CONNECTIONS"), &json!(3))
    );
    let _alice = stack.socket("alice").await;

    drop(open.pop());
    let reopened = tests::within(Duration::from_secs(5), || async {
        Socket::connect(stack.addr(), &token).await.is_ok()
    })
    .await;
    assert!(reopened, "a closed connection frees its place");
}

#[tokio::test]
async fn a_user_holds_at_most_the_cap_of_connections_on_the_embedded_registry() {
    let stack = spawn_stack_with(|config| config.websocket.connections_per_user = 3).await;
    the_cap_holds_on(stack).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_holds_at_most_the_cap_of_connections_on_dynamodb() {
    let stack = spawn_stack_with(|config| {
        config.backends = real_servers();
        config.websocket.connections_per_user = 3;
    })
    .await;
    the_cap_holds_on(stack).await;
}

/// "Quotas for configuring and running a WebSocket in API Gateway": a frame over 32 KB or a
/// message over 128 KB closes the connection with 1009; "Binary media types for WebSocket APIs
/// in API Gateway": a binary frame closes it with 1003. A close frame, never a dropped
/// connection, and the connection is disconnected.
#[tokio::test]
async fn a_message_over_api_gateways_limits_or_a_binary_frame_closes_with_its_code() {
    let stack = spawn_stack().await;
    let over_a_frame = json!({"action": "ping", "pad": "x".repeat(40 * 1024)}).to_string();
    let cases = [
        (Message::text("x".repeat(200 * 1024)), 1009, "200 KB"),
        (Message::text(over_a_frame), 1009, "one 40 KB frame"),
        (Message::binary(vec![1, 2, 3]), 1003, "binary"),
    ];
    for (frame, code, what) in cases {
        let mut socket = stack.socket("bob").await;
        socket.send_frame(frame).await;
        let closed = socket.close_frame(WAIT).await;
        assert_eq!(closed.map(|(code, _)| code), Some(code), "{what}");
    }
    let bob = domain::UserId::parse("bob").unwrap();
    let registry = stack.registry();
    let disconnected = tests::within(WAIT, || async {
        registry
            .connections_of(&bob)
            .await
            .is_ok_and(|c| c.is_empty())
    })
    .await;
    assert!(disconnected, "each closed socket had its $disconnect");
}

/// API Gateway closes a connection after ten minutes without a message from its client, and
/// every connection after two hours; here both are shortened to seconds. A quiet socket goes
/// at the idle timeout; one that pings (every 300 ms, well within the 2 s) outlives it, and goes
/// at the maximum duration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_socket_closes_at_the_idle_timeout_and_a_pinging_one_at_the_maximum_duration() {
    let stack = spawn_stack_with(|config| {
        config.websocket.idle_timeout = Duration::from_secs(2);
        config.websocket.max_duration = Duration::from_secs(6);
    })
    .await;
    let started = Instant::now();
    let (mut quiet, mut pinging) = (stack.socket("bob").await, stack.socket("bob").await);
    let pings = async {
        while started.elapsed() < WAIT * 2 {
            if let Some(closed) = pinging.close_frame(Duration::from_millis(300)).await {
                return (closed, started.elapsed());
            }
            pinging
                .send_frame(Message::text(json!({"action": "ping"}).to_string()))
                .await;
        }
        panic!("the pinging socket was not closed with a close frame in time");
    };
    let quiet_closed = async { (quiet.close_frame(WAIT).await, started.elapsed()) };
    let ((quiet_frame, quiet_after), (pinging_frame, pinging_after)) =
        tokio::join!(quiet_closed, pings);
    let (code, reason) = quiet_frame.unwrap_or_default();
    assert_eq!((code, reason.as_str()), (1001, "Going away: idle timeout"));
    assert!(quiet_after < Duration::from_secs(4), "{quiet_after:?}");
    assert_eq!(
        (pinging_frame.0, pinging_frame.1.as_str()),
        (1001, "Going away: maximum connection duration")
    );
    assert!(
        pinging_after >= Duration::from_secs(6) && pinging_after < Duration::from_secs(9),
        "{pinging_after:?}"
    );
}
