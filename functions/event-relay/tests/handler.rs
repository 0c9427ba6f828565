//! event-relay's handler, fed its sample SQS batch (a cart event and a message that is not one).

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsEvent;
use domain::CartEvent;
use domain::memory::RecordingPublisher;
use domain::ports::{EventPublisher, PublishError};

fn batch(file: &str) -> SqsEvent {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(path).expect("the sample event"))
        .expect("an SQS event")
}

fn sample_batch() -> SqsEvent {
    batch("event-relay.json")
}

#[tokio::test]
async fn the_batch_sam_generates_is_republished() {
    let topic = RecordingPublisher::default();
    let response = event_relay::handle(&topic, batch("sam/event-relay.json")).await;
    assert_eq!(
        topic.events().iter().map(|e| e.version).collect::<Vec<_>>(),
        [4]
    );
    assert!(failed_ids(&response).is_empty());
}

fn failed_ids(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

#[tokio::test]
async fn the_cart_event_is_republished_and_only_the_other_message_returns_to_the_queue() {
    let topic = RecordingPublisher::default();
    let response = event_relay::handle(&topic, sample_batch()).await;
    assert_eq!(
        topic.events().iter().map(|e| e.version).collect::<Vec<_>>(),
        [4]
    );
    assert_eq!(
        failed_ids(&response),
        ["0b9e8d7c-6a5f-4e3d-2c1b-0a9f8e7d6c5b"]
    );
}

struct BrokerDown;

#[async_trait]
impl EventPublisher for BrokerDown {
    async fn publish(&self, _: &CartEvent) -> Result<(), PublishError> {
        Err(PublishError("the broker is down".into()))
    }
}

#[tokio::test]
async fn with_the_broker_down_every_message_returns_to_the_queue() {
    let response = event_relay::handle(&BrokerDown, sample_batch()).await;
    assert_eq!(failed_ids(&response).len(), 2);
}
