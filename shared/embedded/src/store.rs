//! `EmbeddedStore`: carts, the membership index and the catalog in one redb file.
//!
//! Reads are served from memory (`crate::cache`), falling back to a read transaction for carts
//! not held there; writes go through the group-committing writer thread (`crate::writer`).

use crate::cache::Cache;
use crate::writer::{self, Write};
use async_trait::async_trait;
use domain::inventory::{StockLedger, Take};
use domain::ports::{CartStore, Catalog, StoreError, membership_delta};
use domain::{Cart, CartId, Item, ItemId, UserId};
use redb::{Database, MultimapTableDefinition, ReadableDatabase, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// cart id -> 8-byte big-endian version, then the cart in postcard (compact, and quick to write:
/// smaller values dirty fewer pages per commit).
pub(crate) const CARTS: TableDefinition<&str, &[u8]> = TableDefinition::new("carts");
/// cart id -> nothing: the carts whose record holds unpublished events, kept in the same
/// transaction as the cart, for the relay.
pub(crate) const UNPUBLISHED: TableDefinition<&str, ()> = TableDefinition::new("unpublished");
/// user id -> the ids of the carts they are a member of (the seed's `user_cart_sharing`).
pub(crate) const USER_CARTS: MultimapTableDefinition<&str, &str> =
    MultimapTableDefinition::new("user_cart_sharing");
/// connection id -> the connection in postcard.
pub(crate) const CONNECTIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("connections");
/// user id -> the ids of their open connections.
pub(crate) const USER_CONNECTIONS: MultimapTableDefinition<&str, &str> =
    MultimapTableDefinition::new("user_connections");
/// item id -> the item as JSON.
pub(crate) const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
/// "cart id/item id" -> the quantity the cart's checkout took from that item's stock.
pub(crate) const STOCK_TAKEN: TableDefinition<&str, u32> = TableDefinition::new("stock_taken");

/// user id -> the user's profile as JSON (see `directory`).
pub(crate) const PROFILES: TableDefinition<&str, &[u8]> = TableDefinition::new("profiles");

/// `event/<id>`, `shared/<cart id>`, `funnel/<day>`, `item/<day>/<item id>` -> analytics'
/// marks and counts (see `analytics`).
pub(crate) const ANALYTICS: TableDefinition<&str, &[u8]> = TableDefinition::new("analytics");

/// `n/<user>/<time>/<event id>`, `rate/<user>/<hour>`, `off/<user>` -> notifications, mail
/// counts and settings (see `notifications`).
pub(crate) const NOTIFICATIONS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("notifications");

/// the caller's idempotency key -> its record in postcard.
pub(crate) const IDEMPOTENCY: TableDefinition<&str, &[u8]> = TableDefinition::new("idempotency");

/// The file name inside the data directory.
const FILE_NAME: &str = "carts.redb";

/// The store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The directory could not be created.
    #[error("cannot create the data directory {path}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// redb refused the file (held by another process, or corrupt).
    #[error("cannot open the store {path}")]
    Database {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: redb::Error,
    },
    /// The writer thread could not start.
    #[error("cannot start the store's writer thread")]
    Writer(#[source] std::io::Error),
}

/// Carts and catalog, persisted under one directory.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    writes: mpsc::UnboundedSender<Write>,
    cache: Arc<Cache>,
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`. A store that a previous owner in this process is
    /// still closing is waited for briefly rather than refused.
    pub fn open(dir: &Path) -> Result<Self, OpenError> {
        std::fs::create_dir_all(dir).map_err(|source| OpenError::Directory {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(FILE_NAME);
        let db = open_with_patience(&path).map_err(|source| OpenError::Database {
            path: path.clone(),
            source,
        })?;
        let db = Arc::new(db);
        let cache = Arc::new(Cache::default());
        let items = load_catalog(&db).map_err(|source| OpenError::Database {
            path: path.clone(),
            source,
        })?;
        items.into_iter().for_each(|item| cache.put_item(item));
        let writes = writer::spawn(db.clone(), cache.clone()).map_err(OpenError::Writer)?;
        Ok(Self { db, writes, cache })
    }

    pub(crate) async fn write<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Write,
    ) -> Result<T, StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.writes
            .send(make(reply))
            .map_err(|_| StoreError::unavailable("the store's writer has stopped"))?;
        outcome
            .await
            .map_err(|_| StoreError::unavailable("the store's writer dropped the write"))?
    }

    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(&redb::ReadTransaction) -> Result<T, redb::Error>,
    ) -> Result<T, StoreError> {
        let txn = self.db.begin_read().map_err(StoreError::unavailable)?;
        read(&txn).map_err(StoreError::unavailable)
    }

    /// True when the catalog holds no item yet (a first start).
    pub fn catalog_is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.cache.has_no_items())
    }
}

/// Creates the tables up front so a read never meets a missing one, retrying for up to two
/// seconds while another handle in this process still holds the file.
fn open_with_patience(path: &Path) -> Result<Database, redb::Error> {
    let mut waited = Duration::ZERO;
    loop {
        match Database::create(path) {
            Ok(db) => {
                let txn = db.begin_write()?;
                txn.open_table(CARTS)?;
                txn.open_table(UNPUBLISHED)?;
                txn.open_table(ITEMS)?;
                txn.open_table(STOCK_TAKEN)?;
                txn.open_multimap_table(USER_CARTS)?;
                txn.open_table(ANALYTICS)?;
                txn.open_table(PROFILES)?;
                txn.open_table(NOTIFICATIONS)?;
                // Connections belonged to sockets of an earlier process; none survives a restart.
                txn.delete_table(CONNECTIONS)?;
                txn.delete_multimap_table(USER_CONNECTIONS)?;
                txn.open_table(CONNECTIONS)?;
                txn.open_multimap_table(USER_CONNECTIONS)?;
                // Records past their day, and claims of requests that died with that process.
                crate::idempotency::sweep(&mut txn.open_table(IDEMPOTENCY)?, chrono::Utc::now())?;
                txn.commit()?;
                return Ok(db);
            }
            Err(redb::DatabaseError::DatabaseAlreadyOpen) if waited < Duration::from_secs(2) => {
                std::thread::sleep(Duration::from_millis(20));
                waited += Duration::from_millis(20);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Every item on disk; the catalog is small enough to hold in memory whole.
fn load_catalog(db: &Database) -> Result<Vec<Item>, redb::Error> {
    let txn = db.begin_read()?;
    let mut items = Vec::new();
    for entry in txn.open_table(ITEMS)?.range::<&str>(..)? {
        if let Some(item) = decode_item(entry?.1.value()) {
            items.push(item);
        }
    }
    Ok(items)
}

fn encode_cart(cart: &Cart) -> Vec<u8> {
    // Our own plain types always serialize.
    postcard::to_extend(cart, cart.version.to_be_bytes().to_vec()).unwrap_or_default()
}

fn decode_cart(value: &[u8]) -> Result<Cart, redb::Error> {
    let body = value.get(8..).unwrap_or_default();
    earlier::decode(body).map_err(|e| redb::Error::Corrupted(format!("undecodable cart: {e}")))
}

fn decode_item(value: &[u8]) -> Option<Item> {
    serde_json::from_slice(value).ok()
}

#[async_trait]
impl CartStore for EmbeddedStore {
    async fn load(&self, id: CartId) -> Result<Option<Cart>, StoreError> {
        if let Some(cart) = self.cache.cart(&id) {
            return Ok(Some(Cart::clone(&cart)));
        }
        let key = id.to_string();
        let stored = self.read(|txn| match txn.open_table(CARTS)?.get(key.as_str())? {
            Some(value) => decode_cart(value.value()).map(Some),
            None => Ok(None),
        })?;
        if let Some(cart) = &stored {
            self.cache.offer(Arc::new(cart.clone()));
        }
        Ok(stored)
    }

    async fn save(&self, previous: Option<&Cart>, next: &Cart) -> Result<(), StoreError> {
        let (joined, left) = membership_delta(previous, next);
        let expected = previous.map(|p| p.version);
        let (cart, bytes) = (Arc::new(next.clone()), encode_cart(next));
        self.write(|reply| Write::SaveCart {
            expected,
            cart,
            bytes,
            joined,
            left,
            reply,
        })
        .await
    }

    async fn carts_with_unpublished(&self) -> Result<Vec<CartId>, StoreError> {
        self.read(|txn| {
            let mut ids = Vec::new();
            for entry in txn.open_table(UNPUBLISHED)?.range::<&str>(..)? {
                if let Ok(id) = CartId::parse(entry?.0.value()) {
                    ids.push(id);
                }
            }
            Ok(ids)
        })
    }

    async fn carts_of(&self, user: &UserId) -> Result<Vec<CartId>, StoreError> {
        self.read(|txn| {
            let index = txn.open_multimap_table(USER_CARTS)?;
            let mut ids = Vec::new();
            for entry in index.get(user.as_str())? {
                if let Ok(id) = CartId::parse(entry?.value()) {
                    ids.push(id);
                }
            }
            Ok(ids)
        })
    }
}

#[async_trait]
impl Catalog for EmbeddedStore {
    async fn item(&self, id: &ItemId) -> Result<Option<Item>, StoreError> {
        Ok(self.cache.item(id))
    }

    async fn list(&self, after: Option<&ItemId>, limit: usize) -> Result<Vec<Item>, StoreError> {
        Ok(self.cache.items_after(after, limit))
    }

    async fn set_stock(&self, id: &ItemId, stock: u32) -> Result<Option<Item>, StoreError> {
        self.write(|reply| Write::SetStock {
            id: id.clone(),
            stock,
            reply,
        })
        .await
    }

    async fn put(&self, item: &Item) -> Result<(), StoreError> {
        self.write(|reply| Write::PutItem {
            item: item.clone(),
            reply,
        })
        .await
    }
}

#[async_trait]
impl StockLedger for EmbeddedStore {
    async fn take(&self, cart: CartId, item: &ItemId, quantity: u32) -> Result<Take, StoreError> {
        self.write(|reply| Write::TakeStock {
            cart,
            id: item.clone(),
            quantity,
            reply,
        })
        .await
    }
}

mod earlier;
#[cfg(test)]
mod tests;
