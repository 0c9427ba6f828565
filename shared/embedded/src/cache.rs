//! What the store keeps in memory: the whole catalog, and the carts recently read or written.
//!
//! redb stays the source of truth; memory saves a read transaction and a JSON decode on every
//! request. The writer thread updates memory after each commit and before it answers the
//! writers, so a caller always reads its own writes.

use domain::{Cart, CartId, Item, ItemId};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The most carts kept in memory; past it, an arbitrary one is dropped (and re-read on demand).
const MAX_CACHED_CARTS: usize = 100_000;

/// Carts and items in memory.
#[derive(Default)]
pub(crate) struct Cache {
    carts: RwLock<HashMap<CartId, Arc<Cart>>>,
    items: RwLock<BTreeMap<ItemId, Item>>,
}

/// Every critical section below is a single map operation, so a panic elsewhere cannot leave a
/// map half-updated: a poisoned lock is safe to keep using.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Cache {
    /// The cart, if in memory.
    pub fn cart(&self, id: &CartId) -> Option<Arc<Cart>> {
        read(&self.carts).get(id).cloned()
    }

    /// Keeps `cart`, read from disk, unless memory already holds the same cart at its version or
    /// a newer one: a reader that loaded an old version must not hide a write committed
    /// meanwhile.
    pub fn offer(&self, cart: Arc<Cart>) {
        self.keep(cart, |held, offered| held >= offered);
    }

    /// Keeps `cart`, just committed, unless memory holds a newer version. A commit at the same
    /// version (its published events settled out of the record) replaces what memory holds.
    pub fn committed(&self, cart: Arc<Cart>) {
        self.keep(cart, |held, committed| held > committed);
    }

    fn keep(&self, cart: Arc<Cart>, held_wins: impl Fn(u64, u64) -> bool) {
        let mut carts = write(&self.carts);
        if carts
            .get(&cart.cart_id)
            .is_some_and(|held| held_wins(held.version, cart.version))
        {
            return;
        }
        if carts.len() >= MAX_CACHED_CARTS
            && let Some(victim) = carts.keys().next().copied()
        {
            carts.remove(&victim);
        }
        carts.insert(cart.cart_id, cart);
    }

    /// The item, if the catalog has it.
    pub fn item(&self, id: &ItemId) -> Option<Item> {
        read(&self.items).get(id).cloned()
    }

    /// Up to `limit` items after `after`, in id order.
    pub fn items_after(&self, after: Option<&ItemId>, limit: usize) -> Vec<Item> {
        let items = read(&self.items);
        let range = match after {
            Some(after) => items
                .range::<ItemId, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded)),
            None => items.range::<ItemId, _>(..),
        };
        range.take(limit).map(|(_, item)| item.clone()).collect()
    }

    /// True when the catalog is empty.
    pub fn has_no_items(&self) -> bool {
        read(&self.items).is_empty()
    }

    /// Adds or replaces an item.
    pub fn put_item(&self, item: Item) {
        write(&self.items).insert(item.item_id.clone(), item);
    }
}
