//! `event-relay`: triggered by the SQS outbox, it republishes each cart event to the topic.
//! It answers with partial batch failures (`ReportBatchItemFailures`): a message it could not
//! republish, or that is not a cart event, is named and returns to the queue, and after the
//! redrive policy's attempts lands in the dead-letter queue; the rest of the batch is done.
//! A republished event may reach the topic twice (it may have gone there before the broker
//! failed to answer); consumers deduplicate by cart id and version.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use domain::CartEvent;
use domain::ports::EventPublisher;

/// Republishes every message of `batch`; names the ones that must be retried.
pub async fn handle(topic: &dyn EventPublisher, batch: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in batch.records {
        if let Err(reason) = relay(topic, &message).await {
            tracing::error!(message_id = ?message.message_id, reason, "not relayed; it returns to the queue");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message.message_id.unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

async fn relay(topic: &dyn EventPublisher, message: &SqsMessage) -> Result<(), String> {
    let body = message.body.as_deref().ok_or("the message has no body")?;
    let event: CartEvent =
        serde_json::from_str(body).map_err(|e| format!("the body is not a cart event: {e}"))?;
    topic
        .publish(&event)
        .await
        .map_err(|e| format!("the broker did not take it: {e}"))
}
