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

/// How long a notice is tried again after its batch failed: the presence queue's retention.
const RETENTION: Duration = Duration::from_secs(300);

/// Pushes presence until the channel closes: each batch is every notice that arrives within
/// `window` of the first. A batch that fails (the registry down) joins the next one, as SQS
/// hands a failed batch over again, until the queue's retention would have dropped it.
pub async fn run(
    presence: presence_push::Presence,
    mut notices: mpsc::UnboundedReceiver<CartId>,
    window: Duration,
) {
    let mut failed: Option<(Vec<CartId>, tokio::time::Instant)> = None;
    loop {
        let mut batch = match &failed {
            Some(_) => Vec::new(),
            None => match notices.recv().await {
                Some(first) => vec![first],
                None => return,
            },
        };
        let gathered = tokio::time::sleep(window);
        tokio::pin!(gathered);
        loop {
            tokio::select! {
                () = &mut gathered => break,
                next = notices.recv() => match next {
                    Some(cart) => batch.push(cart),
                    None => return,
                },
            }
        }
        let since = match failed.take() {
            Some((earlier, since)) if since.elapsed() < RETENTION => {
                batch.extend(earlier);
                since
            }
            _ => tokio::time::Instant::now(),
        };
        if let Err(e) = presence_push::push(&presence, batch.clone()).await {
            tracing::warn!(error = %e, "presence not pushed; trying again");
            failed = Some((batch, since));
        }
    }
}
