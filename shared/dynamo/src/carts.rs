//! The cart store on DynamoDB: one item per cart in the carts table (the cart as JSON in `body`,
//! with `version` beside it for the condition), and one item per (user, cart) in the membership
//! table, the seed's `user_cart_sharing`, which answers "my carts".
//!
//! The cart's unpublished events (the transactional outbox) ride in `body` with it; while it has
//! any, the item also carries `unpublishedShard`, the key of the sparse `unpublished` index the
//! relay scans.
//!
//! Every write is conditional on the version it read. A write that changes membership puts the
//! cart and the membership items in one transaction, so the index never disagrees with the
//! carts; one that does not is a single conditional put.

use crate::attributes::{Item, n, number, s, string};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use domain::cart::MAX_USERS_PER_SHARE;
use domain::ports::{CartStore, StoreError, membership_delta};
use domain::{Cart, CartId, UserId};

/// DynamoDB's limit on the writes in one transaction.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

// A share, the largest membership change, must fit one transaction with its cart.
const _: () = assert!(MAX_USERS_PER_SHARE < MAX_TRANSACTION_ITEMS);

/// Carts and their membership index in two DynamoDB tables.
#[derive(Clone, Debug)]
pub struct DynamoCartStore {
    client: Client,
    carts: String,
    memberships: String,
}

impl DynamoCartStore {
    /// The store in `carts` and `memberships` (see [`crate::tables::create_cart_tables`]).
    pub fn new(client: Client, carts: impl Into<String>, memberships: impl Into<String>) -> Self {
        Self {
            client,
            carts: carts.into(),
            memberships: memberships.into(),
        }
    }

    /// The put of `next`, conditional on the stored cart being `previous`.
    fn conditional_put(&self, previous: Option<&Cart>, next: &Cart) -> Result<Put, StoreError> {
        let body = serde_json::to_string(next).map_err(StoreError::unavailable)?;
        let mut put = Put::builder()
            .table_name(&self.carts)
            .item("cartId", s(next.cart_id.to_string()))
            .item("version", n(next.version))
            .item("ownerId", s(next.owner_id.as_str()))
            .item("body", s(body))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if !next.unpublished.is_empty() {
            // Only a record with unpublished events carries the key of the sparse index the
            // relay scans; a put replaces the whole item, so settling them drops it.
            put = put.item(UNPUBLISHED_SHARD, s(shard_of(next.cart_id)));
        }
        let put = match previous {
            None => put.condition_expression("attribute_not_exists(cartId)"),
            Some(previous) => put
                .condition_expression("version = :read")
                .expression_attribute_values(":read", n(previous.version)),
        };
        put.build().map_err(StoreError::unavailable)
    }

    fn membership_key(
        &self,
        user: &UserId,
        cart: CartId,
    ) -> [(String, aws_sdk_dynamodb::types::AttributeValue); 2] {
        [
            ("userId".to_owned(), s(user.as_str())),
            ("cartId".to_owned(), s(cart.to_string())),
        ]
    }
}

#[async_trait]
impl CartStore for DynamoCartStore {
    async fn load(&self, id: CartId) -> Result<Option<Cart>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.carts)
            .key("cartId", s(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(crate::unavailable)?;
        found.item.as_ref().map(decode).transpose()
    }

    async fn save(&self, previous: Option<&Cart>, next: &Cart) -> Result<(), StoreError> {
        let put = self.conditional_put(previous, next)?;
        let (joined, left) = membership_delta(previous, next);
        if joined.is_empty() && left.is_empty() {
            // The same put on its own: half the write capacity of a transaction.
            return self
                .client
                .put_item()
                .table_name(put.table_name)
                .set_item(Some(put.item))
                .set_condition_expression(put.condition_expression)
                .set_expression_attribute_values(put.expression_attribute_values)
                .set_return_values_on_condition_check_failure(
                    put.return_values_on_condition_check_failure,
                )
                .send()
                .await
                .map(|_| ())
                .map_err(put_conflict);
        }
        let mut writes = vec![TransactWriteItem::builder().put(put).build()];
        for user in &joined {
            let mut index = Put::builder().table_name(&self.memberships);
            for (name, value) in self.membership_key(user, next.cart_id) {
                index = index.item(name, value);
            }
            writes.push(
                TransactWriteItem::builder()
                    .put(index.build().map_err(StoreError::unavailable)?)
                    .build(),
            );
        }
        for user in &left {
            let mut index = Delete::builder().table_name(&self.memberships);
            for (name, value) in self.membership_key(user, next.cart_id) {
                index = index.key(name, value);
            }
            writes.push(
                TransactWriteItem::builder()
                    .delete(index.build().map_err(StoreError::unavailable)?)
                    .build(),
            );
        }
        if writes.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::unavailable(format!(
                "{} membership changes in one write; DynamoDB takes {MAX_TRANSACTION_ITEMS} writes per transaction",
                writes.len() - 1
            )));
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
            .map(|_| ())
            .map_err(transaction_conflict)
    }

    async fn carts_with_unpublished(&self) -> Result<Vec<CartId>, StoreError> {
        let mut carts = Vec::new();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.carts)
            .index_name(crate::tables::CARTS_UNPUBLISHED)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for item in page.map_err(crate::unavailable)?.items() {
                carts.push(cart_id_in(item)?);
            }
        }
        Ok(carts)
    }

    async fn carts_of(&self, user: &UserId) -> Result<Vec<CartId>, StoreError> {
        let mut carts = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.memberships)
            .key_condition_expression("userId = :user")
            .expression_attribute_values(":user", s(user.as_str()))
            .projection_expression("cartId")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for item in page.map_err(crate::unavailable)?.items() {
                carts.push(cart_id_in(item)?);
            }
        }
        Ok(carts)
    }
}

/// The attribute keying the carts table's sparse index of records with unpublished events.
pub(crate) const UNPUBLISHED_SHARD: &str = "unpublishedShard";

/// The index key of a cart's record: one of 16 values, so the index's writes spread over
/// partitions rather than all landing on one.
fn shard_of(cart: CartId) -> String {
    let id = cart.to_string();
    id[id.len() - 1..].to_owned()
}

/// The `cartId` of an item of either table.
fn cart_id_in(item: &Item) -> Result<CartId, StoreError> {
    let id = string(item, "cartId")?;
    CartId::parse(id)
        .map_err(|_| StoreError::unavailable(format!("an item names an invalid cart id {id:?}")))
}

fn decode(item: &Item) -> Result<Cart, StoreError> {
    serde_json::from_str(string(item, "body")?).map_err(StoreError::unavailable)
}

/// The stored version in an item DynamoDB returned with a failed condition, if it did.
fn version_in(item: Option<&Item>) -> Option<u64> {
    item.and_then(|item| number(item, "version").ok())
        .and_then(|v| u64::try_from(v).ok())
}

/// A lost condition is a conflict (with the stored version, which DynamoDB returns with it);
/// anything else is the store being unavailable.
fn put_conflict(e: SdkError<PutItemError>) -> StoreError {
    match e.as_service_error() {
        Some(PutItemError::ConditionalCheckFailedException(failed)) => StoreError::Conflict {
            current: version_in(failed.item()),
        },
        _ => crate::unavailable(e),
    }
}

/// A transaction cancelled because the cart's condition failed, or because another
/// transaction held the cart at that moment, is a conflict: the caller re-reads and retries
/// (or answers 409). Anything else is the store being unavailable.
fn transaction_conflict(e: SdkError<TransactWriteItemsError>) -> StoreError {
    if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        e.as_service_error()
    {
        // Reasons come in the order of the writes; the cart's put is the first.
        let cart = cancelled.cancellation_reasons().first();
        if let Some(reason) = cart
            && matches!(
                reason.code(),
                Some("ConditionalCheckFailed" | "TransactionConflict")
            )
        {
            return StoreError::Conflict {
                current: version_in(reason.item()),
            };
        }
    }
    crate::unavailable(e)
}
