//! The cart store on Keyspaces: one `carts` row per cart, written only by lightweight
//! transactions on its version, and the seed's `user_cart_sharing` as the index of members.
//!
//! Cassandra has no transaction across partitions, so the index cannot change in the same write
//! as the cart. The order of the writes keeps the index a superset of every cart's members:
//! joiners are indexed before the cart's write and leavers removed after it. A conflict takes
//! back the joiners it indexed unless the stored cart has them. A stale extra entry is harmless
//! (the service checks the cart's own members before it lists a cart); a missing one would hide
//! a cart, and only a concurrent writer adding the same user between our re-read and our take-back
//! could cause one.

use crate::applied::Lwt;
use crate::rows::{CartRow, cart_values, uuid, version};
use crate::session::{Keyspace, Statement};
use crate::unavailable;
use async_trait::async_trait;
use domain::ports::{CartStore, StoreError, membership_delta};
use domain::unpublished::PendingEvent;
use domain::{Cart, CartId, UserId};
use futures_util::{StreamExt, future};
use scylla::value::{CqlTimestamp, CqlValue};

/// How many partitions the relay's list is spread over: Keyspaces serves each partition up to
/// 1,000 writes per second ("Quotas for Amazon Keyspaces (for Apache Cassandra)"), and every
/// change writes one entry.
const UNPUBLISHED_SHARDS: i32 = 16;

/// How many times a save lists its event for the relay before leaving it to the service's
/// publish (the change itself has landed by then).
const LISTING_ATTEMPTS: u32 = 3;

/// How long after its entry a save may still land: far past the functions' timeouts.
const SAVE_DEADLINE_MS: i64 = 5 * 60 * 1000;

/// How a conditional write of a cart ended.
enum Written {
    Applied,
    /// Another writer's version stands; `current` when the store said which.
    Lost {
        current: Option<u64>,
    },
}

/// The shard of the relay's list that holds `cart`'s entries.
fn shard_of(cart: CartId) -> i32 {
    let id = uuid(cart);
    i32::from(id.as_bytes()[15]) % UNPUBLISHED_SHARDS
}

/// A cart id read back from a `uuid` column.
fn cart_id(id: uuid::Uuid) -> Result<CartId, StoreError> {
    CartId::parse(&id.hyphenated().to_string()).map_err(|e| unavailable(e.to_string()))
}

/// Carts and their membership index in a keyspace.
#[derive(Clone, Debug)]
pub struct KeyspacesCartStore {
    keyspace: Keyspace,
}

impl KeyspacesCartStore {
    /// The store in `keyspace`'s `carts` and `user_cart_sharing` tables.
    pub fn new(keyspace: Keyspace) -> Self {
        Self { keyspace }
    }

    async fn index(&self, users: &[UserId], cart: CartId, join: bool) -> Result<(), StoreError> {
        if users.is_empty() {
            return Ok(());
        }
        let statement = if join {
            self.keyspace.prepared(Statement::AddMembership).await?
        } else {
            self.keyspace.prepared(Statement::RemoveMembership).await?
        };
        let writes = users.iter().map(|user| {
            self.keyspace
                .session
                .execute_unpaged(statement, (user.as_str(), uuid(cart)))
        });
        for result in future::join_all(writes).await {
            result.map_err(unavailable)?;
        }
        Ok(())
    }

    /// Lists each event `next` holds that `previous` did not (the one its change adds) where
    /// the relay looks, so a writer that dies after its write leaves its event findable.
    async fn list_unpublished(
        &self,
        previous: Option<&Cart>,
        next: &Cart,
    ) -> Result<(), StoreError> {
        let new: Vec<&PendingEvent> = next
            .unpublished
            .iter()
            .filter(|pending| {
                !previous.is_some_and(|p| p.unpublished.holds_event(pending.event_id))
            })
            .collect();
        // A settle adds no event, and needs no statement prepared for it.
        if new.is_empty() {
            return Ok(());
        }
        let now = CqlTimestamp(chrono::Utc::now().timestamp_millis());
        let statement = self.keyspace.prepared(Statement::AddUnpublished).await?;
        let writes = new.into_iter().map(|pending| {
            self.keyspace.session.execute_unpaged(
                statement,
                (
                    shard_of(next.cart_id),
                    uuid(next.cart_id),
                    version(pending.version),
                    pending.event_id,
                    now,
                ),
            )
        });
        for result in future::join_all(writes).await {
            result.map_err(unavailable)?;
        }
        Ok(())
    }

    /// The cart's own conditional write: an insert for a new cart, an update on the version
    /// read for one that exists.
    async fn write(&self, previous: Option<&Cart>, next: &Cart) -> Result<Written, StoreError> {
        let mut values = cart_values(next);
        let statement = match previous {
            None => self.keyspace.prepared(Statement::InsertCart).await?,
            Some(read) => {
                values.push(CqlValue::BigInt(version(read.version)));
                self.keyspace.prepared(Statement::UpdateCart).await?
            }
        };
        let result = self
            .keyspace
            .session
            .execute_unpaged(statement, values)
            .await
            .map_err(unavailable)?;
        let outcome = Lwt::read(result).map_err(unavailable)?;
        Ok(if outcome.applied() {
            Written::Applied
        } else {
            Written::Lost {
                current: outcome
                    .current_bigint("version")
                    .and_then(|v| u64::try_from(v).ok()),
            }
        })
    }

    /// After a write that landed while its relay entry did not: tries the entry again. The
    /// change stands either way, and so does its event in the record: the service publishes it
    /// next (to the topic, or the SQS outbox the relay drains), and a later change of the cart
    /// publishes the events its record still carries first. Only if all of those fail too does
    /// the event wait for that later change.
    async fn list_again(&self, previous: Option<&Cart>, next: &Cart, first: StoreError) {
        let mut error = first;
        for _ in 1..LISTING_ATTEMPTS {
            match self.list_unpublished(previous, next).await {
                Ok(()) => return,
                Err(e) => error = e,
            }
        }
        tracing::error!(error = %error, cart_id = %next.cart_id, version = next.version,
            "a saved change's event is not on the relay's list; it is published by this operation or the cart's next change");
    }

    /// After a lost write: un-index the joiners the stored cart does not have.
    async fn take_back(&self, joined: &[UserId], cart: CartId) {
        if joined.is_empty() {
            return;
        }
        let members = match self.load(cart).await {
            Ok(stored) => stored.map(|c| c.member_ids()).unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %e, cart_id = %cart, "left index entries of a lost write");
                return;
            }
        };
        let strangers: Vec<UserId> = joined
            .iter()
            .filter(|u| !members.contains(u))
            .cloned()
            .collect();
        if let Err(e) = self.index(&strangers, cart, false).await {
            tracing::warn!(error = %e, cart_id = %cart, "left index entries of a lost write");
        }
    }
}

#[async_trait]
impl CartStore for KeyspacesCartStore {
    async fn load(&self, id: CartId) -> Result<Option<Cart>, StoreError> {
        let result = self
            .keyspace
            .session
            .execute_unpaged(
                self.keyspace.prepared(Statement::LoadCart).await?,
                (uuid(id),),
            )
            .await
            .map_err(unavailable)?;
        let rows = result.into_rows_result().map_err(unavailable)?;
        let row = rows.maybe_first_row::<CartRow>().map_err(unavailable)?;
        row.map(|r| r.into_cart().map_err(unavailable)).transpose()
    }

    async fn save(&self, previous: Option<&Cart>, next: &Cart) -> Result<(), StoreError> {
        let (joined, left) = membership_delta(previous, next);
        // Joiners go before the transaction, which cannot write another partition: the index
        // must hold a member the moment the cart does.
        self.index(&joined, next.cart_id, true).await?;
        // The relay's entry goes with the transaction, not before it: both are sent at once
        // (once a process has prepared the entry's statement), so a writer that dies waiting
        // leaves both landed. An entry whose transaction lost is tidied by the relay, as one
        // written before it was.
        let (listed, written) = future::join(
            self.list_unpublished(previous, next),
            self.write(previous, next),
        )
        .await;
        if let Written::Lost { current } = written? {
            self.take_back(&joined, next.cart_id).await;
            return Err(StoreError::Conflict { current });
        }
        if let Err(e) = listed {
            self.list_again(previous, next, e).await;
        }
        if let Err(e) = self.index(&left, next.cart_id, false).await {
            // The change is written; an entry left behind only lists a cart its user is no
            // longer in, and the service checks membership before showing it.
            tracing::warn!(error = %e, cart_id = %next.cart_id, "left stale index entries");
        }
        Ok(())
    }

    async fn carts_with_unpublished(&self) -> Result<Vec<CartId>, StoreError> {
        let statement = self.keyspace.prepared(Statement::UnpublishedShard).await?;
        let mut carts = Vec::new();
        for shard in 0..UNPUBLISHED_SHARDS {
            let pager = self
                .keyspace
                .session
                .execute_iter(statement.clone(), (shard,))
                .await
                .map_err(unavailable)?;
            let mut rows = pager.rows_stream::<(uuid::Uuid,)>().map_err(unavailable)?;
            while let Some(row) = rows.next().await {
                let id = cart_id(row.map_err(unavailable)?.0)?;
                // A shard's rows come sorted by cart id (its first clustering column), so a
                // cart's entries are next to one another.
                if carts.last() != Some(&id) {
                    carts.push(id);
                }
            }
        }
        Ok(carts)
    }

    /// Deletes the entries of the relay's list for cart `id` that no longer stand for an
    /// unpublished event: the cart holds no event with that id, and either the cart has reached
    /// the entry's version (the event was published, or another writer's won the version) or
    /// the entry is older than any save can take (its change never landed).
    async fn tidy_unpublished(&self, id: CartId) -> Result<(), StoreError> {
        let cart = self.load(id).await?;
        let shard = shard_of(id);
        let pager = self
            .keyspace
            .session
            .execute_iter(
                self.keyspace
                    .prepared(Statement::UnpublishedOfCart)
                    .await?
                    .clone(),
                (shard, uuid(id)),
            )
            .await
            .map_err(unavailable)?;
        let mut rows = pager
            .rows_stream::<(i64, uuid::Uuid, CqlTimestamp)>()
            .map_err(unavailable)?;
        let abandoned_before = chrono::Utc::now().timestamp_millis() - SAVE_DEADLINE_MS;
        let remove = self.keyspace.prepared(Statement::RemoveUnpublished).await?;
        while let Some(row) = rows.next().await {
            let (entry_version, event_id, written_at) = row.map_err(unavailable)?;
            let stale = match &cart {
                Some(cart) if cart.unpublished.holds_event(event_id) => false,
                Some(cart) => {
                    version(cart.version) >= entry_version || written_at.0 < abandoned_before
                }
                None => written_at.0 < abandoned_before,
            };
            if stale {
                self.keyspace
                    .session
                    .execute_unpaged(remove, (shard, uuid(id), entry_version, event_id))
                    .await
                    .map_err(unavailable)?;
            }
        }
        Ok(())
    }

    async fn carts_of(&self, user: &UserId) -> Result<Vec<CartId>, StoreError> {
        let pager = self
            .keyspace
            .session
            .execute_iter(
                self.keyspace.prepared(Statement::CartsOf).await?.clone(),
                (user.as_str(),),
            )
            .await
            .map_err(unavailable)?;
        let mut rows = pager.rows_stream::<(uuid::Uuid,)>().map_err(unavailable)?;
        let mut carts = Vec::new();
        while let Some(row) = rows.next().await {
            let (id,) = row.map_err(unavailable)?;
            carts.push(cart_id(id)?);
        }
        Ok(carts)
    }
}
