//! `$disconnect`: the WebSocket closed (either side, or API Gateway's idle and two-hour
//! limits); forget the connection. Best effort by API Gateway's own account, so the registry's
//! TTL covers a `$disconnect` that never arrives ("Manage connected users and client apps:
//! $connect and $disconnect routes"), as presence's own TTL covers the viewer it would have
//! announced leaving.

use domain::{ConnectionRegistry, PresenceNotices};
use edge::websocket::{Answer, Event, answer, connection_id};

/// Answers one `$disconnect`, announcing a presence change when the connection viewed a cart.
pub async fn handle(
    registry: &dyn ConnectionRegistry,
    notices: &dyn PresenceNotices,
    event: Event,
) -> Answer {
    let Some(id) = connection_id(&event) else {
        return answer(400, None);
    };
    match registry.remove(&id).await {
        Ok(removed) => {
            let now = chrono::Utc::now();
            let viewed = removed.and_then(|c| c.viewing.filter(|cart| c.is_viewing(*cart, now)));
            if let Some(cart) = viewed
                && let Err(e) = notices.changed(cart).await
            {
                tracing::warn!(cart_id = %cart, error = %e, "presence notice not sent");
            }
            answer(200, None)
        }
        Err(e) => {
            tracing::error!(connection_id = %id, error = %e, "cannot forget the connection; its TTL will");
            answer(503, None)
        }
    }
}
