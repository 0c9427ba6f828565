//! WebSocket connections as the push side sees them: who is connected where, and until when.
//!
//! API Gateway names each connection; the registry (DynamoDB on AWS, the embedded store locally)
//! maps it to the user its token named, and a user to all their open connections (one per tab
//! or device).

use crate::ids::UserId;
use crate::ports::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How long a connection is remembered without being refreshed. API Gateway closes a WebSocket
/// after two hours in any case; the TTL lets the registry forget connections whose
/// `$disconnect` never arrived.
pub const CONNECTION_TTL_SECS: i64 = 2 * 3600;

/// An API Gateway WebSocket connection id (base64-ish text such as `L0SM9cOFvHcCIhw=`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectionId(String);

impl ConnectionId {
    /// Parses a connection id: 1 to 128 characters of letters, digits, `=`, `+`, `/`, `-`, `_`.
    pub fn parse(raw: &str) -> Result<Self, crate::ValidationError> {
        let allowed =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '=' | '+' | '/' | '-' | '_');
        if raw.is_empty() || raw.len() > 128 || !raw.chars().all(allowed) {
            return Err(crate::ValidationError::new(
                "connectionId",
                "is not an API Gateway connection id",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One open WebSocket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// API Gateway's id for it.
    pub connection_id: ConnectionId,
    /// The user whose token opened it.
    pub user_id: UserId,
    /// When it opened.
    pub connected_at: DateTime<Utc>,
    /// When the registry may forget it.
    pub expires_at: DateTime<Utc>,
}

impl Connection {
    /// A connection opened by `user` at `now`, expiring after `CONNECTION_TTL_SECS`.
    pub fn opened(connection_id: ConnectionId, user_id: UserId, now: DateTime<Utc>) -> Self {
        Self {
            connection_id,
            user_id,
            connected_at: now,
            expires_at: now + chrono::Duration::seconds(CONNECTION_TTL_SECS),
        }
    }

    /// True once the registry may forget it.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }
}

/// Where connections are registered: by connection id, and by user.
#[async_trait]
pub trait ConnectionRegistry: Send + Sync {
    /// Remembers `connection` (replacing one with the same id).
    async fn register(&self, connection: &Connection) -> Result<(), StoreError>;

    /// Forgets a connection; returns it if it was known.
    async fn remove(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError>;

    /// The connection, if known and not expired.
    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError>;

    /// Every unexpired connection of `user`.
    async fn connections_of(&self, user: &UserId) -> Result<Vec<Connection>, StoreError>;
}

/// Why a message did not reach a connection.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// The connection is closed (API Gateway's 410 `GoneException`): forget it.
    #[error("the connection is gone")]
    Gone,
    /// Anything else; the connection may still be there.
    #[error("the message could not be posted")]
    Failed(#[source] crate::ports::BoxError),
}

/// Sends a message down an open WebSocket (API Gateway's `PostToConnection`).
#[async_trait]
pub trait ConnectionPoster: Send + Sync {
    /// Posts `message` to the connection.
    async fn post(&self, connection: &ConnectionId, message: &[u8]) -> Result<(), PostError>;
}
