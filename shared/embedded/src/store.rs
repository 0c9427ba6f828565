//! `EmbeddedStore`: carts, the membership index and the catalog in one redb file.
//!
//! Reads go straight to a read transaction (redb's MVCC keeps them off the writer's path);
//! writes go through the group-committing writer thread (`crate::writer`).

use crate::writer::{self, Write};
use async_trait::async_trait;
use domain::ports::{CartStore, Catalog, StoreError, membership_delta};
use domain::{Cart, CartId, Item, ItemId, UserId};
use redb::{Database, MultimapTableDefinition, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// cart id -> 8-byte big-endian version, then the cart as JSON.
pub(crate) const CARTS: TableDefinition<&str, &[u8]> = TableDefinition::new("carts");
/// user id -> the ids of the carts they are a member of (the seed's `user_cart_sharing`).
pub(crate) const USER_CARTS: MultimapTableDefinition<&str, &str> = MultimapTableDefinition::new("user_cart_sharing");
/// item id -> the item as JSON.
pub(crate) const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");

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
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`. A store that a previous owner in this process is
    /// still closing is waited for briefly rather than refused.
    pub fn open(dir: &Path) -> Result<Self, OpenError> {
        std::fs::create_dir_all(dir).map_err(|source| OpenError::Directory { path: dir.to_owned(), source })?;
        let path = dir.join(FILE_NAME);
        let db = open_with_patience(&path).map_err(|source| OpenError::Database { path: path.clone(), source })?;
        let db = Arc::new(db);
        let writes = writer::spawn(db.clone()).map_err(OpenError::Writer)?;
        Ok(Self { db, writes })
    }

    async fn write<T>(&self, make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Write) -> Result<T, StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.writes.send(make(reply)).map_err(|_| StoreError::unavailable("the store's writer has stopped"))?;
        outcome.await.map_err(|_| StoreError::unavailable("the store's writer dropped the write"))?
    }

    fn read<T>(&self, read: impl FnOnce(&redb::ReadTransaction) -> Result<T, redb::Error>) -> Result<T, StoreError> {
        let txn = self.db.begin_read().map_err(StoreError::unavailable)?;
        read(&txn).map_err(StoreError::unavailable)
    }

    /// True when the catalog holds no item yet (a first start).
    pub fn catalog_is_empty(&self) -> Result<bool, StoreError> {
        self.read(|txn| Ok(txn.open_table(ITEMS)?.first()?.is_none()))
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
                txn.open_table(ITEMS)?;
                txn.open_multimap_table(USER_CARTS)?;
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

pub(crate) fn encode_cart(cart: &Cart) -> Vec<u8> {
    let mut bytes = cart.version.to_be_bytes().to_vec();
    // Our own plain types always serialize.
    serde_json::to_writer(&mut bytes, cart).unwrap_or_default();
    bytes
}

fn decode_cart(value: &[u8]) -> Result<Cart, redb::Error> {
    let json = value.get(8..).unwrap_or_default();
    serde_json::from_slice(json).map_err(|e| redb::Error::Corrupted(format!("undecodable cart: {e}")))
}

pub(crate) fn decode_item(value: &[u8]) -> Option<Item> {
    serde_json::from_slice(value).ok()
}

#[async_trait]
impl CartStore for EmbeddedStore {
    async fn load(&self, id: CartId) -> Result<Option<Cart>, StoreError> {
        let key = id.to_string();
        self.read(|txn| match txn.open_table(CARTS)?.get(key.as_str())? {
            Some(value) => decode_cart(value.value()).map(Some),
            None => Ok(None),
        })
    }

    async fn save(&self, previous: Option<&Cart>, next: &Cart) -> Result<(), StoreError> {
        let (joined, left) = membership_delta(previous, next);
        let expected = previous.map(|p| p.version);
        self.write(|reply| Write::SaveCart { expected, cart: Box::new(next.clone()), joined, left, reply }).await
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
        self.read(|txn| Ok(txn.open_table(ITEMS)?.get(id.as_str())?.and_then(|v| decode_item(v.value()))))
    }

    async fn list(&self, after: Option<&ItemId>, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.read(|txn| {
            let items = txn.open_table(ITEMS)?;
            let mut page = Vec::with_capacity(limit);
            let range = match after {
                Some(after) => items.range::<&str>((std::ops::Bound::Excluded(after.as_str()), std::ops::Bound::Unbounded))?,
                None => items.range::<&str>(..)?,
            };
            for entry in range.take(limit) {
                if let Some(item) = decode_item(entry?.1.value()) {
                    page.push(item);
                }
            }
            Ok(page)
        })
    }

    async fn set_stock(&self, id: &ItemId, stock: u32) -> Result<Option<Item>, StoreError> {
        self.write(|reply| Write::SetStock { id: id.clone(), stock, reply }).await
    }

    async fn put(&self, item: &Item) -> Result<(), StoreError> {
        self.write(|reply| Write::PutItem { item: Box::new(item.clone()), reply }).await
    }
}

#[cfg(test)]
mod tests;
