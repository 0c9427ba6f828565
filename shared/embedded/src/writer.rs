//! The single writer thread and its group commit.
//!
//! redb allows one write transaction at a time and each commit waits for the disk, so a writer
//! per request would queue behind fsyncs. Instead every write is a message to one thread, which
//! drains whatever has queued up, applies each write in turn inside one transaction (each
//! compare-and-swap sees the ones before it) and commits once for the whole batch. Encoding
//! happens on the callers' threads; this one only compares versions and copies bytes.

use crate::cache::Cache;
use crate::store::{
    ANALYTICS, CARTS, CONNECTIONS, IDEMPOTENCY, ITEMS, NOTIFICATIONS, PROFILES, STOCK_TAKEN,
    UNPUBLISHED, USER_CARTS, USER_CONNECTIONS,
};
use crate::{connections, idempotency};
use chrono::{DateTime, Utc};
use domain::idempotency::{Claim, RecordKey, StoredResponse};
use domain::inventory::Take;
use domain::ports::StoreError;
use domain::{Cart, CartId, Connection, ConnectionId, Item, ItemId, UserId};
use redb::{Database, ReadableTable};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most writes folded into one transaction.
const MAX_BATCH: usize = 512;

/// One write, with where to send its outcome.
pub(crate) enum Write {
    /// Save `cart` (already encoded as `bytes`) if the stored version is `expected` (`None`: no
    /// such cart yet), and move it in or out of its members' index entries.
    SaveCart {
        expected: Option<u64>,
        cart: Arc<Cart>,
        bytes: Vec<u8>,
        joined: Vec<UserId>,
        left: Vec<UserId>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Set an item's stock.
    SetStock {
        id: ItemId,
        stock: u32,
        reply: oneshot::Sender<Result<Option<Item>, StoreError>>,
    },
    /// Take a checkout's quantity from an item's stock, once per cart and item.
    TakeStock {
        cart: CartId,
        id: ItemId,
        quantity: u32,
        reply: oneshot::Sender<Result<Take, StoreError>>,
    },
    /// Add or replace an item.
    PutItem {
        item: Item,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Register a connection.
    PutConnection {
        connection: Connection,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Record what a connection views and when it was last seen, if it is still registered.
    ViewConnection {
        id: ConnectionId,
        cart: Option<CartId>,
        now: DateTime<Utc>,
        reply: oneshot::Sender<Result<Option<Connection>, StoreError>>,
    },
    /// Move a connection's expiry, if it is still registered.
    KeepConnectionOpen {
        id: ConnectionId,
        expires_at: DateTime<Utc>,
        reply: oneshot::Sender<Result<bool, StoreError>>,
    },
    /// Stop a connection viewing a cart, if it still does.
    LeaveCart {
        id: ConnectionId,
        cart: CartId,
        reply: oneshot::Sender<Result<bool, StoreError>>,
    },
    /// Forget a connection.
    RemoveConnection {
        id: ConnectionId,
        reply: oneshot::Sender<Result<Option<Connection>, StoreError>>,
    },
    /// Keep a user's profile, replacing what was kept.
    PutProfile {
        profile: domain::directory::Profile,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Count an event's tally unless it was counted already.
    RecordAnalytics {
        tally: domain::analytics::Tally,
        reply: oneshot::Sender<Result<bool, StoreError>>,
    },
    /// Record a member's notice unless it was recorded.
    RecordNotice {
        user: domain::UserId,
        notice: domain::notification::Notice,
        plan: domain::notification::Plan,
        now: DateTime<Utc>,
        reply: oneshot::Sender<Result<domain::notification::Recorded, StoreError>>,
    },
    /// Mark a notice's mailing, or change a member's mail setting.
    UpdateNotices {
        update: crate::notifications::NoticeUpdate,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Claim an idempotency key unless a live record holds it.
    ClaimKey {
        key: RecordKey,
        fingerprint: String,
        now: DateTime<Utc>,
        reply: oneshot::Sender<Result<Claim, StoreError>>,
    },
    /// Store the answer of a claimed key.
    CompleteKey {
        key: RecordKey,
        response: StoredResponse,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Give a claimed key up.
    ReleaseKey {
        key: RecordKey,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// What one write decided, made visible and sent once its batch has committed.
enum Outcome {
    Saved(oneshot::Sender<Result<(), StoreError>>, Option<Arc<Cart>>),
    Conflict(oneshot::Sender<Result<(), StoreError>>, Option<u64>),
    Stock(
        oneshot::Sender<Result<Option<Item>, StoreError>>,
        Option<Item>,
    ),
    Put(oneshot::Sender<Result<(), StoreError>>, Item),
    Took(
        oneshot::Sender<Result<Take, StoreError>>,
        Take,
        Option<Item>,
    ),
    Done(oneshot::Sender<Result<(), StoreError>>),
    /// A connection as it was before the write (`None`: unknown).
    Previous(
        oneshot::Sender<Result<Option<Connection>, StoreError>>,
        Option<Connection>,
    ),
    Claimed(oneshot::Sender<Result<Claim, StoreError>>, Claim),
    /// A yes or no: whether an analytics record counted, whether a connection left a cart.
    Decided(oneshot::Sender<Result<bool, StoreError>>, bool),
    /// What a notice's record found: new, or recorded before.
    Noticed(
        oneshot::Sender<Result<domain::notification::Recorded, StoreError>>,
        domain::notification::Recorded,
    ),
}

/// Starts the writer thread; it ends when every sender is dropped.
pub(crate) fn spawn(
    db: Arc<Database>,
    cache: Arc<Cache>,
) -> std::io::Result<mpsc::UnboundedSender<Write>> {
    let (sender, mut receiver) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while let Some(first) = receiver.blocking_recv() {
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match receiver.try_recv() {
                        Ok(write) => batch.push(write),
                        Err(_) => break,
                    }
                }
                commit_batch(&db, &cache, std::mem::take(&mut batch));
            }
        })?;
    Ok(sender)
}

fn commit_batch(db: &Database, cache: &Cache, writes: Vec<Write>) {
    let mut outcomes = Vec::with_capacity(writes.len());
    let mut writes = writes.into_iter();
    let result = apply(db, &mut writes, &mut outcomes);
    match result {
        Ok(()) => {
            for outcome in outcomes {
                publish(cache, outcome);
            }
        }
        Err(e) => {
            // Nothing in the batch is durable: every writer hears so, whether its outcome was
            // already decided or its write was never reached.
            tracing::error!(error = %e, "store batch failed to commit");
            let e = Arc::new(e);
            let failed = || StoreError::unavailable(SharedError(e.clone()));
            for outcome in outcomes {
                match outcome {
                    Outcome::Saved(reply, _)
                    | Outcome::Conflict(reply, _)
                    | Outcome::Put(reply, _)
                    | Outcome::Done(reply) => {
                        let _ = reply.send(Err(failed()));
                    }
                    Outcome::Stock(reply, _) => {
                        let _ = reply.send(Err(failed()));
                    }
                    Outcome::Took(reply, ..) => {
                        let _ = reply.send(Err(failed()));
                    }
                    Outcome::Previous(reply, _) => {
                        let _ = reply.send(Err(failed()));
                    }
                    Outcome::Claimed(reply, _) => {
                        let _ = reply.send(Err(failed()));
                    }
                    Outcome::Decided(reply, _) => {
                        let _ = reply.send(Err(failed()));
                    }
                    Outcome::Noticed(reply, _) => {
                        let _ = reply.send(Err(failed()));
                    }
                }
            }
            for write in writes {
                match write {
                    Write::SaveCart { reply, .. }
                    | Write::PutItem { reply, .. }
                    | Write::PutConnection { reply, .. }
                    | Write::PutProfile { reply, .. }
                    | Write::UpdateNotices { reply, .. }
                    | Write::CompleteKey { reply, .. }
                    | Write::ReleaseKey { reply, .. } => {
                        let _ = reply.send(Err(failed()));
                    }
                    Write::SetStock { reply, .. } => {
                        let _ = reply.send(Err(failed()));
                    }
                    Write::TakeStock { reply, .. } => {
                        let _ = reply.send(Err(failed()));
                    }
                    Write::RemoveConnection { reply, .. } | Write::ViewConnection { reply, .. } => {
                        let _ = reply.send(Err(failed()));
                    }
                    Write::ClaimKey { reply, .. } => {
                        let _ = reply.send(Err(failed()));
                    }
                    Write::RecordAnalytics { reply, .. }
                    | Write::LeaveCart { reply, .. }
                    | Write::KeepConnectionOpen { reply, .. } => {
                        let _ = reply.send(Err(failed()));
                    }
                    Write::RecordNotice { reply, .. } => {
                        let _ = reply.send(Err(failed()));
                    }
                }
            }
        }
    }
}

/// Applies every write in one transaction and commits it.
fn apply(
    db: &Database,
    writes: &mut impl Iterator<Item = Write>,
    outcomes: &mut Vec<Outcome>,
) -> Result<(), redb::Error> {
    let txn = db.begin_write()?;
    {
        let mut carts = txn.open_table(CARTS)?;
        let mut unpublished = txn.open_table(UNPUBLISHED)?;
        let mut items = txn.open_table(ITEMS)?;
        let mut taken = txn.open_table(STOCK_TAKEN)?;
        let mut user_carts = txn.open_multimap_table(USER_CARTS)?;
        let mut connections_table = txn.open_table(CONNECTIONS)?;
        let mut user_connections = txn.open_multimap_table(USER_CONNECTIONS)?;
        let mut keys = txn.open_table(IDEMPOTENCY)?;
        let mut analytics = txn.open_table(ANALYTICS)?;
        let mut profiles = txn.open_table(PROFILES)?;
        let mut notifications = txn.open_table(NOTIFICATIONS)?;
        for write in writes.by_ref() {
            outcomes.push(match write {
                Write::SaveCart {
                    expected,
                    cart,
                    bytes,
                    joined,
                    left,
                    reply,
                } => {
                    let id = cart.cart_id.to_string();
                    let stored = carts.get(id.as_str())?.map(|v| stored_version(v.value()));
                    if stored != expected {
                        Outcome::Conflict(reply, stored)
                    } else {
                        carts.insert(id.as_str(), bytes.as_slice())?;
                        if cart.unpublished.is_empty() {
                            unpublished.remove(id.as_str())?;
                        } else {
                            unpublished.insert(id.as_str(), ())?;
                        }
                        for user in &joined {
                            user_carts.insert(user.as_str(), id.as_str())?;
                        }
                        for user in &left {
                            user_carts.remove(user.as_str(), id.as_str())?;
                        }
                        Outcome::Saved(reply, Some(cart))
                    }
                }
                Write::SetStock { id, stock, reply } => {
                    let current: Option<Item> = items
                        .get(id.as_str())?
                        .and_then(|v| serde_json::from_slice(v.value()).ok());
                    let updated = current.map(|item| Item { stock, ..item });
                    if let Some(item) = &updated {
                        items.insert(id.as_str(), encode_item(item).as_slice())?;
                    }
                    Outcome::Stock(reply, updated)
                }
                Write::TakeStock {
                    cart,
                    id,
                    quantity,
                    reply,
                } => {
                    let current: Option<Item> = items
                        .get(id.as_str())?
                        .and_then(|v| serde_json::from_slice(v.value()).ok());
                    let key = format!("{cart}/{id}");
                    match current {
                        None => Outcome::Took(reply, Take::UnknownItem, None),
                        Some(_) if taken.get(key.as_str())?.is_some() => {
                            Outcome::Took(reply, Take::AlreadyTaken, None)
                        }
                        Some(item) if item.stock < quantity => Outcome::Took(
                            reply,
                            Take::Short {
                                available: item.stock,
                            },
                            None,
                        ),
                        Some(item) => {
                            let item = Item {
                                stock: item.stock - quantity,
                                ..item
                            };
                            items.insert(id.as_str(), encode_item(&item).as_slice())?;
                            taken.insert(key.as_str(), quantity)?;
                            let remaining = item.stock;
                            Outcome::Took(reply, Take::Taken { remaining }, Some(item))
                        }
                    }
                }
                Write::PutItem { item, reply } => {
                    items.insert(item.item_id.as_str(), encode_item(&item).as_slice())?;
                    Outcome::Put(reply, item)
                }
                Write::PutConnection { connection, reply } => {
                    let id = connection.connection_id.as_str();
                    connections_table.insert(id, connections::encode(&connection).as_slice())?;
                    user_connections.insert(connection.user_id.as_str(), id)?;
                    Outcome::Done(reply)
                }
                Write::ViewConnection {
                    id,
                    cart,
                    now,
                    reply,
                } => {
                    let before = connections_table
                        .get(id.as_str())?
                        .and_then(|v| connections::decode(v.value()));
                    if let Some(before) = &before {
                        let mut after = before.clone();
                        after.viewing = cart;
                        after.seen_at = now;
                        connections_table
                            .insert(id.as_str(), connections::encode(&after).as_slice())?;
                    }
                    Outcome::Previous(reply, before)
                }
                Write::KeepConnectionOpen {
                    id,
                    expires_at,
                    reply,
                } => {
                    let known = connections_table
                        .get(id.as_str())?
                        .and_then(|v| connections::decode(v.value()));
                    if let Some(mut connection) = known {
                        connection.expires_at = expires_at;
                        connections_table
                            .insert(id.as_str(), connections::encode(&connection).as_slice())?;
                        Outcome::Decided(reply, true)
                    } else {
                        Outcome::Decided(reply, false)
                    }
                }
                Write::LeaveCart { id, cart, reply } => {
                    let viewing = connections_table
                        .get(id.as_str())?
                        .and_then(|v| connections::decode(v.value()))
                        .filter(|c| c.viewing == Some(cart));
                    if let Some(mut connection) = viewing {
                        connection.viewing = None;
                        connections_table
                            .insert(id.as_str(), connections::encode(&connection).as_slice())?;
                        Outcome::Decided(reply, true)
                    } else {
                        Outcome::Decided(reply, false)
                    }
                }
                Write::RemoveConnection { id, reply } => {
                    let removed = connections_table
                        .remove(id.as_str())?
                        .and_then(|v| connections::decode(v.value()));
                    if let Some(connection) = &removed {
                        user_connections.remove(connection.user_id.as_str(), id.as_str())?;
                    }
                    Outcome::Previous(reply, removed)
                }
                Write::ClaimKey {
                    key,
                    fingerprint,
                    now,
                    reply,
                } => Outcome::Claimed(
                    reply,
                    idempotency::claim(&mut keys, &key, &fingerprint, now)?,
                ),
                Write::CompleteKey {
                    key,
                    response,
                    reply,
                } => {
                    idempotency::complete(&mut keys, &key, response)?;
                    Outcome::Done(reply)
                }
                Write::ReleaseKey { key, reply } => {
                    keys.remove(key.as_str())?;
                    Outcome::Done(reply)
                }
                Write::PutProfile { profile, reply } => {
                    let encoded = crate::directory::encode(&profile);
                    profiles.insert(profile.user_id.as_str(), encoded.as_slice())?;
                    Outcome::Done(reply)
                }
                Write::RecordAnalytics { tally, reply } => {
                    Outcome::Decided(reply, crate::analytics::record_in(&mut analytics, &tally)?)
                }
                Write::RecordNotice {
                    user,
                    notice,
                    plan,
                    now,
                    reply,
                } => Outcome::Noticed(
                    reply,
                    crate::notifications::record_in(&mut notifications, &user, &notice, plan, now)?,
                ),
                Write::UpdateNotices { update, reply } => {
                    crate::notifications::update_in(&mut notifications, update)?;
                    Outcome::Done(reply)
                }
            });
        }
    }
    txn.commit()?;
    Ok(())
}

/// Makes a committed write visible in memory, then tells its caller.
fn publish(cache: &Cache, outcome: Outcome) {
    // A caller that gave up waiting has dropped its receiver; nothing to tell it.
    match outcome {
        Outcome::Saved(reply, cart) => {
            if let Some(cart) = cart {
                cache.committed(cart);
            }
            let _ = reply.send(Ok(()));
        }
        Outcome::Conflict(reply, current) => {
            let _ = reply.send(Err(StoreError::Conflict { current }));
        }
        Outcome::Stock(reply, item) => {
            if let Some(item) = &item {
                cache.put_item(item.clone());
            }
            let _ = reply.send(Ok(item));
        }
        Outcome::Put(reply, item) => {
            cache.put_item(item);
            let _ = reply.send(Ok(()));
        }
        Outcome::Took(reply, take, item) => {
            if let Some(item) = item {
                cache.put_item(item);
            }
            let _ = reply.send(Ok(take));
        }
        Outcome::Done(reply) => {
            let _ = reply.send(Ok(()));
        }
        Outcome::Previous(reply, connection) => {
            let _ = reply.send(Ok(connection));
        }
        Outcome::Claimed(reply, claim) => {
            let _ = reply.send(Ok(claim));
        }
        Outcome::Decided(reply, counted) => {
            let _ = reply.send(Ok(counted));
        }
        Outcome::Noticed(reply, recorded) => {
            let _ = reply.send(Ok(recorded));
        }
    }
}

pub(crate) fn encode_item(item: &Item) -> Vec<u8> {
    // Our own plain types always serialize.
    serde_json::to_vec(item).unwrap_or_default()
}

/// The version prefix of a stored cart, read without decoding the rest.
pub(crate) fn stored_version(value: &[u8]) -> u64 {
    value
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

/// One commit failure shared by every writer of its batch.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct SharedError(Arc<redb::Error>);
