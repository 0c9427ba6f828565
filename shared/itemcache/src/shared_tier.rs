//! The tier every warm instance shares: Redis in a build with the `redis` feature, nothing
//! (a type with no values) without it.

use domain::{Item, ItemId};
use std::time::Duration;

#[cfg(feature = "redis")]
pub use with_redis::SharedTier;

#[cfg(not(feature = "redis"))]
pub use without_redis::SharedTier;

#[cfg(feature = "redis")]
mod with_redis {
    use super::*;
    use crate::CachedCatalog;
    use domain::ports::Catalog;
    use redis::AsyncCommands;
    use redis::aio::ConnectionManager;
    use std::sync::Arc;

    /// Redis, through a connection manager that reconnects by itself.
    pub struct SharedTier(ConnectionManager);

    impl CachedCatalog {
        /// `inner` behind the in-process cache and Redis at `url` (`redis://host:port`).
        pub async fn with_redis(
            inner: Arc<dyn Catalog>,
            ttl: Duration,
            url: &str,
        ) -> Result<Self, redis::RedisError> {
            let client = redis::Client::open(url)?;
            let shared = ConnectionManager::new(client).await?;
            Ok(Self {
                shared: Some(SharedTier(shared)),
                ..Self::new(inner, ttl)
            })
        }
    }

    impl SharedTier {
        pub async fn get(&self, id: &ItemId) -> Option<Item> {
            let mut redis = self.0.clone();
            match redis.get::<_, Option<String>>(key(id)).await {
                Ok(found) => found.and_then(|json| serde_json::from_str(&json).ok()),
                Err(e) => {
                    tracing::warn!(error = %e, "redis read failed; reading the catalog");
                    None
                }
            }
        }

        pub async fn put(&self, item: &Item, ttl: Duration) {
            let Ok(json) = serde_json::to_string(item) else {
                return;
            };
            let mut redis = self.0.clone();
            let written: Result<(), _> = redis
                .set_ex(key(&item.item_id), json, ttl.as_secs().max(1))
                .await;
            if let Err(e) = written {
                tracing::warn!(error = %e, "redis write failed");
            }
        }

        pub async fn forget(&self, id: &ItemId) {
            let mut redis = self.0.clone();
            let removed: Result<(), _> = redis.del(key(id)).await;
            if let Err(e) = removed {
                tracing::warn!(error = %e, "redis delete failed; the entry expires with its TTL");
            }
        }
    }

    fn key(id: &ItemId) -> String {
        format!("item:{id}")
    }
}

#[cfg(not(feature = "redis"))]
mod without_redis {
    use super::*;

    /// No shared tier: `Option<SharedTier>` is always `None`.
    pub enum SharedTier {}

    impl SharedTier {
        pub async fn get(&self, _: &ItemId) -> Option<Item> {
            match *self {}
        }

        pub async fn put(&self, _: &Item, _: Duration) {
            match *self {}
        }

        pub async fn forget(&self, _: &ItemId) {
            match *self {}
        }
    }
}
