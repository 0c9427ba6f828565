//! The cache in front of a counting catalog: what is served from memory, from Redis (a real
//! `redis-server`, started by `tests/services.sh`), and what always reaches the catalog.

use async_trait::async_trait;
use domain::memory::MemoryCatalog;
use domain::ports::{Catalog, StoreError};
use domain::testing::sample_items;
use domain::{Item, ItemId};
use itemcache::CachedCatalog;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The sample catalog, counting the reads that reach it.
#[derive(Default)]
struct Counting {
    catalog: MemoryCatalog,
    item_reads: AtomicUsize,
    checkout_reads: AtomicUsize,
}

impl Counting {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            catalog: MemoryCatalog::with(sample_items()),
            ..Self::default()
        })
    }
}

#[async_trait]
impl Catalog for Counting {
    async fn item(&self, id: &ItemId) -> Result<Option<Item>, StoreError> {
        self.item_reads.fetch_add(1, Ordering::SeqCst);
        self.catalog.item(id).await
    }
    async fn items(&self, ids: &[ItemId]) -> Result<HashMap<ItemId, Item>, StoreError> {
        self.checkout_reads.fetch_add(1, Ordering::SeqCst);
        self.catalog.items(ids).await
    }
    async fn list(&self, after: Option<&ItemId>, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.catalog.list(after, limit).await
    }
    async fn set_stock(&self, id: &ItemId, stock: u32) -> Result<Option<Item>, StoreError> {
        self.catalog.set_stock(id, stock).await
    }
    async fn put(&self, item: &Item) -> Result<(), StoreError> {
        self.catalog.put(item).await
    }
}

fn apple() -> ItemId {
    sample_items()[0].item_id.clone()
}

#[tokio::test]
async fn details_come_from_memory_until_the_ttl_and_checkout_always_reads_the_catalog() {
    let counting = Counting::new();
    let cache = CachedCatalog::new(counting.clone(), Duration::from_millis(200));
    for _ in 0..5 {
        assert!(cache.item(&apple()).await.unwrap().is_some());
    }
    assert_eq!(counting.item_reads.load(Ordering::SeqCst), 1);
    for _ in 0..3 {
        cache.items(&[apple()]).await.unwrap();
    }
    assert_eq!(counting.checkout_reads.load(Ordering::SeqCst), 3);
    tokio::time::sleep(Duration::from_millis(250)).await;
    cache.item(&apple()).await.unwrap();
    assert_eq!(
        counting.item_reads.load(Ordering::SeqCst),
        2,
        "the TTL passed"
    );
}

#[tokio::test]
async fn a_stock_update_is_seen_at_once_through_the_same_cache() {
    let counting = Counting::new();
    let cache = CachedCatalog::new(counting.clone(), Duration::from_secs(60));
    cache.item(&apple()).await.unwrap();
    cache.set_stock(&apple(), 7).await.unwrap();
    assert_eq!(
        cache.item(&apple()).await.unwrap().map(|i| i.stock),
        Some(7)
    );
}

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| {
        panic!("REDIS_URL is not set: run the tests through tests/services.sh (tests/run.sh does)")
    })
}

#[tokio::test]
async fn instances_share_details_through_redis_and_an_update_forgets_them_there() {
    let counting = Counting::new();
    // Keys are per item; a catalog of this test's own keeps other tests' entries apart.
    let mut item = sample_items()[0].clone();
    item.item_id = ItemId::parse(&format!("cache-{}", uuid::Uuid::new_v4())).unwrap();
    counting.catalog.put(&item).await.unwrap();
    let ttl = Duration::from_secs(60);
    let first = CachedCatalog::with_redis(counting.clone(), ttl, &redis_url())
        .await
        .unwrap();
    let second = CachedCatalog::with_redis(counting.clone(), ttl, &redis_url())
        .await
        .unwrap();

    first.item(&item.item_id).await.unwrap();
    second.item(&item.item_id).await.unwrap();
    assert_eq!(
        counting.item_reads.load(Ordering::SeqCst),
        1,
        "the second instance read it from redis"
    );

    first.set_stock(&item.item_id, 3).await.unwrap();
    let third = CachedCatalog::with_redis(counting.clone(), ttl, &redis_url())
        .await
        .unwrap();
    assert_eq!(
        third.item(&item.item_id).await.unwrap().map(|i| i.stock),
        Some(3),
        "the update removed it from redis"
    );
}

#[tokio::test]
async fn the_cache_over_redis_keeps_the_catalog_contract() {
    // The contract's items are its own: no other test here caches them in Redis.
    let catalog = Arc::new(domain::memory::MemoryCatalog::default());
    let cached = CachedCatalog::with_redis(catalog, Duration::from_secs(60), &redis_url())
        .await
        .unwrap();
    domain::testing::catalog_contract(&cached).await;
}
