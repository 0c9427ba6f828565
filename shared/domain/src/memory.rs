//! In-memory implementations of every port, for unit tests and handler tests.

use crate::cart::Cart;
use crate::connection::{
    Connection, ConnectionId, ConnectionPoster, ConnectionRegistry, PostError,
};
use crate::event::CartEvent;
use crate::idempotency::{Claim, IdempotencyStore, Record, RecordKey, StoredResponse};
use crate::ids::{CartId, ItemId, UserId};
use crate::inventory::{StockLedger, Take};
use crate::item::Item;
use crate::notification::{
    Mail, MailError, Mailer, Mailing, Notice, Notification, NotificationStore, Plan, Recorded,
    hour_of,
};
use crate::order::OrderRequest;
use crate::ports::{
    CartStore, Catalog, EventPublisher, OrderQueue, PublishError, StoreError, membership_delta,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

/// A poisoned lock only means another test thread panicked; the data is still consistent
/// because every critical section below is a plain map update.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Default)]
struct Carts {
    by_id: HashMap<CartId, Cart>,
    by_user: HashMap<UserId, BTreeSet<CartId>>,
}

/// Carts in a map, with the same compare-and-swap contract as the real stores.
#[derive(Default)]
pub struct MemoryCartStore {
    carts: Mutex<Carts>,
}

#[async_trait]
impl CartStore for MemoryCartStore {
    async fn load(&self, id: CartId) -> Result<Option<Cart>, StoreError> {
        Ok(lock(&self.carts).by_id.get(&id).cloned())
    }

    async fn save(&self, previous: Option<&Cart>, next: &Cart) -> Result<(), StoreError> {
        let mut carts = lock(&self.carts);
        let stored = carts.by_id.get(&next.cart_id).map(|c| c.version);
        if stored != previous.map(|p| p.version) {
            return Err(StoreError::Conflict { current: stored });
        }
        let (joined, left) = membership_delta(previous, next);
        for user in joined {
            carts.by_user.entry(user).or_default().insert(next.cart_id);
        }
        for user in left {
            carts.by_user.entry(user).or_default().remove(&next.cart_id);
        }
        carts.by_id.insert(next.cart_id, next.clone());
        Ok(())
    }

    async fn carts_of(&self, user: &UserId) -> Result<Vec<CartId>, StoreError> {
        Ok(lock(&self.carts)
            .by_user
            .get(user)
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default())
    }

    async fn carts_with_unpublished(&self) -> Result<Vec<CartId>, StoreError> {
        Ok(lock(&self.carts)
            .by_id
            .values()
            .filter(|cart| !cart.unpublished.is_empty())
            .map(|cart| cart.cart_id)
            .collect())
    }
}

/// A catalog in a sorted map, with the checkouts whose stock it has taken.
#[derive(Default)]
pub struct MemoryCatalog {
    items: Mutex<BTreeMap<ItemId, Item>>,
    taken: Mutex<BTreeSet<(CartId, ItemId)>>,
}

impl MemoryCatalog {
    /// A catalog holding `items`.
    pub fn with(items: impl IntoIterator<Item = Item>) -> Self {
        Self {
            items: Mutex::new(items.into_iter().map(|i| (i.item_id.clone(), i)).collect()),
            taken: Mutex::default(),
        }
    }
}

#[async_trait]
impl StockLedger for MemoryCatalog {
    async fn take(&self, cart: CartId, item: &ItemId, quantity: u32) -> Result<Take, StoreError> {
        // Items first, then the record: the one order every caller locks them in.
        let mut items = lock(&self.items);
        let mut taken = lock(&self.taken);
        let Some(stocked) = items.get_mut(item) else {
            return Ok(Take::UnknownItem);
        };
        if taken.contains(&(cart, item.clone())) {
            return Ok(Take::AlreadyTaken);
        }
        if stocked.stock < quantity {
            return Ok(Take::Short {
                available: stocked.stock,
            });
        }
        stocked.stock -= quantity;
        taken.insert((cart, item.clone()));
        Ok(Take::Taken {
            remaining: stocked.stock,
        })
    }
}

#[async_trait]
impl Catalog for MemoryCatalog {
    async fn item(&self, id: &ItemId) -> Result<Option<Item>, StoreError> {
        Ok(lock(&self.items).get(id).cloned())
    }

    async fn list(&self, after: Option<&ItemId>, limit: usize) -> Result<Vec<Item>, StoreError> {
        let items = lock(&self.items);
        let after = |id: &ItemId| after.is_none_or(|a| id > a);
        Ok(items
            .values()
            .filter(|i| after(&i.item_id))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn set_stock(&self, id: &ItemId, stock: u32) -> Result<Option<Item>, StoreError> {
        let mut items = lock(&self.items);
        Ok(items.get_mut(id).map(|item| {
            item.stock = stock;
            item.clone()
        }))
    }

    async fn put(&self, item: &Item) -> Result<(), StoreError> {
        lock(&self.items).insert(item.item_id.clone(), item.clone());
        Ok(())
    }
}

/// Keeps every published event, in order, for assertions; refuses them while set down.
#[derive(Default)]
pub struct RecordingPublisher {
    events: Mutex<Vec<CartEvent>>,
    down: std::sync::atomic::AtomicBool,
}

impl RecordingPublisher {
    /// Every event published so far.
    pub fn events(&self) -> Vec<CartEvent> {
        lock(&self.events).clone()
    }

    /// Refuses every event from now on (`true`) or takes them again (`false`): a broker and
    /// an outbox both down, and back.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl EventPublisher for RecordingPublisher {
    async fn publish(&self, event: &CartEvent) -> Result<(), PublishError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(PublishError("the recording publisher is set down".into()));
        }
        lock(&self.events).push(event.clone());
        Ok(())
    }
}

/// Idempotency records in a map.
#[derive(Default)]
pub struct MemoryIdempotency {
    records: Mutex<HashMap<RecordKey, Record>>,
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotency {
    async fn claim(
        &self,
        key: &RecordKey,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let mut records = lock(&self.records);
        if let Some(found) = records.get(key).and_then(|r| r.holds(fingerprint, now)) {
            return Ok(found);
        }
        records.insert(key.clone(), Record::claimed(fingerprint, now));
        Ok(Claim::Claimed)
    }

    async fn complete(&self, key: &RecordKey, response: &StoredResponse) -> Result<(), StoreError> {
        if let Some(record) = lock(&self.records).get_mut(key) {
            record.answer = Some(response.clone());
        }
        Ok(())
    }

    async fn release(&self, key: &RecordKey) -> Result<(), StoreError> {
        lock(&self.records).remove(key);
        Ok(())
    }
}

/// Keeps every order handed over, in order: the local stack's order service when no queue is
/// configured, and the tests' window on checkouts.
#[derive(Default)]
pub struct RecordingOrders {
    orders: Mutex<Vec<OrderRequest>>,
}

impl RecordingOrders {
    /// Every order handed over so far.
    pub fn orders(&self) -> Vec<OrderRequest> {
        lock(&self.orders).clone()
    }
}

#[async_trait]
impl OrderQueue for RecordingOrders {
    async fn submit(&self, order: &OrderRequest) -> Result<(), PublishError> {
        tracing::info!(order_id = %order.order_id, total = order.total, "order handed over in process");
        lock(&self.orders).push(order.clone());
        Ok(())
    }
}

/// Connections in maps, expiring as the real registries do; lookups fail while it is set down.
#[derive(Default)]
pub struct MemoryConnectionRegistry {
    connections: Mutex<HashMap<ConnectionId, Connection>>,
    down: std::sync::atomic::AtomicBool,
}

impl MemoryConnectionRegistry {
    /// Fails every lookup of a user's connections from now on (`true`), or answers again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl ConnectionRegistry for MemoryConnectionRegistry {
    async fn register(&self, connection: &Connection) -> Result<(), StoreError> {
        lock(&self.connections).insert(connection.connection_id.clone(), connection.clone());
        Ok(())
    }

    async fn keep_open(
        &self,
        id: &ConnectionId,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        let mut connections = lock(&self.connections);
        let known = connections.get_mut(id);
        let found = known.is_some();
        if let Some(connection) = known {
            connection.expires_at = expires_at;
        }
        Ok(found)
    }

    async fn remove(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        Ok(lock(&self.connections).remove(id))
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        let now = chrono::Utc::now();
        Ok(lock(&self.connections)
            .get(id)
            .filter(|c| !c.is_expired(now))
            .cloned())
    }

    async fn connections_of(&self, user: &UserId) -> Result<Vec<Connection>, StoreError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::unavailable("the memory registry is set down"));
        }
        let now = chrono::Utc::now();
        Ok(lock(&self.connections)
            .values()
            .filter(|c| &c.user_id == user && !c.is_expired(now))
            .cloned()
            .collect())
    }

    async fn view(
        &self,
        id: &ConnectionId,
        cart: Option<CartId>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Connection>, StoreError> {
        let mut connections = lock(&self.connections);
        let Some(connection) = connections.get_mut(id) else {
            return Ok(None);
        };
        let before = connection.clone();
        connection.viewing = cart;
        connection.seen_at = now;
        Ok(Some(before))
    }

    async fn leave(&self, id: &ConnectionId, cart: CartId) -> Result<bool, StoreError> {
        let mut connections = lock(&self.connections);
        match connections.get_mut(id) {
            Some(connection) if connection.viewing == Some(cart) => {
                connection.viewing = None;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn viewers_of(&self, cart: CartId) -> Result<Vec<Connection>, StoreError> {
        let now = chrono::Utc::now();
        Ok(lock(&self.connections)
            .values()
            .filter(|c| c.viewing == Some(cart) && !c.is_expired(now))
            .cloned()
            .collect())
    }
}

/// Keeps every presence notice, in order, for a test to read.
#[derive(Default)]
pub struct RecordingNotices {
    notices: Mutex<Vec<CartId>>,
}

impl RecordingNotices {
    /// Every cart noted so far, and forgets them.
    pub fn take(&self) -> Vec<CartId> {
        std::mem::take(&mut *lock(&self.notices))
    }
}

#[async_trait]
impl crate::PresenceNotices for RecordingNotices {
    async fn changed(&self, cart: CartId) -> Result<(), crate::ports::BoxError> {
        lock(&self.notices).push(cart);
        Ok(())
    }
}

/// Records every post, answers `Gone` for the connections it is told are closed, and fails
/// the next posts to a connection it is told to fail.
#[derive(Default)]
pub struct RecordingPoster {
    posts: Mutex<Vec<(ConnectionId, String)>>,
    gone: Mutex<Vec<ConnectionId>>,
    failing: Mutex<HashMap<ConnectionId, u32>>,
}

impl RecordingPoster {
    /// Every message posted, in order, with its connection.
    pub fn posts(&self) -> Vec<(ConnectionId, String)> {
        lock(&self.posts).clone()
    }

    /// From now on, posts to `connection` answer `Gone`.
    pub fn close(&self, connection: &ConnectionId) {
        lock(&self.gone).push(connection.clone());
    }

    /// The next `times` posts to `connection` fail, as a throttled or failing API would.
    pub fn fail(&self, connection: &ConnectionId, times: u32) {
        lock(&self.failing).insert(connection.clone(), times);
    }
}

#[async_trait]
impl ConnectionPoster for RecordingPoster {
    async fn post(&self, connection: &ConnectionId, message: &[u8]) -> Result<(), PostError> {
        if lock(&self.gone).contains(connection) {
            return Err(PostError::Gone);
        }
        if let Some(left) = lock(&self.failing).get_mut(connection)
            && *left > 0
        {
            *left -= 1;
            return Err(PostError::Failed(
                "the recording poster is told to fail".into(),
            ));
        }
        lock(&self.posts).push((
            connection.clone(),
            String::from_utf8_lossy(message).into_owned(),
        ));
        Ok(())
    }
}

/// Analytics in maps, each event counted once, as the real stores count.
#[derive(Default)]
pub struct MemoryAnalytics {
    counted: Mutex<AnalyticsMaps>,
}

#[derive(Default)]
struct AnalyticsMaps {
    events: std::collections::HashSet<uuid::Uuid>,
    shared: std::collections::HashSet<CartId>,
    items:
        std::collections::BTreeMap<(crate::analytics::Day, ItemId), crate::analytics::ItemCounts>,
    funnel: HashMap<crate::analytics::Day, crate::analytics::FunnelCounts>,
}

#[async_trait]
impl crate::analytics::AnalyticsStore for MemoryAnalytics {
    async fn record(&self, tally: &crate::analytics::Tally) -> Result<bool, StoreError> {
        let mut maps = lock(&self.counted);
        if !maps.events.insert(tally.event_id) {
            return Ok(false);
        }
        let mut funnel = tally.funnel;
        if let Some(cart) = tally.shares
            && maps.shared.insert(cart)
        {
            funnel.shared += 1;
        }
        let day = maps.funnel.entry(tally.day).or_default();
        *day = day.plus(funnel);
        for (item, counts) in &tally.items {
            let kept = maps.items.entry((tally.day, item.clone())).or_default();
            *kept = kept.plus(*counts);
        }
        Ok(true)
    }

    async fn day(
        &self,
        day: crate::analytics::Day,
    ) -> Result<crate::analytics::DayReport, StoreError> {
        let maps = lock(&self.counted);
        Ok(crate::analytics::DayReport {
            day,
            funnel: maps.funnel.get(&day).copied().unwrap_or_default(),
            items: maps
                .items
                .iter()
                .filter(|((d, _), _)| *d == day)
                .map(|((_, item), counts)| crate::analytics::ItemDay {
                    item_id: item.clone(),
                    counts: *counts,
                })
                .collect(),
        })
    }
}

/// Profiles in a map; finding one by handle reads them all.
#[derive(Default)]
pub struct MemoryDirectory {
    profiles: Mutex<HashMap<UserId, crate::directory::Profile>>,
}

#[async_trait]
impl crate::directory::Directory for MemoryDirectory {
    async fn remember(&self, profile: &crate::directory::Profile) -> Result<(), StoreError> {
        lock(&self.profiles).insert(profile.user_id.clone(), profile.clone());
        Ok(())
    }

    async fn profile(
        &self,
        user: &UserId,
    ) -> Result<Option<crate::directory::Profile>, StoreError> {
        Ok(lock(&self.profiles).get(user).cloned())
    }

    async fn find(&self, handle: &crate::directory::Handle) -> Result<Vec<UserId>, StoreError> {
        let mut found: Vec<UserId> = lock(&self.profiles)
            .values()
            .filter(|p| crate::directory::names(p, handle))
            .map(|p| p.user_id.clone())
            .collect();
        found.sort();
        Ok(found)
    }
}

/// Notifications in maps, each (event, member) decided once, as the real stores decide.
#[derive(Default)]
pub struct MemoryNotifications {
    kept: Mutex<NotificationMaps>,
}

#[derive(Default)]
struct NotificationMaps {
    by_user: HashMap<UserId, Vec<Notification>>,
    mailed: HashMap<(UserId, String), u32>,
    mails_off: BTreeSet<UserId>,
}

#[async_trait]
impl NotificationStore for MemoryNotifications {
    async fn record(
        &self,
        user: &UserId,
        notice: &Notice,
        plan: Plan,
        now: DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        let mut kept = lock(&self.kept);
        let kept = &mut *kept;
        let list = kept.by_user.entry(user.clone()).or_default();
        if let Some(before) = list.iter().find(|n| n.notice.event_id == notice.event_id) {
            return Ok(Recorded::Before(before.mailing));
        }
        let mailing = match plan {
            Plan::ListOnly(why) => why,
            Plan::Mail { per_hour } => {
                let count = kept.mailed.entry((user.clone(), hour_of(now))).or_default();
                if *count < per_hour {
                    *count += 1;
                    Mailing::Pending
                } else {
                    Mailing::RateLimited
                }
            }
        };
        list.push(Notification {
            notice: notice.clone(),
            mailing,
        });
        Ok(Recorded::New(mailing))
    }

    async fn mark(
        &self,
        user: &UserId,
        notice: &Notice,
        mailing: Mailing,
    ) -> Result<(), StoreError> {
        let mut kept = lock(&self.kept);
        if let Some(found) = kept
            .by_user
            .get_mut(user)
            .and_then(|l| l.iter_mut().find(|n| n.notice.event_id == notice.event_id))
        {
            found.mailing = mailing;
        }
        Ok(())
    }

    async fn list(&self, user: &UserId, limit: usize) -> Result<Vec<Notification>, StoreError> {
        let kept = lock(&self.kept);
        let mut list = kept.by_user.get(user).cloned().unwrap_or_default();
        list.sort_by(|a, b| {
            (b.notice.occurred_at, b.notice.event_id)
                .cmp(&(a.notice.occurred_at, a.notice.event_id))
        });
        list.truncate(limit);
        Ok(list)
    }

    async fn mails_off(&self, user: &UserId) -> Result<bool, StoreError> {
        Ok(lock(&self.kept).mails_off.contains(user))
    }

    async fn set_mails_off(&self, user: &UserId, off: bool) -> Result<(), StoreError> {
        let mut kept = lock(&self.kept);
        if off {
            kept.mails_off.insert(user.clone());
        } else {
            kept.mails_off.remove(user);
        }
        Ok(())
    }
}

/// A mailer that keeps what it was given, and refuses the addresses it is told to.
#[derive(Default)]
pub struct MemoryMailer {
    /// Every mail sent, in order.
    pub sent: Mutex<Vec<Mail>>,
    /// Addresses the service refuses for good.
    pub refused: Mutex<BTreeSet<String>>,
    /// While set, every send fails as an unavailable service would.
    pub down: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(MailError::Unavailable("the mail service is down".into()));
        }
        if lock(&self.refused).contains(mail.to.as_str()) {
            return Err(MailError::Rejected(format!(
                "{} is refused",
                mail.to.as_str()
            )));
        }
        lock(&self.sent).push(mail.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_memory_registry_keeps_the_registry_contract() {
        crate::testing::connection_registry_contract(&super::MemoryConnectionRegistry::default())
            .await;
    }

    #[tokio::test]
    async fn the_memory_directory_keeps_the_directory_contract() {
        crate::testing::directory_contract(&super::MemoryDirectory::default()).await;
    }

    #[tokio::test]
    async fn the_memory_notifications_keep_the_notification_contract() {
        crate::testing::notification_store_contract(&super::MemoryNotifications::default()).await;
    }

    #[tokio::test]
    async fn the_memory_analytics_keep_the_analytics_contract() {
        crate::testing::analytics_store_contract(&super::MemoryAnalytics::default()).await;
    }

    #[tokio::test]
    async fn the_memory_store_keeps_the_cart_store_contract() {
        crate::testing::cart_store_contract(&super::MemoryCartStore::default()).await;
    }

    #[tokio::test]
    async fn the_memory_ledger_keeps_the_stock_ledger_contract() {
        let catalog = super::MemoryCatalog::default();
        crate::testing::stock_ledger_contract(&catalog, &catalog).await;
    }

    #[tokio::test]
    async fn the_memory_records_keep_the_idempotency_contract() {
        crate::testing::idempotency_contract(&super::MemoryIdempotency::default()).await;
    }

    #[tokio::test]
    async fn the_memory_catalog_keeps_the_catalog_contract() {
        crate::testing::catalog_contract(&super::MemoryCatalog::default()).await;
    }
}
