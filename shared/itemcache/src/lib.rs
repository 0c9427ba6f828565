//! The Item service's read-through cache. Item details (`Catalog::item`, what getItemDetails
//! and an add read) are served from memory for a short TTL, then from Redis when `REDIS_URL`
//! names one (shared by every warm instance), then from the catalog itself. Everything else
//! passes through: `Catalog::items` is what checkout reads, and stock at checkout never comes
//! from a cache; pages are not cached; a stock update or a put forgets the item in both tiers.
//!
//! Redis is a helper, never a dependency: when it fails, reads go to the catalog and the
//! failure is logged.

use async_trait::async_trait;
use domain::ports::{Catalog, StoreError};
use domain::{Item, ItemId};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
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
    shared: Option<ConnectionManager>,
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

    /// `inner` behind the in-process cache and Redis at `url` (`redis://host:port`).
    pub async fn with_redis(
        inner: Arc<dyn Catalog>,
        ttl: Duration,
        url: &str,
    ) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let shared = ConnectionManager::new(client).await?;
        Ok(Self {
            shared: Some(shared),
            ..Self::new(inner, ttl)
        })
    }

    fn local(&self) -> std::sync::MutexGuard<'_, HashMap<ItemId, (Instant, Item)>> {
        // One map operation per critical section: a poisoned map is still consistent.
        self.local.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn read_redis(&self, id: &ItemId) -> Option<Item> {
        let mut redis = self.shared.clone()?;
        match redis.get::<_, Option<String>>(key(id)).await {
            Ok(found) => found.and_then(|json| serde_json::from_str(&json).ok()),
            Err(e) => {
                tracing::warn!(error = %e, "redis read failed; reading the catalog");
                None
            }
        }
    }

    async fn write_redis(&self, item: &Item) {
        let Some(mut redis) = self.shared.clone() else {
            return;
        };
        let Ok(json) = serde_json::to_string(item) else {
            return;
        };
        let written: Result<(), _> = redis
            .set_ex(key(&item.item_id), json, self.ttl.as_secs().max(1))
            .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "redis write failed");
        }
    }

    async fn forget(&self, id: &ItemId) {
        self.local().remove(id);
        if let Some(mut redis) = self.shared.clone() {
            let removed: Result<(), _> = redis.del(key(id)).await;
            if let Err(e) = removed {
                tracing::warn!(error = %e, "redis delete failed; the entry expires with its TTL");
            }
        }
    }
}

fn key(id: &ItemId) -> String {
    format!("item:{id}")
}

#[async_trait]
impl Catalog for CachedCatalog {
    async fn item(&self, id: &ItemId) -> Result<Option<Item>, StoreError> {
        if let Some((at, item)) = self.local().get(id)
            && at.elapsed() < self.ttl
        {
            return Ok(Some(item.clone()));
        }
        let found = match self.read_redis(id).await {
            Some(item) => Some(item),
            None => {
                let item = self.inner.item(id).await?;
                if let Some(item) = &item {
                    self.write_redis(item).await;
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
