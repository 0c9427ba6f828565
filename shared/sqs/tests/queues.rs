//! The outbox and the order hand-off against a real SQS implementation (moto, started by
//! `tests/services.sh`), each test on queues of its own.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use domain::CartEvent;
use domain::ports::EventPublisher;
use domain::testing::created_event as event;
use sqs::{SqsOutbox, create_queue_with_dead_letters};

fn client() -> Client {
    let endpoint = std::env::var("SQS_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "SQS_ENDPOINT is not set: run the tests through tests/services.sh (tests/run.sh does)"
        )
    });
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .http_client(tls::aws_http_client())
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .build();
    Client::from_conf(config)
}

async fn receive(client: &Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .messages
        .unwrap_or_default()
}

#[tokio::test]
async fn an_event_in_the_outbox_comes_back_whole_with_its_attributes() {
    let client = client();
    let queues =
        create_queue_with_dead_letters(&client, &format!("outbox-{}", uuid::Uuid::new_v4()), 3)
            .await
            .unwrap();
    let event = event();
    SqsOutbox::new(client.clone(), &queues.url)
        .publish(&event)
        .await
        .unwrap();

    let messages = receive(&client, &queues.url).await;
    assert_eq!(messages.len(), 1);
    let body: CartEvent = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    assert_eq!(
        (body.event_id, body.version),
        (event.event_id, event.version)
    );
    let attributes = messages[0].message_attributes().unwrap();
    assert_eq!(
        attributes["cartId"].string_value(),
        Some(event.cart_id.to_string().as_str())
    );
}

#[tokio::test]
async fn a_message_never_relayed_moves_to_the_dead_letter_queue() {
    let client = client();
    let queues =
        create_queue_with_dead_letters(&client, &format!("outbox-{}", uuid::Uuid::new_v4()), 2)
            .await
            .unwrap();
    SqsOutbox::new(client.clone(), &queues.url)
        .publish(&event())
        .await
        .unwrap();
    // Received and not deleted, as when event-relay reports it failed, until the policy's
    // count is spent.
    for _ in 0..2 {
        for message in receive(&client, &queues.url).await {
            client
                .change_message_visibility()
                .queue_url(&queues.url)
                .receipt_handle(message.receipt_handle().unwrap())
                .visibility_timeout(0)
                .send()
                .await
                .unwrap();
        }
    }
    assert!(receive(&client, &queues.url).await.is_empty());
    assert_eq!(receive(&client, &queues.dead_letter_url).await.len(), 1);
}

#[tokio::test]
async fn an_order_handed_over_arrives_whole_with_its_id() {
    use domain::ports::OrderQueue;
    let client = client();
    let queues =
        create_queue_with_dead_letters(&client, &format!("orders-{}", uuid::Uuid::new_v4()), 3)
            .await
            .unwrap();
    let sample = domain::testing::Sample::new().await;
    let order = domain::OrderRequest::for_cart(&sample.cart, &domain::testing::user("bob"));
    sqs::SqsOrders::new(client.clone(), &queues.url)
        .submit(&order)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let messages = receive(&client, &queues.url).await;
    assert_eq!(messages.len(), 1);
    let back: domain::OrderRequest =
        serde_json::from_str(messages[0].body().unwrap_or_default()).unwrap();
    assert_eq!(back, order);
    let id = messages[0]
        .message_attributes()
        .and_then(|a| a.get("orderId"))
        .and_then(|v| v.string_value());
    assert_eq!(id, Some(order.order_id.to_string().as_str()));
}

#[tokio::test]
async fn a_dead_letter_queue_replays_into_its_source_and_a_dry_run_moves_nothing() {
    let client = client();
    let queues =
        create_queue_with_dead_letters(&client, &format!("orders-{}", uuid::Uuid::new_v4()), 2)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    let dead = SqsOutbox::new(client.clone(), &queues.dead_letter_url);
    let events: Vec<CartEvent> = (0..12).map(|_| event()).collect();
    for event in &events {
        dead.publish(event).await.unwrap_or_else(|e| panic!("{e}"));
    }

    let looked = sqs::replay::replay(
        &client,
        &queues.dead_letter_url,
        &queues.url,
        usize::MAX,
        true,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (looked.read, looked.moved, looked.previews.len()),
        (12, 0, 12)
    );
    assert!(
        receive(&client, &queues.url).await.is_empty(),
        "a dry run moves nothing"
    );

    let replayed = sqs::replay::replay(
        &client,
        &queues.dead_letter_url,
        &queues.url,
        usize::MAX,
        false,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (replayed.read, replayed.moved, replayed.refused),
        (12, 12, 0)
    );
    let mut back = Vec::new();
    while back.len() < 12 {
        let got = receive(&client, &queues.url).await;
        assert!(!got.is_empty(), "only {} of 12 came back", back.len());
        back.extend(got);
    }
    let mut ids: Vec<String> = back
        .iter()
        .map(|m| {
            let event: CartEvent = serde_json::from_str(m.body().unwrap_or_default()).unwrap();
            assert_eq!(
                m.message_attributes()
                    .and_then(|a| a.get("cartId"))
                    .and_then(|v| v.string_value()),
                Some(event.cart_id.to_string().as_str()),
                "with its attributes"
            );
            event.event_id.to_string()
        })
        .collect();
    let mut sent: Vec<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    ids.sort();
    sent.sort();
    assert_eq!(ids, sent, "every message, body unchanged");
    assert!(receive(&client, &queues.dead_letter_url).await.is_empty());
}
