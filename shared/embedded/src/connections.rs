//! The connection registry on the embedded store. Connections die with the process that served
//! them, so the local stack clears them at start; they are persisted only so that the registry
//! behaves as the DynamoDB one does (a separate table, a TTL, an index by user). The viewers
//! of a cart are found by reading every connection: a local stack holds a few dozen.

use crate::store::{CONNECTIONS, EmbeddedStore, USER_CONNECTIONS};
use crate::writer::Write;
use async_trait::async_trait;
use domain::ports::StoreError;
use domain::{CartId, Connection, ConnectionId, ConnectionRegistry, UserId};
use redb::ReadableTable;

pub(crate) fn encode(connection: &Connection) -> Vec<u8> {
    // Our own plain types always serialize.
    postcard::to_allocvec(connection).unwrap_or_default()
}

pub(crate) fn decode(bytes: &[u8]) -> Option<Connection> {
    postcard::from_bytes(bytes).ok()
}

#[async_trait]
impl ConnectionRegistry for EmbeddedStore {
    async fn register(&self, connection: &Connection) -> Result<(), StoreError> {
        let connection = connection.clone();
        self.write(|reply| Write::PutConnection { connection, reply })
            .await
    }

    async fn keep_open(
        &self,
        id: &ConnectionId,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write(|reply| Write::KeepConnectionOpen {
            id,
            expires_at,
            reply,
        })
        .await
    }

    async fn remove(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        let id = id.clone();
        self.write(|reply| Write::RemoveConnection { id, reply })
            .await
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        let now = chrono::Utc::now();
        self.read(|txn| {
            let table = txn.open_table(CONNECTIONS)?;
            Ok(table
                .get(id.as_str())?
                .and_then(|v| decode(v.value()))
                .filter(|c| !c.is_expired(now)))
        })
    }

    async fn connections_of(&self, user: &UserId) -> Result<Vec<Connection>, StoreError> {
        let now = chrono::Utc::now();
        self.read(|txn| {
            let index = txn.open_multimap_table(USER_CONNECTIONS)?;
            let table = txn.open_table(CONNECTIONS)?;
            let mut found = Vec::new();
            for id in index.get(user.as_str())? {
                if let Some(connection) = table.get(id?.value())?.and_then(|v| decode(v.value()))
                    && !connection.is_expired(now)
                {
                    found.push(connection);
                }
            }
            Ok(found)
        })
    }

    async fn view(
        &self,
        id: &ConnectionId,
        cart: Option<CartId>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Connection>, StoreError> {
        let id = id.clone();
        self.write(|reply| Write::ViewConnection {
            id,
            cart,
            now,
            reply,
        })
        .await
    }

    async fn leave(&self, id: &ConnectionId, cart: CartId) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write(|reply| Write::LeaveCart { id, cart, reply })
            .await
    }

    async fn viewers_of(&self, cart: CartId) -> Result<Vec<Connection>, StoreError> {
        let now = chrono::Utc::now();
        self.read(|txn| {
            let table = txn.open_table(CONNECTIONS)?;
            let mut found = Vec::new();
            for entry in table.iter()? {
                if let Some(connection) = decode(entry?.1.value())
                    && connection.viewing == Some(cart)
                    && !connection.is_expired(now)
                {
                    found.push(connection);
                }
            }
            Ok(found)
        })
    }
}
