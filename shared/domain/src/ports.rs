//! The ports the service is written against: where carts live, what the catalog says, where
//! events go. Each is a small `Send + Sync` trait injected as `Arc<dyn Port>`.

use crate::cart::Cart;
use crate::event::CartEvent;
use crate::ids::{CartId, ItemId, UserId};
use crate::item::Item;
use crate::order::OrderRequest;
use async_trait::async_trait;
use std::collections::HashMap;

/// A boxed error from whatever is behind a port, kept as the `source` of ours.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The conditional write lost: the stored cart is no longer at the version the caller read
    /// (or, for a new cart, one with its id exists).
    #[error("the cart was changed concurrently (now at version {current:?})")]
    Conflict {
        /// The stored version, when the store learned it for free.
        current: Option<u64>,
    },
    /// The backing service failed; nothing is known to have been written.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
    /// The dependency failed repeatedly and its circuit breaker is open: the call was not made.
    #[error("{dependency} is unavailable (its circuit is open for {retry_after:?} more)")]
    CircuitOpen {
        /// What is unavailable ("the item catalog").
        dependency: &'static str,
        /// How long until the breaker lets a call through again.
        retry_after: std::time::Duration,
    },
}

impl StoreError {
    /// The store could not be reached or answered with an error.
    pub fn unavailable(e: impl Into<BoxError>) -> Self {
        StoreError::Unavailable(e.into())
    }

    /// True when a conditional write lost to a concurrent one.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }
}

/// Where carts live, with their membership index (the seed's `user_cart_sharing`).
#[async_trait]
pub trait CartStore: Send + Sync {
    /// The cart, if it exists.
    async fn load(&self, id: CartId) -> Result<Option<Cart>, StoreError>;

    /// Writes `next` if the stored cart is still `previous` (compared by version), or, when
    /// `previous` is `None`, if no cart with that id exists. Keeps the membership index in step
    /// with `next.members`.
    async fn save(&self, previous: Option<&Cart>, next: &Cart) -> Result<(), StoreError>;

    /// The carts `user` is a member of, in no particular order.
    async fn carts_of(&self, user: &UserId) -> Result<Vec<CartId>, StoreError>;

    /// The carts whose record may hold unpublished events (`crate::unpublished`): every one
    /// that does, and perhaps a few that no longer do.
    async fn carts_with_unpublished(&self) -> Result<Vec<CartId>, StoreError>;

    /// Called by the relay once it has handled cart `id`: a store that keeps its list of carts
    /// with unpublished events apart from the carts drops the entries it no longer needs.
    async fn tidy_unpublished(&self, _id: CartId) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The Item service: names, prices and stock.
#[async_trait]
pub trait Catalog: Send + Sync {
    /// The item, if the catalog has it.
    async fn item(&self, id: &ItemId) -> Result<Option<Item>, StoreError>;

    /// Every one of `ids` the catalog has. Checkout reads stock through this: a cache in front
    /// of a catalog must pass it through, never answer it.
    async fn items(&self, ids: &[ItemId]) -> Result<HashMap<ItemId, Item>, StoreError> {
        let mut found = HashMap::with_capacity(ids.len());
        for id in ids {
            if let Some(item) = self.item(id).await? {
                found.insert(id.clone(), item);
            }
        }
        Ok(found)
    }

    /// Up to `limit` items in id order, starting after `after`.
    async fn list(&self, after: Option<&ItemId>, limit: usize) -> Result<Vec<Item>, StoreError>;

    /// Sets an item's stock; `None` if there is no such item.
    async fn set_stock(&self, id: &ItemId, stock: u32) -> Result<Option<Item>, StoreError>;

    /// Adds or replaces an item (seeding and administration).
    async fn put(&self, item: &Item) -> Result<(), StoreError>;
}

/// Why an event could not be published.
#[derive(Debug, thiserror::Error)]
#[error("the event could not be published")]
pub struct PublishError(#[source] pub BoxError);

/// Where a published event went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Onto the topic, where consumers read it.
    Topic,
    /// Into an outbox the topic refused it for; a relay republishes it later, perhaps after
    /// newer events of its cart.
    Outbox,
}

/// Where cart events go (Kafka on AWS, the in-process bus locally).
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes one event, keyed by its cart id so a cart's events stay in order.
    async fn publish(&self, event: &CartEvent) -> Result<(), PublishError>;

    /// Publishes one event and says where it went: a publisher with an outbox behind it says
    /// when the event took that way.
    async fn deliver(&self, event: &CartEvent) -> Result<Delivery, PublishError> {
        self.publish(event).await.map(|()| Delivery::Topic)
    }
}

/// Where checked-out carts go to become orders (an SQS queue on AWS).
#[async_trait]
pub trait OrderQueue: Send + Sync {
    /// Hands `order` to the order service. Handing the same order over twice is allowed: the
    /// consumer deduplicates by `orderId`.
    async fn submit(&self, order: &OrderRequest) -> Result<(), PublishError>;
}

/// Who joined and who left between two versions of a cart: what a store's membership index must
/// add and remove.
pub fn membership_delta(previous: Option<&Cart>, next: &Cart) -> (Vec<UserId>, Vec<UserId>) {
    let before: Vec<&UserId> = previous
        .map(|p| p.members.iter().map(|m| &m.user_id).collect())
        .unwrap_or_default();
    let after: Vec<&UserId> = next.members.iter().map(|m| &m.user_id).collect();
    let joined = after
        .iter()
        .filter(|u| !before.contains(u))
        .map(|u| (*u).clone())
        .collect();
    let left = before
        .iter()
        .filter(|u| !after.contains(u))
        .map(|u| (*u).clone())
        .collect();
    (joined, left)
}
