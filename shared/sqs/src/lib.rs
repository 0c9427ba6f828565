//! The SQS adapters: the order hand-off queue checkout sends to (`orders`), the presence notices
//! the WebSocket functions send (`presence`), and the outbox. The
//! outbox is a queue of cart events the broker did not take: each message
//! is one event's JSON (the same bytes a Kafka record would carry), with the cart id, version
//! and type as message attributes for whoever inspects the queue. The `event-relay` function,
//! triggered by the queue, republishes them; what it cannot republish goes back to the queue
//! and, after the redrive policy's attempts, to the dead-letter queue.

mod orders;
mod presence;
pub mod replay;

pub use orders::SqsOrders;
pub use presence::SqsPresenceNotices;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::MessageAttributeValue;
use domain::CartEvent;
use domain::ports::{EventPublisher, PublishError};

/// Sends events to the outbox queue.
#[derive(Clone, Debug)]
pub struct SqsOutbox {
    client: Client,
    queue_url: String,
}

impl SqsOutbox {
    /// The outbox at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl EventPublisher for SqsOutbox {
    async fn publish(&self, event: &CartEvent) -> Result<(), PublishError> {
        let body = serde_json::to_string(event).map_err(|e| PublishError(e.into()))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_attributes("cartId", attribute("String", event.cart_id.to_string())?)
            .message_attributes("version", attribute("Number", event.version.to_string())?)
            .message_attributes(
                "type",
                attribute("String", format!("{:?}", event.event_type))?,
            )
            .send()
            .await
            .map_err(|e| PublishError(e.into()))?;
        Ok(())
    }
}

/// A string or number message attribute (for whoever inspects the queue).
fn attribute(kind: &str, value: String) -> Result<MessageAttributeValue, PublishError> {
    MessageAttributeValue::builder()
        .data_type(kind)
        .string_value(value)
        .build()
        .map_err(|e| PublishError(e.into()))
}

/// A queue and the dead-letter queue its messages move to after `max_receives` failed
/// receives, created as the SAM template declares them (for tests and local runs).
#[derive(Clone, Debug)]
pub struct Queues {
    /// The queue.
    pub url: String,
    /// Its dead-letter queue.
    pub dead_letter_url: String,
}

/// Creates `name` and `name-dlq` with the redrive policy between them (idempotent: SQS returns
/// the existing queue for the same attributes).
pub async fn create_queue_with_dead_letters(
    client: &Client,
    name: &str,
    max_receives: u32,
) -> Result<Queues, aws_sdk_sqs::Error> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let dead_letter_url = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await?
        .queue_url
        .unwrap_or_default();
    let dead_letter_arn = client
        .get_queue_attributes()
        .queue_url(&dead_letter_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap_or_default();
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": max_receives.to_string(),
    });
    let url = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await?
        .queue_url
        .unwrap_or_default();
    Ok(Queues {
        url,
        dead_letter_url,
    })
}
