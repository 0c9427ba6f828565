//! The single writer thread and its group commit.
//!
//! redb allows one write transaction at a time and each commit waits for the disk, so a writer
//! per request would queue behind fsyncs. Instead every write is a message to one thread, which
//! drains whatever has queued up, applies each write in turn inside one transaction (each
//! compare-and-swap sees the ones before it) and commits once for the whole batch.

use crate::store::{CARTS, ITEMS, USER_CARTS, decode_item, encode_cart};
use domain::ports::StoreError;
use domain::{Cart, Item, ItemId, UserId};
use redb::{Database, ReadableTable};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most writes folded into one transaction.
const MAX_BATCH: usize = 512;

/// One write, with where to send its outcome.
pub(crate) enum Write {
    /// Save `cart` if the stored version is `expected` (`None`: no such cart yet).
    SaveCart {
        expected: Option<u64>,
        cart: Box<Cart>,
        joined: Vec<UserId>,
        left: Vec<UserId>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Set an item's stock.
    SetStock { id: ItemId, stock: u32, reply: oneshot::Sender<Result<Option<Item>, StoreError>> },
    /// Add or replace an item.
    PutItem { item: Box<Item>, reply: oneshot::Sender<Result<(), StoreError>> },
}

/// What one write decided, sent once its batch has committed.
enum Outcome {
    Saved(oneshot::Sender<Result<(), StoreError>>, Result<(), StoreError>),
    Stock(oneshot::Sender<Result<Option<Item>, StoreError>>, Option<Item>),
    Put(oneshot::Sender<Result<(), StoreError>>),
}

/// Starts the writer thread; it ends when every sender is dropped.
pub(crate) fn spawn(db: Arc<Database>) -> std::io::Result<mpsc::UnboundedSender<Write>> {
    let (sender, mut receiver) = mpsc::unbounded_channel();
    std::thread::Builder::new().name("store-writer".into()).spawn(move || {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = receiver.blocking_recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(write) => batch.push(write),
                    Err(_) => break,
                }
            }
            commit_batch(&db, &mut batch);
        }
    })?;
    Ok(sender)
}

fn commit_batch(db: &Database, batch: &mut Vec<Write>) {
    let writes: Vec<Write> = std::mem::take(batch);
    let mut replies = Vec::with_capacity(writes.len());
    let result = (|| -> Result<(), redb::Error> {
        let txn = db.begin_write()?;
        {
            let mut carts = txn.open_table(CARTS)?;
            let mut items = txn.open_table(ITEMS)?;
            let mut user_carts = txn.open_multimap_table(USER_CARTS)?;
            for write in writes {
                replies.push(match write {
                    Write::SaveCart { expected, cart, joined, left, reply } => {
                        let id = cart.cart_id.to_string();
                        let stored = carts.get(id.as_str())?.map(|v| stored_version(v.value()));
                        if stored != expected {
                            Outcome::Saved(reply, Err(StoreError::Conflict { current: stored }))
                        } else {
                            carts.insert(id.as_str(), encode_cart(&cart).as_slice())?;
                            for user in &joined {
                                user_carts.insert(user.as_str(), id.as_str())?;
                            }
                            for user in &left {
                                user_carts.remove(user.as_str(), id.as_str())?;
                            }
                            Outcome::Saved(reply, Ok(()))
                        }
                    }
                    Write::SetStock { id, stock, reply } => {
                        let current = items.get(id.as_str())?.and_then(|v| decode_item(v.value()));
                        let updated = current.map(|mut item| {
                            item.stock = stock;
                            item
                        });
                        if let Some(item) = &updated {
                            items.insert(id.as_str(), serde_json::to_vec(item).unwrap_or_default().as_slice())?;
                        }
                        Outcome::Stock(reply, updated)
                    }
                    Write::PutItem { item, reply } => {
                        items.insert(item.item_id.as_str(), serde_json::to_vec(&item).unwrap_or_default().as_slice())?;
                        Outcome::Put(reply)
                    }
                });
            }
        }
        txn.commit()?;
        Ok(())
    })();
    match result {
        Ok(()) => replies.into_iter().for_each(send_outcome),
        Err(e) => {
            // Nothing in the batch is durable: every writer hears so, including any whose
            // reply was already decided (those not yet decided drop their sender, which the
            // caller reads as unavailable too).
            tracing::error!(error = %e, "store batch failed to commit");
            let e = Arc::new(e);
            for outcome in replies {
                let failed = || StoreError::unavailable(SharedError(e.clone()));
                match outcome {
                    Outcome::Saved(reply, _) | Outcome::Put(reply) => drop(reply.send(Err(failed()))),
                    Outcome::Stock(reply, _) => drop(reply.send(Err(failed()))),
                }
            }
        }
    }
}

fn send_outcome(outcome: Outcome) {
    // A caller that gave up waiting has dropped its receiver; nothing to tell it.
    match outcome {
        Outcome::Saved(reply, result) => drop(reply.send(result)),
        Outcome::Stock(reply, item) => drop(reply.send(Ok(item))),
        Outcome::Put(reply) => drop(reply.send(Ok(()))),
    }
}

/// The version prefix of a stored cart, read without decoding the rest.
pub(crate) fn stored_version(value: &[u8]) -> u64 {
    value.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0)
}

/// One commit failure shared by every writer of its batch.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct SharedError(Arc<redb::Error>);
