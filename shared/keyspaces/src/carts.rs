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
use domain::{Cart, CartId, UserId};
use futures_util::{StreamExt, future};
use scylla::value::CqlValue;

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
        self.index(&joined, next.cart_id, true).await?;
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
        if !outcome.applied() {
            self.take_back(&joined, next.cart_id).await;
            return Err(StoreError::Conflict {
                current: outcome
                    .current_bigint("version")
                    .and_then(|v| u64::try_from(v).ok()),
            });
        }
        if let Err(e) = self.index(&left, next.cart_id, false).await {
            // The change is written; an entry left behind only lists a cart its user is no
            // longer in, and the service checks membership before showing it.
            tracing::warn!(error = %e, cart_id = %next.cart_id, "left stale index entries");
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
            carts.push(
                CartId::parse(&id.hyphenated().to_string())
                    .map_err(|e| unavailable(e.to_string()))?,
            );
        }
        Ok(carts)
    }
}
