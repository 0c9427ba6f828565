//! `presence-push`: tells everyone viewing a cart who else is viewing it. The WebSocket
//! functions send a notice whenever a connection starts or stops viewing a cart; this function
//! reads them in batches gathered over a short window, and for each cart named in a batch,
//! however many times, reads its viewers from the registry and posts them one `presence`
//! message. So a reconnect (a disconnect and a subscribe a moment apart), a second tab or a
//! crowd opening the cart at once is one message per viewer, not one per notice.
//!
//! Presence is computed fresh, never from the notices: a notice only says where to look, so a
//! late or repeated notice costs at most a message, and a lost one is corrected by the pages'
//! refresh. Nothing is remembered between batches: the trigger runs several instances at once,
//! and what one sent last is no guide to what another did since.

use domain::ports::StoreError;
use domain::{CartId, ConnectionPoster, ConnectionRegistry, PostError, UserId};
use futures_util::StreamExt;
use realtime::ServerMessage;
use std::collections::BTreeSet;
use std::sync::Arc;

/// How long notices are gathered into one batch: the presence queue's trigger batches over
/// this window on AWS (`MaximumBatchingWindowInSeconds` in the template), the local stack's
/// task over the same.
pub const WINDOW: std::time::Duration = std::time::Duration::from_secs(1);

/// Carts served at once.
const CONCURRENT_CARTS: usize = 16;

/// What the function opens once per instance.
pub struct Presence {
    registry: Arc<dyn ConnectionRegistry>,
    poster: Arc<dyn ConnectionPoster>,
}

/// What one batch did, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Distinct carts the notices named.
    pub carts: usize,
    /// Messages delivered.
    pub posted: usize,
    /// Connections found gone (and forgotten) or failing.
    pub unreached: usize,
}

impl Presence {
    /// Presence read from `registry`, posted through `poster`.
    pub fn new(registry: Arc<dyn ConnectionRegistry>, poster: Arc<dyn ConnectionPoster>) -> Self {
        Self { registry, poster }
    }
}

/// Posts the presence of every cart in `notices` to its viewers. Fails only when the registry
/// cannot say who views a cart, so the queue hands the batch over again.
pub async fn push(
    presence: &Presence,
    notices: impl IntoIterator<Item = CartId>,
) -> Result<Report, StoreError> {
    let carts: BTreeSet<CartId> = notices.into_iter().collect();
    let mut report = Report {
        carts: carts.len(),
        ..Report::default()
    };
    let mut pushed = futures_util::stream::iter(carts)
        .map(|cart| push_cart(presence, cart))
        .buffer_unordered(CONCURRENT_CARTS);
    while let Some(cart) = pushed.next().await {
        let cart = cart?;
        report.posted += cart.posted;
        report.unreached += cart.unreached;
    }
    tracing::info!(?report, "presence pushed");
    Ok(report)
}

async fn push_cart(presence: &Presence, cart: CartId) -> Result<Report, StoreError> {
    let now = chrono::Utc::now();
    let viewers = presence.registry.viewers_of(cart).await?;
    let present: Vec<UserId> = domain::present_users(&viewers, cart, now);
    let message: String = ServerMessage::Presence {
        cart_id: cart,
        viewers: &present,
    }
    .to_json();
    let mut report = Report::default();
    let message = &message;
    let posts = viewers
        .iter()
        .filter(|c| c.is_viewing(cart, now))
        .map(|c| async move {
            let posted = presence
                .poster
                .post(&c.connection_id, message.as_bytes())
                .await;
            (c, posted)
        });
    for (connection, posted) in futures_util::future::join_all(posts).await {
        match posted {
            Ok(()) => report.posted += 1,
            // A new connection answers 410 until its handshake is done: it stays.
            Err(PostError::Gone) if connection.may_still_be_opening(chrono::Utc::now()) => {
                report.unreached += 1;
            }
            Err(PostError::Gone) => {
                report.unreached += 1;
                if let Err(e) = presence.registry.remove(&connection.connection_id).await {
                    tracing::warn!(connection_id = %connection.connection_id, error = %e, "cannot forget a gone connection; its TTL will");
                }
            }
            Err(PostError::Failed(e)) => {
                // The next presence change or the page's refresh makes up for it.
                report.unreached += 1;
                tracing::warn!(connection_id = %connection.connection_id, error = %e, "presence not posted");
            }
        }
    }
    Ok(report)
}

/// The carts an SQS batch of notices names; a body that is no cart id is logged and skipped.
pub fn carts_of(batch: &aws_lambda_events::event::sqs::SqsEvent) -> Vec<CartId> {
    batch
        .records
        .iter()
        .filter_map(|record| {
            let body = record.body.as_deref().unwrap_or_default();
            CartId::parse(body.trim())
                .inspect_err(|_| tracing::warn!(body, "a presence notice that names no cart"))
                .ok()
        })
        .collect()
}
