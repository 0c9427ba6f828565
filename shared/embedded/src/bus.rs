//! The in-process event bus: the local stand-in for the `cart-events` topic.

use async_trait::async_trait;
use domain::CartEvent;
use domain::ports::{EventPublisher, PublishError};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Fans every published event out to every subscriber, in publish order.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<CartEvent>>,
}

impl EventBus {
    /// A bus whose subscribers may fall `capacity` events behind before they miss some (and are
    /// told so by `RecvError::Lagged`, as a consumer would see a gap in versions).
    pub fn new(capacity: usize) -> Self {
        Self {
            sender: broadcast::channel(capacity).0,
        }
    }

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<CartEvent>> {
        self.sender.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(4096)
    }
}

#[async_trait]
impl EventPublisher for EventBus {
    async fn publish(&self, event: &CartEvent) -> Result<(), PublishError> {
        // No subscriber is not a failure: like a topic nobody consumes yet. Nor is it worth a
        // copy of the event.
        if self.sender.receiver_count() > 0 {
            let _ = self.sender.send(Arc::new(event.clone()));
        }
        Ok(())
    }
}
