//! The message routes (`subscribe`, `unsubscribe`, `ping`, `$default`): every client message
//! gets one answer on the socket (the routes are two-way), and a message that makes no sense
//! gets an `error` message, never a crash. Each connection may send
//! [`domain::limits::PER_CONNECTION`] messages; past it the answer is a `RATE_LIMITED` error.
//! The buckets live in the warm instance, so on AWS, where a connection's messages may reach
//! several instances, the bound is per instance (the stage throttle bounds the total).

use domain::limits::Buckets;
use domain::{CartError, CartService, ConnectionId, ConnectionRegistry};
use edge::websocket::{Answer, Event, answer, connection_id};
use realtime::{ClientMessage, ServerMessage};

/// Answers one client message.
pub async fn handle(
    carts: &CartService,
    registry: &dyn ConnectionRegistry,
    rate: &Buckets<ConnectionId>,
    event: Event,
) -> Answer {
    answer(200, Some(reply(carts, registry, rate, &event).await))
}

async fn reply(
    carts: &CartService,
    registry: &dyn ConnectionRegistry,
    rate: &Buckets<ConnectionId>,
    event: &Event,
) -> String {
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
    let user = match registry.connection(&id).await {
        Ok(Some(connection)) => connection.user_id,
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
    let message = match ClientMessage::parse(event.body.as_deref().unwrap_or_default()) {
        Ok(message) => message,
        Err(e) => return error(e.code(), e.detail()),
    };
    match message {
        ClientMessage::Ping => ServerMessage::Pong.to_json(),
        ClientMessage::Unsubscribe(cart_id) => ServerMessage::Unsubscribed { cart_id }.to_json(),
        ClientMessage::Subscribe(cart_id) => match carts.get(&user, cart_id).await {
            Ok(cart) => {
                let snapshot = serde_json::value::to_raw_value(&cart.view()).unwrap_or_default();
                ServerMessage::Snapshot {
                    cart_id,
                    version: cart.version,
                    cart: &snapshot,
                }
                .to_json()
            }
            Err(CartError::Unavailable(e)) => {
                tracing::error!(cart_id = %cart_id, error = %e, "cart store unavailable");
                error("UNAVAILABLE", "try again shortly".into())
            }
            Err(e) => error(e.code(), e.to_string()),
        },
    }
}
