//! The Item service's read-through cache. Item details (`Catalog::item`, what getItemDetails
//! and an add read) are served from memory for a short TTL, then from Redis when `REDIS_URL`
//! names one (shared by every warm instance), then from the catalog itself. Everything else
//! passes through: `Catalog::items` is what checkout reads, and stock at checkout never comes
//! from a cache; pages are not cached; a stock update or a put forgets the item in both tiers.
//!
//! Redis is a helper, never a dependency: when it fails, reads go to the catalog and the
//! failure is logged. It is in builds with the `redis` feature (the default); the deployed
//! functions, which have no Redis, leave it out.

mod shared_tier;

use async_trait::async_trait;
use domain::ports::{Catalog, StoreError};
use domain::{Item, ItemId};
use shared_tier::SharedTier;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an item is served from a cache: long enough to absorb a burst of adds, short
/// enough that a price change shows within seconds.
pub const DEFAULT_TTL: Duration = Duration::from_secs(5);

/// A catalog with a cache in front of `item`.
pub struct CachedCatalog {
    inner: Arc<dyn Catalog>,
    ttl: Duration,
    local: Mutex<HashMap<ItemId, (Instant, Item)>>,
    shared: Option<SharedTier>,
}

impl CachedCatalog {
    /// `inner` behind an in-process cache only.
    pub fn new(inner: Arc<dyn Catalog>, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            local: Mutex::default(),
            shared: None,
        }
    }

    fn local(&self) -> std::sync::MutexGuard<'_, HashMap<ItemId, (Instant, Item)>> {
        // One map operation per critical section: a poisoned map is still consistent.
        self.local.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn read_shared(&self, id: &ItemId) -> Option<Item> {
        self.shared.as_ref()?.get(id).await
    }

    async fn write_shared(&self, item: &Item) {
        if let Some(shared) = &self.shared {
            shared.put(item, self.ttl).await;
        }
    }

    async fn forget(&self, id: &ItemId) {
        self.local().remove(id);
        if let Some(shared) = &self.shared {
            shared.forget(id).await;
        }
    }
}

#[async_trait]
impl Catalog for CachedCatalog {
    async fn item(&self, id: &ItemId) -> Result<Option<Item>, StoreError> {
        if let Some((at, item)) = self.local().get(id)
            && at.elapsed() < self.ttl
        {
            return Ok(Some(item.clone()));
        }
        let found = match self.read_shared(id).await {
            Some(item) => Some(item),
            None => {
                let item = self.inner.item(id).await?;
                if let Some(item) = &item {
                    self.write_shared(item).await;
                }
                item
            }
        };
        if let Some(item) = &found {
            self.local()
                .insert(id.clone(), (Instant::now(), item.clone()));
        }
        Ok(found)
    }

    async fn items(&self, ids: &[ItemId]) -> Result<HashMap<ItemId, Item>, StoreError> {
        // Checkout's read: always the catalog's own answer.
        self.inner.items(ids).await
    }

    async fn list(&self, after: Option<&ItemId>, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.inner.list(after, limit).await
    }

    async fn set_stock(&self, id: &ItemId, stock: u32) -> Result<Option<Item>, StoreError> {
        let updated = self.inner.set_stock(id, stock).await?;
        self.forget(id).await;
        Ok(updated)
    }

    async fn put(&self, item: &Item) -> Result<(), StoreError> {
        self.inner.put(item).await?;
        self.forget(&item.item_id).await;
        Ok(())
    }
}
