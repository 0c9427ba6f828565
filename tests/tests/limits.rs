//! The limits, as a caller meets them over HTTP: each user's token bucket at the gateway
//! (429 problem+json with `Retry-After`), and the template's throttles set to the same numbers.

use domain::limits::{self, Rate};
use serde_json::{Value, json};
use std::time::Duration;
use tests::spawn_stack_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_past_their_burst_gets_429_with_retry_after_and_others_do_not() {
    let rate = Rate {
        per_second: 2,
        burst: 3,
    };
    let stack = spawn_stack_with(|config| config.rate_per_user = Some(rate)).await;
    let (mut alice, mut bob) = (stack.user("alice").await, stack.user("bob").await);
    for _ in 0..3 {
        assert_eq!(alice.send("GET", "/me", None).await.status, 200);
    }
    let refused = alice.send("GET", "/me", None).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.code(), "RATE_LIMITED");
    assert_eq!(refused.headers["content-type"], "application/problem+json");
    assert_eq!(refused.headers["retry-after"], "1");
    assert_eq!(
        (&refused.body["limit"], &refused.body["burst"]),
        (&2.into(), &3.into())
    );
    assert_eq!(
        bob.send("GET", "/me", None).await.status,
        200,
        "bob has his own bucket"
    );
    tokio::time::sleep(Duration::from_millis(550)).await;
    assert_eq!(
        alice.send("GET", "/me", None).await.status,
        200,
        "a token came back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stack_starts_with_the_product_rate_per_user() {
    let stack = tests::spawn_stack().await;
    let mut alice = stack.user("alice").await;
    // Tokens come back while the requests go out, so the 429 may come a little after the burst.
    let mut answered = Vec::new();
    for _ in 0..limits::PER_USER.burst * 2 {
        answered.push(alice.send("GET", "/me", None).await.status);
    }
    let burst = limits::PER_USER.burst as usize;
    assert!(answered[..burst].iter().all(|s| *s == 200), "{answered:?}");
    assert!(answered[burst..].contains(&429), "{answered:?}");
}

fn yaml(path: &str) -> yaml_serde::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_limits_the_specs_document_are_the_limits_the_code_enforces() {
    let openapi = yaml("infra/openapi.yaml");
    let documented = |name: &str| {
        openapi["info"]["x-limits"][name]
            .as_u64()
            .unwrap_or_else(|| panic!("openapi x-limits.{name}"))
    };
    let enforced: [(&str, u64); 15] = [
        ("requestBodyBytes", edge::request::MAX_BODY_BYTES as u64),
        ("itemIdLength", domain::ItemId::MAX_LEN as u64),
        ("userIdLength", domain::UserId::MAX_LEN as u64),
        ("quantityPerLine", u64::from(domain::Quantity::MAX)),
        ("linesPerCart", domain::cart::MAX_LINES as u64),
        ("membersPerCart", domain::cart::MAX_MEMBERS as u64),
        ("invitesPerCart", domain::invite::MAX_OPEN as u64),
        (
            "inviteLifetimeDays",
            u64::from(domain::invite::MAX_LIFETIME_DAYS),
        ),
        ("inviteUsesMax", u64::from(domain::invite::MAX_USES)),
        ("usersPerShare", domain::cart::MAX_USERS_PER_SHARE as u64),
        ("catalogPage", domain::service::MAX_PAGE as u64),
        ("stock", u64::from(domain::item::MAX_STOCK)),
        (
            "idempotencyKeyLength",
            domain::idempotency::RecordKey::MAX_LEN as u64,
        ),
        (
            "requestsPerSecondPerUser",
            u64::from(limits::PER_USER.per_second),
        ),
        ("requestBurstPerUser", u64::from(limits::PER_USER.burst)),
    ];
    for (name, value) in enforced {
        assert_eq!(documented(name), value, "openapi x-limits.{name}");
    }
    // The schemas say the same numbers where a schema can say them.
    let schemas = &openapi["components"]["schemas"];
    assert_eq!(
        schemas["Quantity"]["maximum"].as_u64(),
        Some(u64::from(domain::Quantity::MAX))
    );
    assert_eq!(
        schemas["Cart"]["properties"]["items"]["maxItems"].as_u64(),
        Some(domain::cart::MAX_LINES as u64)
    );
    assert_eq!(
        schemas["Cart"]["properties"]["members"]["maxItems"].as_u64(),
        Some(domain::cart::MAX_MEMBERS as u64)
    );
    assert_eq!(
        schemas["ShareCart"]["properties"]["userIds"]["maxItems"].as_u64(),
        Some(domain::cart::MAX_USERS_PER_SHARE as u64)
    );
    assert_eq!(
        schemas["ItemId"]["pattern"].as_str(),
        Some(format!("^[A-Za-z0-9._@-]{{1,{}}}$", domain::ItemId::MAX_LEN).as_str())
    );
    assert_eq!(
        schemas["UserId"]["pattern"].as_str(),
        Some(format!("^[A-Za-z0-9._@-]{{1,{}}}$", domain::UserId::MAX_LEN).as_str())
    );
    assert_eq!(
        openapi["components"]["parameters"]["idempotencyKey"]["schema"]["maxLength"].as_u64(),
        Some(domain::idempotency::RecordKey::MAX_LEN as u64)
    );

    let asyncapi = yaml("infra/asyncapi.yaml");
    let documented = |name: &str| {
        asyncapi["info"]["x-limits"][name]
            .as_u64()
            .unwrap_or_else(|| panic!("asyncapi x-limits.{name}"))
    };
    assert_eq!(
        documented("clientMessageBytes"),
        realtime::MAX_CLIENT_MESSAGE_BYTES as u64
    );
    assert_eq!(
        documented("messagesPerSecondPerConnection"),
        u64::from(limits::PER_CONNECTION.per_second)
    );
    assert_eq!(
        documented("messageBurstPerConnection"),
        u64::from(limits::PER_CONNECTION.burst)
    );
    assert_eq!(
        documented("serverMessageBytes"),
        realtime::MAX_MESSAGE_BYTES as u64
    );
    assert_eq!(
        documented("presenceTtlSeconds"),
        domain::connection::PRESENCE_TTL_SECS as u64
    );
    assert_eq!(
        documented("presenceRefreshSeconds"),
        domain::connection::PRESENCE_REFRESH_SECS as u64
    );
    assert_eq!(
        documented("connectionsPerUser"),
        limits::CONNECTIONS_PER_USER as u64
    );
    let local = local::WebSocketQuotas::default();
    assert_eq!(
        documented("idleTimeoutSeconds"),
        local.idle_timeout.as_secs()
    );
    assert_eq!(
        documented("keepAliveSeconds"),
        (domain::connection::IDLE_TIMEOUT_SECS - ws_message::KEEP_OPEN_STEP_SECS) as u64
    );
    assert_eq!(
        documented("connectionSeconds"),
        local.max_duration.as_secs()
    );
    assert_eq!(
        (
            documented("clientFrameBytes"),
            documented("clientMessageBytesBeforeClose")
        ),
        (
            local::WebSocketQuotas::MAX_FRAME_BYTES as u64,
            local::WebSocketQuotas::MAX_MESSAGE_BYTES as u64
        )
    );
}

/// What is sent, as what (method, path, body), and the answer: status, code, and the member
/// that names the limit with its value.
type Case<'a> = (
    &'a str,
    &'a str,
    String,
    Option<Value>,
    u16,
    &'a str,
    &'a str,
    Value,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_json_but_no_object_is_a_400_on_every_operation_that_takes_a_body() {
    let stack = spawn_stack_with(|config| config.rate_per_user = None).await;
    let mut alice = stack.user("alice").await;
    let admin = stack.token("ops", &["admin"]).await;
    let cart = alice.create_cart().await;
    let operations = [
        ("POST", "/carts".to_owned()),
        ("POST", format!("/carts/{cart}/items")),
        ("PATCH", format!("/carts/{cart}")),
        ("POST", format!("/carts/{cart}/members")),
        ("PUT", "/items/apple/stock".to_owned()),
    ];
    for (method, path) in operations {
        for body in [
            json!([]),
            json!(["EUR"]),
            json!("EUR"),
            json!(3),
            Value::Null,
        ] {
            let token = admin_or(&alice, &path, &admin);
            let reply = stack
                .client()
                .await
                .send(method, &path, Some(token.as_str()), Some(body.clone()))
                .await;
            assert_eq!(
                reply.status, 400,
                "{method} {path} with {body}: {}",
                reply.body
            );
            assert_eq!(
                reply.code(),
                "VALIDATION_FAILED",
                "{method} {path} with {body}"
            );
            assert_eq!(reply.body["field"], "body", "{method} {path} with {body}");
        }
    }
    assert_eq!(
        alice
            .send("GET", &format!("/carts/{cart}"), None)
            .await
            .body["version"],
        1,
        "and none of them changed the cart"
    );
}

/// The token an operation on `path` needs: the admin's for the stock, alice's for her cart.
fn admin_or(alice: &tests::User, path: &str, admin: &str) -> String {
    if path.starts_with("/items") {
        admin.to_owned()
    } else {
        alice.token.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_limit_is_answered_with_a_4xx_problem_naming_it() {
    // The per-user rate is the one limit this test does not look at; it makes many requests.
    let stack = spawn_stack_with(|config| config.rate_per_user = None).await;
    let mut alice = stack.user("alice").await;
    let admin = stack.token("ops", &["admin"]).await;
    let cart = alice.create_cart().await;
    let items = format!("/carts/{cart}/items");
    let long = |n: usize| "a".repeat(n);
    let many_lines: Vec<_> = (0..=domain::cart::MAX_LINES)
        .map(|i| json!({"itemId": format!("item-{i}"), "quantity": 1}))
        .collect();
    let too_many_users: Vec<_> = (0..=domain::cart::MAX_USERS_PER_SHARE)
        .map(|i| format!("user-{i}"))
        .collect();

    let cases: Vec<Case> = vec![
        (
            "an item id too long",
            "POST",
            items.clone(),
            Some(json!({"itemId": long(65), "quantity": 1})),
            400,
            "VALIDATION_FAILED",
            "field",
            json!("itemId"),
        ),
        (
            "a cart id that is no UUID",
            "GET",
            "/carts/not-a-cart".into(),
            None,
            400,
            "VALIDATION_FAILED",
            "field",
            json!("cartId"),
        ),
        (
            "a quantity past 999",
            "POST",
            items.clone(),
            Some(json!({"itemId": "apple", "quantity": 1000})),
            400,
            "VALIDATION_FAILED",
            "field",
            json!("quantity"),
        ),
        (
            "a quantity under 1",
            "POST",
            items.clone(),
            Some(json!({"itemId": "apple", "quantity": 0})),
            400,
            "VALIDATION_FAILED",
            "field",
            json!("quantity"),
        ),
        (
            "251 lines",
            "POST",
            "/carts".into(),
            Some(json!({"items": many_lines})),
            422,
            "LINE_LIMIT",
            "limit",
            json!(domain::cart::MAX_LINES),
        ),
        (
            "51 users in one share",
            "POST",
            format!("/carts/{cart}/members"),
            Some(json!({"userIds": too_many_users, "role": "viewer"})),
            400,
            "VALIDATION_FAILED",
            "field",
            json!("userIds"),
        ),
        (
            "a user id too long",
            "POST",
            format!("/carts/{cart}/members"),
            Some(json!({"userIds": [long(129)], "role": "viewer"})),
            400,
            "VALIDATION_FAILED",
            "field",
            json!("userIds"),
        ),
        (
            "a catalog page past 100",
            "GET",
            "/items?limit=101".into(),
            None,
            400,
            "VALIDATION_FAILED",
            "field",
            json!("limit"),
        ),
    ];
    for (what, method, path, body, status, code, member, value) in cases {
        let reply = alice.send(method, &path, body).await;
        assert_eq!(reply.status, status, "{what}: {}", reply.body);
        assert_eq!(
            reply.headers["content-type"], "application/problem+json",
            "{what}"
        );
        assert_eq!(reply.code(), code, "{what}: {}", reply.body);
        assert_eq!(reply.body[member], value, "{what}: {}", reply.body);
    }

    let stock = alice
        .client
        .send(
            "PUT",
            "/items/apple/stock",
            Some(&admin),
            Some(json!({"stock": domain::item::MAX_STOCK + 1})),
        )
        .await;
    assert_eq!(
        (stock.status, stock.code()),
        (400, "VALIDATION_FAILED"),
        "{}",
        stock.body
    );
    assert_eq!(stock.body["field"], "stock");

    // A day that is no date, asked by an admin (anyone else is refused the scope first).
    let day = alice
        .client
        .send("GET", "/analytics/days/2026-02-30", Some(&admin), None)
        .await;
    assert_eq!(
        (day.status, day.code(), day.body["field"].as_str()),
        (400, "VALIDATION_FAILED", Some("day")),
        "{}",
        day.body
    );

    let oversized = format!(
        "{{\"itemId\":\"apple\",\"quantity\":1,\"pad\":\"{}\"}}",
        long(edge::request::MAX_BODY_BYTES)
    );
    let (status, _, body) = alice
        .client
        .send_raw("POST", &items, Some(&alice.token), oversized.into(), &[])
        .await;
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    assert_eq!((status, &body["code"]), (413, &json!("PAYLOAD_TOO_LARGE")));
    assert_eq!(body["limit"], edge::request::MAX_BODY_BYTES);

    let key = long(domain::idempotency::RecordKey::MAX_LEN + 1);
    let reply = alice
        .send_with(
            "POST",
            &items,
            Some(json!({"itemId": "apple", "quantity": 1})),
            &[("Idempotency-Key", &key)],
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (400, "VALIDATION_FAILED"),
        "{}",
        reply.body
    );
    assert_eq!(reply.body["field"], "Idempotency-Key");

    let restock = alice
        .client
        .send(
            "PUT",
            "/items/apple/stock",
            Some(&admin),
            Some(json!({"stock": 100_000})),
        )
        .await;
    assert_eq!(restock.status, 200, "{}", restock.body);
    assert_eq!(alice.add(&cart, "apple", 999).await.status, 200);
    let past = alice.add(&cart, "apple", 1).await;
    assert_eq!(
        (past.status, past.code()),
        (422, "QUANTITY_LIMIT"),
        "{}",
        past.body
    );
    assert_eq!(past.body["limit"], domain::Quantity::MAX);

    // Members: shares of 50 until the cart is full (the owner counts).
    let mut members = 1;
    let refused = loop {
        let batch: Vec<_> = (0..domain::cart::MAX_USERS_PER_SHARE)
            .map(|i| format!("member-{members}-{i}"))
            .collect();
        let reply = alice
            .share(
                &cart,
                &batch.iter().map(String::as_str).collect::<Vec<_>>(),
                "viewer",
            )
            .await;
        if reply.status != 200 {
            break reply;
        }
        members += batch.len();
        assert!(
            members <= domain::cart::MAX_MEMBERS,
            "the cart took {members} members"
        );
    };
    assert_eq!(
        (refused.status, refused.code()),
        (422, "MEMBER_LIMIT"),
        "{}",
        refused.body
    );
    assert_eq!(refused.body["limit"], domain::cart::MAX_MEMBERS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_message_too_large_or_too_fast_is_answered_with_an_error_naming_the_limit() {
    let stack = tests::spawn_stack().await;
    let mut socket = stack.socket("alice").await;
    let big = format!(
        "{{\"action\":\"ping\",\"pad\":\"{}\"}}",
        "a".repeat(realtime::MAX_CLIENT_MESSAGE_BYTES)
    );
    let refused = socket
        .ask(serde_json::from_str(&big).unwrap_or_default())
        .await;
    assert_eq!(refused["code"], "MESSAGE_TOO_LARGE", "{refused}");
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("4096")),
        "{refused}"
    );
    let mut answers = Vec::new();
    for _ in 0..limits::PER_CONNECTION.burst * 2 {
        answers.push(socket.ask(json!({"action": "ping"})).await);
    }
    let limited: Vec<_> = answers
        .iter()
        .filter(|a| a["code"] == "RATE_LIMITED")
        .collect();
    assert!(!limited.is_empty(), "{answers:?}");
    assert!(
        limited[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("10 messages per second")),
        "{}",
        limited[0]
    );
}
