//! WebSocket connections as the push side sees them: who is connected where, and until when.
//!
//! API Gateway names each connection; the registry (DynamoDB on AWS, the embedded store locally)
//! maps it to the user its token named, and a user to all their open connections (one per tab
//! or device).
//!
//! Presence (who has a cart open now) lives on the same records: a connection that subscribed to
//! a cart views it, and each message it sends refreshes when it was last seen. A viewer whose
//! connection died without `$disconnect` stops being seen and drops out after
//! [`PRESENCE_TTL_SECS`], with no timer anywhere: presence is computed when it is read.

use crate::ids::{CartId, UserId};
use crate::ports::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest a WebSocket stays open: API Gateway closes every connection after two hours
/// ("Quotas for configuring and running a WebSocket API in API Gateway", connection duration;
/// not adjustable).
pub const MAX_CONNECTION_SECS: i64 = 2 * 3600;

/// How long a WebSocket stays open without a message from its client: API Gateway closes it
/// after ten minutes idle (the same quotas page, idle connection timeout; not adjustable).
/// Pages send a `ping` well within it.
pub const IDLE_TIMEOUT_SECS: i64 = 10 * 60;

/// How long after `$connect` registered a connection a post to it may still be answered 410:
/// API Gateway opens the connection only once `$connect` has answered, and the handshake
/// finishes after that, so a push racing a new connection finds it gone for a moment. A
/// sender forgets a connection that answered 410 only once it is older than this.
pub const OPENING_GRACE_SECS: i64 = 10;

/// How long a viewer counts as present after its connection was last seen. Pages refresh
/// their subscription every [`PRESENCE_REFRESH_SECS`], so a live page is never this stale; a
/// connection that died without `$disconnect` is, within three refreshes.
pub const PRESENCE_TTL_SECS: i64 = 90;

/// How often an open page re-subscribes to the cart it shows (which refreshes its presence and
/// reads who else is there).
pub const PRESENCE_REFRESH_SECS: i64 = 30;

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
    /// When the registry may forget it: when API Gateway will have closed it, if its client
    /// sends nothing more (see [`Connection::open_until`]). The `$disconnect` API Gateway sends
    /// is best-effort, so this is what retires a connection that died without one.
    pub expires_at: DateTime<Utc>,
    /// The cart it last subscribed to and has not unsubscribed from. (The embedded store keeps
    /// connections in postcard, which has no field defaults: it drops every connection when it
    /// opens, so no record of an older layout is ever read.)
    pub viewing: Option<CartId>,
    /// When it last subscribed, unsubscribed or pinged (when it opened, until then).
    pub seen_at: DateTime<Utc>,
}

impl Connection {
    /// A connection opened by `user` at `now`, open until the idle timeout unless its client
    /// sends something.
    pub fn opened(connection_id: ConnectionId, user_id: UserId, now: DateTime<Utc>) -> Self {
        Self {
            connection_id,
            user_id,
            connected_at: now,
            expires_at: now + chrono::Duration::seconds(IDLE_TIMEOUT_SECS),
            viewing: None,
            seen_at: now,
        }
    }

    /// When API Gateway closes it if its client's last message was at `now`: after the idle
    /// timeout, and never later than the maximum duration after it opened.
    pub fn open_until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let idle = now + chrono::Duration::seconds(IDLE_TIMEOUT_SECS);
        let longest = self.connected_at + chrono::Duration::seconds(MAX_CONNECTION_SECS);
        idle.min(longest)
    }

    /// True while it views `cart` and is live.
    pub fn is_viewing(&self, cart: CartId, now: DateTime<Utc>) -> bool {
        self.viewing == Some(cart) && self.is_live(now)
    }

    /// True while it is not expired and was seen within [`PRESENCE_TTL_SECS`] of `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        !self.is_expired(now) && now - self.seen_at < chrono::Duration::seconds(PRESENCE_TTL_SECS)
    }

    /// True while a 410 may only mean its handshake is still finishing
    /// ([`OPENING_GRACE_SECS`]): it is not to be forgotten for that.
    pub fn may_still_be_opening(&self, now: DateTime<Utc>) -> bool {
        now - self.connected_at < chrono::Duration::seconds(OPENING_GRACE_SECS)
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

    /// Moves a known connection's expiry to `expires_at` (its client sent a message); a
    /// connection the registry does not know stays unknown. True when it was known.
    async fn keep_open(
        &self,
        id: &ConnectionId,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Forgets a connection; returns it if it was known.
    async fn remove(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError>;

    /// The connection, if known and not expired.
    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError>;

    /// Every unexpired connection of `user`.
    async fn connections_of(&self, user: &UserId) -> Result<Vec<Connection>, StoreError>;

    /// Records that the connection views `cart` (or no cart) and was seen at `now`; a connection
    /// the registry does not know stays unknown (a message racing its `$disconnect` must not
    /// bring it back). Returns the connection as it was before, if it was known.
    async fn view(
        &self,
        id: &ConnectionId,
        cart: Option<CartId>,
        now: DateTime<Utc>,
    ) -> Result<Option<Connection>, StoreError>;

    /// Stops the connection viewing `cart`, if it still does (a removal or a refused subscribe
    /// must not undo a move to another cart made meanwhile); true when it did.
    async fn leave(&self, id: &ConnectionId, cart: CartId) -> Result<bool, StoreError>;

    /// Every unexpired connection that views `cart`, however long ago it was seen (the caller
    /// judges with [`Connection::is_viewing`]).
    async fn viewers_of(&self, cart: CartId) -> Result<Vec<Connection>, StoreError>;
}

/// The users who have `cart` open at `now`, each once, in order: what a presence message lists.
pub fn present_users(viewers: &[Connection], cart: CartId, now: DateTime<Utc>) -> Vec<UserId> {
    let present: std::collections::BTreeSet<&UserId> = viewers
        .iter()
        .filter(|c| c.is_viewing(cart, now))
        .map(|c| &c.user_id)
        .collect();
    present.into_iter().cloned().collect()
}

/// Where the WebSocket functions say that a cart's presence may have changed (someone opened
/// it, left it or disconnected): the SQS queue `presence-push` reads on AWS, a channel locally.
/// The reader collects notices for a moment and sends each cart's presence once, so a
/// reconnect (a disconnect and a subscribe a moment apart) is one message, or none.
#[async_trait]
pub trait PresenceNotices: Send + Sync {
    /// Notes that `cart`'s presence may have changed. Presence is advisory: a caller logs a
    /// failure and goes on (pages correct it at their next refresh).
    async fn changed(&self, cart: CartId) -> Result<(), crate::ports::BoxError>;
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
