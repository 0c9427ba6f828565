//! The transactional outbox: a change's event is saved in the cart's own record, in the same
//! conditional write as the change, so no change can be stored without its event.
//!
//! The service then publishes the event at once (the hot path is unchanged) and, once the topic
//! has it, removes it from the record in the background ([`settle`]). An event whose publisher
//! died or could not publish stays in the record; the [`Relay`] (a scheduled function on AWS, a
//! loop in the local stack) publishes whatever has waited longer than a grace period, in version
//! order, and settles it. A lost settle only means the relay publishes the event again, and every
//! consumer drops repeats by cart id and version.

use crate::cart::Cart;
use crate::event::CartEvent;
use crate::ids::CartId;
use crate::ports::{CartStore, Delivery, EventPublisher, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The most bytes of unpublished events one cart's record may hold. A record holds the cart
/// too, and the smallest ceiling of a store is DynamoDB's 400 KB item ("Constraints in Amazon
/// DynamoDB"; Keyspaces allows a 1 MB row, "Quotas for Amazon Keyspaces (for Apache
/// Cassandra)"). A change that would pass it first publishes the events its record carries
/// (`CartService`); only if they cannot be published is it refused as unavailable: its own
/// event could not be kept, and nothing is acknowledged without one.
pub const MAX_UNPUBLISHED_BYTES: usize = 200 * 1024;

/// An event saved with its change and not yet known to be on the topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingEvent {
    /// The cart version the event announces.
    pub version: u64,
    /// The event's id, which tells two writers of the same version apart.
    pub event_id: uuid::Uuid,
    /// When the change was saved; the relay leaves it to its publisher for a grace period.
    pub saved_at: DateTime<Utc>,
    /// The event as it is published (JSON), so the relay sends exactly what the hot path would.
    pub event: String,
}

impl PendingEvent {
    /// The event it holds.
    pub fn decode(&self) -> Result<CartEvent, serde_json::Error> {
        serde_json::from_str(&self.event)
    }
}

/// A cart record's unpublished events, oldest version first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Unpublished(Vec<PendingEvent>);

/// The events a cart holds would pass [`MAX_UNPUBLISHED_BYTES`].
#[derive(Debug, thiserror::Error)]
#[error(
    "cart {cart_id} holds {bytes} bytes of unpublished events; its change is refused until they are published"
)]
pub struct TooManyUnpublished {
    cart_id: CartId,
    bytes: usize,
}

impl Unpublished {
    /// Adds `event`, saved at `saved_at`; refused when the record would hold too much.
    pub fn push(
        &mut self,
        event: &CartEvent,
        saved_at: DateTime<Utc>,
    ) -> Result<(), TooManyUnpublished> {
        // Our own plain types always serialize.
        let json = serde_json::to_string(event).unwrap_or_default();
        let bytes = self.bytes() + json.len();
        // A change's own event always fits an otherwise empty record: refusing it would refuse
        // every change of that cart for good.
        if bytes > MAX_UNPUBLISHED_BYTES && !self.0.is_empty() {
            return Err(TooManyUnpublished {
                cart_id: event.cart_id,
                bytes,
            });
        }
        self.0.push(PendingEvent {
            version: event.version,
            event_id: event.event_id,
            saved_at,
            event: json,
        });
        Ok(())
    }

    /// Drops the events of `versions`; true if it held any of them.
    pub fn remove(&mut self, versions: &[u64]) -> bool {
        let before = self.0.len();
        self.0.retain(|p| !versions.contains(&p.version));
        self.0.len() != before
    }

    /// Whether it holds the event of `version`.
    pub fn holds(&self, version: u64) -> bool {
        self.0.iter().any(|p| p.version == version)
    }

    /// Whether it holds the event with this id.
    pub fn holds_event(&self, event_id: uuid::Uuid) -> bool {
        self.0.iter().any(|p| p.event_id == event_id)
    }

    /// Every event, oldest version first.
    pub fn iter(&self) -> impl Iterator<Item = &PendingEvent> {
        self.0.iter()
    }

    /// True when every event of the cart is published.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many events wait.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    fn bytes(&self) -> usize {
        self.0.iter().map(|p| p.event.len()).sum()
    }
}

/// How many times a settle re-reads a cart that moved on before leaving the event to the relay.
const SETTLE_ATTEMPTS: u32 = 4;

/// Removes the events of `versions` from `saved`'s record, re-reading and retrying when a
/// concurrent change wins the write. The cart's version does not change: this is not a change
/// of the cart. Returns the record as it ends up (`None` when it could not be written, in which
/// case the relay publishes the events again later, harmlessly).
pub async fn settle(store: &dyn CartStore, saved: Cart, versions: &[u64]) -> Option<Cart> {
    let mut current = saved;
    for _ in 0..SETTLE_ATTEMPTS {
        let mut next = current.clone();
        if !next.unpublished.remove(versions) {
            return Some(current);
        }
        match store.save(Some(&current), &next).await {
            Ok(()) => return Some(next),
            Err(StoreError::Conflict { .. }) => match store.load(current.cart_id).await {
                Ok(Some(reloaded)) => current = reloaded,
                Ok(None) => return None,
                Err(e) => return left_for_the_relay(&current, &e),
            },
            Err(e) => return left_for_the_relay(&current, &e),
        }
    }
    None
}

fn left_for_the_relay(cart: &Cart, e: &StoreError) -> Option<Cart> {
    tracing::warn!(error = %e, cart_id = %cart.cart_id, "an event stays unpublished in its record; the relay sends it again");
    None
}

/// The settles running in the background, so an owner shutting down can wait for them (each
/// holds the store).
#[derive(Debug, Default)]
pub struct Settles {
    running: std::sync::atomic::AtomicUsize,
    idle: tokio::sync::Notify,
}

impl Settles {
    /// [`settle`] on a task of its own, so the caller's answer does not wait for it.
    pub fn spawn(self: &Arc<Self>, store: Arc<dyn CartStore>, saved: Cart, versions: Vec<u64>) {
        use std::sync::atomic::Ordering;
        self.running.fetch_add(1, Ordering::SeqCst);
        let settles = self.clone();
        tokio::spawn(async move {
            // Counted down however the task ends, so a waiter is never left waiting.
            let _running = Running(settles);
            settle(store.as_ref(), saved, &versions).await;
        });
    }

    /// Waits until no settle runs.
    pub async fn finished(&self) {
        use std::sync::atomic::Ordering;
        loop {
            let idle = self.idle.notified();
            if self.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// The events this process published lately, by cart: a change saved here right after
/// another drops them from what its record carries, though the other's settle has not landed
/// yet (a settle that lands between a writer's read and its write is undone by that write).
/// Every save asks for its cart's, so they are kept by cart; the order is kept beside, to
/// forget the oldest first.
#[derive(Debug, Default)]
pub struct PublishedHere(std::sync::Mutex<Remembered>);

/// [`PublishedHere`]'s events, oldest first and by cart.
#[derive(Debug, Default)]
struct Remembered {
    oldest_first: std::collections::VecDeque<(CartId, u64)>,
    by_cart: std::collections::HashMap<CartId, std::collections::VecDeque<u64>>,
}

/// How many published events [`PublishedHere`] remembers.
const REMEMBERED: usize = 4096;

impl PublishedHere {
    /// Remembers that the event of `cart` at `version` is on the topic.
    pub fn note(&self, cart: CartId, version: u64) {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Both keep the order they were noted in, so the oldest note is its cart's first (a
        // version noted twice, as a resent event is, is forgotten one note at a time).
        if seen.oldest_first.len() == REMEMBERED
            && let Some((old_cart, _)) = seen.oldest_first.pop_front()
            && let Some(versions) = seen.by_cart.get_mut(&old_cart)
        {
            versions.pop_front();
            if versions.is_empty() {
                seen.by_cart.remove(&old_cart);
            }
        }
        seen.oldest_first.push_back((cart, version));
        seen.by_cart.entry(cart).or_default().push_back(version);
    }

    /// The versions of `cart` it remembers.
    pub fn of(&self, cart: CartId) -> Vec<u64> {
        let seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        seen.by_cart
            .get(&cart)
            .map(|versions| versions.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// One running settle, counted down when dropped.
struct Running(Arc<Settles>);

impl Drop for Running {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering;
        if self.0.running.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// What one pass of the relay did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relayed {
    /// Carts whose record was read.
    pub carts: usize,
    /// Events published.
    pub published: usize,
    /// Events the publisher refused (they stay, for the next pass).
    pub failed: usize,
    /// Events that no longer decode (written by something else); dropped with an error.
    pub undecodable: usize,
}

/// How long the relay leaves an event it sent to the SQS outbox before it tries the topic again.
const OUTBOX_PAUSE: Duration = Duration::from_secs(30);

/// Publishes the events their publishers left in the carts' records.
#[derive(Clone)]
pub struct Relay {
    store: Arc<dyn CartStore>,
    events: Arc<dyn EventPublisher>,
    grace: Duration,
    /// Events it sent to the SQS outbox, and when.
    to_outbox: Arc<Mutex<HashMap<uuid::Uuid, Instant>>>,
}

impl Relay {
    /// A relay over `store`, publishing to `events` whatever has waited longer than `grace`
    /// (the time a live publisher needs to publish and settle its own event).
    pub fn new(
        store: Arc<dyn CartStore>,
        events: Arc<dyn EventPublisher>,
        grace: Duration,
    ) -> Self {
        Self {
            store,
            events,
            grace,
            to_outbox: Arc::default(),
        }
    }

    fn sent_to_outbox_lately(&self, event: uuid::Uuid) -> bool {
        let mut sent = self.to_outbox.lock().unwrap_or_else(|p| p.into_inner());
        sent.retain(|_, at| at.elapsed() < OUTBOX_PAUSE);
        sent.contains_key(&event)
    }

    fn note_sent_to_outbox(&self, event: uuid::Uuid) {
        self.to_outbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(event, Instant::now());
    }

    /// One pass over every cart that may hold unpublished events. A cart that fails is logged
    /// and left for the next pass; only failing to list them is an error.
    pub async fn run_once(&self) -> Result<Relayed, StoreError> {
        let due = Utc::now() - chrono::Duration::from_std(self.grace).unwrap_or_default();
        let mut relayed = Relayed::default();
        let mut carts = self.store.carts_with_unpublished().await?;
        // In a new order each pass: a pass cut short by its function's timeout leaves different
        // carts for the next, never the same ones for ever.
        fastrand::shuffle(&mut carts);
        for id in carts {
            relayed.carts += 1;
            if let Err(e) = self.relay_cart(id, due, &mut relayed).await {
                tracing::warn!(error = %e, cart_id = %id, "the relay could not read a cart; it tries again next pass");
            }
        }
        if relayed.published + relayed.failed > 0 {
            tracing::info!(
                carts = relayed.carts,
                published = relayed.published,
                failed = relayed.failed,
                "relayed events their publishers left behind"
            );
        }
        Ok(relayed)
    }

    async fn relay_cart(
        &self,
        id: CartId,
        due: DateTime<Utc>,
        relayed: &mut Relayed,
    ) -> Result<(), StoreError> {
        if let Some(cart) = self.store.load(id).await? {
            let mut done = Vec::new();
            // In version order, stopping at the first refusal, so a cart's events stay in order.
            for pending in cart.unpublished.iter().filter(|p| p.saved_at <= due) {
                let event = match pending.decode() {
                    Ok(event) => event,
                    Err(e) => {
                        tracing::error!(error = %e, cart_id = %id, version = pending.version, "an unpublished event does not decode; it is dropped");
                        relayed.undecodable += 1;
                        done.push(pending.version);
                        continue;
                    }
                };
                if self.sent_to_outbox_lately(pending.event_id) {
                    break;
                }
                match self.events.deliver(&event).await {
                    Ok(Delivery::Topic) => {
                        crate::metrics::count(crate::metrics::Metric::EventsRelayed, 1);
                        relayed.published += 1;
                        done.push(pending.version);
                    }
                    // In the SQS outbox, not on the topic: kept, and not sent there again for a
                    // while, so that a long outage does not fill the outbox with copies.
                    Ok(Delivery::Outbox) => {
                        self.note_sent_to_outbox(pending.event_id);
                        relayed.failed += 1;
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, cart_id = %id, version = pending.version, "the relay could not publish; it tries again next pass");
                        relayed.failed += 1;
                        break;
                    }
                }
            }
            if !done.is_empty() {
                settle(self.store.as_ref(), cart, &done).await;
            }
        }
        self.store.tidy_unpublished(id).await
    }
}

#[cfg(test)]
mod tests;
