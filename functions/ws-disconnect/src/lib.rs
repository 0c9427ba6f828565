//! `$disconnect`: the WebSocket closed (either side, or API Gateway's idle and two-hour
//! limits); forget the connection. Best effort by API Gateway's own account, so the registry's
//! TTL covers a `$disconnect` that never arrives.

use domain::ConnectionRegistry;
use edge::websocket::{Answer, Event, answer, connection_id};

/// Answers one `$disconnect`.
pub async fn handle(registry: &dyn ConnectionRegistry, event: Event) -> Answer {
    let Some(id) = connection_id(&event) else {
        return answer(400, None);
    };
    match registry.remove(&id).await {
        Ok(_) => answer(200, None),
        Err(e) => {
            tracing::error!(connection_id = %id, error = %e, "cannot forget the connection; its TTL will");
            answer(503, None)
        }
    }
}
