//! The connection registry on DynamoDB: one item per connection, keyed by `connectionId`, found
//! by user through the `byUser` index, and forgotten by DynamoDB's TTL when a `$disconnect`
//! never arrives. TTL deletion lags (up to days), so reads also drop expired items themselves.
//!
//! The cart a connection views is its `viewing` attribute, removed (not emptied) on unsubscribe
//! so that the sparse `byCart` index holds only viewers. That index is read eventually
//! consistent, as every global secondary index is: presence may lag a write by a moment, which
//! the pages' refresh absorbs.

use crate::attributes::{Item, n, number, s, string};
use crate::tables::{CONNECTION_TTL_ATTRIBUTE, CONNECTIONS_BY_CART, CONNECTIONS_BY_USER};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};
use domain::ports::StoreError;
use domain::{CartId, Connection, ConnectionId, ConnectionRegistry, UserId};

/// The registry in one DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoConnectionRegistry {
    client: Client,
    table: String,
}

impl DynamoConnectionRegistry {
    /// The registry in `table` (see [`crate::tables::create_connections_table`]).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl ConnectionRegistry for DynamoConnectionRegistry {
    async fn register(&self, connection: &Connection) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("connectionId", s(connection.connection_id.as_str()))
            .item("userId", s(connection.user_id.as_str()))
            .item("connectedAt", s(connection.connected_at.to_rfc3339()))
            .item("seenAt", s(connection.seen_at.to_rfc3339()))
            .item(
                CONNECTION_TTL_ATTRIBUTE,
                n(connection.expires_at.timestamp()),
            )
            .send()
            .await
            .map_err(crate::unavailable)?;
        Ok(())
    }

    async fn keep_open(
        &self,
        id: &ConnectionId,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let kept = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("connectionId", s(id.as_str()))
            // Only a registered connection: a message racing its `$disconnect` must not bring
            // it back (UpdateItem alone would create the item).
            .condition_expression("attribute_exists(connectionId)")
            .update_expression("SET #expires = :expires")
            .expression_attribute_names("#expires", CONNECTION_TTL_ATTRIBUTE)
            .expression_attribute_values(":expires", n(expires_at.timestamp()))
            .send()
            .await;
        Ok(crate::unless_condition_failed(kept)?.is_some())
    }

    async fn remove(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        let removed = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("connectionId", s(id.as_str()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(crate::unavailable)?;
        removed.attributes.as_ref().map(decode).transpose()
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("connectionId", s(id.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(crate::unavailable)?;
        let connection = found.item.as_ref().map(decode).transpose()?;
        Ok(connection.filter(|c| !c.is_expired(Utc::now())))
    }

    async fn connections_of(&self, user: &UserId) -> Result<Vec<Connection>, StoreError> {
        let now = Utc::now();
        self.query(CONNECTIONS_BY_USER, "userId", user.as_str(), now)
            .await
    }

    async fn view(
        &self,
        id: &ConnectionId,
        cart: Option<CartId>,
        now: DateTime<Utc>,
    ) -> Result<Option<Connection>, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("connectionId", s(id.as_str()))
            // Only a registered connection: UpdateItem alone would create the item.
            .condition_expression("attribute_exists(connectionId)")
            .expression_attribute_values(":seen", s(now.to_rfc3339()))
            .return_values(ReturnValue::AllOld);
        let update = match cart {
            Some(cart) => update
                .update_expression("SET seenAt = :seen, viewing = :cart")
                .expression_attribute_values(":cart", s(cart.to_string())),
            None => update.update_expression("SET seenAt = :seen REMOVE viewing"),
        };
        match crate::unless_condition_failed(update.send().await)? {
            Some(before) => before.attributes.as_ref().map(decode).transpose(),
            None => Ok(None),
        }
    }

    async fn leave(&self, id: &ConnectionId, cart: CartId) -> Result<bool, StoreError> {
        let left = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("connectionId", s(id.as_str()))
            .update_expression("REMOVE viewing")
            .condition_expression("viewing = :cart")
            .expression_attribute_values(":cart", s(cart.to_string()))
            .send()
            .await;
        Ok(crate::unless_condition_failed(left)?.is_some())
    }

    async fn viewers_of(&self, cart: CartId) -> Result<Vec<Connection>, StoreError> {
        self.query(
            CONNECTIONS_BY_CART,
            "viewing",
            &cart.to_string(),
            Utc::now(),
        )
        .await
    }
}

impl DynamoConnectionRegistry {
    /// The unexpired connections whose `attribute` is `value`, through `index`.
    async fn query(
        &self,
        index: &str,
        attribute: &str,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Connection>, StoreError> {
        let mut found = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#key = :value")
            .expression_attribute_names("#key", attribute)
            .expression_attribute_values(":value", s(value))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for item in page.map_err(crate::unavailable)?.items() {
                let connection = decode(item)?;
                if !connection.is_expired(now) {
                    found.push(connection);
                }
            }
        }
        Ok(found)
    }
}

fn decode(item: &Item) -> Result<Connection, StoreError> {
    let invalid =
        |what: &str| StoreError::unavailable(format!("a stored connection has an invalid {what}"));
    let connected_at = DateTime::parse_from_rfc3339(string(item, "connectedAt")?)
        .map_err(|_| invalid("connectedAt"))?
        .with_timezone(&Utc);
    Ok(Connection {
        connection_id: ConnectionId::parse(string(item, "connectionId")?)
            .map_err(|_| invalid("connectionId"))?,
        user_id: UserId::parse(string(item, "userId")?).map_err(|_| invalid("userId"))?,
        connected_at,
        expires_at: DateTime::from_timestamp(number(item, CONNECTION_TTL_ATTRIBUTE)?, 0)
            .ok_or_else(|| invalid(CONNECTION_TTL_ATTRIBUTE))?,
        viewing: item
            .get("viewing")
            .map(|v| {
                v.as_s()
                    .ok()
                    .and_then(|raw| CartId::parse(raw).ok())
                    .ok_or_else(|| invalid("viewing"))
            })
            .transpose()?,
        // Items written before presence have no `seenAt`, and live on until their TTL.
        seen_at: match item.get("seenAt") {
            Some(_) => DateTime::parse_from_rfc3339(string(item, "seenAt")?)
                .map_err(|_| invalid("seenAt"))?
                .with_timezone(&Utc),
            None => connected_at,
        },
    })
}
