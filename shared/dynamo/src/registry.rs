//! The connection registry on DynamoDB: one item per connection, keyed by `connectionId`, found
//! by user through the `byUser` index, and forgotten by DynamoDB's TTL when a `$disconnect`
//! never arrives. TTL deletion lags (up to days), so reads also drop expired items themselves.

use crate::attributes::{Item, n, number, s, string};
use crate::tables::{CONNECTION_TTL_ATTRIBUTE, CONNECTIONS_BY_USER};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};
use domain::ports::StoreError;
use domain::{Connection, ConnectionId, ConnectionRegistry, UserId};

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
            .item(
                CONNECTION_TTL_ATTRIBUTE,
                n(connection.expires_at.timestamp()),
            )
            .send()
            .await
            .map_err(crate::unavailable)?;
        Ok(())
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
        let mut found = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(CONNECTIONS_BY_USER)
            .key_condition_expression("userId = :user")
            .expression_attribute_values(":user", s(user.as_str()))
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
    Ok(Connection {
        connection_id: ConnectionId::parse(string(item, "connectionId")?)
            .map_err(|_| invalid("connectionId"))?,
        user_id: UserId::parse(string(item, "userId")?).map_err(|_| invalid("userId"))?,
        connected_at: DateTime::parse_from_rfc3339(string(item, "connectedAt")?)
            .map_err(|_| invalid("connectedAt"))?
            .with_timezone(&Utc),
        expires_at: DateTime::from_timestamp(number(item, CONNECTION_TTL_ATTRIBUTE)?, 0)
            .ok_or_else(|| invalid(CONNECTION_TTL_ATTRIBUTE))?,
    })
}
