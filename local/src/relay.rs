//! The local stand-in for the SQS trigger of `event-relay`: long-polls the outbox queue, hands
//! each batch to the function as an `SqsEvent`, and deletes what it relayed. What it names as
//! failed stays, and comes back once its visibility timeout passes (short here, so an outbox
//! drains within seconds of the broker returning).

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use domain::ports::EventPublisher;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// How long a received message stays hidden before it can be received again.
const VISIBILITY_TIMEOUT_SECS: i32 = 2;

/// Relays the outbox at `queue_url` to `topic` until the future is dropped.
pub async fn run(client: Client, queue_url: String, topic: Arc<dyn EventPublisher>) {
    loop {
        let received = client
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(VISIBILITY_TIMEOUT_SECS)
            .send()
            .await;
        let messages = match received {
            Ok(output) => output.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "cannot read the outbox; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let mut batch = SqsEvent::default();
        batch.records = messages
            .iter()
            .map(|m| {
                let mut message = SqsMessage::default();
                message.message_id = m.message_id.clone();
                message.receipt_handle = m.receipt_handle.clone();
                message.body = m.body.clone();
                message.event_source = Some("aws:sqs".to_owned());
                message
            })
            .collect();
        let response = event_relay::handle(topic.as_ref(), batch).await;
        let failed: HashSet<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        let done: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .filter(|m| !failed.contains(m.message_id().unwrap_or_default()))
            .filter_map(|m| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(m.message_id().unwrap_or_default())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
                    .ok()
            })
            .collect();
        if !done.is_empty()
            && let Err(e) = client
                .delete_message_batch()
                .queue_url(&queue_url)
                .set_entries(Some(done))
                .send()
                .await
        {
            // They come back and are relayed again: consumers deduplicate by version.
            tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "cannot delete relayed messages");
        }
    }
}
