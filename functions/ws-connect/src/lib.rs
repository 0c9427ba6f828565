//! `$connect`: a WebSocket opens with `?token=<JWT>`. A valid token registers the connection
//! under its user (with a TTL); anything else answers 401, which refuses the handshake. On AWS
//! the authorizer has already checked the token; checking it again here costs a cached key and
//! keeps the function safe behind a route someone forgot to authorize.

use domain::{Connection, ConnectionRegistry, UserId};
use edge::websocket::{Answer, Event, answer, connection_id};
use token::Verifier;

/// Answers one `$connect`.
pub async fn handle(
    verifier: &Verifier,
    registry: &dyn ConnectionRegistry,
    event: Event,
) -> Answer {
    let Some(id) = connection_id(&event) else {
        return answer(400, None);
    };
    let now = chrono::Utc::now();
    let token = event
        .query_string_parameters
        .first("token")
        .unwrap_or_default();
    let user = match verifier
        .verify(token, now.timestamp())
        .await
        .map(|claims| UserId::parse(&claims.sub))
    {
        Ok(Ok(user)) => user,
        refused => {
            tracing::info!(connection_id = %id, ?refused, "WebSocket refused");
            return answer(401, None);
        }
    };
    match registry
        .register(&Connection::opened(id.clone(), user, now))
        .await
    {
        Ok(()) => answer(200, None),
        Err(e) => {
            tracing::error!(connection_id = %id, error = %e, "cannot register the connection");
            answer(503, None)
        }
    }
}
