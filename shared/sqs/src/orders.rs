//! The order hand-off: each checked-out cart's order request as one JSON message on the orders
//! queue, read by the order service. The message body is the whole request; the order id and
//! total ride along as attributes. The queue is a standard one, so a message may arrive twice,
//! as may a request a retried checkout hands over again: the consumer deduplicates by `orderId`.

use crate::attribute;
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use domain::OrderRequest;
use domain::ports::{OrderQueue, PublishError};

/// Sends order requests to the orders queue.
#[derive(Clone, Debug)]
pub struct SqsOrders {
    client: Client,
    queue_url: String,
}

impl SqsOrders {
    /// The orders queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl OrderQueue for SqsOrders {
    async fn submit(&self, order: &OrderRequest) -> Result<(), PublishError> {
        let body = serde_json::to_string(order).map_err(|e| PublishError(e.into()))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_attributes("orderId", attribute("String", order.order_id.to_string())?)
            .message_attributes("total", attribute("Number", order.total.to_string())?)
            .send()
            .await
            .map_err(|e| PublishError(e.into()))?;
        Ok(())
    }
}
