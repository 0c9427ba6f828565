//! Presence notices on SQS: each message's body is the id of a cart whose presence may have
//! changed. `presence-push` reads the queue in batches gathered over a window ("Lambda
//! parameters for Amazon SQS event source mappings": `MaximumBatchingWindowInSeconds`), so the
//! notices of that window collapse into one presence message per cart. A notice is worth
//! nothing minutes later: the queue keeps them five minutes, and has no dead-letter queue.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use domain::CartId;
use domain::ports::BoxError;

/// Sends presence notices to the presence queue.
#[derive(Clone, Debug)]
pub struct SqsPresenceNotices {
    client: Client,
    queue_url: String,
}

impl SqsPresenceNotices {
    /// The presence queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl domain::PresenceNotices for SqsPresenceNotices {
    async fn changed(&self, cart: CartId) -> Result<(), BoxError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(cart.to_string())
            .send()
            .await?;
        Ok(())
    }
}
