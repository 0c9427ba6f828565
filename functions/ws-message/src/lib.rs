//! The message routes (`subscribe`, `unsubscribe`, `ping`, `$default`): every client message
//! gets one answer on the socket (the routes are two-way), and a message that makes no sense
//! gets an `error` message, never a crash. Each connection may send
//! [`domain::limits::PER_CONNECTION`] messages; past it the answer is a `RATE_LIMITED` error.
//! The buckets live in the warm instance, so on AWS, where a connection's messages may reach
//! several instances, the bound is per instance (the stage throttle bounds the total).
//!
//! Every message from a registered connection keeps it registered: its expiry moves to when
//! API Gateway would close it for idleness (at most once a minute, `KEEP_OPEN_STEP_SECS`).
//!
//! Presence: `subscribe` marks the connection as viewing the cart and refreshes when it was
//! last seen (and answers who else is there); `unsubscribe`, or a subscribe refused because the
//! user is no longer a member, ends it. When that makes someone arrive or leave,
//! a presence notice goes out (see [`domain::PresenceNotices`]); a failed notice is logged and
//! the answer stands, since pages correct presence at their next refresh.

use chrono::Utc;
use domain::limits::Buckets;
use domain::{
    CartError, CartId, CartService, Connection, ConnectionId, ConnectionRegistry, PresenceNotices,
    UserId,
};
use edge::websocket::{Answer, Event, answer, connection_id};
use realtime::{ClientMessage, ServerMessage};

/// What the message routes need, opened once per instance.
pub struct Routes<'a> {
    /// The cart service (for snapshots, and who may see them).
    pub carts: &'a CartService,
    /// The connection registry.
    pub registry: &'a dyn ConnectionRegistry,
    /// Where presence changes are announced.
    pub notices: &'a dyn PresenceNotices,
    /// Each connection's message rate.
    pub rate: &'a Buckets<ConnectionId>,
}

/// Answers one client message.
pub async fn handle(routes: &Routes<'_>, event: Event) -> Answer {
    answer(200, Some(reply(routes, &event).await))
}

async fn reply(routes: &Routes<'_>, event: &Event) -> String {
    let Routes {
        carts,
        registry,
        rate,
        ..
    } = routes;
    let error = |code: &str, detail: String| ServerMessage::Error { code, detail }.to_json();
    let Some(id) = connection_id(event) else {
        return error("VALIDATION_FAILED", "no connection id".into());
    };
    if rate.take(&id, std::time::Instant::now()).is_err() {
        domain::metrics::count(domain::metrics::Metric::RateLimited, 1);
        let limit = rate.rate();
        return error(
            "RATE_LIMITED",
            format!(
                "at most {} messages per second per connection (bursts of {}); slow down",
                limit.per_second, limit.burst
            ),
        );
    }
    let connection = match registry.connection(&id).await {
        Ok(Some(connection)) => connection,
        Ok(None) => {
            return error(
                "UNAUTHENTICATED",
                "this connection is not registered; reconnect with a token".into(),
            );
        }
        Err(e) => {
            tracing::error!(connection_id = %id, error = %e, "registry unavailable");
            return error("UNAVAILABLE", "try again shortly".into());
        }
    };
    keep_open(*registry, &connection).await;
    let message = match ClientMessage::parse(event.body.as_deref().unwrap_or_default()) {
        Ok(message) => message,
        Err(e) => return error(e.code(), e.detail()),
    };
    match message {
        // A ping keeps the socket open, not presence: only a subscribe, which checks
        // membership, says the user still has the cart open.
        ClientMessage::Ping => ServerMessage::Pong.to_json(),
        ClientMessage::Unsubscribe(cart_id) => {
            leave(routes, &connection, cart_id).await;
            ServerMessage::Unsubscribed { cart_id }.to_json()
        }
        ClientMessage::Subscribe(cart_id) => match carts.get(&connection.user_id, cart_id).await {
            Ok(cart) => {
                let viewers = view(routes, &connection, cart_id).await;
                let snapshot = serde_json::value::to_raw_value(&cart.view()).unwrap_or_default();
                ServerMessage::Snapshot {
                    cart_id,
                    version: cart.version,
                    cart: &snapshot,
                    viewers: &viewers,
                }
                .to_json()
            }
            Err(CartError::Unavailable(e)) => {
                tracing::error!(cart_id = %cart_id, error = %e, "cart store unavailable");
                error("UNAVAILABLE", "try again shortly".into())
            }
            Err(e) => {
                // No longer a member: whatever presence the connection had there ends.
                leave(routes, &connection, cart_id).await;
                error(e.code(), e.to_string())
            }
        },
    }
}

/// Moves the connection's expiry to when API Gateway would close it now that its client has
/// spoken (`Connection::open_until`), at most once a minute: a page's messages every 30 seconds
/// cost a write a minute, not two. A failure is logged: the connection then expires a little
/// sooner, and its next message tries again.
async fn keep_open(registry: &dyn ConnectionRegistry, connection: &Connection) {
    let until = connection.open_until(Utc::now());
    if until - connection.expires_at < chrono::Duration::seconds(KEEP_OPEN_STEP_SECS) {
        return;
    }
    let id = &connection.connection_id;
    if let Err(e) = registry.keep_open(id, until).await {
        tracing::warn!(connection_id = %id, error = %e, "cannot keep the connection open");
    }
}

/// The least a message moves a connection's expiry by; a client must speak within
/// `IDLE_TIMEOUT_SECS` less this to stay registered (the page pings every five minutes).
pub const KEEP_OPEN_STEP_SECS: i64 = 60;

/// Records that `connection` views `cart` as of now, announces the presence change of every
/// cart someone arrived at or left (judged by the record as it was just before, not as this
/// message first read it), and answers who views `cart` now (the connection's user alone when
/// the registry cannot say: presence is advisory).
async fn view(routes: &Routes<'_>, connection: &Connection, cart: CartId) -> Vec<UserId> {
    let now = Utc::now();
    let id = &connection.connection_id;
    match routes.registry.view(id, Some(cart), now).await {
        Ok(Some(before)) => {
            let left = before
                .viewing
                .filter(|viewed| *viewed != cart && before.is_viewing(*viewed, now));
            let arrived = (!before.is_viewing(cart, now)).then_some(cart);
            for changed in left.into_iter().chain(arrived) {
                announce(routes, changed).await;
            }
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(connection_id = %id, error = %e, "cannot record what the connection views");
        }
    }
    match routes.registry.viewers_of(cart).await {
        Ok(viewers) => {
            let mut present = domain::present_users(&viewers, cart, now);
            if !present.contains(&connection.user_id) {
                // An index read a moment behind the write above.
                present.push(connection.user_id.clone());
                present.sort();
            }
            present
        }
        Err(e) => {
            tracing::error!(cart_id = %cart, error = %e, "cannot read who views the cart");
            vec![connection.user_id.clone()]
        }
    }
}

/// Ends `connection`'s presence in `cart`, if it is there, and announces it.
async fn leave(routes: &Routes<'_>, connection: &Connection, cart: CartId) {
    let id = &connection.connection_id;
    match routes.registry.leave(id, cart).await {
        Ok(true) => announce(routes, cart).await,
        Ok(false) => {}
        Err(e) => {
            tracing::error!(connection_id = %id, error = %e, "cannot end the connection's presence; its TTL will");
        }
    }
}

async fn announce(routes: &Routes<'_>, cart: CartId) {
    if let Err(e) = routes.notices.changed(cart).await {
        tracing::warn!(cart_id = %cart, error = %e, "presence notice not sent");
    }
}
