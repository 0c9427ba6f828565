//! The outbox: an event the primary publisher (Kafka) does not take goes to the outbox (an SQS
//! queue on AWS), from which the `event-relay` function republishes it. The change is already
//! saved when its event is published, so this is how an acknowledged change always produces
//! its event, even while the broker is down.

use crate::event::CartEvent;
use crate::ports::{Delivery, EventPublisher, PublishError};
use async_trait::async_trait;
use std::sync::Arc;

/// Publishes to `primary`, and to `outbox` when `primary` fails.
pub struct PublishWithOutbox {
    primary: Arc<dyn EventPublisher>,
    outbox: Arc<dyn EventPublisher>,
}

impl PublishWithOutbox {
    /// `primary`, falling back to `outbox`.
    pub fn new(primary: Arc<dyn EventPublisher>, outbox: Arc<dyn EventPublisher>) -> Self {
        Self { primary, outbox }
    }
}

#[async_trait]
impl EventPublisher for PublishWithOutbox {
    async fn publish(&self, event: &CartEvent) -> Result<(), PublishError> {
        self.deliver(event).await.map(|_| ())
    }

    async fn deliver(&self, event: &CartEvent) -> Result<Delivery, PublishError> {
        let Err(e) = self.primary.publish(event).await else {
            return Ok(Delivery::Topic);
        };
        crate::metrics::count(crate::metrics::Metric::OutboxFallbacks, 1);
        tracing::warn!(error = %e, source = ?std::error::Error::source(&e), cart_id = %event.cart_id,
            version = event.version, "the broker did not take the event; sending it to the outbox");
        self.outbox.publish(event).await.map(|()| Delivery::Outbox)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::RecordingPublisher;
    use crate::testing::created_event as event;

    struct Down;

    #[async_trait]
    impl EventPublisher for Down {
        async fn publish(&self, _: &CartEvent) -> Result<(), PublishError> {
            Err(PublishError("the broker is down".into()))
        }
    }

    #[tokio::test]
    async fn an_event_the_broker_takes_never_reaches_the_outbox() {
        let (broker, outbox) = (
            Arc::new(RecordingPublisher::default()),
            Arc::new(RecordingPublisher::default()),
        );
        let delivered = PublishWithOutbox::new(broker.clone(), outbox.clone())
            .deliver(&event())
            .await
            .unwrap();
        assert_eq!(delivered, Delivery::Topic);
        assert_eq!((broker.events().len(), outbox.events().len()), (1, 0));
    }

    #[tokio::test]
    async fn an_event_the_broker_refuses_goes_to_the_outbox() {
        let outbox = Arc::new(RecordingPublisher::default());
        let event = event();
        let delivered = PublishWithOutbox::new(Arc::new(Down), outbox.clone())
            .deliver(&event)
            .await
            .unwrap();
        assert_eq!(delivered, Delivery::Outbox, "and says so");
        assert_eq!(
            outbox
                .events()
                .iter()
                .map(|e| e.event_id)
                .collect::<Vec<_>>(),
            [event.event_id]
        );
    }

    #[tokio::test]
    async fn with_both_down_the_publish_fails() {
        let failed = PublishWithOutbox::new(Arc::new(Down), Arc::new(Down))
            .publish(&event())
            .await;
        assert!(failed.is_err());
    }
}
