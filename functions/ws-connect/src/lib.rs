//! `$connect`: a WebSocket opens with `?token=<JWT>`. A valid token registers the connection
//! under its user (with a TTL); anything else answers 401, which refuses the handshake. On AWS
//! the authorizer has already checked the token; checking it again here costs a cached key and
//! keeps the function safe behind a route someone forgot to authorize.
//!
//! A user already holding [`Connect::per_user`] open connections is refused with 429: the
//! newest is the one refused, so a page that is open keeps working, and a client opening
//! sockets in a loop gains nothing. Connections that died without a `$disconnect` do not count
//! once API Gateway would have closed them (see [`domain::Connection::open_until`]). The count
//! is read before the connection is registered, and on DynamoDB through an index that is
//! eventually consistent, so connects racing each other may pass the cap by the few in flight.

use domain::{Connection, ConnectionRegistry, UserId};
use edge::Problem;
use edge::websocket::{Answer, Event, answer, connection_id};
use http::StatusCode;
use token::Verifier;

/// What `$connect` needs, opened once per instance.
pub struct Connect<'a> {
    /// Checks the token.
    pub verifier: &'a Verifier,
    /// Where connections are registered and counted.
    pub registry: &'a dyn ConnectionRegistry,
    /// How many open connections a user may hold (`domain::limits::CONNECTIONS_PER_USER`).
    pub per_user: usize,
}

/// Answers one `$connect`.
pub async fn handle(connect: &Connect<'_>, event: Event) -> Answer {
    let Some(id) = connection_id(&event) else {
        return refuse(400, connect.per_user);
    };
    let now = chrono::Utc::now();
    let token = event
        .query_string_parameters
        .first("token")
        .unwrap_or_default();
    let user = match connect
        .verifier
        .verify(token, now.timestamp())
        .await
        .map(|claims| UserId::parse(&claims.sub))
    {
        Ok(Ok(user)) => user,
        refused => {
            tracing::info!(connection_id = %id, ?refused, "WebSocket refused");
            return refuse(401, connect.per_user);
        }
    };
    let registered = async {
        let open = connect.registry.connections_of(&user).await?.len();
        if open >= connect.per_user {
            return Ok(Some(open));
        }
        connect
            .registry
            .register(&Connection::opened(id.clone(), user.clone(), now))
            .await
            .map(|()| None)
    };
    match registered.await {
        Ok(None) => answer(200, None),
        Ok(Some(open)) => {
            tracing::info!(connection_id = %id, user = %user, open, "WebSocket refused: the user's connections are at the cap");
            refuse(429, connect.per_user)
        }
        Err(e) => {
            tracing::error!(connection_id = %id, error = %e, "cannot register the connection");
            refuse(503, connect.per_user)
        }
    }
}

/// Why a `$connect` was refused, as the problem its status stands for: the body the local
/// stack sends back with the status (on AWS the client sees only a failed handshake).
pub fn refusal(status: u16, per_user: usize) -> Problem {
    match status {
        401 => Problem::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "connect with ?token=<a valid bearer token>",
        ),
        429 => Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_CONNECTIONS",
            format!(
                "at most {per_user} open WebSocket connections per user; close one (another tab or device) and connect again"
            ),
        )
        .with("limit", per_user),
        400 => Problem::new(
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            "no connection id",
        ),
        _ => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "the connection registry is unavailable; connect again shortly",
        ),
    }
}

fn refuse(status: u16, per_user: usize) -> Answer {
    answer(status, Some(refusal(status, per_user).body().to_string()))
}
