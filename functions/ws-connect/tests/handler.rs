//! ws-connect's handler, fed its sample `$connect` event and variations of it.

use domain::memory::MemoryConnectionRegistry;
use domain::testing::user;
use domain::{ConnectionId, ConnectionRegistry};
use edge::testing::{sample_event, websocket_event};
use edge::websocket::{Answer, Event};
use token::TokenKeys;

/// The cap these tests run with: small, so that reaching it takes a few connects.
const PER_USER: usize = 3;

fn keys() -> TokenKeys {
    TokenKeys::new(
        "0123456789abcdef0123456789abcdef",
        "shared-carts",
        "shared-carts-api",
    )
}

fn token_of(who: &str) -> String {
    keys().issue(who, None, &[], chrono::Utc::now().timestamp(), 60)
}

/// The sample `$connect` event with `token`, as connection `id`.
fn connect_as(id: &str, token: &str) -> Event {
    let mut event = sample_event("ws-connect");
    event["queryStringParameters"]["token"] = token.into();
    event["multiValueQueryStringParameters"]["token"] = serde_json::json!([token]);
    event["requestContext"]["connectionId"] = id.into();
    websocket_event(&event)
}

fn connect_with(token: &str) -> Event {
    connect_as("L0SM9cOFvHcCIhw=", token)
}

async fn handle(registry: &dyn ConnectionRegistry, event: Event) -> Answer {
    let verifier = keys().into();
    let connect = ws_connect::Connect {
        verifier: &verifier,
        registry,
        per_user: PER_USER,
    };
    ws_connect::handle(&connect, event).await
}

fn problem_code(answer: &Answer) -> String {
    let Some(aws_lambda_events::encodings::Body::Text(body)) = &answer.body else {
        panic!("a refusal carries its problem: {answer:?}");
    };
    let problem: serde_json::Value = serde_json::from_str(body).expect("a problem body");
    problem["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_valid_token_registers_the_connection_under_its_user() {
    let registry = MemoryConnectionRegistry::default();
    let answer = handle(&registry, connect_with(&token_of("bob"))).await;
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
    let answer = handle(&registry, websocket_event(&sample_event("ws-connect"))).await;
    assert_eq!(answer.status_code, 401);
    assert_eq!(problem_code(&answer), "UNAUTHENTICATED");
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
    let answer = handle(&MemoryConnectionRegistry::default(), connect_with(&token)).await;
    assert_eq!(answer.status_code, 401);
}

#[tokio::test]
async fn past_the_cap_the_newest_connection_is_refused_with_429_and_others_users_are_not() {
    let registry = MemoryConnectionRegistry::default();
    let bob = token_of("bob");
    for n in 0..PER_USER {
        let answer = handle(&registry, connect_as(&format!("bob{n}"), &bob)).await;
        assert_eq!(answer.status_code, 200, "connection {n}");
    }
    let refused = handle(&registry, connect_as("bobMore", &bob)).await;
    assert_eq!(refused.status_code, 429);
    assert_eq!(problem_code(&refused), "TOO_MANY_CONNECTIONS");
    assert_eq!(
        registry.connections_of(&user("bob")).await.unwrap().len(),
        PER_USER,
        "the refused one is not registered; the open ones stay"
    );
    let alice = handle(&registry, connect_as("alice0", &token_of("alice"))).await;
    assert_eq!(alice.status_code, 200, "the cap is per user");

    registry
        .remove(&ConnectionId::parse("bob0").unwrap())
        .await
        .unwrap();
    let after_a_close = handle(&registry, connect_as("bobMore", &bob)).await;
    assert_eq!(
        after_a_close.status_code, 200,
        "a closed one frees its place"
    );
}

#[tokio::test]
async fn a_connection_that_died_without_disconnect_stops_counting_once_api_gateway_would_have_closed_it()
 {
    let registry = MemoryConnectionRegistry::default();
    let bob = token_of("bob");
    for n in 0..PER_USER {
        handle(&registry, connect_as(&format!("bob{n}"), &bob)).await;
    }
    // Its client went quiet: API Gateway closed it at the idle timeout, and the `$disconnect`
    // never came (it is best-effort).
    let quiet = ConnectionId::parse("bob1").unwrap();
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    assert!(registry.keep_open(&quiet, past).await.unwrap());
    let answer = handle(&registry, connect_as("bobNew", &bob)).await;
    assert_eq!(answer.status_code, 200);
}

#[tokio::test]
async fn a_registry_that_cannot_count_refuses_with_503_rather_than_letting_everyone_in() {
    let registry = MemoryConnectionRegistry::default();
    registry.set_down(true);
    let answer = handle(&registry, connect_with(&token_of("bob"))).await;
    assert_eq!(answer.status_code, 503);
    assert_eq!(problem_code(&answer), "UNAVAILABLE");
}
