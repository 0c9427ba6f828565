//! The HTTP edge shared by every REST function: the route table, the caller's identity as the
//! authorizer passed it, request bodies and parameters with their limits, and the one place where
//! errors become `application/problem+json` responses. Handlers always return a response: an
//! expected failure is a 4xx, never an `Err` that API Gateway would turn into a 502. It also
//! reads what the other triggers hand a function: WebSocket events and MSK records.

pub mod idempotency;
pub mod identity;
pub mod problem;
pub mod records;
pub mod request;
pub mod respond;
pub mod routes;
#[cfg(feature = "testing")]
pub mod testing;
pub mod websocket;

pub use identity::Caller;
pub use lambda_http::{Body, Request};
pub use problem::Problem;

/// What every handler returns.
pub type Response = http::Response<Body>;

/// Runs `handler` as a Lambda function behind API Gateway REST: the body of every `main.rs`.
///
/// The handler cannot fail: every outcome, errors included, is already a response.
pub async fn run<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = Response> + Send,
{
    lambda_http::run(lambda_http::service_fn(move |request| {
        let response = handler(request);
        async move { Ok::<_, std::convert::Infallible>(response.await) }
    }))
    .await
}

/// Runs a mutating operation's `handler` as a Lambda, at most once per `Idempotency-Key`
/// (see [`idempotency`]), with the answers kept in `keys`.
pub async fn run_once<F, Fut>(
    keys: &dyn domain::idempotency::IdempotencyStore,
    handler: F,
) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut + Sync,
    Fut: std::future::Future<Output = Response> + Send,
{
    run(|request| idempotency::once(keys, request, &handler)).await
}
