//! Presence on the local stack: the WebSocket functions' notices go down a channel instead of
//! an SQS queue, and a task gathers them over the window the queue's trigger batches over on
//! AWS, then pushes each batch as `presence-push` does.

use domain::CartId;
use std::time::Duration;
use tokio::sync::mpsc;

/// Presence notices into the local stack's channel.
pub struct ChannelNotices(mpsc::UnboundedSender<CartId>);

#[async_trait::async_trait]
impl domain::PresenceNotices for ChannelNotices {
    async fn changed(&self, cart: CartId) -> Result<(), domain::ports::BoxError> {
        self.0
            .send(cart)
            .map_err(|_| "the local presence task has stopped".into())
    }
}

/// A channel for notices, and the end [`run`] reads.
pub fn channel() -> (ChannelNotices, mpsc::UnboundedReceiver<CartId>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (ChannelNotices(sender), receiver)
}

/// Pushes presence until the channel closes: each batch is every notice that arrives within
/// `window` of the first.
pub async fn run(
    presence: presence_push::Presence,
    mut notices: mpsc::UnboundedReceiver<CartId>,
    window: Duration,
) {
    while let Some(first) = notices.recv().await {
        let mut batch = vec![first];
        let gathered = tokio::time::sleep(window);
        tokio::pin!(gathered);
        loop {
            tokio::select! {
                () = &mut gathered => break,
                next = notices.recv() => match next {
                    Some(cart) => batch.push(cart),
                    None => break,
                },
            }
        }
        if let Err(e) = presence_push::push(&presence, batch).await {
            tracing::warn!(error = %e, "presence not pushed; pages refresh it");
        }
    }
}
