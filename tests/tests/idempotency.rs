//! `Idempotency-Key` end to end, on the real servers (records and carts on DynamoDB, events
//! through Kafka to `sync-push`): a client that gives up on a slow request and retries it makes
//! one change, one event and one push, and gets the first answer.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tests::{CuttableLink, Reply, User, real_servers, spawn_stack_on};

/// True once the record of `key` exists, read from DynamoDB directly (not through the link).
async fn holds(endpoint: &str, table: &str, key: &str) -> bool {
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .http_client(tls::aws_http_client())
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .build(),
    );
    client
        .get_item()
        .table_name(table)
        .key(
            "key",
            aws_sdk_dynamodb::types::AttributeValue::S(key.into()),
        )
        .send()
        .await
        .is_ok_and(|found| found.item.is_some())
}

/// Retries until the answer is not 409 `REQUEST_IN_PROGRESS`, for up to ten seconds.
async fn retry_until_answered(user: &mut User, path: &str, body: &Value, key: &str) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = user
            .send_with(
                "POST",
                path,
                Some(body.clone()),
                &[("Idempotency-Key", key)],
            )
            .await;
        if reply.code() != "REQUEST_IN_PROGRESS" || Instant::now() > deadline {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_times_out_and_retries_makes_one_change_one_event_and_one_push() {
    let mut backends = real_servers();
    let moto = backends.dynamodb_endpoint.clone().unwrap_or_default();
    let table = backends.idempotency_table.clone().unwrap_or_default();
    let link = CuttableLink::in_front_of(&mut backends.dynamodb_endpoint).await;
    let stack = spawn_stack_on(backends).await;
    let (mut alice, cart, mut bob) = stack.alice_shares_a_cart_with_bob_listening().await;
    let mut events = stack.events();

    // Every DynamoDB call now takes half a second: the add takes at least two seconds.
    link.slow_down(Duration::from_millis(500));
    let (path, add) = (
        format!("/carts/{cart}/items"),
        json!({"itemId": "apple", "quantity": 1}),
    );
    let mut impatient = stack.user("alice").await;
    let first = {
        let (path, add) = (path.clone(), add.clone());
        tokio::spawn(async move {
            impatient
                .send_with(
                    "POST",
                    &path,
                    Some(add),
                    &[("Idempotency-Key", "add-apple")],
                )
                .await
        })
    };
    // The client gives up once its request holds the key, with the change still under way.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !holds(&moto, &table, "alice/add-apple").await {
        assert!(
            Instant::now() < deadline,
            "the first attempt never claimed its key"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.abort();

    let early = alice
        .send_with(
            "POST",
            &path,
            Some(add.clone()),
            &[("Idempotency-Key", "add-apple")],
        )
        .await;
    assert_eq!(early.status, 409, "{}", early.body);
    assert_eq!(early.code(), "REQUEST_IN_PROGRESS");
    assert!(early.headers.contains_key("retry-after"));

    link.slow_down(Duration::ZERO);
    let answered = retry_until_answered(&mut alice, &path, &add, "add-apple").await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_eq!(answered.headers["idempotent-replayed"], "true");
    assert_eq!(answered.headers["etag"], "\"3\"");
    assert_eq!(
        (
            &answered.body["version"],
            &answered.body["items"][0]["quantity"]
        ),
        (&json!(3), &json!(1))
    );

    let read = alice.send("GET", &format!("/carts/{cart}"), None).await;
    assert_eq!(
        (&read.body["version"], &read.body["items"][0]["quantity"]),
        (&json!(3), &json!(1)),
        "one change"
    );
    let mut published = Vec::new();
    while let Ok(Ok(event)) = tokio::time::timeout(Duration::from_secs(1), events.recv()).await {
        if event.cart_id.to_string() == cart {
            published.push(event.version);
        }
    }
    assert_eq!(published, [3], "one event");
    let mut pushed: BTreeMap<u64, usize> = BTreeMap::new();
    while let Some(message) = bob.next_json(Duration::from_secs(2)).await {
        let version = message["version"].as_u64().unwrap_or_default();
        if message["type"] == "change" && version >= 3 {
            *pushed.entry(version).or_default() += 1;
        }
    }
    assert_eq!(pushed, BTreeMap::from([(3, 1)]), "one push");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_reused_for_another_body_is_refused_and_changes_nothing() {
    let stack = tests::spawn_stack().await;
    let mut alice = stack.user("alice").await;
    let cart = alice.create_cart().await;
    let path = format!("/carts/{cart}/items");
    let key = [("Idempotency-Key", "k-1")];
    let first = alice
        .send_with(
            "POST",
            &path,
            Some(json!({"itemId": "apple", "quantity": 1})),
            &key,
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let other = alice
        .send_with(
            "POST",
            &path,
            Some(json!({"itemId": "apple", "quantity": 5})),
            &key,
        )
        .await;
    assert_eq!(other.status, 422, "{}", other.body);
    assert_eq!(other.code(), "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(other.headers["content-type"], "application/problem+json");
    let created = alice
        .send_with("POST", "/carts", None, &[("Idempotency-Key", "new-cart")])
        .await;
    let again = alice
        .send_with("POST", "/carts", None, &[("Idempotency-Key", "new-cart")])
        .await;
    assert_eq!((created.status, again.status), (201, 201));
    assert_eq!(created.body["cartId"], again.body["cartId"], "one cart");
    assert_eq!(again.headers["location"], created.headers["location"]);
    let mine = alice.send("GET", "/me/carts", None).await;
    assert_eq!(
        mine.body["carts"].as_array().map(Vec::len),
        Some(2),
        "{}",
        mine.body
    );
}
